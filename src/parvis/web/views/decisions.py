"""Moderation decisions as the people they concern see them.

- The notifier: `/notices/{key}` (the private link of the receipt, no account needed) or, when
  signed in, `/settings/reports` and `/settings/reports/{id}`: what was reported, when it was
  received, its state and, once decided, the decision in plain words with the appeal form and
  the other ways to contest it.
- The author: `/decisions/{id}` (only the account the decision is about; 404 for anyone else):
  the statement of reasons (DSA art. 17) in their language, with the appeal form until the
  deadline, the out-of-court dispute bodies and the courts; `/settings/moderation` lists them.

Both appeal through `POST /decisions/{id}/appeal` (a notifier without an account sends the
receipt key with it; a suspended author, who cannot sign in, the ticket that signing in with
the right password gave them); services/appeals.py decides who may."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain import statements as sor
from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.models import Account, Status
from parvis.services import appeals, moderation, notices, statements
from parvis.services.context import Work
from parvis.storage.moderation import AppealRow, DecisionRow
from parvis.storage.notices import NoticeRow
from parvis.web.pages import (
    Visitor,
    back,
    error_message,
    form,
    read,
    redirect,
    render,
    text,
    visit,
    visitor,
    write,
)

# -- what the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ruling:
    """A decision as one person concerned by it (author or notifier) sees it."""

    decision: DecisionRow
    statement: sor.Statement
    appeals: tuple[AppealRow, ...]  # this person's appeals against it
    deadline: datetime
    can_appeal: bool


@dataclass(frozen=True)
class ItemView:
    """One reported item of a notice, and the decision that answered it."""

    account: Account | None
    status_id: int | None
    ruling: Ruling | None


@dataclass(frozen=True)
class NoticeView:
    notice: NoticeRow
    items: tuple[ItemView, ...]
    receipt: str  # the receipt key when the page was reached through it, else ""


@dataclass(frozen=True)
class DecisionView:
    ruling: Ruling
    status: Status | None


def _ruling(work: Work, decision: DecisionRow, account_id: int | None, receipt: str = "") -> Ruling:
    role = appeals.appellant_role(work, decision, account_id, receipt)
    mine = tuple(
        a
        for a in work.store.decisions.appeals_of(decision.id)
        if role is not None
        and a.appellant_role == role[0]
        and (
            a.notice_id == role[1]
            if role[0] == "notifier"
            else a.appellant_account_id == account_id
        )
    )
    statement = statements.explain(work, decision.id)
    deadline = appeals.deadline(decision)
    can_appeal = (
        role is not None
        and decision.reversed_at is None
        and work.now() <= deadline
        and not any(a.outcome == "" for a in mine)
    )
    return Ruling(decision, statement, mine, deadline, can_appeal)


def _notice_view(work: Work, notice: NoticeRow, account_id: int | None, receipt: str) -> NoticeView:
    items = []
    for item in work.store.notices.items(notice.id):
        account = work.store.accounts.get(item.account_id) if item.account_id else None
        decision = work.store.decisions.get(item.decision_id) if item.decision_id else None
        ruling = _ruling(work, decision, account_id, receipt) if decision is not None else None
        items.append(ItemView(account, item.status_id, ruling))
    return NoticeView(notice, tuple(items), receipt)


NoticeLoader = Callable[[Work, Visitor], "NoticeView"]


def _by_receipt(key: str) -> NoticeLoader:
    def load(work: Work, who: Visitor) -> NoticeView:
        return _notice_view(work, notices.by_receipt(work, key), who.account_id, key)

    return load


def _own_notice(notice_id: int | None) -> NoticeLoader:
    def load(work: Work, who: Visitor) -> NoticeView:
        found = work.store.notices.get(notice_id) if notice_id is not None else None
        if found is None or who.account_id is None or found.reporter_account_id != who.account_id:
            raise NotFound("No such report")
        return _notice_view(work, found, who.account_id, "")

    return load


def _decision_view(decision_id: int | None) -> Callable[[Work, Visitor], DecisionView]:
    def load(work: Work, who: Visitor) -> DecisionView:
        found = work.store.decisions.get(decision_id) if decision_id is not None else None
        if found is None or who.account_id is None or found.account_id != who.account_id:
            raise NotFound("No such decision")
        status = work.store.statuses.get(found.status_id) if found.status_id else None
        return DecisionView(_ruling(work, found, who.account_id), status)

    return load


# -- pages -----------------------------------------------------------------------------------


async def _notice_page(
    request: Request, loader: NoticeLoader, *, error: str | None = None, code: int = 200
) -> Response:
    try:
        who, view = await visit(request, loader)
    except NotFound:
        return render(request, await visitor(request), "not_found.html", code=404)
    return render(
        request,
        who,
        "notice.html",
        code=code,
        view=view,
        error=error,
        appealed=request.query_params.get("appealed") == "1",
    )


async def notice_by_receipt(request: Request) -> Response:
    return await _notice_page(request, _by_receipt(request.path_params["key"]))


async def own_notice(request: Request) -> Response:
    who = await visitor(request)
    if not who.signed_in:
        return redirect("/login?next=/settings/reports")
    return await _notice_page(request, _own_notice(parse_id(request.path_params["id"])))


async def _decision_page(
    request: Request, decision_id: int | None, *, error: str | None = None, code: int = 200
) -> Response:
    try:
        who, view = await visit(request, _decision_view(decision_id))
    except NotFound:
        return render(request, await visitor(request), "not_found.html", code=404)
    return render(
        request,
        who,
        "decision.html",
        code=code,
        view=view,
        error=error,
        appealed=request.query_params.get("appealed") == "1",
    )


async def decision_page(request: Request) -> Response:
    who = await visitor(request)
    decision_id = parse_id(request.path_params["id"])
    if not who.signed_in:
        return redirect(f"/login?next=/decisions/{decision_id or ''}")
    return await _decision_page(request, decision_id)


async def suspended_statement(
    request: Request,
    ticket: str,
    decision_id: int,
    *,
    error: str | None = None,
    code: int = 200,
    appealed: bool = False,
) -> Response:
    """The statement of reasons of a suspension, for its author who cannot sign in: reached
    with the ticket that signing in with the right password gave (services/appeals.py)."""

    def load(work: Work, who: Visitor) -> DecisionView:
        account_id = appeals.ticket_account(work, ticket)
        found = work.store.decisions.get(decision_id)
        if account_id is None or found is None or found.account_id != account_id:
            raise NotFound("No such decision")
        status = work.store.statuses.get(found.status_id) if found.status_id else None
        return DecisionView(_ruling(work, found, account_id), status)

    try:
        who, view = await visit(request, load)
    except NotFound:
        return render(request, await visitor(request), "not_found.html", code=404)
    return render(
        request,
        who,
        "decision.html",
        code=code,
        view=view,
        error=error,
        appealed=appealed,
        ticket=ticket,
    )


async def appeal(request: Request) -> Response:
    """An author or a notifier contests a decision (a suspended author with their ticket)."""
    data = await form(request)
    who = await visitor(request)
    decision_id = parse_id(request.path_params["id"])
    receipt = text(data, "receipt", limit=100)
    ticket = text(data, "ticket", limit=200)
    words = text(data, "text", limit=appeals.MAX_TEXT + 1)
    account_id = who.account_id
    origin = back(request, f"/decisions/{decision_id}")

    def file(work: Work) -> None:
        assert decision_id is not None
        appellant = account_id
        if appellant is None and ticket:
            appellant = appeals.ticket_account(work, ticket)
        appeals.file(work, appellant, decision_id, words, receipt_key=receipt)

    try:
        if decision_id is None:
            raise NotFound("No such decision")
        await write(request, file)
    except DomainError as exc:
        message, code = error_message(exc), exc.status
        if ticket and decision_id is not None:
            return await suspended_statement(request, ticket, decision_id, error=message, code=code)
        if receipt:
            return await _notice_page(request, _by_receipt(receipt), error=message, code=code)
        reported = origin.removeprefix("/settings/reports/")
        if origin.startswith("/settings/reports/") and reported.isdigit():
            own = _own_notice(parse_id(reported))
            return await _notice_page(request, own, error=message, code=code)
        return await _decision_page(request, decision_id, error=message, code=code)
    if ticket:
        return await suspended_statement(request, ticket, decision_id, appealed=True)
    if receipt:
        return redirect(f"/notices/{receipt}?appealed=1")
    return redirect(f"{origin}?appealed=1")


async def my_reports(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/settings/reports")
    account_id = who.account_id
    found = await read(request, lambda work: work.store.notices.by_reporter(account_id, 100))
    return render(request, who, "notice_list.html", section="reports", notices=found)


async def my_decisions(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/settings/moderation")
    account_id = who.account_id

    def load(work: Work) -> list[DecisionRow]:
        return [d for d in moderation.decisions_about(work, account_id) if d.action != "none"]

    found = await read(request, load)
    return render(request, who, "decision_list.html", section="moderation", decisions=found)


routes = [
    Route("/notices/{key}", notice_by_receipt, methods=["GET"]),
    Route("/settings/reports", my_reports, methods=["GET"]),
    Route("/settings/reports/{id}", own_notice, methods=["GET"]),
    Route("/settings/moderation", my_decisions, methods=["GET"]),
    Route("/decisions/{id}", decision_page, methods=["GET"]),
    Route("/decisions/{id}/appeal", appeal, methods=["POST"]),
]
