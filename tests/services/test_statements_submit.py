"""The Transparency Database submitter: at most 100 statements per call, every restriction sent
once, nothing else sent, retries that never send a statement twice (existing-puid checks after a
failure that may have stored it), refusals reported. The database is a fake behind
httpx2.MockTransport (outbound HTTP is the one thing tests fake)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from parvis.app import Parvis, build
from parvis.cli import app as cli
from parvis.config import Settings
from parvis.domain.ids import new_id
from parvis.domain.statements import validate
from parvis.services import statements
from parvis.services.context import Work
from parvis.storage.moderation import CaseRow, DecisionRow

ENDPOINT = "https://tdb.example"
TOKEN = "secret-token"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


# -- a decision, straight through storage -------------------------------------------------------


def add_decision(parvis: Parvis, **changes: Any) -> DecisionRow:
    """A decision row (with its case) as services.moderation.decide() writes it."""
    case_id = new_id()
    subject_id = new_id()
    action = changes.get("action", "remove")
    subject = "account" if action in ("warn", "suspend", "terminate") else "status"
    row = DecisionRow(
        id=new_id(),
        puid=f"parvis-{uuid.uuid4()}",
        case_id=case_id,
        subject_type=subject,
        subject_id=subject_id,
        account_id=None,
        status_id=subject_id if subject == "status" else None,
        action=action,
        ground="law",
        rule_id="",
        rule_version=None,
        legal_ground="Loi du 29 juillet 1881, art. 24 al. 7",
        explanation="Calls for hatred because of origin.",
        facts="A post was reported in 1 notice and reviewed by a human.",
        dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        keywords=("KEYWORD_HATE_SPEECH",),
        territorial_scope=(),
        content_type=("CONTENT_TYPE_TEXT",),
        content_language="FR",
        content_date=NOW - timedelta(days=1),
        label="",
        starts_at=NOW,
        ends_at=NOW + timedelta(days=7) if action == "suspend" else None,
        source_type="SOURCE_ARTICLE_16",
        source_identity="",
        automated_detection=False,
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        moderator_id=None,
        misuse="",
        created_at=NOW,
    )
    row = replace(row, **changes)
    case = CaseRow(
        id=case_id,
        subject_type=subject,
        subject_id=subject_id,
        account_id=None,
        state="decided",
        priority=2,
        opened_at=row.created_at,
        due_at=None,
        assignee_id=None,
        escalated=False,
        language="",
        open_notices=0,
        last_decision_id=row.id,
        updated_at=row.created_at,
    )

    def write(work: Work) -> None:
        work.store.cases.insert(case)
        work.store.decisions.insert(row)

    parvis.runtime.write(write)
    return row


def decision(parvis: Parvis, decision_id: int) -> DecisionRow:
    found = parvis.runtime.read(lambda work: work.store.decisions.get(decision_id))
    assert found is not None
    return found


# -- a fake Transparency Database ---------------------------------------------------------------


class FakeTdb:
    """Keeps what it stored; `script` holds what the next POSTs do instead of storing:
    an HTTP status, "store-then-500" (stores, then the answer is lost), or "drop" (no answer)."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.script: list[int | str] = []
        self.invalid: set[str] = set()  # PUIDs the database refuses (422)
        self.calls: list[tuple[str, str, int]] = []  # (method, path, statements sent)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx2.Response(401, json={"message": "Unauthenticated."})
        if request.method == "GET" and path.startswith("/api/v1/statement/existing-puid/"):
            self.calls.append(("GET", path, 0))
            puid = path.rsplit("/", 1)[1]
            if puid in self.stored:
                return httpx2.Response(302, json={"message": "statement of reason found"})
            return httpx2.Response(404, json={"message": "statement of reason not found"})
        assert (request.method, path) == ("POST", "/api/v1/statements")
        batch = json.loads(request.content)["statements"]
        self.calls.append(("POST", path, len(batch)))
        if not 1 <= len(batch) <= 100:
            return httpx2.Response(422, json={"errors": {"statements": ["between 1 and 100"]}})
        step = self.script.pop(0) if self.script else None
        if step == "drop":
            raise httpx2.ReadTimeout("no answer", request=request)
        if isinstance(step, int):
            return httpx2.Response(step, json={"message": "Server Error"})
        duplicates = [s["puid"] for s in batch if s["puid"] in self.stored]
        if duplicates:
            message = "The platform identifier(s) are not all unique within this call."
            return httpx2.Response(
                422,
                json={
                    "message": message,
                    "errors": {"puid": [message], "existing_puids": duplicates},
                },
            )
        errors = {
            f"statement_{i}": {"decision_facts": ["The decision facts field is required."]}
            for i, s in enumerate(batch)
            if s["puid"] in self.invalid or validate(s)
        }
        if errors:
            return httpx2.Response(422, json={"errors": errors})
        out = []
        for s in batch:
            self.stored[s["puid"]] = s
            out.append({**s, "uuid": f"uuid-{s['puid']}", "platform_name": "Parvis"})
        if step == "store-then-500":
            return httpx2.Response(500, json={"message": "Server Error"})
        return httpx2.Response(201, json={"statements": out})

    def posts(self) -> list[int]:
        return [n for method, _, n in self.calls if method == "POST"]


