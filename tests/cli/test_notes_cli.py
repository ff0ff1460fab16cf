"""`parvis notes`: `score --input DIR --output DIR [--previous DIR]` scores a directory,
writes the public files, warm-starts from a previous output, and on bad input (a wrong value,
a truncated file, an unclosed quote, a directory without ratings) exits 2 with a located
message, leaving the output directory untouched; `score` without --input scores the server's
database (skipped when nothing changed, `--force`), `runs` lists the runs, and `export` writes
the public files, which `score --input` scores to the server's statuses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.app import build, create_app
from parvis.cli import app as cli
from parvis.domain.notes.tsv_export import COLUMNS
from tests.api.test_notes_api import bridged, close, scored_file
from tests.conftest import make_settings
from tests.domain.test_notes_tsv import sample

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_DATA_DIR", "PARVIS_JOBS_IMMEDIATE"):
        monkeypatch.delenv(var, raising=False)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def test_scores_a_directory_then_warm_starts(tmp_path: Path) -> None:
    source = sample(tmp_path / "in")
    out = tmp_path / "out"
    first = runner.invoke(cli, ["notes", "score", "--input", str(source), "--output", str(out)])
    assert first.exit_code == 0, first.output
    assert "CURRENTLY_RATED_HELPFUL" in first.output and "epochs" in first.output
    for name in ("scored_notes.tsv", "helpfulness_scores.tsv", "noteStatusHistory.tsv"):
        assert (out / name).exists()
    rows = (out / "scored_notes.tsv").read_text().splitlines()
    assert len(rows) == 31
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no scratch left
    second = runner.invoke(
        cli,
        [
            "notes",
            "score",
            "--input",
            str(source),
            "--output",
            str(tmp_path / "again"),
            "--previous",
            str(out),
        ],
    )
    assert second.exit_code == 0, second.output
    assert "(warm start)" in second.output
    assert (tmp_path / "again" / "scored_notes.tsv").read_text().count("HELPFUL") == (
        out / "scored_notes.tsv"
    ).read_text().count("HELPFUL")


def test_bad_input_exits_2_and_leaves_the_output_alone(tmp_path: Path) -> None:
    source = sample(tmp_path / "in")
    path = source / "ratings-00001.tsv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace("NOT_HELPFUL", "MAYBE").replace("\tHELPFUL", "\tMAYBE")
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scored_notes.tsv").write_text("earlier run\n")
    result = runner.invoke(cli, ["notes", "score", "--input", str(source), "--output", str(out)])
    assert result.exit_code == 2
    assert "ratings-00001.tsv, line 4, column helpfulnessLevel: unknown value" in result.output
    assert "Traceback" not in result.output
    assert [p.name for p in out.iterdir()] == ["scored_notes.tsv"]
    assert (out / "scored_notes.tsv").read_text() == "earlier run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


# -- bad input and options ---------------------------------------------------------------------


def _refused(source: Path, out: Path, expected: str) -> None:
    code, output = invoke("notes", "score", "--input", str(source), "--output", str(out))
    assert code == 2, output
    assert expected in output, output
    assert "Traceback" not in output
    assert [p.name for p in out.iterdir()] == ["scored_notes.tsv"]
    assert (out / "scored_notes.tsv").read_text() == "earlier run\n"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        # A file cut in the middle of a row (a download that stopped).
        (
            lambda d: _cut(d / "ratings-00001.tsv"),
            "ratings-00001.tsv, line",
        ),
        # A note whose quoted summary never ends.
        (
            lambda d: _append(d / "notes-00000.tsv", '31\t"unfinished summary'),
            "notes-00000.tsv",
        ),
        (lambda d: (d / "notes-00000.tsv").write_text(""), "notes-00000.tsv, line 1: empty file"),
        (
            lambda d: [p.unlink() for p in d.glob("ratings-*.tsv")],
            "no ratings-*.tsv file",
        ),
        (
            lambda d: (d / "noteStatusHistory-00000.tsv").write_text(
                "noteId\tcurrentStatus\n1\tSHOWN\n"
            ),
            "noteStatusHistory-00000.tsv, line 2, column currentStatus: unknown status",
        ),
        (
            lambda d: (d / "userEnrollment-00000.tsv").write_text("participantId\n"),
            "userEnrollment-00000.tsv, line 1, column enrollmentState: missing column",
        ),
    ],
)
def test_malformed_input_exits_2_and_corrupts_nothing(
    tmp_path: Path, damage: object, expected: str
) -> None:
    source = sample(tmp_path / "in")
    damage(source)  # type: ignore[operator]
    out = tmp_path / "out"
    out.mkdir()
    (out / "scored_notes.tsv").write_text("earlier run\n")
    _refused(source, out, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no scratch left


def _cut(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2].rstrip(b"\n"))


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


def test_a_truncated_row_is_located(tmp_path: Path) -> None:
    source = sample(tmp_path / "in")
    path = source / "ratings-00001.tsv"
    lines = path.read_text().splitlines()
    lines[5] = lines[5][: len(lines[5]) // 2]
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scored_notes.tsv").write_text("earlier run\n")
    _refused(source, out, "ratings-00001.tsv, line 6")


def test_options_that_do_not_go_together_exit_2(tmp_path: Path) -> None:
    source = str(sample(tmp_path / "in"))
    cases = [
        (["--previous", source], "--previous and --max-epochs go with --input"),
        (["--max-epochs", "5"], "--previous and --max-epochs go with --input"),
        (["--input", source, "--output", str(tmp_path / "o"), "--force"], "--force goes with"),
        (["--input", source], "--output is required with --input"),
    ]
    for args, expected in cases:
        code, output = invoke("--data-dir", str(tmp_path / "data"), "notes", "score", *args)
        assert code == 2 and expected in output, output
    assert not (tmp_path / "o").exists()


def test_every_option_is_documented() -> None:
    for command, options in (
        ("score", ["--input", "--output", "--previous", "--max-epochs", "--force"]),
        ("export", ["Where the files go"]),
        ("runs", ["--limit"]),
    ):
        code, output = invoke("notes", command, "--help")
        assert code == 0
        for option in options:
            assert option in output, (command, option)
    assert "this server's database" in invoke("notes", "score", "--help")[1]


# -- the server's database ---------------------------------------------------------------------


@dataclass
class Server:
    data_dir: Path
    notes: list[int]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A server whose notes were rated by two sides of raters (tests.api.test_notes_api.World),
    not scored yet."""
    settings = make_settings(tmp_path)
    instance = build(settings, migrate=True)
    try:
        with TestClient(
            create_app(instance, embedded_worker=False), base_url="https://parvis.test"
        ) as client:
            world = bridged(instance, client)
    finally:
        instance.close()
    yield Server(settings.data_dir, world.notes)


