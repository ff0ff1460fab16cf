"""`parvis notes score --input DIR --output DIR [--previous DIR]`: scores a directory, writes
the public files, warm-starts from a previous output; bad input exits 2 with a located message
and leaves the output directory untouched."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from parvis.cli import app as cli
from tests.domain.test_notes_tsv import sample

runner = CliRunner()


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


def test_input_is_required_and_documented() -> None:
    result = runner.invoke(cli, ["notes", "score", "--help"])
    assert result.exit_code == 0 and "notes storage" in result.output
    missing = runner.invoke(cli, ["notes", "score", "--output", "x"])
    assert missing.exit_code == 2
