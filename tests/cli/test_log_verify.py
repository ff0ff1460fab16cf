"""`parvis log verify` against the in-process app (through an httpx2 transport): a log that
verifies, then a server that tampers with a row, re-signs a rewritten history, shrinks, or
changes its key between two runs — each caught, with exit code 1 and the reason."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis import cli
from parvis.app import Parvis, build, create_app
from parvis.cli import transparency as log_commands
from parvis.domain import merkle
from parvis.services import transparency_log as log
from tests.conftest import make_settings
from tests.services.test_transparency_log import append, appending, entry

URL = "https://parvis.test"
runner = CliRunner()


def transport_for(client: TestClient) -> httpx2.MockTransport:
    """Requests go to the app in this process, as if over the network."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        r = client.request(request.method, str(request.url), headers={"Accept": "*/*"})
        headers = {k: v for k, v in r.headers.items() if k.lower() != "content-encoding"}
        return httpx2.Response(r.status_code, headers=headers, content=r.content)

    return httpx2.MockTransport(handle)


@pytest.fixture
def served(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(log_commands, "log_transport", transport_for(client))
    yield


def verify(state: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["log", "verify", URL, "--state", str(state), *extra])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())


def sql(parvis: Parvis, statement: str, **params: object) -> None:
    with parvis.db.engine.begin() as conn:
        conn.execute(text(statement), params)


@pytest.mark.usefixtures("served")
def test_a_log_verifies_and_later_runs_check_it_only_grew(parvis: Parvis, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    append(parvis, 7)
    code, out = verify(state)
    assert code == 0, out
    assert "Verified parvis.test/transparency-log: 7 entries, 7 signed checkpoints" in out
    assert "First verification: the key parvis.test/transparency-log+" in out
    remembered = json.loads(state.read_text())
    assert remembered["tree_size"] == 7 and remembered["url"] == URL
    append(parvis, 5)
    code, out = verify(state)
    assert code == 0, out
    assert "12 entries" in out and "extends the log of 7 entries verified on" in out
    assert "First verification" not in out
    assert json.loads(state.read_text())["tree_size"] == 12


@pytest.mark.usefixtures("served")
def test_an_altered_entry_is_caught(parvis: Parvis, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    append(parvis, 6)
    assert verify(state)[0] == 0
    forged = merkle.canonical(entry(2, action="label")).decode()
    sql(parvis, "UPDATE transparency_log_entries SET data = :d WHERE idx = 2", d=forged)
    code, out = verify(state)
    assert code == 1
    assert "does not verify: entry 2 does not hash to its published leaf hash" in out


@pytest.mark.usefixtures("served")
def test_an_altered_entry_with_its_leaf_hash_is_caught(parvis: Parvis, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    append(parvis, 6)
    assert verify(state)[0] == 0
    data = merkle.canonical(entry(2, action="label"))
    sql(
        parvis,
        "UPDATE transparency_log_entries SET data = :d, leaf_hash = :h WHERE idx = 2",
        d=data.decode(),
        h=merkle.leaf_hash(data).hex(),
    )
    code, out = verify(state)
    assert code == 1
    # the server's own proofs are built from the forged hash: the signed roots refute them
    assert "checkpoint 3 does not extend checkpoint 2" in out


@pytest.mark.usefixtures("served")
def test_swapped_entries_are_caught(parvis: Parvis, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    append(parvis, 4)
    assert verify(state)[0] == 0
    sql(parvis, "UPDATE transparency_log_entries SET idx = idx + 100 WHERE idx IN (1, 2)")
    sql(parvis, "UPDATE transparency_log_entries SET idx = 2 WHERE idx = 101")
    sql(parvis, "UPDATE transparency_log_entries SET idx = 1 WHERE idx = 102")
    code, out = verify(state)
    assert code == 1 and "checkpoint 2 does not extend checkpoint 1" in out


@pytest.mark.usefixtures("served")
def test_a_deleted_entry_is_caught(parvis: Parvis, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    append(parvis, 4)
    assert verify(state)[0] == 0
    sql(parvis, "DELETE FROM transparency_log_entries WHERE idx = 3")
    code, out = verify(state)
    assert code == 1 and "answered 404 The log's storage lacks the hashes of entries 3 to 3" in out


def test_a_rewritten_and_re_signed_history_is_caught(tmp_path: Path) -> None:
    """The operator rebuilds the whole log without one decision and signs every checkpoint
    again with the same key: each checkpoint verifies on its own, but not against the root
    the previous run remembered."""
    state = tmp_path / "state.json"
    honest = build(make_settings(tmp_path / "a"), migrate=True)
    key = honest.settings.log_key_seed()
    with TestClient(create_app(honest, embedded_worker=False), base_url=URL) as client:
        log_commands.log_transport = transport_for(client)
        try:
            append(honest, 5)
            assert verify(state)[0] == 0
        finally:
            log_commands.log_transport = None
    honest.close()
    forger = build(
        make_settings(tmp_path / "b", log_signing_key=base64.b64encode(key).decode()),
        migrate=True,
    )
    for i in (0, 1, 3, 4, 5, 6):  # decision 2 is gone, and the log even grew
        forger.runtime.write(appending(i))
    with TestClient(create_app(forger, embedded_worker=False), base_url=URL) as client:
        log_commands.log_transport = transport_for(client)
        try:
            code, out = verify(state)
            assert code == 1
            assert "history was rewritten: the first 5 entries no longer hash to the root" in out
            fresh = tmp_path / "fresh.json"
            assert verify(fresh)[0] == 0  # a newcomer cannot tell: hence the state file
        finally:
            log_commands.log_transport = None
    forger.close()


@pytest.mark.usefixtures("served")
def test_a_log_that_shrank_is_caught(parvis: Parvis, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    append(parvis, 3)
    assert verify(state)[0] == 0
    saved = json.loads(state.read_text())
    state.write_text(json.dumps({**saved, "tree_size": 9}))
    code, out = verify(state)
    assert code == 1 and "the log shrank: it had 9 entries" in out


@pytest.mark.usefixtures("served")
def test_keys_pinned_and_remembered(parvis: Parvis, tmp_path: Path) -> None:
    append(parvis, 2)
    published = parvis.runtime.read(log.head).public_key
    code, out = verify(tmp_path / "pinned.json", "--key", published)
    assert code == 0 and "First verification" not in out
    other = merkle.verifier_key("parvis.test/transparency-log", merkle.public_key(bytes(32)))
    code, out = verify(tmp_path / "other.json", "--key", other)
    assert code == 1 and "a different key than the one given with --key" in out
    code, out = verify(tmp_path / "bad.json", "--key", "nonsense")
    assert code == 1 and "a key is <name>+<key id>+<base64 key>" in out
    state = tmp_path / "state.json"
    assert verify(state)[0] == 0
    saved = json.loads(state.read_text())
    state.write_text(json.dumps({**saved, "public_key": other}))
    code, out = verify(state)
    assert code == 1 and "the log's signing key changed since the run of" in out


@pytest.mark.usefixtures("served")
def test_a_forged_checkpoint_is_caught(parvis: Parvis, tmp_path: Path) -> None:
    append(parvis, 3)
    note = merkle.sign(merkle.Checkpoint("parvis.test/transparency-log", 2, bytes(32)), bytes(32))
    sql(parvis, "UPDATE transparency_log_checkpoints SET note = :n WHERE tree_size = 2", n=note)
    code, out = verify(tmp_path / "state.json")
    assert code == 1 and "the checkpoint is not signed by this key" in out


@pytest.mark.usefixtures("served")
def test_an_unreachable_or_wrong_server(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["log", "verify", "not a url"])
    assert result.exit_code == 1 and "is not a server address" in result.output
    cli_transport = log_commands.log_transport
    try:
        log_commands.log_transport = httpx2.MockTransport(lambda r: httpx2.Response(404, json={}))
        code, out = verify(tmp_path / "s.json")
        assert code == 1 and "/api/parvis/v1/transparency/log answered 404" in out
        log_commands.log_transport = httpx2.MockTransport(
            lambda r: httpx2.Response(200, text="<html>")
        )
        code, out = verify(tmp_path / "s.json")
        assert code == 1 and "did not answer JSON" in out
    finally:
        log_commands.log_transport = cli_transport


def test_help() -> None:
    result = runner.invoke(cli.app, ["log", "verify", "--help"])
    assert result.exit_code == 0
    assert "no past entry was altered" in " ".join(result.output.split())
