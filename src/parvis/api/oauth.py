"""OAuth 2 the Mastodon way: /api/v1/apps, /oauth/authorize (a real sign-in and consent page),
/oauth/token (authorization_code with PKCE, client_credentials, password) and /oauth/revoke."""

from __future__ import annotations

import hashlib
import hmac
import html
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import HTMLResponse, RedirectResponse, Response

from parvis.api import auth, schemas
from parvis.api.auth import TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, validate
from parvis.domain.errors import DomainError, Invalid, Unauthorized
from parvis.services import accounts, oauth, sessions
from parvis.services.context import Work

router = APIRouter(tags=["oauth"], responses=ERRORS)


class AppForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    client_name: str = Field(..., max_length=1000)
    redirect_uris: str | list[str] = Field(...)
    scopes: str | None = Field(None, max_length=2000)
    website: str | None = Field(None, max_length=4000)


class TokenForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    grant_type: str = Field(..., max_length=64)
    client_id: str | None = Field(None, max_length=256)
    client_secret: str | None = Field(None, max_length=256)
    redirect_uri: str | None = Field(None, max_length=4000)
    scope: str | None = Field(None, max_length=2000)
    code: str | None = Field(None, max_length=512)
    code_verifier: str | None = Field(None, max_length=512)
    username: str | None = Field(None, max_length=512)
    password: str | None = Field(None, max_length=1024)


class RevokeForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    client_id: str = Field(..., max_length=256)
    client_secret: str = Field(..., max_length=256)
    token: str = Field(..., max_length=512)


def _app_json(app: oauth.App, secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": sorted(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "client_id": app.client_id,
    }
    out["vapid_key"] = ""  # Web Push is not offered yet (Mastodon documents it as deprecated)
    if secret is not None:
        out["client_secret"] = secret
        out["client_secret_expires_at"] = 0
    return out


