"""The web app's home page, side by side with the JSON home timeline it is built from.

Seeds (or reuses) a network, opens web sessions (the tokens the sign-in page issues) for an
in-degree-weighted sample of readers, starts `parvis serve` (no job worker) and drives it with
the load generator of bench/timeline.py, interleaved: the JSON endpoint
`GET /api/v1/timelines/home?limit=20` (Bearer token), then the server-rendered page `GET /home`
(the same token as the `parvis_session` cookie; 20 posts), `--pairs` times. The figure to track
is the ratio of the page's req/s to the JSON endpoint's in the same pair (goal >= 0.5).

It also counts the bytes of a first visit to the home page, without images (the HTML, its
stylesheet, scripts and the manifest, as sent on the wire with their headers; goal < 150 KB)
and of a later visit (assets cached: they carry a version in their URL and the service worker
keeps them, so only the HTML travels; goal < 30 KB).

    .venv/bin/python bench/web.py --backend sqlite
    .venv/bin/python bench/web.py --accounts 2000 --posts-per-account 10 --pairs 2

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import re
from pathlib import Path
from typing import Any

import _common as common
from sqlalchemy import text
from timeline import Run, drive, generator_cpu, start, stop

from parvis.app import build
from parvis.services import oauth
from parvis.services.context import Work
from parvis.services.sessions import WEB_SCOPES

COOKIE = "parvis_session"


def sessions_for(ds: common.Dataset, users: int, seed: int) -> list[str]:
    """Web session tokens (no OAuth app: what signing in through the page issues) for readers
    drawn in proportion to their followers, among those with a non-empty home feed."""
    instance = build(ds.settings(jobs_immediate=True))
    rng = random.Random(seed)
    try:
        with instance.db.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT a.id, a.followers_count FROM accounts a WHERE a.domain IS NULL "
                    "AND EXISTS (SELECT 1 FROM home_feed h WHERE h.account_id = a.id) ORDER BY a.id"
                )
            ).all()
        draws = rng.choices([r[0] for r in rows], weights=[r[1] + 1 for r in rows], k=users)
        unique = sorted(set(draws))

        def issue(work: Work) -> dict[int, str]:
            return {a: oauth.issue_token(work, None, a, WEB_SCOPES).access_token for a in unique}

        tokens = instance.runtime.write(issue)
    finally:
        instance.close()
    return [tokens[a] for a in draws]


def requests_for(tokens: list[str], kind: str) -> list[bytes]:
    out = []
    for token in tokens:
        if kind == "json":
            out.append(
                b"GET /api/v1/timelines/home?limit=20 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Accept: application/json\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n"
            )
        else:
            out.append(
                b"GET /home HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n"
                b"Cookie: " + COOKIE.encode() + b"=" + token.encode() + b"\r\n\r\n"
            )
    return out


def fetch(port: int, path: str, cookie: str | None) -> tuple[int, int, int, bytes]:
    """(status, header bytes, body bytes on the wire, body decompressed)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Encoding": "gzip, br", "Accept": "*/*"}
    if cookie:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        wire = response.read()  # http.client does not decompress: these are wire bytes
        head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in response.getheaders()
        )
        gzipped = response.getheader("Content-Encoding") == "gzip"
        return response.status, len(head) + 2, len(wire), gzip.decompress(wire) if gzipped else wire
    finally:
        conn.close()


def visit_bytes(port: int, token: str) -> dict[str, Any]:
    """A first visit to the home page (HTML, CSS, scripts, manifest; no images) and a later
    one (the HTML only: versioned assets come from the cache)."""
    status, head, size, html = fetch(port, "/home", token)
    if status != 200:
        raise RuntimeError(f"/home answered {status}")
    page = html.decode()
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assets += re.findall(r'<script src="([^"]+)"', page)
    assets += re.findall(r'<link rel="manifest" href="([^"]+)"', page)
    # Bytes as served (Parvis compresses unless PARVIS_COMPRESS_RESPONSES=false), and the
    # uncompressed size beside them.
    items = {"/home (HTML)": (head, size, len(html))}
    for url in assets:
        a_status, a_head, a_size, body = fetch(port, url, token)
        if a_status != 200:
            raise RuntimeError(f"{url} answered {a_status}")
        items[url] = (a_head, a_size, len(body))
    return {
        "items": {
            k: {"header_bytes": h, "wire_body_bytes": s, "plain_body_bytes": z}
            for k, (h, s, z) in items.items()
        },
        "posts_on_page": page.count('<article class="status"'),
        "first_visit_bytes": sum(h + s for h, s, _ in items.values()),
        "later_visit_bytes": head + size,
        "first_visit_plain_bytes": sum(h + z for h, _, z in items.values()),
        "later_visit_plain_bytes": head + items["/home (HTML)"][2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Web home page vs the JSON home timeline.")
    common.add_dataset_args(parser)
    parser.add_argument("--concurrency", type=int, default=16, help="connections (default 16)")
    parser.add_argument("--pairs", type=int, default=3, help="JSON/page pairs (default 3)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="measured requests per run (default 2,000)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of warm-up before every run (default 3)"
    )
    parser.add_argument("--users", type=int, default=500, help="readers drawn (default 500)")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin the server to CPU 0, generator to 1"
    )
    args = parser.parse_args()
    host = common.host_info()
    ds = common.dataset_from_args(args)
    seed_report = common.ensure_dataset(ds, reseed=args.reseed)
    tokens = sessions_for(ds, args.users, args.seed)
    workloads = {"json": requests_for(tokens, "json"), "html": requests_for(tokens, "html")}
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2

    port = common.free_port()
    log = common.DATA / "logs" / "parvis-serve-web.log"
    server = start(
        common.serve_command(port),
        # Rate limits off: every request comes from one address (the generator).
        {**ds.server_env(), "PARVIS_RATE_LIMITS_ENABLED": "false"},
        0 if pin else None,
        log,
    )
    runs: list[Run] = []
    try:
        common.wait_for_port(port, server)
        if pin:
            os.sched_setaffinity(0, {1})
        sizes = visit_bytes(port, tokens[0])
        for pair in range(1, args.pairs + 1):
            for name in ("json", "html"):
                done, errors, seconds, cpu, lat = drive(
                    port, workloads[name], args.requests, args.concurrency, args.warmup,
                    server.pid, check=name == "json",
                )  # fmt: skip
                run = Run(name, pair, done, errors, seconds, cpu, generator_cpu[0], lat)
                runs.append(run)
                s = run.summary()
                print(
                    f"pair {pair} {name:>4}: {s['rps']:>8,.0f} req/s  p50 {s['p50_ms']:.2f} ms"
                    f"  p99 {s['p99_ms']:.2f} ms  server CPU {s['cpu_ms_per_request']:.3f} ms/req"
                    f"  errors {errors}",
                    flush=True,
                )
    finally:
        stop(server)
        server_log = log.read_text(errors="replace") if log.exists() else ""
        if "Traceback" in server_log or "ERROR" in server_log:
            print("--- parvis serve log (tail) ---\n" + server_log[-3000:])
    report(args, ds, seed_report, runs, sizes, pin, host)


def report(
    args: argparse.Namespace,
    ds: common.Dataset,
    seed_report: dict[str, Any],
    runs: list[Run],
    sizes: dict[str, Any],
    pin: bool,
    host: dict[str, Any],
) -> None:
    from rich.console import Console
    from rich.table import Table

    pairs = sorted({r.pair for r in runs})
    by = {(r.target, r.pair): r for r in runs}
    ratios, cpu_ratios = common.pair_ratios(by, pairs, "html", "json")

    def agg(target: str) -> dict[str, float]:
        mine = [by[target, p].summary() for p in pairs]
        return {
            k: common.median([m[k] for m in mine])
            for k in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request")
        }

    j, h = agg("json"), agg("html")
    table = Table(
        title=f"Web home page vs JSON home timeline — {ds.backend}, {ds.accounts:,} accounts, "
        f"{seed_report.get('statuses', 0):,} posts"
    )
    for column in ("", "req/s", "p50 ms", "p99 ms", "CPU ms/req"):
        table.add_column(column, justify="right")
    for label, a in (("GET /api/v1/timelines/home", j), ("GET /home (HTML, 20 posts)", h)):
        table.add_row(
            label,
            f"{a['rps']:,.0f}",
            f"{a['p50_ms']:.2f}",
            f"{a['p99_ms']:.2f}",
            f"{a['cpu_ms_per_request']:.3f}",
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    ratio = common.median(ratios)
    console.print(
        f"page/JSON throughput ratio: median {ratio:.3f} over {len(pairs)} pairs "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}); CPU-per-request ratio "
        f"{common.median(cpu_ratios):.3f}; goal >= 0.5"
    )
    sizes_table = Table(title=f"Bytes of a visit to /home ({sizes['posts_on_page']} posts)")
    for column in ("", "headers", "body as served", "body uncompressed"):
        sizes_table.add_column(column, justify="right")
    for url, item in sizes["items"].items():
        sizes_table.add_row(
            url,
            f"{item['header_bytes']:,}",
            f"{item['wire_body_bytes']:,}",
            f"{item['plain_body_bytes']:,}",
        )
    console.print(sizes_table)
    console.print(
        f"first visit {sizes['first_visit_bytes'] / 1024:.1f} KiB (goal < 150 KB); later visit "
        f"{sizes['later_visit_bytes'] / 1024:.1f} KiB (goal < 30 KB), as served; uncompressed: "
        f"first {sizes['first_visit_plain_bytes'] / 1024:.1f} KiB, later "
        f"{sizes['later_visit_plain_bytes'] / 1024:.1f} KiB; images not counted"
    )
    payload = {
        "workload": "web-home",
        "date": common.now_iso(),
        "dataset": ds.describe(),
        "params": {
            k: getattr(args, k) for k in ("concurrency", "pairs", "requests", "warmup", "users")
        },
        "pinned": pin,
        "runs": [r.summary() for r in runs],
        "json": j,
        "html": h,
        "ratio_median": ratio,
        "ratios": ratios,
        "cpu_ratio_median": common.median(cpu_ratios),
        "bytes": sizes,
        "versions": common.versions(),
        "host": host,
    }
    path = common.write_result("web", ds, payload)
    console.print(f"report written to {Path(path).relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
