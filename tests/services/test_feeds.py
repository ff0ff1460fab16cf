"""Ranked feeds, end to end on the real database: a small network made through the API, then
parvis.services.feeds — candidates from every source, explanations that add up, paging through
the logged ranking, replay (and what a changed weight does to it), users' weights, the
viewpoints job behind the bridging feed, and the log's retention."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.errors import Invalid, NotFound
from parvis.domain.feeds.model import (
    BOOSTED_BY_FOLLOWING,
    FOLLOWING,
    LIKED_BY_FOLLOWING,
    TRENDING,
)
from parvis.services import feeds
from parvis.services.context import Work
from parvis.storage.tables import feed_served, feed_viewpoints
from tests.builders import User, follow, make_user, ok

T = TypeVar("T")


def write(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def serve(
    parvis: Parvis, user: User, feed: str = "for_you", max_id: int | None = None, limit: int = 20
) -> feeds.FeedPage:
    return write(parvis, lambda w: feeds.serve(w, int(user.id), feed, max_id=max_id, limit=limit))


def post(user: User, text: str = "hello", **fields: Any) -> int:
    return int(user.status(text, **fields)["id"])


def favourite(user: User, status_id: int) -> None:
    ok(user.post(f"/api/v1/statuses/{status_id}/favourite"))


def boost(user: User, status_id: int) -> int:
    return int(ok(user.post(f"/api/v1/statuses/{status_id}/reblog"))["id"])


def ranked(page: feeds.FeedPage) -> list[int]:
    """The whole ranking behind a page, in order."""
    return [i.status_id for i in sorted(page.items.values(), key=lambda i: i.rank)]


def shown(page: feeds.FeedPage) -> list[int]:
    return [s.id for s in page.statuses]


def original(page: feeds.FeedPage) -> dict[int, int]:
    """Served id -> the original post's id."""
    return {s.id: (s.reblog.id if s.reblog else s.id) for s in page.statuses}


# -- For you: sources, explanations, what never appears -------------------------------------


def test_for_you_sources_explanations_and_exclusions(parvis: Parvis, client: TestClient) -> None:
    viewer, a, b, muted, blocked, far, farther = (make_user(client) for _ in range(7))
    follow(viewer, a)
    ok(viewer.post(f"/api/v1/accounts/{b.id}/follow", data={"reblogs": "false"}))
    follow(viewer, muted)
    own_a = [post(a, f"a{i}") for i in range(3)]
    demoted = post(a, "demoted")
    write(parvis, lambda w: w.store.statuses.update(demoted, {"restriction": "demote"}))
    liked = post(far, "liked by a")
    favourite(a, liked)
    boosted = post(farther, "boosted by b, whose boosts viewer does not take")
    boost(b, boosted)
    muted_post = post(muted, "from a muted account")
    muted_far = post(farther, "liked by a, author muted later")
    favourite(a, muted_far)
    blocked_post = post(blocked, "from a blocked account")
    favourite(a, blocked_post)
    ok(viewer.post(f"/api/v1/accounts/{muted.id}/mute"))
    ok(viewer.post(f"/api/v1/accounts/{blocked.id}/block"))
    ok(viewer.post(f"/api/v1/accounts/{farther.id}/mute"))

    page = serve(parvis, viewer)
    sources = {i.status_id: i.candidate.source for i in page.items.values()}
    assert {s: sources.get(s) for s in own_a} == dict.fromkeys(own_a, FOLLOWING)
    assert sources.get(liked) == LIKED_BY_FOLLOWING
    # `boosted` is by a muted author now: it is not taken from beyond (see the next test).
    for never in (muted_post, muted_far, blocked_post, boosted):
        assert never not in sources and never not in shown(page)
    for item in page.items.values():
        assert math.isclose(math.fsum(p.contribution for p in item.parts), item.score)
        told = feeds.explanation(item, "for_you")
        assert abs(sum(p["contribution"] for p in told["parts"]) - told["score"]) < 1e-5
        assert told["rank"] == item.rank and told["source"] == item.candidate.source
        assert told["summary"]
    signals = {p.signal: p for p in page.items[demoted].parts}
    assert signals["demotion"].contribution == -2.0
    assert "demotion" not in {p.signal for p in page.items[own_a[0]].parts}
    assert set(shown(page)) == set(own_a) | {demoted, liked}


