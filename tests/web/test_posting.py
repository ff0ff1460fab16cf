"""Posting in the web app: compose (content warning, visibility, language, images with alt
text, poll, quote), voting, edit with history, delete; bad input is shown again with a message."""

from __future__ import annotations

import io
import re

from PIL import Image
from starlette.testclient import TestClient

from tests.web.browser import browser, csrf, sign_up


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "JPEG")
    return out.getvalue()


def post(web: TestClient, page: str = "/home", files: dict | None = None, **fields: str):  # type: ignore[no-untyped-def,type-arg]
    token = csrf(web.get(page).text)
    return web.post(
        "/statuses", data={"csrf": token, **fields}, files=files or None, follow_redirects=False
    )


def status_id(location: str) -> str:
    found = re.search(r"/(\d+)$", location)
    assert found, location
    return found.group(1)


def test_compose_page_has_the_controls(client: TestClient) -> None:
    sign_up(client)
    html = client.get("/home").text
    assert 'enctype="multipart/form-data"' in html
    for control in (
        'name="spoiler_text"',
        'name="visibility"',
        'name="language"',
        'name="media_1"',
        'name="alt_1"',
        'name="poll_option_1"',
        'name="poll_expires_in"',
        'name="poll_multiple"',
        "<dialog",
    ):
        assert control in html
    assert "/assets/compose.js" in html


