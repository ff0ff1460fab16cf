"""The public files of a server's notes, a page at a time (both backends): each page is read
in a unit of work of its own, the pages join into the same file as one big page, and every
file reads back with the public reader (`tsv.read_directory`) into the server's ratings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.errors import NotFound
from parvis.domain.notes import tsv
from parvis.domain.notes.tsv_export import COLUMNS, millis
from parvis.services import notes, notes_export
from parvis.services.context import Work
from tests.services.test_notes import note, post, rate, users, write


def populated(parvis: Parvis, client: TestClient) -> list[int]:
    """7 notes, each rated by the same 5 raters: 35 ratings, 6 participants."""
    parvis.settings.notes_per_day = 100
    author, writer, *raters = users(parvis, client, 7)
    made = [note(parvis, writer, post(author, f"claim {i}")) for i in range(7)]
    for i, note_id in enumerate(made):
        for k, rater in enumerate(raters):
            rate(parvis, rater, note_id, "helpful" if (i + k) % 2 else "not_helpful")
    write(parvis, lambda w: notes.score(w))
    return made


def counting(parvis: Parvis) -> tuple[Callable[[Callable[[Work], Any]], Any], list[int]]:
    """`Runtime.read`, counting the units of work."""
    calls: list[int] = []

    def read(use_case: Callable[[Work], Any]) -> Any:
        calls.append(1)
        return parvis.runtime.read(use_case)

    return read, calls


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("notes", 7),
        ("ratings", 35),
        ("noteStatusHistory", 7),
        ("userEnrollment", 6),
        ("scored_notes", 7),
        ("helpfulness_scores", 5),
    ],
)
def test_pages_join_into_the_whole_file(
    parvis: Parvis, client: TestClient, name: str, rows: int
) -> None:
    populated(parvis, client)
    read, calls = counting(parvis)
    paged = list(notes_export.lines(read, name, size=3))
    assert paged[0].rstrip("\n").split("\t") == COLUMNS[name]
    assert len(calls) == rows // 3 + 1  # a unit of work per page, never the whole table
    assert len(paged) == 1 + -(-rows // 3)
    whole = "".join(notes_export.lines(parvis.runtime.read, name, size=1000))
    assert "".join(paged) == whole and whole.count("\n") == rows + 1


def test_the_files_read_back_as_the_servers_ratings(
    parvis: Parvis, client: TestClient, tmp_path: Path
) -> None:
    made = populated(parvis, client)
    for name in COLUMNS:
        text = "".join(notes_export.lines(parvis.runtime.read, name, size=4))
        (tmp_path / f"{name}.tsv").write_text(text)
    data = tsv.read_directory(tmp_path)
    assert sorted(data.ratings.note_ids.tolist()) == sorted(made)
    assert len(data.ratings.value) == 35 and data.enrolled == 6
    assert sorted(data.ratings.value.tolist()) == sorted([1.0] * 17 + [0.0] * 18)
    names = parvis.runtime.read(lambda w: notes.participant_ids(w, [1, 2]))
    assert len(set(names.values())) == 2
    assert set(data.ratings.rater_ids.tolist()).isdisjoint({"1", "2"})
    assert data.previous_status  # the server's statuses, for inertia


def test_an_unknown_file_is_not_found(parvis: Parvis) -> None:
    with pytest.raises(NotFound, match=r"accounts\.tsv"):
        list(notes_export.lines(parvis.runtime.read, "accounts"))


def test_millis() -> None:
    from datetime import UTC, datetime

    assert millis(datetime(1970, 1, 1, 0, 0, 1, 2000, tzinfo=UTC)) == "1002"
    assert millis(datetime(2020, 1, 1)) == "1577836800000"  # naive: UTC
    assert millis(None) == ""
