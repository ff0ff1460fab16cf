"""The storage contract: every repository, on every backend (SQLite always, PostgreSQL when
PARVIS_TEST_POSTGRES_URL is set), through the real unit of work of a real Parvis.

The home-feed contract is written once and run against both feed stores: the SQL table and
Redis sorted sets (when PARVIS_TEST_REDIS_URL is set).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from parvis.app import Parvis
from parvis.domain.ids import id_for_time, new_id
from parvis.domain.visibility import Visibility
from parvis.storage.feeds import FeedStore, RedisFeedStore, SqlFeedStore
from parvis.storage.store import Store
from parvis.storage.tables import (
    follows,
    home_feed,
    media_attachments,
    status_mentions,
    status_tags,
)
from tests.conftest import REDIS_URL, service_missing

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# --- builders (straight into the stores, as the services do) ---------------------------------


def add_account(store: Store, username: str, domain: str | None = None, **extra: Any) -> int:
    aid = new_id()
    host = domain or "parvis.test"
    store.accounts.insert(
        {
            "id": aid,
            "username": username,
            "domain": domain,
            "display_name": "",
            "note": "",
            "note_html": "",
            "fields_json": "[]",
            "uri": f"https://{host}/users/{username}",
            "url": f"https://{host}/@{username}",
            "created_at": NOW,
            "updated_at": NOW,
            **extra,
        }
    )
    return aid


def add_user(store: Store, account_id: int, email: str, **extra: Any) -> None:
    store.accounts.insert_user(
        {
            "account_id": account_id,
            "email": email,
            "password_hash": "not-a-real-hash",
            "created_at": NOW,
            **extra,
        }
    )


def add_status(
    store: Store,
    account_id: int,
    *,
    status_id: int | None = None,
    visibility: str = "public",
    text: str = "hello",
    **extra: Any,
) -> int:
    sid = status_id if status_id is not None else new_id()
    store.statuses.insert(
        {
            "id": sid,
            "account_id": account_id,
            "uri": f"https://parvis.test/statuses/{sid}",
            "url": f"https://parvis.test/@x/{sid}",
            "local": True,
            "text": text,
            "content": f"<p>{text}</p>",
            "visibility": visibility,
            "created_at": NOW,
            **extra,
        }
    )
    return sid


def add_media(store: Store, account_id: int, **extra: Any) -> int:
    mid = new_id()
    store.media.insert(
        {
            "id": mid,
            "account_id": account_id,
            "type": "image",
            "state": "ready",
            "file_key": f"attachments/{mid}.png",
            "thumb_key": f"thumbnails/{mid}.webp",
            "mime": "image/png",
            "width": 4,
            "height": 3,
            "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            "created_at": NOW,
            **extra,
        }
    )
    return mid


def count_rows(store: Store, table: Any, *where: Any) -> int:
    stmt = select(func.count()).select_from(table).where(*where)
    return int(store.conn.execute(stmt).scalar_one())


# --- Mastodon paging, as a reference -------------------------------------------------------


def reference_page(
    ids: list[int], max_id: int | None, since_id: int | None, min_id: int | None, limit: int
) -> list[int]:
    """Newest first below max_id and above since_id; with min_id, the oldest ones just above
    it, oldest first (the service re-sorts them)."""
    kept = [
        i
        for i in ids
        if (max_id is None or i < max_id)
        and (since_id is None or i > since_id)
        and (min_id is None or i > min_id)
    ]
    if min_id is not None:
        return sorted(kept)[:limit]
    return sorted(kept, reverse=True)[:limit]


def bounds(ids: list[int]) -> list[int | None]:
    ordered = sorted(ids)
    return [
        None,
        ordered[0] - 1,
        ordered[1],
        ordered[len(ordered) // 2],
        ordered[-1],
        ordered[-1] + 1,
    ]


def check_paging(
    fetch: Callable[..., list[int]], ids: list[int], limits: tuple[int, ...] = (1, 3, 40)
) -> int:
    """Every combination of cursors (since_id and min_id together are left to their own test)."""
    checked = 0
    for max_id, since_id, min_id in itertools.product(bounds(ids), repeat=3):
        if since_id is not None and min_id is not None:
            continue
        for limit in limits:
            got = fetch(max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
            assert got == reference_page(ids, max_id, since_id, min_id, limit), (
                max_id,
                since_id,
                min_id,
                limit,
            )
            checked += 1
    return checked


# --- accounts and users ---------------------------------------------------------------------


def test_accounts_insert_get_and_lookup_case_insensitively(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        alice = add_account(store, "Alice", display_name="Alice A.", locked=True)
        bob = add_account(store, "bob", "Example.Social")

    with parvis.runtime.stores.read() as store:
        got = store.accounts.get(alice)
        assert got is not None
        assert (got.id, got.username, got.domain, got.display_name) == (
            alice,
            "Alice",
            None,
            "Alice A.",
        )
        assert got.locked and not got.bot and got.discoverable and not got.suspended
        assert got.local and got.acct == "Alice"
        assert (got.statuses_count, got.followers_count, got.following_count) == (0, 0, 0)
        assert got.created_at == NOW and got.created_at.tzinfo is not None
        for username in ("alice", "ALICE", "Alice", "aLiCe"):
            found = store.accounts.by_acct(username, None)
            assert found is not None and found.id == alice
        for username, domain in (
            ("bob", "example.social"),
            ("BOB", "EXAMPLE.SOCIAL"),
            ("Bob", "Example.Social"),
        ):
            found = store.accounts.by_acct(username, domain)
            assert found is not None and found.id == bob
        assert store.accounts.by_acct("bob", None) is None
        assert store.accounts.by_acct("alice", "example.social") is None
        assert store.accounts.get(new_id()) is None
        assert store.accounts.username_taken("ALICE")
        assert not store.accounts.username_taken("bob")  # a remote bob leaves the local name free
        assert set(store.accounts.get_many([alice, bob, alice, new_id()])) == {alice, bob}
        assert store.accounts.get_many([]) == {}
        assert store.accounts.count_local() == 1


def test_account_acct_key_is_unique_case_insensitively(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        add_account(store, "carol")
    with pytest.raises(IntegrityError), parvis.runtime.stores.write() as store:
        add_account(store, "CAROL")
    with parvis.runtime.stores.read() as store:  # the failed unit of work left nothing behind
        assert store.accounts.count_local() == 1


def test_users_by_email_or_username(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        alice = add_account(store, "Alice")
        add_user(store, alice, "Alice@Example.ORG", role="admin")
        remote = add_account(store, "dave", "elsewhere.example")

    with parvis.runtime.stores.read() as store:
        user = store.accounts.user(alice)
        assert user is not None
        assert user.email == "alice@example.org"
        assert user.is_admin and user.approved and user.confirmed and not user.disabled
        assert user.default_visibility is Visibility.PUBLIC
        assert store.accounts.email_taken("ALICE@example.org")
        assert not store.accounts.email_taken("bob@example.org")
        for login in ("alice@example.org", "ALICE@EXAMPLE.ORG", "alice", " Alice "):
            found = store.accounts.user_by_login(login)
            assert found is not None and found[0].account_id == alice
            assert found[1] == "not-a-real-hash"
        assert store.accounts.user_by_login("dave") is None
        assert store.accounts.user(remote) is None

    with parvis.runtime.stores.write() as store:
        store.accounts.set_password_hash(alice, "another-hash")
        store.accounts.update_user(alice, {"default_visibility": "private", "disabled": True})
    with parvis.runtime.stores.read() as store:
        found = store.accounts.user_by_login("alice")
        assert found is not None and found[1] == "another-hash"
        assert found[0].default_visibility is Visibility.PRIVATE and found[0].disabled


def test_account_counters_and_updates(parvis: Parvis) -> None:
    later = NOW + timedelta(hours=3)
    with parvis.runtime.stores.write() as store:
        aid = add_account(store, "counter")
        store.accounts.adjust_counts(aid, statuses_count=3, followers_count=2)
        store.accounts.adjust_counts(aid, statuses_count=-1, following_count=1)
        store.accounts.adjust_counts(aid, statuses_count=0)
        store.accounts.touch_last_status(aid, later)
        store.accounts.update(aid, {"display_name": "Counter", "suspended_at": later})
    with parvis.runtime.stores.read() as store:
        got = store.accounts.get(aid)
        assert got is not None
        assert (got.statuses_count, got.followers_count, got.following_count) == (2, 2, 1)
        assert got.last_status_at == later
        assert got.display_name == "Counter" and got.suspended


def test_naive_datetimes_are_refused(parvis: Parvis) -> None:
    with pytest.raises(Exception, match="naive datetime"), parvis.runtime.stores.write() as store:
        add_account(store, "naive", created_at=datetime(2025, 1, 1))


# --- statuses ---------------------------------------------------------------------------------


def test_status_load_hydrates_everything(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        author = add_account(store, "author")
        mentioned = add_account(store, "mentioned")
        booster = add_account(store, "booster")
        store.oauth.add_app(
            {
                "id": (app_id := new_id()),
                "name": "Tusky",
                "website": "https://tusky.app",
                "redirect_uris": "x:/",
                "scopes": "read",
                "client_id": uuid.uuid4().hex,
                "client_secret_hash": "0" * 64,
                "created_at": NOW,
            }
        )
        original = add_status(
            store,
            author,
            text="hi @mentioned #Tea #tea #Café",
            visibility="unlisted",
            language="en",
            application_id=app_id,
            spoiler_text="cw",
            sensitive=True,
        )
        store.statuses.add_mentions(original, [mentioned, mentioned])
        first = store.statuses.tag_ids([("tea", "Tea"), ("café", "Café")], NOW)
        again = store.statuses.tag_ids([("tea", "TEA")], NOW)
        assert again == first[:1]  # existing tags are reused, not duplicated
        store.statuses.add_tags(original, [*first, *again])
        m2 = add_media(store, author, description="second")
        m1 = add_media(store, author, description="first")
        store.statuses.attach_media(original, [m2, m1])
        boost = add_status(store, booster, text="", visibility="public", reblog_of_id=original)

    with parvis.runtime.stores.read() as store:
        loaded = store.statuses.load([boost, original, new_id(), original])
        assert set(loaded) == {boost, original}
        s = loaded[original]
        assert s.account.username == "author"
        assert (s.text, s.visibility, s.language, s.spoiler_text, s.sensitive) == (
            "hi @mentioned #Tea #tea #Café",
            Visibility.UNLISTED,
            "en",
            "cw",
            True,
        )
        assert [m.account_id for m in s.mentions] == [mentioned]
        assert s.mentions[0].username == "mentioned" and s.mentions[0].acct == "mentioned"
        assert sorted(s.tags) == ["café", "tea"]
        assert [m.id for m in s.media] == sorted([m1, m2])  # in upload (id) order
        assert {m.description for m in s.media} == {"first", "second"}
        assert all(m.status_id == original for m in s.media)
        assert (s.application_name, s.application_website) == ("Tusky", "https://tusky.app")
        assert s.reblog is None and s.created_at == NOW
        assert s.facts.mentioned_ids == frozenset({mentioned})
        b = loaded[boost]
        assert b.reblog_of_id == original and b.reblog is not None
        assert b.reblog.id == original and b.reblog.account.id == author
        assert b.reblog.tags == s.tags and b.account.id == booster
        # Loading only the boost still hydrates the original.
        alone = store.statuses.get(boost)
        assert alone is not None and alone.reblog is not None and alone.reblog.id == original
        assert store.statuses.reblogs_of(original) == [(boost, booster)]
        assert store.statuses.reblog_by(booster, original) == boost
        assert store.statuses.reblog_by(author, original) is None
        assert store.statuses.tag_id("tea") is not None and store.statuses.tag_id("nope") is None
        assert store.statuses.load([]) == {}

    with parvis.runtime.stores.write() as store:
        store.statuses.delete(original)
    with parvis.runtime.stores.read() as store:
        assert store.statuses.load([original, boost]) == {}  # the boost went with it
        assert not store.statuses.exists(original)
        assert count_rows(store, status_mentions, status_mentions.c.status_id == original) == 0
        assert count_rows(store, status_tags, status_tags.c.status_id == original) == 0
        # Media rows survive, detached.
        media = store.media.get_many([m1, m2])
        assert len(media) == 2 and all(m.status_id is None for m in media)


def test_status_counters_move_and_never_go_below_zero(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        aid = add_account(store, "counted")
        sid = add_status(store, aid)
        store.statuses.adjust_counts(sid, replies_count=2, favourites_count=1)
        store.statuses.adjust_counts(sid, replies_count=-1, reblogs_count=-1)
        store.statuses.adjust_counts(sid, favourites_count=-5)
    with parvis.runtime.stores.read() as store:
        s = store.statuses.get(sid)
        assert s is not None
        assert (s.replies_count, s.reblogs_count, s.favourites_count) == (1, 0, 0)


def test_threads_and_idempotency_keys(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        aid = add_account(store, "threader")
        root = add_status(store, aid)
        reply = add_status(
            store, aid, in_reply_to_id=root, in_reply_to_account_id=aid, thread_root_id=root
        )
        deeper = add_status(
            store, aid, in_reply_to_id=reply, in_reply_to_account_id=aid, thread_root_id=root
        )
        other = add_status(store, aid)
        store.statuses.remember_idempotency(aid, "key-1", root, NOW)
    with parvis.runtime.stores.read() as store:
        assert store.statuses.thread_ids(root) == [root, reply, deeper]
        assert store.statuses.thread_root_of(deeper) == root
        assert store.statuses.thread_root_of(root) == root
        assert store.statuses.thread_root_of(new_id()) is None
        assert store.statuses.parent_and_root(reply) == (aid, root, reply)
        assert store.statuses.parent_and_root(other) == (aid, None, other)
        assert store.statuses.idempotent(aid, "key-1") == root
        assert store.statuses.idempotent(aid, "key-2") is None
    with pytest.raises(IntegrityError), parvis.runtime.stores.write() as store:
        store.statuses.remember_idempotency(aid, "key-1", other, NOW)


def test_account_timeline_paging(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        aid = add_account(store, "pager")
        other = add_account(store, "other")
        ids = [add_status(store, aid) for _ in range(7)]
        add_status(store, other)
    with parvis.runtime.stores.read() as store:

        def fetch(**kw: Any) -> list[int]:
            return store.statuses.account_timeline_ids(
                aid,
                exclude_replies=False,
                exclude_reblogs=False,
                only_media=False,
                tagged=None,
                visibilities=["public"],
                **kw,
            )

        assert check_paging(fetch, ids) == (6**3 - 5 * 5 * 6) * 3


def test_account_timeline_filters(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        aid = add_account(store, "filtered")
        other = add_account(store, "someone")
        theirs = add_status(store, other)
        plain = add_status(store, aid)
        private = add_status(store, aid, visibility="private")
        self_reply = add_status(store, aid, in_reply_to_id=plain, in_reply_to_account_id=aid)
        reply = add_status(store, aid, in_reply_to_id=theirs, in_reply_to_account_id=other)
        boost = add_status(store, aid, reblog_of_id=theirs)
        with_media = add_status(store, aid)
        store.statuses.attach_media(with_media, [add_media(store, aid)])
        tagged = add_status(store, aid)
        store.statuses.add_tags(tagged, store.statuses.tag_ids([("x", "X")], NOW))
    everything = [tagged, with_media, boost, reply, self_reply, private, plain]
    with parvis.runtime.stores.read() as store:
        tag = store.statuses.tag_id("x")

        def ids(vis: tuple[str, ...] = ("public", "private"), **kw: Any) -> list[int]:
            opts: dict[str, Any] = {
                "exclude_replies": False,
                "exclude_reblogs": False,
                "only_media": False,
                "tagged": None,
                **kw,
            }
            return store.statuses.account_timeline_ids(
                aid,
                visibilities=list(vis),
                max_id=None,
                since_id=None,
                min_id=None,
                limit=40,
                **opts,
            )

        assert ids() == everything
        assert ids(("public",)) == [s for s in everything if s != private]
        assert ids(exclude_replies=True) == [s for s in everything if s != reply]
        assert ids(exclude_reblogs=True) == [s for s in everything if s != boost]
        assert ids(only_media=True) == [with_media]
        assert ids(tagged=tag) == [tagged]


def test_public_and_tag_timelines(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        aid = add_account(store, "poster")
        tag = store.statuses.tag_ids([("news", "news")], NOW)
        public = add_status(store, aid)
        remote = add_status(store, aid, local=False)
        unlisted = add_status(store, aid, visibility="unlisted")
        private = add_status(store, aid, visibility="private")
        boost = add_status(store, aid, reblog_of_id=public)
        for sid in (public, remote, unlisted, private):
            store.statuses.add_tags(sid, tag)
    kw: dict[str, Any] = {
        "only_media": False,
        "max_id": None,
        "since_id": None,
        "min_id": None,
        "limit": 40,
    }
    with parvis.runtime.stores.read() as store:
        assert store.statuses.public_ids(local=None, **kw) == [remote, public]
        assert store.statuses.public_ids(local=True, **kw) == [public]
        assert store.statuses.public_ids(local=False, **kw) == [remote]
        assert boost not in store.statuses.public_ids(local=None, **kw)
        assert store.statuses.tag_ids_page(tag[0], local=None, **kw) == [remote, public]
        assert store.statuses.tag_ids_page(tag[0], local=True, **kw) == [public]


# --- home feeds: one contract, two implementations -----------------------------------------

FeedMaker = Callable[[Store, int], FeedStore]


@pytest.fixture(params=["sql", pytest.param("redis", marks=pytest.mark.redis)])
def feed_maker(request: pytest.FixtureRequest) -> Iterator[FeedMaker]:
    if request.param == "sql":
        yield lambda store, cap: SqlFeedStore(store.conn)
        return
    if not REDIS_URL:
        service_missing("Redis", "PARVIS_TEST_REDIS_URL")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"parvis-test:{uuid.uuid4().hex}:feed:"
    try:
        yield lambda store, cap: RedisFeedStore(client, cap, prefix=prefix)
    finally:
        doomed = list(client.scan_iter(match=prefix + "*"))
        if doomed:
            client.delete(*doomed)
        client.close()


def _feed_world(
    store: Store, n: int = 9, *, status_ids: list[int] | None = None
) -> tuple[int, int, int, list[int]]:
    reader = add_account(store, f"reader{new_id()}")
    author = add_account(store, f"author{new_id()}")
    other = add_account(store, f"other{new_id()}")
    ids = [add_status(store, author, status_id=sid) for sid in (status_ids or [None] * n)]
    return reader, author, other, ids


def test_feed_push_and_page(parvis: Parvis, feed_maker: FeedMaker) -> None:
    with parvis.runtime.stores.write() as store:
        feed = feed_maker(store, 800)
        reader, author, other, ids = _feed_world(store)
        for sid in ids:
            assert feed.push(sid, author, [reader, author]) == 2
        assert feed.push(ids[0], author, []) == 0
        assert feed.page(other, max_id=None, since_id=None, min_id=None, limit=20) == []
        assert feed.page(author, max_id=None, since_id=None, min_id=None, limit=20) == ids[::-1]
        checked = check_paging(lambda **kw: feed.page(reader, **kw), ids, limits=(1, 4, 20))
        assert checked == (6**3 - 5 * 5 * 6) * 3


def test_feed_page_with_both_since_id_and_min_id(parvis: Parvis, feed_maker: FeedMaker) -> None:
    """Both lower bounds apply, whichever is higher wins (as on every other paged list)."""
    with parvis.runtime.stores.write() as store:
        feed = feed_maker(store, 800)
        reader, author, _other, ids = _feed_world(store, 6)
        for sid in ids:
            feed.push(sid, author, [reader])
        for since_id, min_id in ((ids[3], ids[1]), (ids[1], ids[3]), (ids[2], ids[2])):
            got = feed.page(reader, max_id=None, since_id=since_id, min_id=min_id, limit=2)
            assert got == reference_page(ids, None, since_id, min_id, 2), (since_id, min_id)


def test_feed_push_is_idempotent(parvis: Parvis, feed_maker: FeedMaker) -> None:
    """A status pushed to a feed that already holds it (a fan-out job retried, or a backfill
    that got there first) stays there once, and the push does not fail."""
    with parvis.runtime.stores.write() as store:
        feed = feed_maker(store, 800)
        reader, author, _other, ids = _feed_world(store, 3)
        feed.add_author(reader, author, ids[:2])
        feed.push(ids[1], author, [reader])
        feed.push(ids[2], author, [reader])
        feed.push(ids[2], author, [reader])
        assert feed.page(reader, max_id=None, since_id=None, min_id=None, limit=20) == ids[::-1]


def test_feed_remove_author_and_add_author(parvis: Parvis, feed_maker: FeedMaker) -> None:
    with parvis.runtime.stores.write() as store:
        feed = feed_maker(store, 800)
        reader, author, other, ids = _feed_world(store, 4)
        theirs = [add_status(store, other) for _ in range(2)]
        for sid in ids:
            feed.push(sid, author, [reader, other])
        for sid in theirs:
            feed.push(sid, other, [reader])
        everything = sorted(ids + theirs, reverse=True)
        assert feed.page(reader, max_id=None, since_id=None, min_id=None, limit=40) == everything

        feed.remove_author(reader, author)
        assert feed.page(reader, max_id=None, since_id=None, min_id=None, limit=40) == theirs[::-1]
        # Other feeds keep the author's entries.
        assert feed.page(other, max_id=None, since_id=None, min_id=None, limit=40) == ids[::-1]

        feed.add_author(reader, author, ids[1:3])
        feed.add_author(reader, author, ids[1:3])  # twice: no duplicates
        feed.add_author(reader, author, [])
        got = feed.page(reader, max_id=None, since_id=None, min_id=None, limit=40)
        assert got == sorted([*ids[1:3], *theirs], reverse=True)


def test_feed_remove_status_removes_exactly_that_status(
    parvis: Parvis, feed_maker: FeedMaker
) -> None:
    # Ids minted in the same millisecond differ in their low bits only; a double (a Redis
    # score) cannot tell them apart, the feed must.
    base = id_for_time(datetime(2024, 6, 1, tzinfo=UTC)) + 64
    neighbours = [base, base + 1, base + 2]
    assert float(neighbours[0]) == float(neighbours[2])  # the precondition that makes it bite
    with parvis.runtime.stores.write() as store:
        feed = feed_maker(store, 800)
        reader, author, other, ids = _feed_world(store, status_ids=neighbours)
        for sid in ids:
            feed.push(sid, author, [reader, other])
        feed.remove_status(ids[1], [reader, other])
        for account in (reader, other):
            got = feed.page(account, max_id=None, since_id=None, min_id=None, limit=20)
            assert got == [ids[2], ids[0]]


def test_feed_paging_is_exact_for_neighbouring_ids(parvis: Parvis, feed_maker: FeedMaker) -> None:
    base = id_for_time(datetime(2024, 7, 1, tzinfo=UTC)) + 128
    neighbours = [base + k for k in range(6)]
    with parvis.runtime.stores.write() as store:
        feed = feed_maker(store, 800)
        reader, author, _other, ids = _feed_world(store, status_ids=neighbours)
        for sid in ids:
            feed.push(sid, author, [reader])
        check_paging(lambda **kw: feed.page(reader, **kw), ids, limits=(2, 20))


def test_feed_holders(parvis: Parvis, feed_maker: FeedMaker) -> None:
    """Which recipients already hold one of some statuses (to show a post once per home)."""
    base = id_for_time(datetime(2024, 8, 1, tzinfo=UTC)) + 256
    with parvis.runtime.stores.write() as store:
        feed = feed_maker(store, 800)
        reader, author, other, ids = _feed_world(store, status_ids=[base, base + 1, base + 2])
        far = add_status(store, author)
        feed.push(ids[0], author, [reader])
        feed.push(ids[2], author, [other])
        feed.push(far, author, [reader, other])
        assert feed.holders([ids[0]], [reader, other, author]) == {reader}
        assert feed.holders([ids[0], ids[2]], [reader, other, author]) == {reader, other}
        assert feed.holders([far], [reader]) == {reader}
        assert feed.holders([ids[0]], []) == set()
        # A neighbouring id (same millisecond) is another status: not held by anyone.
        assert feed.holders([ids[1]], [reader, other, author]) == set()


def test_feed_trim_keeps_the_newest_cap_entries(parvis: Parvis, feed_maker: FeedMaker) -> None:
    cap = 5
    with parvis.runtime.stores.write() as store:
        feed = feed_maker(store, cap)
        reader, author, other, ids = _feed_world(store, 8)
        for sid in ids:
            feed.push(sid, author, [reader])
        for sid in ids[:3]:
            feed.push(sid, author, [other])
        feed.trim(cap)
        assert (
            feed.page(reader, max_id=None, since_id=None, min_id=None, limit=40) == ids[::-1][:cap]
        )
        assert (
            feed.page(other, max_id=None, since_id=None, min_id=None, limit=40) == ids[:3][::-1]
        )  # under the cap: untouched


def test_sql_feed_trim_reports_removed_rows(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        feed = SqlFeedStore(store.conn)
        reader, author, _other, ids = _feed_world(store, 6)
        for sid in ids:
            feed.push(sid, author, [reader])
        assert feed.trim(4) == 2
        assert feed.trim(4) == 0
        assert count_rows(store, home_feed, home_feed.c.account_id == reader) == 4


def test_sql_feed_entries_go_with_their_status(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        reader, author, _other, ids = _feed_world(store, 3)
        store.feeds.push(ids[1], author, [reader])
        store.statuses.delete(ids[1])
        assert count_rows(store, home_feed, home_feed.c.status_id == ids[1]) == 0


# --- the social graph -------------------------------------------------------------------------


def test_social_edges_add_remove_has(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        a, b, c = (add_account(store, n) for n in ("a", "b", "c"))
        social = store.social
        for kind in ("follows", "follow_requests", "blocks", "mutes"):
            assert not social.has(kind, a, b)
            assert social.add(kind, a, b, NOW) is True
            assert social.add(kind, a, b, NOW) is False
            assert social.has(kind, a, b) and not social.has(kind, b, a)
            row = social.get(kind, a, b)
            assert row is not None and row["created_at"] == NOW
            assert social.get(kind, b, a) is None
            assert social.remove(kind, a, b) is True
            assert social.remove(kind, a, b) is False
            assert not social.has(kind, a, b)
        # Options are updated when the edge exists.
        social.add("follows", a, b, NOW, show_reblogs=True, notify=False)
        social.add("follows", a, b, NOW, show_reblogs=False, notify=True, languages="en,fr")
        row = social.get("follows", a, b)
        assert row is not None
        assert (row["show_reblogs"], row["notify"], row["languages"]) == (False, True, "en,fr")
        social.add("follows", c, b, NOW)
        assert sorted(social.follower_ids(b)) == sorted([a, c])
        assert social.followers_hiding_reblogs(b) == {a}
        assert social.followers_notified(b) == [a]
    with pytest.raises(IntegrityError), parvis.runtime.stores.write() as store:
        # The (account, target) pair is unique at the database level too.
        store.conn.execute(
            follows.insert().values(id=new_id(), account_id=a, target_account_id=b, created_at=NOW)
        )


def test_local_followers_and_blocked_with(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        star = add_account(store, "star")
        local = add_account(store, "local")
        remote = add_account(store, "remote", "far.example")
        blocker, blocked = add_account(store, "blocker"), add_account(store, "blocked")
        for f in (local, remote):
            store.social.add("follows", f, star, NOW)
        store.social.add("blocks", blocker, star, NOW)
        store.social.add("blocks", star, blocked, NOW)
        store.social.add("blocks", blocker, blocked, NOW)  # not about star
    with parvis.runtime.stores.read() as store:
        assert store.social.local_follower_ids(star) == [local]
        assert sorted(store.social.follower_ids(star)) == sorted([local, remote])
        assert store.social.blocked_with(star) == {blocker, blocked}
        assert store.social.blocked_with(local) == set()


def test_viewer_and_mutes(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        names = ("me", "f", "b1", "b2", "m", "gone")
        me, f, b1, b2, m, gone = (add_account(store, n) for n in names)
        store.social.add("follows", me, f, NOW)
        store.social.add("blocks", me, b1, NOW)
        store.social.add("blocks", b2, me, NOW)
        store.social.add("mutes", me, m, NOW, hide_notifications=False)
        store.social.add("mutes", me, gone, NOW, expires_at=NOW + timedelta(minutes=5))
    with parvis.runtime.stores.read() as store:
        v = store.social.viewer(me, [f, b1, b2, m, me])
        assert v.account_id == me
        assert (v.following, v.blocking, v.blocked_by) == (
            frozenset({f}),
            frozenset({b1}),
            frozenset({b2}),
        )
        narrow = store.social.viewer(me, [b2])  # only the authors asked about
        assert narrow.following == frozenset() and narrow.blocked_by == frozenset({b2})
        assert store.social.viewer(None, [f]).anonymous
        assert store.social.muted_ids(me, NOW) == {m, gone}
        assert store.social.muted_ids(me, NOW + timedelta(minutes=6)) == {m}
        assert store.social.muted_ids(me, NOW, notifications=True) == {gone}
        assert store.social.muted_ids(f, NOW) == set()


def test_relationships(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        me, a, b, c, d = (add_account(store, n) for n in ("me", "a", "b", "c", "d"))
        store.social.add("follows", me, a, NOW, show_reblogs=False, notify=True, languages="fr")
        store.social.add("follows", a, me, NOW)
        store.social.add("follow_requests", me, b, NOW, show_reblogs=True, notify=False)
        store.social.add("follow_requests", b, me, NOW)
        store.social.add("blocks", me, c, NOW)
        store.social.add("blocks", c, me, NOW)
        store.social.add(
            "mutes", me, d, NOW, hide_notifications=True, expires_at=NOW + timedelta(hours=1)
        )
    with parvis.runtime.stores.read() as store:
        rels = store.social.relationships(me, [a, b, c, d, a], NOW)
        assert [r.id for r in rels] == [a, b, c, d]
        ra, rb, rc, rd = rels
        assert (ra.following, ra.followed_by, ra.showing_reblogs, ra.notifying, ra.languages) == (
            True,
            True,
            False,
            True,
            ("fr",),
        )
        assert not (ra.blocking or ra.blocked_by or ra.muting or ra.requested)
        assert (rb.following, rb.requested, rb.requested_by, rb.showing_reblogs) == (
            False,
            True,
            True,
            True,
        )
        assert (rc.blocking, rc.blocked_by, rc.following) == (True, True, False)
        assert (rd.muting, rd.muting_notifications) == (True, True)
        later = store.social.relationships(me, [d], NOW + timedelta(hours=2))[0]
        assert (later.muting, later.muting_notifications) == (False, False)
        assert store.social.relationships(me, [], NOW) == []


def test_edge_paging(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        star = add_account(store, "star")
        fans = [add_account(store, f"fan{i}") for i in range(6)]
        for fan in fans:
            store.social.add("follows", fan, star, NOW)
    with parvis.runtime.stores.read() as store:
        pairs = store.social.edge_page(
            "follows", target_id=star, max_id=None, since_id=None, min_id=None, limit=40
        )
        assert [a for _, a in pairs] == fans[::-1]  # newest edge first
        edge_of = {a: e for e, a in pairs}
        edges = [edge_of[f] for f in fans]

        def fetch(**kw: Any) -> list[int]:
            return [e for e, _ in store.social.edge_page("follows", target_id=star, **kw)]

        check_paging(fetch, edges, limits=(2, 40))
        out = store.social.edge_page(
            "follows", account_id=fans[0], max_id=None, since_id=None, min_id=None, limit=40
        )
        assert [a for _, a in out] == [star]


# --- interactions -----------------------------------------------------------------------------


def test_interaction_marks_and_flags(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        me, other = add_account(store, "me"), add_account(store, "other")
        s1, s2, s3 = (add_status(store, other) for _ in range(3))
        mine = add_status(store, me)
        for kind in ("favourites", "bookmarks", "pins"):
            assert store.interactions.add(kind, me, s1, NOW) is True
            assert store.interactions.add(kind, me, s1, NOW) is False
            assert store.interactions.count(kind, me) == 1
        store.interactions.add("favourites", me, s2, NOW)
        store.interactions.add("favourites", other, s2, NOW)
        store.interactions.add("pins", me, mine, NOW)
        add_status(store, me, reblog_of_id=s3)
    with parvis.runtime.stores.read() as store:
        flags = store.interactions.flags(me, [s1, s2, s3, mine])
        assert flags.favourited == {s1, s2}
        assert flags.bookmarked == {s1}
        assert flags.pinned == {s1, mine}
        assert flags.reblogged == {s3}
        assert store.interactions.flags(None, [s1]).favourited == frozenset()
        assert store.interactions.flags(me, []).favourited == frozenset()
        assert [
            a
            for _, a in store.interactions.accounts_who(
                "favourites", s2, max_id=None, since_id=None, min_id=None, limit=40
            )
        ] == [other, me]
        assert [
            s
            for _, s in store.interactions.status_page(
                "favourites", me, max_id=None, since_id=None, min_id=None, limit=40
            )
        ] == [s2, s1]
        assert store.interactions.pinned_ids(me) == [mine, s1]  # newest pin first
    with parvis.runtime.stores.write() as store:
        assert store.interactions.remove("favourites", me, s1) is True
        assert store.interactions.remove("favourites", me, s1) is False
        assert store.interactions.count("favourites", me) == 1
        store.statuses.delete(s2)  # marks go with their status
        assert store.interactions.count("favourites", me) == 0
        assert store.interactions.count("favourites", other) == 0


def test_interaction_status_page_paging(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        me, other = add_account(store, "me"), add_account(store, "other")
        statuses = [add_status(store, other) for _ in range(6)]
        for sid in reversed(statuses):  # marked in another order than posted
            store.interactions.add("bookmarks", me, sid, NOW)
    with parvis.runtime.stores.read() as store:
        pairs = store.interactions.status_page(
            "bookmarks", me, max_id=None, since_id=None, min_id=None, limit=40
        )
        assert [s for _, s in pairs] == statuses  # newest mark first: the first posted
        marks = [m for m, _ in pairs]

        def fetch(**kw: Any) -> list[int]:
            return [m for m, _ in store.interactions.status_page("bookmarks", me, **kw)]

        check_paging(fetch, marks, limits=(2, 40))


# --- notifications ----------------------------------------------------------------------------


def test_notifications_page_dismiss_clear(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        me, a, b = (add_account(store, n) for n in ("me", "a", "b"))
        sid = add_status(store, me)
        n = store.notifications
        follow = n.add(me, a, "follow", None, NOW)
        fav = n.add(me, a, "favourite", sid, NOW)
        mention = n.add(me, b, "mention", sid, NOW)
        reblog = n.add(me, b, "reblog", sid, NOW)
        theirs = n.add(a, me, "follow", None, NOW)
        assert n.exists(me, a, "follow", None) and not n.exists(me, a, "follow", sid)
        assert n.exists(me, a, "favourite", sid) and not n.exists(me, b, "favourite", sid)
    everything = [reblog, mention, fav, follow]
    base: dict[str, Any] = {
        "types": None,
        "exclude_types": (),
        "from_account_id": None,
        "max_id": None,
        "since_id": None,
        "min_id": None,
        "limit": 40,
    }
    with parvis.runtime.stores.read() as store:
        n = store.notifications

        def ids(**kw: Any) -> list[int]:
            return [r["id"] for r in n.page(me, **{**base, **kw})]

        assert ids() == everything
        assert ids(types=["mention", "follow"]) == [mention, follow]
        assert ids(exclude_types=["reblog", "follow"]) == [mention, fav]
        assert ids(from_account_id=a) == [fav, follow]
        row = n.page(me, **{**base, "limit": 1})[0]
        assert (row["type"], row["from_account_id"], row["status_id"]) == ("reblog", b, sid)
        check_paging(lambda **kw: ids(**kw), everything, limits=(1, 40))
        assert n.get(me, fav) is not None
        assert n.get(a, fav) is None  # someone else's notification is not found
        assert n.unread_count(me, None) == 4 and n.unread_count(me, fav) == 2
    with parvis.runtime.stores.write() as store:
        n = store.notifications
        assert n.dismiss(a, fav) is False  # not theirs
        assert n.dismiss(me, fav) is True
        assert n.dismiss(me, fav) is False
        n.remove_about(me, b, "reblog", sid)
        n.remove_about(me, a, "follow")
    with parvis.runtime.stores.read() as store:
        assert [r["id"] for r in store.notifications.page(me, **base)] == [mention]
    with parvis.runtime.stores.write() as store:
        store.notifications.clear(me)
    with parvis.runtime.stores.read() as store:
        assert store.notifications.page(me, **base) == []
        assert [r["id"] for r in store.notifications.page(a, **base)] == [theirs]


# --- oauth ------------------------------------------------------------------------------------


def _app(store: Store, name: str = "app") -> int:
    app_id = new_id()
    store.oauth.add_app(
        {
            "id": app_id,
            "name": name,
            "website": None,
            "redirect_uris": "urn:x",
            "scopes": "read write",
            "client_id": uuid.uuid4().hex,
            "client_secret_hash": "f" * 64,
            "created_at": NOW,
        }
    )
    return app_id


def test_oauth_apps_codes_tokens(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        me = add_account(store, "me")
        app_id, other_app = _app(store), _app(store, "other")
        row = store.oauth.app(app_id)
        assert row is not None and row["name"] == "app"
        assert store.oauth.app_by_client_id(row["client_id"]) == row
        assert store.oauth.app_by_client_id("nope") is None
        assert store.oauth.app(new_id()) is None
        store.oauth.add_code(
            {
                "code_hash": "c" * 64,
                "app_id": app_id,
                "account_id": me,
                "scopes": "read",
                "redirect_uri": "urn:x",
                "code_challenge": None,
                "code_challenge_method": None,
                "expires_at": NOW,
            }
        )
    with parvis.runtime.stores.write() as store:
        taken = store.oauth.take_code("c" * 64)
        assert taken is not None and taken["account_id"] == me and taken["expires_at"] == NOW
    with parvis.runtime.stores.write() as store:
        assert store.oauth.take_code("c" * 64) is None  # a code works once
        assert store.oauth.take_code("d" * 64) is None
        for i, account in enumerate((me, me, None)):
            store.oauth.add_token(
                {
                    "id": new_id(),
                    "token_hash": str(i) * 64,
                    "app_id": app_id,
                    "account_id": account,
                    "scopes": "read",
                    "created_at": NOW,
                }
            )
        assert store.oauth.revoke_token("0" * 64, other_app, NOW) is False  # not its token
        assert store.oauth.revoke_token("0" * 64, app_id, NOW) is True
        store.oauth.revoke_all_for(me, NOW + timedelta(seconds=1))
    with parvis.runtime.stores.read() as store:
        first, second, app_only = (store.oauth.token(str(i) * 64) for i in range(3))
        assert first is not None and first["revoked_at"] == NOW  # not moved by revoke_all_for
        assert second is not None and second["revoked_at"] == NOW + timedelta(seconds=1)
        assert app_only is not None and app_only["revoked_at"] is None
        assert app_only["account_id"] is None
        assert store.oauth.token("9" * 64) is None


# --- media --------------------------------------------------------------------------------


def test_media_rows(parvis: Parvis) -> None:
    with parvis.runtime.stores.write() as store:
        me = add_account(store, "me")
        mid = add_media(store, me, state="pending", original_key="originals/x.bin", file_key=None)
        assert store.media.original_key(mid) == "originals/x.bin"
        store.media.update(
            mid,
            {
                "state": "ready",
                "file_key": "attachments/x.png",
                "original_key": None,
                "focus_x": 0.5,
                "focus_y": -0.25,
            },
        )
    with parvis.runtime.stores.read() as store:
        m = store.media.get(mid)
        assert m is not None
        assert (m.state, m.file_key, m.focus_x, m.focus_y) == (
            "ready",
            "attachments/x.png",
            0.5,
            -0.25,
        )
        assert store.media.original_key(mid) is None
        assert store.media.get(new_id()) is None
        assert [x.id for x in store.media.get_many([mid, new_id()])] == [mid]
        assert count_rows(store, media_attachments) == 1
