"""Settings → Import and Settings → Moving, through the pages as a person uses them: signed in,
forms with their CSRF token, a CSV file uploaded and its report shown, a malformed file refused
with its reason, one's posts re-created from an exported archive, aliases added and removed,
and a move confirmed by password."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis, create_app
from parvis.web import i18n, pages
from parvis.web.views import portability
from tests.builders import User, follow, make_user, ok
from tests.web.browser import browser, csrf, log_in

PASSWORD = "correct horse battery"


@pytest.fixture
def client(parvis: Parvis) -> Iterator[TestClient]:
    """The app with the portability pages (until web/routes.py lists them)."""
    app = create_app(parvis, embedded_worker=False)
    for route in reversed(portability.routes):
        app.router.routes.insert(0, route)
    with TestClient(app, base_url="https://parvis.test") as c:
        yield c


def signed_in(client: TestClient, username: str) -> tuple[TestClient, User]:
    user = make_user(client, username)
    web = browser(client)
    log_in(web, f"{username}@example.org", PASSWORD)
    return web, user


def upload(web: TestClient, action: str, field: str, name: str, data: bytes, **fields: Any) -> Any:
    token = csrf(web.get("/settings/import").text)
    return web.post(
        action,
        data={"csrf": token, **fields},
        files={field: (name, data, "text/csv")},
        follow_redirects=False,
    )


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_pages_need_a_session(client: TestClient) -> None:
    for path in ("/settings/import", "/settings/moving"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_the_settings_menu_and_the_export_page_link_to_them(client: TestClient) -> None:
    web, _ = signed_in(client, "alice")
    page = web.get("/settings/export").text
    assert 'href="/settings/import"' in page and 'href="/settings/moving"' in page
    page = web.get("/settings/import").text
    assert 'aria-current="page"' in page and "Moving your account" in page
    assert 'name="type"' in page and 'value="overwrite"' in page and 'name="csrf"' in page


def test_import_a_csv_and_read_the_report(client: TestClient) -> None:
    web, me = signed_in(client, "alice")
    friend, shy = make_user(client, "friend"), make_user(client, "shy", locked=True)
    data = (
        b"Account address,Show boosts,Notify on new posts,Languages\n"
        b"friend@parvis.test,true,false,\n"
        b"shy,true,false,\n"
        b"nobody,true,false,\n"
        b"not an address!,true,false,\n"
    )
    r = upload(web, "/settings/import", "file", "following_accounts.csv", data, type="following")
    assert r.status_code == 200, r.text
    shown = text_of(r.text)
    assert "Rows read: 4" in shown
    assert "Imported: 1 (of which 0 were already there)" in shown
    assert "Follow requests sent, waiting for an answer: 1" in shown
    assert "Skipped: 2" in shown
    assert "nobody no such account was found" in shown
    assert "not an address! not an account address" in shown
    following = ok(me.get(f"/api/v1/accounts/{me.id}/following"))
    assert [a["id"] for a in following] == [friend.id]
    assert shy.id != friend.id


def test_a_malformed_file_is_refused_with_its_reason(client: TestClient) -> None:
    web, me = signed_in(client, "alice")
    make_user(client, "friend")
    r = upload(web, "/settings/import", "file", "x.csv", b'friend\n"broken,\n', type="following")
    assert r.status_code == 422
    assert 'role="alert"' in r.text and "malformed CSV" in r.text
    assert ok(me.get(f"/api/v1/accounts/{me.id}/following")) == []
    r = upload(web, "/settings/import", "file", "x.csv", b"friend\n", type="following", mode="x")
    assert r.status_code == 422 and "one of merge, overwrite" in r.text
    token = csrf(web.get("/settings/import").text)
    r = web.post("/settings/import", data={"csrf": token, "type": "following"})
    assert r.status_code == 422 and "choose a file" in r.text


def test_a_form_without_its_csrf_token_does_nothing(client: TestClient) -> None:
    web, me = signed_in(client, "alice")
    make_user(client, "friend")
    r = web.post(
        "/settings/import",
        data={"type": "following"},
        files={"file": ("x.csv", b"friend\n", "text/csv")},
    )
    assert r.status_code == 403
    assert ok(me.get(f"/api/v1/accounts/{me.id}/following")) == []
    r = web.post("/settings/moving/aliases", data={"alias": "friend"})
    assert r.status_code == 403


def test_posts_come_back_from_an_exported_archive(client: TestClient) -> None:
    web_alice, alice = signed_in(client, "alice")
    alice.status("a post from long ago #history", spoiler_text="old")
    archive = web_alice.get("/settings/export/archive")
    assert archive.status_code == 200
    web_bob, bob = signed_in(client, "bob")
    r = upload(web_bob, "/settings/import/archive", "archive", "a.zip", archive.content)
    assert r.status_code == 200, r.text
    assert "Posts re-created: 1, with 0 pictures" in text_of(r.text)
    [post] = ok(bob.get(f"/api/v1/accounts/{bob.id}/statuses"))
    assert post["spoiler_text"] == "old" and "#<span>history</span>" in post["content"]
    r = upload(web_bob, "/settings/import/archive", "archive", "a.zip", archive.content)
    assert "Already imported before: 1" in text_of(r.text)
    r = upload(web_bob, "/settings/import/archive", "archive", "a.zip", b"not a zip")
    assert r.status_code == 422 and "not a ZIP archive" in r.text


def moving_form(web: TestClient, action: str, **fields: Any) -> Any:
    token = csrf(web.get("/settings/moving").text)
    return web.post(action, data={"csrf": token, **fields}, follow_redirects=False)


def test_aliases_then_a_move_confirmed_by_password(client: TestClient) -> None:
    web_old, old = signed_in(client, "oldme")
    web_new, new = signed_in(client, "newme")
    fan = make_user(client, "fan")
    follow(fan, old)

    r = moving_form(web_old, "/settings/moving/move", target="newme", password=PASSWORD)
    assert r.status_code == 422 and "must first list this one as an alias" in r.text

    r = moving_form(web_new, "/settings/moving/aliases", alias="@oldme")
    assert r.status_code == 303 and r.headers["location"] == "/settings/moving?saved=1"
    page = web_new.get("/settings/moving?saved=1").text
    assert "https://parvis.test/users/oldme" in page and "Your changes were saved." in page
    r = moving_form(web_new, "/settings/moving/aliases", alias="ghost@nowhere.example")
    assert r.status_code == 422 and "no such account was found" in r.text

    r = moving_form(web_old, "/settings/moving/move", target="newme", password="wrong one")
    assert r.status_code == 422 and "not your password" in r.text
    assert [a["id"] for a in ok(fan.get(f"/api/v1/accounts/{fan.id}/following"))] == [old.id]

    r = moving_form(web_old, "/settings/moving/move", target="newme", password=PASSWORD)
    assert r.status_code == 200, r.text
    assert "Your account has moved to @newme. 1 followers" in text_of(r.text)
    assert [a["id"] for a in ok(fan.get(f"/api/v1/accounts/{fan.id}/following"))] == [new.id]
    assert "This account has moved to" in web_old.get("/settings/moving").text

    r = moving_form(
        web_new, "/settings/moving/aliases/remove", uri="https://parvis.test/users/oldme"
    )
    assert r.status_code == 303
    assert "https://parvis.test/users/oldme" not in web_new.get("/settings/moving").text


def test_french_pages(client: TestClient) -> None:
    web, _ = signed_in(client, "alice")
    token = csrf(web.get("/settings/preferences").text)
    r = web.post(
        "/settings/preferences",
        data={"csrf": token, "locale": "fr", "default_visibility": "public"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    for path in ("/settings/import", "/settings/moving"):
        r = web.get(path)
        assert r.status_code == 200 and r.headers["content-language"] == "fr"
        assert "Paramètres" in r.text  # the layout's own French


TEMPLATES = Path(pages.__file__).with_name("templates")


def test_every_string_of_these_pages_has_its_french() -> None:
    french = i18n.translations("fr")
    missing = [
        msgid
        for name in ("settings_import.html", "settings_moving.html")
        for msgid in re.findall(r'_\("((?:[^"\\]|\\.)*)"', (TEMPLATES / name).read_text())
        if french.gettext(msgid) == msgid
    ]
    assert missing == []