@pytest.fixture
def tdb() -> FakeTdb:
    return FakeTdb()


def submit(parvis: Parvis, tdb: FakeTdb, **kw: Any) -> statements.SubmitReport:
    naps: list[float] = kw.pop("naps", [])
    with statements.TdbClient(ENDPOINT, TOKEN, transport=tdb.transport()) as client:
        return statements.submit_pending(parvis.runtime, client, sleep=naps.append, **kw)


# -- the tests ----------------------------------------------------------------------------------


def test_every_restriction_is_sent_once_at_most_100_per_call(parvis: Parvis, tdb: FakeTdb) -> None:
    rows = [add_decision(parvis) for _ in range(230)]
    rows.append(add_decision(parvis, action="suspend"))
    others = [add_decision(parvis, action="none", ground=""), add_decision(parvis, action="warn")]
    report = submit(parvis, tdb)
    assert (report.submitted, report.already, report.refused, report.error) == (231, 0, {}, "")
    assert tdb.posts() == [100, 100, 31]
    assert set(tdb.stored) == {r.puid for r in rows}  # warnings and rejections are not sent
    for row in rows:
        done = decision(parvis, row.id)
        assert done.tdb_uuid == f"uuid-{row.puid}"
        assert done.tdb_submitted_at is not None
    for row in others:
        assert decision(parvis, row.id).tdb_submitted_at is None
    # Nothing is sent twice.
    again = submit(parvis, tdb)
    assert (again.submitted, tdb.posts()) == (0, [100, 100, 31])


def test_smaller_batches_and_progress(parvis: Parvis, tdb: FakeTdb) -> None:
    for _ in range(5):
        add_decision(parvis)
    seen: list[int] = []
    report = submit(parvis, tdb, batch_size=2, progress=seen.append)
    assert report.submitted == 5
    assert tdb.posts() == [2, 2, 1]
    assert seen == [2, 2, 1]
    with pytest.raises(ValueError, match="batch_size"):
        submit(parvis, tdb, batch_size=101)


def test_a_refused_statement_is_reported_and_the_rest_stored(parvis: Parvis, tdb: FakeTdb) -> None:
    rows = [add_decision(parvis) for _ in range(3)]
    tdb.invalid.add(rows[1].puid)
    report = submit(parvis, tdb)
    assert report.submitted == 2
    assert report.refused == {
        rows[1].puid: ["decision_facts: The decision facts field is required."]
    }
    assert not report.ok
    assert tdb.posts() == [3, 2]  # the rest resent at once: a 422 stores nothing
    assert decision(parvis, rows[1].id).tdb_submitted_at is None
    assert decision(parvis, rows[0].id).tdb_submitted_at is not None


def test_an_invalid_statement_is_never_sent(parvis: Parvis, tdb: FakeTdb) -> None:
    broken = add_decision(parvis, ground="rule", rule_id="", legal_ground="")
    fine = add_decision(parvis)
    report = submit(parvis, tdb)
    assert report.submitted == 1
    assert list(report.refused) == [broken.puid]
    assert any(p.startswith("incompatible_content_ground:") for p in report.refused[broken.puid])
    assert set(tdb.stored) == {fine.puid}


def test_statements_already_stored_are_marked_not_resent(parvis: Parvis, tdb: FakeTdb) -> None:
    rows = [add_decision(parvis) for _ in range(3)]
    # A previous run was stopped after the database stored one, before it was recorded here.
    tdb.stored[rows[0].puid] = {}
    report = submit(parvis, tdb)
    assert (report.submitted, report.already) == (2, 1)
    assert tdb.posts() == [3, 2]
    assert decision(parvis, rows[0].id).tdb_submitted_at is not None
    assert decision(parvis, rows[0].id).tdb_uuid == ""


