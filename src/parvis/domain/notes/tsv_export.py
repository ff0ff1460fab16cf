"""A server's notes and ratings in the public Community Notes files (the export): one pure
function per file turning a plain record into a row of `tsv`'s columns, and `encode` turning
rows into TSV text. The API streams these rows a batch at a time and `parvis notes export`
writes them to files; `parvis notes score --input` reads them back (`tsv.read_directory`).

How Parvis fills the public columns:
- participants (`noteAuthorParticipantId`, `raterParticipantId`, `participantId`) are the
  server's keyed pseudonyms (parvis.services.notes.participant_id), never account ids;
- `tweetId` and `ratedOnTweetId` are the post's id; times are milliseconds since the epoch
  (`createdAtMillis`: when the note was written; for a rating, when its latest answer was
  given);
- reasons and tags are 0/1 columns named by `model.column` from their keys; `classification`
  and `helpfulnessLevel` are spelled as in the public files; the legacy `helpful` and
  `notHelpful` columns mirror the level; `believable`, `harmful` and `validationDifficulty`
  (no longer asked) are empty; `summary` is the note's text followed by its source links, as
  a public note's text holds its links; `trustworthySources` is 1 when the note has sources;
- the status history comes from each note's statuses (first, current, latest decided), decided
  by "CoreModel (Parvis)";
- enrollment: every participant is `earnedIn` (on Parvis any eligible account writes and
  rates: there is no earn-in step), from their first note or rating.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from parvis.domain.notes.model import (
    HELPFUL_TAGS,
    MISLEADING_REASONS,
    NOT_HELPFUL_TAGS,
    NOT_MISLEADING_REASONS,
    Helpfulness,
    column,
)
from parvis.domain.notes.tsv import (
    DECIDED_BY,
    ENROLLMENT_COLUMNS,
    HELPFULNESS_COLUMNS,
    NOTES_COLUMNS,
    RATINGS_COLUMNS,
    SCORED_NOTES_COLUMNS,
    STATUS_HISTORY_COLUMNS,
    helpfulness_row,
    scored_note_row,
)

COLUMNS: dict[str, list[str]] = {
    "notes": NOTES_COLUMNS,
    "ratings": RATINGS_COLUMNS,
    "noteStatusHistory": STATUS_HISTORY_COLUMNS,
    "userEnrollment": ENROLLMENT_COLUMNS,
    "scored_notes": SCORED_NOTES_COLUMNS,
    "helpfulness_scores": HELPFULNESS_COLUMNS,
}
INPUTS = ("notes", "ratings", "noteStatusHistory", "userEnrollment")
OUTPUTS = ("scored_notes", "helpfulness_scores")
ENROLLED = "earnedIn"
RATING_VERSION = "2"
RATING_SOURCE = "DEFAULT"
NEEDS_MORE_RATINGS = "NEEDS_MORE_RATINGS"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def millis(moment: datetime | None) -> str:
    """Milliseconds since the epoch, as text; empty for no moment (naive means UTC)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return str((moment - _EPOCH) // timedelta(milliseconds=1))


@dataclass(frozen=True)
class NoteRecord:
    """A note as the export sees it: its words, its post, its author's pseudonym, its fit."""

    note_id: int
    author: str
    created_at: datetime
    post_id: int
    classification: str  # model.Classification value
    reasons: Sequence[str]
    summary: str
    sources: Sequence[str]
    rating_status: str
    intercept: float | None
    factor: float | None
    num_ratings: int
    status_changed_at: datetime | None  # None: never scored
    first_status: str
    first_status_at: datetime | None
    latest_status: str
    latest_status_at: datetime | None


@dataclass(frozen=True)
class RatingRecord:
    note_id: int
    rater: str
    rated_at: datetime
    helpfulness: str  # model.Helpfulness value
    tags: Sequence[str]
    post_id: int


def _flags(prefix: str, keys: Sequence[str], chosen: Iterable[str]) -> dict[str, str]:
    picked = set(chosen)
    return {column(prefix, key): "1" if key in picked else "0" for key in keys}


def note_row(n: NoteRecord) -> list[str]:
    """One row of notes.tsv (tsv.NOTES_COLUMNS)."""
    row = dict.fromkeys(NOTES_COLUMNS, "")
    row.update(_flags("misleading", MISLEADING_REASONS, n.reasons))
    row.update(_flags("notMisleading", NOT_MISLEADING_REASONS, n.reasons))
    row.update(
        noteId=str(n.note_id),
        noteAuthorParticipantId=n.author,
        createdAtMillis=millis(n.created_at),
        tweetId=str(n.post_id),
        classification=n.classification,
        trustworthySources="1" if n.sources else "0",
        summary=" ".join([n.summary, *n.sources]),
        isMediaNote="0",
        isCollaborativeNote="0",
    )
    return list(row.values())


def rating_row(r: RatingRecord) -> list[str]:
    """One row of ratings.tsv (tsv.RATINGS_COLUMNS)."""
    row = dict.fromkeys(RATINGS_COLUMNS, "")
    row.update(_flags("helpful", HELPFUL_TAGS, r.tags))
    row.update(_flags("notHelpful", NOT_HELPFUL_TAGS, r.tags))
    row.update(
        noteId=str(r.note_id),
        raterParticipantId=r.rater,
        createdAtMillis=millis(r.rated_at),
        version=RATING_VERSION,
        agree="0",
        disagree="0",
        helpful="1" if r.helpfulness == Helpfulness.HELPFUL.value else "0",
        notHelpful="1" if r.helpfulness == Helpfulness.NOT_HELPFUL.value else "0",
        helpfulnessLevel=r.helpfulness,
        ratedOnTweetId=str(r.post_id),
        ratingSourceBucketed=RATING_SOURCE,
    )
    return list(row.values())


def history_row(n: NoteRecord, scored_at: datetime | None) -> list[str]:
    """One row of noteStatusHistory.tsv (tsv.STATUS_HISTORY_COLUMNS); `scored_at`: when the
    latest scoring run finished."""
    row = dict.fromkeys(STATUS_HISTORY_COLUMNS, "")
    changed = millis(n.status_changed_at)
    row.update(
        noteId=str(n.note_id),
        noteAuthorParticipantId=n.author,
        createdAtMillis=millis(n.created_at),
        timestampMillisOfFirstNonNMRStatus=millis(n.first_status_at),
        firstNonNMRStatus=n.first_status,
        timestampMillisOfCurrentStatus=changed,
        currentStatus=n.rating_status,
        timestampMillisOfLatestNonNMRStatus=millis(n.latest_status_at),
        mostRecentNonNMRStatus=n.latest_status,
        currentCoreStatus=n.rating_status if n.status_changed_at is not None else "",
        currentDecidedBy=DECIDED_BY if n.status_changed_at is not None else "",
        timestampMillisOfMostRecentStatusChange=changed,
        timestampMinuteOfFinalScoringOutput=(
            str(int(millis(scored_at)) // 60000) if scored_at is not None else ""
        ),
    )
    return list(row.values())


def enrollment_row(participant: str, since: datetime | None) -> list[str]:
    """One row of userEnrollment.tsv (tsv.ENROLLMENT_COLUMNS): `since`, the participant's first
    note or rating."""
    row = dict.fromkeys(ENROLLMENT_COLUMNS, "")
    row.update(
        participantId=participant,
        enrollmentState=ENROLLED,
        successfulRatingNeededToEarnIn="0",
        timestampOfLastStateChange=millis(since),
        modelingPopulation="CORE",
        numberOfTimesEarnedOut="0",
    )
    return list(row.values())


def scored_row(n: NoteRecord) -> list[str | int]:
    """One row of scored_notes.tsv, from the note's stored fit."""
    return scored_note_row(n.note_id, n.intercept, n.factor, n.rating_status, n.num_ratings)


def rater_row(
    participant: str,
    intercept: float | None,
    factor: float | None,
    helpfulness: float | None,
    num_ratings: int,
) -> list[str | int]:
    """One row of helpfulness_scores.tsv, from a rater's stored fit."""
    return helpfulness_row(participant, intercept, factor, helpfulness, num_ratings)


def encode(rows: Iterable[Sequence[object]]) -> str:
    """Rows as TSV text (tab-separated, "\\n"-terminated, fields with a tab, a newline or a
    quote quoted the csv way), as `tsv.read_directory` reads them."""
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\n").writerows(rows)
    return out.getvalue()


def header(name: str) -> str:
    """The header line of one of the six files, by its stem (`notes`, `scored_notes`…)."""
    return encode([COLUMNS[name]])
