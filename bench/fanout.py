"""W3: post creation and local fan-out, side by side with a bulk insert of the same rows (anchor).

Seeds (or reuses) a network whose `bench` account has exactly --celebrity-followers local
followers (5,000 by default), then, repeatedly and interleaved with the anchor:

- Parvis: the bench account posts through the real service path (`posting.create_status` in a
  unit of work), then the "fanout" job it asked for runs through the real job runner
  (`run_job`, as the worker would). Time-to-visible is from the start of the post to the commit
  of the fan-out; a count query then checks that every follower's home feed has the status.
- Anchor: the same number of (account_id, status_id, author_id) rows inserted in one
  transaction, with the driver's executemany, into a scratch table shaped like home_feed
  (same columns, primary key and foreign keys), in the same database.
- Extra figure: the same rows inserted the same raw way into home_feed itself (after removing
  the fan-out's rows), which separates Parvis's own overhead from the cost of writing into a
  large, randomly-keyed table.

The post is deleted afterwards (through the service), so runs do not accumulate.

    .venv/bin/python bench/fanout.py --backend sqlite
    .venv/bin/python bench/fanout.py --backend postgres --repeat 5
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

import _common as common
from sqlalchemy import text

from parvis.app import build
from parvis.jobs.runtime import run_job
from parvis.services import posting
from parvis.services.context import Work

SCRATCH = "bench_feed_anchor"


class Recorder:
    """A job queue that only records: the bench runs the fan-out job itself, to time it."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    def enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        self.jobs.append((kind, payload))


