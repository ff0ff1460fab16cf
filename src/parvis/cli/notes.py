"""`parvis notes`: community notes (issue 8) — score this server's notes (or a directory of
public Community Notes files) with the bridging model, list the scoring runs, and export the
server's notes and ratings in the public layout so that anyone can score them again."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from parvis.cli import app, console, errors, open_runtime, say, when

if TYPE_CHECKING:  # kept light: `parvis --help` does not import numpy
    from rich.progress import Progress

    from parvis.domain.notes.scoring import Result
    from parvis.domain.notes.tsv import History
    from parvis.jobs.runtime import Runtime
    from parvis.services.notes import Scored
    from parvis.storage.notes import RunRow

notes_app = typer.Typer(
    help="Community notes: score notes and ratings with the bridging model, list the runs, "
    "export the public files.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(notes_app, name="notes")

# The files of `parvis notes export`: the scorer's inputs named as the public downloads are,
# then the latest outputs.
EXPORTED = {
    "notes": "notes-00000.tsv",
    "ratings": "ratings-00000.tsv",
    "noteStatusHistory": "noteStatusHistory-00000.tsv",
    "userEnrollment": "userEnrollment-00000.tsv",
    "scored_notes": "scored_notes.tsv",
    "helpfulness_scores": "helpfulness_scores.tsv",
}
# What `parvis notes score --output` writes from the database: the layout of --input mode.
SCORED = {
    "scored_notes": "scored_notes.tsv",
    "helpfulness_scores": "helpfulness_scores.tsv",
    "noteStatusHistory": "noteStatusHistory.tsv",
}
DEFAULT_EPOCHS = 2000


def _refuse(message: str) -> typer.Exit:
    errors.print(f"Error: {message}", markup=False, highlight=False)
    return typer.Exit(code=2)


@contextmanager
def _progress() -> Iterator[Progress]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


@notes_app.command("score")
def notes_score(
    ctx: typer.Context,
    input_dir: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="Score a directory of public Community Notes files instead of this server's "
            "database: notes-*.tsv, ratings-*.tsv, optionally noteStatusHistory-*.tsv (for "
            "status inertia) and userEnrollment-*.tsv (`parvis notes export` writes them). "
            "Nothing is stored; --output is then required.",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Where scored_notes.tsv, helpfulness_scores.tsv and noteStatusHistory.tsv "
            "are written (created if missing; untouched unless scoring succeeds). Optional "
            "when scoring the database.",
        ),
    ] = None,
    previous_dir: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="With --input: a previous run's --output (or a `parvis notes export` "
            "directory): warm start from its parameters, status inertia from its statuses.",
        ),
    ] = None,
    max_epochs: Annotated[
        int | None,
        typer.Option(
            help=f"With --input: give up fitting after this many epochs (default "
            f"{DEFAULT_EPOCHS}). The server always scores with the published defaults.",
            min=1,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Scoring the database: rescore even when no note or rating changed since the "
            "latest run.",
        ),
    ] = False,
) -> None:
    """Score community notes and print the figures. Without --input: this server's notes and
    ratings, warm-started from the latest run, statuses and their history stored (what the
    periodic job does). With --input: a directory in the public layout, results written to
    --output. Exit code 2 on bad input or options, nothing written."""
    if input_dir is None:
        if previous_dir is not None or max_epochs is not None:
            raise _refuse("--previous and --max-epochs go with --input")
        _score_database(ctx, output_dir, force)
        return
    if force:
        raise _refuse("--force goes with scoring the database (without --input)")
    if output_dir is None:
        raise _refuse("--output is required with --input")
    _score_directory(input_dir, output_dir, previous_dir, max_epochs or DEFAULT_EPOCHS)


def _score_database(ctx: typer.Context, output_dir: Path | None, force: bool) -> None:
    from parvis.domain.notes.scoring import Parameters
    from parvis.services import notes

    total = Parameters().max_epochs
    with open_runtime(ctx) as runtime:
        started = time.perf_counter()
        with _progress() as progress:
            fitting = progress.add_task("Fitting", total=total, detail="")

            def on_epoch(epoch: int, loss: float) -> None:
                progress.update(fitting, completed=epoch, detail=f"epoch {epoch}, loss {loss:,.3f}")

            scored: Scored = runtime.write(lambda w: notes.score(w, "command", on_epoch, force))
            done = scored.run.epochs if scored.run is not None else 0
            progress.update(fitting, total=max(done, 1), completed=max(done, 1))
        if scored.run is None:
            latest = runtime.read(lambda w: notes.runs(w, 1))
            say(
                "Nothing changed since the latest run"
                + (f" ({when(latest[0].finished_at)})" if latest else "")
                + ": statuses kept. --force rescores."
            )
        else:
            _print_run(scored, time.perf_counter() - started)
        if output_dir is not None:
            _write_files(runtime, output_dir, SCORED)
            say(f"Written to {output_dir}: " + ", ".join(SCORED.values()))


def _print_run(scored: Scored, seconds: float) -> None:
    from rich.table import Table

    run = scored.run
    assert run is not None
    table = Table(title="Community notes scored", show_header=False)
    table.add_row("CURRENTLY_RATED_HELPFUL", f"{run.helpful:,}")
    table.add_row("CURRENTLY_RATED_NOT_HELPFUL", f"{run.not_helpful:,}")
    table.add_row("NEEDS_MORE_RATINGS", f"{run.needs_more_ratings:,}")
    table.add_row("notes whose status changed", f"{scored.changed:,}")
    table.add_row("notes", f"{run.notes:,}")
    table.add_row("raters", f"{run.raters:,}")
    table.add_row("ratings / fitted", f"{run.ratings:,} / {run.ratings_fitted:,}")
    table.add_row("loss", f"{run.loss:,.4f}")
    table.add_row("epochs", _epochs(run.epochs, run.warm_started, run.converged))
    table.add_row("seconds", f"{seconds:.1f}")
    console.print(table)


def _epochs(epochs: int, warm_started: bool, converged: bool) -> str:
    return (
        f"{epochs}"
        + (" (warm start)" if warm_started else "")
        + ("" if converged else " (NOT converged)")
    )


def _score_directory(
    input_dir: Path, output_dir: Path, previous_dir: Path | None, epochs: int
) -> None:
    from dataclasses import replace

    from rich.table import Table

    from parvis.domain.errors import Invalid
    from parvis.domain.notes import scoring, tsv

    started = time.perf_counter()
    parameters = replace(scoring.Parameters(), max_epochs=epochs)
    with _progress() as progress:
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
            raise _refuse(exc.message) from None
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
    table.add_row("epochs", _epochs(result.epochs, result.warm_started, result.converged))
    table.add_row("seconds", f"{time.perf_counter() - started:.1f}")
    console.print(table)


@contextmanager
def _scratch_beside(output: Path) -> Iterator[Path]:
    """A temporary directory beside `output`, removed afterwards: files are written there and
    moved into `output` only once all are complete."""
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".parvis-notes-", dir=output.parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _move_into(output: Path, written: list[Path]) -> None:
    output.mkdir(parents=True, exist_ok=True)
    for path in written:
        os.replace(path, output / path.name)


def _write_atomically(result: Result, history: dict[int, History], output: Path) -> None:
    from parvis.domain.notes import tsv

    with _scratch_beside(output) as scratch:
        written = tsv.write_results(result, history, scratch, int(time.time() * 1000))
        _move_into(output, written)


def _write_files(
    runtime: Runtime,
    output: Path,
    files: dict[str, str],
    on_file: Callable[[str, int], None] | None = None,
) -> None:
    """The server's public files (parvis.services.notes_export), a page of rows at a time,
    into `output` once all are written."""
    from parvis.services import notes_export

    try:
        with _scratch_beside(output) as scratch:
            written = []
            for name, filename in files.items():
                path = scratch / filename
                rows = -1  # the header
                with path.open("w", encoding="utf-8", newline="") as handle:
                    for text in notes_export.lines(runtime.read, name):
                        handle.write(text)
                        rows += text.count("\n")
                written.append(path)
                if on_file is not None:
                    on_file(filename, rows)
            _move_into(output.resolve(), written)
    except OSError as exc:
        raise _refuse(f"cannot write to {output}: {exc.strerror}") from None


@notes_app.command("export")
def notes_export_command(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Argument(
            help="Where the files go (created if missing; files of the same names replaced "
            "once all are written).",
            file_okay=False,
        ),
    ],
) -> None:
    """Export this server's community notes in the public Community Notes layout: the scorer's
    inputs (notes-00000.tsv, ratings-00000.tsv, noteStatusHistory-00000.tsv,
    userEnrollment-00000.tsv) and its latest outputs (scored_notes.tsv,
    helpfulness_scores.tsv), authors and raters named by pseudonyms. `parvis notes score
    --input DIR --output OUT` scores them again."""

    def counted(filename: str, rows: int) -> None:
        say(f"{filename}: {rows:,} rows")

    with open_runtime(ctx) as runtime:
        _write_files(runtime, directory, EXPORTED, counted)
    say(f"Exported to {directory}")


@notes_app.command("runs")
def notes_runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.", min=1, max=1000)] = 20,
) -> None:
    """List the recent scoring runs, newest first: when, why (job or command), what went in,
    what came out, how many epochs (warm: started from the previous run's fit)."""
    from parvis.services import notes

    with open_runtime(ctx) as runtime:
        found = runtime.read(lambda w: notes.runs(w, limit))
    if not found:
        say("No scoring run yet: `parvis notes score` runs one (the periodic job too).")
        return
    columns: list[tuple[str, int, Callable[[RunRow], str]]] = [
        ("started (UTC)", 16, lambda r: f"{r.started_at:%Y-%m-%d %H:%M}"),
        ("trigger", 7, lambda r: r.trigger),
        ("ratings", 9, lambda r: f"{r.ratings:,}"),
        ("fitted", 9, lambda r: f"{r.ratings_fitted:,}"),
        ("notes", 7, lambda r: f"{r.notes:,}"),
        ("raters", 7, lambda r: f"{r.raters:,}"),
        ("helpful", 7, lambda r: f"{r.helpful:,}"),
        ("not helpful", 11, lambda r: f"{r.not_helpful:,}"),
        ("needs more", 10, lambda r: f"{r.needs_more_ratings:,}"),
        (
            "epochs",
            14,
            lambda r: (
                f"{r.epochs}"
                + (" warm" if r.warm_started else "")
                + ("" if r.converged else " NOT conv.")
            ),
        ),
        ("loss", 12, lambda r: f"{r.loss:,.3f}"),
        ("seconds", 7, lambda r: f"{(r.finished_at - r.started_at).total_seconds():.1f}"),
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, (_, w, _)) in enumerate(zip(cells, columns, strict=True))
        ).rstrip()

    say(line([title for title, _, _ in columns]))
    for run in found:
        say(line([cell(run) for _, _, cell in columns]))
