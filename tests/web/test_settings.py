"""Settings pages: profile (with an avatar), preferences, password change (other sessions
signed out), blocks and mutes, sessions and apps revoked, and the export of one's data."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import orjson
from PIL import Image
from starlette.testclient import TestClient

from tests.builders import make_user
from tests.web.browser import browser, csrf, log_in, submit

PASSWORD = "correct horse battery"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 60, 30)).save(out, "PNG")
    return out.getvalue()


def signed_in(client: TestClient, username: str | None = None) -> tuple[TestClient, object]:
    user = make_user(client, username)
    web = browser(client)
    log_in(web, f"{user.username}@example.org", PASSWORD)
    return web, user


def test_settings_need_a_session(client: TestClient) -> None:
    for path in (
        "/settings",
        "/settings/profile",
        "/settings/sessions",
        "/settings/export/archive",
    ):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
    assert (
        client.get("/settings/profile", follow_redirects=False)
        .headers["location"]
        .startswith("/login")
    )


def test_change_profile_and_see_it(client: TestClient) -> None:
    alice = make_user(client, "alice")
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    r = submit(
        web,
        "/settings/profile",
        "/settings/profile",
        display_name="Alice Example",
        note="I grow tomatoes.",
        field_name_0="Website",
        field_value_0="https://alice.example",
        locked="on",
    )
    assert r.status_code == 303 and r.headers["location"] == "/settings/profile?saved=1"
    page = web.get("/settings/profile?saved=1").text
    assert 'value="Alice Example"' in page and "I grow tomatoes." in page
    assert "Your changes were saved." in page
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["display_name"] == "Alice Example" and me["locked"] is True and me["bot"] is False
    assert me["fields"][0]["name"] == "Website"


def test_upload_an_avatar(client: TestClient) -> None:
    alice = make_user(client, "alice")
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    token = csrf(web.get("/settings/profile").text)
    r = web.post(
        "/settings/profile",
        data={"csrf": token, "display_name": "Alice"},
        files={"avatar": ("me.png", png(), "image/png"), "header": ("", b"", "")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    avatar = alice.get("/api/v1/accounts/verify_credentials").json()["avatar"]
    assert "/media/" in avatar
    page = web.get("/settings/profile").text
    assert 'alt="Your current picture"' in page


def test_bad_profile_input_is_shown_again_with_a_message(client: TestClient) -> None:
    web, _ = signed_in(client)
    token = csrf(web.get("/settings/profile").text)
    r = web.post(
        "/settings/profile",
        data={"csrf": token, "display_name": "x" * 40, "note": "kept"},
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert 'role="alert"' in r.text and "at most 30 characters" in r.text
    assert "kept" in r.text  # what was typed is still there
    r = web.post(
        "/settings/profile",
        data={"csrf": token, "display_name": "ok"},
        files={"avatar": ("me.png", b"not an image at all", "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "avatar:" in r.text


def test_preferences(client: TestClient) -> None:
    web, user = signed_in(client)
    r = submit(
        web,
        "/settings/preferences",
        "/settings/preferences",
        default_visibility="private",
        default_language="fr",
        locale="fr",
        indexable="on",
    )
    assert r.status_code == 303
    me = user.get("/api/v1/accounts/verify_credentials").json()  # type: ignore[attr-defined]
    assert me["source"]["privacy"] == "private" and me["source"]["language"] == "fr"
    assert me["indexable"] is True and me["discoverable"] is False
    page = web.get("/settings/preferences")
    assert page.headers["content-language"] == "fr"
    r = submit(web, "/settings/preferences", "/settings/preferences", default_visibility="direct")
    assert r.status_code == 422 and 'role="alert"' in r.text


def test_change_password_signs_out_other_sessions(client: TestClient) -> None:
    alice = make_user(client, "alice")
    web, other = browser(client), browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    log_in(other, "alice@example.org", PASSWORD)
    new = "a much better passphrase"

    r = submit(
        web,
        "/settings/account",
        "/settings/password",
        current_password="wrong password",
        new_password=new,
        confirm_password=new,
    )
    assert r.status_code == 422 and "not your password" in r.text
    r = submit(
        web,
        "/settings/account",
        "/settings/password",
        current_password=PASSWORD,
        new_password=new,
        confirm_password="something else",
    )
    assert r.status_code == 422 and "confirmation differ" in r.text
    r = submit(
        web,
        "/settings/account",
        "/settings/password",
        current_password=PASSWORD,
        new_password=new,
        confirm_password=new,
    )
    assert r.status_code == 303, r.text

    assert web.get("/settings/account", follow_redirects=False).status_code == 200  # still in
    assert other.get("/settings/account", follow_redirects=False).status_code == 303  # out
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 401  # app token too
    third = browser(client)
    token = csrf(third.get("/login").text)
    old = third.post(
        "/login",
        data={"csrf": token, "login": "alice@example.org", "password": PASSWORD},
        follow_redirects=False,
    )
    assert old.status_code == 401
    log_in(third, "alice@example.org", new)


def test_revoke_a_session_and_an_app(client: TestClient) -> None:
    alice = make_user(client, "alice")
    web, other = browser(client), browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    log_in(other, "alice@example.org", PASSWORD)
    page = web.get("/settings/sessions").text
    assert "This browser" in page and "Another browser" in page and "tests" in page
    sessions = re.findall(r'action="/settings/sessions/(\d+)/revoke"', page)
    assert len(sessions) == 1  # the current one has no sign-out button
    r = submit(web, "/settings/sessions", f"/settings/sessions/{sessions[0]}/revoke")
    assert r.status_code == 303
    assert other.get("/settings/sessions", follow_redirects=False).status_code == 303
    assert web.get("/settings/sessions", follow_redirects=False).status_code == 200

    apps = re.findall(r'action="/settings/apps/(\d+)/revoke"', web.get("/settings/sessions").text)
    assert len(apps) == 1
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert submit(web, "/settings/sessions", f"/settings/apps/{apps[0]}/revoke").status_code == 303
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 401
    assert "No app has access" in web.get("/settings/sessions").text
    # Someone else's session id, or a made-up one: not found, nothing revoked.
    r = submit(web, "/settings/sessions", "/settings/sessions/123/revoke")
    assert r.status_code == 404


def test_unblock_and_unmute_from_the_privacy_page(client: TestClient) -> None:
    alice, bob, carol = make_user(client, "alice"), make_user(client, "bob"), make_user(client)
    assert alice.post(f"/api/v1/accounts/{bob.id}/block").status_code == 200
    assert alice.post(f"/api/v1/accounts/{carol.id}/mute").status_code == 200
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    page = web.get("/settings/privacy").text
    assert "@bob" in page and f"@{carol.username}" in page
    assert (
        submit(web, "/settings/privacy", f"/settings/privacy/unblock/{bob.id}").status_code == 303
    )
    assert (
        submit(web, "/settings/privacy", f"/settings/privacy/unmute/{carol.id}").status_code == 303
    )
    rels = alice.get("/api/v1/accounts/relationships", params={"id[]": [bob.id, carol.id]}).json()
    assert not rels[0]["blocking"] and not rels[1]["muting"]
    assert "You have not blocked anyone." in web.get("/settings/privacy").text


def test_export_contains_my_post_and_follows(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    alice.status("This post goes into my archive")
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 200
    post = bob.status("Worth keeping")
    assert alice.post(f"/api/v1/statuses/{post['id']}/bookmark").status_code == 200
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    assert "Download my archive" in web.get("/settings/export").text
    r = web.get("/settings/export/archive")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    posts = orjson.loads(archive.read("posts.json"))
    assert [p["text"] for p in posts] == ["This post goes into my archive"]
    assert orjson.loads(archive.read("account.json"))["acct"] == "alice@parvis.test"
    assert orjson.loads(archive.read("following.json")) == ["bob@parvis.test"]
    assert orjson.loads(archive.read("bookmarks.json")) == [post["uri"]]
    rows = list(csv.reader(io.StringIO(archive.read("following_accounts.csv").decode())))
    assert rows[0] == ["Account address", "Show boosts", "Notify on new posts", "Languages"]
    assert rows[1][0] == "bob@parvis.test"