def main() -> None:
    parser = argparse.ArgumentParser(description="W3 fan-out vs a bulk insert anchor.")
    common.add_dataset_args(parser)
    parser.add_argument("--repeat", type=int, default=5, help="measured pairs (default 5)")
    parser.add_argument(
        "--anchor-method",
        choices=("auto", "executemany", "copy"),
        default="auto",
        help="how the anchor inserts: auto = executemany on SQLite, COPY on PostgreSQL",
    )
    parser.add_argument(
        "--author", default="bench", help="username of the posting account (default: bench)"
    )
    args = parser.parse_args()
    host = common.host_info()

    ds = common.dataset_from_args(args)
    seed_report = common.ensure_dataset(ds, reseed=args.reseed)
    instance = build(ds.settings(jobs_immediate=True))
    runtime, db = instance.runtime, instance.db
    placeholder = "?" if db.is_sqlite else "%s"
    try:
        with db.read() as conn:
            author = conn.execute(
                text("SELECT id FROM accounts WHERE username = :u AND domain IS NULL"),
                {"u": args.author},
            ).scalar()
            if author is None:
                raise SystemExit(f"no local account {args.author!r} in the dataset")
            followers = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id "
                        "WHERE f.target_account_id = :a AND a.domain IS NULL ORDER BY f.account_id"
                    ),
                    {"a": author},
                )
            ]
            anchor_status = conn.execute(
                text("SELECT max(id) FROM statuses WHERE account_id = :a"), {"a": author}
            ).scalar()
        if anchor_status is None:
            raise SystemExit("the author has no status to hang the anchor rows on")
        recipients = sorted({*followers, author})
        print(
            f"author @{args.author} ({author}): {len(followers):,} local followers, "
            f"{len(recipients):,} feed rows per post"
        )

        with db.write() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SCRATCH}")
            conn.exec_driver_sql(
                f"CREATE TABLE {SCRATCH} ("
                "account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE, "
                "status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE, "
                "author_id BIGINT NOT NULL, PRIMARY KEY (account_id, status_id))"
            )
        anchor_rows = [(r, anchor_status, author) for r in recipients]
        method = args.anchor_method
        if method == "auto":
            method = "executemany" if db.is_sqlite else "copy"

        def bulk_insert(conn: Any, table: str, rows: list[tuple[int, int, int]]) -> None:
            """The bare way: the driver's executemany, or PostgreSQL's COPY."""
            if method == "copy":
                raw = conn.connection.driver_connection
                with (
                    raw.cursor() as cur,
                    cur.copy(f"COPY {table} (account_id, status_id, author_id) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                return
            conn.exec_driver_sql(
                f"INSERT INTO {table} (account_id, status_id, author_id) "
                f"VALUES ({placeholder}, {placeholder}, {placeholder})",
                rows,
            )

        def anchor() -> float:
            started = time.perf_counter()
            with db.write() as conn:
                bulk_insert(conn, SCRATCH, anchor_rows)
            elapsed = time.perf_counter() - started
            with db.write() as conn:
                conn.exec_driver_sql(f"DELETE FROM {SCRATCH}")
            return elapsed

        rep_counter = [0]

        def parvis() -> dict[str, float]:
            rep_counter[0] += 1
            recorder = Recorder()
            recording = dataclasses.replace(runtime, queue=recorder)
            new = posting.NewStatus(
                text=f"Fan-out benchmark post {rep_counter[0]} #parvis", visibility="public"
            )
            started = time.perf_counter()
            status = recording.write(lambda w: posting.create_status(w, author, new))
            posted = time.perf_counter()
            fanouts = [p for k, p in recorder.jobs if k == "fanout"]
            assert fanouts == [{"status_id": status.id}], recorder.jobs
            pushed = run_job(runtime, "fanout", fanouts[0])
            visible = time.perf_counter()
            with db.read() as conn:
                in_feeds = conn.execute(
                    text(
                        "SELECT count(*) FROM home_feed h JOIN follows f ON f.account_id = "
                        "h.account_id AND f.target_account_id = :a WHERE h.status_id = :s"
                    ),
                    {"a": author, "s": status.id},
                ).scalar()
            if in_feeds != len(followers):
                raise SystemExit(
                    f"status {status.id} reached {in_feeds} of {len(followers)} followers' feeds"
                )
            # Second anchor: the very same rows, raw executemany, into home_feed itself.
            rows = [(r, status.id, author) for r in recipients]
            with db.write() as conn:
                conn.exec_driver_sql(f"DELETE FROM home_feed WHERE status_id = {int(status.id)}")
            raw_started = time.perf_counter()
            with db.write() as conn:
                bulk_insert(conn, "home_feed", rows)
            raw = time.perf_counter() - raw_started

            def cleanup(work: Work) -> None:
                posting.delete_status(work, author, status.id)

            recording.write(cleanup)
            return {
                "post_s": posted - started,
                "fanout_s": visible - posted,
                "visible_s": visible - started,
                "rows": float(pushed),
                "raw_feed_s": raw,
            }

        # Warm-up: one of each, not measured.
        anchor()
        parvis()
        results: list[dict[str, float]] = []
        for rep in range(1, args.repeat + 1):
            order = ("anchor", "parvis") if rep % 2 else ("parvis", "anchor")
            out: dict[str, float] = {}
            for which in order:
                if which == "anchor":
                    out["anchor_s"] = anchor()
                else:
                    out.update(parvis())
            out["fanout_rows_per_s"] = out["rows"] / out["fanout_s"]
            out["anchor_rows_per_s"] = len(anchor_rows) / out["anchor_s"]
            out["ratio"] = out["fanout_rows_per_s"] / out["anchor_rows_per_s"]
            out["raw_feed_rows_per_s"] = out["rows"] / out["raw_feed_s"]
            out["ratio_vs_raw_feed"] = out["fanout_rows_per_s"] / out["raw_feed_rows_per_s"]
            results.append(out)
            print(
                f"rep {rep}: post {1000 * out['post_s']:.1f} ms, fan-out "
                f"{1000 * out['fanout_s']:.1f} ms ({out['fanout_rows_per_s']:,.0f} rows/s), "
                f"visible after {1000 * out['visible_s']:.1f} ms; anchor "
                f"{1000 * out['anchor_s']:.1f} ms ({out['anchor_rows_per_s']:,.0f} rows/s); "
                f"ratio {out['ratio']:.3f}; raw insert into home_feed "
                f"{1000 * out['raw_feed_s']:.1f} ms (ratio {out['ratio_vs_raw_feed']:.3f})",
                flush=True,
            )
        with db.write() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SCRATCH}")
        versions = common.versions(db)
    finally:
        instance.close()

    med = {k: common.median([r[k] for r in results]) for k in results[0]}
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"W3 fan-out — {ds.backend}, tier {ds.tier} ({ds.accounts:,} accounts), "
        f"{len(followers):,} followers, median of {len(results)}"
    )
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("post (create_status, one transaction)", f"{1000 * med['post_s']:.1f} ms")
    table.add_row("fan-out job", f"{1000 * med['fanout_s']:.1f} ms")
    table.add_row("time to visible in every feed", f"{1000 * med['visible_s']:.1f} ms")
    table.add_row("fan-out rows/s", f"{med['fanout_rows_per_s']:,.0f}")
    table.add_row(
        f"anchor: bulk insert ({method}), same rows, one transaction",
        f"{1000 * med['anchor_s']:.1f} ms",
    )
    table.add_row("anchor rows/s", f"{med['anchor_rows_per_s']:,.0f}")
    table.add_row(
        "ratio fan-out / anchor (median of per-pair ratios; goal >= 0.3)", f"{med['ratio']:.3f}"
    )
    table.add_row(
        f"extra: raw {method} of the same rows into home_feed itself",
        f"{1000 * med['raw_feed_s']:.1f} ms",
    )
    table.add_row("extra: ratio fan-out / raw home_feed insert", f"{med['ratio_vs_raw_feed']:.3f}")
    Console(width=max(Console().width, 110)).print(table)
    payload = {
        "workload": "W3",
        "date": common.now_iso(),
        "dataset": ds.describe(),
        "seed_report": {
            k: seed_report.get(k)
            for k in (
                "accounts",
                "follows",
                "statuses",
                "feed_rows",
                "bench_followers",
                "seconds",
                "rows_per_second",
            )
        },
        "author": args.author,
        "followers": len(followers),
        "rows_per_post": len(recipients),
        "anchor_method": method,
        "repeat": args.repeat,
        "runs": results,
        "median": med,
        "versions": versions,
        "host": host,
    }
    path = common.write_result("fanout", ds, payload)
    print(f"results: {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
