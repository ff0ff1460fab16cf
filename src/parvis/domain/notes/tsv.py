"""The public Community Notes files (reference §6.5): reading a directory of `notes-*.tsv`,
`ratings-*.tsv`, `noteStatusHistory-*.tsv` and `userEnrollment-*.tsv`, and writing what the
scorer produces (`scored_notes.tsv`, `helpfulness_scores.tsv`, `noteStatusHistory.tsv`) in
the public scorer's column names — so anyone can rerun the scoring on the same files and
compare.

Reading is strict and says where: a missing column, a non-integer id, an unknown
helpfulnessLevel, a row with the wrong number of fields or bytes that are not UTF-8 raise
`TsvError` naming the file, the line and the column. Columns are found by header name, so files
with extra columns (newer exports) read too. Two things are tolerated and counted: a rating of a
note that is not in the notes files (skipped), and the same rater rating the same note twice
(the latest by createdAtMillis is kept). Legacy ratings without helpfulnessLevel use the old
`helpful`/`notHelpful` columns. Rows are read with the csv module and gathered into numpy
arrays: a million ratings take seconds, not minutes, with no pandas.

Written columns: scored_notes.tsv has noteId, coreNoteIntercept, coreNoteFactor1,
coreRatingStatus and finalRatingStatus (the same here: there is only the core model), and
numRatings — the public scorer's names; helpfulness_scores.tsv has raterParticipantId,
coreRaterIntercept, coreRaterFactor1, raterHelpfulness (our name: the share of a rater's
ratings that match the final statuses) and numRatings. Values outside the fit are empty.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parvis.domain.errors import Invalid
from parvis.domain.notes.model import Classification, Helpfulness, Ratings, Status
from parvis.domain.notes.scoring import Result, State

NOTES_COLUMNS = [
    "noteId",
    "noteAuthorParticipantId",
    "createdAtMillis",
    "tweetId",
    "classification",
    "believable",
    "harmful",
    "validationDifficulty",
    "misleadingOther",
    "misleadingFactualError",
    "misleadingManipulatedMedia",
    "misleadingOutdatedInformation",
    "misleadingMissingImportantContext",
    "misleadingUnverifiedClaimAsFact",
    "misleadingSatire",
    "notMisleadingOther",
    "notMisleadingFactuallyCorrect",
    "notMisleadingOutdatedButNotWhenWritten",
    "notMisleadingClearlySatire",
    "notMisleadingPersonalOpinion",
    "trustworthySources",
    "summary",
    "isMediaNote",
    "isCollaborativeNote",
]
RATINGS_COLUMNS = [
    "noteId",
    "raterParticipantId",
    "createdAtMillis",
    "version",
    "agree",
    "disagree",
    "helpful",
    "notHelpful",
    "helpfulnessLevel",
    "helpfulOther",
    "helpfulInformative",
    "helpfulClear",
    "helpfulEmpathetic",
    "helpfulGoodSources",
    "helpfulUniqueContext",
    "helpfulAddressesClaim",
    "helpfulImportantContext",
    "helpfulUnbiasedLanguage",
    "notHelpfulOther",
    "notHelpfulIncorrect",
    "notHelpfulSourcesMissingOrUnreliable",
    "notHelpfulOpinionSpeculationOrBias",
    "notHelpfulMissingKeyPoints",
    "notHelpfulOutdated",
    "notHelpfulHardToUnderstand",
    "notHelpfulArgumentativeOrBiased",
    "notHelpfulOffTopic",
    "notHelpfulSpamHarassmentOrAbuse",
    "notHelpfulIrrelevantSources",
    "notHelpfulOpinionSpeculation",
    "notHelpfulNoteNotNeeded",
    "ratedOnTweetId",
    "ratingSourceBucketed",
]
STATUS_HISTORY_COLUMNS = [
    "noteId",
    "noteAuthorParticipantId",
    "createdAtMillis",
    "timestampMillisOfFirstNonNMRStatus",
    "firstNonNMRStatus",
    "timestampMillisOfCurrentStatus",
    "currentStatus",
    "timestampMillisOfLatestNonNMRStatus",
    "mostRecentNonNMRStatus",
    "timestampMillisOfStatusLock",
    "lockedStatus",
    "timestampMillisOfRetroLock",
    "currentCoreStatus",
    "currentExpansionStatus",
    "currentGroupStatus",
    "currentDecidedBy",
    "currentModelingGroup",
    "timestampMillisOfMostRecentStatusChange",
    "timestampMillisOfNmrDueToMinStableCrhTime",
    "currentMultiGroupStatus",
    "currentModelingMultiGroup",
    "timestampMinuteOfFinalScoringOutput",
    "timestampMillisOfFirstNmrDueToMinStableCrhTime",
    "abovePcrhThresholdTime",
]
ENROLLMENT_COLUMNS = [
    "participantId",
    "enrollmentState",
    "successfulRatingNeededToEarnIn",
    "timestampOfLastStateChange",
    "timestampOfLastEarnOut",
    "modelingPopulation",
    "modelingGroup",
    "numberOfTimesEarnedOut",
]
SCORED_NOTES_COLUMNS = [
    "noteId",
    "coreNoteIntercept",
    "coreNoteFactor1",
    "coreRatingStatus",
    "finalRatingStatus",
    "numRatings",
]
HELPFULNESS_COLUMNS = [
    "raterParticipantId",
    "coreRaterIntercept",
    "coreRaterFactor1",
    "raterHelpfulness",
    "numRatings",
]
DECIDED_BY = "CoreModel (Parvis)"


class TsvError(Invalid):
    """Bad input, located: `file, line N, column C: what is wrong`."""

    def __init__(self, path: Path, line: int | None, column: str | None, problem: str) -> None:
        where = path.name
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.column = path, line, column


@dataclass
class History:
    """One note's status history row (the fields the scorer carries forward)."""

    author: str = ""
    created: str = ""
    first_time: str = ""
    first_status: str = ""
    current_time: str = ""
    current_status: str = ""
    latest_time: str = ""
    latest_status: str = ""
    changed_time: str = ""


