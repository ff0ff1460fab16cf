"""The hashtag timeline with Mastodon's any[] / all[] / none[]: one tag, or also statuses with
any of other tags, that also carry all of some, and none of others (at most 4 of each)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.builders import User, error_of, ids, links, make_user, ok


def _tagged(viewer: TestClient | User, tag: str, **params: Any) -> list[str]:
    found: list[str] = ids(ok(viewer.get(f"/api/v1/timelines/tag/{tag}", params=params)))
    return found


@pytest.fixture
def posts(client: TestClient) -> dict[str, str]:
    author = make_user(client)
    names = {
        "foo": "just #foo",
        "bar": "just #bar",
        "foobar": "both #foo and #Bar",
        "foobaz": "#foo with #baz",
        "all3": "#foo #bar #baz",
        "qux": "only #qux",
        "none": "no tag at all",
    }
    return {key: author.status(text)["id"] for key, text in names.items()}


def test_plain_tag_timeline(client: TestClient, posts: dict[str, str]) -> None:
    p = posts
    assert _tagged(client, "foo") == [p["all3"], p["foobaz"], p["foobar"], p["foo"]]
    assert _tagged(client, "BAR") == [p["all3"], p["foobar"], p["bar"]]


def test_any(client: TestClient, posts: dict[str, str]) -> None:
    p = posts
    got = _tagged(client, "foo", **{"any[]": ["bar"]})
    assert got == [p["all3"], p["foobaz"], p["foobar"], p["bar"], p["foo"]]  # each once
    got = _tagged(client, "bar", **{"any[]": ["qux", "#Foo", "nobody_uses_this"]})
    assert got == [p["qux"], p["all3"], p["foobaz"], p["foobar"], p["bar"], p["foo"]]
    assert _tagged(client, "qux", any="bar") == [p["qux"], p["all3"], p["foobar"], p["bar"]]
    # The main tag must exist, as in Mastodon.
    assert _tagged(client, "nobody_uses_this", **{"any[]": ["foo"]}) == []


def test_all(client: TestClient, posts: dict[str, str]) -> None:
    p = posts
    assert _tagged(client, "foo", **{"all[]": ["bar"]}) == [p["all3"], p["foobar"]]
    assert _tagged(client, "foo", **{"all[]": ["bar", "baz"]}) == [p["all3"]]
    assert _tagged(client, "foo", all="baz") == [p["all3"], p["foobaz"]]
    assert _tagged(client, "foo", **{"all[]": ["foo"]}) == _tagged(client, "foo")
    # No status carries a tag nobody used.
    assert _tagged(client, "foo", **{"all[]": ["bar", "nobody_uses_this"]}) == []


def test_none(client: TestClient, posts: dict[str, str]) -> None:
    p = posts
    assert _tagged(client, "foo", **{"none[]": ["bar"]}) == [p["foobaz"], p["foo"]]
    assert _tagged(client, "foo", **{"none[]": ["bar", "baz"]}) == [p["foo"]]
    assert _tagged(client, "foo", none="nobody_uses_this") == _tagged(client, "foo")
    assert _tagged(client, "foo", **{"none[]": ["foo"]}) == []


def test_combined_and_paged(client: TestClient, posts: dict[str, str]) -> None:
    p = posts
    params: dict[str, Any] = {"any[]": ["bar", "qux"], "all[]": ["bar"], "none[]": ["baz"]}
    assert _tagged(client, "foo", **params) == [p["foobar"], p["bar"]]
    params = {"any[]": ["bar", "qux"], "none[]": ["baz"], "limit": 2}
    r = client.get("/api/v1/timelines/tag/foo", params=params)
    assert ids(ok(r)) == [p["qux"], p["foobar"]]
    nxt = links(r)["next"]
    assert "max_id" in nxt
    assert ids(ok(client.get(nxt))) == [p["bar"], p["foo"]]
    older = {**params, "min_id": p["foo"]}
    assert _tagged(client, "foo", **older) == [p["foobar"], p["bar"]]


def test_only_four_tags_of_each_count(client: TestClient) -> None:
    author = make_user(client)
    first = author.status("#main #t1")["id"]
    fifth = author.status("#main #t5")["id"]
    later = author.status("#t5")["id"]
    many = ["t1", "t2", "t3", "t4", "t5"]
    # any[]: a fifth tag is ignored (Mastodon takes the first four).
    assert _tagged(client, "main", **{"any[]": many}) == [fifth, first]
    assert later not in _tagged(client, "main", **{"any[]": many})
    # none[]: the same; the fifth is not excluded.
    assert _tagged(client, "main", **{"none[]": many}) == [fifth]


def test_private_and_unlisted_stay_out(client: TestClient) -> None:
    author = make_user(client)
    public = author.status("#foo #bar")["id"]
    author.status("#foo #bar quiet", visibility="unlisted")
    author.status("#foo #bar secret", visibility="private")
    assert _tagged(client, "foo", **{"any[]": ["bar"]}) == [public]
    assert _tagged(client, "foo", **{"all[]": ["bar"]}) == [public]


def test_bad_parameters(client: TestClient, posts: dict[str, str]) -> None:
    p = posts
    # Empty names are ignored, not an error; a non-tag name simply matches nothing.
    assert _tagged(client, "foo", **{"none[]": ["", "#"]}) == _tagged(client, "foo")
    assert _tagged(client, "foo", **{"all[]": ["not a tag"]}) == []
    assert _tagged(client, "foo", **{"any[]": ["x" * 5000]}) == _tagged(client, "foo")
    assert p["foo"] in _tagged(client, "foo", **{"any[]": "bar"})
    error_of(client.get("/api/v1/timelines/tag/foo", params={"limit": "x", "any[]": "a"}), 422)
