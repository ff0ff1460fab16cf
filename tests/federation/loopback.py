"""Several real Parvis servers federating on loopback: separate processes (`parvis serve`, with
its embedded job worker), separate SQLite databases and data directories, distinct host names.

Each server is named `<name>.test:<port>`; `PARVIS_FEDERATION_RESOLVE` maps every such name to
127.0.0.1 (as curl's --resolve would), and `PARVIS_FEDERATION_ALLOW_PRIVATE` lets the SSRF
guard reach loopback — the only two settings that differ from a production server. Deliveries
go through the real outbox, signatures, inboxes and job workers; the test drives each server
with its public client API, as a person's app would, and waits for federation to settle.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx2

from tests.builders import User, make_user

T = TypeVar("T")
SETTLE_SECONDS = 30.0  # how long federation may take to arrive before a test gives up


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    http: httpx2.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx2.Client(base_url=self.url, timeout=30.0)

    @property
    def domain(self) -> str:
        return f"{self.name}.test:{self.port}"

    @property
    def url(self) -> str:  # where the test reaches it (the public name resolves only in Parvis)
        return f"http://127.0.0.1:{self.port}"

    def user(self, username: str, *, locked: bool = False) -> User:
        return make_user(self.http, username, locked=locked)  # type: ignore[arg-type]

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read this server's own database (read-only), to check what it stored."""
        conn = sqlite3.connect(f"file:{self.data_dir / 'parvis.sqlite3'}?mode=ro", uri=True)
        try:
            return list(conn.execute(sql, args).fetchall())
        finally:
            conn.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def _env(server: Server, names: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("PARVIS_") or k in ("DATABASE_URL", "REDIS_URL")]:
        del env[key]
    env.update(
        {
            "PARVIS_DATA_DIR": str(server.data_dir),
            "PARVIS_DOMAIN": server.domain,
            "PARVIS_SCHEME": "http",
            "PARVIS_TITLE": f"Parvis {server.name.upper()}",
            "PARVIS_FEDERATION_ALLOW_PRIVATE": "true",
            "PARVIS_FEDERATION_RESOLVE": json.dumps({f"{n}.test": "127.0.0.1" for n in names}),
            "PARVIS_RATE_LIMITS_ENABLED": "false",
            "PARVIS_COMPRESS_RESPONSES": "false",
        }
    )
    return env


@contextmanager
def servers(root: Path, *names: str) -> Iterator[dict[str, Server]]:
    """Start one Parvis per name; stop them all (and show their logs on failure) at the end."""
    started: dict[str, Server] = {}
    try:
        for name in names:
            server = Server(name, free_port(), root / name)
            server.data_dir.mkdir(parents=True)
            server.log_path = root / f"{name}.log"
            with server.log_path.open("wb") as log:
                server.process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "parvis.cli",
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(server.port),
                        "--no-access-log",
                        "--log-level",
                        "warning",
                    ],
                    env=_env(server, list(names)),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            started[name] = server
        for server in started.values():
            _wait_ready(server)
        yield started
    finally:
        for server in started.values():
            server.http.close()
            if server.process is not None:
                server.process.terminate()
        for server in started.values():
            if server.process is not None:
                try:
                    server.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.process.kill()
                    server.process.wait()


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"server {server.name} exited:\n{server.log()}")
        try:
            if server.http.get("/api/v1/instance").status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server {server.name} did not start:\n{server.log()}")


def eventually(check: Callable[[], T | None], what: str, *servers_: Server) -> T:
    """Poll `check` until it returns something truthy; fail with the servers' logs if federation
    does not settle within SETTLE_SECONDS (a bound on waiting, not a speed assertion)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name}.log\n{s.log()[-4000:]}" for s in servers_)
            raise AssertionError(f"federation did not settle: {what}\n{logs}")
        time.sleep(0.2)


def resolve(user: User, acct: str) -> dict[str, Any]:
    """Find a remote account the way apps do: a search that resolves through WebFinger."""
    r = user.get("/api/v2/search", params={"q": acct, "resolve": "true", "type": "accounts"})
    assert r.status_code == 200, r.text
    found = [a for a in r.json()["accounts"] if a["acct"].lower() == acct.lower()]
    assert found, f"{acct} not resolved: {r.json()}"
    return dict(found[0])


def resolve_status(user: User, url: str) -> dict[str, Any]:
    r = user.get("/api/v2/search", params={"q": url, "resolve": "true", "type": "statuses"})
    assert r.status_code == 200, r.text
    assert r.json()["statuses"], f"{url} not resolved"
    return dict(r.json()["statuses"][0])
