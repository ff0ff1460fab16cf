"""The label store on every backend: signals saved and refreshed with their accounts, listed
strongest or newest first and paged, decided once; labels in force read for many accounts in
one query (and loaded with the accounts themselves); the users' choices; the detectors' bounded
read of recent posts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import event, insert

from parvis.app import Parvis
from parvis.domain.ids import id_for_time
from parvis.services.context import Work
from parvis.storage.tables import statuses
from tests.domain.test_labels import T0, Network
from tests.services.labels_world import plant_network

T = TypeVar("T")


def write(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def read(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.read(fn)


def _accounts(parvis: Parvis, count: int) -> list[int]:
    net = Network()
    for a in range(1, count + 1):
        net.created[a] = T0 - timedelta(days=a)
        net.post(a, T0 + timedelta(minutes=a), f"post number {a}")
    return sorted(plant_network(parvis, net).values())


@contextmanager
def counting(parvis: Parvis) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(parvis.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(parvis.db.engine, "before_cursor_execute", count)


def test_signals_are_saved_refreshed_listed_and_decided_once(parvis: Parvis) -> None:
    a, b, c, d = _accounts(parvis, 4)
    now = T0 + timedelta(days=1)
    weak = write(
        parvis,
        lambda w: w.store.labels.insert_signal("automation", "automation:a", 0.55, {}, [a], now),
    )
    strong = write(
        parvis,
        lambda w: w.store.labels.insert_signal(
            "coordination", "coordination:x", 0.9, {"texts": 2}, [b, c], now - timedelta(hours=1)
        ),
    )
    got = read(parvis, lambda w: w.store.labels.get(strong))
    assert (
        got is not None and got.accounts == tuple(sorted((b, c))) and got.evidence == {"texts": 2}
    )
    by_score = read(parvis, lambda w: w.store.labels.open_signals())
    assert [s.id for s in by_score] == [strong, weak]
    newest = read(parvis, lambda w: w.store.labels.open_signals(order="newest"))
    assert [s.id for s in newest] == [weak, strong]
    paged = read(parvis, lambda w: w.store.labels.open_signals(limit=1, offset=1))
    assert [s.id for s in paged] == [weak]
    assert [
        s.id for s in read(parvis, lambda w: w.store.labels.open_signals(kind="automation"))
    ] == [weak]
    write(
        parvis,
        lambda w: w.store.labels.refresh_signal(
            strong, 0.95, {"texts": 3}, [b, c, d], now + timedelta(hours=1)
        ),
    )
    fresh = read(parvis, lambda w: w.store.labels.get(strong))
    assert fresh is not None
    assert (fresh.score, fresh.evidence, len(fresh.accounts)) == (0.95, {"texts": 3}, 3)
    assert fresh.detected_at == now - timedelta(hours=1) and fresh.updated_at > fresh.detected_at
    assert read(parvis, lambda w: w.store.labels.count_open()) == 2

    assert write(parvis, lambda w: w.store.labels.decide(weak, "dismissed", a, now, "why"))
    assert not write(parvis, lambda w: w.store.labels.decide(weak, "confirmed", a, now, "again"))
    assert read(parvis, lambda w: w.store.labels.count_open()) == 1
    recent = read(parvis, lambda w: w.store.labels.comparable("automation", now))
    old = read(parvis, lambda w: w.store.labels.comparable("automation", now + timedelta(days=1)))
    assert [s.id for s in recent] == [weak] and old == []
    assert [s.id for s in read(parvis, lambda w: w.store.labels.signals_of(d))] == [strong]


def test_labels_in_force_are_read_for_many_accounts_at_once(parvis: Parvis) -> None:
    ids = _accounts(parvis, 30)
    now = T0 + timedelta(days=1)
    signal = write(
        parvis,
        lambda w: w.store.labels.insert_signal("coordination", "c", 0.7, {}, ids[:10], now),
    )

    def label_them(w: Work) -> None:
        for i, account in enumerate(ids[:10]):
            w.store.labels.put_label(
                account,
                "coordinated",
                decision_id=1000 + i,
                since=now,
                until=now + timedelta(days=30) if i % 2 else None,
                signal_id=signal,
            )
        w.store.labels.put_label(ids[0], "automated", decision_id=7, since=now, until=None)
        # A new decision keeps the signal the label came from.
        w.store.labels.put_label(ids[1], "coordinated", decision_id=2000, since=now, until=None)

    write(parvis, label_them)
    with counting(parvis) as seen:
        found = read(parvis, lambda w: w.store.labels.labels_of(ids))
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    assert [r.label for r in found[ids[0]]] == ["automated", "coordinated"]
    assert (found[ids[1]][0].decision_id, found[ids[1]][0].signal_id) == (2000, signal)
    assert found[ids[20]] == []
    # The accounts come with their labels, in the accounts' own query.
    with counting(parvis) as seen:
        accounts = read(parvis, lambda w: w.store.accounts.get_many(ids))
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    assert accounts[ids[0]].labels == ("automated", "coordinated")
    assert accounts[ids[2]].labels == ("coordinated",) and accounts[ids[20]].labels == ()
    assert read(parvis, lambda w: w.store.labels.labelled("automated", ids)) == {ids[0]}
    ended = read(parvis, lambda w: w.store.labels.ended(now + timedelta(days=31)))
    assert sorted(ended) == sorted(ids[i] for i in range(3, 10, 2))
    write(parvis, lambda w: w.store.labels.remove_label(ids[0], "automated"))
    again = read(parvis, lambda w: w.store.accounts.get(ids[0]))
    assert again is not None and again.labels == ("coordinated",)


def test_preferences_are_kept_per_user(parvis: Parvis) -> None:
    a, b = _accounts(parvis, 2)
    assert read(parvis, lambda w: w.store.labels.preferences(a)) == {}
    write(parvis, lambda w: w.store.labels.set_preferences(a, {"automated": "hide", "bot": "warn"}))
    write(parvis, lambda w: w.store.labels.set_preferences(a, {"automated": "show"}))
    assert read(parvis, lambda w: w.store.labels.preferences(a)) == {
        "automated": "show",
        "bot": "warn",
    }
    assert read(parvis, lambda w: w.store.labels.preferences(b)) == {}


def test_the_detectors_read_recent_public_originals_newest_first_and_bounded(
    parvis: Parvis,
) -> None:
    [author] = _accounts(parvis, 1)
    start = T0 + timedelta(days=2)
    rows = []
    for k in range(20):
        at = start + timedelta(minutes=k)
        rows.append(
            {
                "id": id_for_time(at),
                "account_id": author,
                "uri": f"https://parvis.test/s/{k}",
                "local": True,
                "text": f"text {k}",
                "content": f"<p>text {k}</p>",
                "visibility": ("public", "unlisted", "private", "direct")[k % 4],
                "created_at": at,
            }
        )
    first = rows[0]["id"]
    boost = {**rows[4], "id": id_for_time(start + timedelta(hours=1)), "uri": "https://b/1"}
    boost["reblog_of_id"] = first
    write(parvis, lambda w: w.store.conn.execute(insert(statuses), rows))
    write(parvis, lambda w: w.store.conn.execute(insert(statuses).values(**boost)))
    found = read(parvis, lambda w: w.store.labels.recent_posts(start, 100))
    assert [p.text for p in found] == [f"text {k}" for k in range(19, -1, -1) if k % 4 < 2]
    bounded = read(parvis, lambda w: w.store.labels.recent_posts(start, 3))
    assert [p.text for p in bounded] == ["text 17", "text 16", "text 13"]
    later = read(parvis, lambda w: w.store.labels.recent_posts(start + timedelta(minutes=15), 100))
    assert [p.text for p in later] == ["text 17", "text 16"]
    authors = read(parvis, lambda w: w.store.labels.authors([author]))
    assert authors[author].local is False  # planted network: odd ids are remote
