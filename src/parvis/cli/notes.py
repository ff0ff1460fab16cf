"""`parvis notes`: community notes (issue 8) — score a directory of public Community Notes
files with the bridging model and write the results in the public scorer's layout."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from parvis.cli import app, console, errors

if TYPE_CHECKING:  # kept light: `parvis --help` does not import numpy
    from parvis.domain.notes.scoring import Result
    from parvis.domain.notes.tsv import History

notes_app = typer.Typer(
    help="Community notes: score notes and ratings with the bridging model.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(notes_app, name="notes")


@notes_app.command("score")
def notes_score(
    input_dir: Annotated[
        Path,
        typer.Option(
            "--input",
            help="Directory of public Community Notes files: notes-*.tsv, ratings-*.tsv, "
            "optionally noteStatusHistory-*.tsv (for status inertia) and userEnrollment-*.tsv. "
            "Required for now: scoring this server's own notes comes with notes storage.",
        ),
    ],
    output_dir: Annotated[
        Path,
        typer.Option(
            "--output",
            help="Where scored_notes.tsv, helpfulness_scores.tsv and noteStatusHistory.tsv "
            "are written (created if missing; untouched unless scoring succeeds).",
        ),
    ],
    previous_dir: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="A previous run's --output: warm start from its parameters and status "
            "inertia from its statuses.",
        ),
    ] = None,
    max_epochs: Annotated[
        int, typer.Option(help="Give up fitting after this many epochs.", min=1)
    ] = 2000,
) -> None:
    """Score a directory of notes and ratings (the public Community Notes layout) and write
    the statuses, note and rater parameters. Exit code 2 on bad input, nothing written."""
    from dataclasses import replace

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from parvis.domain.errors import Invalid
    from parvis.domain.notes import scoring, tsv

    started = time.perf_counter()
    parameters = replace(scoring.Parameters(), max_epochs=max_epochs)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        reading = progress.add_task("Reading", total=1, detail=str(input_dir))
        try:
            data = tsv.read_directory(input_dir)
            previous: scoring.State | None = None
            history = data.history
            if previous_dir is not None:
                previous, earlier = tsv.read_previous(previous_dir)
                tsv.merge_history(history, earlier)
            elif data.previous_status:
                previous = tsv.statuses_only(data.previous_status)
        except Invalid as exc:
            progress.stop()
            errors.print(f"Error: {exc.message}", markup=False, highlight=False)
            raise typer.Exit(code=2) from None
        progress.update(
            reading, completed=1, detail=f"{data.ratings_read:,} ratings, {len(data.files)} files"
        )
        fitting = progress.add_task("Fitting", total=parameters.max_epochs, detail="")

        def on_epoch(epoch: int, loss: float) -> None:
            progress.update(fitting, completed=epoch, detail=f"epoch {epoch}, loss {loss:,.3f}")

        result = scoring.score(data.ratings, previous, parameters, on_epoch)
        progress.update(fitting, total=result.epochs, completed=result.epochs)
        writing = progress.add_task("Writing", total=1, detail=str(output_dir))
        _write_atomically(result, history, output_dir)
        progress.update(writing, completed=1)

    table = Table(title="Community notes scored", show_header=False)
    for status, count in result.counts.items():
        table.add_row(status.value, f"{count:,}")
    table.add_row("notes", f"{len(result.notes.ids):,}")
    table.add_row("raters", f"{len(result.raters.ids):,}")
    table.add_row("ratings read / fitted", f"{data.ratings_read:,} / {result.ratings_fitted:,}")
    table.add_row("ratings of unknown notes (skipped)", f"{data.skipped_unknown_note:,}")
    table.add_row("repeated ratings replaced by the latest", f"{data.duplicates_replaced:,}")
    table.add_row("loss", f"{result.loss:,.4f}")
    table.add_row(
        "epochs",
        f"{result.epochs}"
        + (" (warm start)" if result.warm_started else "")
        + ("" if result.converged else " (NOT converged)"),
    )
    table.add_row("seconds", f"{time.perf_counter() - started:.1f}")
    console.print(table)


def _write_atomically(result: Result, history: dict[int, History], output: Path) -> None:
    """Write into a temporary directory beside `output`, then move the files in."""
    from parvis.domain.notes import tsv

    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".parvis-notes-", dir=output.parent))
    try:
        written = tsv.write_results(result, history, scratch, int(time.time() * 1000))
        output.mkdir(exist_ok=True)
        for path in written:
            os.replace(path, output / path.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
