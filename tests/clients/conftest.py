"""A real Parvis served by uvicorn on loopback, for real client libraries (Mastodon.py, httpx2).

The server runs in a background thread of the test process, on a socket bound by the fixture
(so the port is known before the Parvis is built with it as its public domain). Jobs run inline
(`jobs_immediate=True`, the test default), so fan-out and notifications are done when a request
returns. One server per module and backend: the scripted sessions create their own users.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from parvis.app import Parvis, build, create_app
from tests.conftest import BACKENDS, POSTGRES_URL, make_settings, truncate_all


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    parvis: Parvis
    backend: str


@pytest.fixture(scope="module", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    backend = str(request.param)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    tmp_path = tmp_path_factory.mktemp(f"live-{backend}")
    overrides: dict[str, Any] = {"domain": f"127.0.0.1:{port}", "scheme": "http"}
    if backend == "postgres":
        truncate_all(request.getfixturevalue("postgres_db"))
        parvis = build(make_settings(tmp_path, database_url=POSTGRES_URL, **overrides))
    else:
        parvis = build(make_settings(tmp_path, **overrides), migrate=True)
    assert parvis.settings.jobs_immediate, "the client suites expect jobs to run inline"

    app = create_app(parvis, embedded_worker=False)
    # uvicorn installs signal handlers only in the main thread, so a thread is fine.
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            parvis.close()
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", parvis=parvis, backend=backend)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        # The app's lifespan shutdown closes the Parvis; closing again is harmless.
        parvis.close()
        assert not thread.is_alive(), "uvicorn did not stop"
