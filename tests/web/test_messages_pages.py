"""The end-to-end messages pages without a browser (what the server renders: the metadata, the
scripts, the CSP that lets them compile libsodium, the notice without JavaScript), and the API's
web-session access: a page of this server may call `/api/parvis/v1/e2e` with the session cookie
(and, for writes, its CSRF token); another site may not, whatever it sends."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.web import security
from tests.builders import make_user
from tests.clients.e2e_client import E2E, E2EClient
from tests.web.browser import browser, csrf, log_in, sign_up, submit

SAME = {"Sec-Fetch-Site": "same-origin"}
DATA_CSRF = re.compile(r'data-csrf="([^"]+)"')


def page_token(web: TestClient, path: str = "/messages") -> str:
    found = DATA_CSRF.search(web.get(path).text)
    assert found, "no data-csrf on the page"
    return found.group(1)


def account_id(web: TestClient, name: str) -> str:
    r = web.get(f"/api/v1/accounts/lookup?acct={name}")
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def start(web: TestClient, people: str) -> str:
    """'New conversation' through the page's form; the new conversation's id."""
    r = submit(web, "/messages", "/messages", people=people)
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/messages/(\d+)", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


# -- the pages ---------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_log_in(client: TestClient) -> None:
    for path in ("/messages", "/messages/123", "/settings/devices"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/")


def test_the_messages_page_needs_javascript_and_only_it_may_compile_wasm(
    client: TestClient,
) -> None:
    sign_up(client, "ada")
    r = client.get("/messages")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert csp == security.CSP_WASM
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
    assert script_src.split() == ["script-src", "'self'", "'wasm-unsafe-eval'"]  # no eval()
    assert "'unsafe-inline'" not in csp and " 'unsafe-eval'" not in csp
    html = r.text
    assert "Encrypted messages need JavaScript" in html and "<noscript>" in html
    for script in ("vendor/libsodium.js", "vendor/libsodium-wrappers.js", "messages.js"):
        assert f'src="/assets/{script}?v=' in html
    assert "<script>" not in html and " on" + "click=" not in html  # no inline script
    assert 'href="/messages" aria-current="page"' in html  # in the navigation
    # Other pages keep the policy without WebAssembly.
    home = client.get("/home")
    assert home.headers["content-security-policy"] == security.CSP
    assert "wasm" not in home.headers["content-security-policy"]
    assert 'href="/messages"' in home.text
    # The vendored library is served from here, as JavaScript.
    lib = client.get("/assets/vendor/libsodium-wrappers.js")
    assert lib.status_code == 200 and "javascript" in lib.headers["content-type"]


def test_starting_conversations_one_to_one_and_group(client: TestClient) -> None:
    ada = client
    sign_up(ada, "ada")
    bob, cy = browser(client), browser(client)
    sign_up(bob, "bob")
    sign_up(cy, "cy")
    pair = start(ada, "@bob")
    assert start(ada, "bob") == pair  # one-to-one: the same conversation
    assert start(bob, "@ada") == pair
    group = start(ada, "@bob, @cy")
    assert group != pair

    listing = bob.get("/messages").text
    assert f'href="/messages/{pair}"' in listing and f'href="/messages/{group}"' in listing
    page = cy.get(f"/messages/{group}")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == security.CSP_WASM
    assert f'data-conversation-id="{group}"' in page.text
    for name in ("ada", "bob", "cy"):
        assert f'data-acct="{name}"' in page.text
    assert "Verify safety number with" in page.text
    # The compose box has no name: its text can never be posted as a form field.
    compose = re.search(r"<form[^>]*data-e2e-compose[^>]*>(.*?)</form>", page.text, re.S)
    assert compose and "<textarea" in compose.group(1)
    assert " name=" not in compose.group(1)
    assert "method=" not in compose.group(0) and "action=" not in compose.group(0)

    # cy is not in the one-to-one conversation: the same 404 as for one that does not exist.
    assert cy.get(f"/messages/{pair}").status_code == 404
    assert cy.get("/messages/999999").status_code == 404
    assert cy.get("/messages/nope").status_code == 404


def test_new_conversation_form_says_what_is_wrong(client: TestClient) -> None:
    sign_up(client, "ada")
    r = submit(client, "/messages", "/messages", people="@nobody_here")
    assert r.status_code == 422
    assert "No account is called @nobody_here here." in r.text
    assert 'value="@nobody_here"' in r.text  # kept in the form
    r = submit(client, "/messages", "/messages", people="  ,  ")
    assert r.status_code == 422 and "Name at least one person" in r.text
    r = submit(client, "/messages", "/messages", people="@ada")
    assert r.status_code == 422 and "name at least one other account" in r.text
    # Without its CSRF token, nothing is done.
    r = client.post("/messages", data={"people": "@ada"}, follow_redirects=False)
    assert r.status_code == 403


def test_devices_are_listed_and_revoked(client: TestClient, parvis: Parvis) -> None:
    sign_up(client, "ada")
    from_app = make_user(client, "bob")
    app_device = E2EClient(from_app.client, from_app.token, label="bob's phone")
    app_device.publish()

    me = client.get(f"{E2E}/devices", headers=SAME)
    assert me.status_code == 200 and me.json() == []
    page = client.get("/settings/devices")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == security.CSP_WASM
    assert "No device yet" in page.text
    assert "Signing out does not delete" in page.text
    assert 'href="/settings/devices" aria-current="page" hx-boost="false"' in page.text

    # bob's device is not ada's to revoke.
    r = submit(client, "/settings/devices", f"/settings/devices/{app_device.device_id}/revoke")
    assert r.status_code == 404
    r = client.get(f"{E2E}/accounts/{from_app.id}/devices", headers=SAME)
    assert [d["id"] for d in r.json()] == [app_device.device_id]


def test_revoking_ones_own_device_from_the_page(client: TestClient) -> None:
    user = make_user(client, "ada")
    device = E2EClient(user.client, user.token, label="Laptop Firefox")
    device.publish()
    web = browser(client)
    log_in(web, "ada@example.org", "correct horse battery")
    page = web.get("/settings/devices").text
    assert "Laptop Firefox" in page and f'data-device-id="{device.device_id}"' in page
    r = submit(web, "/settings/devices", f"/settings/devices/{device.device_id}/revoke")
    assert r.status_code == 303 and r.headers["location"] == "/settings/devices?saved=1"
    mine = user.get(f"{E2E}/devices").json()
    assert mine[0]["revoked_at"] is not None
    page = web.get("/settings/devices?saved=1").text
    assert "revoked" in page and 'class="revoked"' in page


def test_export_page_offers_the_decrypted_download(client: TestClient) -> None:
    sign_up(client, "ada")
    r = client.get("/settings/export")
    assert r.headers["content-security-policy"] == security.CSP_WASM
    assert "Download my messages as readable text (decrypted on this device)" in r.text
    assert "messages.js" in r.text and "<noscript>" in r.text
    assert 'href="/settings/export" aria-current="page" hx-boost="false"' in r.text


def test_compose_says_direct_posts_are_not_encrypted(client: TestClient) -> None:
    sign_up(client, "ada")
    html = client.get("/home").text
    assert "not end-to-end encrypted" in html
    assert 'aria-describedby="visibility-help"' in html


# -- the API with the web session --------------------------------------------------------------


def test_the_api_accepts_the_session_of_this_servers_pages(client: TestClient) -> None:
    sign_up(client, "ada")
    bob = browser(client)
    sign_up(bob, "bob")
    token = page_token(client)
    bob_id = account_id(client, "bob")

    assert client.get(f"{E2E}/conversations", headers=SAME).status_code == 200
    # The browser's own Origin, from a browser without Sec-Fetch-Site: accepted too.
    origin = {"Origin": "https://parvis.test"}
    assert client.get(f"{E2E}/conversations", headers=origin).status_code == 200
    # A write with the page's CSRF token.
    r = client.post(
        f"{E2E}/conversations",
        json={"participant_ids": [bob_id]},
        headers={**SAME, "X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"{E2E}/conversations",
        json={"participant_ids": [bob_id]},
        headers={**origin, "X-CSRF-Token": page_token(client)},
    )
    assert r.status_code == 200, r.text
    # Bearer tokens work as before, whatever the cookies.
    user = make_user(client, "cy")
    assert user.get(f"{E2E}/conversations").status_code == 200


def test_a_cross_site_call_with_only_the_session_cookie_is_refused(client: TestClient) -> None:
    """The session cookie goes with every request the browser makes, whoever asks: a request
    from another site, or one with a cookie and nothing else, changes nothing."""
    sign_up(client, "ada")
    bob = browser(client)
    sign_up(bob, "bob")
    bob_id = account_id(client, "bob")
    token = page_token(client)
    body = {"participant_ids": [bob_id]}
    refused = [
        ({}, 401),  # the cookie alone
        ({"Sec-Fetch-Site": "cross-site", "X-CSRF-Token": token}, 401),
        ({"Sec-Fetch-Site": "same-site", "X-CSRF-Token": token}, 401),
        ({"Sec-Fetch-Site": "none", "X-CSRF-Token": token}, 401),
        ({"Origin": "https://evil.example", "X-CSRF-Token": token}, 401),
        ({"Origin": "null", "X-CSRF-Token": token}, 401),
        ({"Origin": "https://parvis.test.evil.example", "X-CSRF-Token": token}, 401),
        # Same-origin, but without the page's CSRF token, or with another browser's.
        (SAME, 403),
        ({**SAME, "X-CSRF-Token": "0" * 128}, 403),
        ({**SAME, "X-CSRF-Token": page_token(bob)}, 403),
        ({"Origin": "https://parvis.test"}, 403),
    ]
    for headers, status in refused:
        r = client.post(f"{E2E}/conversations", json=body, headers=headers)
        assert r.status_code == status, (headers, r.status_code, r.text)
        assert "error" in r.json()
    assert client.get(f"{E2E}/conversations", headers=SAME).json() == []  # nothing was made
    # Reads from another site are anonymous too.
    for headers in ({}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        assert client.get(f"{E2E}/devices", headers=headers).status_code == 401
    # A revoked session no longer opens the API, even from the page's origin.
    client.post("/logout", data={"csrf": csrf(client.get("/messages").text)})
    assert client.get(f"{E2E}/devices", headers=SAME).status_code == 401


def test_an_app_token_in_the_session_cookie_is_not_a_session(client: TestClient) -> None:
    user = make_user(client, "ada")  # an app's token, not a web session
    web = browser(client)
    web.get("/about")  # the CSRF cookie
    web.cookies.set("parvis_session", user.token, domain="parvis.test")
    r = web.get(f"{E2E}/devices", headers=SAME)
    assert r.status_code == 401


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    forged=st.one_of(
        st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=200),
        st.binary(min_size=64, max_size=64).map(bytes.hex),
    ),
    origin=st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60
    ),
)
def test_forged_csrf_tokens_and_origins_are_refused(
    client: TestClient, forged: str, origin: str
) -> None:
    if not client.cookies.get("parvis_session"):
        sign_up(client, "prop")
    headers = {**SAME, "X-CSRF-Token": forged}
    r = client.delete(f"{E2E}/devices/1", headers=headers)
    assert r.status_code == 403, r.text
    if origin.rstrip("/").lower() != "https://parvis.test":
        r = client.delete(f"{E2E}/devices/1", headers={"Origin": origin, "X-CSRF-Token": forged})
        assert r.status_code == 401, r.text
