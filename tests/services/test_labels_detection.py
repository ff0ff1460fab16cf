"""The label detection job end to end through the database: the synthetic network of
tests/domain/test_labels.py (organic accounts in English and French, 16 planted bots, 5 planted
coordinated clusters, and organic look-alikes: famous quotes shared by 40 unrelated accounts
over a day, a headline shared by 25 within 40 minutes), half of it remote, planted in the
database; the hourly job run through the job registry; the signals read back. Precision and
recall are printed (pytest -s) and must stay at 0.9 or more; no look-alike may be flagged.

Then what a run does with what it found before: an open signal is refreshed, a dismissed one
is not raised again for 30 days, a confirmed one only with new accounts; a signal changes
nothing anyone sees."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from parvis.app import Parvis
from parvis.services import accounts, label_detection, label_signals
from parvis.services.label_detection import Finding
from parvis.storage.labels import SignalRow
from tests.domain.test_labels import DAYS, T0, Network, build_network
from tests.services.labels_world import Clock, clock, detect, plant_network

WINDOW = {"label_window_hours": (DAYS + 2) * 24}
NET = build_network(8)


@pytest.fixture
def planted(parvis: Parvis) -> Iterator[tuple[Parvis, dict[int, int], Clock]]:
    ids = plant_network(parvis, NET)
    with clock(parvis, T0 + timedelta(days=DAYS, hours=1)) as c:
        yield parvis, ids, c


def _signals(parvis: Parvis, kind: str) -> list[SignalRow]:
    return parvis.runtime.read(lambda w: w.store.labels.open_signals(kind=kind, limit=200))


def _precision_recall(found: int, right: int, relevant: int) -> tuple[float, float]:
    return (right / found if found else 1.0, right / relevant)


@pytest.mark.parametrize("parvis", [WINDOW], indirect=True)
def test_the_job_finds_planted_bots_and_clusters_and_not_look_alikes(
    planted: tuple[Parvis, dict[int, int], Clock],
) -> None:
    parvis, ids, _ = planted
    net: Network = NET
    back = {db: a for a, db in ids.items()}
    run = detect(parvis)
    assert run.posts == len(net.posts) and run.raised == sum(run.found.values())

    automation = _signals(parvis, "automation")
    flagged = {back[s.accounts[0]] for s in automation}
    bot_p, bot_r = _precision_recall(len(flagged), len(flagged & net.bots), len(net.bots))
    remote_bots = {b for b in net.bots if b % 2}  # planted remote: their HTML is read
    assert remote_bots and remote_bots <= flagged

    coordination = _signals(parvis, "coordination")
    right, matched = 0, set()
    for s in coordination:
        found = {back[a] for a in s.accounts}
        best = max(
            range(len(net.clusters)),
            key=lambda k: len(found & net.clusters[k]) / len(found | net.clusters[k]),
        )
        planted_cluster = net.clusters[best]
        if len(found & planted_cluster) / len(found | planted_cluster) >= 0.8:
            right += 1
            matched.add(best)
    cl_p, cl_r = _precision_recall(len(coordination), right, len(net.clusters))
    print(
        f"\nlabel job: {run.posts} posts, {len(ids)} accounts; bots: {len(net.bots)} planted, "
        f"{len(flagged)} flagged, precision {bot_p:.3f}, recall {bot_r:.3f}; clusters: "
        f"{len(net.clusters)} planted, {len(coordination)} found, precision {cl_p:.3f}, "
        f"recall {cl_r:.3f}"
    )
    assert bot_p >= 0.9 and bot_r >= 0.9
    assert cl_p >= 0.9 and cl_r >= 0.9
    # No look-alike post is in any cluster's evidence, and no sharer of a quote is flagged.
    copies = {int(p["id"]) for s in coordination for m in s.evidence["members"] for p in m["posts"]}
    planted_ids = parvis.runtime.read(
        lambda w: w.store.labels.recent_posts(T0 - timedelta(days=1), 100_000)
    )
    by_time = {(back[p.account_id], p.created_at): p.id for p in planted_ids}
    look_alikes = {by_time[(p.account, p.created_at)] for p in net.posts if p.id in net.look_alikes}
    assert look_alikes and not look_alikes & copies
    # The evidence a moderator reads: components with values and thresholds; members' texts,
    # times and pairwise similarities.
    bot = automation[0].evidence
    assert {c["name"] for c in bot["components"]} == {
        "rhythm",
        "daily_spread",
        "volume",
        "duplicates",
        "client",
    }
    assert all("threshold" in c and "value" in c and c["sentence"] for c in bot["components"])
    cluster = coordination[0].evidence
    assert cluster["members"] and all(m["posts"] for m in cluster["members"])
    assert all(p["text"] and p["created_at"] for m in cluster["members"] for p in m["posts"])
    assert cluster["pairs"] and all(0.5 <= p["similarity"] <= 1 for p in cluster["pairs"])
    assert "repeated" in cluster["reasons"]
    # Nothing changed for anyone: no label, no decision.
    labelled = parvis.runtime.read(lambda w: w.store.labels.labels_of(ids.values()))
    assert not any(labelled.values())

    # The next run refreshes what is open, raises nothing twice.
    again = detect(parvis)
    assert again.raised == 0 and again.refreshed == sum(again.found.values())
    assert len(_signals(parvis, "automation")) == len(automation)


def _finding(kind: str, accounts: tuple[int, ...], score: float = 0.8) -> Finding:
    return Finding(kind, accounts, score, {"posts": 12, "components": [], "texts": 2})


def test_a_dismissed_finding_waits_30_days_and_an_open_one_is_refreshed(parvis: Parvis) -> None:
    ids = plant_network(parvis, _tiny())
    a, b, c, d = sorted(ids.values())[:4]
    mod = _moderator(parvis)
    with clock(parvis) as now:
        first = parvis.runtime.write(
            lambda w: label_detection.record(w, [_finding("coordination", (a, b, c))])
        )
        assert first.raised == 1
        [signal] = _signals(parvis, "coordination")
        now.now += timedelta(hours=1)
        refreshed = parvis.runtime.write(
            lambda w: label_detection.record(w, [_finding("coordination", (a, b, c, d), 0.9)])
        )
        assert refreshed.refreshed == 1
        [same] = _signals(parvis, "coordination")
        assert same.id == signal.id and same.score == 0.9 and same.accounts == (a, b, c, d)
        assert same.updated_at > same.detected_at
        parvis.runtime.write(lambda w: label_signals.dismiss(w, mod, signal.id, "A fan club."))
        now.now += timedelta(days=29)
        quiet = parvis.runtime.write(
            lambda w: label_detection.record(w, [_finding("coordination", (a, b, c))])
        )
        assert quiet.suppressed == 1 and _signals(parvis, "coordination") == []
        now.now += timedelta(days=2)
        later = parvis.runtime.write(
            lambda w: label_detection.record(w, [_finding("coordination", (a, b, c))])
        )
        assert later.raised == 1 and len(_signals(parvis, "coordination")) == 1


def test_a_confirmed_finding_is_raised_again_only_with_new_accounts(parvis: Parvis) -> None:
    ids = plant_network(parvis, _tiny())
    a, b, c, d = sorted(ids.values())[:4]
    mod = _moderator(parvis)
    with clock(parvis):
        parvis.runtime.write(lambda w: label_detection.record(w, [_finding("automation", (a,))]))
        [signal] = _signals(parvis, "automation")
        parvis.runtime.write(lambda w: label_signals.confirm(w, mod, signal.id))
        # Labelled accounts are not assessed again; a reversed label is not raised at once.
        again = parvis.runtime.write(
            lambda w: label_detection.record(w, [_finding("automation", (a,))])
        )
        assert again.suppressed == 1
        parvis.runtime.write(
            lambda w: label_detection.record(w, [_finding("coordination", (a, b, c))])
        )
        [group] = _signals(parvis, "coordination")
        parvis.runtime.write(lambda w: label_signals.confirm(w, mod, group.id))
        grown = parvis.runtime.write(
            lambda w: label_detection.record(w, [_finding("coordination", (a, b, c, d))])
        )
        assert grown.raised == 1


def _tiny() -> Network:
    net = Network()
    for account in range(1, 7):
        net.created[account] = T0 - timedelta(days=400)
        net.post(account, T0 + timedelta(minutes=account), f"hello from number {account}")
    return net


def _moderator(parvis: Parvis) -> int:
    reg = accounts.Registration("warden", "warden@example.org", "correct horse battery", True)
    made = parvis.runtime.write(lambda w: accounts.register(w, reg, role="moderator"))
    return int(made.account_id)