@dataclass
class Dataset:
    """A directory read: the scorer's input and what goes back into the history file."""

    ratings: Ratings
    history: dict[int, History]
    previous_status: dict[int, Status]
    ratings_read: int
    skipped_unknown_note: int
    duplicates_replaced: int
    enrolled: int
    files: list[Path] = field(default_factory=list)


class _Reader:
    """Rows of one TSV file with the header checked and the position known for errors."""

    def __init__(self, path: Path, required: list[str]) -> None:
        self.path, self.required = path, required

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        try:
            with self.path.open(encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle, delimiter="\t")
                header = next(reader, None)
                if header is None:
                    raise TsvError(self.path, 1, None, "empty file: a header row is needed")
                self.header = header
                self.width = len(header)
                self.index = {name: i for i, name in enumerate(header)}
                for name in self.required:
                    if name not in self.index:
                        raise TsvError(self.path, 1, name, "missing column in the header")
                for row in reader:
                    if len(row) != self.width:
                        if not row:
                            continue
                        raise TsvError(
                            self.path,
                            reader.line_num,
                            None,
                            f"{len(row)} fields where the header has {self.width}",
                        )
                    yield reader.line_num, row
        except UnicodeDecodeError:
            raise self._where_not_utf8() from None
        except csv.Error as exc:
            raise TsvError(self.path, None, None, f"not valid TSV: {exc}") from None
        except OSError as exc:
            raise TsvError(self.path, None, None, f"cannot read: {exc.strerror}") from None

    def _where_not_utf8(self) -> TsvError:
        with self.path.open("rb") as handle:
            names = handle.readline().decode("utf-8", "replace").rstrip("\r\n").split("\t")
            handle.seek(0)
            for number, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    column_at = raw[: exc.start].count(b"\t")
                    name = names[column_at] if column_at < len(names) else f"#{column_at + 1}"
                    return TsvError(self.path, number, name, "not UTF-8 text")
        return TsvError(self.path, None, None, "not UTF-8 text")