def test_a_lost_answer_is_checked_before_resending(parvis: Parvis, tdb: FakeTdb) -> None:
    rows = [add_decision(parvis) for _ in range(3)]
    tdb.script = ["store-then-500"]
    naps: list[float] = []
    report = submit(parvis, tdb, naps=naps)
    assert (report.submitted, report.already, report.error) == (0, 3, "")
    gets = [c for c in tdb.calls if c[0] == "GET"]
    assert len(gets) == 3 and tdb.posts() == [3]  # checked each PUID, sent nothing twice
    assert naps == [1.0]
    assert all(decision(parvis, r.id).tdb_submitted_at is not None for r in rows)


def test_an_error_is_retried_with_backoff(parvis: Parvis, tdb: FakeTdb) -> None:
    rows = [add_decision(parvis) for _ in range(2)]
    tdb.script = [503, "drop", 502]
    naps: list[float] = []
    report = submit(parvis, tdb, naps=naps)
    assert report.submitted == 2 and report.ok
    assert naps == [1.0, 2.0, 4.0]
    assert tdb.posts() == [2, 2, 2, 2]
    assert len([c for c in tdb.calls if c[0] == "GET"]) == 6  # two PUIDs after each failure
    assert {decision(parvis, r.id).tdb_uuid for r in rows} == {f"uuid-{r.puid}" for r in rows}


def test_a_run_gives_up_and_the_next_one_finishes(parvis: Parvis, tdb: FakeTdb) -> None:
    rows = [add_decision(parvis) for _ in range(150)]
    tdb.script = [500, 500, 500, 500]
    report = submit(parvis, tdb)
    assert report.submitted == 0
    assert report.error == "gave up after 4 attempts (HTTP 500)"
    assert report.left == 150
    assert tdb.posts() == [100, 100, 100, 100]
    report = submit(parvis, tdb)
    assert (report.submitted, report.error) == (150, "")
    assert set(tdb.stored) == {r.puid for r in rows}


def test_a_bad_token_stops_the_run(parvis: Parvis, tdb: FakeTdb) -> None:
    add_decision(parvis)
    with statements.TdbClient(ENDPOINT, "wrong", transport=tdb.transport()) as client:
        report = statements.submit_pending(parvis.runtime, client, sleep=lambda _: None)
    assert report.error == "the Transparency Database refused the token (401)"
    assert report.left == 1 and not tdb.stored


def test_the_periodic_run_needs_an_endpoint(parvis: Parvis, tdb: FakeTdb) -> None:
    add_decision(parvis)
    assert statements.submit_configured(parvis.runtime, parvis.settings) is None
    configured = parvis.settings.model_copy(update={"tdb_endpoint": ENDPOINT, "tdb_token": TOKEN})
    report = statements.submit_configured(parvis.runtime, configured, transport=tdb.transport())
    assert report is not None and report.submitted == 1


def test_reversed_restrictions_are_still_submitted(parvis: Parvis, tdb: FakeTdb) -> None:
    row = add_decision(parvis, reversed_at=NOW + timedelta(days=2))
    assert submit(parvis, tdb).submitted == 1
    assert row.puid in tdb.stored


# -- the command --------------------------------------------------------------------------------


def test_cli_submit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_TDB_ENDPOINT", "PARVIS_TDB_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    result = runner.invoke(cli, [*base, "transparency", "submit", "--help"])
    assert result.exit_code == 0 and "Transparency Database" in result.output
    result = runner.invoke(cli, [*base, "transparency", "submit"])
    assert result.exit_code == 1
    assert "PARVIS_TDB_ENDPOINT" in result.output
    nowhere = ["--endpoint", "http://127.0.0.1:9", "--attempts", "1"]
    result = runner.invoke(cli, [*base, "transparency", "submit", *nowhere])
    assert result.exit_code == 0, result.output  # nothing to send: no call made
    assert "0 submitted, 0 already stored, 0 refused." in result.output
    # With a statement to send and nothing listening on port 9: a clear message, exit 1.
    instance = build(Settings(data_dir=tmp_path, jobs_immediate=True), migrate=True)
    try:
        add_decision(instance)
    finally:
        instance.close()
    result = runner.invoke(cli, [*base, "transparency", "submit", *nowhere])
    assert result.exit_code == 1, result.output
    assert "gave up after 1 attempts (ConnectError" in result.output
    assert "1 left for the next run" in result.output
