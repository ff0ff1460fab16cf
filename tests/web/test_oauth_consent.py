"""The OAuth consent page used by third-party apps, a page of the web app: from a browser already
signed in, no second sign-in, straight to the consent; a browser without a session is asked to
sign in; a revoked session counts as none. Its forms need the web app's CSRF token; the page
speaks the visitor's language and carries the web app's layout and security headers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.storage.tables import oauth_codes
from parvis.web import security
from tests.api.test_oauth import CALLBACK, PASSWORD, exchange, make_app, only_form, pkce
from tests.builders import make_user
from tests.web.browser import browser, sign_up, submit
from tests.web.test_security import problems


def _authorize_query(app: dict[str, str], challenge: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "read write",
        "state": "st-7",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def test_a_signed_in_browser_goes_straight_to_the_consent(client: TestClient) -> None:
    web = browser(client)
    sign_up(web, "consenting")
    app = make_app(client)
    verifier, challenge = pkce()

    page = web.get("/oauth/authorize", params=_authorize_query(app, challenge))
    assert page.status_code == 200, page.text
    form = only_form(page.text)
    assert ("decision", "allow") in form["buttons"]  # the consent, not the sign-in form
    assert "@consenting" in page.text and "Test Client" in page.text
    answer = web.post(
        "/oauth/authorize", data={**form["fields"], "decision": "allow"}, follow_redirects=False
    )
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["st-7"]
    token = exchange(client, app, query["code"][0], verifier=verifier)
    assert token.status_code == 200, token.text
    me = client.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert me.json()["username"] == "consenting"


def test_without_a_live_session_the_page_asks_to_sign_in(client: TestClient) -> None:
    app = make_app(client)
    _, challenge = pkce()
    stranger = browser(client)
    page = stranger.get("/oauth/authorize", params=_authorize_query(app, challenge))
    assert ("password", "password") in only_form(page.text)["inputs"]

    web = browser(client)
    sign_up(web, "leaving")
    token = web.cookies.get("parvis_session")
    assert token
    assert submit(web, "/home", "/logout").status_code == 303  # the session is revoked
    web.cookies.clear()
    web.cookies.set("parvis_session", token, domain="parvis.test")
    page = web.get("/oauth/authorize", params=_authorize_query(app, challenge))
    assert ("password", "password") in only_form(page.text)["inputs"]


def _codes(parvis: Parvis) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(oauth_codes)).scalar_one())


def test_its_forms_need_the_csrf_token_of_this_browser(client: TestClient, parvis: Parvis) -> None:
    """A sign-in or a consent sent without this browser's token proves nothing: the page asks
    to sign in again and issues no code."""
    user = make_user(client)
    app = make_app(client)
    _, challenge = pkce()
    web = browser(client)
    signin = only_form(web.get("/oauth/authorize", params=_authorize_query(app, challenge)).text)
    assert "csrf" in signin["fields"]
    credentials = {"login": user.username, "password": PASSWORD}
    elsewhere = security.csrf_token(parvis.settings.signing_key(), "x" * 43)
    for token in ("", "0" * 128, elsewhere):
        r = web.post("/oauth/authorize", data={**signin["fields"], "csrf": token, **credentials})
        assert r.status_code == 401, r.text
        assert 'role="alert"' in r.text and ("password", "password") in only_form(r.text)["inputs"]

    consent = web.post("/oauth/authorize", data={**signin["fields"], **credentials})
    fields = only_form(consent.text)["fields"]
    assert "ticket" in fields
    for token in ("", elsewhere):
        r = web.post(
            "/oauth/authorize",
            data={**fields, "csrf": token, "decision": "allow"},
            follow_redirects=False,
        )
        assert r.status_code == 401 and ("password", "password") in only_form(r.text)["inputs"]
    assert _codes(parvis) == 0
    r = web.post("/oauth/authorize", data={**fields, "decision": "allow"}, follow_redirects=False)
    assert r.status_code == 302 and _codes(parvis) == 1


def test_the_page_speaks_french_and_wears_the_web_app(client: TestClient) -> None:
    app = make_app(client)
    _, challenge = pkce()
    query = _authorize_query(app, challenge)
    web = browser(client)
    page = web.get("/oauth/authorize", params=query, headers={"Accept-Language": "fr-FR"})
    assert page.headers["content-language"] == "fr"
    assert "Se connecter à parvis.test" in page.text and "Mot de passe" in page.text
    for name, value in security.HEADERS.items():
        assert page.headers[name] == value
    assert page.headers["cache-control"] == "no-store"
    assert '<link rel="stylesheet" href="/assets/parvis.css' in page.text
    assert problems(page.text) == [] and "<style" not in page.text and " style=" not in page.text

    # The app's `lang` (and the links at the bottom of the page) choose the language; it stays
    # through the sign-in.
    page = web.get("/oauth/authorize", params={**query, "lang": "en"})
    assert "Sign in to parvis.test" in page.text
    assert "lang=fr" in page.text  # the link to the French page
    page = web.get("/oauth/authorize", params={**query, "lang": "fr"})
    signin = only_form(page.text)
    assert signin["fields"]["lang"] == "fr"
    sign_up(web, "francophone")
    consent = web.get("/oauth/authorize", params={**query, "lang": "fr"})
    assert "souhaite utiliser votre compte" in consent.text and "@francophone" in consent.text
    assert "Autoriser" in consent.text and "Refuser" in consent.text
