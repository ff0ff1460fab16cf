"""`parvis seed`: a synthetic network for benchmarks and demonstrations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from parvis.cli import (
    app,
    console,
    fail,
    settings_for,
)

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    pass

T = TypeVar("T")


# --- seed -----------------------------------------------------------------------------------

SEED_PASSWORD = "seed-password"


def run_seed(db: Any, params: Any, *, out: Console | None = None) -> Any:
    """Seed `db` with rich progress bars; returns the SeedReport (used by bench/ too)."""
    from parvis.services.accounts import hash_password
    from parvis.storage.seed import seed

    out = out or console
    password_hash = hash_password(SEED_PASSWORD)
    columns = (
        TextColumn("{task.description:<13}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], advance=done, total=total)

        return seed(db, params, password_hash=password_hash, progress=advance)


def report_table(report: Any) -> Table:
    table = Table(title="Seeded network", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("local accounts", f"{report.accounts:,}"),
        ("follows", f"{report.follows:,}"),
        (
            "following: median / mean",
            f"{report.median_following:.0f} / {report.mean_following:.1f}",
        ),
        ("most followers", f"{report.max_followers:,}"),
        ("bench account followers", f"{report.bench_followers:,}"),
        ("statuses", f"{report.statuses:,}"),
        (
            "  originals / replies / boosts",
            f"{report.originals:,} / {report.replies:,} / {report.boosts:,}",
        ),
        ("  followers-only", f"{report.private:,}"),
        ("hashtags / tagged posts", f"{report.tags:,} / {report.tagged:,}"),
        ("mentions", f"{report.mentions:,}"),
        ("home-feed entries", f"{report.feed_rows:,}"),
        ("feeds at the cap", f"{report.feeds_capped:,}"),
        ("rows written", f"{report.rows:,}"),
        ("time", f"{report.seconds:.1f} s"),
        ("rows/s", f"{report.rows_per_second:,.0f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for phase, seconds in report.timings.items():
        table.add_row(f"  {phase}", f"{seconds:.1f} s")
    return table


@app.command("seed")
def seed_command(
    ctx: typer.Context,
    accounts: Annotated[int, typer.Option(help="Local accounts to create.", min=1)],
    posts_per_account: Annotated[
        int, typer.Option(help="Posts per account on average (replies and boosts included).", min=0)
    ],
    follows_median: Annotated[
        float, typer.Option(help="Median follows per account (lognormal out-degree).", min=1)
    ] = 40.0,
    follows_mean: Annotated[
        float | None,
        typer.Option(help="Mean follows per account (default: 2.5 x the median).", min=1),
    ] = None,
    celebrity_followers: Annotated[
        int,
        typer.Option(
            help="Exact local followers of the `bench` account (fan-out benchmark).", min=0
        ),
    ] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same network.")] = 1,
    days: Annotated[
        int, typer.Option(help="Posts are spread over this many past days.", min=1)
    ] = 30,
) -> None:
    """Fill an empty database with a realistic synthetic network (accounts, follows, posts,
    home feeds). Every seeded user's password is "seed-password"."""
    from parvis.app import build
    from parvis.storage.seed import SeedError, SeedParams

    settings = settings_for(ctx)
    instance = build(settings, migrate=True)
    params = SeedParams(
        accounts=accounts,
        posts_per_account=posts_per_account,
        follows_median=follows_median,
        follows_mean=follows_mean,
        celebrity_followers=celebrity_followers,
        seed=seed,
        days=days,
        feed_cap=settings.home_feed_cap,
        base_url=settings.base_url,
    )
    try:
        report = run_seed(instance.db, params)
    except SeedError as exc:
        raise fail(str(exc)) from None
    finally:
        instance.close()
    console.print(report_table(report))
    if celebrity_followers >= accounts:
        console.print(
            f"Note: the bench account has {report.bench_followers:,} followers "
            f"(at most accounts - 1)."
        )
