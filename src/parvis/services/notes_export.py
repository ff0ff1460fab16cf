"""The public Community Notes files of this server (issue 8, transparency): notes, ratings,
noteStatusHistory and userEnrollment (the scorer's inputs) and scored_notes and
helpfulness_scores (its latest outputs), in the public column layout
(parvis.domain.notes.tsv_export), authors and raters named by their participant id.

`lines(read, name)` yields a file as text, a page of rows at a time, each page read in a unit
of work of its own (`read` is `Runtime.read`): the whole table is never in memory and no
transaction stays open while a slow client downloads. The API streams it; `parvis notes
export` writes it to files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from parvis.domain.errors import NotFound
from parvis.domain.notes import tsv_export
from parvis.domain.notes.tsv_export import NoteRecord, RatingRecord
from parvis.services.context import Work
from parvis.services.notes import participant_ids
from parvis.storage.notes import NoteRow

T = TypeVar("T")
Reader = Callable[[Callable[[Work], T]], T]
PAGE = 2000
FILES = tsv_export.INPUTS + tsv_export.OUTPUTS


@dataclass(frozen=True)
class Page:
    text: str  # TSV rows
    after: Any  # where the next page starts; None: this was the last


def _records(work: Work, notes: list[NoteRow]) -> list[NoteRecord]:
    names = participant_ids(work, [n.author_id for n in notes])
    counts = work.store.notes.rating_counts([n.id for n in notes])
    return [
        NoteRecord(
            note_id=n.id,
            author=names[n.author_id],
            created_at=n.created_at,
            post_id=n.status_id,
            classification=n.classification,
            reasons=n.reasons,
            summary=n.summary,
            sources=n.sources,
            rating_status=n.rating_status,
            intercept=n.intercept,
            factor=n.factor,
            num_ratings=counts[n.id],
            status_changed_at=n.status_changed_at,
            first_status=n.first_status,
            first_status_at=n.first_status_at,
            latest_status=n.latest_status,
            latest_status_at=n.latest_status_at,
        )
        for n in notes
    ]


def _scored_at(work: Work) -> datetime | None:
    latest = work.store.notes.runs(1)
    return latest[0].finished_at if latest else None


def page(work: Work, name: str, after: Any, size: int = PAGE) -> Page:
    """One page of rows of the file `name` (a stem of FILES), after the key `after` (None: from
    the start)."""
    store = work.store.notes
    rows: list[list[Any]]
    if name in ("notes", "noteStatusHistory", "scored_notes"):
        notes = store.notes_after(-1 if after is None else after, size)
        records = _records(work, notes)
        if name == "notes":
            rows = [tsv_export.note_row(r) for r in records]
        elif name == "scored_notes":
            rows = [tsv_export.scored_row(r) for r in records]
        else:
            scored_at = _scored_at(work)
            rows = [tsv_export.history_row(r, scored_at) for r in records]
        last: Any = notes[-1].id if notes else None
    elif name == "ratings":
        ratings = store.ratings_after((-1, -1) if after is None else after, size)
        names = participant_ids(work, [r.rater_id for r in ratings])
        posts = store.status_ids_of([r.note_id for r in ratings])
        rows = [
            tsv_export.rating_row(
                RatingRecord(
                    note_id=r.note_id,
                    rater=names[r.rater_id],
                    rated_at=r.updated_at,
                    helpfulness=r.helpfulness,
                    tags=r.tags,
                    post_id=posts[r.note_id],
                )
            )
            for r in ratings
        ]
        last = (ratings[-1].note_id, ratings[-1].rater_id) if ratings else None
    elif name == "userEnrollment":
        found = store.participants_after(-1 if after is None else after, size)
        names = participant_ids(work, [a for a, _ in found])
        rows = [tsv_export.enrollment_row(names[a], since) for a, since in found]
        last = found[-1][0] if found else None
    elif name == "helpfulness_scores":
        raters = store.raters_after(-1 if after is None else after, size)
        names = participant_ids(work, [r["account_id"] for r in raters])
        rows = [
            tsv_export.rater_row(
                names[r["account_id"]], r["intercept"], r["factor"], r["helpfulness"], r["ratings"]
            )
            for r in raters
        ]
        last = raters[-1]["account_id"] if raters else None
    else:
        raise NotFound(f"No such file: {name}.tsv")
    return Page(tsv_export.encode(rows), last if len(rows) == size else None)


def lines(read: Reader[Page], name: str, size: int = PAGE) -> Iterator[str]:
    """The file `name` as text: the header, then a page of rows at a time, each page read in
    its own unit of work."""
    if name not in FILES:
        raise NotFound(f"No such file: {name}.tsv")
    yield tsv_export.header(name)
    after: Any = None
    while True:
        found = read(partial(page, name=name, after=after, size=size))
        if found.text:
            yield found.text
        if found.after is None:
            return
        after = found.after