def test_boosted_by_following_and_trending(parvis: Parvis, client: TestClient) -> None:
    viewer, b, far, star, fan = (make_user(client) for _ in range(5))
    ok(viewer.post(f"/api/v1/accounts/{b.id}/follow", data={"reblogs": "false"}))
    boosted = post(far, "boosted by b")
    boost(b, boosted)
    hot = post(star, "everyone likes this", language="en")
    favourite(fan, hot)
    boost(fan, hot)
    elsewhere = post(star, "ceci aussi", language="fr")
    favourite(fan, elsewhere)
    assert write(parvis, feeds.refresh_trending) == 3  # `boosted` too

    page = serve(parvis, viewer)
    sources = {i.status_id: i.candidate.source for i in page.items.values()}
    assert sources[boosted] == BOOSTED_BY_FOLLOWING
    assert page.items[boosted].candidate.via == 1
    assert sources[hot] == TRENDING
    assert elsewhere not in sources  # trending, but not in the viewer's languages (en)


# -- paging ---------------------------------------------------------------------------------


def test_paging_continues_the_logged_ranking(parvis: Parvis, client: TestClient) -> None:
    viewer, *authors = (make_user(client) for _ in range(4))
    for author in authors:
        follow(viewer, author)
        for i in range(3):
            post(author, f"post {i}")
    first = serve(parvis, viewer, limit=4)
    order = ranked(first)
    assert len(order) == 9 and shown(first) == order[:4]
    post(authors[0], "posted between two pages: not in this ranking")
    seen, page = list(shown(first)), first
    while page.next_max_id is not None:
        page = serve(parvis, viewer, max_id=page.next_max_id, limit=4)
        assert page.served_id == first.served_id
        seen += shown(page)
    assert seen == order  # every post once, in ranking order
    fresh = serve(parvis, viewer, limit=4)  # without max_id: ranked again
    assert fresh.served_id != first.served_id and len(ranked(fresh)) == 10


def test_invisible_items_are_skipped_without_shortening_the_page(
    parvis: Parvis, client: TestClient
) -> None:
    viewer, friend, *others = (make_user(client) for _ in range(5))
    for followed in (friend, *others):
        follow(viewer, followed)
    private = [post(friend, f"followers only {i}", visibility="private") for i in range(4)]
    author = {post(other, f"public {i}"): other for other in others for i in range(3)}
    public = list(author)
    first = serve(parvis, viewer, limit=3)
    order = ranked(first)
    rest = order[order.index(first.next_max_id or 0) + 1 :]
    doomed = next(i for i in rest if i in public)  # deleted: the next page must skip it
    ok(author[doomed].delete(f"/api/v1/statuses/{doomed}"))
    ok(viewer.post(f"/api/v1/accounts/{friend.id}/unfollow"))

    page = serve(parvis, viewer, max_id=first.next_max_id, limit=3)
    assert page.served_id == first.served_id
    expected = [i for i in rest if i in public and i != doomed][:3]
    assert shown(page) == expected and len(expected) == 3
    assert not set(private) & set(shown(page))


# -- replay ---------------------------------------------------------------------------------


def _two_languages(client: TestClient) -> tuple[User, int, int]:
    """A viewer (interface in English) whose ranking puts an older English post above a newer
    French one only because of the language weight."""
    viewer, en, fr = (make_user(client) for _ in range(3))
    follow(viewer, en)
    follow(viewer, fr)
    older = post(en, "in English", language="en")
    newer = post(fr, "en français", language="fr")
    return viewer, older, newer


