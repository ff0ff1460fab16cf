"""Community notes scoring (W7) at tier M: 1,000,000 ratings (20,000 notes, 60,000 raters,
planted population of performance-anchors §4.2), full rescore and incremental rescore after 1 %
new ratings (warm start), as ratios to the anchor measured in the same run. With --database,
the same through a real Parvis on SQLite: the periodic job's `services.notes.score`, which
reads every rating from the database and writes the statuses, their history, the raters and
the run.

Anchor: ONE bare numpy full-batch epoch over the same ratings: the prediction
μ + i_u + i_n + f_u·f_n gathered for every rating, the residuals, and the gradient sums of the
four parameter vectors with np.bincount (rater: Σres, Σres·f_n; note: Σres, Σres·f_u) and of μ.
Effective epochs = scorer time ÷ anchor time.

    .venv/bin/python bench/notes_scoring.py [--database]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from datetime import UTC, datetime

import _common as common
import numpy as np

from parvis.domain.notes.model import Ratings
from parvis.domain.notes.scoring import score

ANSWERS = {1.0: "HELPFUL", 0.5: "SOMEWHAT_HELPFUL", 0.0: "NOT_HELPFUL"}


def population(notes: int, raters: int, ratings: int, seed: int) -> Ratings:
    g = np.random.default_rng(seed)
    viewpoint = g.normal(0, 1, raters)
    kind = g.choice(3, notes, p=[0.35, 0.4, 0.25])
    intercept = np.select([kind == 0, kind == 1], [2.5, -0.5], -2.5) + g.normal(0, 0.3, notes)
    factor = np.where(kind == 1, g.choice([-2.5, 2.5], notes), g.normal(0, 0.15, notes))
    w = g.lognormal(0, 1, notes)
    note = g.choice(notes, int(ratings * 1.02), p=w / w.sum())
    rater = g.integers(0, raters, len(note))
    pair = np.unique(rater.astype(np.int64) * notes + note)[:ratings]
    pair = g.permutation(pair)
    rater, note = pair // notes, pair % notes
    p = 1 / (1 + np.exp(-(intercept[note] + viewpoint[rater] * factor[note])))
    value = (g.random(len(p)) < p).astype(float)
    value[g.random(len(p)) < 0.1] = 0.5
    return Ratings(
        np.arange(notes, dtype=np.int64),
        np.ones(notes, dtype=bool),
        np.array([f"r{i:06d}" for i in range(raters)]),
        rater.astype(np.int64),
        note.astype(np.int64),
        value,
    )


def anchor_epoch(r: Ratings) -> float:
    g = np.random.default_rng(0)
    nu, nn = len(r.rater_ids), len(r.note_ids)
    iu, fu, i_n, fn = g.normal(size=nu), g.normal(size=nu), g.normal(size=nn), g.normal(size=nn)
    start = time.perf_counter()
    res = r.value - 0.5 - iu[r.rater] - i_n[r.note] - fu[r.rater] * fn[r.note]
    np.bincount(r.rater, res, nu)
    np.bincount(r.rater, res * fn[r.note], nu)
    np.bincount(r.note, res, nn)
    np.bincount(r.note, res * fu[r.rater], nn)
    res.sum()
    return time.perf_counter() - start


def through_database(full: Ratings, n_old: int) -> dict[str, tuple[float, int, int]]:
    """Seeds a fresh SQLite Parvis with the notes and the first `n_old` ratings, runs the job's
    scoring (cold), adds the rest (1 %) and runs it again (warm). Seconds, epochs, changes."""
    import tempfile
    from pathlib import Path

    from parvis.app import build
    from parvis.config import Settings
    from parvis.services import notes
    from parvis.storage.bulk import insert_rows
    from parvis.storage.tables import (
        accounts,
        community_note_ratings,
        community_notes,
        statuses,
    )

    data = Path(tempfile.mkdtemp(prefix="parvis-notes-bench-"))
    parvis = build(Settings(data_dir=data, domain="bench.test", jobs_immediate=True), migrate=True)
    now = datetime.now(UTC)
    raters = len(full.rater_ids)
    author = raters  # one more account writes the posts, the notes are by the raters
    account_rows = [
        (i + 1, f"u{i}", f"u{i}", f"https://bench.test/users/u{i}", "", now, now)
        for i in range(raters + 1)
    ]
    post_rows = [
        (i + 1, author + 1, f"https://bench.test/s/{i}", "public", now)
        for i in range(len(full.note_ids))
    ]
    note_rows = [
        (
            i + 1,
            f"https://bench.test/notes/{i}",
            i + 1,
            (i % raters) + 1,
            "MISINFORMED_OR_POTENTIALLY_MISLEADING",
            "context",
            now,
        )
        for i in range(len(full.note_ids))
    ]

    def rating_rows(start: int, stop: int) -> list[tuple[object, ...]]:
        return [
            (int(n) + 1, int(u) + 1, ANSWERS[float(v)], now, now)
            for u, n, v in zip(
                full.rater[start:stop], full.note[start:stop], full.value[start:stop], strict=True
            )
        ]

    with parvis.db.engine.begin() as conn:
        cols = ["id", "username", "acct_key", "uri", "url", "created_at", "updated_at"]
        insert_rows(conn, accounts, cols, account_rows)
        cols = ["id", "account_id", "uri", "visibility", "created_at"]
        insert_rows(conn, statuses, cols, post_rows)
        cols = ["id", "uri", "status_id", "author_id", "classification", "summary", "created_at"]
        insert_rows(conn, community_notes, cols, note_rows)
        cols = ["note_id", "rater_id", "helpfulness", "created_at", "updated_at"]
        insert_rows(conn, community_note_ratings, cols, rating_rows(0, n_old))
    out: dict[str, tuple[float, int, int]] = {}
    t0 = time.perf_counter()
    first = parvis.runtime.write(lambda w: notes.score(w))
    out["database: full rescore (cold start)"] = (
        time.perf_counter() - t0,
        first.run.epochs if first.run else 0,
        first.changed,
    )
    with parvis.db.engine.begin() as conn:
        insert_rows(conn, community_note_ratings, cols, rating_rows(n_old, len(full.value)))
    t0 = time.perf_counter()
    again = parvis.runtime.write(lambda w: notes.score(w))
    out["database: incremental, +1 % (warm start)"] = (
        time.perf_counter() - t0,
        again.run.epochs if again.run else 0,
        again.changed,
    )
    parvis.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Community notes scoring vs a numpy epoch.")
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--notes", type=int, default=20_000)
    parser.add_argument("--raters", type=int, default=60_000)
    parser.add_argument(
        "--database",
        action="store_true",
        help="also score through a real Parvis on SQLite (the periodic job), seeded first",
    )
    args = parser.parse_args()
    host = common.host_info()
    full = population(args.notes, args.raters, args.ratings, seed=1)
    n_old = int(len(full.value) / 1.01)
    old = replace(full, rater=full.rater[:n_old], note=full.note[:n_old], value=full.value[:n_old])
    anchor = common.median([anchor_epoch(full) for _ in range(5)])
    t0 = time.perf_counter()
    first = score(old)
    t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = score(full, first.state)
    t_incr = time.perf_counter() - t0
    stored = through_database(full, n_old) if args.database else {}
    anchor_after = common.median([anchor_epoch(full) for _ in range(5)])
    anchor = min(anchor, anchor_after)
    rows = {
        "anchor: one numpy full-batch epoch": (anchor, 1, 1.0),
        "full rescore (cold start)": (t_full, first.epochs, t_full / anchor),
        "incremental, +1 % ratings (warm start)": (t_incr, again.epochs, t_incr / anchor),
    }
    for name, (sec, epochs, _changed) in stored.items():
        rows[name] = (sec, epochs, sec / anchor)
    print(f"\nCommunity notes scoring, {len(full.value):,} ratings")
    print(f"{'':42} {'seconds':>9} {'epochs':>7} {'× anchor':>9}")
    for name, (sec, ep, ratio) in rows.items():
        print(f"{name:42} {sec:9.3f} {ep:7d} {ratio:9.0f}")
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = common.RESULTS / f"notes_scoring-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "ratings": len(full.value),
                "notes": args.notes,
                "raters": args.raters,
                "host": host,
                "versions": common.versions(),
                "rows": {
                    k: {"seconds": s, "epochs": e, "ratio": r} for k, (s, e, r) in rows.items()
                },
                "statuses_full": {k.value: v for k, v in first.counts.items()},
                "statuses_incremental": {k.value: v for k, v in again.counts.items()},
            },
            indent=2,
        )
    )
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
