"""OAuth 2 through the real HTTP interface: the authorization-code flow with PKCE via the HTML
sign-in and consent pages, the password and client_credentials grants, revocation, scope
enforcement, and secrets stored only as hashes."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.storage.tables import oauth_apps, oauth_codes, oauth_tokens
from tests.builders import make_user

PASSWORD = "correct horse battery"  # what tests.builders.make_user registers with
CALLBACK = "https://client.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"


# --- helpers ----------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """The forms of a page: action, method, fields (hidden and text inputs) and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": a.get("method", "get"),
                    "fields": {},
                    "inputs": [],
                    "buttons": [],
                }
            )
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append((a.get("type", "text"), a.get("name", "")))
            if a.get("type") == "hidden":
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))


def only_form(html: str) -> dict[str, Any]:
    parser = FormParser()
    parser.feed(html)
    assert len(parser.forms) == 1, html
    return parser.forms[0]


def make_app(
    client: TestClient, scopes: str = "read write follow", redirect_uris: str = f"{CALLBACK}\n{OOB}"
) -> dict[str, Any]:
    r = client.post(
        "/api/v1/apps",
        data={
            "client_name": "Test Client",
            "redirect_uris": redirect_uris,
            "scopes": scopes,
            "website": "https://client.example",
        },
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize(
    client: TestClient,
    app: dict[str, Any],
    login: str,
    *,
    scope: str = "read write",
    redirect_uri: str = CALLBACK,
    challenge: str | None = None,
    method: str = "S256",
    decision: str = "allow",
    password: str = PASSWORD,
) -> Any:
    """Walk the sign-in and consent pages as a browser would; returns the last response."""
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": "st-42",
    }
    if challenge is not None:
        query |= {"code_challenge": challenge, "code_challenge_method": method}
    page = client.get("/oauth/authorize", params=query)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    signin = only_form(page.text)
    assert signin["method"] == "post" and signin["action"] == "/oauth/authorize"
    assert ("text", "login") in signin["inputs"] and ("password", "password") in signin["inputs"]

    consent = client.post(
        "/oauth/authorize", data={**signin["fields"], "login": login, "password": password}
    )
    if consent.status_code != 200:
        return consent
    form = only_form(consent.text)
    assert password not in consent.text  # the password is never sent back in the page
    assert "Test Client" in consent.text
    for s in scope.split():
        assert f"<code>{s}</code>" in consent.text
    assert ("decision", "allow") in form["buttons"] and ("decision", "deny") in form["buttons"]
    return client.post(
        "/oauth/authorize", data={**form["fields"], "decision": decision}, follow_redirects=False
    )


def code_from(response: Any) -> str:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["st-42"]
    return query["code"][0]


def exchange(
    client: TestClient,
    app: dict[str, Any],
    code: str,
    *,
    verifier: str | None = None,
    redirect_uri: str = CALLBACK,
) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token", data=data)