def test_replay_matches_and_reports_a_changed_weight(parvis: Parvis, client: TestClient) -> None:
    viewer, older, newer = _two_languages(client)
    page = serve(parvis, viewer)
    assert ranked(page) == [older, newer]
    uid = int(viewer.id)

    def replay(**overrides: float) -> feeds.Replay:
        return write(parvis, lambda w: feeds.replay(w, uid, w.now(), overrides=overrides))

    same = replay()
    assert same.matches and same.first_difference is None and same.note == ""
    assert same.served == same.recomputed == [older, newer]
    assert same.served_id == page.served_id and same.feed == "for_you"

    changed = replay(language_weight=0.0)
    assert not changed.matches and changed.first_difference == 1
    assert changed.recomputed == [newer, older]
    with pytest.raises(Invalid, match="nonsense"):
        replay(nonsense=1.0)

    def tamper(w: Work) -> None:
        row = w.store.conn.execute(
            select(feed_served.c.params).where(feed_served.c.id == page.served_id)
        ).scalar_one()
        params = row.replace('"language_weight":0.5', '"language_weight":0.0')
        assert params != row
        w.store.conn.execute(
            update(feed_served).where(feed_served.c.id == page.served_id).values(params=params)
        )

    write(parvis, tamper)
    tampered = replay()
    assert not tampered.matches and tampered.first_difference == 1


def test_replay_without_a_log(parvis: Parvis, client: TestClient) -> None:
    viewer = make_user(client)
    with pytest.raises(NotFound):
        write(parvis, lambda w: feeds.replay(w, int(viewer.id), w.now()))


# -- weights --------------------------------------------------------------------------------


def test_weights_are_checked_kept_used_and_reset(parvis: Parvis, client: TestClient) -> None:
    viewer, older, newer = _two_languages(client)
    uid = int(viewer.id)
    start = write(parvis, lambda w: feeds.weights(w, uid, "for_you"))
    assert start["custom"] == {} and start["weights"]["language_weight"] == 0.5

    got = write(parvis, lambda w: feeds.set_weights(w, uid, "for_you", {"language_weight": 0}))
    assert got["custom"] == {"language_weight": 0.0}
    assert got["weights"]["language_weight"] == 0.0
    write(parvis, lambda w: feeds.set_weights(w, uid, "for_you", {"recency_weight": 2}))
    kept = write(parvis, lambda w: feeds.weights(w, uid, "for_you"))
    assert kept["custom"] == {"language_weight": 0.0, "recency_weight": 2.0}
    page = serve(parvis, viewer)
    assert ranked(page) == [newer, older]  # the user's weights rank
    assert page.items[newer].parts[0].weight == 2.0

    bad = {"language_weight": 4, "nonsense": 1, "recency_weight": "high", "demotion_weight": 1}
    with pytest.raises(Invalid) as refused:
        write(parvis, lambda w: feeds.set_weights(w, uid, "for_you", bad))
    message = str(refused.value)
    for name in bad:
        assert name in message
    assert "between 0 and 3" in message and "must be a number" in message
    assert write(parvis, lambda w: feeds.weights(w, uid, "for_you")) == kept  # unchanged
    with pytest.raises(NotFound):
        write(parvis, lambda w: feeds.weights(w, uid, "nope"))

    reset = write(parvis, lambda w: feeds.reset_weights(w, uid, "for_you"))
    assert reset["custom"] == {} and reset == start
    assert ranked(serve(parvis, viewer)) == [older, newer]


def test_settings_default_and_persist(parvis: Parvis, client: TestClient) -> None:
    uid = int(make_user(client).id)
    # Opt-in: an app's list of lists stays the user's own until they ask for the feeds there.
    assert write(parvis, lambda w: feeds.lists_in_apps(w, uid)) is False
    assert write(parvis, lambda w: feeds.viewpoint_opt_out(w, uid)) is False
    write(parvis, lambda w: feeds.set_lists_in_apps(w, uid, True))
    write(parvis, lambda w: feeds.set_viewpoint_opt_out(w, uid, True))
    assert write(parvis, lambda w: feeds.lists_in_apps(w, uid)) is True
    assert write(parvis, lambda w: feeds.viewpoint_opt_out(w, uid)) is True
    write(parvis, lambda w: feeds.set_lists_in_apps(w, uid, False))
    assert write(parvis, lambda w: feeds.viewpoint_opt_out(w, uid)) is True  # untouched


# -- bridging -------------------------------------------------------------------------------


def _factors(parvis: Parvis) -> dict[int, float]:
    rows = write(
        parvis,
        lambda w: w.store.conn.execute(
            select(feed_viewpoints.c.account_id, feed_viewpoints.c.factor)
        ).all(),
    )
    return {int(a): float(f) for a, f in rows}


