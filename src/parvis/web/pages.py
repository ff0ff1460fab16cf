"""The machinery every page shares: who is visiting (session cookie), in which language,
running use cases off the event loop, rendering a template with the security headers, and
reading a form after checking its CSRF token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
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
from parvis.web import i18n, security, service_messages

T = TypeVar("T")
SESSION_COOKIE = sessions.COOKIE
LANG_COOKIE = "parvis_lang"
TEMPLATES = Path(__file__).with_name("templates")
YEAR = 365 * 24 * 3600
# The language of the visitor being served (set by visitor() and visit(), read by
# error_message()): a request runs in its own task, so this never leaks across requests.
LOCALE: ContextVar[str] = ContextVar("parvis_web_locale", default=i18n.DEFAULT)


class ConstantGettext(Extension):
    """`_("text")` without arguments becomes its translation when the template is compiled:
    each environment speaks one language, so the page no longer calls gettext for it at every
    render (a timeline page had some 190 such calls). The translation is kept as markup, as
    new-style gettext returns it; a call with arguments, or `ngettext`, is left alone."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        gettext: Callable[[str], str] = getattr(self.environment, "constant_gettext", str)
        texts: list[Markup] = self.environment.globals.setdefault("_constant_texts", [])  # type: ignore[assignment]
        window: list[Token] = []
        previous: Token | None = None
        for token in stream:
            window.append(token)
            if len(window) < 4:
                continue
            name, lparen, string, rparen = window
            if (
                name.type == "name"
                and name.value == "_"
                and (previous is None or previous.type != "dot")
                and (lparen.type, string.type, rparen.type) == ("lparen", "string", "rparen")
            ):
                texts.append(Markup(gettext(string.value)) % {})
                line = name.lineno
                yield Token(line, "name", "_constant_texts")
                yield Token(line, "lbracket", "[")
                yield Token(line, "integer", len(texts) - 1)  # type: ignore[arg-type]  # as the lexer
                yield Token(line, "rbracket", "]")
                previous = rparen
                window = []
                continue
            previous = window.pop(0)
            yield previous
        yield from window


@cache
def environment(locale: str) -> Environment:
    """One Jinja environment per interface language, with its catalogue installed (new-style
    gettext: `_("%(n)s left", n=3)` formats and escapes; constant `_("text")` is translated
    once, when a template is compiled)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n", ConstantGettext],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no stat() per include
    )
    translations = i18n.translations(locale)
    env.extend(constant_gettext=translations.gettext)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        version=__version__,
        account_avatar=account_avatar,
        media_url=media_url,
        link_host=link_host,
    )
    return env


def link_host(url: str) -> str:
    """The host name a user-given link is shown by (a community note's sources), `www.`
    dropped: never the user part of the URL, which could pose as another site
    (https://trusted.example@other.example/ shows other.example)."""
    try:
        name = urlsplit(url).hostname or ""
    except ValueError:
        name = ""
    return name.removeprefix("www.") or url[:60]


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


def client_address(request: Request) -> str | None:
    """The visitor's network address as the server sees it: the TCP peer, or the address a
    trusted proxy gave in X-Forwarded-For (uvicorn's --proxy-headers and
    --forwarded-allow-ips decide whom to trust). Kept only at sign-up and sign-in, a few days
    (services/network_addresses.py)."""
    return request.client.host if request.client else None


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
        who = _identify_anonymous(request)
    else:
        who = await read(request, lambda work: _identify(work, request))
    LOCALE.set(who.locale)
    return who


def _identify_anonymous(request: Request) -> Visitor:
    chosen = request.cookies.get(LANG_COOKIE)
    accept = request.headers.get("accept-language")
    return Visitor(i18n.negotiate(chosen=chosen, accept_language=accept))


async def visit(request: Request, use_case: Callable[[Work, Visitor], T]) -> tuple[Visitor, T]:
    """Who is visiting and what the page shows, read in one unit of work (one thread hop)."""

    def run(work: Work) -> tuple[Visitor, T]:
        who = _identify(work, request)
        return who, use_case(work, who)

    who, shown = await read(request, run)
    LOCALE.set(who.locale)
    return who, shown


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
    if 400 <= code < 500 and request.headers.get("hx-boosted") == "true":
        # A form enhanced with hx-boost: htmx swaps only 2xx answers, and the page with its
        # error message must replace the form (without JavaScript the browser gets the 4xx).
        code = 200
    response = HTMLResponse(html, status_code=code, headers=security.HEADERS)
    response.headers["Content-Language"] = who.locale
    response.headers["Vary"] = "Cookie, Accept-Language, HX-Request, HX-Boosted"
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
    if not csrf_valid(request, data):
        await data.close()  # uploaded files' temporary copies
        raise CsrfRefused()
    return data


def csrf_valid(request: Request, data: FormData) -> bool:
    """Whether a submitted form carries this browser's CSRF token."""
    token = data.get(security.CSRF_FIELD)
    key = runtime(request).settings.signing_key()
    return security.csrf_ok(key, request, token if isinstance(token, str) else None)


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


def error_message(exc: DomainError, locale: str | None = None) -> str:
    """A domain error's message for a page: without the API's 'Validation failed: ' prefix,
    in `locale`, else in the language of the visitor this request identified."""
    chosen = locale or LOCALE.get()
    return service_messages.translate(exc.message, chosen, i18n.translations(chosen).gettext)


async def csrf_refused(request: Request, exc: Exception) -> Response:
    """The answer to a form without a valid CSRF token: nothing was done, say so."""
    return render(request, await visitor(request), "csrf.html", code=403)