def test_post_with_warning_visibility_and_language(client: TestClient) -> None:
    name = sign_up(client)
    r = post(
        client,
        status="Bonjour tout le monde",
        spoiler_text="Salut",
        visibility="unlisted",
        language="fr",
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/@{name}/")
    page = client.get(r.headers["location"]).text
    assert "Salut" in page and "Bonjour tout le monde" in page
    assert 'lang="fr"' in page
    sid = status_id(r.headers["location"])
    api = client.get(f"/api/v1/statuses/{sid}").json()
    assert api["visibility"] == "unlisted"
    assert api["language"] == "fr"
    assert api["spoiler_text"] == "Salut"


def test_post_with_an_image_and_its_alt_text(client: TestClient) -> None:
    sign_up(client)
    r = post(
        client,
        files={"media_1": ("cat.jpg", jpeg(), "image/jpeg")},
        status="My cat",
        alt_1="A ginger cat asleep on a red chair",
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert 'alt="A ginger cat asleep on a red chair"' in page
    src = re.search(r'<img src="(/media/[^"]+)" alt="A ginger', page)
    assert src
    assert client.get(src.group(1)).status_code == 200


def test_image_without_alt_text_may_still_be_posted(client: TestClient) -> None:
    sign_up(client)
    r = post(client, files={"media_1": ("a.jpg", jpeg(), "image/jpeg")}, status="")
    assert r.status_code == 303, r.text


def test_bad_image_is_refused_with_a_message(client: TestClient) -> None:
    sign_up(client)
    r = post(
        client,
        files={"media_1": ("x.jpg", b"this is not an image", "image/jpeg")},
        status="Look",
        alt_1="nothing",
    )
    assert r.status_code == 422
    assert 'role="alert"' in r.text
    assert "not a supported image" in r.text
    assert "Look" in r.text  # the draft is kept
    assert "Choose your images again" in r.text


def test_empty_and_too_long_posts_are_refused_with_a_message(client: TestClient) -> None:
    sign_up(client)
    r = post(client, status="   ")
    assert r.status_code == 422
    assert "can&#39;t be blank" in r.text or "can't be blank" in r.text
    r = post(client, status="x" * 600, spoiler_text="cw kept")
    assert r.status_code == 422
    assert "character limit" in r.text
    assert "cw kept" in r.text


def test_poll_and_voting(client: TestClient) -> None:
    sign_up(client)
    r = post(
        client,
        status="Tea or coffee?",
        poll_option_1="Tea",
        poll_option_2="Coffee",
        poll_expires_in="3600",
    )
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    own = client.get(location).text
    assert "Tea" in own and "<meter" in own  # the author sees results, not a vote form

    voter = browser(client)
    sign_up(voter)
    page = voter.get(location).text
    poll_id = re.search(r'action="/polls/(\d+)/votes', page)
    assert poll_id, page
    r = voter.post(
        f"/polls/{poll_id.group(1)}/votes?next={location}",
        data={"csrf": csrf(page), "choices": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    after = voter.get(location).text
    assert "(your vote)" in after
    assert "1 vote" in after
    # Voting twice is refused with a message, not a 500.
    r = voter.post(f"/polls/{poll_id.group(1)}/votes", data={"csrf": csrf(after), "choices": "0"})
    assert r.status_code == 422
    assert "already voted" in r.text


def test_poll_with_one_answer_is_refused(client: TestClient) -> None:
    sign_up(client)
    r = post(client, status="Poll?", poll_option_1="Only one")
    assert r.status_code == 422
    assert "between 2 and" in r.text
    assert 'value="Only one"' in r.text


def test_poll_vote_with_htmx_returns_the_card(client: TestClient) -> None:
    sign_up(client)
    location = post(client, status="Q", poll_option_1="A", poll_option_2="B").headers["location"]
    voter = browser(client)
    sign_up(voter)
    page = voter.get(location).text
    poll_id = re.search(r'action="/polls/(\d+)/votes', page).group(1)  # type: ignore[union-attr]
    r = voter.post(
        f"/polls/{poll_id}/votes",
        data={"csrf": csrf(page), "choices": "0"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith("<article")


def test_edit_and_history(client: TestClient) -> None:
    sign_up(client)
    location = post(client, status="First version").headers["location"]
    sid = status_id(location)
    page = client.get(f"/statuses/{sid}/edit")
    assert page.status_code == 200
    assert "First version" in page.text
    r = client.post(
        f"/statuses/{sid}/edit",
        data={"csrf": csrf(page.text), "status": "Second version", "language": "en"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    shown = client.get(location).text
    assert "Second version" in shown
    assert f'href="/statuses/{sid}/history"' in shown
    history = client.get(f"/statuses/{sid}/history")
    assert history.status_code == 200
    assert "First version" in history.text and "Second version" in history.text


def test_edit_refuses_empty_text_and_others_posts(client: TestClient) -> None:
    sign_up(client)
    sid = status_id(post(client, status="Mine").headers["location"])
    page = client.get(f"/statuses/{sid}/edit").text
    r = client.post(f"/statuses/{sid}/edit", data={"csrf": csrf(page), "status": ""})
    assert r.status_code == 422
    assert 'role="alert"' in r.text
    other = browser(client)
    sign_up(other)
    assert other.get(f"/statuses/{sid}/edit").status_code == 404
    r = other.post(
        f"/statuses/{sid}/edit", data={"csrf": csrf(other.get("/home").text), "status": "hijack"}
    )
    assert r.status_code == 404
    assert other.get(f"/statuses/{sid}/delete").status_code == 404


def test_edit_keeps_images_and_changes_their_alt_text(client: TestClient) -> None:
    sign_up(client)
    location = post(
        client, files={"media_1": ("a.jpg", jpeg(), "image/jpeg")}, status="Pic", alt_1="old words"
    ).headers["location"]
    sid = status_id(location)
    page = client.get(f"/statuses/{sid}/edit").text
    media_id = re.search(r'name="alt_(\d+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(
        f"/statuses/{sid}/edit",
        data={"csrf": csrf(page), "status": "Pic", f"alt_{media_id}": "new words"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'alt="new words"' in client.get(location).text


def test_delete_asks_then_deletes(client: TestClient) -> None:
    sign_up(client)
    location = post(client, status="Soon gone").headers["location"]
    sid = status_id(location)
    card = client.get(location).text
    assert f'href="/statuses/{sid}/delete"' in card
    confirm = client.get(f"/statuses/{sid}/delete")
    assert confirm.status_code == 200
    assert "Delete this post?" in confirm.text
    assert "<script" not in confirm.text.split("</head>")[1]
    r = client.post(
        f"/statuses/{sid}/delete", data={"csrf": csrf(confirm.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.get(location).status_code == 404


def test_quote(client: TestClient) -> None:
    author = browser(client)
    sign_up(author)
    quoted_location = post(author, status="Worth quoting").headers["location"]
    qid = status_id(quoted_location)
    sign_up(client)
    card = client.get(quoted_location).text
    assert f'href="/compose?quote={qid}"' in card
    page = client.get(f"/compose?quote={qid}")
    assert page.status_code == 200
    assert "Worth quoting" in page.text
    assert f'name="quoted_status_id" value="{qid}"' in page.text
    r = client.post(
        "/statuses",
        data={"csrf": csrf(page.text), "status": "So true", "quoted_status_id": qid},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    shown = client.get(r.headers["location"]).text
    assert "So true" in shown
    assert 'class="quoted"' in shown and "Worth quoting" in shown


def test_quote_of_a_missing_post_is_not_found(client: TestClient) -> None:
    sign_up(client)
    assert client.get("/compose?quote=123456").status_code == 404


def test_compose_needs_a_session(client: TestClient) -> None:
    r = client.get("/compose?quote=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=/compose")


def test_hostile_alt_text_is_escaped(client: TestClient) -> None:
    sign_up(client)
    r = post(
        client,
        files={"media_1": ("a.jpg", jpeg(), "image/jpeg")},
        status="x",
        alt_1='"><script>alert(1)</script>',
    )
    page = client.get(r.headers["location"]).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page or "&#34;&gt;&lt;script" in page


def test_reply_from_the_thread_page(client: TestClient) -> None:
    author = browser(client)
    name = sign_up(author)
    location = post(author, status="Question").headers["location"]
    sign_up(client)
    page = client.get(location).text
    assert f"@{name} </textarea>" in page  # the reply box addresses the author
    sid = status_id(location)
    r = client.post(
        f"/statuses?next={location}",
        data={"csrf": csrf(page), "status": f"@{name} Answer", "in_reply_to_id": sid},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Answer" in client.get(location).text


def test_compose_page_for_a_reply(client: TestClient) -> None:
    sign_up(client)
    sid = status_id(post(client, status="Thread start").headers["location"])
    page = client.get(f"/compose?in_reply_to={sid}")
    assert page.status_code == 200
    assert "Thread start" in page.text
    assert f'name="in_reply_to_id" value="{sid}"' in page.text
