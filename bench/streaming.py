"""Streaming: events delivered per second to 1,000 WebSocket clients, side by side with a bare
WebSocket broadcast (the anchor), and the delay from a post (its HTTP POST returning) to each
delivery.

- Parvis: `parvis serve` (one uvicorn process; jobs inline, so the fan-out job and its
  publishing run in the request, as an idle embedded worker would not add its polling delay),
  rate limits off. `--clients` WebSocket clients subscribe to `public:local`; a poster makes
  `--events` public posts one after the other (closed loop) through `POST /api/v1/statuses`.
- Anchor: a minimal Starlette app under the same uvicorn: WebSocket clients register, and
  `POST /broadcast` schedules the sending of the same bytes to every client (a plain loop of
  `send_text`) and returns at once, as Parvis's request returns once the event is handed to
  the broker. The bytes are a real Parvis message of the same run, with the id changed.

Both servers are pinned to CPU 0 and this load generator to CPU 1 (`--no-pin` to disable).
Runs alternate anchor, Parvis, anchor, Parvis... (`--pairs`). Printed per run: deliveries/s
(all clients x events, from the first post to the last delivery), p50/p99 delay from the POST
returning to each delivery, server CPU per delivery; then the ratio Parvis / anchor.

    .venv/bin/python bench/streaming.py
    .venv/bin/python bench/streaming.py --clients 1000 --events 50 --pairs 3
    .venv/bin/python bench/streaming.py --redis-url redis://127.0.0.1:6379/0   # Redis broker
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as common
import httpx2
from websockets.asyncio.client import ClientConnection, connect

# The status id: the first key of the payload, a JSON string inside the message (escaped).
STATUS_ID = re.compile(r'\\"id\\":\\"(\d+)\\"')


# --- the anchor server ------------------------------------------------------------------------


def anchor_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    clients: set[WebSocket] = set()
    tasks: set[asyncio.Task[None]] = set()

    async def stream(ws: WebSocket) -> None:
        await ws.accept()
        clients.add(ws)
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            clients.discard(ws)

    async def send_all(text: str) -> None:
        for ws in list(clients):
            try:
                await ws.send_text(text)
            except Exception:  # a client that left
                clients.discard(ws)

    async def broadcast(request: Request) -> Response:
        text = (await request.body()).decode()
        task = asyncio.get_running_loop().create_task(send_all(text))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return Response(b"{}", media_type="application/json")

    return Starlette(
        routes=[WebSocketRoute("/stream", stream), Route("/broadcast", broadcast, methods=["POST"])]
    )


def serve_anchor(port: int) -> None:
    import uvicorn

    uvicorn.run(anchor_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- processes --------------------------------------------------------------------------------


def start(
    cmd: list[str], env: dict[str, str], cpu: int | None, log: Path
) -> subprocess.Popen[bytes]:
    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
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


def register(base: str, username: str) -> str:
    """An account and its token, through the API as any client would."""
    with httpx2.Client(base_url=base, timeout=30) as http:
        app = http.post(
            "/api/v1/apps",
            json={
                "client_name": "bench",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            },
        ).json()
        token = http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": "read write",
            },
        ).json()["access_token"]
        r = http.post(
            "/api/v1/accounts",
            headers={"Authorization": f"Bearer {token}"},
            data={
                "username": username,
                "email": f"{username}@example.org",
                "password": "correct horse battery",
                "agreement": "true",
            },
        )
        r.raise_for_status()
        return str(r.json()["access_token"])


# --- the load generator -----------------------------------------------------------------------


@dataclass
class Run:
    target: str
    clients: int
    events: int
    seconds: float
    deliveries: int
    deliveries_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    p99_from_sent_ms: float
    server_cpu_us_per_delivery: float
    duplicates: int
    missing: int


async def connect_all(url: str, n: int) -> list[ClientConnection]:
    sockets: list[ClientConnection] = []
    for start_at in range(0, n, 50):  # 50 handshakes at a time
        batch = [
            connect(url, max_queue=None, open_timeout=30) for _ in range(min(50, n - start_at))
        ]
        sockets += await asyncio.gather(*batch)
    return sockets


async def measure(
    target: str,
    url: str,
    clients: int,
    events: int,
    post: Callable[[int], Awaitable[str]],
    server_pid: int,
) -> Run:
    sockets = await connect_all(url, clients)
    await asyncio.sleep(0.5)  # let the server finish its subscriptions
    arrivals: dict[str, list[float]] = {}
    expected = clients * events
    done = asyncio.Event()
    count = 0

    async def reader(ws: ClientConnection) -> None:
        nonlocal count
        async for text in ws:
            now = time.perf_counter()
            found = STATUS_ID.search(text if isinstance(text, str) else text.decode())
            if found is None:
                continue
            arrivals.setdefault(found.group(1), []).append(now)
            count += 1
            if count >= expected:
                done.set()

    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    cpu0 = common.cpu_seconds(server_pid)
    returned: dict[str, float] = {}
    sent: dict[str, float] = {}
    first = time.perf_counter()
    for i in range(events):
        began = time.perf_counter()
        status_id = await post(i)
        returned[status_id] = time.perf_counter()
        sent[status_id] = began
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 120)
    last = max((t for ts in arrivals.values() for t in ts), default=time.perf_counter())
    cpu = common.cpu_seconds(server_pid) - cpu0
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    delays = sorted(
        (t - returned[sid]) * 1000 for sid, ts in arrivals.items() if sid in returned for t in ts
    )
    from_sent = sorted(
        (t - sent[sid]) * 1000 for sid, ts in arrivals.items() if sid in sent for t in ts
    )
    delivered = sum(len(ts) for sid, ts in arrivals.items() if sid in returned)
    per_event = [len(arrivals.get(sid, [])) for sid in returned]
    seconds = last - first
    return Run(
        target=target,
        clients=clients,
        events=events,
        seconds=round(seconds, 3),
        deliveries=delivered,
        deliveries_per_s=round(delivered / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(common.percentile(delays, 0.50), 2),
        p99_ms=round(common.percentile(delays, 0.99), 2),
        max_ms=round(delays[-1], 2) if delays else float("nan"),
        p99_from_sent_ms=round(common.percentile(from_sent, 0.99), 2),
        server_cpu_us_per_delivery=round(cpu / max(delivered, 1) * 1e6, 2),
        duplicates=sum(max(n - clients, 0) for n in per_event),
        missing=sum(max(clients - n, 0) for n in per_event),
    )


async def sample_message(ws_url: str, base: str, token: str) -> str:
    """One real Parvis message, to give the anchor the very same bytes (id aside)."""
    async with connect(ws_url) as ws:
        async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
            r = await http.post(
                "/api/v1/statuses",
                headers={"Authorization": f"Bearer {token}"},
                json={"status": "warming up the stream"},
            )
            r.raise_for_status()
        text = await asyncio.wait_for(ws.recv(), 10)
    return text if isinstance(text, str) else text.decode()


async def bench(
    args: argparse.Namespace, parvis_port: int, anchor_port: int, pids: dict[str, int]
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{parvis_port}"
    poster = register(base, "poster")
    reader = register(base, "reader")
    parvis_ws = (
        f"ws://127.0.0.1:{parvis_port}/api/v1/streaming?stream=public:local&access_token={reader}"
    )
    anchor_ws = f"ws://127.0.0.1:{anchor_port}/stream"
    template = await sample_message(parvis_ws, base, poster)
    sample_id = STATUS_ID.search(template)
    assert sample_id is not None, template
    http = httpx2.AsyncClient(timeout=60)
    counter = iter(range(10**18, 2 * 10**18))

    async def post_parvis(i: int) -> str:
        r = await http.post(
            base + "/api/v1/statuses",
            headers={"Authorization": f"Bearer {poster}"},
            json={"status": f"streaming bench {i} {time.time_ns()}"},
        )
        r.raise_for_status()
        return str(r.json()["id"])

    async def post_anchor(i: int) -> str:
        sid = str(next(counter))
        text = template.replace(
            sample_id.group(0), sample_id.group(0).replace(sample_id.group(1), sid), 1
        )
        r = await http.post(f"http://127.0.0.1:{anchor_port}/broadcast", content=text.encode())
        r.raise_for_status()
        return sid

    runs: list[Run] = []
    # A short warm-up of both (imports, pools, caches).
    await measure("anchor", anchor_ws, min(args.clients, 100), 5, post_anchor, pids["anchor"])
    await measure("parvis", parvis_ws, min(args.clients, 100), 5, post_parvis, pids["parvis"])
    for pair in range(args.pairs):
        for target in ("anchor", "parvis"):
            if target == "anchor":
                run = await measure(
                    target, anchor_ws, args.clients, args.events, post_anchor, pids["anchor"]
                )
            else:
                run = await measure(
                    target, parvis_ws, args.clients, args.events, post_parvis, pids["parvis"]
                )
            runs.append(run)
            print(
                f"pair {pair + 1} {target:6}  {run.deliveries_per_s:>10,.0f} deliveries/s  "
                f"p50 {run.p50_ms:7.2f} ms  p99 {run.p99_ms:7.2f} ms "
                f"(from the POST sent: {run.p99_from_sent_ms:7.2f} ms)  "
                f"server CPU {run.server_cpu_us_per_delivery:6.2f} us/delivery  "
                f"missing {run.missing} duplicates {run.duplicates}",
                flush=True,
            )
    await http.aclose()
    anchors = [r for r in runs if r.target == "anchor"]
    parvises = [r for r in runs if r.target == "parvis"]
    ratios = [
        p.deliveries_per_s / a.deliveries_per_s for a, p in zip(anchors, parvises, strict=True)
    ]
    cpu_ratios = [
        a.server_cpu_us_per_delivery / p.server_cpu_us_per_delivery
        for a, p in zip(anchors, parvises, strict=True)
        if p.server_cpu_us_per_delivery
    ]
    summary = {
        "ratio_deliveries_per_s": round(common.median(ratios), 3),
        "ratio_cpu_per_delivery": round(common.median(cpu_ratios), 3),
        "parvis_p99_ms_median": round(common.median([p.p99_ms for p in parvises]), 2),
        "anchor_p99_ms_median": round(common.median([a.p99_ms for a in anchors]), 2),
        "parvis_p99_from_sent_ms_median": round(
            common.median([p.p99_from_sent_ms for p in parvises]), 2
        ),
        "anchor_p99_from_sent_ms_median": round(
            common.median([a.p99_from_sent_ms for a in anchors]), 2
        ),
        "parvis_deliveries_per_s_median": common.median([p.deliveries_per_s for p in parvises]),
        "anchor_deliveries_per_s_median": common.median([a.deliveries_per_s for a in anchors]),
    }
    print(
        "\nratio (Parvis / anchor deliveries/s, median of pairs): "
        f"{summary['ratio_deliveries_per_s']}"
        "\nCPU ratio (anchor / Parvis CPU per delivery):          "
        f"{summary['ratio_cpu_per_delivery']}"
        f"\np99 post-to-delivery: Parvis {summary['parvis_p99_ms_median']} ms, "
        f"anchor {summary['anchor_p99_ms_median']} ms (from the POST sent: Parvis "
        f"{summary['parvis_p99_from_sent_ms_median']} ms, anchor "
        f"{summary['anchor_p99_from_sent_ms_median']} ms)"
    )
    return {"runs": [asdict(r) for r in runs], "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Streaming delivery vs a bare WebSocket broadcast."
    )
    parser.add_argument("--clients", type=int, default=1000, help="WebSocket clients (1,000)")
    parser.add_argument("--events", type=int, default=50, help="posts per run (50)")
    parser.add_argument("--pairs", type=int, default=3, help="measured anchor/Parvis pairs (3)")
    parser.add_argument("--redis-url", default="", help="run Parvis with REDIS_URL (Redis broker)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers and generator")
    parser.add_argument("--serve-anchor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_anchor:
        serve_anchor(args.serve_anchor)
        return

    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    server_cpu = 0 if pin else None
    parvis_port, anchor_port = common.free_port(), common.free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="parvis-bench-streaming-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARVIS_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "PARVIS_DATA_DIR": str(data_dir),
            "PARVIS_DOMAIN": f"127.0.0.1:{parvis_port}",
            "PARVIS_SCHEME": "http",
            "PARVIS_JOBS_IMMEDIATE": "true",
            "PARVIS_EMBEDDED_WORKER": "false",
            "PARVIS_RATE_LIMITS_ENABLED": "false",
        }
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    logs = common.DATA / "logs"
    python = sys.executable
    parvis = start(
        common.serve_command(parvis_port),
        env,
        server_cpu,
        logs / "parvis-streaming.log",
    )
    anchor = start(
        [python, str(Path(__file__).resolve()), "--serve-anchor", str(anchor_port)],
        env,
        server_cpu,
        logs / "anchor-streaming.log",
    )
    try:
        common.wait_for_port(parvis_port, parvis)
        common.wait_for_port(anchor_port, anchor)
        if pin:
            os.sched_setaffinity(0, {1})
        started = common.now_iso()
        result = asyncio.run(
            bench(args, parvis_port, anchor_port, {"parvis": parvis.pid, "anchor": anchor.pid})
        )
    finally:
        stop(parvis)
        stop(anchor)
    payload = {
        "kind": "streaming",
        "started": started,
        "parameters": {k: v for k, v in vars(args).items() if k != "serve_anchor"},
        "broker": "redis" if args.redis_url else "in-process",
        "versions": common.versions(),
        "host": common.host_info(),
        **result,
    }
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = common.RESULTS / f"streaming-{payload['broker']}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"\nreport: {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
