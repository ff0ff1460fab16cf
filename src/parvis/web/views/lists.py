"""Lists: the viewer's lists (create, rename, delete), a list's members (add among the
people one follows, remove), and the list's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.lists import REPLIES_POLICIES, UserList
from parvis.domain.models import Account
from parvis.services import lists, timelines
from parvis.services.context import Work
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
from parvis.web.views.timelines import paging

FOLLOWED_LIMIT = 500


def _login(path: str = "/lists") -> Response:
    return redirect(f"/login?next={path}")


async def index_page(request: Request, who: Visitor, *, code: int = 200, **ctx: Any) -> Response:
    assert who.account_id is not None
    account_id = who.account_id
    found = await read(request, lambda work: work.store.lists.of_account(account_id))
    ctx.setdefault("error", None)
    ctx.setdefault("title", "")
    return render(
        request, who, "lists.html", code=code, lists=found, policies=REPLIES_POLICIES, **ctx
    )


async def index(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    return await index_page(request, who)


async def create(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    data = await form(request)
    title = text(data, "title", limit=300)
    policy = text(data, "replies_policy", limit=16) or "list"
    exclusive = data.get("exclusive") == "on"
    account_id = who.account_id
    try:
        made = await write(
            request, lambda work: lists.create(work, account_id, title, policy, exclusive)
        )
    except DomainError as exc:
        return await index_page(
            request, who, code=exc.status, error=error_message(exc), title=title
        )
    return redirect(f"/lists/{made.id}/edit")


async def show(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login(request.url.path)
    list_id = parse_id(request.path_params["id"])
    account_id, page = who.account_id, paging(request)

    def load(work: Work) -> tuple[UserList, timelines.StatusPage]:
        if list_id is None:
            raise NotFound("Record not found")
        return lists.owned(work, account_id, list_id), timelines.list_timeline(
            work, account_id, list_id, page
        )

    try:
        found, statuses = await read(request, load)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return render(request, who, "lists_show.html", list=found, page=statuses)


@dataclass(frozen=True)
class Members:
    user_list: UserList
    members: list[Account]
    candidates: list[Account]  # followed, not yet members


def _members(work: Work, account_id: int, list_id: int) -> Members:
    found = lists.owned(work, account_id, list_id)
    pairs = work.store.lists.member_page(
        found.id, account_id, max_id=None, since_id=None, min_id=None, limit=None
    )
    member_ids = [a for _, a in pairs]
    followed = work.store.social.edge_page(
        "follows",
        account_id=account_id,
        max_id=None,
        since_id=None,
        min_id=None,
        limit=FOLLOWED_LIMIT,
    )
    candidate_ids = [a for _, a in followed if a not in set(member_ids)]
    known = work.store.accounts.get_many(member_ids + candidate_ids)
    return Members(
        found,
        [known[a] for a in member_ids if a in known],
        sorted((known[a] for a in candidate_ids if a in known), key=lambda a: a.acct.lower()),
    )


async def edit_page(request: Request, who: Visitor, *, code: int = 200, **ctx: Any) -> Response:
    assert who.account_id is not None
    list_id = parse_id(request.path_params["id"])
    account_id = who.account_id

    def load(work: Work) -> Members:
        if list_id is None:
            raise NotFound("Record not found")
        return _members(work, account_id, list_id)

    try:
        found = await read(request, load)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    ctx.setdefault("error", None)
    return render(
        request,
        who,
        "lists_edit.html",
        code=code,
        list=found.user_list,
        members=found.members,
        candidates=found.candidates,
        policies=REPLIES_POLICIES,
        saved=request.query_params.get("saved") == "1",
        **ctx,
    )


async def edit(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login(request.url.path)
    return await edit_page(request, who)


async def change(request: Request) -> Response:
    """Every change to a list: rename (and policy), delete, add or remove a member."""
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    data = await form(request)
    list_id = parse_id(request.path_params["id"])
    action = request.path_params["action"]
    if list_id is None or action not in ("update", "delete", "add", "remove"):
        return render(request, who, "not_found.html", code=404)
    account_id = who.account_id
    member = parse_id(text(data, "account_id", limit=20))
    title = text(data, "title", limit=300)
    policy = text(data, "replies_policy", limit=16) or None
    exclusive = data.get("exclusive") == "on"

    def run(work: Work) -> None:
        if action == "update":
            lists.update(
                work, account_id, list_id, title=title, replies_policy=policy, exclusive=exclusive
            )
        elif action == "delete":
            lists.delete(work, account_id, list_id)
        elif member is None:
            raise NotFound("Record not found")
        elif action == "add":
            lists.add_accounts(work, account_id, list_id, [member])
        else:
            lists.remove_accounts(work, account_id, list_id, [member])

    try:
        await write(request, run)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    except DomainError as exc:
        return await edit_page(request, who, code=exc.status, error=error_message(exc))
    if action == "delete":
        return redirect("/lists")
    return redirect(f"/lists/{list_id}/edit?saved=1")


routes = [
    Route("/lists", index, methods=["GET"]),
    Route("/lists", create, methods=["POST"]),
    Route("/lists/{id}", show, methods=["GET"]),
    Route("/lists/{id}/edit", edit, methods=["GET"]),
    Route("/lists/{id}/{action}", change, methods=["POST"]),
]
