"""End-to-end encrypted messages: send and fetch throughput through `parvis serve`, as ratios to
posting a public status of the same size (the anchor), measured in the same run.

- anchor: `POST /api/v1/statuses` (public, `--size` characters) from `--clients` threads;
- send: `POST /api/parvis/v1/e2e/conversations/{id}/messages` from the same number of threads,
  each an envelope of the same text (padded to 256 bytes, XChaCha20-Poly1305, the key sealed
  to `--devices` devices of each of the two people, signed), sealed beforehand by the reference
  client (tests/clients/e2e_client.py): the server's work only (checks, signature, storage,
  queues);
- fetch: every other device empties its queue, `GET …/devices/{id}/inbox?limit=40` then
  `POST …/inbox/ack`, one thread per device; messages fetched per second;
- extra: the client's own cost, sealing and opening (verify + decrypt) per second in process.

The server runs on SQLite in a scratch data dir, without its job worker (so a post's fan-out
job is queued, not run, as a message's delivery rows are written). Rounds alternate anchor,
send and fetch; the ratios are medians over rounds.

    .venv/bin/python bench/messaging.py                  # 600 per workload, 3 rounds
    .venv/bin/python bench/messaging.py --messages 2000 --clients 8 --size 2000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as common
import httpx2

from parvis.app import build
from parvis.config import Settings
from parvis.services import accounts, oauth
from parvis.services.context import Work

sys.path.insert(0, str(common.ROOT))
from tests.clients.e2e_client import E2E, E2EClient

SCOPES = frozenset({"read", "write"})
WORDS = "Rendez-vous sur le parvis demain à midi, avec les tracts et les banderoles. "


def text_of(size: int, i: int) -> str:
    """`size` characters, different for each i (statuses are not deduplicated anyway)."""
    head = f"{i:06d} "
    return (head + WORDS * (size // len(WORDS) + 1))[:size]


def make_users(settings: Settings, names: list[str]) -> dict[str, str]:
    """Accounts and tokens made in process, before the server starts."""
    instance = build(settings, migrate=True)

    def run(work: Work) -> dict[str, str]:
        out = {}
        for name in names:
            user = accounts.register(
                work,
                accounts.Registration(name, f"{name}@example.org", "correct horse battery", True),
            )
            out[name] = oauth.issue_token(work, None, user.account_id, SCOPES).access_token
        return out

    try:
        return instance.runtime.write(run)
    finally:
        instance.close()


def timed(jobs: list[Any], clients: int, base: str, fn: Any) -> tuple[float, dict[int, int]]:
    """Run fn(http, job) over the jobs from `clients` threads; (per second, status codes)."""
    codes: dict[int, int] = {}
    chunks = [jobs[i::clients] for i in range(clients)]

    def worker(chunk: list[Any]) -> list[int]:
        with httpx2.Client(base_url=base, timeout=60) as http:
            return [fn(http, job) for job in chunk]

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for result in pool.map(worker, chunks):
            for code in result:
                codes[code] = codes.get(code, 0) + 1
    return len(jobs) / (time.perf_counter() - start), codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=600, help="Posts and messages per round.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds (median taken).")
    parser.add_argument("--clients", type=int, default=4, help="Client threads sending.")
    parser.add_argument("--size", type=int, default=500, help="Characters per post and message.")
    parser.add_argument("--devices", type=int, default=2, help="Devices per person.")
    args = parser.parse_args()

    host = common.host_info()
    with tempfile.TemporaryDirectory(prefix="parvis-bench-e2e-") as tmp:
        data = Path(tmp)
        port = common.free_port()
        base = f"http://127.0.0.1:{port}"
        domain = f"127.0.0.1:{port}"
        tokens = make_users(Settings(data_dir=data, domain=domain), ["alice", "bob"])
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PARVIS_")},
            "PARVIS_DATA_DIR": str(data),
            "PARVIS_DOMAIN": domain,
            "PARVIS_RATE_LIMITS_ENABLED": "false",
            "PARVIS_EMBEDDED_WORKER": "false",
        }
        server = subprocess.Popen(common.serve_command(port), env=env)
        runs: list[dict[str, Any]] = []
        try:
            common.wait_for_port(port, server)
            setup = httpx2.Client(base_url=base, timeout=60)
            devices = {
                name: [E2EClient(setup, tokens[name]) for _ in range(args.devices)]
                for name in ("alice", "bob")
            }
            for group in devices.values():
                for d in group:
                    d.publish()
            sender = devices["alice"][0]
            receivers = [*devices["alice"][1:], *devices["bob"]]
            bob_id = devices["bob"][0].account_id
            convo = sender.start(bob_id)["id"]
            targets = sender.devices_for(convo)
            url = f"{E2E}/conversations/{convo}/messages"
            auth = {"Authorization": f"Bearer {tokens['alice']}"}

            # The client's own cost, in process.
            start = time.perf_counter()
            sample = [sender.seal(convo, text_of(args.size, i), targets) for i in range(200)]
            seal_rate = len(sample) / (time.perf_counter() - start)

            def post_status(http: httpx2.Client, text: str) -> int:
                body = {"status": text, "visibility": "public"}
                return http.post("/api/v1/statuses", json=body, headers=auth).status_code

            def post_message(http: httpx2.Client, envelope: dict[str, Any]) -> int:
                return http.post(url, json=envelope, headers=auth).status_code

            def empty(device: E2EClient) -> int:
                got = 0
                with httpx2.Client(base_url=base, timeout=60) as http:
                    headers = {"Authorization": f"Bearer {device.token}"}
                    inbox = f"{E2E}/devices/{device.device_id}/inbox"
                    while True:
                        page = http.get(inbox, params={"limit": 40}, headers=headers).json()
                        if not page:
                            return got
                        got += len(page)
                        http.post(
                            f"{inbox}/ack", json={"up_to_id": page[-1]["id"]}, headers=headers
                        )

            warm = [text_of(args.size, i) for i in range(20)]
            timed(warm, args.clients, base, post_status)
            timed([sender.seal(convo, t, targets) for t in warm], args.clients, base, post_message)
            for d in receivers:
                empty(d)
            for rnd in range(1, args.rounds + 1):
                texts = [text_of(args.size, rnd * 100_000 + i) for i in range(args.messages)]
                envelopes = [sender.seal(convo, t, targets) for t in texts]
                cpu0 = common.cpu_seconds(server.pid)
                anchor, a_codes = timed(texts, args.clients, base, post_status)
                cpu1 = common.cpu_seconds(server.pid)
                send, s_codes = timed(envelopes, args.clients, base, post_message)
                cpu2 = common.cpu_seconds(server.pid)
                start = time.perf_counter()
                with ThreadPoolExecutor(len(receivers)) as pool:
                    fetched = sum(pool.map(empty, receivers))
                fetch = fetched / (time.perf_counter() - start)
                cpu3 = common.cpu_seconds(server.pid)
                run = {
                    "round": rnd,
                    "anchor_posts_per_s": anchor,
                    "send_per_s": send,
                    "fetch_per_s": fetch,
                    "fetched": fetched,
                    "codes": {"anchor": a_codes, "send": s_codes},
                    "server_cpu_ms": {
                        "per_post": 1000 * (cpu1 - cpu0) / args.messages,
                        "per_send": 1000 * (cpu2 - cpu1) / args.messages,
                        "per_fetched": 1000 * (cpu3 - cpu2) / max(fetched, 1),
                    },
                }
                runs.append(run)
                print(
                    f"round {rnd}: post {anchor:7.0f}/s  send {send:7.0f}/s  "
                    f"fetch {fetch:7.0f}/s ({fetched} by {len(receivers)} devices)  "
                    f"codes {a_codes} {s_codes}"
                )

            # Opening, in process (the receiving client's cost).
            with httpx2.Client(base_url=base, timeout=60) as http:
                reader = receivers[-1]
                page = http.get(
                    url, params={"limit": 40}, headers={"Authorization": f"Bearer {reader.token}"}
                ).json()
            reader.open(page[0])  # the sender's devices fetched and pinned once
            start = time.perf_counter()
            for m in page:
                reader.open(m)
            open_rate = len(page) / (time.perf_counter() - start)
            envelope_bytes = len(json.dumps(sample[0]))
            setup.close()
        finally:
            server.terminate()
            server.wait(timeout=30)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    send_ratio = statistics.median(r["send_per_s"] / r["anchor_posts_per_s"] for r in runs)
    fetch_ratio = statistics.median(r["fetch_per_s"] / r["anchor_posts_per_s"] for r in runs)
    cpu = {
        k: statistics.median(r["server_cpu_ms"][k] for r in runs) for k in runs[0]["server_cpu_ms"]
    }
    print(
        f"\n{args.messages} per round, {args.rounds} rounds, {args.clients} client threads, "
        f"{args.size} characters, {args.devices} devices each ({len(targets)} sealed keys, "
        f"envelope {envelope_bytes} bytes as JSON)"
    )
    print(f"{'anchor: public status posted':<40} {med('anchor_posts_per_s'):>8.0f} /s")
    print(f"{'e2e message sent':<40} {med('send_per_s'):>8.0f} /s   ratio {send_ratio:.2f}")
    print(
        f"{'e2e message fetched (+ ack)':<40} {med('fetch_per_s'):>8.0f} /s   "
        f"ratio {fetch_ratio:.2f}"
    )
    print(
        f"{'server CPU per post / send / fetched':<40} {cpu['per_post']:.2f} / "
        f"{cpu['per_send']:.2f} / {cpu['per_fetched']:.2f} ms"
    )
    print(f"{'client: seal (in process)':<40} {seal_rate:>8.0f} /s")
    print(f"{'client: verify + open (in process)':<40} {open_rate:>8.0f} /s")
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = common.RESULTS / f"messaging-sqlite-{stamp}.json"
    payload = {
        "workload": "e2e messages send and fetch vs public status post",
        "date": common.now_iso(),
        "params": vars(args),
        "runs": runs,
        "median": {
            "anchor_posts_per_s": med("anchor_posts_per_s"),
            "send_per_s": med("send_per_s"),
            "fetch_per_s": med("fetch_per_s"),
            "send_ratio": send_ratio,
            "fetch_ratio": fetch_ratio,
            "server_cpu_ms": cpu,
            "client_seal_per_s": seal_rate,
            "client_open_per_s": open_rate,
        },
        "versions": common.versions(),
        "host": host,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"results: {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
