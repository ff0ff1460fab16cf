"""`parvis log verify`: download a server's public moderation log and prove that its history
was not rewritten. Runs anywhere, against any Parvis server, over HTTP (an injectable httpx2
transport in tests).

What is checked, in this order (the first failure stops it, with its reason):

1. the latest checkpoint is signed by the log's key: the key pinned with `--key`, else the one
   remembered from the last run, else (trust on first use) the one the server publishes;
2. every checkpoint is signed by that key, and each one's tree extends the one before it
   (RFC 9162 consistency proof between consecutive checkpoints);
3. every entry hashes to its published leaf hash, and the entries rebuild, prefix by prefix,
   exactly the root of every checkpoint: an entry altered, reordered or removed changes them;
4. against the state file of the last run (the size and root it verified): the log has not
   shrunk, its first entries still hash to that root, and the server's consistency proof
   from that tree to today's verifies.

Then the latest checkpoint is remembered in the state file for the next run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2

from parvis.domain import merkle
from parvis.domain.merkle import ProofError

PATH = "/api/parvis/v1/transparency/log"
PAGE = 1000

Progress = Callable[[str, int, int], None]  # (phase, done so far, total)


class VerifyFailed(Exception):
    """The log does not verify, or could not be checked; the message says why."""


@dataclass(frozen=True)
class State:
    """What the last successful run verified (the state file)."""

    url: str
    origin: str
    public_key: str
    tree_size: int
    root_hash: str  # base64
    verified_at: str


@dataclass(frozen=True)
class Report:
    origin: str
    tree_size: int
    root_hash: str
    checkpoints: int
    public_key: str
    trusted_on_first_use: bool
    previous: State | None  # the state the log was shown to extend


def default_state_path(url: str) -> Path:
    """~/.cache/parvis/log-<host>.json (XDG_CACHE_HOME respected)."""
    host = urlsplit(url).netloc or url
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in host)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "parvis" / f"log-{safe}.json"


def load_state(path: Path) -> State | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return State(**{k: data[k] for k in State.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VerifyFailed(f"the state file {path} is unreadable ({exc}); move it away") from None


def save_state(path: Path, state: State) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    temp.replace(path)


class _Server:
    def __init__(self, url: str, transport: httpx2.BaseTransport | None) -> None:
        self.http = httpx2.Client(
            base_url=url.rstrip("/"), transport=transport, timeout=60.0, follow_redirects=True
        )

    def get(self, path: str, **params: int) -> Any:
        try:
            r = self.http.get(PATH + path, params=params)
        except httpx2.HTTPError as exc:
            raise VerifyFailed(f"could not reach the server: {exc}") from None
        if r.status_code != 200:
            try:
                said = r.json().get("error", "")
            except ValueError:
                said = ""
            raise VerifyFailed(f"{PATH + path} answered {r.status_code} {said}".rstrip())
        try:
            return r.json()
        except ValueError:
            raise VerifyFailed(f"{PATH + path} did not answer JSON") from None

    def close(self) -> None:
        self.http.close()


def _pick_key(published: str, pinned: str | None, state: State | None) -> tuple[bytes, bool]:
    """(the raw key checkpoints must be signed with, whether it is trusted on first use)."""
    _, server_key = merkle.parse_verifier_key(published)
    if pinned is not None:
        _, key = merkle.parse_verifier_key(pinned)
        if key != server_key:
            raise VerifyFailed("the server publishes a different key than the one given with --key")
        return key, False
    if state is not None:
        _, known = merkle.parse_verifier_key(state.public_key)
        if known != server_key:
            raise VerifyFailed(
                f"the log's signing key changed since the run of {state.verified_at}: "
                f"it was {state.public_key}, it is now {published}. If the operator announced "
                "a new key, check it and run again with --key and a new --state file"
            )
        return known, False
    return server_key, True


def _pages(server: _Server, head: int) -> Iterator[list[dict[str, Any]]]:
    after = 0
    while after < head:
        page = server.get("/checkpoints", after=after, limit=PAGE)["checkpoints"]
        if not page:
            return
        yield page
        after = int(page[-1]["tree_size"])


def verify(
    url: str,
    state_path: Path,
    *,
    key: str | None = None,
    transport: httpx2.BaseTransport | None = None,
    progress: Progress | None = None,
) -> Report:
    """Verify the log of the Parvis server at `url`; raise VerifyFailed with the reason."""
    tell = progress or (lambda phase, done, total: None)
    state = load_state(state_path)
    server = _Server(url, transport)
    try:
        try:
            return _verify(server, url, state, state_path, key, tell)
        except ProofError as exc:
            raise VerifyFailed(str(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise VerifyFailed(f"the server's answer is malformed ({exc!r})") from None
    finally:
        server.close()


def _verify(
    server: _Server,
    url: str,
    state: State | None,
    state_path: Path,
    pinned: str | None,
    tell: Progress,
) -> Report:
    head = server.get("")
    raw_key, tofu = _pick_key(head["public_key"], pinned, state)
    latest = merkle.open_checkpoint(head["checkpoint"], raw_key)
    size = latest.size
    if (latest.origin, size, merkle.b64(latest.root)) != (
        head["origin"],
        head["tree_size"],
        head["root_hash"],
    ):
        raise VerifyFailed("the log's head does not match its own signed checkpoint")
    if state is not None and state.tree_size > size:
        raise VerifyFailed(
            f"the log shrank: it had {state.tree_size} entries on {state.verified_at}, "
            f"it has {size} now"
        )

    # 1. every checkpoint: signed, and extending the one before it.
    roots: dict[int, bytes] = {}
    previous, previous_root = 0, merkle.EMPTY_ROOT
    count = 0
    tell("checkpoints", 0, size)
    for page in _pages(server, size):
        for c in page:
            n = int(c["tree_size"])
            if n > size:  # appended since the head was read: next time
                break
            signed = merkle.open_checkpoint(c["checkpoint"], raw_key)
            if (signed.size, merkle.b64(signed.root)) != (n, c["root_hash"]):
                raise VerifyFailed(f"checkpoint {n} does not match its own signed note")
            if signed.origin != latest.origin:
                raise VerifyFailed(f"checkpoint {n} names another log: {signed.origin}")
            if int(c["previous"]) != previous:
                raise VerifyFailed(
                    f"checkpoint {n} follows checkpoint {c['previous']}, expected {previous}: "
                    "a checkpoint is missing from the list"
                )
            if previous:
                proof = [
                    merkle.unb64(h, "a proof hash", merkle.HASH_SIZE) for h in c["consistency"]
                ]
                try:
                    merkle.verify_consistency(previous, n, previous_root, signed.root, proof)
                except ProofError as exc:
                    raise VerifyFailed(
                        f"checkpoint {n} does not extend checkpoint {previous}: {exc}"
                    ) from None
            roots[n] = signed.root
            previous, previous_root = n, signed.root
            count += 1
            tell("checkpoints", n, size)
    if size and roots.get(size) != latest.root:
        raise VerifyFailed(f"the list of checkpoints does not end with the latest one ({size})")

    # 2. every entry: hashed, and rebuilding every checkpoint's root.
    frontier = merkle.Frontier()
    tell("entries", 0, size)
    while frontier.size < size:
        start = frontier.size
        page = server.get("/entries", start=start, end=min(start + PAGE, size))["entries"]
        if not page:
            raise VerifyFailed(f"the server stopped at {start} of {size} entries")
        for e in page:
            index = int(e["index"])
            if index != frontier.size:
                raise VerifyFailed(f"entry {frontier.size} is missing (got {index})")
            if not isinstance(e["entry"], dict):
                raise VerifyFailed(f"entry {index} is not a JSON object")
            leaf = merkle.leaf_hash(merkle.canonical(e["entry"]))
            if merkle.b64(leaf) != e["leaf_hash"]:
                raise VerifyFailed(
                    f"entry {index} does not hash to its published leaf hash: it was altered"
                )
            frontier.append(leaf)
            n = frontier.size
            if n in roots or (state is not None and n == state.tree_size):
                _check_prefix(frontier, roots, state)
        tell("entries", frontier.size, size)

    # 3. today's log extends the one verified last time, by the server's own proof too.
    if state is not None and 0 < state.tree_size < size:
        proof = server.get("/proof/consistency", first=state.tree_size, second=size)
        hashes = _hashes(proof["proof"])
        old = merkle.unb64(state.root_hash, "the remembered root", merkle.HASH_SIZE)
        try:
            merkle.verify_consistency(state.tree_size, size, old, latest.root, hashes)
        except ProofError as exc:
            raise VerifyFailed(
                f"the log does not extend the one verified on {state.verified_at}: {exc}"
            ) from None

    published = head["public_key"]
    report = Report(latest.origin, size, merkle.b64(latest.root), count, published, tofu, state)
    save_state(
        state_path,
        State(
            url=url,
            origin=latest.origin,
            public_key=published if pinned is None else pinned,
            tree_size=size,
            root_hash=merkle.b64(latest.root),
            verified_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )
    return report


def _check_prefix(frontier: merkle.Frontier, roots: dict[int, bytes], state: State | None) -> None:
    n, root = frontier.size, frontier.root()
    if n in roots and roots[n] != root:
        raise VerifyFailed(
            f"the first {n} entries do not hash to the root signed in checkpoint {n}: "
            "an entry was altered, reordered or removed"
        )
    if state is not None and n == state.tree_size and merkle.b64(root) != state.root_hash:
        raise VerifyFailed(
            f"history was rewritten: the first {n} entries no longer hash to the root "
            f"verified on {state.verified_at}"
        )


def _hashes(values: list[str]) -> list[bytes]:
    return [merkle.unb64(h, "a proof hash", merkle.HASH_SIZE) for h in values]
