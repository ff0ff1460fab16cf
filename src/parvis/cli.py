"""The `parvis` command: serve, run the job worker, migrate, manage users, seed test networks,
announcements, the moderation registers (trusted flaggers, authority orders, moderator roster,
rules), the interface catalogues.

One file for every command (over 600 lines): each command is a thin typer function whose help
text is the operator's documentation, and imports what it needs inside (the CLI starts fast).

Settings come from the environment (PARVIS_*, DATABASE_URL, REDIS_URL, or a .env file), like the
server's; `--data-dir` overrides PARVIS_DATA_DIR for every command.

Commands import what they need inside their bodies, on purpose: `parvis --help` stays instant,
and the processes uvicorn spawns for `serve --workers N` (which re-import this module) do not
load the whole server twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
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

from parvis.config import RegistrationMode, Settings
from parvis.domain.errors import DomainError

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    from parvis.services.context import Work

T = TypeVar("T")

app = typer.Typer(
    name="parvis",
    help="Parvis: a public square on the fediverse. Run the server and administer it.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
user_app = typer.Typer(
    help="Manage local users: create them, change roles, suspend, approve.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(user_app, name="user")

console = Console()
errors = Console(stderr=True)


class Role(StrEnum):
    user = "user"
    moderator = "moderator"
    admin = "admin"


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where the SQLite database, media and job queue live "
            "(overrides PARVIS_DATA_DIR; default ./data).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Parvis: a public square on the fediverse. Run the server and administer it."""
    ctx.obj = {"data_dir": data_dir}


