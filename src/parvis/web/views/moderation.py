"""The moderators' pages (role moderator or admin; anyone else gets a 403 page).

- `/moderation`: the queue, most urgent first (services/moderation.py orders it), each case with
  its clock (time left to the target, or overdue) and a marker past the 48-hour line; filters:
  mine, my languages, under appeal.
- `/moderation/cases/{id}`: one case: its subject, every notice, the append-only event log, the
  author's other cases, notes, assignment, escalation and the decision form (action, ground,
  explanation...). A refused decision is shown again with its errors and nothing restricted.
- `/moderation/cases/new?status=ID` (or `?account=ID`): a decision no notice asked for (own
  initiative); an existing case of that subject is opened instead.
- Both case pages show a local account's sign-up and sign-in addresses and the other accounts
  seen at them (ban evasion): the only place the web app shows addresses to anyone but
  their owner.
- `/moderation/appeals`: pending appeals, decided by a moderator other than the decider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from babel import Locale
from babel.dates import format_timedelta
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain import moderation as vocab
from parvis.domain.errors import DomainError, Forbidden, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.models import Account, Status
from parvis.services import appeals, moderation, network_addresses
from parvis.services import rules as server_rules
from parvis.services.context import Work
from parvis.storage.moderation import AppealRow, CaseRow, DecisionRow
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

# Durations offered for the actions that take one (days; "" = no end).
DURATIONS = ("", "1", "3", "7", "14", "30", "90", "180", "365")
CASE_EVENTS = (
    "notice",
    "opened",
    "assigned",
    "unassigned",
    "escalated",
    "note",
    "decided",
    "appeal_filed",
    "appeal_decided",
    "reversed",
    "expired",
)


def _category_name(category: str) -> str:
    """STATEMENT_CATEGORY_SCAMS_AND_FRAUD -> "Scams and fraud" (the schema's own words)."""
    words = category.removeprefix("STATEMENT_CATEGORY_").replace("_", " ").lower()
    return words.capitalize().replace(" tc", " (terms and conditions)")


CATEGORY_NAMES = {c: _category_name(c) for c in vocab.DSA_CATEGORIES}


def _span(locale: str) -> Callable[[timedelta], str]:
    """A duration in words ("3 hours"), for the clocks."""

    def span(delta: timedelta) -> str:
        return format_timedelta(abs(delta), threshold=1.5, locale=Locale.parse(locale))

    return span


# -- access ----------------------------------------------------------------------------------


def _is_moderator(who: Visitor) -> bool:
    return who.user is not None and who.user.role in moderation.MODERATOR_ROLES


async def _moderator(request: Request) -> tuple[Visitor, Response | None]:
    """The visitor, or the answer for one who may not moderate (sign in, or 403)."""
    who = await visitor(request)
    if not who.signed_in:
        return who, redirect(f"/login?next={request.url.path}")
    if not _is_moderator(who):
        return who, _refused(request, who)
    return who, None


def _refused(request: Request, who: Visitor) -> Response:
    return render(request, who, "moderation_refused.html", code=403)


def _page(
    request: Request, who: Visitor, template: str, *, code: int = 200, **ctx: Any
) -> Response:
    return render(
        request,
        who,
        template,
        code=code,
        span=_span(who.locale),
        category_names=CATEGORY_NAMES,
        **ctx,
    )


# -- the queue -------------------------------------------------------------------------------


async def queue_page(request: Request) -> Response:
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    params = request.query_params
    filters = {
        "mine": params.get("mine") == "1",
        "languages": params.get("languages") == "1",
        "appeals": params.get("appeals") == "1",
    }
    me = who.account_id

    def load(work: Work) -> list[moderation.CaseView]:
        return moderation.queue(
            work,
            me,
            mine=filters["mine"],
            my_languages=filters["languages"],
            appeals=filters["appeals"],
            limit=100,
        )

    cases = await read(request, load)
    return _page(request, who, "moderation.html", cases=cases, filters=filters)


# -- one case --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CasePage:
    """A case (None before an own-initiative decision opens one) and what its form needs."""

    detail: moderation.CaseDetail | None
    status: Status | None
    account: Account
    people: dict[int, Account]
    rules: tuple[server_rules.Rule, ...]
    suggested_law: str
    suggested_rule: str
    # The account's sign-up and sign-in addresses and the other accounts seen at them (local
    # accounts only; empty when the server keeps none).
    addresses: network_addresses.Seen | None = None


def _addresses(work: Work, me: int | None, account: Account) -> network_addresses.Seen | None:
    return network_addresses.for_moderators(work, me, account.id) if account.local else None


def _case_page(work: Work, me: int | None, case_id: int) -> CasePage:
    detail = moderation.detail(work, me, case_id)
    view = detail.view
    if view.account is None:
        raise NotFound("The reported account no longer exists")
    ids = {e.actor_id for e in detail.events if e.actor_id is not None}
    ids |= {int(e.data["assignee_id"]) for e in detail.events if e.data.get("assignee_id")}
    ids |= {d.moderator_id for d in detail.decisions if d.moderator_id is not None}
    if view.case.assignee_id is not None:
        ids.add(view.case.assignee_id)
    notices = view.notices
    law = next(
        (vocab.offence(n.category).legal_ground for n in notices if n.legal_ground == ""), ""
    )
    law = next((n.legal_ground for n in notices if n.legal_ground), law)
    cited = next((n.rule_ids.split(",")[0] for n in notices if n.rule_ids), "")
    return CasePage(
        detail=detail,
        status=view.status,
        account=view.account,
        people=work.store.accounts.get_many(ids),
        rules=tuple(server_rules.current(work)),
        suggested_law=law,
        suggested_rule=cited,
        addresses=_addresses(work, me, view.account),
    )


def _subject(request: Request) -> tuple[str, int | None]:
    params = request.query_params
    if "status" in params:
        return "status", parse_id(params.get("status", ""))
    return "account", parse_id(params.get("account", ""))


def _new_case_page(
    work: Work, me: int | None, subject_type: str, subject_id: int | None
) -> CasePage | int:
    """The page of a subject without a case, or the id of its existing case."""
    moderation.require_moderator(work, me)
    status = (
        work.store.statuses.get(subject_id) if subject_type == "status" and subject_id else None
    )
    if status is not None:
        status = status.reblog or status
        subject_id = status.id
    account_id = status.account.id if status is not None else subject_id
    account = work.store.accounts.get(account_id) if account_id is not None else None
    if account is None or subject_id is None or (subject_type == "status" and status is None):
        raise NotFound("Record not found")
    found = work.store.cases.for_subject(subject_type, subject_id)
    if found is not None:
        return found.id
    return CasePage(
        detail=None,
        status=status,
        account=account,
        people={},
        rules=tuple(server_rules.current(work)),
        suggested_law="",
        suggested_rule="",
        addresses=_addresses(work, me, account),
    )


def _defaults(page: CasePage) -> dict[str, Any]:
    return {
        "action": "",
        "ground": "law" if page.suggested_law else ("rule" if page.suggested_rule else ""),
        "legal_ground": page.suggested_law,
        "rule_id": page.suggested_rule,
        "explanation": "",
        "label": "",
        "duration": "",
        "territorial_scope": [],
        "misuse": "",
        "dsa_category": "",
    }


def _render_case(
    request: Request,
    who: Visitor,
    page: CasePage,
    *,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    message: str | None = None,
    code: int = 200,
) -> Response:
    subject_type = (
        page.detail.view.case.subject_type
        if page.detail
        else ("status" if page.status is not None else "account")
    )
    # Account labels are confirmed from the label signals (/moderation/signals), not here.
    actions = [
        a
        for a in vocab.ACTIONS.values()
        if (subject_type == "status" or not a.on_content) and a.key != "label_account"
    ]
    found = errors or []
    return _page(
        request,
        who,
        "moderation_case.html",
        code=code,
        page=page,
        subject_type=subject_type,
        actions=actions,
        states=vocab.EEA_STATES,
        misuses=vocab.MISUSE,
        durations=DURATIONS,
        values=values or _defaults(page),
        errors=found,
        field_errors={e.split(":", 1)[0]: e for e in found if ":" in e},
        message=message,
    )


async def case_page(request: Request) -> Response:
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    case_id, me = parse_id(request.path_params["id"]), who.account_id
    if case_id is None:
        return render(request, who, "not_found.html", code=404)
    try:
        page = await read(request, lambda work: _case_page(work, me, case_id))
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    done = request.query_params.get("done", "")
    return _render_case(request, who, page, message=done or None)


async def new_case_page(request: Request) -> Response:
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    me = who.account_id
    subject_type, subject_id = _subject(request)
    try:
        found = await read(request, lambda work: _new_case_page(work, me, subject_type, subject_id))
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    if isinstance(found, int):
        return redirect(f"/moderation/cases/{found}")
    return _render_case(request, who, found)


def _verdict(data: FormData) -> tuple[moderation.Verdict, dict[str, Any], list[str]]:
    """The decision form as a Verdict, the values to show again, and what could not be read."""
    scope = [c.upper()[:2] for c in data.getlist("territorial_scope")[:40] if isinstance(c, str)]
    values: dict[str, Any] = {
        "action": text(data, "action", limit=40),
        "ground": text(data, "ground", limit=10),
        "legal_ground": text(data, "legal_ground", limit=moderation.MAX_TEXT),
        "rule_id": text(data, "rule_id", limit=16),
        "explanation": text(data, "explanation", limit=moderation.MAX_TEXT + 1),
        "label": text(data, "label", limit=moderation.MAX_LABEL + 1),
        "duration": text(data, "duration", limit=8),
        "territorial_scope": scope,
        "misuse": text(data, "misuse", limit=40),
        "dsa_category": text(data, "dsa_category", limit=80),
    }
    problems = []
    days = values["duration"]
    if days and days not in DURATIONS:
        problems.append("duration: choose a duration from the list")
    action = vocab.ACTIONS.get(values["action"])
    duration = timedelta(days=int(days)) if days in DURATIONS and days else None
    if action is not None and action.duration == "none":
        duration = None  # the form offers no duration for this action: ignore a stale choice
    verdict = moderation.Verdict(
        action=values["action"],
        explanation=values["explanation"],
        ground=values["ground"],
        rule_id=values["rule_id"] if values["ground"] == "rule" else "",
        legal_ground=values["legal_ground"] if values["ground"] == "law" else "",
        dsa_category=values["dsa_category"],
        territorial_scope=tuple(scope) if values["action"] == "territorial_restrict" else (),
        duration=duration,
        label=values["label"] if values["action"] == "label" else "",
        misuse=values["misuse"] if values["action"] in ("warn", "suspend", "terminate") else "",
    )
    return verdict, values, problems


def _errors(exc: DomainError) -> list[str]:
    return [e.strip() for e in error_message(exc).split("; ") if e.strip()]


async def decide(request: Request) -> Response:
    data = await form(request)
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    case_id, me = parse_id(request.path_params["id"]), who.account_id
    verdict, values, problems = _verdict(data)

    def run(work: Work) -> DecisionRow:
        if problems:
            raise _FormProblems()
        if case_id is None:
            raise NotFound("No such case")
        return moderation.decide(work, me, case_id, verdict)

    return await _decided(
        request, who, run, values, problems, lambda w: _case_page(w, me, case_id or 0)
    )


async def decide_new(request: Request) -> Response:
    """An own-initiative decision: opens the subject's case and decides on it."""
    data = await form(request)
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    me = who.account_id
    subject_type, subject_id = _subject(request)
    verdict, values, problems = _verdict(data)

    def run(work: Work) -> DecisionRow:
        if problems:
            raise _FormProblems()
        if subject_id is None:
            raise NotFound("Record not found")
        return moderation.own_initiative(work, me, subject_type, subject_id, verdict)

    def again(work: Work) -> CasePage:
        found = _new_case_page(work, me, subject_type, subject_id)
        return found if isinstance(found, CasePage) else _case_page(work, me, found)

    return await _decided(request, who, run, values, problems, again)


class _FormProblems(Exception):
    """The form itself could not be read (before the service saw it)."""


async def _decided(
    request: Request,
    who: Visitor,
    run: Callable[[Work], DecisionRow],
    values: dict[str, Any],
    problems: list[str],
    again: Callable[[Work], CasePage],
) -> Response:
    errors: list[str]
    try:
        decision = await write(request, run)
    except _FormProblems:
        errors, code = problems, 422
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    except Forbidden as exc:
        return render(request, who, "error.html", code=403, error=error_message(exc))
    except DomainError as exc:
        errors, code = _errors(exc), exc.status
    else:
        return redirect(f"/moderation/cases/{decision.case_id}?done=decided")
    try:
        page = await read(request, again)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return _render_case(request, who, page, values=values, errors=errors, code=code)


CaseChange = Callable[[Work, int | None, int], CaseRow]


async def _case_action(
    request: Request, build: Callable[[FormData], CaseChange], done: str
) -> Response:
    """Assign, release, escalate, note: a write, then back to the case (errors shown there)."""
    data = await form(request)
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    case_id, me = parse_id(request.path_params["id"]), who.account_id
    if case_id is None:
        return render(request, who, "not_found.html", code=404)
    change = build(data)
    try:
        await write(request, lambda work: change(work, me, case_id))
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    except Forbidden as exc:
        return render(request, who, "error.html", code=403, error=error_message(exc))
    except DomainError as exc:
        page = await read(request, lambda work: _case_page(work, me, case_id))
        return _render_case(request, who, page, errors=_errors(exc), code=exc.status)
    return redirect(f"/moderation/cases/{case_id}?done={done}")


async def assign(request: Request) -> Response:
    """Assign the case to oneself, or release it (`release=1`)."""

    def build(data: FormData) -> CaseChange:
        release = data.get("release") == "1"
        return lambda work, me, case_id: moderation.assign(
            work, me, case_id, None if release else me
        )

    return await _case_action(request, build, "assigned")


async def escalate(request: Request) -> Response:
    def build(data: FormData) -> CaseChange:
        reason = text(data, "reason", limit=moderation.MAX_TEXT + 1)
        return lambda work, me, case_id: moderation.escalate(work, me, case_id, reason)

    return await _case_action(request, build, "escalated")


async def note(request: Request) -> Response:
    def build(data: FormData) -> CaseChange:
        words = text(data, "text", limit=moderation.MAX_TEXT + 1)
        return lambda work, me, case_id: moderation.note(work, me, case_id, words)

    return await _case_action(request, build, "noted")


# -- appeals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppealView:
    appeal: AppealRow
    decision: DecisionRow
    status: Status | None
    account: Account | None
    decider: Account | None
    rule_text: str


def _appeals(work: Work, me: int | None) -> list[AppealView]:
    found = []
    for appeal in appeals.pending(work, me, limit=100):
        decision = work.store.decisions.get(appeal.decision_id)
        if decision is None:
            continue
        status = work.store.statuses.get(decision.status_id) if decision.status_id else None
        account = work.store.accounts.get(decision.account_id) if decision.account_id else None
        decider = work.store.accounts.get(decision.moderator_id) if decision.moderator_id else None
        rule = ""
        if decision.ground == "rule":
            try:
                rule = server_rules.get(work, decision.rule_id, decision.rule_version).text
            except NotFound:
                rule = ""
        found.append(AppealView(appeal, decision, status, account, decider, rule))
    return found


async def _appeals_page(
    request: Request, who: Visitor, *, errors: dict[int, str] | None = None, code: int = 200
) -> Response:
    me = who.account_id
    found = await read(request, lambda work: _appeals(work, me))
    done = request.query_params.get("done", "")
    return _page(
        request,
        who,
        "moderation_appeals.html",
        code=code,
        appeals=found,
        errors=errors or {},
        done=done,
    )


async def appeals_page(request: Request) -> Response:
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    return await _appeals_page(request, who)


async def decide_appeal(request: Request) -> Response:
    data = await form(request)
    who, refused = await _moderator(request)
    if refused is not None:
        return refused
    appeal_id, me = parse_id(request.path_params["id"]), who.account_id
    outcome = text(data, "outcome", limit=20)
    reply = text(data, "reply", limit=appeals.MAX_TEXT + 1)
    if appeal_id is None:
        return render(request, who, "not_found.html", code=404)
    try:
        await write(request, lambda work: appeals.decide(work, me, appeal_id, outcome, reply))
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    except DomainError as exc:
        return await _appeals_page(
            request, who, errors={appeal_id: error_message(exc)}, code=exc.status
        )
    return redirect(f"/moderation/appeals?done={outcome}")


routes = [
    Route("/moderation", queue_page, methods=["GET"]),
    Route("/moderation/appeals", appeals_page, methods=["GET"]),
    Route("/moderation/appeals/{id}", decide_appeal, methods=["POST"]),
    Route("/moderation/cases/new", new_case_page, methods=["GET"]),
    Route("/moderation/cases/new", decide_new, methods=["POST"]),
    Route("/moderation/cases/{id}", case_page, methods=["GET"]),
    Route("/moderation/cases/{id}/assign", assign, methods=["POST"]),
    Route("/moderation/cases/{id}/escalate", escalate, methods=["POST"]),
    Route("/moderation/cases/{id}/note", note, methods=["POST"]),
    Route("/moderation/cases/{id}/decide", decide, methods=["POST"]),
]
