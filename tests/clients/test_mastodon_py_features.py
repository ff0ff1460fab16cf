"""Mastodon.py against a live Parvis: the features of the complete client API, as an app uses them.

One scripted session per feature family, each on fresh accounts: a poll voted on, a quote and its
revocation, an edit and its history, a list timeline, a filter hiding a post, markers, and the
streaming API over a real WebSocket (Mastodon.py's multiplexed WebSocket handle), where a post by
someone you follow must arrive within a second.
"""

from __future__ import annotations

import queue
import time
from typing import Any

import pytest
from mastodon import CallbackStreamListener, Mastodon

from tests.clients.conftest import LiveServer
from tests.clients.test_mastodon_py import sign_up

pytestmark = pytest.mark.slow


def pair(server: LiveServer) -> tuple[Mastodon, Mastodon, Any, Any]:
    """Alice and Bob; Bob follows Alice."""
    alice, _ = sign_up(server, "alice")
    bob, _ = sign_up(server, "bob")
    me_a, me_b = alice.me(), bob.me()
    assert bob.account_follow(me_a.id).following
    return alice, bob, me_a, me_b


def test_poll_vote_and_results(live_server: LiveServer) -> None:
    alice, bob, _, _ = pair(live_server)
    poll = alice.make_poll(["tea", "coffee", "water"], expires_in=3600, multiple=True)
    status = alice.status_post("Morning drink?", poll=poll)
    assert [o.title for o in status.poll.options] == ["tea", "coffee", "water"]
    assert status.poll.multiple and not status.poll.expired

    voted = bob.poll_vote(status.poll.id, [0, 2])
    assert voted.voted and voted.own_votes == [0, 2]
    assert voted.votes_count == 2 and voted.voters_count == 1
    assert [o.votes_count for o in voted.options] == [1, 0, 1]
    # Seen again through the status, from Bob's side and from Alice's.
    assert bob.status(status.id).poll.own_votes == [0, 2]
    mine = alice.poll(status.poll.id)
    # The author counts as having voted, as in Mastodon (Poll#voted?), with no own votes.
    assert mine.voted and mine.own_votes == [] and mine.voters_count == 1


def test_quote_then_revoke(live_server: LiveServer) -> None:
    alice, bob, _, _ = pair(live_server)
    original = alice.status_post("A thought worth quoting", quote_approval_policy="public")
    quote = bob.status_post("Indeed:", quoted_status_id=original.id)
    assert quote.quote.state == "accepted"
    assert quote.quote.quoted_status.id == original.id

    quotes = alice.status_quotes(original.id)
    assert [q.id for q in quotes] == [quote.id]
    notes = alice.notifications(types=["quote"])
    assert notes and notes[0].status.id == quote.id

    alice.status_quote_revoke(original.id, quote.id)
    assert bob.status(quote.id).quote.state == "revoked"
    assert alice.status_quotes(original.id) == []


def test_edit_history_and_update_notification(live_server: LiveServer) -> None:
    alice, bob, _, _ = pair(live_server)
    status = alice.status_post("Frist post")
    bob.status_reblog(status.id)
    edited = alice.status_update(status.id, "First post", spoiler_text="typo fixed")
    assert edited.edited_at is not None
    assert "First post" in edited.content and edited.spoiler_text == "typo fixed"

    history = alice.status_history(status.id)
    assert ["Frist post" in h.content for h in history] == [True, False]
    assert alice.status_source(status.id).text == "First post"
    updates = bob.notifications(types=["update"])
    assert updates and updates[0].status.id == status.id


def test_list_timeline(live_server: LiveServer) -> None:
    alice, bob, me_a, _ = pair(live_server)
    carol, _ = sign_up(live_server, "carol")
    bob.account_follow(carol.me().id)
    friends = bob.list_create("Friends")
    bob.list_accounts_add(friends.id, [me_a.id])
    from_alice = alice.status_post("In the list")
    carol.status_post("Not in the list")

    timeline = bob.timeline_list(friends.id)
    assert [s.id for s in timeline] == [from_alice.id]
    assert [a.id for a in bob.list_accounts(friends.id)] == [me_a.id]


def test_filter_hides_a_post(live_server: LiveServer) -> None:
    alice, bob, _, _ = pair(live_server)
    bob.create_filter_v2(
        "No spoilers",
        context=["home", "public"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "spoiler", "whole_word": True}],
    )
    bob.create_filter_v2(
        "Careful",
        context=["home"],
        filter_action="warn",
        keywords_attributes=[{"keyword": "finale", "whole_word": False}],
    )
    hidden = alice.status_post("Big spoiler: the butler did it")
    warned = alice.status_post("Thoughts on the finales this season")
    kept = alice.status_post("Nothing to see here")

    home = {s.id: s for s in bob.timeline_home()}
    assert hidden.id not in home
    assert kept.id in home and home[kept.id].filtered == []
    assert [r.filter.title for r in home[warned.id].filtered] == ["Careful"]
    assert home[warned.id].filtered[0].keyword_matches == ["finale"]


def test_markers(live_server: LiveServer) -> None:
    alice, bob, _, _ = pair(live_server)
    status = alice.status_post("Read up to here")
    first = bob.markers_set(["home"], [status.id])["home"]
    later = alice.status_post("And then this")
    bob.markers_set(["home"], [later.id])
    markers = bob.markers_get(["home", "notifications"])
    assert str(markers["home"].last_read_id) == str(later.id)
    assert markers["home"].version == first.version + 1  # Mastodon's lock_version
    assert "notifications" not in markers  # never set


def test_streaming_over_websocket(live_server: LiveServer) -> None:
    alice, bob, me_a, _ = pair(live_server)
    updates: queue.Queue[Any] = queue.Queue()
    notifications: queue.Queue[Any] = queue.Queue()
    listener = CallbackStreamListener(
        update_handler=updates.put, notification_handler=notifications.put
    )
    handle = bob.stream_open_websocket(timeout=10)
    try:
        bob.stream_user(listener, websocket_handle=handle)
        time.sleep(0.2)  # the subscribe message reaches the server
        posted_at = time.monotonic()
        status = alice.status_post("Live!")
        arrived = updates.get(timeout=1.0)
        assert time.monotonic() - posted_at < 1.0
        assert arrived.id == status.id and arrived.account.id == me_a.id

        alice.status_favourite(bob.status_post("Like me").id)
        note = notifications.get(timeout=1.0)
        assert note.type == "favourite" and note.account.id == me_a.id
    finally:
        handle.close()
