"""The transparency report for a year of data, side by side with a plain SQL GROUP BY (anchor).

Builds (or reuses) a database holding one year of moderation — by default 120,000 notices with
their items, 100,000 cases and decisions, 6,000 appeals, 700 authority orders and 25
moderators — inserted in bulk straight into the tables (executemany, one transaction per
table), then, interleaved:

- Parvis: `services.transparency_report.report(work, 2025-01-01, 2026-01-01)` in a read unit of
  work (every figure: the GROUP BYs, the durations fetched and sorted for the medians and
  percentiles, the appeals, orders and roster).
- Anchor: `SELECT category, count(*) FROM notices WHERE created_at >= ? AND created_at < ?
  GROUP BY category` over the same rows, on the same database, in the same run.

The figure to track is the ratio of the two times (report ÷ anchor): how many plain GROUP BYs
the whole report costs. A breakdown per query is printed too.

    uv run python bench/transparency_report.py
    uv run python bench/transparency_report.py --notices 250000 --decisions 200000 --pairs 7
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import _common as common
from sqlalchemy import insert, text

from parvis.app import build
from parvis.config import Settings
from parvis.domain import moderation as vocab
from parvis.services import accounts
from parvis.services import transparency_report as tr
from parvis.services.context import Work
from parvis.storage.tables import (
    appeals,
    authority_orders,
    decisions,
    mod_cases,
    moderators,
    notice_items,
    notices,
)

YEAR = (date(2025, 1, 1), date(2026, 1, 1))
ANCHOR_SQL = (
    "SELECT category, count(*) FROM notices WHERE created_at >= :a AND created_at < :b "
    "GROUP BY category"
)


@dataclass
class Run:
    """One timed computation (the shape common.pair_ratios reads)."""

    target: str
    pair: int
    seconds: float
    cpu_seconds: float
    requests: int = 1

    @property
    def rps(self) -> float:
        return 1 / self.seconds if self.seconds else 0.0


def _moment(rng: random.Random, start: datetime, days: int) -> datetime:
    return start + timedelta(seconds=rng.randrange(days * 24 * 3600))


def seed(settings: Settings, args: argparse.Namespace) -> dict[str, int]:
    """One year of moderation, in bulk. Returns the row counts."""
    rng = random.Random(args.seed)
    instance = build(settings, migrate=True)
    try:
        runtime = instance.runtime
        start = datetime(2024, 12, 20, tzinfo=UTC)  # a few days before the year, some after
        days = 380
        mods = []
        for m in range(args.moderators):
            reg = accounts.Registration(f"mod{m}", f"mod{m}@example.org", "a long password", True)

            def register(w: Work, reg: accounts.Registration = reg) -> int:
                return accounts.register(w, reg, role="moderator").account_id

            mods.append(runtime.write(register))
        offences = list(vocab.OFFENCES.values())
        weights = [6.0 - o.severity for o in offences]
        ids = iter(range(10**12, 10**13))
        case_rows: list[dict[str, Any]] = []
        decision_rows: list[dict[str, Any]] = []
        notice_rows: list[dict[str, Any]] = []
        item_rows: list[dict[str, Any]] = []
        appeal_rows: list[dict[str, Any]] = []
        for _ in range(args.decisions):
            case_id = next(ids)
            opened = _moment(rng, start, days)
            offence = rng.choices(offences, weights)[0]
            action = rng.choice(list(vocab.ACTIONS))
            ground = "" if action == "none" else rng.choice(vocab.GROUNDS)
            decided = opened + timedelta(seconds=int(rng.expovariate(1 / 20000)))
            source = rng.choice(
                (
                    "SOURCE_ARTICLE_16",
                    "SOURCE_ARTICLE_16",
                    "SOURCE_TRUSTED_FLAGGER",
                    "SOURCE_VOLUNTARY",
                )
            )
            case_rows.append(
                {
                    "id": case_id,
                    "subject_type": "status",
                    "subject_id": next(ids),
                    "state": "decided",
                    "priority": 3,
                    "opened_at": opened,
                    "updated_at": decided,
                }
            )
            decision_id = next(ids)
            decision_rows.append(
                {
                    "id": decision_id,
                    "puid": f"parvis-bench-{decision_id}",
                    "case_id": case_id,
                    "subject_type": "status",
                    "subject_id": case_rows[-1]["subject_id"],
                    "action": action,
                    "ground": ground,
                    "rule_id": rng.choice("123") if ground == "rule" else "",
                    "legal_ground": offence.legal_ground if ground == "law" else "",
                    "dsa_category": offence.category,
                    "content_date": opened,
                    "starts_at": decided,
                    "source_type": source,
                    "misuse": rng.choice(vocab.MISUSE) if action in ("warn", "suspend") else "",
                    "moderator_id": rng.choice(mods),
                    "created_at": decided,
                }
            )
            if action != "none" and rng.random() < args.appeals / args.decisions:
                filed = decided + timedelta(hours=rng.randrange(1, 400))
                outcome = rng.choice(("", "upheld", "upheld", "reversed"))
                appeal_rows.append(
                    {
                        "id": next(ids),
                        "decision_id": decision_id,
                        "appellant_role": rng.choice(("author", "notifier")),
                        "text": "I disagree.",
                        "filed_at": filed,
                        "outcome": outcome,
                        "decided_at": filed + timedelta(hours=rng.randrange(1, 200))
                        if outcome
                        else None,
                    }
                )
        for n in range(args.notices):
            case = case_rows[n % len(case_rows)]
            decision = decision_rows[n % len(decision_rows)]
            created = case["opened_at"] + timedelta(seconds=rng.randrange(0, 3600))
            decided_at = decision["created_at"] if decision["created_at"] > created else None
            offence = rng.choices(offences, weights)[0]
            notice_id = next(ids)
            trusted = rng.random() < 0.08
            notice_rows.append(
                {
                    "id": notice_id,
                    "category": offence.key,
                    "dsa_category": offence.category,
                    "explanation": "It is illegal.",
                    "channel": "trusted_flagger" if trusted else rng.choice(vocab.CHANNELS[:3]),
                    "priority": vocab.priority(offence.key, trusted),
                    "created_at": created,
                    "acknowledged_at": created,
                    "decided_at": decided_at,
                    "outcome": ""
                    if decided_at is None
                    else ("no_action" if decision["action"] == "none" else "actioned"),
                }
            )
            item_rows.append(
                {
                    "id": next(ids),
                    "notice_id": notice_id,
                    "case_id": case["id"],
                    "status_id": case["subject_id"],
                    "decision_id": decision["id"] if decided_at else None,
                    "decided_at": decided_at,
                }
            )
        order_rows = []
        for _ in range(args.orders):
            received = _moment(rng, start, days)
            kind = rng.choice(("act", "info", "info", "escalation"))
            acked = received + timedelta(minutes=rng.randrange(5, 3000))
            order_rows.append(
                {
                    "id": next(ids),
                    "kind": kind,
                    "authority": "Parquet",
                    "member_state": rng.choice(vocab.EU_STATES[:8]),
                    "dsa_category": rng.choice(offences).category,
                    "received_at": received,
                    "acknowledged_at": None if kind == "escalation" else acked,
                    "carried_out_at": acked + timedelta(hours=rng.randrange(1, 100)),
                    "provided": "" if kind == "act" else "Sign-up date.",
                }
            )
        roster_rows = [
            {
                "account_id": mod,
                "languages": json.dumps(rng.sample(["fr", "en", "de", "es", "it", "ar"], 2)),
                "country": rng.choice(("FR", "BE", "DE", "IE")),
                "training": rng.choice(("", "DSA course")),
                "paid": rng.random() < 0.5,
                "since": start,
            }
            for mod in mods
        ]
        counts = {}
        with instance.db.write() as conn:
            for table, rows in (
                (mod_cases, case_rows),
                (decisions, decision_rows),
                (appeals, appeal_rows),
                (notices, notice_rows),
                (notice_items, item_rows),
                (authority_orders, order_rows),
                (moderators, roster_rows),
            ):
                for i in range(0, len(rows), 5000):
                    conn.execute(insert(table), rows[i : i + 5000])
                counts[table.name] = len(rows)
        with instance.db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
        return counts
    finally:
        instance.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="The transparency report vs a plain GROUP BY.")
    parser.add_argument("--notices", type=int, default=120_000)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--appeals", type=int, default=6_000)
    parser.add_argument("--orders", type=int, default=700)
    parser.add_argument("--moderators", type=int, default=25)
    parser.add_argument("--pairs", type=int, default=5, help="measured pairs (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true", help="rebuild the cached database")
    args = parser.parse_args()

    key = f"{args.notices}n-{args.decisions}d-{args.appeals}a-{args.orders}o-s{args.seed}"
    data_dir = common.DATA / f"transparency-{key}"
    marker = data_dir / "seeded.json"
    settings = Settings(data_dir=data_dir, embedded_worker=False, jobs_immediate=True)
    if args.reseed and data_dir.exists():
        import shutil

        shutil.rmtree(data_dir)
    if marker.exists():
        counts = json.loads(marker.read_text())
        print(f"reusing {data_dir}")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        counts = seed(settings, args)
        marker.write_text(json.dumps(counts))
        print(f"seeded in {time.perf_counter() - began:.1f} s: {counts}")

    instance = build(settings, migrate=True)
    runtime = instance.runtime
    start, end = YEAR
    since, until = tr.period_bounds(start, end)
    store_calls: dict[str, Callable[[Work], object]] = {
        "notice_groups": lambda w: w.store.transparency_report.notice_groups(since, until),
        "notice_timings": lambda w: w.store.transparency_report.notice_timings(since, until),
        "decision_groups": lambda w: w.store.transparency_report.decision_groups(since, until),
        "appeals": lambda w: w.store.transparency_report.appeals(since, until),
        "orders": lambda w: w.store.transparency_report.orders(since, until),
        "moderators": lambda w: w.store.transparency_report.moderators(since, until),
    }

    def timed(target: str, pair: int, fn: Callable[[], object]) -> Run:
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        return Run(target, pair, time.perf_counter() - wall, time.process_time() - cpu)

    def parvis() -> object:
        return runtime.read(lambda w: tr.report(w, start, end))

    def anchor() -> object:
        def run(w: Work) -> object:
            return w.store.conn.execute(text(ANCHOR_SQL), {"a": since, "b": until}).all()

        return runtime.read(run)

    try:
        report = runtime.read(lambda w: tr.report(w, start, end))  # warm-up, and the figures
        anchor()
        by: dict[tuple[str, int], Run] = {}
        pairs = list(range(1, args.pairs + 1))
        for p in pairs:
            order = ("anchor", "parvis") if p % 2 else ("parvis", "anchor")
            for which in order:
                by[which, p] = timed(which, p, parvis if which == "parvis" else anchor)
            print(
                f"pair {p}: report {1000 * by['parvis', p].seconds:.1f} ms, "
                f"GROUP BY {1000 * by['anchor', p].seconds:.2f} ms",
                flush=True,
            )
        breakdown = {
            name: common.median(
                [timed(name, i, partial(runtime.read, call)).seconds for i in range(3)]
            )
            for name, call in store_calls.items()
        }
        versions = common.versions(instance.db)
    finally:
        instance.close()

    throughput, cpu = common.pair_ratios(by, pairs, "parvis", "anchor")
    ratio = common.median([1 / t for t in throughput])
    cpu_ratio = common.median([1 / c for c in cpu]) if cpu else float("nan")
    report_ms = common.median([by["parvis", p].seconds for p in pairs]) * 1000
    anchor_ms = common.median([by["anchor", p].seconds for p in pairs]) * 1000
    print()
    print(f"rows: {counts}")
    print(f"notices in the year: {report.notices.received:,}; decisions: "
          f"{report.actions.total + report.actions.notices_rejected:,}")  # fmt: skip
    print(f"report (every figure)        {report_ms:8.1f} ms  (median of {len(pairs)})")
    print(f"anchor (one GROUP BY)        {anchor_ms:8.2f} ms")
    print(f"ratio report / GROUP BY      {ratio:8.1f}x   (CPU ratio {cpu_ratio:.1f}x)")
    for name, seconds in breakdown.items():
        print(f"  {name:<26} {1000 * seconds:8.1f} ms")
    payload = {
        "args": vars(args),
        "rows": counts,
        "report_ms": report_ms,
        "anchor_ms": anchor_ms,
        "ratio_report_over_group_by": ratio,
        "cpu_ratio": cpu_ratio,
        "breakdown_ms": {k: 1000 * v for k, v in breakdown.items()},
        "runs": [vars(r) for r in by.values()],
        "versions": versions,
        "host": common.host_info(),
        "at": common.now_iso(),
    }
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    out = common.RESULTS / f"transparency-report-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(payload, indent=2, default=str))
    print(f"written {Path(out).relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
