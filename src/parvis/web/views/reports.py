"""The report entry point: anyone, visitors included, may report a post (`/report?status=ID`)
or an account (`/report?account=ID`). The notice is stored and acknowledged with its number;
moderators decide on it later."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.models import Account, Status
from parvis.services import notices, posting
from parvis.services.context import Work
from parvis.web.pages import Visitor, error_message, form, read, render, text, visitor, write


def _target(request: Request) -> tuple[int | None, int | None]:
    params = request.query_params
    return parse_id(params.get("status", "")), parse_id(params.get("account", ""))


async def _load(
    request: Request, who: Visitor, status_id: int | None, account_id: int | None
) -> tuple[Status | None, Account]:
    viewer = who.account_id

    def load(work: Work) -> tuple[Status | None, Account]:
        reported = notices.target(work, viewer, status_id, account_id)
        account = work.store.accounts.get(reported)
        if account is None:
            raise NotFound("Record not found")
        status = posting.visible_status(work, viewer, status_id) if status_id else None
        return (status.reblog or status) if status else None, account

    return await read(request, load)


async def report_page(request: Request) -> Response:
    who = await visitor(request)
    status_id, account_id = _target(request)
    try:
        status, account = await _load(request, who, status_id, account_id)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return render(
        request,
        who,
        "report.html",
        status=status,
        account=account,
        categories=notices.CATEGORIES,
        error=None,
        values={},
    )


async def report(request: Request) -> Response:
    who = await visitor(request)
    data = await form(request)
    status_id, account_id = _target(request)
    values = {
        "category": text(data, "category", limit=32),
        "explanation": text(data, "explanation", limit=notices.MAX_EXPLANATION + 1),
        "reporter_name": text(data, "reporter_name", limit=notices.MAX_NAME + 1),
        "reporter_email": text(data, "reporter_email", limit=notices.MAX_EMAIL + 1),
    }
    notice = notices.NewNotice(
        status_id=status_id,
        account_id=account_id,
        good_faith=data.get("good_faith") == "on",
        **values,
    )
    reporter = who.account_id
    try:
        row = await write(request, lambda work: notices.submit(work, reporter, notice))
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    except DomainError as exc:
        try:
            status, account = await _load(request, who, status_id, account_id)
        except NotFound:
            return render(request, who, "not_found.html", code=404)
        return render(
            request,
            who,
            "report.html",
            code=exc.status,
            status=status,
            account=account,
            categories=notices.CATEGORIES,
            error=error_message(exc),
            values=values,
        )
    return render(request, who, "report_sent.html", notice=row)


routes = [
    Route("/report", report_page, methods=["GET"]),
    Route("/report", report, methods=["POST"]),
]