def settings_for(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings from the environment, with --data-dir and `overrides` on top."""
    values: dict[str, Any] = {}
    root = ctx.find_root().obj or {}
    if root.get("data_dir") is not None:
        values["data_dir"] = root["data_dir"]
    values.update(overrides)
    return Settings(**values)


def fail(message: str) -> typer.Exit:
    errors.print(f"Error: {message}", markup=False, highlight=False)
    return typer.Exit(code=1)


# --- serve, worker, migrate -----------------------------------------------------------------


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes. With more than one, the embedded job worker is off: "
            "run `parvis worker` beside them.",
            min=1,
        ),
    ] = 1,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            help="Do not start the embedded job worker thread (run `parvis worker` instead).",
        ),
    ] = False,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
    log_level: Annotated[
        str, typer.Option(help="Server log level: critical, error, warning, info, debug.")
    ] = "info",
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="Trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind a proxy).",
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="Proxies whose X-Forwarded-* headers are trusted.")
    ] = "127.0.0.1",
    worker_start_timeout: Annotated[
        int,
        typer.Option(
            help="With --workers > 1: seconds a server process may take to start or answer "
            "the supervisor's health check before it is restarted.",
            min=1,
        ),
    ] = 30,
) -> None:
    """Run the web server (migrating the database first), with the job worker inside it."""
    import uvicorn

    from parvis.app import build
    from parvis.storage.migrate import current

    settings = settings_for(ctx)
    instance = build(settings, migrate=True)
    revision = current(instance.db)
    instance.close()
    embedded = settings.embedded_worker and not no_worker and not settings.jobs_immediate
    if workers > 1 and embedded:
        embedded = False
        console.print(
            f"{workers} server processes: the embedded job worker is off. "
            "Run `parvis worker` beside them, or background jobs will wait."
        )
    elif not embedded and not settings.jobs_immediate:
        console.print("Embedded job worker off: run `parvis worker` to process background jobs.")
    # The server processes build their own settings from the environment: pass ours on.
    root = ctx.find_root().obj or {}
    if root.get("data_dir") is not None:
        os.environ["PARVIS_DATA_DIR"] = str(Path(root["data_dir"]).resolve())
    os.environ["PARVIS_EMBEDDED_WORKER"] = "true" if embedded else "false"
    console.print(
        f"Parvis on http://{host}:{port} (schema {revision}, {workers} process"
        f"{'es' if workers > 1 else ''}, job worker {'embedded' if embedded else 'separate'})"
    )
    uvicorn.run(
        "parvis.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level=log_level,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        timeout_worker_healthcheck=worker_start_timeout,
    )


@app.command()
def worker(
    ctx: typer.Context,
    threads: Annotated[int, typer.Option(help="Worker threads running jobs.", min=1)] = 4,
    log_level: Annotated[
        str, typer.Option(help="Log level: critical, error, warning, info, debug.")
    ] = "info",
) -> None:
    """Run the background job worker (fan-out, notifications, media) until interrupted."""
    import logging

    from parvis.app import build
    from parvis.jobs.queue import POLLING

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_for(ctx)
    if settings.jobs_immediate:
        raise fail(
            "PARVIS_JOBS_IMMEDIATE is set: jobs run inline in the server, there is no queue "
            "to work on."
        )
    instance = build(settings)
    if instance.huey is None:
        raise fail("no job queue is configured")
    console.print(f"Parvis job worker: {threads} threads on {type(instance.huey).__name__}.")
    try:
        instance.huey.create_consumer(workers=threads, worker_type="thread", **POLLING).run()
    finally:
        instance.close()


@app.command()
def migrate(
    ctx: typer.Context,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Only check: exit 0 when the schema is up to date, 1 when migrations are due.",
        ),
    ] = False,
) -> None:
    """Upgrade the database schema to the latest revision (or check whether it is)."""
    from alembic.script import ScriptDirectory

    from parvis.storage.database import Database
    from parvis.storage.migrate import alembic_config, current, upgrade

    settings = settings_for(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url())
    try:
        head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
        if check:
            now = current(db)
            if now != head:
                raise fail(
                    f"the schema is at {now or 'nothing'}, the code wants {head}: "
                    "run `parvis migrate`"
                )
            console.print(f"Schema up to date ({now}).")
            return
        before = current(db)
        upgrade(db)
        after = current(db)
        if before == after:
            console.print(f"Schema already up to date ({after}).")
        else:
            console.print(f"Schema upgraded from {before or 'nothing'} to {after}.")
    finally:
        db.dispose()


# --- users ----------------------------------------------------------------------------------


@contextmanager
def _runtime(ctx: typer.Context, **overrides: Any) -> Iterator[Any]:
    from parvis.app import build

    instance = build(settings_for(ctx, **overrides), migrate=True)
    try:
        yield instance.runtime
    finally:
        instance.close()


def _write(ctx: typer.Context, use_case: Callable[[Work], T], **overrides: Any) -> T:
    with _runtime(ctx, **overrides) as runtime:
        try:
            result: T = runtime.write(use_case)
        except DomainError as exc:
            raise fail(exc.message) from None
        return result


def _account_id(work: Work, username: str) -> int:
    from parvis.domain.errors import NotFound
    from parvis.services import accounts

    try:
        return accounts.lookup(work, username).id
    except NotFound:
        raise NotFound(f"no account named {username!r} on this server") from None


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The new user's name (letters, digits, _).")],
    email: Annotated[str, typer.Argument(help="The new user's e-mail address.")],
    password: Annotated[
        str | None,
        typer.Option(help="The password (8 to 256 characters); asked for when left out."),
    ] = None,
    role: Annotated[Role, typer.Option(help="user, moderator or admin.")] = Role.user,
) -> None:
    """Create a local user, approved and confirmed (whatever the registration mode)."""
    from parvis.services import accounts

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    registration = accounts.Registration(
        username=username, email=email, password=password, agreement=True
    )

    def create(work: Work) -> int:
        user = accounts.register(work, registration, role=role.value)
        return user.account_id

    # The command line acts for the administrators: registration mode and e-mail
    # confirmation do not apply.
    account_id = _write(
        ctx, create, registrations=RegistrationMode.OPEN, require_email_confirmation=False
    )
    console.print(f"Created {role.value} {username} (account {account_id}).")


@user_app.command("role")
def user_role(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
    role: Annotated[Role, typer.Argument(help="user, moderator or admin.")],
) -> None:
    """Change a local user's role."""
    from parvis.services import accounts

    _write(ctx, lambda work: accounts.set_role(work, _account_id(work, username), role.value))
    console.print(f"{username} is now {role.value}.")


@user_app.command("suspend")
def user_suspend(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
) -> None:
    """Suspend an account: it can no longer sign in, and its tokens are revoked."""
    from parvis.services import accounts

    _write(ctx, lambda work: accounts.set_suspended(work, _account_id(work, username), True))
    console.print(f"{username} is suspended.")


@user_app.command("unsuspend")
def user_unsuspend(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
) -> None:
    """Lift an account's suspension."""
    from parvis.services import accounts

    _write(ctx, lambda work: accounts.set_suspended(work, _account_id(work, username), False))
    console.print(f"{username} is no longer suspended.")


@user_app.command("approve")
def user_approve(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
) -> None:
    """Approve a sign-up waiting for the moderators (approval mode)."""
    from parvis.services import accounts

    _write(ctx, lambda work: accounts.approve(work, _account_id(work, username)))
    console.print(f"{username} is approved.")


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


# --- announcements ----------------------------------------------------------------------------

announcement_app = typer.Typer(
    help="List and delete the announcements users see (publish them with `parvis announce`).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(announcement_app, name="announcement")


def _moment(value: str | None, name: str) -> Any:
    """An ISO 8601 date or date-time; without a zone it is taken as UTC."""
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{name}: not an ISO 8601 date or date-time: {value!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@app.command("announce")
def announce(
    ctx: typer.Context,
    text: Annotated[
        str, typer.Argument(help="The announcement, as plain text (links, @mentions, #tags).")
    ],
    starts: Annotated[
        str | None,
        typer.Option(help="When the announced event starts (ISO 8601, UTC unless a zone)."),
    ] = None,
    ends: Annotated[
        str | None,
        typer.Option(help="When it ends; the announcement is hidden afterwards (ISO 8601)."),
    ] = None,
    all_day: Annotated[
        bool,
        typer.Option("--all-day", help="The event lasts whole days (needs --starts and --ends)."),
    ] = False,
) -> None:
    """Publish an announcement to every user of this server."""
    from parvis.services import announcements

    starts_at, ends_at = _moment(starts, "--starts"), _moment(ends, "--ends")
    aid = _write(
        ctx,
        lambda work: announcements.publish(
            work, text, starts_at=starts_at, ends_at=ends_at, all_day=all_day
        ),
    )
    console.print(f"Published announcement {aid}.")


@announcement_app.command("list")
def announcement_list(ctx: typer.Context) -> None:
    """List every announcement, the newest first, with its reactions."""
    from parvis.services import announcements

    found = _write(ctx, announcements.every)
    if not found:
        console.print("No announcements.")
    for a in found:
        when = " ".join(
            part
            for part in (
                f"from {a.starts_at.isoformat()}" if a.starts_at else "",
                f"until {a.ends_at.isoformat()}" if a.ends_at else "",
                "(all day)" if a.all_day else "",
            )
            if part
        )
        reactions = " ".join(f"{r.name} {r.count}" for r in a.reactions)
        console.print(
            f"{a.id}  published {a.published_at:%Y-%m-%d %H:%M} UTC  {when}  {reactions}".rstrip(),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"    {a.text}", markup=False, highlight=False, soft_wrap=True)


@announcement_app.command("delete")
def announcement_delete(
    ctx: typer.Context,
    announcement_id: Annotated[int, typer.Argument(help="The id shown by `announcement list`.")],
) -> None:
    """Delete an announcement (with its reactions and who read it)."""
    from parvis.services import announcements

    _write(ctx, lambda work: announcements.remove(work, announcement_id))
    console.print(f"Deleted announcement {announcement_id}.")


# --- moderation registers: trusted flaggers, authority register, roster, rules ----------------

flaggers_app = typer.Typer(
    help="The trusted flaggers (DSA art. 22): their notices take the priority lane.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(flaggers_app, name="flaggers")
authority_app = typer.Typer(
    help="The authority register (DSA arts. 9, 10, 18): orders received, escalations sent.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(authority_app, name="authority")
moderators_app = typer.Typer(
    help="The moderator roster: languages, country, training, paid or volunteer.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(moderators_app, name="moderators")
rules_app = typer.Typer(
    help="The server's rules, versioned (DSA art. 14); users are told of every change.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(rules_app, name="rules")


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "-"


@flaggers_app.command("add")
def flaggers_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The entity's name (never a person).")],
    coordinator: Annotated[
        str, typer.Option(help="The Digital Services Coordinator that awarded the status.")
    ],
    member_state: Annotated[str, typer.Option(help="That coordinator's member state (FR, DE, …).")],
    area: Annotated[
        list[str] | None,
        typer.Option(help="An area of expertise, as an offence key (repeat); none: all areas."),
    ] = None,
    account: Annotated[
        str | None, typer.Option(help="The account it reports from (user@domain for remote).")
    ] = None,
) -> None:
    """Register a trusted flagger."""
    from parvis.services import trusted_flaggers

    def add(work: Work) -> Any:
        account_id = _account_id(work, account) if account else None
        new = trusted_flaggers.NewFlagger(
            name=name,
            coordinator=coordinator,
            member_state=member_state,
            areas=tuple(area or ()),
            account_id=account_id,
        )
        return trusted_flaggers.register(work, new)

    made = _write(ctx, add)
    _say(f"Registered trusted flagger {made.id}: {made.name}.")


@flaggers_app.command("list")
def flaggers_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked flaggers.")] = False,
) -> None:
    """List the trusted flaggers with their accuracy over the misuse window."""
    from parvis.services import trusted_flaggers

    def run(work: Work) -> Any:
        scores = trusted_flaggers.accuracies(work)
        return [(f, scores[f.id]) for f in trusted_flaggers.every(work, with_revoked=all_)]

    found = _write(ctx, run)
    if not found:
        _say("No trusted flaggers.")
    for f, score in found:
        state = f"revoked {_when(f.revoked_at)}" if f.revoked_at else "active"
        precision = "-" if score.precision is None else f"{score.precision:.0%}"
        review = "  REVIEW: many unsubstantiated notices (art. 22(6))" if score.review else ""
        _say(
            f"{f.id}  {f.name}  ({f.coordinator}, {f.member_state})  {state}  "
            f"areas: {', '.join(f.areas) or 'all'}  notices {score.notices}: "
            f"{score.restricted} acted on, {score.rejected} rejected, {score.pending} pending, "
            f"precision {precision}{review}"
        )


@flaggers_app.command("revoke")
def flaggers_revoke(
    ctx: typer.Context,
    flagger_id: Annotated[int, typer.Argument(help="The id shown by `flaggers list`.")],
) -> None:
    """End a trusted flagger's status; its later notices take the ordinary lanes."""
    from parvis.services import trusted_flaggers

    _write(ctx, lambda work: trusted_flaggers.revoke(work, flagger_id))
    _say(f"Trusted flagger {flagger_id} revoked.")


class OrderKind(StrEnum):
    act = "act"
    info = "info"
    escalation = "escalation"


def _category(value: str) -> str:
    value = value.strip().upper()
    return value if value.startswith("STATEMENT_CATEGORY_") else f"STATEMENT_CATEGORY_{value}"


@authority_app.command("record")
def authority_record(
    ctx: typer.Context,
    kind: Annotated[
        OrderKind,
        typer.Argument(
            help="act: an order to act (art. 9); info: to provide information (art. 10); "
            "escalation: a threat to life or safety we reported (art. 18)."
        ),
    ],
    authority_name: Annotated[
        str, typer.Argument(metavar="AUTHORITY", help="The issuing (or informed) authority.")
    ],
    member_state: Annotated[
        str, typer.Option(help="Its member state (FR, DE, …; EU for Europol, escalations).")
    ],
    category: Annotated[
        str, typer.Option(help="The DSA category, e.g. ILLEGAL_OR_HARMFUL_SPEECH.")
    ],
    legal_basis: Annotated[
        str, typer.Option(help="The legal basis the order cites (orders only).")
    ] = "",
    reference: Annotated[str, typer.Option(help="The authority's reference number.")] = "",
    item: Annotated[
        list[str] | None, typer.Option(help="A URL on this server it concerns (repeat).")
    ] = None,
    received: Annotated[
        str | None,
        typer.Option(help="When received (escalation: sent), ISO 8601; default now."),
    ] = None,
    provided: Annotated[str, typer.Option(help="Escalations: the data transmitted.")] = "",
) -> None:
    """Enter an order received, or an escalation sent, in the authority register."""
    from parvis.services import authority

    new = authority.NewOrder(
        kind=kind.value,
        authority=authority_name,
        member_state=member_state,
        dsa_category=_category(category),
        legal_basis=legal_basis,
        reference=reference,
        items=tuple(item or ()),
        received_at=_moment(received, "--received"),
        provided=provided,
    )
    made = _write(ctx, lambda work: authority.record(work, None, new))
    _say(f"Recorded {made.kind} {made.id} from {made.authority}.")
    if made.not_held:
        _say(made.not_held)


@authority_app.command("ack")
def authority_ack(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(help="The id shown by `authority list`.")],
    at: Annotated[
        str | None, typer.Option(help="When the authority was told (ISO 8601); default now.")
    ] = None,
) -> None:
    """Record that the issuing authority was told the order was received."""
    from parvis.services import authority

    moment = _moment(at, "--at")
    _write(ctx, lambda work: authority.acknowledge(work, order_id, moment))
    _say(f"Order {order_id} acknowledged.")


@authority_app.command("carry-out")
def authority_carry_out(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(help="The id shown by `authority list`.")],
    effect: Annotated[str, typer.Option(help="What was done (orders to act).")] = "",
    provided: Annotated[
        str, typer.Option(help="What was handed over (orders to provide information).")
    ] = "",
    at: Annotated[
        str | None, typer.Option(help="When it was given effect (ISO 8601); default now.")
    ] = None,
) -> None:
    """Record that an order was given effect, and what was done or handed over."""
    from parvis.services import authority

    moment = _moment(at, "--at")
    _write(
        ctx,
        lambda work: authority.carry_out(
            work, order_id, effect=effect, provided=provided, at=moment
        ),
    )
    _say(f"Order {order_id} carried out.")


@authority_app.command("list")
def authority_list(
    ctx: typer.Context,
    kind: Annotated[OrderKind | None, typer.Option(help="Only this kind.")] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only orders not carried out yet.")
    ] = False,
) -> None:
    """List the authority register, the most recently received first."""
    from parvis.services import authority

    found = _write(
        ctx,
        lambda work: authority.every(work, kind=kind.value if kind else None, open_only=open_only),
    )
    if not found:
        _say("The register is empty.")
    for o in found:
        _say(
            f"{o.id}  {o.kind}  {o.authority} ({o.member_state})  ref {o.reference or '-'}  "
            f"{o.dsa_category.removeprefix('STATEMENT_CATEGORY_')}  received "
            f"{_when(o.received_at)}  acknowledged {_when(o.acknowledged_at)}  "
            f"carried out {_when(o.carried_out_at)}"
        )
        for url in o.items:
            _say(f"    {url}")
        if o.effect:
            _say(f"    effect: {o.effect}")
        if o.provided:
            _say(f"    provided: {o.provided}")


@moderators_app.command("set")
def moderators_set(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local moderator's or admin's name.")],
    language: Annotated[list[str], typer.Option(help="A language they read, ISO 639-1 (repeat).")],
    country: Annotated[str, typer.Option(help="Where they work from, ISO 3166 (FR, DE…).")],
    training: Annotated[str, typer.Option(help="The training they received (empty: none).")] = "",
    paid: Annotated[
        bool, typer.Option("--paid/--volunteer", help="Paid staff, or a volunteer.")
    ] = False,
) -> None:
    """Put a moderator on the roster, or update their entry."""
    from parvis.services import roster

    _write(
        ctx,
        lambda work: roster.set_entry(
            work,
            _account_id(work, username),
            languages=language,
            country=country,
            training=training,
            paid=paid,
        ),
    )
    _say(f"{username} is on the moderator roster.")


@moderators_app.command("leave")
def moderators_leave(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A moderator on the roster.")],
) -> None:
    """Take a moderator off the roster from now on (past periods still count them)."""
    from parvis.services import roster

    _write(ctx, lambda work: roster.leave(work, _account_id(work, username)))
    _say(f"{username} left the moderator roster.")


@moderators_app.command("list")
def moderators_list(ctx: typer.Context) -> None:
    """Show the roster and the aggregate that is published (numbers only, never names)."""
    from parvis.services import roster

    def run(work: Work) -> Any:
        entries = roster.entries(work)
        names = work.store.accounts.get_many(e.account_id for e in entries)
        return roster.aggregate(work), [
            (names[e.account_id].username if e.account_id in names else "?", e) for e in entries
        ]

    total, entries = _write(ctx, run)
    for name, e in entries:
        state = f"left {_when(e.until)}" if e.until else f"since {_when(e.since)}"
        _say(
            f"{name}  {','.join(e.languages)}  {e.country}  {'paid' if e.paid else 'volunteer'}  "
            f"{'trained' if e.training else 'no training'}  {state}"
        )
    _say(
        f"Published: {total.total} moderators; languages "
        f"{', '.join(f'{k} {v}' for k, v in total.by_language.items()) or '-'}; countries "
        f"{', '.join(f'{k} {v}' for k, v in total.by_country.items()) or '-'}; "
        f"{total.paid} paid, {total.volunteer} volunteers, {total.trained} trained."
    )


@rules_app.command("list")
def rules_list(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Every version, earlier and retired ones included.")
    ] = False,
) -> None:
    """List the rules in force (or every version)."""
    from parvis.services import rules

    found = _write(ctx, rules.history if all_ else rules.current)
    if not found:
        _say("No rules.")
    for r in found:
        until = f" until {_when(r.valid_to)}" if r.valid_to else ""
        _say(f"{r.id} v{r.version}  from {_when(r.valid_from)}{until}  {r.text}")
        if r.hint:
            _say(f"    {r.hint}")


@rules_app.command("add")
def rules_add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The rule, in plain words.")],
    hint: Annotated[str, typer.Option(help="A longer explanation, with examples.")] = "",
) -> None:
    """Add a rule (next free id); users are told by an announcement."""
    from parvis.services import rules

    made = _write(ctx, lambda work: rules.add(work, text, hint))
    _say(f"Added rule {made.id}.")


