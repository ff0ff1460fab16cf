"""Outbound federation: deliveries per second to a farm of fake inboxes, side by side with a
bare signed-POST loop against the same farm (the anchor), and the CPU each delivery costs as a
multiple of one RSA signature.

- Farm: one uvicorn process on loopback (this file, `--serve-farm`) answering every POST after
  `--latency-ms`, with HTTP 503 for a `--error-rate` share of them (drawn at random from a
  fixed seed; a host answering 503 five times in a row has its circuit opened). Its
  `--hosts` host names (`inbox0.test`, ...) all map to it through `federation_resolve`, as
  the loopback federation tests do.
- Parvis: rows written by `outbox.publish` (one Like per inbox, untimed), then the real
  "deliver" job (`jobs/deliver.py`) for each row from `--workers` threads, as the Huey worker
  runs it: the row taken in a write transaction, the address vetted (SSRF guard, pinned),
  the request signed and posted, the outcome recorded in a second transaction (SQLite).
- Anchor: the same bodies to the same URLs from the same number of threads, each POST signed
  with `httpsig.sign_request` and sent with a keep-alive httpx2 client: no database, no
  checks, no bookkeeping.
- RSA: one RSA-2048 PKCS#1 v1.5 SHA-256 signature of a Mastodon-sized signing string
  (`cryptography`), the floor of any signed delivery.

Runs alternate anchor, Parvis (`--pairs`). The farm is pinned to CPU 1 and this process to
CPU 0 (`--no-pin` to disable). CPU per delivery is `time.process_time()` of this process
(every thread) over the run, divided by the deliveries attempted.

    .venv/bin/python bench/federation_delivery.py
    .venv/bin/python bench/federation_delivery.py --deliveries 2000 --workers 8 --pairs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as common

# --- the farm ---------------------------------------------------------------------------------


def serve_farm(port: int, latency: float, error_rate: float) -> None:
    import random

    import uvicorn

    draw = random.Random(6).random  # the same errors for every run of the same length

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        if latency:
            await asyncio.sleep(latency)
        status = 503 if draw() < error_rate else 202
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start_farm(port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve-farm",
        str(port),
        "--latency-ms",
        str(args.latency_ms),
        "--error-rate",
        str(args.error_rate),
    ]

    def pin() -> None:
        if args.pin:
            os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})

    proc = subprocess.Popen(cmd, cwd=common.ROOT, preexec_fn=pin)
    common.wait_for_port(port, proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- runs -------------------------------------------------------------------------------------


@dataclass
class Run:
    target: str
    pair: int
    requests: int
    ok: int
    errors: int
    wall_seconds: float
    cpu_seconds: float
    farm_cpu_seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.wall_seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds / max(self.requests, 1) * 1000


def measured(
    target: str, pair: int, farm: subprocess.Popen[bytes], work: Callable[[], tuple[int, int]]
) -> Run:
    farm_cpu = common.cpu_seconds(farm.pid)
    cpu, wall = time.process_time(), time.perf_counter()
    ok, errors = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Run(
        target, pair, ok + errors, ok, errors, wall, cpu, common.cpu_seconds(farm.pid) - farm_cpu
    )


def rsa_signature_seconds(private_pem: str, rounds: int = 300) -> float:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    text = (
        b"(request-target): post /users/someone/inbox\nhost: inbox0.test\n"
        b"date: Mon, 23 Nov 2026 12:00:00 GMT\n"
        b"digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        b"content-type: application/activity+json"
    )
    for _ in range(20):
        key.sign(text, padding.PKCS1v15(), hashes.SHA256())
    cpu = time.process_time()
    for _ in range(rounds):
        key.sign(text, padding.PKCS1v15(), hashes.SHA256())
    return (time.process_time() - cpu) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description="Outbound deliveries vs a bare signed-POST loop.")
    parser.add_argument("--deliveries", type=int, default=1000, help="per run (default 1000)")
    parser.add_argument("--hosts", type=int, default=20, help="distinct inbox hosts (20)")
    parser.add_argument("--workers", type=int, default=8, help="sending threads (default 8)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="farm latency (20 ms)")
    parser.add_argument("--error-rate", type=float, default=0.1, help="share of 503s (0.1)")
    parser.add_argument("--pairs", type=int, default=3, help="anchor/Parvis pairs (default 3)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no CPU pinning")
    parser.add_argument("--serve-farm", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_farm:
        serve_farm(args.serve_farm, args.latency_ms / 1000, args.error_rate)
        return

    import httpx2

    from parvis.app import build
    from parvis.config import Settings
    from parvis.domain import httpsig
    from parvis.domain.ids import new_id
    from parvis.jobs.deliver import deliver
    from parvis.jobs.http import ACCEPT, CONTENT_TYPE, HttpClient
    from parvis.services import accounts, actors, outbox
    from parvis.services.context import Work

    host = common.host_info()
    if args.pin:
        os.sched_setaffinity(0, {0})
    port = common.free_port()
    farm = start_farm(port, args)
    names = [f"inbox{i}.test" for i in range(args.hosts)]
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp) / "data",
                domain="bench.example",
                scheme="https",
                embedded_worker=False,
                jobs_immediate=True,
                rate_limits_enabled=False,
                federation_allow_private=True,
                federation_resolve={name: f"127.0.0.1:{port}" for name in names},
            )
            instance = build(settings, migrate=True)
            runtime = instance.runtime
            user = runtime.write(
                lambda w: accounts.register(
                    w, accounts.Registration("bench", "bench@example.org", "correct horse", True)
                )
            )
            key = runtime.write(lambda w: actors.ensure_keys(w, user.account_id))
            actor = f"{settings.base_url}/users/bench"
            per_host = max(1, args.deliveries // args.hosts)

            def publish() -> list[int]:
                """Rows for one run, pending (no HTTP client while they are written)."""
                runtime.http = None

                def run(work: Work) -> list[int]:
                    ids: list[int] = []
                    for _ in range(per_host):
                        uri = f"{actor}#likes/{new_id()}"
                        activity = {"id": uri, "type": "Like", "actor": actor, "object": uri}
                        inboxes = [f"http://{name}/users/someone/inbox" for name in names]
                        outbox.publish(work, user.account_id, activity, inboxes)
                        ids += [r.id for r in work.store.deliveries.for_activity(uri)]
                    return ids

                return runtime.write(run)

            def parvis_run(ids: list[int], client: HttpClient) -> Callable[[], tuple[int, int]]:
                def go() -> tuple[int, int]:
                    runtime.http = client
                    with ThreadPoolExecutor(args.workers) as pool:
                        states = list(pool.map(lambda i: deliver(runtime, i), ids))
                    delivered = states.count("delivered")
                    return delivered, len(states) - delivered

                return go

            def anchor_run(bodies: list[tuple[str, bytes]]) -> Callable[[], tuple[int, int]]:
                def go() -> tuple[int, int]:
                    with httpx2.Client(trust_env=False, timeout=10) as http:

                        def post(item: tuple[str, bytes]) -> bool:
                            name, body = item
                            url = f"http://{name}/users/someone/inbox"
                            headers = {
                                "Host": name,
                                "Accept": ACCEPT,
                                "Content-Type": CONTENT_TYPE,
                                "User-Agent": "anchor",
                            }
                            headers.update(
                                httpsig.sign_request(
                                    "POST",
                                    url,
                                    headers,
                                    body,
                                    key.key_id,
                                    key.private_key_pem,
                                    now=datetime.now(UTC),
                                )
                            )
                            wire = f"http://127.0.0.1:{port}/users/someone/inbox"
                            return http.post(wire, content=body, headers=headers).status_code < 300

                        with ThreadPoolExecutor(args.workers) as pool:
                            results = list(pool.map(post, bodies))
                    return results.count(True), results.count(False)

                return go

            # Warm up both paths (connections, imports, the key cache) on a small batch.
            client = HttpClient(settings)
            warm = publish()[: args.workers * 2]
            parvis_run(warm, client)()
            rows = runtime.read(lambda w: [w.store.deliveries.get(i) for i in warm])
            anchor_run([(r.host, r.body.encode()) for r in rows if r is not None])()

            for pair in range(args.pairs):
                ids = publish()
                rows = runtime.read(lambda w, ids=ids: [w.store.deliveries.get(i) for i in ids])
                bodies = [(r.host, r.body.encode()) for r in rows if r is not None]
                runs.append(measured("anchor", pair, farm, anchor_run(bodies)))
                runs.append(measured("parvis", pair, farm, parvis_run(ids, client)))
            client.close()
            rsa = rsa_signature_seconds(key.private_key_pem)
            instance.close()
    finally:
        stop(farm)

    by = {(r.target, r.pair): r for r in runs}
    pairs = list(range(args.pairs))
    throughput, cpu_ratio = common.pair_ratios(by, pairs, "parvis", "anchor")
    print(
        f"\nOutbound deliveries: {args.deliveries} per run to {args.hosts} hosts, "
        f"{args.workers} threads, farm latency {args.latency_ms:g} ms, "
        f"{args.error_rate:.0%} errors"
    )
    print(
        f"{'run':10} {'pair':>4} {'sent':>6} {'ok':>6} {'err':>5} {'wall s':>8} "
        f"{'per s':>8} {'CPU ms':>8} {'× RSA':>7} {'farm CPU s':>10}"
    )
    for r in runs:
        print(
            f"{r.target:10} {r.pair:>4} {r.requests:>6} {r.ok:>6} {r.errors:>5} "
            f"{r.wall_seconds:8.2f} {r.rps:8.0f} {r.cpu_ms:8.2f} "
            f"{r.cpu_ms / 1000 / rsa:7.1f} {r.farm_cpu_seconds:10.2f}"
        )
    parvis_cpu = common.median([r.cpu_ms for r in runs if r.target == "parvis"]) / 1000
    anchor_cpu = common.median([r.cpu_ms for r in runs if r.target == "anchor"]) / 1000
    print(f"\none RSA-2048 signature: {rsa * 1e3:.2f} ms CPU")
    print(f"ratio deliveries/s, Parvis / anchor (median of pairs): {common.median(throughput):.2f}")
    print(f"CPU per delivery, anchor / Parvis (median of pairs): {common.median(cpu_ratio):.2f}")
    print(
        f"CPU per delivery as RSA signatures: Parvis {parvis_cpu / rsa:.1f}, "
        f"anchor {anchor_cpu / rsa:.1f}"
    )
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = common.RESULTS / f"federation_delivery-sqlite-{stamp}.json"
    payload = {
        "parameters": {k: v for k, v in vars(args).items() if not k.startswith("serve")},
        "host": host,
        "versions": common.versions(),
        "rsa_signature_seconds": rsa,
        "ratio_throughput": common.median(throughput),
        "ratio_cpu": common.median(cpu_ratio),
        "parvis_cpu_per_delivery_in_rsa": parvis_cpu / rsa,
        "anchor_cpu_per_delivery_in_rsa": anchor_cpu / rsa,
        "runs": [asdict(r) | {"rps": r.rps, "cpu_ms": r.cpu_ms} for r in runs],
    }
    out.write_text(json.dumps(payload, indent=2))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
