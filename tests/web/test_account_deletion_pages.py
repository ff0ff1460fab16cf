"""Deleting one's account on the web (Settings → Account): the explanation in English and
French, the password, the closed account's page with its date and the way back, for a person
who signs in again during the grace period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.web import i18n
from tests.builders import make_user
from tests.web.browser import browser, csrf, log_in, submit

PASSWORD = "correct horse battery"


def test_the_page_explains_what_deletion_does_in_english_and_french(client: TestClient) -> None:
    user = make_user(client, "explained")
    web = browser(client)
    log_in(web, "explained@example.org", PASSWORD)
    page = web.get("/settings/account")
    assert page.status_code == 200
    html = page.text
    assert 'action="/settings/account/delete"' in html and 'name="password"' in html
    assert 'href="/settings/export"' in html  # download first
    assert "Other servers that know your account are told to erase their copies." in html
    assert "without your name, your account or any copy of your posts" in html
    erased_on = datetime.now(UTC) + timedelta(days=30)
    assert str(erased_on.year) in html and "after 30 days" in html
    submit(web, "/settings/account", "/language", lang="fr")
    fr = web.get("/settings/account").text
    french = i18n.translations("fr").gettext
    assert '<html lang="fr"' in fr
    for message in ("Delete my account", "Export my data", "Your password"):
        assert french(message) in fr
    assert user.username


def test_delete_then_sign_in_again_and_cancel(client: TestClient, parvis: Parvis) -> None:
    user = make_user(client, "changedmind")
    user.status("Still thinking about it")
    stranger = browser(client)
    assert stranger.get("/@changedmind").status_code == 200
    web = browser(client)
    log_in(web, "changedmind@example.org", PASSWORD)

    wrong = submit(web, "/settings/account", "/settings/account/delete", password="not it")
    assert wrong.status_code == 422
    assert "not your password" in wrong.text and 'role="alert"' in wrong.text
    assert stranger.get("/@changedmind").status_code == 200

    closed = submit(web, "/settings/account", "/settings/account/delete", password=PASSWORD)
    assert closed.status_code == 200
    assert "Your account will be erased on" in closed.text
    assert 'action="/account/deletion/cancel"' in closed.text
    assert web.get("/home", follow_redirects=False).status_code in (302, 303)  # signed out
    assert stranger.get("/@changedmind").status_code == 404
    assert user.get("/api/v1/accounts/verify_credentials").status_code == 401  # revoked

    # Signing in again shows the date and the way back, not a session.
    token = csrf(web.get("/login").text)
    again = web.post(
        "/login",
        data={"csrf": token, "login": "changedmind", "password": PASSWORD},
        follow_redirects=False,
    )
    assert again.status_code == 200 and "Cancel the deletion" in again.text
    wrong_login = web.post(
        "/login",
        data={"csrf": csrf(web.get("/login").text), "login": "changedmind", "password": "x"},
        follow_redirects=False,
    )
    assert wrong_login.status_code == 401 and "Cancel the deletion" not in wrong_login.text

    # A forged ticket does nothing; the real one opens the account and signs in.
    forged = web.post(
        "/account/deletion/cancel",
        data={"csrf": csrf(again.text), "ticket": "1.9999999999." + "0" * 64},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "expired" in forged.text
    assert stranger.get("/@changedmind").status_code == 404
    ticket = again.text.split('name="ticket" value="')[1].split('"')[0]
    back = web.post(
        "/account/deletion/cancel",
        data={"csrf": csrf(again.text), "ticket": ticket},
        follow_redirects=False,
    )
    assert back.status_code == 303 and back.headers["location"] == "/home"
    assert web.get("/home").status_code == 200
    assert stranger.get("/@changedmind").status_code == 200
    assert "Still thinking about it" in stranger.get("/@changedmind").text


def test_an_expired_ticket_sends_back_to_sign_in(client: TestClient, parvis: Parvis) -> None:
    make_user(client, "slowpoke")
    web = browser(client)
    log_in(web, "slowpoke@example.org", PASSWORD)
    closed = submit(web, "/settings/account", "/settings/account/delete", password=PASSWORD)
    ticket = closed.text.split('name="ticket" value="')[1].split('"')[0]
    later = datetime.now(UTC) + timedelta(hours=2)
    saved = parvis.runtime.clock
    parvis.runtime.clock = lambda: later
    try:
        r = web.post(
            "/account/deletion/cancel",
            data={"csrf": csrf(closed.text), "ticket": ticket},
            follow_redirects=False,
        )
    finally:
        parvis.runtime.clock = saved
    assert r.status_code == 403 and "sign in again" in r.text
    assert browser(client).get("/@slowpoke").status_code == 404
