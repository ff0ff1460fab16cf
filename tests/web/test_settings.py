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


BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}


def test_settings_forms_are_boosted_and_errors_come_back_in_place(client: TestClient) -> None:
    """With htmx the settings forms are sent in the background (hx-boost): a refused form
    answers 200 so that htmx swaps the page with its message in; without JavaScript the same
    form answers 422 (test above). A download is never boosted."""
    web, _ = signed_in(client)
    page = web.get("/settings/profile").text
    assert 'class="settings" hx-boost="true"' in page
    assert "<script>" not in page.split("</head>")[1]  # nothing inline: the CSP forbids it
    r = web.post(
        "/settings/profile",
        data={"csrf": csrf(page), "display_name": "x" * 40, "note": "kept"},
        headers=BOOSTED,
        follow_redirects=False,
    )
    assert r.status_code == 200
    assert 'role="alert"' in r.text and "at most 30 characters" in r.text and "kept" in r.text
    assert "HX-Boosted" in r.headers["vary"]
    r = web.post(
        "/settings/profile",
        data={"csrf": csrf(page), "display_name": "Fine"},
        headers=BOOSTED,
        follow_redirects=False,
    )
    assert r.status_code == 303  # htmx follows it and swaps the saved page in
    assert 'value="Fine"' in web.get(r.headers["location"], headers=BOOSTED).text
    export = web.get("/settings/export").text
    assert 'href="/settings/export/archive" download hx-boost="false"' in export


def test_going_back_keeps_no_copy_of_the_pages(client: TestClient) -> None:
    """htmx keeps no snapshot of the pages it swapped (they hold personal data and the CSRF
    token; sessionStorage would keep them after logging out): going back, it asks the server
    again (a history restore request), which answers the whole page, the body htmx swaps in."""
    web, _ = signed_in(client)
    page = web.get("/settings/sessions").text
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page)
    assert config is not None and orjson.loads(config.group(1))["historyCacheSize"] == 0
    restore = {**BOOSTED, "HX-History-Restore-Request": "true"}
    del restore["HX-Boosted"]
    r = web.get("/settings/sessions", headers=restore)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "<body>" in r.text and 'aria-current="page">Sessions and apps' in r.text


def test_a_new_interface_language_loads_the_whole_page_again(client: TestClient) -> None:
    """An in-place swap would keep the old document's <html lang> and <head>: when the
    preferences change the interface language, htmx is asked for a full load (HX-Redirect);
    other preferences are still saved in place, and without JavaScript nothing changes."""
    web, _ = signed_in(client)
    page = web.get("/settings/preferences").text
    assert '<html lang="en">' in page
    fields = {"csrf": csrf(page), "default_visibility": "public"}
    r = web.post(
        "/settings/preferences",
        data={**fields, "locale": "en", "indexable": "on"},
        headers=BOOSTED,
        follow_redirects=False,
    )
    assert r.status_code == 303 and "hx-redirect" not in r.headers  # same language: in place
    r = web.post(
        "/settings/preferences",
        data={**fields, "locale": "fr"},
        headers=BOOSTED,
        follow_redirects=False,
    )
    assert r.status_code == 200 and r.headers["hx-redirect"] == "/settings/preferences?saved=1"
    assert r.text == ""
    again = web.get(r.headers["hx-redirect"])
    assert '<html lang="fr">' in again.text and again.headers["content-language"] == "fr"
    r = web.post(
        "/settings/preferences",
        data={**fields, "csrf": csrf(again.text), "locale": "en"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "hx-redirect" not in r.headers  # no JavaScript: as before
    assert '<html lang="en">' in web.get(r.headers["location"]).text
