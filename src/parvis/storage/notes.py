"""Community notes (issue 8): notes on posts, their ratings, the scorer's output (statuses with
their history, raters' parameters) and the scoring runs with the warm-start state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, case, delete, func, insert, select, union_all, update
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.bulk import insert_rows, update_rows
from parvis.storage.tables import (
    community_note_raters,
    community_note_ratings,
    community_note_runs,
    community_note_status_changes,
    community_notes,
)

HELPFUL = "CURRENTLY_RATED_HELPFUL"
BATCH = 1000


@dataclass(frozen=True)
class NoteRow:
    id: int
    uri: str
    status_id: int
    author_id: int
    classification: str
    reasons: tuple[str, ...]
    summary: str
    sources: tuple[str, ...]
    language: str
    created_at: datetime
    rating_status: str
    intercept: float | None
    factor: float | None
    status_changed_at: datetime | None
    first_status: str
    first_status_at: datetime | None
    latest_status: str
    latest_status_at: datetime | None


@dataclass(frozen=True)
class RatingRow:
    note_id: int
    rater_id: int
    helpfulness: str
    tags: tuple[str, ...]
    uri: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StatusChange:
    id: int
    note_id: int
    status: str
    intercept: float | None
    factor: float | None
    run_id: int | None
    changed_at: datetime


@dataclass(frozen=True)
class RunRow:
    id: int
    started_at: datetime
    finished_at: datetime
    trigger: str
    ratings: int
    ratings_fitted: int
    notes: int
    raters: int
    helpful: int
    not_helpful: int
    needs_more_ratings: int
    epochs: int
    converged: bool
    warm_started: bool
    loss: float


@dataclass(frozen=True)
class Sides:
    """A note's ratings by answer and by the rater's side of the axis (the sign of the rater's
    factor in the latest run): what "rated helpful by people who usually disagree" rests on."""

    helpful: tuple[int, int, int]  # (side −, side +, raters outside the fit)
    somewhat: tuple[int, int, int]
    not_helpful: tuple[int, int, int]

    @property
    def total(self) -> int:
        return sum(self.helpful) + sum(self.somewhat) + sum(self.not_helpful)

    @property
    def in_fit(self) -> int:
        """Ratings by raters who are in the latest fit (a side known)."""
        return self.total - self.helpful[2] - self.somewhat[2] - self.not_helpful[2]


@dataclass(frozen=True)
class ScorerInput:
    """Every rating as columns: note id, rater account id, value in the model."""

    note_ids: list[int]
    rater_ids: list[int]
    values: list[float]


def _note(m: Any) -> NoteRow:
    values = dict(m)
    values["reasons"] = tuple(orjson.loads(values["reasons"]))
    values["sources"] = tuple(orjson.loads(values["sources"]))
    return NoteRow(**values)


def _rating(m: Any) -> RatingRow:
    values = dict(m)
    values["tags"] = tuple(orjson.loads(values["tags"]))
    return RatingRow(**values)


def _json(values: Sequence[str]) -> str:
    return orjson.dumps(list(values)).decode()


class NoteStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- notes ---------------------------------------------------------------------------------

    def insert(self, row: NoteRow) -> None:
        values = dict(row.__dict__)
        values["reasons"] = _json(row.reasons)
        values["sources"] = _json(row.sources)
        self.conn.execute(insert(community_notes).values(**values))

    def get(self, note_id: int) -> NoteRow | None:
        m = (
            self.conn.execute(select(community_notes).where(community_notes.c.id == note_id))
            .mappings()
            .first()
        )
        return _note(m) if m else None

    def by_uri(self, uri: str) -> NoteRow | None:
        m = (
            self.conn.execute(select(community_notes).where(community_notes.c.uri == uri))
            .mappings()
            .first()
        )
        return _note(m) if m else None

    def of_status(self, status_id: int) -> list[NoteRow]:
        """Every note on a post: helpful ones first, then by intercept, then newest."""
        rows = self.conn.execute(
            select(community_notes)
            .where(community_notes.c.status_id == status_id)
            .order_by(
                (community_notes.c.rating_status == HELPFUL).desc(),
                func.coalesce(community_notes.c.intercept, -1.0).desc(),
                community_notes.c.id.desc(),
            )
        ).mappings()
        return [_note(m) for m in rows]

    def shown_on(self, status_ids: Sequence[int]) -> dict[int, NoteRow]:
        """The note shown on each of these posts: the helpful one with the highest intercept.
        One query for a page of posts."""
        if not status_ids:
            return {}
        rows = self.conn.execute(
            select(community_notes)
            .where(
                community_notes.c.status_id.in_(list(status_ids)),
                community_notes.c.rating_status == HELPFUL,
            )
            .order_by(community_notes.c.intercept.desc(), community_notes.c.id)
        ).mappings()
        shown: dict[int, NoteRow] = {}
        for m in rows:
            shown.setdefault(m["status_id"], _note(m))
        return shown

    def by_author_on(self, author_id: int, status_id: int) -> NoteRow | None:
        m = (
            self.conn.execute(
                select(community_notes).where(
                    community_notes.c.author_id == author_id,
                    community_notes.c.status_id == status_id,
                )
            )
            .mappings()
            .first()
        )
        return _note(m) if m else None

    def written_since(self, author_id: int, since: datetime) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(
                    community_notes.c.author_id == author_id,
                    community_notes.c.created_at >= since,
                )
            ).scalar_one()
        )

    def of_author(
        self, author_id: int, limit: int = 40, max_id: int | None = None
    ) -> list[NoteRow]:
        query = select(community_notes).where(community_notes.c.author_id == author_id)
        if max_id is not None:
            query = query.where(community_notes.c.id < max_id)
        rows = self.conn.execute(query.order_by(community_notes.c.id.desc()).limit(limit))
        return [_note(m) for m in rows.mappings()]

    def needing_ratings(
        self, rater_id: int, limit: int = 20, max_id: int | None = None
    ) -> list[NoteRow]:
        """Notes that need more ratings, not written and not yet rated by this rater, newest
        first."""
        rated = select(community_note_ratings.c.note_id).where(
            community_note_ratings.c.rater_id == rater_id
        )
        query = select(community_notes).where(
            community_notes.c.rating_status == "NEEDS_MORE_RATINGS",
            community_notes.c.author_id != rater_id,
            community_notes.c.id.not_in(rated),
        )
        if max_id is not None:
            query = query.where(community_notes.c.id < max_id)
        rows = self.conn.execute(query.order_by(community_notes.c.id.desc()).limit(limit))
        return [_note(m) for m in rows.mappings()]

    def delete(self, note_id: int) -> None:
        self.conn.execute(delete(community_notes).where(community_notes.c.id == note_id))

    def iter_notes(self) -> Iterator[NoteRow]:
        """Every note, oldest first, in batches."""
        after = -1
        while True:
            batch = self.notes_after(after, BATCH)
            yield from batch
            if len(batch) < BATCH:
                return
            after = batch[-1].id

    def notes_after(self, after: int, limit: int) -> list[NoteRow]:
        """The next `limit` notes by id after `after` (the public export, a page at a time)."""
        rows = self.conn.execute(
            select(community_notes)
            .where(community_notes.c.id > after)
            .order_by(community_notes.c.id)
            .limit(limit)
        ).mappings()
        return [_note(m) for m in rows]

    def status_ids_of(self, note_ids: Sequence[int]) -> dict[int, int]:
        """The post of each note."""
        if not note_ids:
            return {}
        rows = self.conn.execute(
            select(community_notes.c.id, community_notes.c.status_id).where(
                community_notes.c.id.in_(list(set(note_ids)))
            )
        ).all()
        return {n: s for n, s in rows}

    def rating_counts(self, note_ids: Sequence[int]) -> dict[int, int]:
        """How many ratings each note has (0 included)."""
        counts = dict.fromkeys(note_ids, 0)
        if note_ids:
            rows = self.conn.execute(
                select(community_note_ratings.c.note_id, func.count())
                .where(community_note_ratings.c.note_id.in_(list(set(note_ids))))
                .group_by(community_note_ratings.c.note_id)
            ).all()
            counts.update({n: int(c) for n, c in rows})
        return counts

    def participants_after(self, after: int, limit: int) -> list[tuple[int, datetime]]:
        """Accounts that wrote or rated a note, by id after `after`, each with the time of its
        first note or rating (the public userEnrollment export)."""
        both = union_all(
            select(
                community_notes.c.author_id.label("account_id"),
                community_notes.c.created_at.label("at"),
            ),
            select(
                community_note_ratings.c.rater_id.label("account_id"),
                community_note_ratings.c.created_at.label("at"),
            ),
        ).subquery()
        rows = self.conn.execute(
            select(both.c.account_id, func.min(both.c.at))
            .where(both.c.account_id > after)
            .group_by(both.c.account_id)
            .order_by(both.c.account_id)
            .limit(limit)
        ).all()
        return [(int(a), at) for a, at in rows]

    # -- ratings -------------------------------------------------------------------------------

    def rate(
        self,
        note_id: int,
        rater_id: int,
        helpfulness: str,
        tags: Sequence[str],
        now: datetime,
        uri: str | None = None,
    ) -> RatingRow:
        """Adds or replaces the rater's rating of the note."""
        where = and_(
            community_note_ratings.c.note_id == note_id,
            community_note_ratings.c.rater_id == rater_id,
        )
        done = self.conn.execute(
            update(community_note_ratings)
            .where(where)
            .values(helpfulness=helpfulness, tags=_json(tags), updated_at=now, uri=uri)
        )
        if not done.rowcount:
            self.conn.execute(
                insert(community_note_ratings).values(
                    note_id=note_id,
                    rater_id=rater_id,
                    helpfulness=helpfulness,
                    tags=_json(tags),
                    uri=uri,
                    created_at=now,
                    updated_at=now,
                )
            )
        found = self.rating(note_id, rater_id)
        assert found is not None
        return found

    def rating(self, note_id: int, rater_id: int) -> RatingRow | None:
        m = (
            self.conn.execute(
                select(community_note_ratings).where(
                    community_note_ratings.c.note_id == note_id,
                    community_note_ratings.c.rater_id == rater_id,
                )
            )
            .mappings()
            .first()
        )
        return _rating(m) if m else None

    def ratings_by(self, rater_id: int, note_ids: Sequence[int]) -> dict[int, RatingRow]:
        if not note_ids:
            return {}
        rows = self.conn.execute(
            select(community_note_ratings).where(
                community_note_ratings.c.rater_id == rater_id,
                community_note_ratings.c.note_id.in_(list(note_ids)),
            )
        ).mappings()
        return {m["note_id"]: _rating(m) for m in rows}

    def unrate(self, note_id: int, rater_id: int) -> bool:
        done = self.conn.execute(
            delete(community_note_ratings).where(
                community_note_ratings.c.note_id == note_id,
                community_note_ratings.c.rater_id == rater_id,
            )
        )
        return bool(done.rowcount)

    def ratings_since(self, rater_id: int, since: datetime) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(
                    community_note_ratings.c.rater_id == rater_id,
                    community_note_ratings.c.created_at >= since,
                )
            ).scalar_one()
        )

    def sides(self, note_ids: Sequence[int]) -> dict[int, Sides]:
        """Each note's ratings by answer and by the rater's side, in one query."""
        if not note_ids:
            return {}
        side = func.coalesce(func.sign(community_note_raters.c.factor), 0)
        rows = self.conn.execute(
            select(
                community_note_ratings.c.note_id,
                community_note_ratings.c.helpfulness,
                side.label("side"),
                func.count().label("n"),
            )
            .select_from(
                community_note_ratings.outerjoin(
                    community_note_raters,
                    and_(
                        community_note_raters.c.account_id == community_note_ratings.c.rater_id,
                        community_note_raters.c.factor.is_not(None),
                    ),
                )
            )
            .where(community_note_ratings.c.note_id.in_(list(note_ids)))
            .group_by(community_note_ratings.c.note_id, community_note_ratings.c.helpfulness, side)
        ).all()
        counts: dict[int, dict[str, list[int]]] = {
            n: {h: [0, 0, 0] for h in ("HELPFUL", "SOMEWHAT_HELPFUL", "NOT_HELPFUL")}
            for n in note_ids
        }
        for note_id, helpfulness, sign, n in rows:
            slot = {-1: 0, 1: 1}.get(int(sign), 2)
            counts[note_id][helpfulness][slot] += int(n)
        return {
            n: Sides(
                helpful=tuple(c["HELPFUL"]),  # type: ignore[arg-type]
                somewhat=tuple(c["SOMEWHAT_HELPFUL"]),  # type: ignore[arg-type]
                not_helpful=tuple(c["NOT_HELPFUL"]),  # type: ignore[arg-type]
            )
            for n, c in counts.items()
        }

    def iter_ratings(self) -> Iterator[RatingRow]:
        """Every rating, by note then rater, in batches."""
        after = (-1, -1)
        while True:
            batch = self.ratings_after(after, BATCH)
            yield from batch
            if len(batch) < BATCH:
                return
            after = (batch[-1].note_id, batch[-1].rater_id)

    def ratings_after(self, after: tuple[int, int], limit: int) -> list[RatingRow]:
        """The next `limit` ratings by (note, rater) after `after` (the public export)."""
        rows = self.conn.execute(
            select(community_note_ratings)
            .where(
                (community_note_ratings.c.note_id > after[0])
                | and_(
                    community_note_ratings.c.note_id == after[0],
                    community_note_ratings.c.rater_id > after[1],
                )
            )
            .order_by(community_note_ratings.c.note_id, community_note_ratings.c.rater_id)
            .limit(limit)
        ).mappings()
        return [_rating(m) for m in rows]

    def scorer_input(self) -> ScorerInput:
        """Every rating as three columns, its value in the model (1, ½, 0) computed by the
        database: a million ratings read in a few seconds."""
        value = case(
            (community_note_ratings.c.helpfulness == "HELPFUL", 1.0),
            (community_note_ratings.c.helpfulness == "SOMEWHAT_HELPFUL", 0.5),
            else_=0.0,
        )
        statement = select(
            community_note_ratings.c.note_id, community_note_ratings.c.rater_id, value
        ).compile(dialect=self.conn.dialect, compile_kwargs={"literal_binds": True})
        # The driver's plain tuples: SQLAlchemy's row objects would double the cost.
        cursor = self.conn.exec_driver_sql(str(statement)).cursor
        assert cursor is not None
        rows = cursor.fetchall()
        return ScorerInput(
            note_ids=[r[0] for r in rows],
            rater_ids=[r[1] for r in rows],
            values=[float(r[2]) for r in rows],
        )

    def classifications(self) -> dict[int, bool]:
        """Every note: whether it says its post is misleading (notes with no rating too)."""
        rows = self.conn.execute(
            select(community_notes.c.id, community_notes.c.classification)
        ).all()
        return {i: c != "NOT_MISLEADING" for i, c in rows}

    def fingerprint(self) -> str:
        """What changes whenever the scorer's input does: the number of ratings and of notes,
        the latest rating change."""
        n, latest = self.conn.execute(
            select(func.count(), func.max(community_note_ratings.c.updated_at))
        ).one()
        notes = self.conn.execute(select(func.count()).select_from(community_notes)).scalar_one()
        return f"{n}:{notes}:{latest.isoformat() if latest else ''}"

    # -- the scorer's output -------------------------------------------------------------------

    def apply_statuses(self, updates: Sequence[Mapping[str, Any]]) -> None:
        """Sets the scorer's output on notes: each mapping has `note_id` and the columns."""
        if not updates:
            return
        columns = [k for k in updates[0] if k != "note_id"]
        rows = [(*(u[c] for c in columns), u["note_id"]) for u in updates]
        update_rows(self.conn, community_notes, "id", columns, rows)

    def record_changes(self, changes: Sequence[StatusChange]) -> None:
        for start in range(0, len(changes), BATCH):
            self.conn.execute(
                insert(community_note_status_changes),
                [c.__dict__ for c in changes[start : start + BATCH]],
            )

    def history(self, note_id: int) -> list[StatusChange]:
        rows = self.conn.execute(
            select(community_note_status_changes)
            .where(community_note_status_changes.c.note_id == note_id)
            .order_by(
                community_note_status_changes.c.changed_at, community_note_status_changes.c.id
            )
        ).mappings()
        return [StatusChange(**m) for m in rows]

    def replace_raters(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.conn.execute(delete(community_note_raters))
        if rows:
            columns = list(rows[0])
            values = [tuple(r[c] for c in columns) for r in rows]
            insert_rows(self.conn, community_note_raters, columns, values)

    def rater(self, account_id: int) -> dict[str, Any] | None:
        found = (
            self.conn.execute(
                select(community_note_raters).where(
                    community_note_raters.c.account_id == account_id
                )
            )
            .mappings()
            .first()
        )
        return dict(found) if found else None

    def iter_raters(self) -> Iterator[dict[str, Any]]:
        rows = self.conn.execute(
            select(community_note_raters).order_by(community_note_raters.c.account_id)
        ).mappings()
        yield from (dict(m) for m in rows)

    def raters_after(self, after: int, limit: int) -> list[dict[str, Any]]:
        """The next `limit` scored raters by account id after `after` (the public export)."""
        rows = self.conn.execute(
            select(community_note_raters)
            .where(community_note_raters.c.account_id > after)
            .order_by(community_note_raters.c.account_id)
            .limit(limit)
        ).mappings()
        return [dict(m) for m in rows]

    def record_run(self, run: RunRow, state: bytes) -> None:
        """Stores a run with its state; older runs keep their figures, not their state."""
        self.conn.execute(update(community_note_runs).values(state=None))
        self.conn.execute(insert(community_note_runs).values(**run.__dict__, state=state))

    def latest_run(self) -> tuple[RunRow, bytes | None] | None:
        m = (
            self.conn.execute(
                select(community_note_runs)
                .order_by(community_note_runs.c.started_at.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        if m is None:
            return None
        values = dict(m)
        state = values.pop("state")
        return RunRow(**values), state

    def runs(self, limit: int = 20) -> list[RunRow]:
        rows = self.conn.execute(
            select(*(c for c in community_note_runs.c if c.name != "state"))
            .order_by(community_note_runs.c.started_at.desc())
            .limit(limit)
        ).mappings()
        return [RunRow(**m) for m in rows]


def new_change(
    note_id: int,
    status: str,
    intercept: float | None,
    factor: float | None,
    run_id: int | None,
    at: datetime,
) -> StatusChange:
    return StatusChange(new_id(), note_id, status, intercept, factor, run_id, at)
