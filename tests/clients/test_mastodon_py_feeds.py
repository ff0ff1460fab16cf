"""Mastodon.py against a live Parvis: an app that knows nothing of ranked feeds finds them among
the user's lists (issue 7), reads one page after another through the Link header, and hides them
by deleting the list."""

from __future__ import annotations

import pytest

from parvis.services import feeds
from tests.clients.conftest import LiveServer
from tests.clients.test_mastodon_py import sign_up

pytestmark = pytest.mark.slow


def test_an_app_reads_the_for_you_feed_as_a_list(live_server: LiveServer) -> None:
    reader, _ = sign_up(live_server, "reader")
    posted = []
    for n in range(3):
        author, _ = sign_up(live_server, f"author{n}")
        assert reader.account_follow(author.me().id).following
        posted += [author.status_post(f"Post {i} of author {n}").id for i in range(3)]

    assert reader.lists() == []  # opt-in (Settings → Feeds)
    me = int(reader.me().id)
    live_server.parvis.runtime.write(lambda w: feeds.set_lists_in_apps(w, me, True))
    lists = reader.lists()
    assert [(x.id, x.title) for x in lists] == [
        ("feed-for_you", "For you (ranked)"),
        ("feed-bridging", "Bridging (ranked)"),
    ]

    first = reader.timeline_list("feed-for_you", limit=5)
    assert len(first) == 5
    second = reader.fetch_next(first)  # the Link header's rel="next"
    assert second is not None and len(second) == 4
    seen = [s.id for s in first] + [s.id for s in second]
    assert sorted(seen) == sorted(posted)
    assert all(s.account.acct.startswith("author") for s in first)
    assert reader.fetch_next(second) is None  # the ranking is exhausted

    reader.list_delete("feed-for_you")
    assert reader.lists() == []
