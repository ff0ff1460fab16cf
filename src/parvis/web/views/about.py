"""The server's public pages: about (description, rules, terms), privacy, transparency."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from babel.numbers import format_decimal, format_percent
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.services import policies, rules
from parvis.services import transparency_report as reports
from parvis.services.context import Work
from parvis.web import i18n
from parvis.web.pages import read, render, runtime, visitor


async def about(request: Request) -> Response:
    who = await visitor(request)
    settings = runtime(request).settings
    texts = await read(request, lambda work: [r.text for r in rules.current(work)])
    # Both texts are built escaped by the policies service (operators' plain text).
    return render(
        request,
        who,
        "about.html",
        about_html=Markup(policies.about(settings)),
        terms_html=Markup(policies.terms(settings, texts)),
    )


async def privacy(request: Request) -> Response:
    """Parvis's own policy in the visitor's language, its figures from the settings (the API
    serves the same text in English); an operator's own text as it was written."""
    who = await visitor(request)
    settings = runtime(request).settings
    own = policies.is_default_privacy(settings)
    text = policies.privacy(settings, i18n.translations(who.locale))
    return render(
        request,
        who,
        "privacy.html",
        privacy_html=Markup(text),  # built escaped by the policies service
        policy_lang=who.locale if own else "",
    )


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: what it counts, how many, its length in % of the longest bar."""

    key: str
    value: int
    width: float


def bars(counts: Mapping[str, int], *, limit: int = 20, keep_zeros: bool = False) -> list[Bar]:
    """The bars of a chart, largest first; zero rows are left out unless asked for."""
    rows = [(k, v) for k, v in counts.items() if v or keep_zeros][:limit]
    top = max((v for _, v in rows), default=0)
    return [Bar(k, v, round(100 * v / top, 2) if top else 0.0) for k, v in rows]


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months, today included."""
    end = today + timedelta(days=1)
    try:
        return end.replace(year=end.year - 1), end
    except ValueError:  # 29 February
        return date(end.year - 1, 3, 1), end


def _day(value: str | None) -> date | None:
    if not value or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _period(request: Request) -> tuple[date, date, str]:
    """The period asked for in ?from=&to= (or the default), and what is wrong with it: "" |
    "format" | "order" | "length"."""
    start, end = default_period(datetime.now(UTC).date())
    asked_from, asked_to = request.query_params.get("from"), request.query_params.get("to")
    if not asked_from and not asked_to:
        return start, end, ""
    parsed_from, parsed_to = _day(asked_from), _day(asked_to)
    if parsed_from is None or parsed_to is None:
        return start, end, "format"
    if parsed_to <= parsed_from:
        return start, end, "order"
    try:
        reports.check_period(parsed_from, parsed_to)
    except Exception:
        return start, end, "length"
    return parsed_from, parsed_to, ""


def _formatters(locale: str) -> dict[str, Callable[..., str]]:
    def number(value: float | None) -> str:
        return "–" if value is None else format_decimal(value, locale=locale)

    def percent(value: float | None) -> str:
        return "–" if value is None else format_percent(value, "#,##0.#%", locale=locale)

    def hours(seconds: float | None) -> str:
        if seconds is None:
            return "–"
        return format_decimal(round(seconds / 3600, 1), "#,##0.#", locale=locale)

    return {"number": number, "percent": percent, "hours": hours}


async def transparency(request: Request) -> Response:
    """The transparency report for a period (default: the last twelve months), with charts
    drawn on the server as inline SVG (no script), each with its figures as a table."""
    who = await visitor(request)
    start, end, error = _period(request)

    def run(work: Work) -> reports.Report:
        return reports.report(work, start, end)

    found = await read(request, run)
    query = f"from={start.isoformat()}&to={end.isoformat()}"
    return render(
        request,
        who,
        "transparency.html",
        code=422 if error else 200,
        report=found,
        error=error,
        bars=bars,
        last_day=end - timedelta(days=1),
        json_url=f"/api/parvis/v1/transparency/report?{query}",
        csv_url=f"/api/parvis/v1/transparency/report?{query}&format=csv",
        **_formatters(who.locale),
    )


routes = [
    Route("/about", about, methods=["GET"]),
    Route("/privacy", privacy, methods=["GET"]),
    Route("/transparency", transparency, methods=["GET"]),
]
