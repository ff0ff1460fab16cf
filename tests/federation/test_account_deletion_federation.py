"""Account deletion between two real Parvis servers on loopback (loopback.py): a person on
server B follows one on server A; the one on A deletes their account; once the grace has
passed, A's erasure job sends Delete of the actor, signed with its key, and B erases its copy
of the account and of its posts.

A's job is run here, in this process, on A's own data directory and settings, with a clock
past the grace (A's server process keeps running beside it: SQLite takes both); what it sends
goes over loopback to B's real inbox, which B's embedded worker processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from parvis.app import build
from parvis.config import Settings
from parvis.jobs.http import HttpClient
from parvis.jobs.runtime import run_job
from tests.federation.loopback import Server, eventually, resolve, servers

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    with servers(tmp_path_factory.mktemp("deletion"), "a", "b") as started:
        yield started


def _run_erasure_of(server: Server, names: list[str], days: int) -> None:
    """A's erase_accounts job, with A's settings, `days` from now, until nothing is left."""
    settings = Settings(
        data_dir=Path(server.data_dir),
        domain=server.domain,
        scheme="http",
        federation_allow_private=True,
        federation_resolve={f"{n}.test": "127.0.0.1" for n in names},
        jobs_immediate=True,
        embedded_worker=False,
    )
    later = datetime.now(UTC) + timedelta(days=days)
    parvis = build(settings, clock=lambda: later)
    http = HttpClient(settings)  # signs with the real time
    parvis.runtime.http = http
    try:
        for _ in range(10):
            run_job(parvis.runtime, "erase_accounts", {})
            if not server.query("SELECT account_id FROM account_tombstones"):
                return
        raise AssertionError("the erasure did not finish")
    finally:
        http.close()
        parvis.close()


def test_a_follower_on_another_server_erases_its_copy(net: dict[str, Server]) -> None:
    a, b = net["a"], net["b"]
    zed = a.user("zed_leaves")
    bea = b.user("bea_stays")
    remote = resolve(bea, f"zed_leaves@{a.domain}")
    r = bea.post(f"/api/v1/accounts/{remote['id']}/follow")
    assert r.status_code == 200, r.text
    eventually(
        lambda: a.query("SELECT 1 FROM follows WHERE target_account_id = ?", int(zed.id)),
        "A records B's follow",
        a,
        b,
    )
    post = zed.status("zedpost words from far away")
    uri = f"http://{a.domain}/users/zed_leaves"
    eventually(
        lambda: b.query("SELECT 1 FROM statuses WHERE uri = ?", post["uri"]),
        "B gets the post",
        a,
        b,
    )
    assert b.query("SELECT 1 FROM accounts WHERE uri = ?", uri)

    r = zed.post("/api/parvis/v1/account/deletion", json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    path = urlsplit(post["uri"]).path
    hidden = a.http.get(path, headers={"Accept": "application/activity+json"})
    assert hidden.status_code == 404  # closed: its posts are hidden, the account not yet gone
    assert b.query("SELECT 1 FROM statuses WHERE uri = ?", post["uri"])  # nothing sent yet

    _run_erasure_of(a, ["a", "b"], days=31)
    delivered = a.query("SELECT 1 FROM federation_deliveries")
    assert delivered == []  # the tombstone went with its delivered Delete
    eventually(
        lambda: not b.query("SELECT 1 FROM accounts WHERE uri = ?", uri),
        "B erases the account",
        a,
        b,
    )
    assert not b.query("SELECT 1 FROM statuses WHERE uri = ?", post["uri"])
    assert not b.query("SELECT 1 FROM follows WHERE account_id = ?", int(bea.id))
    assert b.query("SELECT 1 FROM accounts WHERE id = ?", int(bea.id))  # B's own people stay
    gone = a.http.get("/users/zed_leaves", headers={"Accept": "application/activity+json"})
    assert gone.status_code == 410
    home = bea.get("/api/v1/timelines/home")
    assert home.status_code == 200 and all(s["uri"] != post["uri"] for s in home.json())
