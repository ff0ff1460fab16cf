"""What the benchmarks share: dataset tiers and their cache, backends, versions, processes."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from parvis.config import Settings
from parvis.storage.database import Database
from parvis.storage.migrate import current, upgrade

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data"
RESULTS = BENCH / "results"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/parvis_bench"

# Dataset tiers. "quick" is the default: big enough for a 5,000-follower fan-out, seeded in
# about a minute. "M" is the community tier of the performance anchors (10k local users).
TIERS: dict[str, dict[str, int]] = {
    "quick": {"accounts": 6000, "posts_per_account": 10},
    "M": {"accounts": 10_000, "posts_per_account": 100},
}


@dataclass(frozen=True)
class Dataset:
    backend: str
    tier: str
    accounts: int
    posts_per_account: int
    follows_median: float
    celebrity_followers: int
    seed: int
    database_url: str
    data_dir: Path
    key: str

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": self.data_dir, "embedded_worker": False}
        if self.backend == "postgres":
            values["database_url"] = self.database_url
        values.update(overrides)
        return Settings(**values)

    def server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARVIS_")}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env["PARVIS_DATA_DIR"] = str(self.data_dir)
        env["PARVIS_EMBEDDED_WORKER"] = "false"
        if self.backend == "postgres":
            env["DATABASE_URL"] = self.database_url
        return env

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["data_dir"] = str(self.data_dir)
        out["database_url"] = _redact(self.database_url) if self.backend == "postgres" else ""
        return out


def add_dataset_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="database backend (default sqlite)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_PG,
        help=f"PostgreSQL URL for --backend postgres (default {DEFAULT_PG}); "
        "the database is created when missing; never point it at `test`",
    )
    parser.add_argument(
        "--tier",
        choices=sorted(TIERS),
        default="quick",
        help="dataset size: quick (6,000 accounts x 10 posts, default) or M "
        "(10,000 x 100 = 1M posts)",
    )
    parser.add_argument("--accounts", type=int, help="override the tier's account count")
    parser.add_argument("--posts-per-account", type=int, help="override the tier's posts")
    parser.add_argument(
        "--follows-median",
        type=float,
        default=40.0,
        help="median follows per account (default 40, mean 2.5x)",
    )
    parser.add_argument(
        "--celebrity-followers",
        type=int,
        default=5000,
        help="followers of the `bench` account (default 5,000)",
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--reseed", action="store_true", help="rebuild the dataset even if a cached one matches"
    )


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _generator_version() -> str:
    """The generator's version and the schema's head revision: a cached dataset built by
    another generator or for another schema is rebuilt."""
    from alembic.script import ScriptDirectory

    from parvis.storage.migrate import alembic_config
    from parvis.storage.seed import GENERATOR_VERSION

    db = Database("sqlite://")
    try:
        head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    finally:
        db.dispose()
    return f"g{GENERATOR_VERSION}-r{head}"


def dataset_from_args(args: argparse.Namespace) -> Dataset:
    tier = TIERS[args.tier]
    accounts = args.accounts or tier["accounts"]
    posts = (
        args.posts_per_account if args.posts_per_account is not None else tier["posts_per_account"]
    )
    name = args.tier if (args.accounts is None and args.posts_per_account is None) else "custom"
    key = (
        f"{accounts}a-{posts}p-{args.follows_median:g}m-{args.celebrity_followers}c-"
        f"s{args.seed}-{_generator_version()}"
    )
    url = args.database_url
    if args.backend == "postgres":
        database = make_url(url).database
        if database in (None, "", "test", "postgres", "template0", "template1"):
            sys.exit(f"refusing to use database {database!r} for benchmarks: pick another one")
    data_dir = DATA / f"{args.backend}-{key}"
    return Dataset(
        args.backend,
        name,
        accounts,
        posts,
        args.follows_median,
        args.celebrity_followers,
        args.seed,
        url,
        data_dir,
        key,
    )


def ensure_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
                print(f"created database {parsed.database}")
    finally:
        admin.dispose()


def _marker_ok(db: Database, key: str) -> bool:
    with db.engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT key FROM bench_dataset")).first()
        except Exception:  # no marker table: not seeded by us
            return False
    return row is not None and row[0] == key


def ensure_dataset(ds: Dataset, *, reseed: bool = False) -> dict[str, Any]:
    """Seed the dataset unless a cached copy matches; returns its seed report."""
    from parvis.cli.seed import report_table, run_seed
    from parvis.storage.seed import SeedParams

    report_file = ds.data_dir / "seed-report.json"
    settings = ds.settings()
    if ds.backend == "postgres":
        ensure_postgres_database(ds.database_url)
    db = Database(settings.effective_database_url())
    try:
        cached = report_file.exists() and not reseed
        if cached and ds.backend == "postgres":
            cached = _marker_ok(db, ds.key)
        if cached:
            upgrade(db)
            print(f"reusing dataset {ds.key} ({ds.backend}, schema {current(db)})")
            return dict(json.loads(report_file.read_text()))
        print(f"seeding dataset {ds.key} on {ds.backend} ...")
        if ds.backend == "postgres":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        if ds.data_dir.exists():
            shutil.rmtree(ds.data_dir)
        ds.data_dir.mkdir(parents=True)
        db.dispose()
        db = Database(settings.effective_database_url())
        upgrade(db)
        params = SeedParams(
            accounts=ds.accounts,
            posts_per_account=ds.posts_per_account,
            follows_median=ds.follows_median,
            celebrity_followers=ds.celebrity_followers,
            seed=ds.seed,
            feed_cap=settings.home_feed_cap,
            base_url=settings.base_url,
        )
        report = run_seed(db, params)
        from rich.console import Console

        Console().print(report_table(report))
        data = asdict(report)
        data["rows"] = report.rows
        data["rows_per_second"] = report.rows_per_second
        if ds.backend == "postgres":
            with db.engine.begin() as conn:
                conn.execute(text("CREATE TABLE bench_dataset (key text NOT NULL)"))
                conn.execute(text("INSERT INTO bench_dataset VALUES (:k)"), {"k": ds.key})
        report_file.write_text(json.dumps(data, indent=2, default=str))
        return data
    finally:
        db.dispose()


# --- environment ----------------------------------------------------------------------------


def versions(db: Database | None = None) -> dict[str, str]:
    import sqlalchemy
    import starlette
    import uvicorn

    out = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "starlette": starlette.__version__,
        "uvicorn": uvicorn.__version__,
    }
    try:
        import psycopg

        out["psycopg"] = psycopg.__version__
    except ImportError:
        pass
    if db is not None and not db.is_sqlite:
        with db.engine.connect() as conn:
            out["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar())
    return out


def host_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "hostname": platform.node(),
        "cpus": os.cpu_count(),
        "cpu": model,
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def serve_command(port: int) -> list[str]:
    """`parvis serve` on loopback as the benchmarks run it: no job worker, no access log."""
    return [
        sys.executable,
        "-m",
        "parvis.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-worker",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {timeout} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Current resident memory (VmRSS), or one of its parts: RssAnon (heap), RssFile (mapped
    files, e.g. SQLite's mmap), RssShmem."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pair_ratios(
    by: dict[tuple[str, int], Any], pairs: list[int], subject: str, anchor: str
) -> tuple[list[float], list[float]]:
    """Per pair: the subject's throughput over the anchor's, and the anchor's CPU per request
    over the subject's (runs keyed by (target, pair), each with rps, cpu_seconds, requests)."""
    throughput = [by[subject, p].rps / by[anchor, p].rps for p in pairs]
    cpu = [
        (by[anchor, p].cpu_seconds / max(by[anchor, p].requests, 1))
        / (by[subject, p].cpu_seconds / max(by[subject, p].requests, 1))
        for p in pairs
        if by[subject, p].cpu_seconds > 0
    ]
    return throughput, cpu


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def write_result(kind: str, ds: Dataset, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{kind}-{ds.backend}-{ds.tier}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
