"""Community notes scoring (W7) at tier M: 1,000,000 ratings (20,000 notes, 60,000 raters,
planted population of performance-anchors §4.2), full rescore and incremental rescore after 1 %
new ratings (warm start), as ratios to the anchor measured in the same run.

Anchor: ONE bare numpy full-batch epoch over the same ratings: the prediction
μ + i_u + i_n + f_u·f_n gathered for every rating, the residuals, and the gradient sums of the
four parameter vectors with np.bincount (rater: Σres, Σres·f_n; note: Σres, Σres·f_u) and of μ.
Effective epochs = scorer time ÷ anchor time.

    .venv/bin/python bench/notes_scoring.py
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


def main() -> None:
    parser = argparse.ArgumentParser(description="Community notes scoring vs a numpy epoch.")
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--notes", type=int, default=20_000)
    parser.add_argument("--raters", type=int, default=60_000)
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
    anchor_after = common.median([anchor_epoch(full) for _ in range(5)])
    anchor = min(anchor, anchor_after)
    rows = {
        "anchor: one numpy full-batch epoch": (anchor, 1, 1.0),
        "full rescore (cold start)": (t_full, first.epochs, t_full / anchor),
        "incremental, +1 % ratings (warm start)": (t_incr, again.epochs, t_incr / anchor),
    }
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
