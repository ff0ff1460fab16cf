"""The OAuth consent page that third-party apps send people to (`/oauth/authorize`): sign in
(skipped when this browser is already signed in to the web app), then allow or deny the app's
request; the code goes back to the app by redirect, or is shown to copy (out-of-band apps).

Its forms carry the web app's CSRF token like every other form; a form without a valid one
proves nothing and leads back to the sign-in form (where a person just signs in again), so
nothing is issued. The consent form carries a signed, short-lived ticket instead of the
password, which is never sent twice nor kept in the page."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from parvis.domain.errors import DomainError
from parvis.services import accounts, network_addresses, oauth
from parvis.services.context import Work
from parvis.web import i18n
from parvis.web.pages import (
    client_address,
    csrf_valid,
    error_message,
    render,
    visitor,
    write,
)

TICKET_SECONDS = 600
AUTH_KEYS = (
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "response_type",
    "lang",
)


def ticket(key: bytes, account_id: int, client_id: str, now: float) -> str:
    """A signed, short-lived proof that this person signed in, carried by the consent form."""
    payload = f"{account_id}.{int(now) + TICKET_SECONDS}"
    mac = hmac.new(key, f"{payload}.{client_id}".encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def check_ticket(key: bytes, value: str, client_id: str, now: float) -> int | None:
    """The account a ticket was issued to, or None when it is forged, moved or expired."""
    parts = value.split(".")
    if not value.isascii() or len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    payload = f"{parts[0]}.{parts[1]}"
    mac = hmac.new(key, f"{payload}.{client_id}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, parts[2]) or int(parts[1]) < now:
        return None
    return int(parts[0])


@dataclass
class Step:
    """What the page shows: `error`, `signin`, `consent` or `code`, or a redirect to the app."""

    name: str
    code: int = 200
    context: dict[str, Any] = field(default_factory=dict)
    location: str | None = None


def _back_to_app(redirect_uri: str, query: dict[str, str]) -> Step:
    joiner = "&" if "?" in redirect_uri else "?"
    return Step("redirect", 302, location=f"{redirect_uri}{joiner}{urlencode(query)}")


def _decide(
    work: Work,
    params: dict[str, str],
    form: dict[str, str],
    *,
    session_account: int | None,
    genuine: bool,
    locale: str,
    address: str | None = None,
) -> Step:
    """The page's logic, in one unit of work: check the app, who is signing in, the answer."""
    try:
        app = oauth.app_for_client(work, params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        oauth.check_redirect(app, redirect_uri)
        wanted = oauth.requested_scopes(app, params.get("scope"))
    except DomainError as exc:
        return Step("error", 400, {"error": error_message(exc, locale)})
    key, now = work.settings.signing_key(), work.now().timestamp()
    user_id = session_account
    failure: str | None = None
    if form.get("method") == "POST":
        user_id = None
        if not genuine:
            failure = "expired"
        elif "ticket" in form:
            user_id = check_ticket(key, form["ticket"], app.client_id, now)
        elif "login" in form:
            try:
                user = accounts.authenticate(work, form["login"], form.get("password", ""))
                user_id = user.account_id
                network_addresses.record(work, user_id, "sign_in", address)
            except DomainError as exc:
                failure = error_message(exc, locale)
    if user_id is None:
        context: dict[str, Any] = {"error": failure, "server": work.settings.domain}
        return Step("signin", 401 if failure else 200, context)
    decision = form.get("decision") if genuine else None
    if decision not in ("allow", "deny"):
        account = work.store.accounts.get(user_id)
        if account is None:
            return Step("signin", 200, {"error": None, "server": work.settings.domain})
        context = {
            "app": app,
            "account": account,
            "scopes": sorted(wanted),
            "ticket": ticket(key, user_id, app.client_id, now),
        }
        return Step("consent", 200, context)
    state = {"state": params["state"]} if "state" in params else {}
    if decision == "deny":
        if redirect_uri == oauth.OOB:
            return Step("denied", 403)
        return _back_to_app(redirect_uri, {"error": "access_denied", **state})
    code = oauth.issue_code(
        work,
        app,
        user_id,
        wanted,
        redirect_uri,
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    )
    if redirect_uri == oauth.OOB:
        return Step("code", 200, {"oob_code": code})
    return _back_to_app(redirect_uri, {"code": code, **state})


def _strings(values: Any, keys: tuple[str, ...], limit: int) -> dict[str, str]:
    return {k: v.replace("\x00", "")[:limit] for k in keys if isinstance(v := values.get(k), str)}


async def authorize(request: Request) -> Response:
    who = await visitor(request)
    submitted: dict[str, str] = {"method": request.method}
    genuine = False
    source: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        data = await request.form(max_files=0, max_fields=50)
        genuine = csrf_valid(request, data)
        source |= {k: v for k, v in data.items() if isinstance(v, str)}
        submitted |= _strings(data, ("login", "password", "ticket", "decision"), 1024)
    params = _strings(source, AUTH_KEYS, 4000)
    who = replace(who, locale=i18n.supported(params.get("lang")) or who.locale)
    if params.get("response_type", "code") != "code":
        step = Step("error", 400, {"error": None, "bad_response_type": True})
    else:
        step = await write(
            request,
            lambda work: _decide(
                work,
                params,
                submitted,
                session_account=who.account_id,
                genuine=genuine,
                locale=who.locale,
                address=client_address(request),
            ),
        )
    if step.location is not None:
        return RedirectResponse(step.location, status_code=step.code)
    languages = {
        code: f"/oauth/authorize?{urlencode({**params, 'lang': code})}" for code in i18n.LOCALES
    }
    response = render(
        request,
        who,
        "authorize.html",
        code=step.code,
        step=step.name,
        fields=params,
        languages=languages,
        **step.context,
    )
    response.headers["Cache-Control"] = "no-store"  # tickets and codes are never kept
    return response


routes = [Route("/oauth/authorize", authorize, methods=["GET", "POST"])]
