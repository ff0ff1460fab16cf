"""A real Parvis served by uvicorn on loopback, for real client libraries (Mastodon.py, httpx2).

The server runs in a background thread of the test process, on a socket bound by the fixture
(so the port is known before the Parvis is built with it as its public domain). Jobs run inline
(`jobs_immediate=True`, the test default), so fan-out and notifications are done when a request
returns. One server per module and backend: the scripted sessions create their own users.

An exception escaping the app (a 500) is kept, not logged by uvicorn from its thread: it is
printed after the test that caused it, from the main thread. Formatting a traceback in the
server thread while pytest formats the failing test's own traceback in the main thread trips a
CPython 3.11 race (both parse source with `ast` for the `^^^` markers) and pytest ends with an
INTERNALERROR "AST constructor recursion depth mismatch".
"""

from __future__ import annotations

import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from parvis.app import Parvis, build, create_app
from tests.conftest import BACKENDS, POSTGRES_URL, make_settings, truncate_all


class ErrorRecorder:
    """ASGI wrapper: keeps the exceptions that escape the app (Starlette has already answered
    500 by then) instead of letting uvicorn log them from the server thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.errors: list[tuple[str, BaseException]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self.errors.append((f"{scope['method']} {scope['path']}", exc))


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    parvis: Parvis
    backend: str
    recorder: ErrorRecorder = field(repr=False)


@pytest.fixture(scope="module", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    backend = str(request.param)
    # The database first: the PostgreSQL fixture may skip, and nothing is open yet.
    pg_db = request.getfixturevalue("postgres_db") if backend == "postgres" else None
    tmp_path = tmp_path_factory.mktemp(f"live-{backend}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    overrides: dict[str, Any] = {"domain": f"127.0.0.1:{port}", "scheme": "http"}
    if pg_db is not None:
        truncate_all(pg_db)
        parvis = build(make_settings(tmp_path, database_url=POSTGRES_URL, **overrides))
    else:
        parvis = build(make_settings(tmp_path, **overrides), migrate=True)
    assert parvis.settings.jobs_immediate, "the client suites expect jobs to run inline"
    parvis.runtime.http = None  # no network in tests

    recorder = ErrorRecorder(create_app(parvis, embedded_worker=False))
    # uvicorn installs signal handlers only in the main thread, so a thread is fine.
    server = uvicorn.Server(
        uvicorn.Config(recorder, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=5)
            sock.close()
            parvis.close()
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", parvis, backend, recorder)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        # The app's lifespan shutdown closes the Parvis; closing again is harmless.
        parvis.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture(autouse=True)
def _server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test on a live server, print the server-side tracebacks of its 500s (shown
    with the test's report when it fails)."""
    yield
    if "live_server" not in request.fixturenames:
        return
    server: LiveServer = request.getfixturevalue("live_server")
    errors, server.recorder.errors[:] = list(server.recorder.errors), []
    for where, exc in errors:
        print(f"--- server error on {where}", file=sys.stderr)
        traceback.print_exception(exc, file=sys.stderr)
