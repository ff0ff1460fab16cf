"""Ranked feeds in the web app (issue 7): each feed page, where every post has its "Why am I
seeing this?" (the score and its parts, in the visitor's language); the page that says how a
feed works, with the visitor's own values; and Settings → Feeds, where the weights are changed
within their published bounds and the feeds' two options are set.

The explanations are localized here rather than taken from the parts' English texts: the
templates build each sentence from the candidate's own values (feeds_macros.html)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, Invalid
from parvis.domain.feeds.algorithm import Algorithm, Parameter
from parvis.domain.feeds.registry import FEEDS
from parvis.domain.ids import parse_id
from parvis.services import feeds
from parvis.services.context import Work
from parvis.services.feeds import FeedPage
from parvis.web.i18n import translations
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

PAGE = 20


def _feed(request: Request) -> Algorithm | None:
    return FEEDS.get(request.path_params["feed"])


def _formatters(locale: str) -> dict[str, Any]:
    """Numbers as the visitor writes them, and Unix times as datetimes for `ago`."""
    return {
        "points": lambda x: format_decimal(x, "+#,##0.00;-#,##0.00", locale=locale),
        "score": lambda x: format_decimal(x, "#,##0.00", locale=locale),
        "number": lambda x: format_decimal(x, "#,##0.##", locale=locale),
        "moment": lambda ts: datetime.fromtimestamp(ts, UTC),
    }


def _not_found(request: Request, who: Visitor) -> Response:
    return render(request, who, "not_found.html", code=404)


# -- a feed ------------------------------------------------------------------------------------


async def feed_page(request: Request) -> Response:
    algorithm = _feed(request)
    who = await visitor(request)
    if who.account_id is None:
        return redirect(f"/login?next={quote(request.url.path)}")
    if algorithm is None:
        return _not_found(request, who)
    account_id, max_id = who.account_id, parse_id(request.query_params.get("max_id", ""))

    def run(work: Work) -> FeedPage:  # a write: a fresh ranking is logged
        return feeds.serve(work, account_id, algorithm.name, max_id=max_id, limit=PAGE)

    page = await write(request, run)
    return render(request, who, "feeds.html", feed=algorithm, page=page, **_formatters(who.locale))


# -- how a feed works --------------------------------------------------------------------------


async def about_page(request: Request) -> Response:
    algorithm = _feed(request)
    who = await visitor(request)
    if algorithm is None:
        return _not_found(request, who)
    account_id = who.account_id

    def load(work: Work) -> dict[str, float] | None:
        if account_id is None:
            return None
        return dict(feeds.weights(work, account_id, algorithm.name)["weights"])

    yours = await read(request, load)
    return render(
        request,
        who,
        "feeds_about.html",
        feed=algorithm,
        published=feeds.algorithm_json(algorithm.name),
        yours=yours,
        **_formatters(who.locale),
    )


# -- Settings → Feeds --------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A parameter as the settings form shows it."""

    parameter: Parameter
    value: str  # as typed, or the current value
    step: str
    custom: bool  # the user's own value rather than the default


def step(parameter: Parameter) -> str:
    """A step fine enough for about a hundred positions between the bounds."""
    span = parameter.high - parameter.low
    return f"{10 ** math.floor(math.log10(span / 100)):g}" if span > 0 else "any"


def _fields(
    algorithm: Algorithm, current: dict[str, Any], typed: dict[str, str] | None = None
) -> list[Field]:
    weights, custom = current["weights"], current["custom"]
    return [
        Field(
            p,
            typed[p.name] if typed and p.name in typed else f"{weights[p.name]:g}",
            step(p),
            p.name in custom,
        )
        for p in algorithm.all_parameters()
    ]


@dataclass(frozen=True)
class FeedSettings:
    forms: dict[str, list[Field]]  # feed name -> its form
    lists_in_apps: bool
    viewpoint_opt_out: bool
    viewpoint: float | None  # the user's own estimated position, shown to them only


def _settings(work: Work, account_id: int, typed: dict[str, dict[str, str]]) -> FeedSettings:
    return FeedSettings(
        {
            name: _fields(algorithm, feeds.weights(work, account_id, name), typed.get(name))
            for name, algorithm in FEEDS.items()
        },
        feeds.lists_in_apps(work, account_id),
        feeds.viewpoint_opt_out(work, account_id),
        feeds.own_viewpoint(work, account_id),
    )


