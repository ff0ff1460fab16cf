"""Statements of reasons (DSA Art. 17): for one decision, the public export in the DSA
Transparency Database schema, and the submitter that sends them to the database (Art. 24(5)).

The submitter never holds a transaction open while it talks to the database: it reads a batch
(at most 100, the API's limit per call) in one unit of work, sends it, and records what was
stored in another. It is idempotent: a statement is marked submitted only once the database
answered 201 for it or confirmed it holds its PUID; before resending a batch after an error that
may have stored it (a 5xx, a timeout), it asks `GET /api/v1/statement/existing-puid/{puid}`
for each one (302: already stored). A 422 stores nothing (the call is atomic): statements the
database refused are reported and skipped, those it already holds are marked, and the rest are
sent again at once. Other failures are retried with exponential backoff; after the last attempt
the run stops and the next run (every 10 minutes, see jobs/queue.py) starts over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx2

from parvis.config import Settings
from parvis.domain import statements
from parvis.domain.errors import Invalid, NotFound
from parvis.domain.statements import DecisionFields, Statement
from parvis.services.context import Work
from parvis.storage.moderation import DecisionRow

T = TypeVar("T")
log = logging.getLogger("parvis.transparency")

BATCH = 100  # the Transparency Database takes at most 100 statements per call
PAGE = 100  # the public export's default page


class UnitsOfWork(Protocol):
    """What runs use cases (jobs.runtime.Runtime): the submitter opens several, one at a time."""

    def read(self, use_case: Callable[[Work], T]) -> T: ...

    def write(self, use_case: Callable[[Work], T]) -> T: ...


# -- one decision -------------------------------------------------------------------------------


def fields_of(row: DecisionRow, rule_text: str = "") -> DecisionFields:
    return DecisionFields(
        puid=row.puid,
        action=row.action,
        ground=row.ground,
        dsa_category=row.dsa_category,
        content_date=row.content_date,
        starts_at=row.starts_at,
        source_type=row.source_type,
        subject_type=row.subject_type,
        legal_ground=row.legal_ground,
        rule_id=row.rule_id,
        rule_version=row.rule_version,
        rule_text=rule_text,
        explanation=row.explanation,
        facts=row.facts,
        keywords=row.keywords,
        territorial_scope=row.territorial_scope,
        content_type=row.content_type,
        content_language=row.content_language,
        label=row.label,
        ends_at=row.ends_at,
        source_identity=row.source_identity,
        automated_detection=row.automated_detection,
        automated_decision=row.automated_decision,
        created_at=row.created_at,
        notified_at=row.notified_at,
        reversed_at=row.reversed_at,
    )


def _fields(work: Work, rows: list[DecisionRow]) -> list[DecisionFields]:
    cited = {(r.rule_id, r.rule_version) for r in rows if r.ground == "rule" and r.rule_id}
    texts = work.store.statements.rule_texts(cited)
    return [fields_of(r, texts.get((r.rule_id, r.rule_version), "")) for r in rows]


def _decision(work: Work, decision_id: int) -> DecisionRow:
    row = work.store.decisions.get(decision_id)
    if row is None:
        raise NotFound("no such decision")
    return row


def for_decision(work: Work, decision_id: int) -> dict[str, object]:
    """The statement of reasons of a restriction, in the Transparency Database schema."""
    row = _decision(work, decision_id)
    if not statements.is_restriction(row.action):
        raise NotFound("this decision restricts nothing: it has no statement of reasons")
    return statements.from_decision(_fields(work, [row])[0])


def by_puid(work: Work, puid: str) -> dict[str, object]:
    row = work.store.decisions.by_puid(puid)
    if row is None or not statements.is_restriction(row.action):
        raise NotFound("no statement of reasons with this identifier")
    return statements.from_decision(_fields(work, [row])[0])


def explain(work: Work, decision_id: int) -> Statement:
    """What the author is told about a decision (the web page and the notification)."""
    row = _decision(work, decision_id)
    return statements.explain(
        _fields(work, [row])[0], out_of_court_bodies=work.settings.dispute_bodies
    )


# -- the public export --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportPage:
    statements: list[dict[str, object]]
    reversed: list[str]  # PUIDs of the statements whose decision was later reversed on appeal
    next_cursor: str | None  # the last PUID of this page when there may be more


def export(
    work: Work,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = PAGE,
) -> ExportPage:
    """Statements of reasons of the restrictions decided in [since, until), oldest first,
    reversed ones included (a reversal does not unmake the statement; it is listed apart)."""
    if not 1 <= limit <= 1000:
        raise Invalid("limit must be between 1 and 1000")
    if since is not None and until is not None and until <= since:
        raise Invalid("until must come after since")
    after_id = 0
    if cursor:
        found = work.store.decisions.by_puid(cursor)
        if found is None:
            raise Invalid("unknown cursor")
        after_id = found.id
    rows = work.store.statements.restrictions(
        since=since, until=until, after_id=after_id, limit=limit
    )
    sors = [statements.from_decision(f) for f in _fields(work, rows)]
    return ExportPage(
        statements=sors,
        reversed=[r.puid for r in rows if r.reversed_at is not None],
        next_cursor=rows[-1].puid if len(rows) == limit else None,
    )


# -- the Transparency Database ------------------------------------------------------------------


class TdbClient:
    """The Transparency Database API (v1 paths, schema v2), with an injectable transport."""

    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        transport: httpx2.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.http = httpx2.Client(
            base_url=endpoint.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": "Parvis (statements of reasons)",
            },
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
        )

    def submit(self, batch: list[dict[str, object]]) -> httpx2.Response:
        return self.http.post("/api/v1/statements", json={"statements": batch})

    def exists(self, puid: str) -> bool | None:
        """True if the database holds this PUID, False if not, None if it could not tell."""
        try:
            r = self.http.get(f"/api/v1/statement/existing-puid/{quote(puid, safe='')}")
        except httpx2.TransportError:
            return None
        return {302: True, 404: False}.get(r.status_code)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TdbClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class SubmitReport:
    submitted: int = 0  # stored by this run (201)
    already: int = 0  # found already stored (a previous run, or an answer that was lost)
    refused: dict[str, list[str]] = field(default_factory=dict)  # PUID -> problems
    left: int = 0  # still to send: the run stopped early
    error: str = ""  # why the run stopped early

    @property
    def ok(self) -> bool:
        return not self.error and not self.refused


@dataclass(frozen=True)
class _Item:
    decision_id: int
    puid: str
    sor: dict[str, object]


class _Stop(Exception):
    """The database cannot take statements now (bad token, down): end the run."""


def submit_pending(
    units: UnitsOfWork,
    client: TdbClient,
    *,
    batch_size: int = BATCH,
    attempts: int = 4,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int], None] | None = None,
) -> SubmitReport:
    """Send every restriction not yet in the Transparency Database, `batch_size` (≤ 100) per
    call, oldest first; returns what happened. `progress(n)` is told of each batch handled."""
    if not 1 <= batch_size <= BATCH:
        raise ValueError(f"batch_size must be between 1 and {BATCH}")
    report = SubmitReport()
    after_id = 0
    while True:
        rows = units.read(partial(_pending, after_id=after_id, limit=batch_size))
        if not rows:
            return report
        after_id = rows[-1].decision_id
        batch: list[_Item] = []
        for item in rows:
            problems = statements.validate(item.sor)
            if problems:  # never send what the database would refuse
                report.refused[item.puid] = problems
            else:
                batch.append(item)
        stored: dict[int, str] = {}
        error = ""
        try:
            _send(client, batch, stored, report, attempts, backoff, sleep)
        except _Stop as stop:
            error = str(stop)
        if stored:
            units.write(partial(_record, stored=stored))
        if progress is not None:
            progress(len(rows))
        if error:
            report.error = error
            unsent = units.read(lambda w: w.store.statements.count_unsubmitted())
            report.left = max(0, unsent - len(report.refused))
            log.warning("statements of reasons: %s; %d left to send", error, report.left)
            return report


def _pending(work: Work, after_id: int, limit: int) -> list[_Item]:
    rows = work.store.statements.unsubmitted(after_id=after_id, limit=limit)
    return [
        _Item(r.id, r.puid, statements.from_decision(f))
        for r, f in zip(rows, _fields(work, rows), strict=True)
    ]


def _record(work: Work, stored: Mapping[int, str]) -> None:
    now = work.now()
    for decision_id, uuid in stored.items():
        work.store.decisions.update(decision_id, {"tdb_submitted_at": now, "tdb_uuid": uuid})


def _send(
    client: TdbClient,
    batch: list[_Item],
    stored: dict[int, str],
    report: SubmitReport,
    attempts: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> None:
    """Send `batch` until every statement is stored or refused; fills `stored` (decision id ->
    the database's uuid, "" when only its PUID was confirmed). A 422 is answered at once (it
    removes at least one statement from the batch); a failure that may have stored the batch
    is retried after a pause, once the PUIDs already stored are set aside. Raises _Stop when
    the database cannot take the batch now."""
    pending = list(batch)
    failures = 0
    last = ""
    while pending:
        if failures:
            if failures >= attempts:
                raise _Stop(f"gave up after {attempts} attempts ({last})")
            sleep(backoff ** (failures - 1))
            pending = _not_stored(client, pending, stored, report)
            if not pending:
                return
        try:
            r = client.submit([i.sor for i in pending])
        except httpx2.TransportError as exc:
            failures, last = failures + 1, f"{type(exc).__name__}: {exc}"
            continue
        if r.status_code == 201:
            uuids = _uuids(r)
            for item in pending:
                stored[item.decision_id] = uuids.get(item.puid, "")
                report.submitted += 1
            return
        if r.status_code in (401, 403):
            raise _Stop(f"the Transparency Database refused the token ({r.status_code})")
        if r.status_code == 422:  # nothing of the call was stored
            pending = _refused(r, pending, stored, report)
            continue
        failures, last = failures + 1, f"HTTP {r.status_code}"


def _not_stored(
    client: TdbClient, pending: list[_Item], stored: dict[int, str], report: SubmitReport
) -> list[_Item]:
    """Those of `pending` the database does not hold (or cannot say it holds)."""
    left = []
    for item in pending:
        if client.exists(item.puid):
            stored[item.decision_id] = ""
            report.already += 1
        else:
            left.append(item)
    return left


def _uuids(r: httpx2.Response) -> dict[str, str]:
    try:
        body = r.json()
        return {
            str(s["puid"]): str(s.get("uuid", ""))
            for s in body.get("statements", [])
            if isinstance(s, dict) and "puid" in s
        }
    except (ValueError, AttributeError):
        return {}


def _refused(
    r: httpx2.Response, pending: list[_Item], stored: dict[int, str], report: SubmitReport
) -> list[_Item]:
    """What is left to send after a 422: drop the statements the database refused (reported)
    and those it already holds (marked stored)."""
    body: Any = None
    errors: Mapping[str, Any] = {}
    try:
        body = r.json()
        errors = body.get("errors") or {}
    except (ValueError, AttributeError):
        pass
    existing = {str(p) for p in errors.get("existing_puids") or ()}
    refused: dict[int, list[str]] = {}
    for key, problems in errors.items():
        if key.startswith("statement_") and key.removeprefix("statement_").isdigit():
            index = int(key.removeprefix("statement_"))
            if index < len(pending):
                refused[index] = _messages(problems)
    left = [i for n, i in enumerate(pending) if i.puid not in existing and n not in refused]
    if len(left) == len(pending):  # the call as a whole was refused: nothing to retry
        for item in pending:
            report.refused[item.puid] = [f"refused (HTTP 422): {str(body)[:500]}"]
        return []
    for index, item in enumerate(pending):
        if item.puid in existing:
            stored[item.decision_id] = ""
            report.already += 1
        elif index in refused:
            report.refused[item.puid] = refused[index]
    return left


def _messages(problems: Any) -> list[str]:
    if isinstance(problems, Mapping):
        return [f"{k}: {m}" for k, ms in problems.items() for m in _as_list(ms)]
    return [str(m) for m in _as_list(problems)]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def submit_configured(
    units: UnitsOfWork, settings: Settings, *, transport: httpx2.BaseTransport | None = None
) -> SubmitReport | None:
    """The periodic run: submit when an endpoint is configured (None when it is not)."""
    if not settings.tdb_endpoint:
        return None
    with TdbClient(settings.tdb_endpoint, settings.tdb_token, transport=transport) as client:
        report = submit_pending(units, client)
    if report.submitted or report.already or report.refused:
        log.info(
            "statements of reasons: %d submitted, %d already stored, %d refused",
            report.submitted,
            report.already,
            len(report.refused),
        )
    return report
