"""The OAuth consent page used by third-party apps, from a browser already signed in to the web
app: no second sign-in, straight to the consent; a browser without a session is asked to sign
in; a revoked session counts as none."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from tests.api.test_oauth import CALLBACK, exchange, make_app, only_form, pkce
from tests.web.browser import browser, sign_up, submit


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
