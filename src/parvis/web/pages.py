"""The machinery every page shares: who is visiting (session cookie), in which language,
running use cases off the event loop, rendering a template with the security headers, and
reading a form after checking its CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from parvis import __version__
from parvis.domain.errors import DomainError
from parvis.domain.models import Account, User
from parvis.jobs.runtime import Runtime
from parvis.services import sessions
from parvis.services.context import Work
from parvis.web import i18n, security

T = TypeVar("T")
SESSION_COOKIE = sessions.COOKIE
LANG_COOKIE = "parvis_lang"
TEMPLATES = Path(__file__).with_name("templates")
YEAR = 365 * 24 * 3600


@cache
def environment(locale: str) -> Environment:
    """One Jinja environment per interface language, with its catalogue installed (new-style
    gettext: `_("%(n)s left", n=3)` formats and escapes)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no stat() per include
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(version=__version__, account_avatar=account_avatar, media_url=media_url)
    return env


def media_url(key: str | None) -> str:
    return f"/media/{key}" if key else ""


def account_avatar(account: Account) -> str:
    return media_url(account.avatar_key) or "/static/avatar.png"


class CsrfRefused(Exception):
    """A state-changing form without a valid CSRF token (shown as a 403 page)."""


@dataclass(frozen=True)
class Visitor:
    """Who is looking at the page: signed in (account, user, session token) or not."""

    locale: str
    account: Account | None = None
    user: User | None = None
    token: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.account is not None

    @property
    def account_id(self) -> int | None:
        return self.account.id if self.account else None


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def read(request: Request, use_case: Callable[[Work], T]) -> T:
    return await anyio.to_thread.run_sync(runtime(request).read, use_case)


async def write(request: Request, use_case: Callable[[Work], T]) -> T:
    return await anyio.to_thread.run_sync(runtime(request).write, use_case)


def _identify(work: Work, request: Request) -> Visitor:
    token = request.cookies.get(SESSION_COOKIE)
    info = sessions.current(work, token) if token else None
    account = user = None
    if info is not None and info.account_id is not None:
        account = work.store.accounts.get(info.account_id)
        user = work.store.accounts.user(info.account_id)
    chosen = user.locale if user else request.cookies.get(LANG_COOKIE)
    locale = i18n.negotiate(chosen=chosen, accept_language=request.headers.get("accept-language"))
    if account is None:
        return Visitor(locale)
    return Visitor(locale, account, user, token)


async def visitor(request: Request) -> Visitor:
    if SESSION_COOKIE not in request.cookies:
        return _identify_anonymous(request)
    return await read(request, lambda work: _identify(work, request))


def _identify_anonymous(request: Request) -> Visitor:
    chosen = request.cookies.get(LANG_COOKIE)
    accept = request.headers.get("accept-language")
    return Visitor(i18n.negotiate(chosen=chosen, accept_language=accept))


async def visit(request: Request, use_case: Callable[[Work, Visitor], T]) -> tuple[Visitor, T]:
    """Who is visiting and what the page shows, read in one unit of work (one thread hop)."""

    def run(work: Work) -> tuple[Visitor, T]:
        who = _identify(work, request)
        return who, use_case(work, who)

    return await read(request, run)


def render(
    request: Request,
    who: Visitor,
    template: str,
    *,
    code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page (or, for htmx requests, the same template: templates pick a fragment with
    `partial`), with the security headers and this browser's CSRF token."""
    settings = runtime(request).settings
    browser, new_browser = security.browser_secret(request)
    csrf = security.csrf_token(settings.signing_key(), browser)
    html = (
        environment(who.locale)
        .get_template(template)
        .render(
            request=request,
            me=who.account,
            user=who.user,
            locale=who.locale,
            locales=i18n.LANGUAGE_NAMES,
            settings=settings,
            csrf_field=Markup('<input type="hidden" name="csrf" value="{}">').format(csrf),
            csrf=csrf,
            partial=request.headers.get("hx-request") == "true",
            ago=lambda moment: i18n.ago(moment, who.locale, datetime.now(UTC)),
            when=lambda moment: i18n.when(moment, who.locale),
            path=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=code, headers=security.HEADERS)
    response.headers["Content-Language"] = who.locale
    response.headers["Vary"] = "Cookie, Accept-Language, HX-Request"
    response.headers["Cache-Control"] = "no-store" if who.signed_in else "no-cache"
    if new_browser:
        response.set_cookie(
            security.CSRF_COOKIE,
            browser,
            max_age=YEAR,
            httponly=True,
            samesite="lax",
            secure=settings.scheme == "https",
        )
    return response


async def form(request: Request) -> FormData:
    """The submitted form, after its CSRF token was checked (CsrfRefused otherwise)."""
    data = await request.form(max_files=8, max_fields=200)
    token = data.get(security.CSRF_FIELD)
    key = runtime(request).settings.signing_key()
    if not security.csrf_ok(key, request, token if isinstance(token, str) else None):
        raise CsrfRefused()
    return data


def text(data: FormData, name: str, *, limit: int = 10_000) -> str:
    """A text field of a form ('' when absent; NUL removed, length capped)."""
    value = data.get(name)
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def back(request: Request, fallback: str = "/") -> str:
    """Where to go after a form: its `next` field when it is a local path."""
    target = request.query_params.get("next") or fallback
    return target if target.startswith("/") and not target.startswith("//") else fallback


def set_session(response: Response, request: Request, token: str | None) -> None:
    secure = runtime(request).settings.scheme == "https"
    if token is None:
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=secure)
        return
    response.set_cookie(
        SESSION_COOKIE, token, max_age=YEAR, httponly=True, samesite="lax", secure=secure
    )


def error_message(exc: DomainError) -> str:
    """A domain error's message without the API's 'Validation failed: ' prefix."""
    return str(exc).removeprefix("Validation failed: ")


async def csrf_refused(request: Request, exc: Exception) -> Response:
    """The answer to a form without a valid CSRF token: nothing was done, say so."""
    return render(request, await visitor(request), "csrf.html", code=403)
