"""Bookmarks and favourites pages."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import make_user
from tests.web.browser import browser, sign_up, submit


def test_bookmarks_and_favourites_list_the_marked_posts(client: TestClient) -> None:
    author = make_user(client, "writer")
    kept = author.status("A post worth keeping")
    liked = author.status("A post worth liking")
    web = browser(client)
    sign_up(web)
    assert "no bookmarks yet" in web.get("/bookmarks").text
    assert submit(web, "/@writer", f"/statuses/{kept['id']}/bookmark").status_code == 303
    assert submit(web, "/@writer", f"/statuses/{liked['id']}/favourite").status_code == 303

    html = web.get("/bookmarks").text
    assert "<h1>Bookmarks</h1>" in html
    assert "A post worth keeping" in html and "A post worth liking" not in html
    html = web.get("/favourites").text
    assert "A post worth liking" in html and "A post worth keeping" not in html

    submit(web, "/bookmarks", f"/statuses/{kept['id']}/unbookmark")
    assert "A post worth keeping" not in web.get("/bookmarks").text


def test_visitors_are_sent_to_log_in(client: TestClient) -> None:
    web = browser(client)
    for path in ("/bookmarks", "/favourites"):
        r = web.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    sign_up(web)
    assert web.get("/favourites?max_id=nonsense").status_code == 200
