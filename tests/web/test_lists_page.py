"""Lists pages: create, add a followed account, read the list's timeline, rename, remove,
delete; bad input shown again with a message."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.builders import make_user
from tests.web.browser import browser, log_in, submit

PASSWORD = "correct horse battery"


def test_list_with_a_member_shows_their_post(client: TestClient) -> None:
    alice, bob, carol = make_user(client, "alice"), make_user(client, "bob"), make_user(client)
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 200
    bob.status("Bob's post for the list")
    carol.status("Carol is not in the list")
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    assert "You have no lists yet." in web.get("/lists").text

    r = submit(web, "/lists", "/lists", title="Friends", replies_policy="list")
    assert r.status_code == 303
    edit = r.headers["location"]
    list_id = re.fullmatch(r"/lists/(\d+)/edit", edit).group(1)  # type: ignore[union-attr]
    page = web.get(edit).text
    assert f'<option value="{bob.id}">' in page  # followed: can be added
    assert f'value="{carol.id}"' not in page  # not followed: not offered

    r = submit(web, edit, f"/lists/{list_id}/add", account_id=bob.id)
    assert r.status_code == 303
    assert "@bob" in web.get(edit).text
    timeline = web.get(f"/lists/{list_id}").text
    assert "Bob&#39;s post for the list" in timeline or "Bob's post for the list" in timeline
    assert "Carol is not in the list" not in timeline
    assert "Friends" in web.get("/lists").text

    r = submit(web, edit, f"/lists/{list_id}/update", title="Close friends", replies_policy="none")
    assert r.status_code == 303
    assert "Close friends" in web.get(f"/lists/{list_id}").text

    r = submit(web, edit, f"/lists/{list_id}/remove", account_id=bob.id)
    assert r.status_code == 303
    assert "Nobody is in this list yet." in web.get(edit).text

    r = submit(web, edit, f"/lists/{list_id}/delete")
    assert r.status_code == 303 and r.headers["location"] == "/lists"
    assert web.get(f"/lists/{list_id}").status_code == 404


def test_bad_list_input_is_shown_again(client: TestClient) -> None:
    make_user(client, "alice")
    stranger = make_user(client)
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    r = submit(web, "/lists", "/lists", title="   ")
    assert r.status_code == 422 and 'role="alert"' in r.text and "blank" in r.text
    r = submit(web, "/lists", "/lists", title="Mine")
    edit = r.headers["location"]
    list_id = edit.split("/")[2]
    r = submit(web, edit, f"/lists/{list_id}/add", account_id=stranger.id)
    assert r.status_code == 422 and "not been followed" in r.text
    r = submit(web, edit, f"/lists/{list_id}/update", title="")
    assert r.status_code == 422 and 'role="alert"' in r.text


def test_someone_elses_list_is_not_found(client: TestClient) -> None:
    alice = make_user(client, "alice")
    made = alice.post("/api/v1/lists", data={"title": "Private"}).json()
    make_user(client, "bob")
    web = browser(client)
    log_in(web, "bob@example.org", PASSWORD)
    assert web.get(f"/lists/{made['id']}").status_code == 404
    assert web.get(f"/lists/{made['id']}/edit").status_code == 404
    assert submit(web, "/lists", f"/lists/{made['id']}/delete").status_code == 404
    assert alice.get(f"/api/v1/lists/{made['id']}").status_code == 200
    assert client.get("/lists", follow_redirects=False).status_code == 303


def test_lists_forms_are_boosted_and_errors_come_back_in_place(client: TestClient) -> None:
    """hx-boost on the lists pages: a refused form answers 200 to htmx (swapped in, with its
    message) and 422 without it; a created list redirects as without JavaScript."""
    make_user(client, "alice")
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    page = web.get("/lists").text
    assert 'class="boosted" hx-boost="true"' in page
    r = submit(web, "/lists", "/lists", title="  ")
    assert r.status_code == 422
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = web.post("/lists", data={"csrf": token, "title": "  "}, headers=boosted)
    assert r.status_code == 200 and 'role="alert"' in r.text and "blank" in r.text
    r = web.post(
        "/lists",
        data={"csrf": token, "title": "Friends", "replies_policy": "list"},
        headers=boosted,
        follow_redirects=False,
    )
    assert r.status_code == 303
    edit = web.get(r.headers["location"], headers=boosted).text
    assert 'hx-boost="true"' in edit and "Friends" in edit
