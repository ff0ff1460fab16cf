"""The public Community Notes TSV layout: reading a directory (hostile input gives located
errors), writing the scorer's outputs, reading them back as the previous state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parvis.domain.notes.model import Status
from parvis.domain.notes.scoring import score
from parvis.domain.notes.tsv import (
    NOTES_COLUMNS,
    RATINGS_COLUMNS,
    TsvError,
    read_directory,
    read_previous,
    write_results,
)


def write_dir(
    directory: Path, notes: list[tuple[int, str]], ratings: list[tuple[int, str, int, str]]
) -> Path:
    """notes: (noteId, classification); ratings: (noteId, rater, createdAtMillis, level)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(NOTES_COLUMNS)]
    for note_id, kind in notes:
        row = dict.fromkeys(NOTES_COLUMNS, "0")
        row.update(noteId=str(note_id), classification=kind, summary="a note", tweetId="1")
        lines.append("\t".join(row.values()))
    (directory / "notes-00000.tsv").write_text("\n".join(lines) + "\n")
    half = len(ratings) // 2
    for k, chunk in enumerate((ratings[:half], ratings[half:])):
        lines = ["\t".join(RATINGS_COLUMNS)]
        for note_id, rater, created, level in chunk:
            row = dict.fromkeys(RATINGS_COLUMNS, "0")
            row.update(
                noteId=str(note_id),
                raterParticipantId=rater,
                createdAtMillis=str(created),
                helpfulnessLevel=level,
                ratingSourceBucketed="DEFAULT",
            )
            lines.append("\t".join(row.values()))
        (directory / f"ratings-{k:05d}.tsv").write_text("\n".join(lines) + "\n")
    return directory


M = "MISINFORMED_OR_POTENTIALLY_MISLEADING"


def sample(directory: Path) -> Path:
    notes = [(n, M) for n in range(1, 31)]
    ratings = []
    for u in range(40):
        side = u % 2
        for n in range(1, 31):
            if (u + n) % 3 == 0:
                continue
            good = n <= 10 or (n <= 20 and side == 0)
            ratings.append((n, f"rater{u}", 1000 + n, "HELPFUL" if good else "NOT_HELPFUL"))
    return write_dir(directory, notes, ratings)


def test_reads_a_directory_and_round_trips_the_results(tmp_path: Path) -> None:
    data = read_directory(sample(tmp_path / "in"))
    assert len(data.ratings.note_ids) == 30 and len(data.ratings.rater_ids) == 40
    assert data.ratings_read == len(data.ratings.value) and data.skipped_unknown_note == 0
    result = score(data.ratings)
    out = tmp_path / "out"
    out.mkdir()
    write_results(result, data.history, out, now_millis=1_700_000_000_000)
    header = (out / "scored_notes.tsv").read_text().splitlines()[0].split("\t")
    assert header[:4] == ["noteId", "coreNoteIntercept", "coreNoteFactor1", "coreRatingStatus"]
    state, history = read_previous(out)
    assert state.note_status == result.notes.status
    assert np.allclose(state.note_intercept, result.notes.intercept, equal_nan=True, atol=1e-8)
    assert np.allclose(state.rater_factor, result.raters.factor, equal_nan=True, atol=1e-8)
    decided = [
        n
        for n, s in zip(result.notes.ids, result.notes.status, strict=True)
        if s is not Status.NEEDS_MORE_RATINGS
    ]
    assert decided and history[int(decided[0])].first_time == "1700000000000"


def test_unknown_notes_are_skipped_and_duplicates_keep_the_latest(tmp_path: Path) -> None:
    directory = write_dir(
        tmp_path,
        [(1, M)],
        [(1, "a", 5, "NOT_HELPFUL"), (99, "a", 6, "HELPFUL"), (1, "a", 9, "HELPFUL")],
    )
    data = read_directory(directory)
    assert data.skipped_unknown_note == 1 and data.duplicates_replaced == 1
    assert data.ratings.value.tolist() == [1.0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda t: t.replace("\thelpfulnessLevel\t", "\tlevel\t"),
            "line 1, column helpfulnessLevel: missing",
        ),
        (
            lambda t: t.replace("HELPFUL", "VERY_HELPFUL", 1),
            "line 2, column helpfulnessLevel: unknown value",
        ),
        (lambda t: t.replace("\n1\ta", "\nx1\ta", 1), "line 2, column noteId: not an integer"),
        (lambda t: t.replace("\n1\ta\t5\t", "\n1\ta\t", 1), "line 2: 32 fields"),
    ],
)
def test_malformed_ratings_are_located(tmp_path: Path, change: object, expected: str) -> None:
    directory = write_dir(tmp_path, [(1, M)], [(1, "a", 5, "HELPFUL"), (1, "b", 5, "HELPFUL")])
    path = directory / "ratings-00000.tsv"
    path.write_text(change(path.read_text()))  # type: ignore[operator]
    with pytest.raises(TsvError) as caught:
        read_directory(directory)
    assert caught.value.message.startswith("ratings-00000.tsv")
    assert expected in caught.value.message


def test_non_utf8_is_located(tmp_path: Path) -> None:
    directory = write_dir(tmp_path, [(1, M)], [(1, "a", 5, "HELPFUL"), (1, "b", 5, "HELPFUL")])
    path = directory / "ratings-00001.tsv"
    path.write_bytes(path.read_bytes().replace(b"\tb\t", b"\tb\xff\t"))
    with pytest.raises(
        TsvError, match=r"ratings-00001.tsv, line 2, column raterParticipantId: not UTF-8"
    ):
        read_directory(directory)


def test_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no notes-"):
        read_directory(tmp_path)
