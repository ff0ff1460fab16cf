"""SearchStore on a real database (SQLite and PostgreSQL), and its query parsing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect

from parvis.app import Parvis
from parvis.domain.ids import new_id
from parvis.storage.migrate import alembic_config, current, upgrade
from parvis.storage.search import document, fold, parse_query, tokens
from parvis.storage.store import Store

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def store(parvis: Parvis) -> Iterator[Store]:
    with parvis.runtime.stores.write() as s:
        yield s


def account(store: Store, username: str, **values: object) -> int:
    aid = new_id()
    store.accounts.insert(
        {
            "id": aid,
            "username": username,
            "uri": f"https://x.test/u/{username}",
            "url": f"https://x.test/@{username}",
            "created_at": NOW,
            "updated_at": NOW,
            **values,
        }
    )
    return aid


def status(
    store: Store,
    author: int,
    text: str,
    visibility: str = "public",
    index: bool = True,
    **values: object,
) -> int:
    sid = new_id()
    store.statuses.insert(
        {
            "id": sid,
            "account_id": author,
            "uri": f"https://x.test/s/{sid}",
            "text": text,
            "visibility": visibility,
            "created_at": NOW,
            **values,
        }
    )
    if index:
        store.search.index_status(sid, text, "fr", author)
    return sid


# --- folding and parsing (no database) ---------------------------------------------------------


def test_fold_and_tokens() -> None:
    assert fold("Café NOËL Ærøskøbing Łódź straße") == "cafe noel aeroskobing lodz strasse"
    assert fold("ｆｕｌｌｗｉｄｔｈ") == "fullwidth"
    assert fold("が") == "が"  # kana voicing is not an accent
    assert tokens("l'été, c'est 2026!") == ["l", "été", "c", "est", "2026"]
    assert document("  Hello,\n\tWörld!! #tag @me https://ex.org/a?b=1  ") == (
        "hello world tag me https ex org a b 1"
    )
    assert document("\x00\ud800") == ""


def test_parse_query() -> None:
    parsed = parse_query('Café "au  Lait" -noël -"x y" NEAR( col:foo * AND')
    assert parsed.required == (("cafe",), ("au", "lait"), ("near",), ("col", "foo"), ("and",))
    assert parsed.excluded == (("noel",), ("x", "y"))
    assert parse_query('"unterminated phrase').required == (("unterminated", "phrase"),)
    assert parse_query("- -- * \" ' ()").empty
    assert parse_query("-only -negative").empty
    assert len(parse_query(" ".join(f"w{i}" for i in range(100))).required) == 16


# --- the store -----------------------------------------------------------------------------------


def test_index_search_and_unindex(store: Store) -> None:
    alice = account(store, "alice")
    one = status(store, alice, "Le café de Noël")
    two = status(store, alice, "Un autre CAFE")
    search = store.search
    assert search.status_ids("cafe", viewer_id=None, limit=10) == [two, one]
    assert search.status_ids("noel café", viewer_id=None, limit=10) == [one]
    assert search.status_ids("cafe", viewer_id=None, limit=1, offset=1) == [one]
    assert search.status_ids("cafe", viewer_id=None, limit=10, max_id=two) == [one]
    assert search.status_ids("cafe", viewer_id=None, limit=10, min_id=one) == [two]
    assert search.is_indexed(one)
    search.unindex_status(one)
    assert not search.is_indexed(one)
    assert search.status_ids("cafe", viewer_id=None, limit=10) == [two]
    search.index_status(two, "renamed entirely", None, alice)  # reindexing replaces
    assert search.status_ids("cafe", viewer_id=None, limit=10) == []
    assert search.status_ids("renamed", viewer_id=None, limit=10) == [two]
    search.index_status(one, " ... ", None, alice)  # nothing to index
    assert not search.is_indexed(one)
    assert search.status_ids("", viewer_id=None, limit=10) == []
    assert search.status_ids("cafe", viewer_id=None, limit=0) == []


def test_candidates(store: Store) -> None:
    alice, bob = account(store, "alice"), account(store, "bob")
    hidden = account(store, "hidden", indexable=False)
    gone = account(store, "gone", suspended_at=NOW)
    public = status(store, alice, "word public")
    unlisted = status(store, alice, "word unlisted", "unlisted")
    private = status(store, alice, "word private", "private")
    direct = status(store, alice, "word direct", "direct")
    hidden_post = status(store, hidden, "word from hidden")
    mention = status(store, hidden, "word to bob")
    store.statuses.add_mentions(mention, [bob])
    status(store, gone, "word suspended")
    boost = status(store, bob, "word boost", reblog_of_id=public)

    def ids(viewer: int | None, **kw: object) -> set[int]:
        return set(store.search.status_ids("word", viewer_id=viewer, limit=40, **kw))  # type: ignore[arg-type]

    assert ids(None) == {public, unlisted}
    assert ids(bob) == {public, unlisted, mention}
    assert ids(alice) == {public, unlisted, private, direct}
    assert ids(hidden) == {public, unlisted, hidden_post, mention}
    assert ids(bob, account_id=hidden) == {mention}
    assert boost not in ids(bob)
    store.accounts.update(hidden, {"indexable": True})  # read at query time
    assert ids(None) == {public, unlisted, hidden_post, mention}
    store.social.add("blocks", bob, alice, NOW)
    assert ids(bob) == {hidden_post, mention}
    assert ids(alice) == {public, unlisted, private, direct, hidden_post, mention}
    assert ids(alice) & ids(bob) == {hidden_post, mention}


def test_deleting_a_status_hides_it(store: Store) -> None:
    alice = account(store, "alice")
    sid = status(store, alice, "soon gone")
    store.statuses.delete(sid)  # even without unindex_status: results join statuses
    assert store.search.status_ids("gone", viewer_id=alice, limit=10) == []


def test_tags_and_lookups(store: Store) -> None:
    store.statuses.tag_ids(
        [
            ("parvis", "Parvis"),
            ("parvisian", "parvisian"),
            ("par_vis", "par_vis"),
            ("other", "other"),
        ],
        NOW,
    )

    def names(rows: list[tuple[int, str, str]]) -> list[tuple[str, str]]:
        return [(name, display) for _, name, display in rows]

    assert names(store.search.tags("parvis", limit=10)) == [
        ("parvis", "Parvis"),
        ("parvisian", "parvisian"),
    ]
    assert names(store.search.tags("par", limit=1, offset=1)) == [("par_vis", "par_vis")]
    assert names(store.search.tags("par_", limit=10)) == [("par_vis", "par_vis")]  # `_` literal
    assert store.search.tags("%", limit=10) == []
    other = store.search.tag("other")
    assert other is not None and other[1:] == ("other", "other")
    assert other[0] == store.statuses.tag_id("other")
    assert store.search.tag("nope") is None
    alice = account(store, "alice")
    sid = status(store, alice, "x", url="https://x.test/@alice/1")
    assert store.search.status_id_by_url(f"https://x.test/s/{sid}") == sid
    assert store.search.status_id_by_url("https://x.test/@alice/1") == sid
    assert store.search.status_id_by_url("https://x.test/@alice/2") is None
    assert store.search.account_id_by_url("https://x.test/@alice") == alice
    assert store.search.account_id_by_url("https://x.test/u/alice") == alice


def test_migration_round_trip_backfills(parvis: Parvis) -> None:
    """Down to 0001 (the index is dropped), then up again: existing statuses get indexed."""
    with parvis.runtime.stores.write() as s:
        alice = account(s, "alice")
        sid = status(s, alice, "Un thé à Noël", index=False)
        status(s, alice, "a boost of it", index=False, reblog_of_id=sid)
    db = parvis.db
    head = current(db)
    command.downgrade(alembic_config(db), "0001")
    try:
        assert current(db) == "0001"
        assert "status_search" not in inspect(db.engine).get_table_names()
    finally:
        upgrade(db)
    assert current(db) == head
    with parvis.runtime.stores.read() as s:
        assert s.search.status_ids("THE noel", viewer_id=None, limit=10) == [sid]
        assert s.search.status_ids("boost", viewer_id=None, limit=10) == []
