"""W7: the ranked feeds (For you, bridging) side by side with the chronological home timeline.

The same readers, the same server, the same run: `parvis serve` answers, interleaved,
`GET /api/v1/timelines/home?limit=20` (the anchor: what a reader gets without ranking) and
`GET /api/parvis/v1/feeds/{for_you,bridging}?limit=20` (a fresh ranking every time: candidates
gathered, scored, ordered, logged with their inputs, the page made visible and serialized with
its explanations). What is compared is CPU per request and p99 latency.

The seeded network has no favourites; this script adds some (once per dataset): for each of
the last 72 hours' public posts, favourites from a few accounts, two thirds of them from the
same half of the accounts as the author (a planted split for the bridging feed), then computes
the viewpoints and the trending posts as the periodic jobs do (timed too).

    .venv/bin/python bench/feeds.py --backend sqlite              # quick tier
    .venv/bin/python bench/feeds.py --backend sqlite --tier M     # 10k accounts, 1M posts
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import _common as common
from sqlalchemy import text
from timeline import Run, drive, generator_cpu, readers, start, stop

from parvis.app import build
from parvis.domain.ids import id_for_time
from parvis.services import feeds

TARGETS = {
    "home": "/api/v1/timelines/home?limit=20",
    "for_you": "/api/parvis/v1/feeds/for_you?limit=20",
    "bridging": "/api/parvis/v1/feeds/bridging?limit=20",
}
MARKER = "bench_feeds_favourites"


def add_favourites(ds: common.Dataset, rng: random.Random) -> dict[str, Any]:
    """Favourites on recent public posts, split along a planted line (odd/even account ids)."""
    instance = build(ds.settings())
    try:
        with instance.db.engine.begin() as conn:
            done = conn.execute(
                text("SELECT count(*) FROM favourites WHERE id < :top"),
                {"top": id_for_time(datetime(2001, 1, 1, tzinfo=UTC))},
            ).scalar_one()
            if done:
                return {"favourites": int(done), "added": False}
            since = datetime.now(UTC) - timedelta(hours=72)
            posts = conn.execute(
                text(
                    "SELECT id, account_id FROM statuses WHERE visibility = 'public' "
                    "AND reblog_of_id IS NULL AND created_at >= :since"
                ),
                {"since": since},
            ).all()
            accounts = [
                r[0] for r in conn.execute(text("SELECT id FROM accounts WHERE domain IS NULL"))
            ]
            # Ids are time-ordered (nearly all even): split by position instead.
            half = {a: i % 2 for i, a in enumerate(accounts)}
            sides = ([a for a in accounts if half[a] == 0], [a for a in accounts if half[a] == 1])
            rows: list[dict[str, Any]] = []
            # Ids far in the past, so that they never collide with real ones (and mark the set).
            next_id = id_for_time(datetime(2000, 1, 1, tzinfo=UTC))
            now = datetime.now(UTC)
            for status_id, author in posts:
                own, other = sides[half[author]], sides[1 - half[author]]
                likers: set[int] = set()
                for _ in range(rng.choice((0, 1, 2, 3, 5, 8))):
                    likers.add(rng.choice(own if rng.random() < 2 / 3 else other))
                likers.discard(author)
                for account in likers:
                    next_id += 1
                    rows.append({"id": next_id, "a": account, "s": status_id, "t": now})
            conn.execute(
                text(
                    "INSERT INTO favourites (id, account_id, status_id, created_at) "
                    "VALUES (:id, :a, :s, :t)"
                ),
                rows,
            )
            conn.execute(
                text(
                    "UPDATE statuses SET favourites_count = (SELECT count(*) FROM favourites f "
                    "WHERE f.status_id = statuses.id) WHERE created_at >= :since"
                ),
                {"since": since},
            )
        return {"favourites": len(rows), "recent_public_posts": len(posts), "added": True}
    finally:
        instance.close()


def viewpoints(ds: common.Dataset) -> dict[str, Any]:
    instance = build(ds.settings())
    try:
        started, cpu = time.perf_counter(), time.process_time()
        accounts, posts = instance.runtime.write(feeds.recompute_viewpoints)
        trending = instance.runtime.write(feeds.refresh_trending)
        return {
            "accounts_with_a_factor": accounts,
            "posts_with_sides": posts,
            "trending_posts": trending,
            "seconds": round(time.perf_counter() - started, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
        }
    finally:
        instance.close()


def requests_for(ds: common.Dataset, users: int, seed: int, size: int) -> dict[str, list[bytes]]:
    instance = build(ds.settings(jobs_immediate=True))
    rng = random.Random(seed)
    try:
        draws, tokens = readers(instance, users, rng)
    finally:
        instance.close()
    order = [draws[rng.randrange(len(draws))] for _ in range(size)]
    return {
        name: [
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
            f"Authorization: Bearer {tokens[a]}\r\n\r\n".encode()
            for a in order
        ]
        for name, path in TARGETS.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="W7 ranked feeds vs the chronological home.")
    common.add_dataset_args(parser)
    parser.add_argument("--concurrency", type=int, default=1, help="connections (default 1)")
    parser.add_argument("--pairs", type=int, default=3, help="rounds of the three (default 3)")
    parser.add_argument(
        "--requests", type=int, default=600, help="measured requests per run (default 600)"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per run")
    parser.add_argument("--users", type=int, default=300, help="readers drawn (default 300)")
    args = parser.parse_args()
    host = common.host_info()
    ds = common.dataset_from_args(args)
    seed_report = common.ensure_dataset(ds, reseed=args.reseed)
    favourites = add_favourites(ds, random.Random(args.seed))
    print(f"favourites: {favourites}")
    job = viewpoints(ds)
    print(f"viewpoints job: {job}")
    requests = requests_for(ds, args.users, args.seed, 5000)

    port = common.free_port()
    env = ds.server_env()
    env["PARVIS_RATE_LIMITS_ENABLED"] = "false"
    server = start(
        common.serve_command(port),
        env,
        0 if (os.cpu_count() or 1) >= 2 else None,
        common.DATA / "logs" / "parvis-feeds.log",
    )
    runs: list[Run] = []
    try:
        common.wait_for_port(port, server)
        for pair in range(1, args.pairs + 1):
            for name in TARGETS:
                done, errors, seconds, cpu, lat = drive(
                    port,
                    requests[name],
                    args.requests,
                    args.concurrency,
                    args.warmup,
                    server.pid,
                    check=True,
                )
                run = Run(name, pair, done, errors, seconds, cpu, generator_cpu[0], lat)
                runs.append(run)
                s = run.summary()
                print(
                    f"round {pair} {name:>8}: {s['rps']:>7,.1f} req/s  p50 {s['p50_ms']:.1f} ms"
                    f"  p99 {s['p99_ms']:.1f} ms  server CPU {s['cpu_ms_per_request']:.2f} "
                    f"ms/req  errors {errors}",
                    flush=True,
                )
    finally:
        stop(server)
    report(args, ds, seed_report, favourites, job, runs, host)


def report(
    args: argparse.Namespace,
    ds: common.Dataset,
    seed_report: dict[str, Any],
    favourites: dict[str, Any],
    job: dict[str, Any],
    runs: list[Run],
    host: dict[str, Any],
) -> None:
    from rich.console import Console
    from rich.table import Table

    pairs = sorted({r.pair for r in runs})
    by = {(r.target, r.pair): r for r in runs}

    def agg(target: str) -> dict[str, float]:
        mine = [by[target, p].summary() for p in pairs]
        return {
            k: common.median([m[k] for m in mine])
            for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_ms_per_request")
        }

    figures = {name: agg(name) for name in TARGETS}
    home = figures["home"]
    table = Table(
        title=f"W7 ranked feeds — {ds.backend}, tier {ds.tier} "
        f"({ds.accounts:,} accounts, {seed_report.get('statuses', 0):,} posts)"
    )
    for column in ("", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "CPU ÷ home", "p99 ÷ home"):
        table.add_column(column, justify="right")
    ratios: dict[str, dict[str, float]] = {}
    for name, f in figures.items():
        cpu_ratio = common.median(
            [
                by[name, p].summary()["cpu_ms_per_request"]
                / by["home", p].summary()["cpu_ms_per_request"]
                for p in pairs
            ]
        )
        p99_ratio = f["p99_ms"] / home["p99_ms"]
        ratios[name] = {"cpu": cpu_ratio, "p99": p99_ratio}
        table.add_row(
            TARGETS[name],
            f"{f['rps']:,.1f}",
            f"{f['p50_ms']:.1f}",
            f"{f['p99_ms']:.1f}",
            f"{f['cpu_ms_per_request']:.2f}",
            f"{cpu_ratio:.2f}",
            f"{p99_ratio:.2f}",
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    console.print(
        f"medians over {len(pairs)} rounds, {args.concurrency} connection(s), closed loop; "
        f"goal: ranked CPU ≤ 5× home and p99 < 250 ms. Viewpoints job: "
        f"{job['seconds']} s ({job['accounts_with_a_factor']:,} accounts, "
        f"{job['posts_with_sides']:,} posts)"
    )
    payload = {
        "workload": "W7",
        "date": common.now_iso(),
        "dataset": ds.describe(),
        "favourites": favourites,
        "viewpoints_job": job,
        "params": {k: getattr(args, k) for k in ("concurrency", "pairs", "requests", "users")},
        "runs": [r.summary() for r in runs],
        "figures": figures,
        "ratios_to_home": ratios,
        "versions": common.versions(),
        "host": host,
    }
    path = common.write_result("feeds", ds, payload)
    console.print(f"report: {path}")


if __name__ == "__main__":
    main()
