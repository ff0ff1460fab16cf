"""/api/parvis/v1/transparency/statements: every statement of reasons (DSA Art. 17) this server
issued, public, in the DSA Transparency Database schema (v2): the same JSON the submitter sends
to the Commission, so anyone can check the two against each other. No personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.api.errors import ApiError
from parvis.domain.statement_schema import DAY, PUID, SHORT
from parvis.services import statements
from parvis.services.context import Work

router = APIRouter(tags=["transparency"], responses=ERRORS)
PATH = "/api/parvis/v1/transparency/statements"


class StatementOfReasons(BaseModel):
    """A statement of reasons, DSA Transparency Database schema v2 (see docs/transparency.md)."""

    model_config = ConfigDict(extra="allow")
    puid: str
    decision_ground: str
    category: str
    content_type: list[str]
    content_date: str
    application_date: str
    decision_facts: str
    source_type: str
    automated_detection: str
    automated_decision: str


class StatementPage(BaseModel):
    statements: list[StatementOfReasons]
    reversed: list[str]
    next: str | None


def _day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not DAY.fullmatch(value):  # not the other ISO 8601 forms fromisoformat takes
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        message = f"Validation failed: {name} must be a date written YYYY-MM-DD"
        raise ApiError(422, message) from None


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day is not None else None


@router.get(PATH, response_model=StatementPage)
def list_statements(
    request: Request,
    rt: RuntimeDep,
    since: Annotated[
        str | None, Query(description="First day (YYYY-MM-DD, UTC) of the decisions listed.")
    ] = None,
    until: Annotated[str | None, Query(description="Last day (YYYY-MM-DD, UTC), included.")] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=SHORT, description="The `next` cursor of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Statements per page.")] = 100,
) -> Response:
    """The statements of reasons of the restrictions decided in the period, oldest first;
    decisions later reversed on appeal stay listed, and their PUIDs are given in `reversed`."""
    first, last = _day(since, "since"), _day(until, "until")
    if first is not None and last is not None and last < first:
        raise ApiError(422, "Validation failed: until must not be before since")
    if cursor is not None and not PUID.fullmatch(cursor):
        raise ApiError(422, "Validation failed: cursor is not a statement identifier")
    end = _start(last + timedelta(days=1)) if last is not None and last < date.max else None

    def run(work: Work) -> statements.ExportPage:
        return statements.export(work, _start(first), end, cursor, limit)

    page = rt.read(run)
    nxt = None
    headers: dict[str, str] = {}
    if page.next_cursor is not None:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        base = str(request.url.replace(query=""))
        nxt = f"{base}?{urlencode([*params, ('cursor', page.next_cursor)])}"
        headers["Link"] = f'<{nxt}>; rel="next"'
    body: dict[str, Any] = {"statements": page.statements, "reversed": page.reversed, "next": nxt}
    return json_response(body, headers=headers)


@router.get(PATH + "/{puid}", response_model=StatementOfReasons)
def get_statement(rt: RuntimeDep, puid: str) -> Response:
    """One statement of reasons, by its platform unique identifier (PUID)."""
    if len(puid) > SHORT or not PUID.fullmatch(puid):
        raise ApiError(404, "Record not found")
    return json_response(rt.read(lambda work: statements.by_puid(work, puid)))
