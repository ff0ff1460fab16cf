"""Labels in the web app (issue 8).

- `/settings/labels`: the user's choice per label (bot, automated, coordinated): show, warn or
  hide. A warned post is shown folded, with the label and "Show anyway" (status_card.html).
- `/moderation/signals`: the open label signals for the moderators (kind, accounts, score,
  evidence summary, age), strongest or newest first; `/moderation/signals/{id}`: the full
  evidence (automation: each component with its value and threshold; coordination: each
  member's copies with their times, and the pairwise similarities), with Confirm (a moderation
  decision labelling each account, services/label_signals.py) and Dismiss (with the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, Invalid, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.labels import vocabulary as vocab
from parvis.services import label_signals, labels, moderation
from parvis.services import rules as server_rules
from parvis.services.context import Work
from parvis.services.label_signals import SignalView
from parvis.web.pages import (
    Visitor,
    error_message,
    form,
    read,
    redirect,
    render,
    text,
    visitor,
    write,
)

# Durations offered for a label (days; "" = until reversed).
DURATIONS = ("", "30", "90", "180", "365")
PAGE = 50


# -- the user's choices ----------------------------------------------------------------------


async def _choices_page(
    request: Request, who: Visitor, *, code: int = 200, error: str | None = None, **ctx: Any
) -> Response:
    assert who.account_id is not None
    account_id = who.account_id
    if "chosen" not in ctx:
        ctx["chosen"] = await read(request, lambda work: labels.preferences(work, account_id))
    return render(
        request,
        who,
        "settings_labels.html",
        code=code,
        section="labels",
        saved=request.query_params.get("saved") == "1",
        error=error,
        label_names=vocab.LABELS,
        choices=vocab.CHOICES,
        **ctx,
    )


async def settings_page(request: Request) -> Response:
    who = await visitor(request)
    if not who.signed_in or who.account_id is None:
        return redirect("/login?next=/settings/labels")
    return await _choices_page(request, who)


async def settings_save(request: Request) -> Response:
    who = await visitor(request)
    if not who.signed_in or who.account_id is None:
        return redirect("/login?next=/settings/labels")
    data = await form(request)
    chosen = {label: text(data, label, limit=16) for label in vocab.LABELS if label in data}
    account_id = who.account_id
    try:
        await write(request, lambda work: labels.set_preferences(work, account_id, chosen))
    except DomainError as exc:
        shown = {**vocab.DEFAULTS, **chosen}
        return await _choices_page(
            request, who, code=exc.status, error=error_message(exc), chosen=shown
        )
    return redirect("/settings/labels?saved=1")


# -- the moderators' signals -------------------------------------------------------------------


async def _moderator(request: Request) -> tuple[Visitor, Response | None]:
    who = await visitor(request)
    if not who.signed_in:
        return who, redirect(f"/login?next={request.url.path}")
    if who.user is None or who.user.role not in moderation.MODERATOR_ROLES:
        return who, render(request, who, "moderation_refused.html", code=403)
    return who, None


async def signals_page(request: Request) -> Response:
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    params = request.query_params
    kind = params.get("kind", "")
    kind = kind if kind in vocab.SIGNAL_KINDS else ""
    order = "newest" if params.get("order") == "newest" else "score"
    page = parse_id(params.get("page", "")) or 1
    page = min(page, 10_000)
    me = who.account_id

    def load(work: Work) -> list[SignalView]:
        return label_signals.open_signals(
            work, me, kind=kind, order=order, limit=PAGE + 1, offset=(page - 1) * PAGE
        )

    found = await read(request, load)
    return render(
        request,
        who,
        "moderation_signals.html",
        signals=found[:PAGE],
        more=len(found) > PAGE,
        page=page,
        kind=kind,
        order=order,
        summary=label_signals.summary,
        done=params.get("done", ""),
    )


@dataclass(frozen=True)
class SignalPage:
    view: SignalView
    rules: tuple[server_rules.Rule, ...]
    suggested_rule: str
    default_explanation: str
    posts: dict[str, dict[str, Any]]  # the evidence's posts by id, for the pairs
    names: dict[str, str]  # account id -> acct


def _signal_page(work: Work, me: int | None, signal_id: int) -> SignalPage:
    view = label_signals.detail(work, me, signal_id)
    s = view.signal
    posts: dict[str, dict[str, Any]] = {}
    for member in s.evidence.get("members", []):
        for post in member.get("posts", []):
            posts[str(post["id"])] = post
    return SignalPage(
        view=view,
        rules=tuple(server_rules.current(work)),
        suggested_rule=label_signals.default_rule(work, s.kind),
        default_explanation=label_signals.default_explanation(s),
        posts=posts,
        names={str(a.id): a.acct for a in view.accounts},
    )


async def _render_signal(
    request: Request,
    who: Visitor,
    page: SignalPage,
    *,
    code: int = 200,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        who,
        "moderation_signal.html",
        code=code,
        page=page,
        signal=page.view.signal,
        evidence=page.view.signal.evidence,
        durations=DURATIONS,
        errors=errors or [],
        values=values or {"rule_id": page.suggested_rule, "explanation": "", "duration": ""},
        done=request.query_params.get("done", ""),
    )


async def signal_page(request: Request) -> Response:
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    signal_id, me = parse_id(request.path_params["id"]), who.account_id
    if signal_id is None:
        return render(request, who, "not_found.html", code=404)
    try:
        page = await read(request, lambda work: _signal_page(work, me, signal_id))
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return await _render_signal(request, who, page)


def _errors(exc: DomainError) -> list[str]:
    return [e.strip() for e in error_message(exc).split("; ") if e.strip()]


async def confirm(request: Request) -> Response:
    data = await form(request)
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    signal_id, me = parse_id(request.path_params["id"]), who.account_id
    if signal_id is None:
        return render(request, who, "not_found.html", code=404)
    values = {
        "rule_id": text(data, "rule_id", limit=16),
        "explanation": text(data, "explanation", limit=moderation.MAX_TEXT + 1),
        "duration": text(data, "duration", limit=8),
    }
    days = values["duration"]

    def run(work: Work) -> None:
        if days not in DURATIONS:
            raise Invalid("Validation failed: duration: choose a duration from the list")
        label_signals.confirm(
            work,
            me,
            signal_id,
            explanation=values["explanation"],
            rule_id=values["rule_id"],
            duration=timedelta(days=int(days)) if days else None,
        )

    return await _answer(request, who, signal_id, run, "confirmed", values)


async def dismiss(request: Request) -> Response:
    data = await form(request)
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    signal_id, me = parse_id(request.path_params["id"]), who.account_id
    if signal_id is None:
        return render(request, who, "not_found.html", code=404)
    reason = text(data, "reason", limit=moderation.MAX_TEXT + 1)

    def run(work: Work) -> None:
        label_signals.dismiss(work, me, signal_id, reason)

    return await _answer(request, who, signal_id, run, "dismissed", None)


async def _answer(
    request: Request,
    who: Visitor,
    signal_id: int,
    run: Callable[[Work], None],
    done: str,
    values: dict[str, str] | None,
) -> Response:
    me = who.account_id
    try:
        await write(request, run)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    except DomainError as exc:
        page = await read(request, lambda work: _signal_page(work, me, signal_id))
        return await _render_signal(
            request, who, page, code=exc.status, errors=_errors(exc), values=values
        )
    return redirect(f"/moderation/signals/{signal_id}?done={done}")


routes = [
    Route("/settings/labels", settings_page, methods=["GET"]),
    Route("/settings/labels", settings_save, methods=["POST"]),
    Route("/moderation/signals", signals_page, methods=["GET"]),
    Route("/moderation/signals/{id}", signal_page, methods=["GET"]),
    Route("/moderation/signals/{id}/confirm", confirm, methods=["POST"]),
    Route("/moderation/signals/{id}/dismiss", dismiss, methods=["POST"]),
]
