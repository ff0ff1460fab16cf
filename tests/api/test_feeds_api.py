"""The ranked feeds through the API (issue 7): the public catalogue and algorithms, a page of a
feed with each post's explanation, paging through the Link header, the user's weights within
their bounds, and the feeds as read-only lists for Mastodon apps."""

from __future__ import annotations

import math
from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import feeds
from tests.builders import User, error_of, follow, links, make_user, ok

FEEDS = ["for_you", "bridging"]


def network(client: TestClient, authors: int = 3, posts: int = 4) -> tuple[User, list[str]]:
    """A reader who follows `authors` people, each of whom posted `posts` times; returns the
    reader and the ids of the posts."""
    reader = make_user(client)
    ids = []
    for a in range(authors):
        author = make_user(client)
        follow(reader, author)
        ids += [author.status(f"Post {n} by author {a}")["id"] for n in range(posts)]
    return reader, ids


def page_of(user: User, url: str, **params: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    r = user.get(url, params=params) if params else user.get(url)  # params={} drops the query
    return ok(r), links(r)


# -- the catalogue and the algorithms -------------------------------------------------------


def test_the_catalogue_is_public_and_points_to_each_algorithm(client: TestClient) -> None:
    found = ok(client.get("/api/parvis/v1/feeds"))
    assert [f["name"] for f in found] == FEEDS
    for feed in found:
        assert feed["title"] and feed["version"] and feed["summary"]
        assert feed["url"] == f"https://parvis.test/api/parvis/v1/feeds/{feed['name']}/algorithm"
        algorithm = ok(client.get(feed["url"].removeprefix("https://parvis.test")))
        assert algorithm["name"] == feed["name"] and algorithm["version"] == feed["version"]
        assert algorithm["inputs"] and algorithm["candidates"]
        names = [p["name"] for p in algorithm["parameters"]]
        assert "max_author_share" in names and len(names) == len(set(names))
        for p in algorithm["parameters"]:
            assert p["min"] <= p["default"] <= p["max"] and p["description"]


def test_an_unknown_feed_is_not_found_with_a_message(client: TestClient) -> None:
    reader = make_user(client)
    for path in ("/api/parvis/v1/feeds/nope/algorithm", "/api/parvis/v1/feeds/nope"):
        assert "nope" in error_of(reader.get(path), 404)
    assert "for_you" in error_of(reader.get("/api/parvis/v1/feeds/nope/weights"), 404)
    error_of(reader.put("/api/parvis/v1/feeds/nope/weights", json={}), 404)


def test_a_feed_and_weights_need_a_token(client: TestClient) -> None:
    for path in ("/api/parvis/v1/feeds/for_you", "/api/parvis/v1/feeds/for_you/weights"):
        error_of(client.get(path), 401)
    error_of(client.put("/api/parvis/v1/feeds/for_you/weights", json={}), 401)
    error_of(client.delete("/api/parvis/v1/feeds/for_you/weights"), 401)


# -- serving --------------------------------------------------------------------------------


def test_each_post_comes_with_an_explanation_whose_parts_sum_to_its_score(
    client: TestClient,
) -> None:
    reader, posted = network(client)
    statuses, _ = page_of(reader, "/api/parvis/v1/feeds/for_you", limit=40)
    assert sorted(s["id"] for s in statuses) == sorted(posted)
    ranks = [s["explanation"]["rank"] for s in statuses]
    assert ranks == sorted(ranks) and ranks[0] == 1
    for s in statuses:
        why = s["explanation"]
        assert why["feed"] == "for_you" and why["source"] == "following"
        assert math.isclose(
            sum(p["contribution"] for p in why["parts"]), why["score"], abs_tol=1e-5
        )
        signals = {p["signal"] for p in why["parts"]}
        assert {"recency", "affinity", "language", "following"} <= signals
        assert why["summary"] and all(p["text"] for p in why["parts"])
        assert s["account"]["username"] and "content" in s  # a Mastodon status otherwise


def test_boosts_and_posts_from_beyond_say_where_they_come_from(client: TestClient) -> None:
    reader, friend, stranger = make_user(client), make_user(client), make_user(client)
    follow(reader, friend)
    boosted = stranger.status("Boosted into the reader's home")
    boost = ok(friend.post(f"/api/v1/statuses/{boosted['id']}/reblog"))
    liked = stranger.status("Favourited by someone the reader follows")
    ok(friend.post(f"/api/v1/statuses/{liked['id']}/favourite"))
    statuses, _ = page_of(reader, "/api/parvis/v1/feeds/for_you")
    by_id = {s["id"]: s for s in statuses}
    assert set(by_id) == {boost["id"], liked["id"]}
    assert by_id[boost["id"]]["reblog"]["id"] == boosted["id"]
    assert by_id[boost["id"]]["explanation"]["source"] == "following"
    why = by_id[liked["id"]]["explanation"]
    assert why["source"] == "liked_by_following"
    following = next(p for p in why["parts"] if p["signal"] == "following")
    assert following["value"] == 0 and following["text"] == "Liked by people you follow (1)"


def test_the_link_header_pages_through_the_ranking_without_duplicates(client: TestClient) -> None:
    reader, posted = network(client, authors=6, posts=4)
    seen: list[str] = []
    ranks: list[int] = []
    url: str | None = "/api/parvis/v1/feeds/for_you?limit=7"
    pages = 0
    while url:
        statuses, rel = page_of(reader, url.removeprefix("https://parvis.test"))
        assert len(statuses) <= 7 and "prev" not in rel
        seen += [s["id"] for s in statuses]
        ranks += [s["explanation"]["rank"] for s in statuses]
        url = rel.get("next")
        pages += 1
        assert pages < 10
    assert len(seen) == len(set(seen)) == len(posted) and set(seen) == set(posted)
    assert ranks == list(range(1, len(posted) + 1))  # one ranking, continued
    assert pages == 4


def test_the_page_size_is_bounded(client: TestClient) -> None:
    reader, _ = network(client, authors=9, posts=5)
    assert len(page_of(reader, "/api/parvis/v1/feeds/for_you")[0]) == 20
    assert len(page_of(reader, "/api/parvis/v1/feeds/for_you", limit=500)[0]) == 40
    error_of(reader.get("/api/parvis/v1/feeds/for_you", params={"max_id": "abc"}), 422)


def test_the_bridging_feed_serves_too(client: TestClient) -> None:
    reader, _ = network(client, authors=1, posts=1)
    statuses, rel = page_of(reader, "/api/parvis/v1/feeds/bridging")
    assert statuses == [] and rel == {}  # no viewpoints computed yet: nothing bridges


# -- weights --------------------------------------------------------------------------------


def test_weights_within_bounds_are_kept_and_used(client: TestClient) -> None:
    reader, _ = network(client, authors=1, posts=1)
    url = "/api/parvis/v1/feeds/for_you/weights"
    before = ok(reader.get(url))
    assert before["custom"] == {} and before["weights"]["recency_weight"] == 1.0
    after = ok(reader.put(url, json={"recency_weight": 2.5, "half_life_hours": 6}))
    assert after["custom"] == {"recency_weight": 2.5, "half_life_hours": 6.0}
    assert after["weights"]["recency_weight"] == 2.5
    assert after["weights"]["affinity_weight"] == before["weights"]["affinity_weight"]
    assert ok(reader.get(url)) == after
    # The served explanation shows the user's weight at work.
    statuses, _ = page_of(reader, "/api/parvis/v1/feeds/for_you")
    recency = next(p for p in statuses[0]["explanation"]["parts"] if p["signal"] == "recency")
    assert recency["weight"] == 2.5
    # A form works as well (forms carry text).
    r = reader.put(url, data={"affinity_weight": "0.25"})
    assert ok(r)["custom"]["affinity_weight"] == 0.25
    reset = ok(reader.delete(url))
    assert reset["custom"] == {} and reset["weights"] == before["weights"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"recency_weight": 9}, "recency_weight must be between 0 and 3"),
        ({"demotion_weight": 1}, "demotion_weight must be between 2 and 5"),
        ({"recency_weight": "much"}, "recency_weight must be a number"),
        ({"recency_weight": True}, "recency_weight must be a number"),
        ({"no_such_thing": 1}, "no_such_thing is not a parameter of for_you"),
        ([1, 2], "must be an object"),
        ("2", "must be an object"),
    ],
)
def test_bad_weights_are_refused_naming_the_parameter(
    client: TestClient, body: Any, named: str
) -> None:
    reader = make_user(client)
    url = "/api/parvis/v1/feeds/for_you/weights"
    assert named in error_of(reader.put(url, json=body), 422)
    assert ok(reader.get(url))["custom"] == {}  # nothing saved