def _integer(reader: _Reader, line: int, column: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise TsvError(reader.path, line, column, f"not an integer: {text[:40]!r}") from None


def _files(directory: Path, stem: str) -> list[Path]:
    pattern = re.compile(rf"{re.escape(stem)}(-\d+)?\.tsv")
    return sorted(p for p in directory.iterdir() if p.is_file() and pattern.fullmatch(p.name))


_LEVELS = {level.value: level.value_in_model for level in Helpfulness}


def read_directory(directory: Path) -> Dataset:
    """Read notes, ratings and the optional status history and enrollment files."""
    if not directory.is_dir():
        raise Invalid(f"{directory}: not a directory")
    note_files = _files(directory, "notes")
    rating_files = _files(directory, "ratings")
    if not note_files:
        raise Invalid(f"{directory}: no notes-*.tsv file")
    if not rating_files:
        raise Invalid(f"{directory}: no ratings-*.tsv file")
    history_files = _files(directory, "noteStatusHistory")
    enrollment_files = _files(directory, "userEnrollment")

    misleading: dict[int, bool] = {}
    history: dict[int, History] = {}
    seen_at: dict[int, str] = {}
    for path in note_files:
        reader = _Reader(path, ["noteId", "classification"])
        for line, row in reader.rows():
            note_id = _integer(reader, line, "noteId", row[reader.index["noteId"]])
            kind = row[reader.index["classification"]]
            if kind not in (Classification.MISLEADING, Classification.NOT_MISLEADING):
                raise TsvError(path, line, "classification", f"unknown value {kind[:60]!r}")
            if note_id in misleading:
                raise TsvError(
                    path, line, "noteId", f"note {note_id} already appears ({seen_at[note_id]})"
                )
            seen_at[note_id] = f"{path.name}, line {line}"
            misleading[note_id] = kind == Classification.MISLEADING
            entry = history.setdefault(note_id, History())
            for name, attr in (
                ("noteAuthorParticipantId", "author"),
                ("createdAtMillis", "created"),
            ):
                if name in reader.index:
                    setattr(entry, attr, row[reader.index[name]])

    previous_status: dict[int, Status] = {}
    for path in history_files:
        reader = _Reader(path, ["noteId", "currentStatus"])
        for line, row in reader.rows():
            note_id = _integer(reader, line, "noteId", row[reader.index["noteId"]])
            text = row[reader.index["currentStatus"]]
            if text:
                try:
                    previous_status[note_id] = Status(text)
                except ValueError:
                    raise TsvError(
                        path, line, "currentStatus", f"unknown status {text[:60]!r}"
                    ) from None
            if note_id in history:
                _carry(history[note_id], reader, row)

    enrolled = 0
    for path in enrollment_files:
        reader = _Reader(path, ["participantId", "enrollmentState"])
        for _line, _row in reader.rows():
            enrolled += 1

    note_ids = np.array(sorted(misleading), dtype=np.int64)
    note_index = {n: i for i, n in enumerate(note_ids.tolist())}
    rater_index: dict[str, int] = {}
    notes_col: list[int] = []
    raters_col: list[int] = []
    times_col: list[int] = []
    values_col: list[float] = []
    read = skipped = 0
    for path in rating_files:
        reader = _Reader(
            path, ["noteId", "raterParticipantId", "createdAtMillis", "helpfulnessLevel"]
        )
        for line, row in reader.rows():
            read += 1
            idx = reader.index
            note_id = _integer(reader, line, "noteId", row[idx["noteId"]])
            value = _LEVELS.get(row[idx["helpfulnessLevel"]])
            if value is None:
                value = _legacy(reader, line, row)
            created = _integer(reader, line, "createdAtMillis", row[idx["createdAtMillis"]])
            rater_id = row[idx["raterParticipantId"]]
            if not rater_id:
                raise TsvError(path, line, "raterParticipantId", "empty")
            at = note_index.get(note_id)
            if at is None:
                skipped += 1
                continue
            notes_col.append(at)
            raters_col.append(rater_index.setdefault(rater_id, len(rater_index)))
            times_col.append(created)
            values_col.append(value)

    note = np.array(notes_col, dtype=np.int64)
    rater = np.array(raters_col, dtype=np.int64)
    created_at = np.array(times_col, dtype=np.int64)
    value_arr = np.array(values_col, dtype=np.float64)
    # The latest rating per (rater, note) wins; equal times: the higher value, so that the
    # order of the rows never matters.
    rater_ids = np.array(list(rater_index), dtype=np.str_)
    if len(note):
        rater_rank = np.argsort(np.argsort(rater_ids, kind="stable"), kind="stable")
        order = np.lexsort((value_arr, created_at, note, rater_rank[rater]))
        pair = rater[order] * len(note_ids) + note[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = pair[1:] != pair[:-1]
        keep = order[last]
    else:
        keep = np.zeros(0, dtype=np.int64)
    ratings = Ratings(
        note_ids=note_ids,
        note_misleading=np.array([misleading[n] for n in note_ids.tolist()], dtype=bool),
        rater_ids=rater_ids if len(rater_ids) else np.zeros(0, dtype=np.str_),
        rater=rater[keep],
        note=note[keep],
        value=value_arr[keep],
    )
    return Dataset(
        ratings=ratings,
        history=history,
        previous_status=previous_status,
        ratings_read=read,
        skipped_unknown_note=skipped,
        duplicates_replaced=len(note) - len(keep),
        enrolled=enrolled,
        files=note_files + rating_files + history_files + enrollment_files,
    )


def _legacy(reader: _Reader, line: int, row: list[str]) -> float:
    """A rating from before helpfulnessLevel: the helpful / notHelpful 0-1 columns."""
    level = row[reader.index["helpfulnessLevel"]]
    if level == "" and "helpful" in reader.index and "notHelpful" in reader.index:
        if row[reader.index["helpful"]] == "1":
            return 1.0
        if row[reader.index["notHelpful"]] == "1":
            return 0.0
    raise TsvError(
        reader.path,
        line,
        "helpfulnessLevel",
        f"unknown value {level[:60]!r} (expected HELPFUL, SOMEWHAT_HELPFUL or NOT_HELPFUL)",
    )


_CARRIED = {
    "timestampMillisOfFirstNonNMRStatus": "first_time",
    "firstNonNMRStatus": "first_status",
    "timestampMillisOfCurrentStatus": "current_time",
    "currentStatus": "current_status",
    "timestampMillisOfLatestNonNMRStatus": "latest_time",
    "mostRecentNonNMRStatus": "latest_status",
    "timestampMillisOfMostRecentStatusChange": "changed_time",
}


def _carry(entry: History, reader: _Reader, row: list[str]) -> None:
    for name, attr in _CARRIED.items():
        if name in reader.index:
            setattr(entry, attr, row[reader.index[name]])


def read_previous(directory: Path) -> tuple[State, dict[int, History]]:
    """A previous run's output directory (scored_notes.tsv, helpfulness_scores.tsv,
    noteStatusHistory.tsv): the warm start and the statuses for inertia."""
    notes = _Reader(directory / "scored_notes.tsv", SCORED_NOTES_COLUMNS[:4])
    ids, intercepts, factors, statuses = [], [], [], []
    for line, row in notes.rows():
        ids.append(_integer(notes, line, "noteId", row[notes.index["noteId"]]))
        intercepts.append(_float(notes, line, "coreNoteIntercept", row))
        factors.append(_float(notes, line, "coreNoteFactor1", row))
        text = row[notes.index["coreRatingStatus"]]
        try:
            statuses.append(Status(text))
        except ValueError:
            raise TsvError(
                notes.path, line, "coreRatingStatus", f"unknown status {text[:60]!r}"
            ) from None
    raters = _Reader(directory / "helpfulness_scores.tsv", HELPFULNESS_COLUMNS[:3])
    rater_ids, r_int, r_fac = [], [], []
    for line, row in raters.rows():
        rater_ids.append(row[raters.index["raterParticipantId"]])
        r_int.append(_float(raters, line, "coreRaterIntercept", row))
        r_fac.append(_float(raters, line, "coreRaterFactor1", row))
    history: dict[int, History] = {}
    path = directory / "noteStatusHistory.tsv"
    if path.exists():
        reader = _Reader(path, ["noteId"])
        for line, row in reader.rows():
            entry = history.setdefault(
                _integer(reader, line, "noteId", row[reader.index["noteId"]]), History()
            )
            _carry(entry, reader, row)
    state = State.of(
        global_intercept=math.nan,
        note_ids=np.array(ids, dtype=np.int64),
        note_intercept=np.array(intercepts, dtype=np.float64),
        note_factor=np.array(factors, dtype=np.float64),
        note_status=tuple(statuses),
        rater_ids=np.array(rater_ids, dtype=np.str_),
        rater_intercept=np.array(r_int, dtype=np.float64),
        rater_factor=np.array(r_fac, dtype=np.float64),
    )
    return state, history


def merge_history(history: dict[int, History], earlier: dict[int, History]) -> None:
    """Carry a previous run's statuses and times into the input's history rows (the author
    and creation time stay the input's)."""
    for note_id, entry in earlier.items():
        if note_id in history:
            for attr in _CARRIED.values():
                setattr(history[note_id], attr, getattr(entry, attr))


def _float(reader: _Reader, line: int, column: str, row: list[str]) -> float:
    text = row[reader.index[column]]
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise TsvError(reader.path, line, column, f"not a number: {text[:40]!r}") from None


def statuses_only(statuses: dict[int, Status]) -> State:
    """A state with statuses and no parameters: inertia from a noteStatusHistory file."""
    ids = sorted(statuses)
    nan = np.full(len(ids), np.nan)
    return State.of(
        global_intercept=math.nan,
        note_ids=np.array(ids, dtype=np.int64),
        note_intercept=nan,
        note_factor=nan.copy(),
        note_status=tuple(statuses[i] for i in ids),
        rater_ids=np.zeros(0, dtype=np.str_),
        rater_intercept=np.zeros(0),
        rater_factor=np.zeros(0),
    )


def _number(x: float) -> str:
    return "" if math.isnan(x) else repr(round(x, 9))


def number(x: float | None) -> str:
    """A parameter as the files write it: 9 decimals, empty outside the fit (None or NaN)."""
    return "" if x is None else _number(x)


def scored_note_row(
    note_id: int, intercept: float | None, factor: float | None, status: str, num_ratings: int
) -> list[str | int]:
    """One row of scored_notes.tsv (SCORED_NOTES_COLUMNS): core and final status are the same,
    there is only the core model."""
    return [note_id, number(intercept), number(factor), status, status, num_ratings]


def helpfulness_row(
    rater: str,
    intercept: float | None,
    factor: float | None,
    helpfulness: float | None,
    num_ratings: int,
) -> list[str | int]:
    """One row of helpfulness_scores.tsv (HELPFULNESS_COLUMNS)."""
    return [rater, number(intercept), number(factor), number(helpfulness), num_ratings]


def _write(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """One TSV file: the header, then the rows."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter="\t", lineterminator="\n")
        out.writerow(columns)
        out.writerows(rows)
    return path


def write_results(
    result: Result, history: dict[int, History], directory: Path, now_millis: int
) -> list[Path]:
    """Write scored_notes.tsv, helpfulness_scores.tsv and noteStatusHistory.tsv."""
    notes, raters = result.notes, result.raters
    scored = _write(
        directory / "scored_notes.tsv",
        SCORED_NOTES_COLUMNS,
        (
            scored_note_row(nid, i, f, s.value, c)
            for nid, i, f, s, c in zip(
                notes.ids.tolist(),
                notes.intercept.tolist(),
                notes.factor.tolist(),
                notes.status,
                notes.num_ratings.tolist(),
                strict=True,
            )
        ),
    )
    helpfulness = _write(
        directory / "helpfulness_scores.tsv",
        HELPFULNESS_COLUMNS,
        (
            helpfulness_row(rid, i, f, h, c)
            for rid, i, f, h, c in zip(
                raters.ids.tolist(),
                raters.intercept.tolist(),
                raters.factor.tolist(),
                raters.helpfulness.tolist(),
                raters.num_ratings.tolist(),
                strict=True,
            )
        ),
    )
    path = directory / "noteStatusHistory.tsv"
    now = str(now_millis)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter="\t", lineterminator="\n")
        out.writerow(STATUS_HISTORY_COLUMNS)
        for nid, status in zip(notes.ids.tolist(), notes.status, strict=True):
            h = history.get(nid, History())
            value = status.value
            if value != h.current_status:
                h.current_status, h.current_time, h.changed_time = value, now, now
            if status is not Status.NEEDS_MORE_RATINGS:
                if not h.first_status:
                    h.first_status, h.first_time = value, now
                if h.latest_status != value:
                    h.latest_status, h.latest_time = value, now
            row = dict.fromkeys(STATUS_HISTORY_COLUMNS, "")
            row.update(
                noteId=str(nid),
                noteAuthorParticipantId=h.author,
                createdAtMillis=h.created,
                timestampMillisOfFirstNonNMRStatus=h.first_time,
                firstNonNMRStatus=h.first_status,
                timestampMillisOfCurrentStatus=h.current_time,
                currentStatus=h.current_status,
                timestampMillisOfLatestNonNMRStatus=h.latest_time,
                mostRecentNonNMRStatus=h.latest_status,
                currentCoreStatus=value,
                currentDecidedBy=DECIDED_BY,
                timestampMillisOfMostRecentStatusChange=h.changed_time,
                timestampMinuteOfFinalScoringOutput=str(now_millis // 60000),
            )
            out.writerow(row.values())
    return [scored, helpfulness, path]
