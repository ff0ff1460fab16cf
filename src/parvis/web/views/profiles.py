"""Profile pages: an account's posts (three tabs, pinned posts first), its followers and
follows, and the relationship buttons (follow with request state, block, mute). Follow
requests to the signed-in account are accepted or rejected on their own page.

Every action is a plain form that redirects back (works without JavaScript); with htmx the
relationship buttons swap in place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.models import Account, Relationship
from parvis.services import accounts, labels, social, timelines
from parvis.services.context import Work
from parvis.services.timelines import Paging, StatusPage
from parvis.web.pages import (
    back,
    error_message,
    form,
    read,
    redirect,
    render,
    text,
    visitor,
    write,
)
from parvis.web.views.timelines import PAGE, paging

TABS = ("posts", "with_replies", "media")


@dataclass(frozen=True)
class Profile:
    account: Account
    relationship: Relationship | None  # None: a visitor, or the account's own page


def _profile(work: Work, viewer: int | None, acct: str) -> Profile:
    account = accounts.lookup(work, acct[:300])
    if account.suspended:
        raise NotFound("Record not found")
    rel = None
    if viewer is not None and viewer != account.id:
        rel = social.relationship(work, viewer, account.id)
    return Profile(account, rel)


async def profile(request: Request) -> Response:
    return await _posts(request, "posts")


async def with_replies(request: Request) -> Response:
    return await _posts(request, "with_replies")


async def media(request: Request) -> Response:
    return await _posts(request, "media")


async def _posts(request: Request, tab: str) -> Response:
    who = await visitor(request)
    viewer, page = who.account_id, paging(request)
    acct = request.path_params["username"]
    first_page = page.max_id is None and page.min_id is None

    def load(
        work: Work,
    ) -> tuple[Profile, StatusPage | None, StatusPage, list[labels.ShownLabel]]:
        found = _profile(work, viewer, acct)
        aid = found.account.id
        pinned = None
        if tab == "posts" and first_page:
            pinned = timelines.account_statuses(work, viewer, aid, Paging(limit=PAGE), pinned=True)
        posts = timelines.account_statuses(
            work,
            viewer,
            aid,
            page,
            exclude_replies=tab == "posts",
            only_media=tab == "media",
        )
        return found, pinned, posts, labels.of_account(work, found.account)

    try:
        found, pinned, posts, shown_labels = await read(request, load)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return render(
        request,
        who,
        "profile.html",
        account=found.account,
        rel=found.relationship,
        tab=tab,
        pinned=pinned,
        page=posts,
        labels=shown_labels,
    )


async def followers(request: Request) -> Response:
    return await _people(request, "followers")


async def following(request: Request) -> Response:
    return await _people(request, "following")


async def _people(request: Request, kind: str) -> Response:
    who = await visitor(request)
    viewer, page = who.account_id, paging(request)
    acct = request.path_params["username"]

    def load(work: Work) -> tuple[Profile, list[Account], int | None, bool]:
        found = _profile(work, viewer, acct)
        account = found.account
        if account.hide_collections and viewer != account.id:
            return found, [], None, True
        side = {"target_id": account.id} if kind == "followers" else {"account_id": account.id}
        pairs = work.store.social.edge_page("follows", **side, **page.kw())
        people = work.store.accounts.get_many(a for _, a in pairs)
        shown = [people[a] for _, a in pairs if a in people and not people[a].suspended]
        return found, shown, pairs[-1][0] if len(pairs) == page.limit else None, False

    try:
        found, people, older, hidden = await read(request, load)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return render(
        request,
        who,
        "profile_people.html",
        account=found.account,
        rel=found.relationship,
        kind=kind,
        people=people,
        older=older,
        hidden=hidden,
    )


ACTIONS: dict[str, Callable[[Work, int, int], Relationship]] = {
    "follow": social.follow,
    "unfollow": social.unfollow,
    "block": social.block,
    "unblock": social.unblock,
    "mute": social.mute,
    "unmute": social.unmute,
}


async def act(request: Request) -> Response:
    """Follow (or ask to), unfollow (or cancel the request), block, mute and their undoing."""
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login")
    data = await form(request)
    verb = request.path_params["action"]
    action = ACTIONS.get(verb)
    target_id = parse_id(request.path_params["id"])
    if action is None or target_id is None:
        return render(request, who, "not_found.html", code=404)
    account_id = who.account_id
    raw = text(data, "duration", limit=16).strip() or "0"
    duration = int(raw) if raw.isascii() and raw.isdigit() else -1  # the service says why not

    def run(work: Work) -> Profile:
        if verb == "mute":
            rel = social.mute(work, account_id, target_id, duration=duration)
        else:
            rel = action(work, account_id, target_id)
        return Profile(accounts.get_account(work, target_id), rel)

    try:
        done = await write(request, run)
    except DomainError as exc:
        return render(request, who, "error.html", code=exc.status, error=error_message(exc))
    if request.headers.get("hx-request") == "true":
        return render(
            request,
            who,
            "profile_actions.html",
            account=done.account,
            rel=done.relationship,
            back_to=f"/@{done.account.acct}",
        )
    return redirect(back(request, f"/@{done.account.acct}"))


async def follow_requests(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/follow_requests")
    account_id, page = who.account_id, paging(request)

    def load(work: Work) -> tuple[list[Account], int | None]:
        pairs = work.store.social.edge_page("follow_requests", target_id=account_id, **page.kw())
        people = work.store.accounts.get_many(a for _, a in pairs)
        shown = [people[a] for _, a in pairs if a in people and not people[a].suspended]
        return shown, pairs[-1][0] if len(pairs) == page.limit else None

    people, older = await read(request, load)
    return render(request, who, "profile_requests.html", people=people, older=older)


REQUEST_ACTIONS: dict[str, Callable[[Work, int, int], Relationship]] = {
    "authorize": social.authorize_request,
    "reject": social.reject_request,
}


async def answer_request(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/follow_requests")
    await form(request)
    action = REQUEST_ACTIONS.get(request.path_params["action"])
    requester_id = parse_id(request.path_params["id"])
    if action is None or requester_id is None:
        return render(request, who, "not_found.html", code=404)
    account_id = who.account_id
    try:
        await write(request, lambda work: action(work, account_id, requester_id))
    except DomainError as exc:
        return render(request, who, "error.html", code=exc.status, error=error_message(exc))
    return redirect(back(request, "/follow_requests"))


# Registered before the post route `/@{username}/{id}` (see routes.py), which would otherwise
# take `/@name/media` for a post.
routes = [
    Route("/@{username}", profile, methods=["GET"]),
    Route("/@{username}/with_replies", with_replies, methods=["GET"]),
    Route("/@{username}/media", media, methods=["GET"]),
    Route("/@{username}/followers", followers, methods=["GET"]),
    Route("/@{username}/following", following, methods=["GET"]),
    Route("/accounts/{id}/{action}", act, methods=["POST"]),
    Route("/follow_requests", follow_requests, methods=["GET"]),
    Route("/follow_requests/{id}/{action}", answer_request, methods=["POST"]),
]