def test_one_bad_weight_refuses_the_whole_change_and_names_every_error(
    client: TestClient,
) -> None:
    reader = make_user(client)
    url = "/api/parvis/v1/feeds/bridging/weights"
    message = error_of(
        reader.put(url, json={"bridge_weight": 1, "one_sided_weight": -1, "recency_weight": 7}),
        422,
    )
    assert "one_sided_weight" in message and "recency_weight" in message
    assert ok(reader.get(url))["custom"] == {}


def test_weights_follow_the_account_scopes(client: TestClient) -> None:
    reader = make_user(client, scopes="read")
    url = "/api/parvis/v1/feeds/for_you/weights"
    assert ok(reader.get(url))["feed"] == "for_you"
    assert "write:accounts" in error_of(reader.put(url, json={"recency_weight": 1}), 403)


# -- the feeds as lists in Mastodon apps ----------------------------------------------------


def in_apps(parvis: Parvis, user: User) -> None:
    """The user turns on "Show the ranked feeds as lists in Mastodon apps" (Settings → Feeds)."""
    parvis.runtime.write(lambda w: feeds.set_lists_in_apps(w, int(user.id), True))


def test_the_feeds_are_lists_for_mastodon_apps(parvis: Parvis, client: TestClient) -> None:
    reader, posted = network(client, authors=6, posts=4)
    assert ok(reader.get("/api/v1/lists")) == []  # opt-in: nothing until the user asks
    in_apps(parvis, reader)
    mine = ok(reader.post("/api/v1/lists", json={"title": "Friends"}))
    shown = ok(reader.get("/api/v1/lists"))
    assert [x["id"] for x in shown] == [mine["id"], "feed-for_you", "feed-bridging"]
    assert shown[1] == {
        "id": "feed-for_you",
        "title": "For you (ranked)",
        "replies_policy": "list",
        "exclusive": False,
    }
    assert ok(reader.get("/api/v1/lists/feed-bridging"))["title"] == "Bridging (ranked)"

    # Its timeline is the ranked feed, paged with max_id through the Link header.
    seen: list[str] = []
    url: str | None = "/api/v1/timelines/list/feed-for_you?limit=10"
    while url:
        statuses, rel = page_of(reader, url.removeprefix("https://parvis.test"))
        seen += [s["id"] for s in statuses]
        url = rel.get("next")
    assert len(seen) == len(set(seen)) and set(seen) == set(posted)
    # A ranking has no newer end: polling for newer posts gives nothing twice.
    assert page_of(reader, "/api/v1/timelines/list/feed-for_you", min_id=seen[0]) == ([], {})


