"""The public moderation log: appending to it and verifying it, per entry, as a ratio to a bare
SHA-256 of the same bytes (the anchor), measured in the same run.

- anchor: `hashlib.sha256(entry bytes)` over the same canonical entries;
- append (pure): what an append computes, without the database: canonical JSON, leaf hash,
  the right edge's update and the Ed25519-signed checkpoint;
- append (service): `transparency_log.append` through the real service, one unit of work
  (one committed transaction) per entry, on SQLite in a scratch data dir;
- verify (pure): what `parvis log verify` computes per entry once downloaded: canonical JSON,
  leaf hash, the rebuilt root, the checkpoint's signature and the consistency proof from the
  previous checkpoint (there is one checkpoint per entry);
- verify (CLI): `parvis log verify` end to end against the in-process app (HTTP through the
  ASGI test transport, JSON, paging), per entry.

    .venv/bin/python bench/moderation_log.py              # 2,000 entries
    .venv/bin/python bench/moderation_log.py --entries 10000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as common
import httpx2
from starlette.testclient import TestClient

from parvis.app import build, create_app
from parvis.config import Settings
from parvis.domain import merkle
from parvis.services import transparency_log, transparency_log_verify
from parvis.services.context import Work


def entry(i: int) -> dict[str, Any]:
    return {
        "type": "decision",
        "puid": f"parvis-{i:08d}-4f1c-9a57-3be0c1d2e3f4",
        "action": ("remove", "label", "demote", "suspend")[i % 4],
        "ground": ("law", "rule")[i % 2],
        "rule_id": "" if i % 2 == 0 else str(1 + i % 7),
        "rule_version": None if i % 2 == 0 else 1,
        "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "keywords": ["KEYWORD_HATE_SPEECH"],
        "territorial_scope": ["FR"],
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": False,
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "subject_type": "status",
        "starts_at": "2026-11-23T10:00:00+00:00",
        "ends_at": None,
        "created_at": "2026-11-23T10:00:00+00:00",
    }


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description="Moderation log append/verify vs SHA-256.")
    parser.add_argument("--entries", type=int, default=2000, help="log size (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="measured rounds (default 3)")
    args = parser.parse_args()
    n = args.entries
    host = common.host_info()
    entries = [entry(i) for i in range(n)]
    data = [merkle.canonical(e) for e in entries]
    seed = bytes(range(32))
    origin = "bench.example/transparency-log"
    key = merkle.public_key(seed)

    def anchor() -> None:
        for d in data:
            hashlib.sha256(d).digest()

    notes: list[str] = []
    roots: list[bytes] = []

    def append_pure() -> None:
        notes.clear()
        roots.clear()
        frontier, signer = merkle.Frontier(), transparency_log._private_key(seed)
        for e in entries:
            frontier.append(merkle.leaf_hash(merkle.canonical(e)))
            root = frontier.root()
            notes.append(merkle.sign(merkle.Checkpoint(origin, frontier.size, root), signer))
            roots.append(root)

    append_pure()
    store: dict[merkle.Node, bytes] = {}
    frontier = merkle.Frontier()
    for d in data:
        h = merkle.leaf_hash(d)
        store[(0, frontier.size)] = h
        store.update(frontier.append(h))
    proofs: list[list[bytes]] = [[]] + [
        merkle.build(merkle.consistency_ranges(s, s + 1), store.__getitem__) for s in range(1, n)
    ]

    def verify_pure() -> None:
        f = merkle.Frontier()
        previous = merkle.EMPTY_ROOT
        for i, e in enumerate(entries):
            f.append(merkle.leaf_hash(merkle.canonical(e)))
            signed = merkle.open_checkpoint(notes[i], key)
            if i:
                merkle.verify_consistency(i, i + 1, previous, signed.root, proofs[i])
            assert f.root() == signed.root
            previous = signed.root

    rows: dict[str, list[float]] = {"anchor": [], "append_pure": [], "verify_pure": []}
    for _ in range(args.repeat):
        rows["anchor"].append(timed(anchor) / n)
        rows["append_pure"].append(timed(append_pure) / n)
        rows["verify_pure"].append(timed(verify_pure) / n)

    # Through the service and the CLI, once (a fresh database each round would dominate).
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data",
            domain="bench.example",
            embedded_worker=False,
            jobs_immediate=True,
            rate_limits_enabled=False,
        )
        instance = build(settings, migrate=True)

        def one(e: dict[str, Any]) -> Callable[[Work], int]:
            return lambda work: transparency_log.append(work, e)

        def append_service() -> None:
            for e in entries:
                instance.runtime.write(one(e))

        t_service = timed(append_service) / n
        t_anchor = common.median(rows["anchor"])
        with TestClient(create_app(instance, embedded_worker=False)) as client:

            def handle(request: httpx2.Request) -> httpx2.Response:
                r = client.get(str(request.url))
                return httpx2.Response(r.status_code, content=r.content)

            transport = httpx2.MockTransport(handle)
            state = Path(tmp) / "state.json"
            t_cli = (
                timed(
                    lambda: transparency_log_verify.verify(
                        "http://testserver", state, transport=transport
                    )
                )
                / n
            )
        instance.close()

    figures = {
        "anchor: sha256 of the entry": t_anchor,
        "append, pure (hash + edge + Ed25519 sign)": common.median(rows["append_pure"]),
        "append, service (one transaction each)": t_service,
        "verify, pure (hash + root + signature + proof)": common.median(rows["verify_pure"]),
        "verify, `parvis log verify` over HTTP": t_cli,
    }
    print(f"\nModeration log, {n} entries of ~{sum(map(len, data)) // n} bytes, per entry")
    print(f"{'':48} {'µs':>10} {'× sha256':>10}")
    for name, seconds in figures.items():
        print(f"{name:48} {seconds * 1e6:10.2f} {seconds / t_anchor:10.0f}")
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = common.RESULTS / f"moderation_log-sqlite-{stamp}.json"
    payload = {
        "entries": n,
        "repeat": args.repeat,
        "host": host,
        "versions": common.versions(),
        "per_entry_seconds": figures,
        "ratios_to_sha256": {k: v / t_anchor for k, v in figures.items()},
        "raw": rows,
    }
    out.write_text(json.dumps(payload, indent=2))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
