"""GET /api/parvis/v1/transparency/report: the transparency report for a period, as JSON (the
default) or CSV (one row per figure). Public: no token, nothing personal in it."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.api.errors import ApiError
from parvis.services import transparency_report
from parvis.services.context import Work

router = APIRouter(tags=["transparency"], responses=ERRORS)

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: str | None, name: str) -> date:
    """A calendar day written YYYY-MM-DD; a 422 with a message otherwise."""
    if value is None or not value.strip():
        raise ApiError(422, f"Validation failed: {name}: required, a day written YYYY-MM-DD")
    value = value.strip()
    try:
        if not DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            422, f"Validation failed: {name}: not a day written YYYY-MM-DD ({value[:40]!r})"
        ) from None


@router.get(
    "/api/parvis/v1/transparency/report",
    responses={
        200: {
            "description": "The report (JSON), or one CSV row per figure with format=csv",
            "content": {"application/json": {}, "text/csv": {}},
        }
    },
)
def transparency_report_for_period(
    rt: RuntimeDep,
    from_: Annotated[
        str | None,
        Query(alias="from", description="First day of the period, YYYY-MM-DD (included)."),
    ] = None,
    to: Annotated[
        str | None,
        Query(description="Day after the period, YYYY-MM-DD (not included); at most 3 years."),
    ] = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="`json` (default) or `csv`.")
    ] = "json",
) -> Response:
    """Every figure of the DSA transparency report and of the list the Paris court asked for,
    computed from this server's data for the days [from, to), UTC (docs/transparency.md)."""
    start, end = parse_day(from_, "from"), parse_day(to, "to")

    def run(work: Work) -> transparency_report.Report:
        return transparency_report.report(work, start, end)

    found = rt.read(run)
    name = f"transparency-{start.isoformat()}-{end.isoformat()}"
    if format == "csv":
        return Response(
            transparency_report.to_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    body: dict[str, Any] = transparency_report.to_json(found)
    return json_response(body)
