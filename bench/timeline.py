"""W1: the home timeline, side by side with a bare Starlette JSON endpoint (anchor A1).

Seeds (or reuses) a network, issues tokens for an in-degree-weighted sample of users, starts
`parvis serve` (one uvicorn process, no job worker) and the anchor app (bench/anchor_app.py,
the same uvicorn) on free ports, then drives both with the same closed-loop asyncio load
generator, interleaved: anchor, Parvis, anchor, Parvis, ...

    .venv/bin/python bench/timeline.py --backend sqlite
    .venv/bin/python bench/timeline.py --backend postgres --tier M

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common as common
from sqlalchemy import text

from parvis.app import Parvis, build
from parvis.services import oauth
from parvis.services.context import Work

MEASURED_PAGES = (2, 3, 4, 5)


@dataclass
class Run:
    target: str
    pair: int
    requests: int
    errors: int
    seconds: float
    cpu_seconds: float
    generator_cpu_seconds: float
    latencies_ms: list[float] = field(repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "target": self.target,
            "pair": self.pair,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(common.percentile(lat, 0.50), 3),
            "p95_ms": round(common.percentile(lat, 0.95), 3),
            "p99_ms": round(common.percentile(lat, 0.99), 3),
            "cpu_ms_per_request": round(1000 * self.cpu_seconds / max(self.requests, 1), 3),
            "generator_cpu_ms_per_request": round(
                1000 * self.generator_cpu_seconds / max(self.requests, 1), 3
            ),
            "server_cpu_utilisation": round(self.cpu_seconds / self.seconds, 3)
            if self.seconds
            else 0.0,
        }


# --- the load generator ---------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight. Leaner than streams, so the
    generator (on the same machine) takes as little CPU as possible."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport subclasses

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("connection closed by the server"))

    def _complete(self) -> None:
        if self.waiter is None:
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.waiter.set_exception(RuntimeError(f"response without a length: {head!r}"))
            self.waiter = None
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((int(head[9:12]), body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


generator_cpu = [0.0]  # CPU seconds the load generator itself used in the last measured run


async def _drive(
    port: int,
    requests: list[bytes],
    count: int,
    concurrency: int,
    warmup_s: float,
    pid: int,
    check: bool,
) -> tuple[int, int, float, float, list[float]]:
    loop = asyncio.get_running_loop()
    conns: list[_Connection] = []
    for _ in range(concurrency):
        _, protocol = await loop.create_connection(_Connection, "127.0.0.1", port)
        conns.append(protocol)
    total = len(requests)
    state = {"next": random.randrange(total), "left": 0}
    latencies: list[float] = []
    errors = [0]
    clock = time.perf_counter
    generator_cpu[0] = 0.0

    async def warm(conn: _Connection, until: float) -> None:
        while clock() < until:
            i = state["next"]
            state["next"] = (i + 1) % total
            status, body = await conn.request(requests[i])
            if check and status == 200 and not body.startswith(b"["):
                raise RuntimeError(f"unexpected body: {body[:200]!r}")
            if status != 200:
                raise RuntimeError(f"warm-up request failed with {status}: {body[:300]!r}")

    async def measure(conn: _Connection) -> None:
        while state["left"] > 0:
            state["left"] -= 1
            i = state["next"]
            state["next"] = (i + 1) % total
            started = clock()
            status, _ = await conn.request(requests[i])
            latencies.append((clock() - started) * 1000)
            if status != 200:
                errors[0] += 1

    until = clock() + warmup_s
    await asyncio.gather(*(warm(c, until) for c in conns))
    state["left"] = count
    cpu0 = common.cpu_seconds(pid)
    own0 = time.process_time()
    started = clock()
    await asyncio.gather(*(measure(c) for c in conns))
    elapsed = clock() - started
    cpu = common.cpu_seconds(pid) - cpu0
    generator_cpu[0] = time.process_time() - own0
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    return len(latencies), errors[0], elapsed, cpu, latencies


def drive(
    port: int,
    requests: list[bytes],
    count: int,
    concurrency: int,
    warmup_s: float,
    pid: int,
    check: bool,
) -> tuple[int, int, float, float, list[float]]:
    try:
        import uvloop

        return uvloop.run(_drive(port, requests, count, concurrency, warmup_s, pid, check))
    except ImportError:
        return asyncio.run(_drive(port, requests, count, concurrency, warmup_s, pid, check))


# --- setup ----------------------------------------------------------------------------------


def readers(
    instance: Parvis, users: int, rng: random.Random, scopes: str = "read"
) -> tuple[list[int], dict[int, str]]:
    """An in-degree-weighted sample of readers (accounts with a home feed), drawn with
    repetition, and a token for each distinct one."""
    with instance.db.read() as conn:
        rows = conn.execute(
            text(
                "SELECT a.id, a.followers_count FROM accounts a WHERE a.domain IS NULL "
                "AND EXISTS (SELECT 1 FROM home_feed h WHERE h.account_id = a.id) ORDER BY a.id"
            )
        ).all()
    ids = [r[0] for r in rows]
    weights = [r[1] + 1 for r in rows]
    draws = rng.choices(ids, weights=weights, k=users)
    unique = sorted(set(draws))

    def issue(work: Work) -> dict[int, str]:
        app = oauth.create_app(work, "benchmark", "urn:ietf:wg:oauth:2.0:oob", scopes, None)
        granted = frozenset(scopes.split())
        return {a: oauth.issue_token(work, app.app.id, a, granted).access_token for a in unique}

    return draws, instance.runtime.write(issue)


def prepare_requests(
    ds: common.Dataset, users: int, seed: int, size: int = 20_000
) -> tuple[list[bytes], dict[str, Any]]:
    """Tokens for an in-degree-weighted sample of readers, and a shuffled request mix."""
    instance = build(ds.settings(jobs_immediate=True))
    rng = random.Random(seed)
    try:
        draws, tokens = readers(instance, users, rng)
        unique = sorted(set(draws))
        cursors: dict[int, list[int]] = {}
        with instance.db.read() as conn:
            for account in unique:
                feed = [
                    r[0]
                    for r in conn.execute(
                        text(
                            "SELECT status_id FROM home_feed WHERE account_id = :a "
                            "ORDER BY status_id DESC LIMIT 100"
                        ),
                        {"a": account},
                    )
                ]
                # max_id for page k is the last id of page k - 1.
                cursors[account] = [
                    feed[20 * (k - 1) - 1] for k in MEASURED_PAGES if len(feed) >= 20 * (k - 1)
                ]
    finally:
        instance.close()
    requests = []
    deep = 0
    for _ in range(size):
        account = draws[rng.randrange(len(draws))]
        path = "/api/v1/timelines/home?limit=20"
        if rng.random() < 0.10 and cursors[account]:
            path += f"&max_id={rng.choice(cursors[account])}"
            deep += 1
        requests.append(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
            f"Authorization: Bearer {tokens[account]}\r\n\r\n".encode()
        )
    mix = {
        "readers_drawn": users,
        "distinct_readers": len(unique),
        "request_mix_size": size,
        "share_pages_2_to_5": round(deep / size, 3),
    }
    return requests, mix


def start(
    cmd: list[str], env: dict[str, str], cpu: int | None, log: Path
) -> subprocess.Popen[bytes]:
    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            cmd, env=env, cwd=common.ROOT, preexec_fn=pin, stdout=out, stderr=subprocess.STDOUT
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="W1 home timeline vs a Starlette JSON anchor.")
    common.add_dataset_args(parser)
    parser.add_argument("--concurrency", type=int, default=16, help="connections (default 16)")
    parser.add_argument("--pairs", type=int, default=3, help="anchor/Parvis pairs (default 3)")
    parser.add_argument(
        "--requests",
        type=int,
        default=3000,
        help="measured requests per Parvis run (default 3,000)",
    )
    parser.add_argument(
        "--anchor-requests",
        type=int,
        default=20_000,
        help="measured requests per anchor run (default 20,000)",
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of warm-up before every run (default 3)"
    )
    parser.add_argument(
        "--users",
        type=int,
        default=1000,
        help="readers drawn, weighted by followers (default 1,000)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the servers to CPU 0 and the load generator to CPU 1",
    )
    args = parser.parse_args()
    host = common.host_info()

    ds = common.dataset_from_args(args)
    seed_report = common.ensure_dataset(ds, reseed=args.reseed)
    requests, mix = prepare_requests(ds, args.users, args.seed)
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    server_cpu = 0 if pin else None

    parvis_port, anchor_port = common.free_port(), common.free_port()
    python = sys.executable
    parvis = start(
        common.serve_command(parvis_port),
        ds.server_env(),
        server_cpu,
        common.DATA / "logs" / "parvis-serve.log",
    )
    anchor = start(
        [python, str(common.BENCH / "anchor_app.py"), "--port", str(anchor_port)],
        ds.server_env(),
        server_cpu,
        common.DATA / "logs" / "anchor.log",
    )
    runs: list[Run] = []
    try:
        common.wait_for_port(parvis_port, parvis)
        common.wait_for_port(anchor_port, anchor)
        if pin:
            os.sched_setaffinity(0, {1})
        idle_rss = common.rss_mb(parvis.pid)
        targets = (
            ("anchor", anchor_port, anchor, args.anchor_requests),
            ("parvis", parvis_port, parvis, args.requests),
        )
        for pair in range(1, args.pairs + 1):
            for name, port, proc, count in targets:
                done, errors, seconds, cpu, lat = drive(
                    port,
                    requests,
                    count,
                    args.concurrency,
                    args.warmup,
                    proc.pid,
                    check=name == "parvis",
                )
                run = Run(name, pair, done, errors, seconds, cpu, generator_cpu[0], lat)
                runs.append(run)
                s = run.summary()
                print(
                    f"pair {pair} {name:>6}: {s['rps']:>9,.0f} req/s  p50 {s['p50_ms']:.2f} ms"
                    f"  p99 {s['p99_ms']:.2f} ms  server CPU {s['cpu_ms_per_request']:.3f} "
                    f"ms/req ({100 * s['server_cpu_utilisation']:.0f}% busy)  generator CPU "
                    f"{s['generator_cpu_ms_per_request']:.3f} ms/req  errors {errors}",
                    flush=True,
                )
        parvis_peak = common.peak_rss_mb(parvis.pid)
        memory = {
            f"parvis_{f}_mb": round(common.rss_mb(parvis.pid, f), 1)
            for f in ("VmRSS", "RssAnon", "RssFile")
        }
        anchor_peak = common.peak_rss_mb(anchor.pid)
    finally:
        stop(parvis)
        stop(anchor)
        server_log = (common.DATA / "logs" / "parvis-serve.log").read_text(errors="replace")
        if "Traceback" in server_log or "ERROR" in server_log:
            print("--- parvis serve log (tail) ---\n" + server_log[-3000:])

    report(args, ds, seed_report, mix, runs, pin, idle_rss, parvis_peak, anchor_peak, host, memory)


def report(
    args: argparse.Namespace,
    ds: common.Dataset,
    seed_report: dict[str, Any],
    mix: dict[str, Any],
    runs: list[Run],
    pin: bool,
    idle_rss: float,
    parvis_peak: float,
    anchor_peak: float,
    host: dict[str, Any],
    memory: dict[str, float],
) -> None:
    from rich.console import Console
    from rich.table import Table

    pairs = sorted({r.pair for r in runs})
    by = {(r.target, r.pair): r for r in runs}
    ratios, cpu_ratios = common.pair_ratios(by, pairs, "parvis", "anchor")

    def agg(target: str) -> dict[str, float]:
        mine = [by[target, p].summary() for p in pairs]
        return {
            k: common.median([m[k] for m in mine])
            for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_ms_per_request")
        }

    a, p = agg("anchor"), agg("parvis")
    table = Table(
        title=f"W1 home timeline — {ds.backend}, tier {ds.tier} "
        f"({ds.accounts:,} accounts, {seed_report.get('statuses', 0):,} posts, "
        f"{seed_report.get('feed_rows', 0):,} feed entries)"
    )
    for column in ("", "req/s", "p50 ms", "p95 ms", "p99 ms", "CPU ms/req", "peak RSS MB"):
        table.add_column(column, justify="right")
    table.add_row(
        "anchor (Starlette hello)",
        f"{a['rps']:,.0f}",
        f"{a['p50_ms']:.2f}",
        f"{a['p95_ms']:.2f}",
        f"{a['p99_ms']:.2f}",
        f"{a['cpu_ms_per_request']:.3f}",
        f"{anchor_peak:.0f}",
    )
    table.add_row(
        "parvis /timelines/home",
        f"{p['rps']:,.0f}",
        f"{p['p50_ms']:.2f}",
        f"{p['p95_ms']:.2f}",
        f"{p['p99_ms']:.2f}",
        f"{p['cpu_ms_per_request']:.3f}",
        f"{parvis_peak:.0f}",
    )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    ratio = common.median(ratios)
    console.print(
        f"Parvis/anchor throughput ratio: median {ratio:.3f} over {len(pairs)} pairs "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}); "
        f"CPU-per-request ratio {common.median(cpu_ratios):.3f}; goal >= 0.20"
    )
    console.print(
        f"medians over pairs; {args.concurrency} connections, closed loop, "
        f"{'servers on CPU 0, generator on CPU 1' if pin else 'unpinned'}; "
        f"parvis RSS idle {idle_rss:.0f} MB, peak {parvis_peak:.0f} MB (at the end: "
        f"heap {memory['parvis_RssAnon_mb']:.0f} MB, mapped files "
        f"{memory['parvis_RssFile_mb']:.0f} MB)"
    )
    payload = {
        "workload": "W1",
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
                "max_followers",
                "median_following",
                "mean_following",
                "seconds",
                "rows_per_second",
            )
        },
        "params": {
            k: getattr(args, k)
            for k in ("concurrency", "pairs", "requests", "anchor_requests", "warmup", "users")
        },
        "pinned": pin,
        "request_mix": mix,
        "runs": [r.summary() for r in runs],
        "anchor": a,
        "parvis": p,
        "ratio_median": ratio,
        "ratios": ratios,
        "cpu_ratio_median": common.median(cpu_ratios),
        "parvis_rss_idle_mb": idle_rss,
        "parvis_peak_rss_mb": parvis_peak,
        "parvis_memory_at_end": memory,
        "anchor_peak_rss_mb": anchor_peak,
        "versions": common.versions(),
        "host": host,
        "notes": "closed-loop generator on the same machine",
    }
    if ds.backend == "postgres":
        from parvis.storage.database import Database

        db = Database(ds.database_url)
        payload["versions"] = common.versions(db)
        db.dispose()
    path = common.write_result("timeline", ds, payload)
    console.print(f"results: {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