@router.post("/api/v1/apps", response_model=schemas.Application, openapi_extra=body_schema(AppForm))
async def create_app(request: Request, rt: RuntimeDep) -> Response:
    form = validate(AppForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        new = oauth.create_app(
            work, form.client_name, form.redirect_uris, form.scopes, form.website
        )
        return _app_json(new.app, new.client_secret)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/apps/verify_credentials", response_model=schemas.Application)
def verify_app(rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        info = _any_token(work, token)
        row = work.store.oauth.app(info.app_id) if info.app_id else None
        if row is None:
            raise ApiError(401, "The access token is invalid")
        return {
            "id": str(row["id"]),
            "name": row["name"],
            "website": row["website"],
            "scopes": row["scopes"].split(),
            "redirect_uri": row["redirect_uris"],
            "redirect_uris": row["redirect_uris"].split("\n"),
            "vapid_key": "",
        }

    return json_response(rt.read(run))


def _any_token(work: Work, token: auth.Token) -> oauth.TokenInfo:
    if token.value is None:
        raise ApiError(401, "The access token is invalid")
    return oauth.verify_token(work, token.value)


def _oauth_error(exc: DomainError) -> Response:
    message = exc.message
    code, _, description = message.partition(": ")
    if code not in (
        "invalid_grant",
        "invalid_scope",
        "invalid_request",
        "invalid_client",
        "unsupported_grant_type",
    ):
        code, description = (
            ("invalid_client" if isinstance(exc, Unauthorized) else "invalid_request"),
            message,
        )
    status = 401 if code == "invalid_client" else 400
    return json_response({"error": code, "error_description": description}, status=status)


@router.post("/oauth/token", response_model=schemas.Token, openapi_extra=body_schema(TokenForm))
async def token(request: Request, rt: RuntimeDep) -> Response:
    form = validate(TokenForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        app = oauth.app_for_client(work, form.client_id or "", form.client_secret or "")
        if form.grant_type == "authorization_code":
            if not form.code or not form.redirect_uri:
                raise Invalid("invalid_request: code and redirect_uri are required")
            issued = oauth.exchange_code(
                work, app, form.code, form.redirect_uri, form.code_verifier
            )
        elif form.grant_type == "client_credentials":
            issued = oauth.issue_token(work, app.id, None, oauth.requested_scopes(app, form.scope))
        elif form.grant_type == "password":
            if not form.username or not form.password:
                raise Invalid("invalid_request: username and password are required")
            try:
                user = accounts.authenticate(work, form.username, form.password)
            except Unauthorized:
                raise Invalid("invalid_grant: the e-mail address or password is wrong") from None
            issued = oauth.issue_token(
                work, app.id, user.account_id, oauth.requested_scopes(app, form.scope)
            )
        else:
            raise Invalid(
                "unsupported_grant_type: use authorization_code, client_credentials or password"
            )
        return {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "scope": " ".join(sorted(issued.scopes)),
            "created_at": issued.created_at,
        }

    try:
        return json_response(await in_thread(rt.write, run))
    except DomainError as exc:
        return _oauth_error(exc)


@router.post("/oauth/revoke", response_model=schemas.Empty, openapi_extra=body_schema(RevokeForm))
async def revoke(request: Request, rt: RuntimeDep) -> Response:
    form = validate(RevokeForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        app = oauth.app_for_client(work, form.client_id, form.client_secret)
        oauth.revoke(work, app, form.token)
        return {}

    try:
        return json_response(await in_thread(rt.write, run))
    except DomainError as exc:
        return _oauth_error(exc)


# -- the authorization page -------------------------------------------------------------------

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;
color:#1d2430;background:#f6f4f1}} main{{background:#fff;border-radius:12px;padding:1.5rem;
box-shadow:0 1px 3px #0002}} label{{display:block;margin:.8rem 0 .2rem;font-weight:600}}
input[type=text],input[type=password]{{width:100%;padding:.6rem;font-size:1rem;box-sizing:border-box;
border:1px solid #8a94a3;border-radius:8px}} button{{margin-top:1rem;padding:.7rem 1.2rem;
font-size:1rem;border-radius:8px;border:0;background:#2b4c7e;color:#fff;cursor:pointer}}
button.secondary{{background:#e8e4de;color:#1d2430}} .error{{color:#a11;font-weight:600}}
code{{word-break:break-all}} ul{{padding-left:1.2rem}}</style></head><body><main>{body}</main>
</body></html>"""

TEXT = {
    "en": {
        "title": "Authorize",
        "signin": "Sign in to {server}",
        "login": "E-mail or username",
        "password": "Password",
        "wants": "<strong>{app}</strong> would like to use your account "
        "<strong>@{user}</strong> with these permissions:",
        "allow": "Authorize",
        "deny": "Deny",
        "code": "Copy this code into the application:",
        "submit": "Sign in",
    },
    "fr": {
        "title": "Autoriser",
        "signin": "Se connecter à {server}",
        "login": "Adresse e-mail ou nom d’utilisateur",
        "password": "Mot de passe",
        "wants": "<strong>{app}</strong> souhaite utiliser votre compte <strong>@{user}</strong> "
        "avec ces autorisations :",
        "allow": "Autoriser",
        "deny": "Refuser",
        "code": "Copiez ce code dans l’application :",
        "submit": "Se connecter",
    },
}


def _lang(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    return "fr" if header.lower().startswith("fr") else "en"


def _page(lang: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        PAGE.format(lang=lang, title=TEXT[lang]["title"], body=body),
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def _hidden(params: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )


TICKET_SECONDS = 600


def _ticket(key: bytes, account_id: int, client_id: str, now: float) -> str:
    """A signed, short-lived proof that this person signed in, carried by the consent form
    (so the password is never sent twice nor kept in the page)."""
    payload = f"{account_id}.{int(now) + TICKET_SECONDS}"
    mac = hmac.new(key, f"{payload}.{client_id}".encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def _check_ticket(key: bytes, ticket: str, client_id: str, now: float) -> int | None:
    parts = ticket.split(".")
    if not ticket.isascii() or len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    payload = f"{parts[0]}.{parts[1]}"
    mac = hmac.new(key, f"{payload}.{client_id}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, parts[2]) or int(parts[1]) < now:
        return None
    return int(parts[0])


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


@router.get("/oauth/authorize", include_in_schema=False)
@router.post("/oauth/authorize", include_in_schema=False)
async def authorize(request: Request, rt: RuntimeDep) -> Response:
    data = await read_params(request)
    lang = data.get("lang") if data.get("lang") in TEXT else _lang(request)
    t = TEXT[str(lang)]
    params = {k: str(data[k]) for k in AUTH_KEYS if isinstance(data.get(k), str)}
    if params.get("response_type", "code") != "code":
        return _page(str(lang), '<p class="error">response_type must be "code".</p>', 400)

    def run(work: Work) -> Response:
        try:
            app = oauth.app_for_client(work, params.get("client_id", ""))
            redirect = params.get("redirect_uri", "")
            oauth.check_redirect(app, redirect)
            wanted = oauth.requested_scopes(app, params.get("scope"))
        except DomainError as exc:
            return _page(str(lang), f'<p class="error">{html.escape(exc.message)}</p>', 400)
        error = ""
        user_id = _check_ticket(
            work.settings.signing_key(),
            str(data.get("ticket", "")),
            app.client_id,
            work.now().timestamp(),
        )
        if user_id is None and request.method == "GET":
            # Already signed in to the web app in this browser: straight to the consent.
            session = sessions.current(work, request.cookies.get(sessions.COOKIE))
            user_id = session.account_id if session else None
        if user_id is None and request.method == "POST" and data.get("login") is not None:
            try:
                user = accounts.authenticate(
                    work, str(data.get("login", "")), str(data.get("password", ""))
                )
                user_id = user.account_id
            except DomainError as exc:
                error = f'<p class="error" role="alert">{html.escape(exc.message)}</p>'
        if user_id is None:
            body = (
                f"<h1>{html.escape(t['signin'].format(server=work.settings.domain))}</h1>{error}"
                f'<form method="post" action="/oauth/authorize">{_hidden(params)}'
                f'<label for="login">{t["login"]}</label>'
                '<input type="text" id="login" name="login" autocomplete="username" required>'
                f'<label for="password">{t["password"]}</label>'
                '<input type="password" id="password" name="password" '
                'autocomplete="current-password" required>'
                f'<button type="submit">{t["submit"]}</button></form>'
            )
            return _page(str(lang), body, 401 if error else 200)
        decision = data.get("decision")
        if decision not in ("allow", "deny"):
            account = work.store.accounts.get(user_id)
            assert account is not None
            items = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in sorted(wanted))
            ticket = _ticket(
                work.settings.signing_key(), user_id, app.client_id, work.now().timestamp()
            )
            keep = {**params, "ticket": ticket}
            body = (
                f"<p>{t['wants'].format(app=html.escape(app.name), user=account.username)}</p>"
                f'<ul>{items}</ul><form method="post" action="/oauth/authorize">'
                f'{_hidden(keep)}<button name="decision" value="allow">{t["allow"]}</button> '
                f'<button class="secondary" name="decision" value="deny">{t["deny"]}</button>'
                "</form>"
            )
            return _page(str(lang), body)
        state = {"state": params["state"]} if "state" in params else {}
        if decision == "deny":
            if redirect == oauth.OOB:
                return _page(str(lang), '<p class="error">access_denied</p>', 403)
            query = urlencode({"error": "access_denied", **state})
            return RedirectResponse(f"{redirect}{'&' if '?' in redirect else '?'}{query}", 302)
        code = oauth.issue_code(
            work,
            app,
            user_id,
            wanted,
            redirect,
            params.get("code_challenge"),
            params.get("code_challenge_method"),
        )
        if redirect == oauth.OOB:
            return _page(str(lang), f'<p>{t["code"]}</p><p><code id="code">{code}</code></p>')
        query = urlencode({"code": code, **state})
        return RedirectResponse(f"{redirect}{'&' if '?' in redirect else '?'}{query}", 302)

    return await in_thread(rt.write, run)