async def _settings_page(
    request: Request,
    who: Visitor,
    *,
    code: int = 200,
    problem: str | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    failed: str | None = None,
) -> Response:
    assert who.account_id is not None
    account_id = who.account_id
    found = await read(request, lambda work: _settings(work, account_id, typed or {}))
    return render(
        request,
        who,
        "settings_feeds.html",
        code=code,
        section="feeds",
        saved=request.query_params.get("saved") == "1",
        error=None,  # shown in the form it is about
        problem=problem,
        failed=failed,
        found=found,
        feeds=FEEDS,
        **_formatters(who.locale),
    )


def _login() -> Response:
    return redirect("/login?next=/settings/feeds")


async def settings_page(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    return await _settings_page(request, who)


def _number(value: str) -> float | str:
    try:
        return float(value.replace(",", ".").strip())  # a French decimal comma too
    except ValueError:
        return value


def _refused(parameter: Parameter, value: float | str) -> bool:
    try:
        parameter.check(value)
    except Invalid:
        return True
    return False


def _problems(algorithm: Algorithm, values: dict[str, float | str], locale: str) -> list[str]:
    """What the parameters' own checks refuse among the typed values, said in the visitor's
    language (the service checks them again when saving)."""
    gettext = translations(locale).gettext
    out = []
    for p in algorithm.all_parameters():
        if p.name not in values or not _refused(p, values[p.name]):
            continue
        value = values[p.name]
        if isinstance(value, str) or not math.isfinite(value):
            out.append(gettext("%(name)s must be a number.") % {"name": p.name})
        else:
            out.append(
                gettext("%(name)s must be between %(low)s and %(high)s.")
                % {
                    "name": p.name,
                    "low": format_decimal(p.low, "#,##0.##", locale=locale),
                    "high": format_decimal(p.high, "#,##0.##", locale=locale),
                }
            )
    return out


async def save_weights(request: Request) -> Response:
    algorithm = _feed(request)
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    data = await form(request)
    if algorithm is None:
        return _not_found(request, who)
    given = {p.name: text(data, p.name, limit=40) for p in algorithm.all_parameters()}
    typed = {name: value for name, value in given.items() if value.strip()}  # blank: unchanged
    values = {name: _number(value) for name, value in typed.items()}
    problems = _problems(algorithm, values, who.locale)
    retry = {algorithm.name: typed}
    if problems:
        return await _settings_page(
            request, who, code=422, problem=" ".join(problems), typed=retry, failed=algorithm.name
        )
    account_id = who.account_id

    def run(work: Work) -> None:
        current = feeds.weights(work, account_id, algorithm.name)["weights"]
        changed = {k: v for k, v in values.items() if v != current[k]}
        feeds.set_weights(work, account_id, algorithm.name, changed)

    try:
        await write(request, run)
    except DomainError as exc:
        return await _settings_page(
            request,
            who,
            code=exc.status,
            problem=error_message(exc),
            typed=retry,
            failed=algorithm.name,
        )
    return redirect(f"/settings/feeds?saved=1#feed-{algorithm.name}")


async def reset_weights(request: Request) -> Response:
    algorithm = _feed(request)
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    await form(request)
    if algorithm is None:
        return _not_found(request, who)
    account_id = who.account_id
    await write(request, lambda work: feeds.reset_weights(work, account_id, algorithm.name))
    return redirect(f"/settings/feeds?saved=1#feed-{algorithm.name}")


async def save_options(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    data = await form(request)
    in_apps, opt_out = data.get("lists_in_apps") == "on", data.get("viewpoint_opt_out") == "on"
    account_id = who.account_id

    def run(work: Work) -> None:
        feeds.set_lists_in_apps(work, account_id, in_apps)
        if feeds.viewpoint_opt_out(work, account_id) != opt_out:
            feeds.set_viewpoint_opt_out(work, account_id, opt_out)

    await write(request, run)
    return redirect("/settings/feeds?saved=1#feed-options")


routes = [
    Route("/feeds/{feed}", feed_page, methods=["GET"]),
    Route("/feeds/{feed}/about", about_page, methods=["GET"]),
    Route("/settings/feeds", settings_page, methods=["GET"]),
    Route("/settings/feeds/options", save_options, methods=["POST"]),
    Route("/settings/feeds/{feed}", save_weights, methods=["POST"]),
    Route("/settings/feeds/{feed}/reset", reset_weights, methods=["POST"]),
]
