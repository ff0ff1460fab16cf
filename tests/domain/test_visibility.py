"""Property tests of the visibility rule (parvis.domain.visibility) over random small worlds.

A world is a handful of accounts with random follows, blocks and suspensions, and random posts
(visibility and mentions). The Viewer for each account is built from the world the way the
storage layer builds it; the expectations are written from the rules as stated, independently
of the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from parvis.domain.visibility import (
    ANONYMOUS,
    PostFacts,
    Viewer,
    Visibility,
    feed_recipients,
    may_boost,
    may_see,
    may_see_boost,
)

PROPS = settings(max_examples=80, deadline=None)


@dataclass(frozen=True)
class World:
    accounts: tuple[int, ...]
    follows: frozenset[tuple[int, int]]  # (follower, followee)
    blocks: frozenset[tuple[int, int]]  # (blocker, blocked)
    suspended: frozenset[int]
    posts: tuple[PostFacts, ...]

    def viewer(self, account_id: int | None) -> Viewer:
        if account_id is None:
            return ANONYMOUS
        return Viewer(
            account_id=account_id,
            following=frozenset(b for a, b in self.follows if a == account_id),
            blocking=frozenset(b for a, b in self.blocks if a == account_id),
            blocked_by=frozenset(a for a, b in self.blocks if b == account_id),
        )

    def blocked_pair(self, x: int, y: int) -> bool:
        return (x, y) in self.blocks or (y, x) in self.blocks

    def follower_ids(self, author: int) -> list[int]:
        return sorted(a for a, b in self.follows if b == author)

    def blocked_with(self, author: int) -> set[int]:
        return {b if a == author else a for a, b in self.blocks if author in (a, b)}


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(min_value=2, max_value=6))
    ids = tuple(range(1, n + 1))
    pairs = [(a, b) for a in ids for b in ids if a != b]
    # Follows and blocks are drawn independently: the rule must hold even for a follow that
    # coexists with a block (storage may momentarily hold both).
    follows = draw(st.frozensets(st.sampled_from(pairs), max_size=len(pairs)))
    blocks = draw(st.frozensets(st.sampled_from(pairs), max_size=4))
    suspended = draw(st.frozensets(st.sampled_from(ids), max_size=2))
    posts = draw(
        st.lists(
            st.builds(
                lambda author, vis, mentioned: PostFacts(
                    author_id=author,
                    visibility=vis,
                    mentioned_ids=frozenset(mentioned),
                    author_suspended=author in suspended,
                ),
                st.sampled_from(ids),
                st.sampled_from(list(Visibility)),
                st.frozensets(st.sampled_from(ids), max_size=3),
            ),
            min_size=1,
            max_size=8,
        )
    )
    return World(ids, follows, blocks, suspended, tuple(posts))


def expected_visible(world: World, viewer_id: int | None, post: PostFacts) -> bool:
    """The rule, written from its statement."""
    if viewer_id is not None and viewer_id == post.author_id:
        return True
    if post.author_id in world.suspended:
        return False
    if viewer_id is not None and world.blocked_pair(viewer_id, post.author_id):
        return False
    if post.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return True
    if viewer_id is None:
        return False
    mentioned = viewer_id in post.mentioned_ids
    if post.visibility is Visibility.PRIVATE:
        return (viewer_id, post.author_id) in world.follows or mentioned
    return mentioned  # direct


def readers(world: World) -> list[int | None]:
    return [None, *world.accounts]


@PROPS
@given(worlds())
def test_may_see_matches_the_stated_rule(world: World) -> None:
    for post in world.posts:
        for who in readers(world):
            wanted = expected_visible(world, who, post)
            assert may_see(world.viewer(who), post) == wanted, (who, post)


@PROPS
@given(worlds())
def test_author_always_sees_own_post(world: World) -> None:
    for post in world.posts:
        assert may_see(world.viewer(post.author_id), post)


@PROPS
@given(worlds())
def test_blocked_pair_never_sees_each_others_posts(world: World) -> None:
    for blocker, blocked in world.blocks:
        for post in world.posts:
            if post.author_id == blocked:
                assert not may_see(world.viewer(blocker), post)
            if post.author_id == blocker:
                assert not may_see(world.viewer(blocked), post)


@PROPS
@given(worlds())
def test_anonymous_sees_exactly_public_and_unlisted_of_active_authors(world: World) -> None:
    for post in world.posts:
        wanted = (
            post.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
            and post.author_id not in world.suspended
        )
        assert may_see(ANONYMOUS, post) is wanted
        assert may_see(Viewer(account_id=None), post) is wanted


@PROPS
@given(worlds())
def test_private_visible_iff_follower_or_mentioned(world: World) -> None:
    for post in world.posts:
        if post.visibility is not Visibility.PRIVATE or post.author_id in world.suspended:
            continue
        for who in world.accounts:
            if who == post.author_id or world.blocked_pair(who, post.author_id):
                continue
            follower = (who, post.author_id) in world.follows
            assert may_see(world.viewer(who), post) is (follower or who in post.mentioned_ids)


@PROPS
@given(worlds())
def test_direct_visible_iff_mentioned(world: World) -> None:
    for post in world.posts:
        if post.visibility is not Visibility.DIRECT or post.author_id in world.suspended:
            continue
        for who in world.accounts:
            if who == post.author_id or world.blocked_pair(who, post.author_id):
                continue
            # Following the author does not open a direct post.
            assert may_see(world.viewer(who), post) is (who in post.mentioned_ids)


@PROPS
@given(worlds())
def test_suspended_authors_are_hidden_from_everyone_else(world: World) -> None:
    for post in world.posts:
        if post.author_id in world.suspended:
            for who in readers(world):
                assert may_see(world.viewer(who), post) is (who == post.author_id)


@PROPS
@given(worlds())
def test_feed_recipients_only_reach_those_who_may_see(world: World) -> None:
    for post in world.posts:
        author = post.author_id
        got = feed_recipients(post, world.follower_ids(author), world.blocked_with(author))
        may = {who for who in world.accounts if may_see(world.viewer(who), post)}
        assert author in got
        assert got <= may | {author}
        assert not got & world.blocked_with(author)
        assert got <= set(world.follower_ids(author)) | {author}
        # And nobody is left out: every follower who may see the post and is not blocked-with.
        expected = {author} | {
            f
            for f in world.follower_ids(author)
            if f not in world.blocked_with(author) and expected_visible(world, f, post)
        }
        assert got == expected


@PROPS
@given(worlds())
def test_feed_recipients_direct_only_to_mentioned_followers(world: World) -> None:
    for post in world.posts:
        if post.visibility is not Visibility.DIRECT:
            continue
        got = feed_recipients(
            post, world.follower_ids(post.author_id), world.blocked_with(post.author_id)
        )
        assert got - {post.author_id} <= set(post.mentioned_ids)


@PROPS
@given(worlds(), st.data())
def test_boost_never_seen_by_who_may_not_see_the_original(
    world: World, data: st.DataObject
) -> None:
    for original in world.posts:
        booster = data.draw(st.sampled_from(world.accounts))
        boost = PostFacts(
            author_id=booster,
            visibility=data.draw(st.sampled_from(list(Visibility))),
            author_suspended=booster in world.suspended,
        )
        for who in readers(world):
            viewer = world.viewer(who)
            shown = may_see_boost(viewer, boost, original)
            assert shown == (may_see(viewer, boost) and may_see(viewer, original))
            if not may_see(viewer, original):
                assert not shown
            if who is not None and world.blocked_pair(who, booster) and who != booster:
                assert not shown


@PROPS
@given(worlds())
def test_may_boost_public_unlisted_or_own_private_only(world: World) -> None:
    for post in world.posts:
        for who in world.accounts:
            allowed = may_boost(who, post)
            if post.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
                assert allowed
            elif post.visibility is Visibility.PRIVATE:
                assert allowed is (who == post.author_id)
            else:
                assert not allowed  # direct posts are never boosted, not even by their author


@PROPS
@given(worlds())
def test_a_permitted_boost_reaches_no_one_the_original_excludes(world: World) -> None:
    """Whatever visibility a permitted boost is given, a reader who may not see the original
    never sees the boost."""
    for original in world.posts:
        for booster in world.accounts:
            if not may_boost(booster, original):
                continue
            for vis in (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE):
                boost = PostFacts(author_id=booster, visibility=vis)
                for who in readers(world):
                    viewer = world.viewer(who)
                    if may_see_boost(viewer, boost, original):
                        assert expected_visible(world, who, original)


def test_visibility_parse() -> None:
    for v in Visibility:
        assert Visibility.parse(v.value) is v
    for bad in ("", "Public", "followers", "limited", " public"):
        assert Visibility.parse(bad) is None
