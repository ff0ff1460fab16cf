"""Inbound federation: activities accepted per second by the inbox with valid signatures, and
processed per second by the worker, as ratios to a bare signature-verify loop over the same
requests (the anchor), measured in the same run.

- anchor: `httpsig.verify_request` (draft-cavage rsa-sha256 with a SHA-256 digest, the way
  Mastodon signs) over the very requests sent below, in this process, one thread;
- accept: `POST /inbox` of `parvis serve` (SQLite, a scratch data dir, its job worker off so
  only the acceptance is measured): size check, JSON, domain policy, signature (the key is
  already known), one insert, a job enqueued; from --clients client threads in this process;
- process: then each stored Create is applied as the worker applies it (`process_inbound`:
  the remote post stored, tags, mentions, fan-out), in process, one at a time.

    .venv/bin/python bench/federation_inbound.py               # 2,000 activities
    .venv/bin/python bench/federation_inbound.py --activities 5000 --clients 8
"""

from __future__ import annotations

import argparse
import json
import os
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
from sqlalchemy import text

from parvis.app import build
from parvis.config import Settings
from parvis.domain import httpsig
from parvis.domain.activitypub import parse
from parvis.jobs.runtime import run_job
from parvis.services import remote_actors

REMOTE = "https://remote.bench/users/rita"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
Request = tuple[str, dict[str, str], bytes]  # url, headers, body


def actor_document(public_pem: str) -> dict[str, Any]:
    return {
        "id": REMOTE,
        "type": "Person",
        "preferredUsername": "rita",
        "inbox": f"{REMOTE}/inbox",
        "followers": f"{REMOTE}/followers",
        "url": "https://remote.bench/@rita",
        "publicKey": {"id": f"{REMOTE}#main-key", "owner": REMOTE, "publicKeyPem": public_pem},
    }


def activity(i: int) -> dict[str, Any]:
    note = f"{REMOTE}/statuses/{i}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note}/activity",
        "type": "Create",
        "actor": REMOTE,
        "to": [PUBLIC],
        "cc": [f"{REMOTE}/followers"],
        "object": {
            "id": note,
            "type": "Note",
            "attributedTo": REMOTE,
            "content": f"<p>Bonjour n°{i}, <a href='https://remote.bench/tags/bench'>#bench</a></p>",
            "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "to": [PUBLIC],
            "cc": [f"{REMOTE}/followers"],
            "tag": [
                {"type": "Hashtag", "name": "#bench", "href": "https://remote.bench/tags/bench"}
            ],
        },
    }


def signed_requests(n: int, url: str, private_pem: str) -> list[Request]:
    out: list[Request] = []
    now = datetime.now(UTC)
    for i in range(n):
        body = json.dumps(activity(i)).encode()
        headers = {"Content-Type": "application/activity+json"}
        headers |= httpsig.sign_request(
            "POST", url, headers, body, f"{REMOTE}#main-key", private_pem, now=now
        )
        out.append((url, headers, body))
    return out


def anchor(requests: list[Request], public_pem: str) -> float:
    now = datetime.now(UTC)
    start = time.perf_counter()
    for url, headers, body in requests:
        httpsig.verify_request("POST", url, headers, body, public_pem, now=now)
    return len(requests) / (time.perf_counter() - start)


def accept(requests: list[Request], clients: int) -> tuple[float, dict[int, int]]:
    codes: dict[int, int] = {}
    with httpx2.Client(timeout=30) as http:

        def send(request: Request) -> int:
            url, headers, body = request
            return http.post(url, headers=headers, content=body).status_code

        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            for code in pool.map(send, requests):
                codes[code] = codes.get(code, 0) + 1
        elapsed = time.perf_counter() - start
    return len(requests) / elapsed, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=2000, help="Signed activities sent.")
    parser.add_argument("--clients", type=int, default=4, help="Client threads posting.")
    args = parser.parse_args()

    private_pem, public_pem = httpsig.generate_key_pair()
    with tempfile.TemporaryDirectory(prefix="parvis-bench-inbound-") as tmp:
        data = Path(tmp)
        port = common.free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PARVIS_")},
            "PARVIS_DATA_DIR": str(data),
            "PARVIS_DOMAIN": f"127.0.0.1:{port}",
            "PARVIS_RATE_LIMITS_ENABLED": "false",
            "PARVIS_EMBEDDED_WORKER": "false",
        }
        settings = Settings(data_dir=data, domain=f"127.0.0.1:{port}", jobs_immediate=True)
        parvis = build(settings, migrate=True)  # the remote actor, known before it posts
        actor = parse.actor(actor_document(public_pem))
        parvis.runtime.write(lambda work: remote_actors.store_actor(work, actor))

        url = f"http://127.0.0.1:{port}/inbox"
        requests = signed_requests(args.activities, url, private_pem)
        verify_rate = anchor(requests, public_pem)

        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parvis.cli",
                "serve",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--no-worker",
            ],
            env=env,
        )
        try:
            common.wait_for_port(port, server)
            warm, timed = requests[: args.clients * 5], requests[args.clients * 5 :]
            accept(warm, args.clients)  # connections open, code paths warm
            cpu_before = common.cpu_seconds(server.pid)
            accept_rate, codes = accept(timed, args.clients)
            server_cpu = common.cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=30)

        with parvis.db.engine.connect() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    text("SELECT id FROM federation_inbox WHERE state = 'pending' ORDER BY id")
                )
            ]
        start = time.perf_counter()
        for inbox_id in ids:
            run_job(parvis.runtime, "process_inbound", {"inbox_id": inbox_id})
        process_rate = len(ids) / (time.perf_counter() - start)
        with parvis.db.engine.connect() as conn:
            stored = conn.execute(
                text("SELECT count(*) FROM statuses WHERE local = false")
            ).scalar()
        parvis.close()

    print(f"activities: {args.activities}, client threads: {args.clients}, responses: {codes}")
    print(f"{'anchor: bare verify loop':<36} {verify_rate:>9.0f} /s")
    print(
        f"{'inbox: accepted (parvis serve)':<36} {accept_rate:>9.0f} /s"
        f"   ratio {accept_rate / verify_rate:.3f}"
    )
    print(
        f"{'worker: processed (in process)':<36} {process_rate:>9.0f} /s"
        f"   ratio {process_rate / verify_rate:.3f}"
    )
    per = server_cpu / max(sum(codes.values()), 1)
    print(
        f"server CPU per accepted activity: {1000 * per:.2f} ms "
        f"(= {per * verify_rate:.1f} signature verifies)"
    )
    print(f"posts stored after processing: {stored} of {len(ids)}")


if __name__ == "__main__":
    main()