def test_a_feed_list_cannot_be_changed_by_an_app(parvis: Parvis, client: TestClient) -> None:
    reader = make_user(client)
    in_apps(parvis, reader)
    other = make_user(client)
    follow(reader, other)
    refusal = "This list is a Parvis ranked feed: change it in Settings → Feeds"
    assert error_of(reader.put("/api/v1/lists/feed-for_you", json={"title": "x"}), 422) == refusal
    body = {"account_ids": [other.id]}
    assert error_of(reader.post("/api/v1/lists/feed-for_you/accounts", json=body), 422) == refusal
    r = reader.delete_with("/api/v1/lists/feed-for_you/accounts", json=body)
    assert error_of(r, 422) == refusal
    assert error_of(reader.get("/api/v1/lists/feed-for_you/accounts"), 422) == refusal
    for path in ("/api/v1/lists/feed-nope", "/api/v1/lists/abc", "/api/v1/lists/123"):
        error_of(reader.get(path), 404)
        error_of(reader.put(path, json={"title": "x"}), 404)
    error_of(reader.get("/api/v1/timelines/list/feed-nope"), 404)


def test_deleting_a_feed_list_hides_the_feeds_from_apps(parvis: Parvis, client: TestClient) -> None:
    reader, _ = network(client, authors=1, posts=1)
    in_apps(parvis, reader)
    assert ok(reader.delete("/api/v1/lists/feed-bridging")) == {}
    assert ok(reader.get("/api/v1/lists")) == []
    for path in ("/api/v1/lists/feed-for_you", "/api/v1/timelines/list/feed-for_you"):
        error_of(reader.get(path), 404)
    error_of(reader.delete("/api/v1/lists/feed-for_you"), 404)
    # The feeds themselves are still there, through the Parvis API and the web app.
    assert len(page_of(reader, "/api/parvis/v1/feeds/for_you")[0]) == 1