def test_bridging_ranks_posts_both_sides_appreciate_first(
    parvis: Parvis, client: TestClient
) -> None:
    left = [make_user(client) for _ in range(6)]
    right = [make_user(client) for _ in range(6)]
    viewer = make_user(client)
    bait = {
        side: [post(group[i], f"for my side {i}") for i in range(3)]
        for side, group in (("left", left), ("right", right))
    }
    bridges = [post(left[0], "something we all like"), post(right[0], "this too")]
    for side, group in (("left", left), ("right", right)):
        for member in group:
            for status_id in bait[side]:
                favourite(member, status_id)
    for member in left + right:
        for status_id in bridges:
            favourite(member, status_id)
    lonely = post(right[5], "only one person likes this")
    favourite(left[5], lonely)

    accounts, posts = write(parvis, feeds.recompute_viewpoints)
    assert (accounts, posts) == (12, 9)
    factors = _factors(parvis)
    signs = {math.copysign(1, factors[int(u.id)]) for u in left}
    assert len(signs) == 1 and {math.copysign(1, factors[int(u.id)]) for u in right} == {
        -signs.pop()
    }

    page = serve(parvis, viewer, "bridging")
    order = ranked(page)
    assert set(order[:2]) == set(bridges)
    assert set(order[2:]) == set(bait["left"] + bait["right"]) | {lonely}
    for item in page.items.values():
        assert math.isclose(math.fsum(p.contribution for p in item.parts), item.score)
    assert page.items[lonely].candidate.side_a + page.items[lonely].candidate.side_b > 0

    # Opting out: the factor goes at once, the engagement at the next recomputation.
    write(parvis, lambda w: feeds.set_viewpoint_opt_out(w, int(left[5].id), True))
    assert int(left[5].id) not in _factors(parvis)
    write(parvis, feeds.recompute_viewpoints)
    assert int(left[5].id) not in _factors(parvis) and len(_factors(parvis)) == 11
    after = serve(parvis, viewer, "bridging")
    assert lonely not in after.items  # nobody left to appreciate it
    assert set(ranked(after)[:2]) == set(bridges)


# -- the log's retention --------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _logged(parvis: Parvis) -> int:
    return len(write(parvis, lambda w: w.store.conn.execute(select(feed_served.c.id)).all()))


def test_prune_log_keeps_the_configured_days(parvis: Parvis, client: TestClient) -> None:
    viewer, author = make_user(client), make_user(client)
    follow(viewer, author)
    post(author)
    clock = Clock(write(parvis, lambda w: w.now()))
    parvis.runtime.clock = clock
    serve(parvis, viewer)
    clock.now += timedelta(days=20)
    serve(parvis, viewer, "bridging")
    assert _logged(parvis) == 2
    clock.now += timedelta(days=11)  # the first is 31 days old, the second 11
    assert write(parvis, feeds.prune_log) == 1
    assert _logged(parvis) == 1
    replayed = write(parvis, lambda w: feeds.replay(w, int(viewer.id), w.now()))
    assert replayed.feed == "bridging"
    with pytest.raises(NotFound):
        write(parvis, lambda w: feeds.replay(w, int(viewer.id), w.now() - timedelta(days=12)))


@pytest.mark.parametrize("parvis", [{"feed_log_days": 0}], indirect=True)
def test_no_log_keeps_only_what_paging_needs(parvis: Parvis, client: TestClient) -> None:
    viewer, author = make_user(client), make_user(client)
    follow(viewer, author)
    for i in range(3):
        post(author, f"post {i}")
    clock = Clock(write(parvis, lambda w: w.now()))
    parvis.runtime.clock = clock
    serve(parvis, viewer)
    first = serve(parvis, viewer, limit=1)
    serve(parvis, viewer, "bridging")
    assert _logged(parvis) == 2  # the latest of each feed
    clock.now += timedelta(minutes=30)
    page = serve(parvis, viewer, max_id=first.next_max_id, limit=1)
    assert page.served_id == first.served_id  # paging still continues
    assert write(parvis, feeds.prune_log) == 0
    clock.now += timedelta(hours=1)
    assert write(parvis, feeds.prune_log) == 2


def test_every_registered_feed_gathers_candidates() -> None:
    assert list(feeds.GATHER) == [f.name for f in feeds.catalogue()]
