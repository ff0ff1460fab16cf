"""Filters and muted words: the viewer's filters (title, keywords, where they apply, hide or
warn, expiry), created and deleted with plain forms; keywords added to and removed from an
existing filter, each switched between whole words and inside words."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, Invalid, NotFound
from parvis.domain.filters import CONTEXTS
from parvis.domain.ids import parse_id
from parvis.services import filters
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

ACTIONS = ("warn", "hide")
# Offered expiries in seconds ("" = never), as Mastodon's web UI offers them.
EXPIRIES = ("", "1800", "3600", "21600", "43200", "86400", "604800")
MAX_KEYWORD_LINES = filters.MAX_KEYWORDS


def _login() -> Response:
    return redirect("/login?next=/filters")


async def page(request: Request, who: Visitor, *, code: int = 200, **ctx: Any) -> Response:
    assert who.account_id is not None
    account_id = who.account_id
    found = await read(request, lambda work: work.store.filters.of_account(account_id))
    ctx.setdefault("error", None)
    ctx.setdefault("keyword_error", None)
    ctx.setdefault("keyword_filter", None)
    ctx.setdefault(
        "values",
        {
            "title": "",
            "keywords": "",
            "whole_word": True,
            "context": ["home", "notifications", "public", "thread", "account"],
            "action": "warn",
            "expires_in": "",
        },
    )
    return render(
        request,
        who,
        "filters.html",
        code=code,
        filters=found,
        contexts=CONTEXTS,
        actions=ACTIONS,
        expiries=EXPIRIES,
        saved=request.query_params.get("saved") == "1",
        **ctx,
    )


async def index(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    return await page(request, who)


async def create(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    data = await form(request)
    values: dict[str, Any] = {
        "title": text(data, "title", limit=300),
        "keywords": text(data, "keywords", limit=20_000),
        "whole_word": data.get("whole_word") == "on",
        "context": [c for c in data.getlist("context") if isinstance(c, str)][:10],
        "action": text(data, "filter_action", limit=16),
        "expires_in": text(data, "expires_in", limit=16),
    }
    lines = [k.strip() for k in str(values["keywords"]).splitlines() if k.strip()]
    expires = str(values["expires_in"])
    account_id = who.account_id

    def run(work: Work) -> None:
        if not lines:
            raise Invalid("Validation failed: add at least one keyword")
        if len(lines) > MAX_KEYWORD_LINES:
            raise Invalid(f"Validation failed: a filter holds at most {MAX_KEYWORD_LINES} keywords")
        if values["action"] not in ACTIONS:
            raise Invalid("Validation failed: choose to hide or to warn")
        if expires and not expires.isdecimal():
            raise Invalid("Validation failed: choose when the filter ends")
        filters.create(
            work,
            account_id,
            title=str(values["title"]),
            context=values["context"],
            action=str(values["action"]),
            expires_in=int(expires) if expires else None,
            keywords=[
                filters.KeywordChange(keyword=k, whole_word=bool(values["whole_word"]))
                for k in lines
            ],
        )

    try:
        await write(request, run)
    except DomainError as exc:
        return await page(request, who, code=exc.status, error=error_message(exc), values=values)
    return redirect("/filters?saved=1")


async def delete(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    await form(request)
    filter_id = parse_id(request.path_params["id"])
    account_id = who.account_id

    def run(work: Work) -> None:
        if filter_id is None:
            raise NotFound("Record not found")
        filters.delete(work, account_id, filter_id)

    try:
        await write(request, run)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return redirect("/filters?saved=1")


async def add_keyword(request: Request) -> Response:
    """Adds a keyword (or phrase) to one of the viewer's filters."""
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    data = await form(request)
    filter_id = parse_id(request.path_params["id"])
    keyword = text(data, "keyword", limit=300).strip()
    whole_word = data.get("whole_word") == "on"
    account_id = who.account_id

    def run(work: Work) -> None:
        if filter_id is None:
            raise NotFound("Record not found")
        filters.add_keyword(work, account_id, filter_id, keyword, whole_word)

    try:
        await write(request, run)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    except DomainError as exc:
        return await page(
            request,
            who,
            code=exc.status,
            keyword_error=error_message(exc),
            keyword_filter=filter_id,
        )
    return redirect("/filters?saved=1")


async def remove_keyword(request: Request) -> Response:
    """Removes one keyword from one of the viewer's filters."""
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    await form(request)
    keyword_id = parse_id(request.path_params["id"])
    account_id = who.account_id

    def run(work: Work) -> None:
        if keyword_id is None:
            raise NotFound("Record not found")
        filters.delete_keyword(work, account_id, keyword_id)

    try:
        await write(request, run)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return redirect("/filters?saved=1")


async def set_whole_word(request: Request) -> Response:
    """Switches one keyword between matching whole words only and matching inside words too
    (the form's `whole_word` box: checked or not)."""
    who = await visitor(request)
    if who.account_id is None:
        return _login()
    data = await form(request)
    keyword_id = parse_id(request.path_params["id"])
    whole_word = data.get("whole_word") == "on"
    account_id = who.account_id

    def run(work: Work) -> None:
        if keyword_id is None:
            raise NotFound("Record not found")
        filters.update_keyword(work, account_id, keyword_id, None, whole_word)

    try:
        await write(request, run)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return redirect("/filters?saved=1")


routes = [
    Route("/filters", index, methods=["GET"]),
    Route("/filters", create, methods=["POST"]),
    Route("/filters/{id}/delete", delete, methods=["POST"]),
    Route("/filters/{id}/keywords", add_keyword, methods=["POST"]),
    Route("/filters/keywords/{id}/delete", remove_keyword, methods=["POST"]),
    Route("/filters/keywords/{id}/whole_word", set_whole_word, methods=["POST"]),
]
