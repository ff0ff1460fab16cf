"""Profile pages: tabs, pinned posts, follow (with a request for a locked account), block,
mute, followers lists, follow requests, and bad input."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image
from starlette.testclient import TestClient

from parvis.app import Parvis
from tests.builders import make_user
from tests.web.browser import browser, csrf, log_in, sign_up, submit

PASSWORD = "correct horse battery"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def account_id(client: TestClient, username: str) -> str:
    r = client.get("/api/v1/accounts/lookup", params={"acct": username})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def test_tabs_show_the_right_posts_with_pinned_first(client: TestClient) -> None:
    alice, someone = make_user(client, "alice"), make_user(client)
    alice.status("A top-level post")
    theirs = someone.status("Someone else's post")
    alice.status("My reply to someone", in_reply_to_id=theirs["id"])
    uploaded = alice.post("/api/v2/media", files={"file": ("a.png", png(), "image/png")})
    assert uploaded.status_code in (200, 202), uploaded.text
    alice.status("A post with a picture", media_ids=[uploaded.json()["id"]])
    pinned = alice.status("The pinned post")
    alice.status("A newer post")
    assert alice.post(f"/api/v1/statuses/{pinned['id']}/pin").status_code == 200

    visitor = browser(client)
    page = visitor.get("/@alice")
    assert page.status_code == 200
    html = page.text
    assert "<h1" in html and "alice" in html
    assert "A top-level post" in html and "My reply to someone" not in html
    assert html.index("Pinned posts") < html.index("The pinned post") < html.index("A newer post")
    assert 'href="/report?account=' in html
    assert "Log in to follow" in html

    replies = visitor.get("/@alice/with_replies").text
    assert "My reply to someone" in replies and "A top-level post" in replies
    assert "Pinned posts" not in replies

    media = visitor.get("/@alice/media").text
    assert "A post with a picture" in media and "A top-level post" not in media
    assert 'aria-current="page">Media' in media


def test_follow_a_locked_account_then_authorize(client: TestClient) -> None:
    make_user(client, "locked_lea", locked=True)
    lea = browser(client)
    log_in(lea, "locked_lea@example.org", PASSWORD)
    bob = browser(client)
    sign_up(bob, "bob")
    lea_id = account_id(client, "locked_lea")

    profile = bob.get("/@locked_lea").text
    assert "Approves followers" in profile
    assert f'action="/accounts/{lea_id}/follow' in profile
    r = submit(bob, "/@locked_lea", f"/accounts/{lea_id}/follow?next=/@locked_lea")
    assert r.status_code == 303 and r.headers["location"] == "/@locked_lea"
    profile = bob.get("/@locked_lea").text
    assert "Cancel follow request" in profile and "Follow requested" in profile

    notes = lea.get("/notifications").text
    assert "asked to follow you" in notes
    requests = lea.get("/follow_requests").text
    assert "@bob" in requests
    bob_id = account_id(client, "bob")
    r = submit(lea, "/follow_requests", f"/follow_requests/{bob_id}/authorize")
    assert r.status_code == 303
    assert "No follow requests." in lea.get("/follow_requests").text

    profile = bob.get("/@locked_lea").text
    assert ">Unfollow<" in profile
    assert "@bob" in lea.get("/@locked_lea/followers").text
    assert "@locked_lea" in bob.get("/@bob/following").text
    assert "followed you" in lea.get("/notifications").text

    # Unfollow, then ask again and have it rejected.
    submit(bob, "/@locked_lea", f"/accounts/{lea_id}/unfollow")
    submit(bob, "/@locked_lea", f"/accounts/{lea_id}/follow")
    r = submit(lea, "/follow_requests", f"/follow_requests/{bob_id}/reject")
    assert r.status_code == 303
    assert ">Follow<" in bob.get("/@locked_lea").text


def test_follow_an_open_account_with_htmx_swaps_the_buttons(client: TestClient) -> None:
    make_user(client, "open_olga")
    olga_id = account_id(client, "open_olga")
    bob = browser(client)
    sign_up(bob)
    token = csrf(bob.get("/@open_olga").text)
    r = bob.post(
        f"/accounts/{olga_id}/follow",
        data={"csrf": token},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div class="profile-actions" id="relationship">')
    assert "<html" not in r.text and ">Unfollow<" in r.text
    assert "?next=/%40open_olga" in r.text or "?next=/@open_olga" in r.text


def test_block_and_mute(client: TestClient) -> None:
    make_user(client, "carol")
    carol_id = account_id(client, "carol")
    bob = browser(client)
    sign_up(bob)

    submit(bob, "/@carol", f"/accounts/{carol_id}/mute")
    page = bob.get("/@carol").text
    assert ">Unmute<" in page
    submit(bob, "/@carol", f"/accounts/{carol_id}/unmute")
    assert ">Mute<" in bob.get("/@carol").text

    submit(bob, "/@carol", f"/accounts/{carol_id}/follow")
    submit(bob, "/@carol", f"/accounts/{carol_id}/block")
    page = bob.get("/@carol").text
    assert "You block this account." in page and ">Unblock<" in page
    assert ">Unfollow<" not in page  # a block ends the follow
    assert "0 followers" in page
    submit(bob, "/@carol", f"/accounts/{carol_id}/unblock")
    page = bob.get("/@carol").text
    assert ">Block<" in page and ">Follow<" in page


def test_own_profile_and_hidden_collections(client: TestClient) -> None:
    dora = make_user(client, "dora")
    r = dora.patch("/api/v1/accounts/update_credentials", data={"hide_collections": "true"})
    assert r.status_code == 200, r.text
    visitor = browser(client)
    assert "keeps this list private" in visitor.get("/@dora/followers").text
    me = browser(client)
    log_in(me, "dora@example.org", PASSWORD)
    own = me.get("/@dora").text
    assert "Edit profile" in own and 'id="relationship"' not in own
    assert "keeps this list private" not in me.get("/@dora/followers").text


def test_bad_input(client: TestClient) -> None:
    make_user(client, "erin")
    erin_id = account_id(client, "erin")
    web = browser(client)
    for path in ("/@nobody", "/@nobody/media", "/@nobody/followers", "/@erin/12345"):
        r = web.get(path)
        assert r.status_code == 404, path
        assert "Not found" in r.text
    assert web.get("/@erin/not-a-number").status_code == 404
    # Not signed in: actions lead to the login page; follow requests too.
    r = submit(web, "/@erin", f"/accounts/{erin_id}/follow")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert (
        web.get("/follow_requests", follow_redirects=False).headers["location"].startswith("/login")
    )
    me = sign_up(web)
    # No CSRF token: refused, nothing done.
    r = web.post(f"/accounts/{erin_id}/follow", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert ">Follow<" in web.get("/@erin").text
    # Unknown action, bad id, unknown account, oneself.
    assert submit(web, "/@erin", f"/accounts/{erin_id}/befriend").status_code == 404
    assert submit(web, "/@erin", "/accounts/abc/follow").status_code == 404
    assert submit(web, "/@erin", "/accounts/999999999/follow").status_code == 404
    r = submit(web, "/@erin", f"/accounts/{account_id(client, me)}/follow")
    assert r.status_code == 403 and "That did not work" in r.text
    r = submit(web, "/follow_requests", f"/follow_requests/{erin_id}/authorize")
    assert r.status_code == 404 and "That did not work" in r.text


def test_pages_render_in_french(client: TestClient) -> None:
    make_user(client, "fabien").status("Bonjour")
    web = browser(client)
    web.headers["Accept-Language"] = "fr"
    sign_up(web, "francoise")
    for path in ("/@fabien", "/@fabien/with_replies", "/@fabien/followers", "/@francoise"):
        r = web.get(path)
        assert r.status_code == 200 and '<html lang="fr">' in r.text, path
    for path in ("/follow_requests", "/notifications", "/search?q=bonjour", "/bookmarks"):
        assert web.get(path).status_code == 200, path


def test_mute_for_a_while(client: TestClient, parvis: Parvis) -> None:
    """The mute form offers a duration (Mastodon's `duration`); the mute ends by itself."""
    start = datetime.now(UTC)
    parvis.runtime.clock = lambda: start
    make_user(client, "dora")
    dora_id = account_id(client, "dora")
    bob = browser(client)
    sign_up(bob)
    page = bob.get("/@dora").text
    assert 'name="duration"' in page and 'value="3600"' in page

    r = submit(bob, "/@dora", f"/accounts/{dora_id}/mute", duration="3600")
    assert r.status_code == 303, r.text
    page = bob.get("/@dora").text
    assert ">Unmute<" in page and 'name="duration"' not in page
    parvis.runtime.clock = lambda: start + timedelta(minutes=59)
    assert ">Unmute<" in bob.get("/@dora").text
    parvis.runtime.clock = lambda: start + timedelta(minutes=61)
    assert ">Mute<" in bob.get("/@dora").text  # over by itself

    r = submit(bob, "/@dora", f"/accounts/{dora_id}/mute", duration="forever")
    assert r.status_code == 422 and "duration must be between 0 (forever) and 10 years" in r.text
    r = submit(bob, "/@dora", f"/accounts/{dora_id}/mute")  # no choice: until unmuted
    assert r.status_code == 303
    parvis.runtime.clock = lambda: start + timedelta(days=3650)
    assert ">Unmute<" in bob.get("/@dora").text
