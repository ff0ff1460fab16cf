"""The notifications page: each kind said in a sentence, with its post; "mark all as read"."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import make_user
from tests.web.browser import browser, log_in, sign_up, submit

PASSWORD = "correct horse battery"


def test_a_favourite_appears_then_is_marked_read(client: TestClient) -> None:
    make_user(client, "nina")
    nina = browser(client)
    log_in(nina, "nina@example.org", PASSWORD)
    r = submit(nina, "/home", "/statuses", status="Notify me about this post")
    assert r.status_code == 303
    post_id = r.headers["location"].rsplit("/", 1)[1]

    fan = browser(client)
    sign_up(fan, "fan")
    assert submit(fan, "/@nina", f"/statuses/{post_id}/favourite").status_code == 303
    assert submit(fan, "/@nina", "/statuses", status="Hello @nina").status_code == 303

    page = nina.get("/notifications")
    assert page.status_code == 200
    html = page.text
    assert 'href="/@fan"><bdi>fan</bdi></a> favourited your post' in html
    assert "Notify me about this post" in html
    assert 'href="/@fan"><bdi>fan</bdi></a> mentioned you' in html
    assert "2 new notifications" in html and 'class="notification unread"' in html

    r = submit(nina, "/notifications", "/notifications/read", last_read_id=_first_id(html))
    assert r.status_code == 303 and r.headers["location"] == "/notifications"
    html = nina.get("/notifications").text
    assert "No new notifications." in html and "unread" not in html
    assert "favourited your post" in html  # still listed, no longer new


def _first_id(html: str) -> str:
    return html.split('name="last_read_id" value="')[1].split('"')[0]


def test_hostile_names_are_escaped(client: TestClient) -> None:
    make_user(client, "target")
    target = browser(client)
    log_in(target, "target@example.org", PASSWORD)
    evil = make_user(client, "evil")
    r = evil.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "<script>x()</script>"}
    )
    assert r.status_code == 200
    evil.post(f"/api/v1/accounts/{_id(client, 'target')}/follow")
    html = target.get("/notifications").text
    assert "<script>x()" not in html and "&lt;script&gt;x()" in html
    assert "followed you" in html


def _id(client: TestClient, username: str) -> str:
    return str(client.get("/api/v1/accounts/lookup", params={"acct": username}).json()["id"])


def test_bad_input(client: TestClient) -> None:
    web = browser(client)
    r = web.get("/notifications", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    sign_up(web)
    assert "No notifications yet." in web.get("/notifications").text
    assert web.get("/notifications?max_id=abc").status_code == 200
    for value in ("", "abc", "-1"):
        r = submit(web, "/notifications", "/notifications/read", last_read_id=value)
        assert r.status_code == 303
    assert web.post("/notifications/read", data={"last_read_id": "1"}).status_code == 403


def test_favourites_of_one_post_are_grouped(client: TestClient) -> None:
    """Like Mastodon's grouped notifications: three people favourite one post, one sentence;
    a mention stays on its own."""
    author = make_user(client)
    post = author.status("Group these")
    fans = [make_user(client) for _ in range(3)]
    for fan in fans:
        assert fan.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    fans[0].status(f"Hello @{author.username}")
    web = browser(client)
    log_in(web, f"{author.username}@example.org", PASSWORD)
    html = web.get("/notifications").text
    latest = fans[-1].username
    assert f"<bdi>{latest}</bdi></a> and 2 others favourited your post" in html
    assert html.count("favourited your post") == 1
    assert "mentioned you" in html
    assert html.count('<li class="notification') == 2
