"""The ranked feeds in the web app (issue 7): each post with its "Why am I seeing this?", paging
with "Load more", the page saying how a feed works with the visitor's values, Settings → Feeds
(weights saved within bounds, refused outside them with nothing saved, reset; the two options),
and the same pages in French."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from tests.builders import User, follow, make_user, ok
from tests.web.browser import browser, csrf, log_in, submit

PASSWORD = "correct horse battery"
WHY = "Why am I seeing this?"


def signed_in(client: TestClient, authors: int = 2, posts: int = 3) -> tuple[TestClient, User]:
    """A reader signed in to the web app, following `authors` people who posted `posts` times."""
    reader = make_user(client)
    for _ in range(authors):
        author = make_user(client)
        follow(reader, author)
        for n in range(posts):
            author.status(f"Ranked post {n} of {author.username}")
    web = browser(client)
    log_in(web, f"{reader.username}@example.org", PASSWORD)
    return web, reader


def custom(reader: User, feed: str = "for_you") -> dict[str, float]:
    return dict(ok(reader.get(f"/api/parvis/v1/feeds/{feed}/weights"))["custom"])


def test_signed_out_visitors_are_sent_to_log_in(client: TestClient) -> None:
    for path in ("/feeds/for_you", "/feeds/bridging", "/settings/feeds"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    # How a feed works is public, with the published defaults.
    page = client.get("/feeds/for_you/about")
    assert page.status_code == 200
    assert "recency_weight" in page.text and "Yours" not in page.text


def test_unknown_feeds_are_not_found(client: TestClient) -> None:
    web, _ = signed_in(client, authors=0)
    assert web.get("/feeds/nope").status_code == 404
    assert web.get("/feeds/nope/about").status_code == 404
    r = submit(web, "/settings/feeds", "/settings/feeds/nope", recency_weight="1")
    assert r.status_code == 404


def test_each_post_says_why_it_is_there(client: TestClient) -> None:
    web, _ = signed_in(client)
    page = web.get("/feeds/for_you")
    assert page.status_code == 200
    html = page.text
    assert html.count("Ranked post") == 6
    assert html.count(f"<summary>{WHY}</summary>") == 6
    assert html.count('<div class="ranked-item">') == 6
    for words in (
        "Recency",
        "Posted",
        "From someone you follow",
        "Your interactions with the author",
    ):
        assert words in html
    assert re.search(r'class="why-points">\+\d+\.\d\d<', html)  # signed contributions
    assert 'href="/feeds/for_you/about"' in html
    assert 'aria-current="page">For you<' in html  # the navigation
    assert "Load more" not in html  # everything fits on one page


def test_the_reasons_come_from_the_posts_own_values(client: TestClient) -> None:
    web, reader = signed_in(client, authors=0)
    friend, stranger = make_user(client), make_user(client)
    follow(reader, friend)
    liked = stranger.status("Favourited by a friend", language="fr")
    ok(friend.post(f"/api/v1/statuses/{liked['id']}/favourite"))
    html = web.get("/feeds/for_you").text
    reasons = re.findall(r'class="why-reason">([^<]*)<', html)
    assert "Favourited by 1 person you follow" in reasons
    assert "Favourites: 1 · boosts: 0 · replies: 0" in reasons
    assert "Not in your languages" in reasons  # in French; the reader writes English
    assert re.search(r'class="why-points">\+0\.00<', html)  # from beyond: no following points


def test_load_more_continues_the_ranking(client: TestClient) -> None:
    web, _ = signed_in(client, authors=7, posts=4)  # 28 posts: two pages of 20
    first = web.get("/feeds/for_you").text
    more = re.search(r'<a href="\?max_id=(\d+)">Load more</a>', first)
    assert more is not None
    second = web.get(f"/feeds/for_you?max_id={more.group(1)}").text
    ids = re.findall(r'<article class="status" id="status-(\d+)"', first + second)
    assert len(ids) == 28 and len(set(ids)) == 28
    ranks = [int(r) for r in re.findall(r"Ranked (\d+) with a score", first + second)]
    assert ranks == list(range(1, 29))
    assert "Load more" not in second


def test_the_bridging_feed_page_renders_empty(client: TestClient) -> None:
    web, _ = signed_in(client)
    page = web.get("/feeds/bridging")
    assert page.status_code == 200 and "Nothing bridges yet" in page.text


def test_weights_are_saved_and_shown(client: TestClient) -> None:
    web, reader = signed_in(client)
    r = submit(
        web, "/settings/feeds", "/settings/feeds/for_you", recency_weight="2.5", label_weight="0.5"
    )
    assert r.status_code == 303 and r.headers["location"] == "/settings/feeds?saved=1#feed-for_you"
    assert custom(reader) == {"recency_weight": 2.5}  # an unchanged default is not stored
    page = web.get("/settings/feeds?saved=1").text
    assert "Your changes were saved." in page
    assert re.search(r'id="for_you-recency_weight"[^>]* value="2.5"', page)
    about = web.get("/feeds/for_you/about").text
    assert '<td data-label="Yours" class="changed">2.5</td>' in about
    # The feed uses it: the recency part's weight is the user's.
    first = ok(reader.get("/api/parvis/v1/feeds/for_you"))[0]["explanation"]["parts"]
    assert next(p for p in first if p["signal"] == "recency")["weight"] == 2.5
    r = submit(web, "/settings/feeds", "/settings/feeds/for_you/reset")
    assert r.status_code == 303
    assert custom(reader) == {}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("9", "recency_weight must be between 0 and 3."),
        ("-1", "recency_weight must be between 0 and 3."),
        ("lots", "recency_weight must be a number."),
        ("nan", "recency_weight must be a number."),
    ],
)
def test_weights_out_of_bounds_are_refused_and_nothing_is_saved(
    client: TestClient, typed: str, message: str
) -> None:
    web, reader = signed_in(client, authors=0)
    r = submit(
        web,
        "/settings/feeds",
        "/settings/feeds/for_you",
        affinity_weight="2",  # valid, but refused with the rest
        recency_weight=typed,
    )
    assert r.status_code == 422
    assert f'<p class="error" role="alert">{message}</p>' in r.text
    assert re.search(rf'id="for_you-recency_weight"[^>]* value="{re.escape(typed)}"', r.text)
    assert custom(reader) == {}


def test_the_options_are_saved(client: TestClient) -> None:
    web, reader = signed_in(client, authors=0)
    page = web.get("/settings/feeds").text
    assert not re.search(r'id="lists_in_apps"[^>]* checked', page)  # opt-in
    assert not re.search(r'id="viewpoint_opt_out"[^>]* checked', page)
    assert ok(reader.get("/api/v1/lists")) == []
    r = submit(web, "/settings/feeds", "/settings/feeds/options", lists_in_apps="on")
    assert [x["id"] for x in ok(reader.get("/api/v1/lists"))] == ["feed-for_you", "feed-bridging"]
    r = submit(web, "/settings/feeds", "/settings/feeds/options", viewpoint_opt_out="on")
    assert r.status_code == 303
    page = web.get("/settings/feeds").text
    assert not re.search(r'id="lists_in_apps"[^>]* checked', page)
    assert re.search(r'id="viewpoint_opt_out"[^>]* checked', page)
    assert ok(reader.get("/api/v1/lists")) == []  # no longer in the apps
    r = submit(web, "/settings/feeds", "/settings/feeds/options", lists_in_apps="on")
    assert [x["id"] for x in ok(reader.get("/api/v1/lists"))] == ["feed-for_you", "feed-bridging"]
    assert not re.search(r'id="viewpoint_opt_out"[^>]* checked', web.get("/settings/feeds").text)


def test_a_form_without_its_csrf_token_changes_nothing(client: TestClient) -> None:
    web, reader = signed_in(client, authors=0)
    r = web.post("/settings/feeds/for_you", data={"recency_weight": "2"}, follow_redirects=False)
    assert r.status_code == 403
    token = csrf(web.get("/settings/feeds").text)
    forged = {"csrf": token + "x", "lists_in_apps": "on"}
    r = web.post("/settings/feeds/options", data=forged, follow_redirects=False)
    assert r.status_code == 403
    assert custom(reader) == {}
    assert ok(reader.get("/api/v1/lists")) == []  # the option stayed off


def test_the_pages_speak_french(client: TestClient) -> None:
    web, reader = signed_in(client)
    r = submit(
        web,
        "/settings/preferences",
        "/settings/preferences",
        default_visibility="public",
        locale="fr",
    )
    assert r.status_code == 303
    page = web.get("/feeds/for_you").text
    assert "Pourquoi est-ce que je vois ceci\u202f?" in page
    assert "Fraîcheur" in page and "De quelqu’un que vous suivez" in page
    assert ">Pour vous<" in page  # the navigation
    settings = web.get("/settings/feeds").text
    assert "Poids de la fraîcheur" in settings and "Rétablir les valeurs par défaut" in settings
    r = submit(web, "/settings/feeds", "/settings/feeds/for_you", recency_weight="9")
    assert "recency_weight doit être compris entre 0 et 3." in r.text
    r = submit(web, "/settings/feeds", "/settings/feeds/for_you", recency_weight="1,5")
    assert r.status_code == 303 and custom(reader) == {"recency_weight": 1.5}
    about = web.get("/feeds/for_you/about").text
    assert "Comment fonctionne" in about and '<td data-label="Par défaut">0,5</td>' in about


def test_one_sees_ones_own_estimated_position_and_no_one_elses(
    parvis: Parvis, client: TestClient
) -> None:
    web, reader = signed_in(client, authors=0)
    assert "Your position is not estimated" in web.get("/settings/feeds").text
    other = make_user(client)
    ids = {int(reader.id): -0.25, int(other.id): 0.75}
    parvis.runtime.write(lambda w: w.store.ranked.replace_viewpoints(ids, {}, w.now()))
    page = web.get("/settings/feeds").text
    assert "Your estimated position, seen by you only: -0.25" in page
    assert "0.75" not in page
    submit(web, "/settings/feeds", "/settings/feeds/options", viewpoint_opt_out="on")
    assert "Your position is not estimated" in web.get("/settings/feeds").text  # deleted