@rules_app.command("change")
def rules_change(
    ctx: typer.Context,
    rule_id: Annotated[str, typer.Argument(help="The rule's id, as `rules list` shows it.")],
    text: Annotated[str, typer.Argument(help="The rule's new wording.")],
    hint: Annotated[
        str | None, typer.Option(help="A new explanation (left out: keep the current one).")
    ] = None,
) -> None:
    """Change a rule: a new version from now on; decisions keep citing the old one."""
    from parvis.services import rules

    made = _write(ctx, lambda work: rules.change(work, rule_id, text, hint))
    _say(f"Rule {made.id} is now at version {made.version}.")


@rules_app.command("retire")
def rules_retire(
    ctx: typer.Context,
    rule_id: Annotated[str, typer.Argument(help="The rule's id, as `rules list` shows it.")],
) -> None:
    """Withdraw a rule (its id is never reused); users are told by an announcement."""
    from parvis.services import rules

    _write(ctx, lambda work: rules.retire(work, rule_id))
    _say(f"Rule {rule_id} retired.")


# --- i18n -------------------------------------------------------------------------------------

i18n_app = typer.Typer(
    help="Translations of the web interface: extract its strings, update the catalogues.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(i18n_app, name="i18n")

PROJECT = Path(__file__).resolve().parents[2]  # the source checkout: src/parvis/cli.py
CATALOGUE_LOCALES = ("fr",)  # English is the source language: it has no catalogue
_DATES = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')
TEMPLATE_HEADER = """\
# The translatable strings of the Parvis web interface.
# Made by `parvis i18n update` from babel.cfg: do not edit; translate in <locale>/LC_MESSAGES."""


def extract_messages(project: Path = PROJECT) -> Any:
    """Every translatable string of the web app (templates and Python, as `babel.cfg` says),
    as a Babel catalogue: the template (`messages.pot`) of the translations."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    from parvis import __version__

    with (project / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    web = ("src", "src/parvis", "src/parvis/web")

    def inside_web(directory: str) -> bool:
        relative = Path(directory).relative_to(project).as_posix()
        name = Path(directory).name
        return not name.startswith((".", "_")) and (
            relative in web or relative.startswith("src/parvis/web/")
        )

    catalog = Catalog(
        project="Parvis",
        version=__version__,
        copyright_holder="The Parvis authors",
        charset="utf-8",
        fuzzy=False,
        header_comment=TEMPLATE_HEADER,
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        project,
        method_map,
        options_map,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
        directory_filter=inside_web,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write_catalogue(path: Path, catalog: Any) -> bool:
    """Write a .pot/.po file unless only its dates would change; True when written."""
    import io

    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(
        buffer, catalog, width=100, sort_by_file=True, ignore_obsolete=True, include_lineno=False
    )
    new = buffer.getvalue()

    def dateless(data: bytes) -> list[bytes]:
        return [line for line in data.splitlines() if not line.startswith(_DATES)]

    if path.exists() and dateless(path.read_bytes()) == dateless(new):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(new)
    return True


@i18n_app.command("update")
def i18n_update(
    project: Annotated[
        Path,
        typer.Option(
            help="The source checkout holding babel.cfg and src/parvis/web.",
            file_okay=False,
            exists=True,
        ),
    ] = PROJECT,
) -> None:
    """Extract the web app's strings into messages.pot and merge them into every catalogue
    (fr), keeping the translations made; then say what is left to translate."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    if not (project / "babel.cfg").exists():
        raise fail(f"{project / 'babel.cfg'} not found: run this in a source checkout.")
    catalogues = project / "src" / "parvis" / "web" / "i18n"
    template = extract_messages(project)
    _write_catalogue(catalogues / "messages.pot", template)
    console.print(f"{len(template)} strings extracted into {catalogues / 'messages.pot'}.")
    for locale in CATALOGUE_LOCALES:
        po = catalogues / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as f:
                catalog = read_po(f, locale=locale)
        else:
            catalog = Catalog(
                locale=locale,
                project="Parvis",
                copyright_holder="The Parvis authors",
                fuzzy=False,
                header_comment=f"# {locale} translations of the Parvis web interface.",
            )
        catalog.update(template, update_header_comment=False)
        _write_catalogue(po, catalog)
        todo = sum(1 for m in catalog if m.id and (m.fuzzy or not _translated(m.string)))
        console.print(f"{locale}: {len(catalog)} strings, {todo} to translate or review.")


def _translated(string: Any) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


# --- the DSA Transparency Database ------------------------------------------------------------

transparency_app = typer.Typer(
    help="Statements of reasons (DSA Art. 17) and the DSA Transparency Database (Art. 24(5)).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(transparency_app, name="transparency")


@transparency_app.command("submit")
def transparency_submit(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="The Transparency Database API's base URL (default: PARVIS_TDB_ENDPOINT), "
            "e.g. the sandbox's, then https://transparency.dsa.ec.europa.eu. The API token "
            "is read from PARVIS_TDB_TOKEN only (never on the command line)."
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Statements per call (the database takes 100 at most).", min=1)
    ] = 100,
    attempts: Annotated[
        int,
        typer.Option(help="Tries per batch, with exponential backoff, before stopping.", min=1),
    ] = 4,
) -> None:
    """Send the statements of reasons of every restriction not yet in the DSA Transparency
    Database. Safe to run at any time: a statement is never sent twice. The server does the
    same every 10 minutes when PARVIS_TDB_ENDPOINT is set. Exits with 1 when the database
    could not be reached or refused a statement (each refusal is printed with its reasons)."""
    from parvis.services import statements

    settings = settings_for(ctx)
    url = endpoint or settings.tdb_endpoint
    if not url:
        raise fail("no Transparency Database endpoint: set PARVIS_TDB_ENDPOINT or --endpoint")
    if batch_size > statements.BATCH:
        raise fail(f"--batch-size: the database takes {statements.BATCH} statements at most")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with _runtime(ctx) as runtime:
        total = runtime.read(lambda work: work.store.statements.count_unsubmitted())
        with (
            statements.TdbClient(url, settings.tdb_token) as client,
            Progress(*columns, console=console) as progress,
        ):
            task = progress.add_task("statements of reasons", total=total)
            report = statements.submit_pending(
                runtime,
                client,
                batch_size=batch_size,
                attempts=attempts,
                progress=lambda n: progress.advance(task, n),
            )
    console.print(
        f"{report.submitted} submitted, {report.already} already stored, "
        f"{len(report.refused)} refused."
    )
    for puid, problems in report.refused.items():
        errors.print(f"refused {puid}: {'; '.join(problems)}", markup=False, highlight=False)
    if report.error:
        raise fail(f"{report.error}; {report.left} left for the next run")
    if report.refused:
        raise typer.Exit(code=1)


# --- the public moderation log ----------------------------------------------------------------

log_app = typer.Typer(
    help="The public moderation log: check that a server never rewrote its history.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(log_app, name="log")

# The HTTP transport `log verify` uses (None: the network). Tests point it at an in-process app.
log_transport: Any = None


@log_app.command("verify")
def log_verify(
    url: Annotated[
        str, typer.Argument(help="The Parvis server's address, e.g. https://parvis.example")
    ],
    state: Annotated[
        Path | None,
        typer.Option(
            help="Where to remember the last verified checkpoint "
            "(default ~/.cache/parvis/log-<host>.json).",
            dir_okay=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Pin the log's public key (as the server publishes it: "
            "<origin>+<key id>+<base64 key>, or 32 bytes in base64) instead of trusting the "
            "key first seen."
        ),
    ] = None,
) -> None:
    """Download a server's public moderation log and prove that no past entry was altered,
    reordered or removed: every checkpoint is signed by the log's key and extends the one
    before it, the entries rebuild every signed root, and the log extends the one verified on
    the previous run (remembered in the state file; the key is trusted on first use unless
    --key pins it). Exits with 0 when the log verifies, 1 with the reason otherwise."""
    from urllib.parse import urlsplit

    from parvis.services import transparency_log_verify as audit

    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise fail(f"{url!r} is not a server address (https://host)")
    path = state or audit.default_state_path(url)
    columns = (TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        try:
            report = audit.verify(url, path, key=key, transport=log_transport, progress=advance)
        except audit.VerifyFailed as exc:
            raise fail(f"the moderation log of {url} does not verify: {exc}") from None
    _say(
        f"Verified {report.origin}: {report.tree_size} entries, {report.checkpoints} signed "
        f"checkpoints, root {report.root_hash}."
    )
    if report.previous is not None:
        _say(
            f"It extends the log of {report.previous.tree_size} entries verified on "
            f"{report.previous.verified_at}."
        )
    if report.trusted_on_first_use:
        _say(
            f"First verification: the key {report.public_key} is trusted from now on "
            f"(remembered in {path}). Compare it with the one the operator publishes."
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