def test_scoring_the_database_then_nothing_changed_then_force(server: Server) -> None:
    data = str(server.data_dir)
    code, output = invoke("--data-dir", data, "notes", "runs")
    assert code == 0 and "No scoring run yet" in output
    code, output = invoke("--data-dir", data, "notes", "score")
    assert code == 0, output
    assert "Fitting" in output and "CURRENTLY_RATED_HELPFUL │ 4" in output, output
    assert "notes whose status changed │ 13" in output and "ratings / fitted │ 192 / 192" in output
    code, output = invoke("--data-dir", data, "notes", "score")
    assert code == 0 and "Nothing changed since the latest run" in output, output
    code, output = invoke("--data-dir", data, "notes", "score", "--force")
    assert code == 0 and "(warm start)" in output and "status changed │ 0" in output, output
    code, output = invoke("--data-dir", data, "notes", "runs", "--limit", "5")
    assert code == 0, output
    assert output.count("command") == 2 and "warm" in output, output


def test_the_export_scores_again_to_the_servers_statuses(server: Server, tmp_path: Path) -> None:
    data = str(server.data_dir)
    assert invoke("--data-dir", data, "notes", "score")[0] == 0
    exported = tmp_path / "export"
    code, output = invoke("--data-dir", data, "notes", "export", str(exported))
    assert code == 0, output
    assert "ratings-00000.tsv: 192 rows" in output and "notes-00000.tsv: 13 rows" in output
    assert sorted(p.name for p in exported.iterdir()) == sorted(
        [
            "notes-00000.tsv",
            "ratings-00000.tsv",
            "noteStatusHistory-00000.tsv",
            "userEnrollment-00000.tsv",
            "scored_notes.tsv",
            "helpfulness_scores.tsv",
        ]
    )
    assert (exported / "ratings-00000.tsv").read_text().split("\n")[0].split("\t") == COLUMNS[
        "ratings"
    ]
    server_scores = scored_file(exported)
    assert sorted(server_scores) == sorted(server.notes)

    code, output = invoke(
        "notes", "score", "--input", str(exported), "--output", str(tmp_path / "o")
    )
    assert code == 0, output
    again = scored_file(tmp_path / "o")
    for note_id, (status, intercept, factor) in server_scores.items():
        assert again[note_id][0] == status
        assert close(again[note_id][1], intercept) and close(again[note_id][2], factor)

    # The export is also a previous run: a warm start from the server's parameters.
    code, output = invoke(
        "notes",
        "score",
        "--input",
        str(exported),
        "--previous",
        str(exported),
        "--output",
        str(tmp_path / "warm"),
    )
    assert code == 0 and "(warm start)" in output, output
    assert {n: s[0] for n, s in scored_file(tmp_path / "warm").items()} == {
        n: s[0] for n, s in server_scores.items()
    }

    # Scoring the database with --output writes the same results from the database.
    code, output = invoke("--data-dir", data, "notes", "score", "--output", str(tmp_path / "db"))
    assert code == 0 and "Nothing changed" in output, output
    assert (tmp_path / "db" / "scored_notes.tsv").read_text() == (
        exported / "scored_notes.tsv"
    ).read_text()
    assert sorted(p.name for p in (tmp_path / "db").iterdir()) == [
        "helpfulness_scores.tsv",
        "noteStatusHistory.tsv",
        "scored_notes.tsv",
    ]