def password_token(
    client: TestClient, app: dict[str, Any], login: str, scope: str | None = None
) -> Any:
    data = {
        "grant_type": "password",
        "username": login,
        "password": PASSWORD,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    if scope is not None:
        data["scope"] = scope
    return client.post("/oauth/token", data=data)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def oauth_error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code, body
    assert body.get("error_description")


# --- authorization code + PKCE ----------------------------------------------------------------


def test_authorization_code_flow_with_pkce(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    verifier, challenge = pkce()
    code = code_from(authorize(client, app, user.username, challenge=challenge))

    r = exchange(client, app, code, verifier=verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write"
    assert isinstance(body["created_at"], int)
    me = client.get("/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == user.id

    oauth_error(exchange(client, app, code, verifier=verifier), 400, "invalid_grant")  # once only


def test_sign_in_by_email_address_too(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    verifier, challenge = pkce()
    code = code_from(authorize(client, app, f"{user.username}@example.org", challenge=challenge))
    assert exchange(client, app, code, verifier=verifier).status_code == 200


def test_wrong_or_missing_verifier_is_invalid_grant(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    verifier, challenge = pkce()
    for wrong in (
        pkce()[0],
        verifier[:-1] + ("A" if verifier[-1] != "A" else "B"),
        None,
        challenge,
    ):
        code = code_from(authorize(client, app, user.username, challenge=challenge))
        oauth_error(exchange(client, app, code, verifier=wrong), 400, "invalid_grant")


def test_plain_pkce(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    verifier = secrets.token_urlsafe(40)
    code = code_from(authorize(client, app, user.username, challenge=verifier, method="plain"))
    oauth_error(exchange(client, app, code, verifier=verifier + "x"), 400, "invalid_grant")
    code = code_from(authorize(client, app, user.username, challenge=verifier, method="plain"))
    assert exchange(client, app, code, verifier=verifier).status_code == 200


def test_non_ascii_code_challenge_is_refused_cleanly(client: TestClient) -> None:
    """A code_challenge outside RFC 7636's alphabet is a client error, never a server error."""
    lenient = TestClient(client.app, base_url="https://parvis.test", raise_server_exceptions=False)
    user = make_user(client)
    app = make_app(client)
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "read",
        "code_challenge": "é" * 43,
        "code_challenge_method": "S256",
        "login": user.username,
        "password": PASSWORD,
        "decision": "allow",
    }
    r = lenient.post("/oauth/authorize", data=query, follow_redirects=False)
    assert r.status_code < 500, r.text
    if r.status_code == 302:  # the code was issued: exchanging it must fail cleanly
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        r = exchange(lenient, app, code, verifier=secrets.token_urlsafe(40))
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_grant"


def test_code_reuse_and_unknown_code(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    code = code_from(authorize(client, app, user.username))
    assert exchange(client, app, code).status_code == 200
    oauth_error(exchange(client, app, code), 400, "invalid_grant")
    oauth_error(exchange(client, app, secrets.token_urlsafe(32)), 400, "invalid_grant")


def test_redirect_uri_mismatch(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    code = code_from(authorize(client, app, user.username))
    oauth_error(exchange(client, app, code, redirect_uri=OOB), 400, "invalid_grant")

    page = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": "https://evil.example/steal",
            "scope": "read",
        },
    )
    assert page.status_code == 400
    assert "redirect" in page.text and "login" not in page.text  # no sign-in form offered


def test_code_from_another_app_is_refused(client: TestClient) -> None:
    user = make_user(client)
    app, other = make_app(client), make_app(client)
    code = code_from(authorize(client, app, user.username))
    oauth_error(exchange(client, other, code), 400, "invalid_grant")


def test_code_expires(client: TestClient, parvis: Parvis) -> None:
    user = make_user(client)
    app = make_app(client)
    start = datetime.now(UTC)
    parvis.runtime.clock = lambda: start
    code = code_from(authorize(client, app, user.username))
    parvis.runtime.clock = lambda: start + timedelta(minutes=11)
    oauth_error(exchange(client, app, code), 400, "invalid_grant")


def consent_fields(client: TestClient, app: dict[str, Any], login: str) -> dict[str, str]:
    """The hidden fields of the consent form, after signing in."""
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "read",
        "state": "st-42",
    }
    signin = only_form(client.get("/oauth/authorize", params=query).text)
    consent = client.post(
        "/oauth/authorize", data={**signin["fields"], "login": login, "password": PASSWORD}
    )
    assert consent.status_code == 200, consent.text
    return dict(only_form(consent.text)["fields"])


def is_sign_in_page(r: Any) -> bool:
    return r.status_code in (200, 401) and ("text", "login") in only_form(r.text)["inputs"]


def test_consent_cannot_be_forged_replayed_elsewhere_or_used_late(
    client: TestClient, parvis: Parvis
) -> None:
    """What the consent form carries proves the sign-in: altered, moved to another app or
    submitted too late, it only leads back to the sign-in form."""
    user, victim = make_user(client), make_user(client)
    app, other = make_app(client), make_app(client)
    fields = consent_fields(client, app, user.username)
    carried = {
        k: v
        for k, v in fields.items()
        if k not in ("client_id", "redirect_uri", "scope", "state", "response_type")
    }
    assert carried, fields  # something proves the sign-in...
    assert not any(PASSWORD in v for v in carried.values())  # ...and it is not the password

    def submit(data: dict[str, str]) -> Any:
        return client.post(
            "/oauth/authorize", data={**data, "decision": "allow"}, follow_redirects=False
        )

    for key, value in carried.items():
        forged = {**fields, key: value.replace(user.id, victim.id)}
        if forged != fields:
            assert is_sign_in_page(submit(forged)), key
        assert is_sign_in_page(
            submit({**fields, key: value[:-1] + ("0" if value[-1] != "0" else "1")})
        ), key
    assert is_sign_in_page(submit({**fields, "client_id": other["client_id"]}))

    start = datetime.now(UTC)
    parvis.runtime.clock = lambda: start + timedelta(minutes=30)
    assert is_sign_in_page(submit(fields))
    parvis.runtime.clock = lambda: start
    code = code_from(submit(fields))
    token = exchange(client, app, code).json()["access_token"]
    me = client.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).json()
    assert me["id"] == user.id


def test_deny_redirects_with_access_denied(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    r = authorize(client, app, user.username, decision="deny")
    assert r.status_code == 302
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query == {"error": ["access_denied"], "state": ["st-42"]}


def test_out_of_band_flow_shows_the_code(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    verifier, challenge = pkce()
    page = authorize(client, app, user.username, redirect_uri=OOB, challenge=challenge)
    assert page.status_code == 200
    start = page.text.index('<code id="code">') + len('<code id="code">')
    code = page.text[start : page.text.index("</code>", start)]
    r = exchange(client, app, code, verifier=verifier, redirect_uri=OOB)
    assert r.status_code == 200, r.text


def test_wrong_password_on_the_sign_in_page(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    r = authorize(client, app, user.username, password="not my password")
    assert r.status_code == 401
    assert 'role="alert"' in r.text
    form = only_form(r.text)  # the sign-in form is offered again, without the password
    assert "password" not in form["fields"]


def test_unknown_client_on_the_authorize_page(client: TestClient) -> None:
    page = client.get(
        "/oauth/authorize",
        params={"response_type": "code", "client_id": "nope", "redirect_uri": OOB},
    )
    assert page.status_code == 400
    page = client.get(
        "/oauth/authorize",
        params={"response_type": "token", "client_id": "nope", "redirect_uri": OOB},
    )
    assert page.status_code == 400


# --- other grants -----------------------------------------------------------------------------


def test_password_grant(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    r = password_token(client, app, user.username, "read")
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "read"
    me = client.get("/api/v1/accounts/verify_credentials", headers=bearer(r.json()["access_token"]))
    assert me.json()["id"] == user.id
    by_default = password_token(client, app, f"{user.username}@example.org")
    assert by_default.json()["scope"] == "follow read write"  # the app's scopes

    wrong = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": user.username,
            "password": "nope nope nope",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    oauth_error(wrong, 400, "invalid_grant")
    oauth_error(
        password_token(client, {**app, "client_secret": "bad"}, user.username),
        401,
        "invalid_client",
    )
    oauth_error(password_token(client, app, user.username, "admin:read"), 400, "invalid_scope")
    oauth_error(
        client.post(
            "/oauth/token",
            data={
                "grant_type": "implicit",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        ),
        400,
        "unsupported_grant_type",
    )


def test_client_credentials(client: TestClient) -> None:
    app = make_app(client)
    r = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "scope": "read",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    verified = client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    assert verified.status_code == 200 and verified.json()["name"] == "Test Client"
    user_only = client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert 400 <= user_only.status_code < 500 and user_only.json()["error"]
    # Public reads work with an app token, as anonymous ones do.
    assert client.get("/api/v1/timelines/public", headers=bearer(token)).status_code == 200


def test_revoke_then_unauthorized(client: TestClient) -> None:
    user = make_user(client)
    app, other = make_app(client), make_app(client)
    token = password_token(client, app, user.username).json()["access_token"]

    def me() -> int:
        return client.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).status_code

    assert me() == 200
    foreign = client.post(
        "/oauth/revoke",
        data={
            "client_id": other["client_id"],
            "client_secret": other["client_secret"],
            "token": token,
        },
    )
    assert foreign.status_code == 200  # RFC 7009: no error, but nothing revoked
    assert me() == 200
    r = client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert r.status_code == 200 and r.json() == {}
    assert me() == 401
    r = client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert r.json()["error"] and "invalid_token" in r.headers["www-authenticate"]
    unknown = client.post(
        "/oauth/revoke",
        data={
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "token": "never-issued",
        },
    )
    assert unknown.status_code == 200


# --- scopes -----------------------------------------------------------------------------------


def test_scope_enforcement(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client)
    read = password_token(client, app, user.username, "read").json()["access_token"]
    write_statuses = password_token(client, app, user.username, "write:statuses").json()[
        "access_token"
    ]

    assert client.get("/api/v1/timelines/home", headers=bearer(read)).status_code == 200
    denied = client.post("/api/v1/statuses", json={"status": "nope"}, headers=bearer(read))
    assert denied.status_code == 403
    assert "write:statuses" in denied.json()["error"]

    posted = client.post("/api/v1/statuses", json={"status": "yes"}, headers=bearer(write_statuses))
    assert posted.status_code == 200, posted.text
    home = client.get("/api/v1/timelines/home", headers=bearer(write_statuses))
    assert home.status_code == 403 and "read:statuses" in home.json()["error"]
    follow = client.post(f"/api/v1/accounts/{user.id}/follow", headers=bearer(write_statuses))
    assert follow.status_code == 403
    assert client.get(f"/api/v1/accounts/{user.id}/statuses").json()[0]["id"] == posted.json()["id"]


def test_unknown_scope_at_app_creation(client: TestClient) -> None:
    for scopes in ("read nonsense", "read:everything", "admin"):
        r = client.post(
            "/api/v1/apps", data={"client_name": "x", "redirect_uris": OOB, "scopes": scopes}
        )
        assert r.status_code == 422, (scopes, r.text)
        assert "scope" in r.json()["error"]
    for uris in ("javascript:alert(1)", "http://", "", "data:text/html,hi"):
        r = client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": uris})
        assert r.status_code == 422, (uris, r.text)


# --- secrets at rest --------------------------------------------------------------------------


def test_secrets_are_stored_hashed(client: TestClient, parvis: Parvis) -> None:
    user = make_user(client)
    app = make_app(client)
    _verifier, challenge = pkce()
    pending_code = code_from(authorize(client, app, user.username, challenge=challenge))
    used_code = code_from(authorize(client, app, user.username))
    # make_user issued two tokens (an app token to sign up, then the user's); two more here.
    tokens = [
        exchange(client, app, used_code).json()["access_token"],
        password_token(client, app, user.username).json()["access_token"],
        user.token,
    ]
    raw = [app["client_secret"], pending_code, used_code, *tokens]

    with parvis.runtime.stores.read() as store:
        rows = [
            dict(r)
            for t in (oauth_apps, oauth_codes, oauth_tokens)
            for r in store.conn.execute(select(t)).mappings()
        ]
        token_rows = store.conn.execute(select(oauth_tokens)).mappings().all()
        code_rows = store.conn.execute(select(oauth_codes)).mappings().all()
        for token in tokens:  # what the store looks tokens up by is not the token itself
            assert store.oauth.token(token) is None
    assert len(token_rows) == 4 and len(code_rows) == 1  # the exchanged code is gone
    stored = " ".join(str(v) for row in rows for v in row.values())
    for secret in raw:
        assert secret not in stored
    # And every issued token still works: what is stored is enough to check them.
    for token in tokens:
        assert (
            client.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).status_code
            == 200
        )


# --- random tokens ------------------------------------------------------------------------------

TOKEN_CHARS = string.ascii_letters + string.digits + "-_.~+/="


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=80))
def test_random_tokens_never_authenticate(client: TestClient, token: str) -> None:
    real = getattr(client, "_real_user", None)
    if real is None:  # one real user per test run, so there are real tokens to collide with
        real = client._real_user = make_user(client)  # type: ignore[attr-defined]
    if token == real.token:
        return
    r = client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert r.status_code == 401 and r.json()["error"]
    r = client.get("/api/v1/accounts/verify_credentials", params={"access_token": token})
    assert r.status_code == 401
    r = client.post("/api/v1/statuses", json={"status": "x"}, headers=bearer(token))
    assert r.status_code == 401


def test_tampered_real_token_is_refused(client: TestClient) -> None:
    user = make_user(client)
    flipped = user.token[:-1] + ("A" if user.token[-1] != "A" else "B")
    for token in (
        flipped,
        user.token[:-1],
        user.token + "x",
        user.token.upper(),
        user.token.lower(),
    ):
        if token == user.token:
            continue
        r = client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
        assert r.status_code == 401, token
    assert (
        client.get("/api/v1/accounts/verify_credentials", headers=user.headers).status_code == 200
    )
