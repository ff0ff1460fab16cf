"""Backup-to-serving: how long it takes to move a whole server to a new data directory, as a
ratio to a bare copy of the same bytes (the anchor), measured in the same run.

- Parvis: `parvis backup DIR` (SQLite's online backup API, media and key files, SHA-256
  manifest), then `parvis restore DIR` into an empty data directory (every byte checked against
  the manifest, then the migrations), then `parvis serve` on the new directory until its first
  successful answer to `GET /api/v1/timelines/public?limit=20`. Three real processes, as an
  operator runs them; the total is the figure.
- anchor: `shutil.copytree` of the data directory (the database and the media files), in this
  process: what moving the bytes costs with nothing checked and nothing served.

The dataset is the seeded network of bench/_common.py (tier M by default: 10,000 accounts and
1M posts; `--tier quick` seeds in about a minute), with `--media-files` synthetic files of
`--media-kib` KiB added under media/ once (the seeded network has no media). SQLite only.

    .venv/bin/python bench/backup.py                 # tier M (seeding takes ~8 min once)
    .venv/bin/python bench/backup.py --tier quick --pairs 3
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import _common as common
from rich.console import Console
from rich.table import Table

CLI = "import parvis.cli.backup; from parvis.cli import main; main()"


def add_media(data_dir: Path, count: int, kib: int) -> int:
    """Synthetic media files (random bytes, like compressed images), made once per dataset."""
    folder = data_dir / "media" / "bench"
    rng = random.Random(count * 7919 + kib)
    total = 0
    for i in range(count):
        path = folder / f"{i // 256:02x}" / f"{i:06d}.bin"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(rng.randbytes(kib * 1024))
        total += path.stat().st_size
    return total


def sync_tree(root: Path) -> float:
    """Seconds to fsync every file and directory of a copied tree (not part of the anchor:
    shown beside it, since backup and restore make their files durable)."""
    started = time.perf_counter()
    for path in [*root.rglob("*"), root]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return time.perf_counter() - started


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def cli(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=env,
        cwd=common.ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def first_answer(env: dict[str, str], data_dir: Path, log: Path) -> float:
    """Seconds from starting `parvis serve` on data_dir to its first 200 on the public
    timeline; the server is stopped again."""
    port = common.free_port()
    started = time.perf_counter()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parvis.cli",
                "--data-dir",
                str(data_dir),
                "serve",
                "--port",
                str(port),
                "--no-worker",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=common.ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/api/v1/timelines/public?limit=20"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"parvis serve exited with {proc.returncode}: see {log}")
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200 and answer.read().startswith(b"["):
                        return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.02)
            if time.perf_counter() - started > 300:
                raise RuntimeError("no answer after 300 s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def count_statuses(database: Path) -> int:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM statuses").fetchone()[0])
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Backup-to-serving vs a bare copy anchor.")
    common.add_dataset_args(parser)
    parser.set_defaults(tier="M")
    parser.add_argument("--pairs", type=int, default=2, help="anchor/Parvis pairs (default 2)")
    parser.add_argument(
        "--media-files", type=int, default=2000, help="synthetic media files (default 2,000)"
    )
    parser.add_argument(
        "--media-kib", type=int, default=48, help="size of each media file (default 48 KiB)"
    )
    parser.add_argument(
        "--scratch",
        type=Path,
        default=None,
        help="where backups and copies go (default: a temporary directory beside the data)",
    )
    args = parser.parse_args()
    if args.backend != "sqlite":
        raise SystemExit("bench/backup.py measures SQLite (PostgreSQL goes through pg_dump)")
    host = common.host_info()
    ds = common.dataset_from_args(args)
    seed_report = common.ensure_dataset(ds, reseed=args.reseed)
    media_bytes = add_media(ds.data_dir, args.media_files, args.media_kib)
    # A checkpoint first: the data directory at rest, the same bytes for both.
    conn = sqlite3.connect(ds.data_dir / "parvis.sqlite3")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    total_bytes = tree_bytes(ds.data_dir)
    expected = count_statuses(ds.data_dir / "parvis.sqlite3")
    env = ds.server_env()
    env.pop("PARVIS_DATA_DIR")
    print(
        f"data directory: {total_bytes / 2**20:,.0f} MiB "
        f"({media_bytes / 2**20:,.0f} MiB of {args.media_files:,} media files), "
        f"{expected:,} statuses"
    )
    scratch_root = args.scratch or common.DATA
    scratch_root.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=scratch_root, prefix="backup-bench-") as scratch:
        base = Path(scratch)
        for pair in range(1, args.pairs + 1):
            order = ("anchor", "parvis") if pair % 2 else ("parvis", "anchor")
            for target in order:
                if target == "anchor":
                    copy = base / f"copy-{pair}"
                    started = time.perf_counter()
                    shutil.copytree(ds.data_dir, copy)
                    seconds = time.perf_counter() - started
                    synced = seconds + sync_tree(copy)
                    shutil.rmtree(copy)
                    runs.append(
                        {"target": "anchor", "pair": pair, "seconds": seconds, "synced_s": synced}
                    )
                    print(
                        f"pair {pair} anchor copytree {seconds:7.2f} s (then fsync: {synced:.2f})"
                    )
                    continue
                backup_dir, restored = base / f"backup-{pair}", base / f"restored-{pair}"
                t_backup = cli(env, "--data-dir", str(ds.data_dir), "backup", str(backup_dir))
                t_restore = cli(env, "--data-dir", str(restored), "restore", str(backup_dir))
                log = common.DATA / "logs" / "backup-bench-serve.log"
                t_serve = first_answer(env, restored, log)
                restored_count = count_statuses(restored / "parvis.sqlite3")
                if restored_count != expected:
                    raise SystemExit(f"restored {restored_count} statuses, expected {expected}")
                backup_size = tree_bytes(backup_dir)
                shutil.rmtree(backup_dir)
                shutil.rmtree(restored)
                total = t_backup + t_restore + t_serve
                runs.append(
                    {
                        "target": "parvis",
                        "pair": pair,
                        "backup_s": t_backup,
                        "restore_s": t_restore,
                        "first_answer_s": t_serve,
                        "seconds": total,
                        "backup_bytes": backup_size,
                    }
                )
                print(
                    f"pair {pair} parvis  total    {total:7.2f} s  (backup {t_backup:.2f}, "
                    f"restore {t_restore:.2f}, first answer {t_serve:.2f})"
                )

    def of(target: str, key: str = "seconds") -> list[float]:
        return [r[key] for r in runs if r["target"] == target]

    ratios = [
        next(r["seconds"] for r in runs if r["target"] == "parvis" and r["pair"] == p)
        / next(r["seconds"] for r in runs if r["target"] == "anchor" and r["pair"] == p)
        for p in range(1, args.pairs + 1)
    ]
    median = {
        "anchor_s": statistics.median(of("anchor")),
        "anchor_synced_s": statistics.median(of("anchor", "synced_s")),
        "parvis_s": statistics.median(of("parvis")),
        "backup_s": statistics.median(of("parvis", "backup_s")),
        "restore_s": statistics.median(of("parvis", "restore_s")),
        "first_answer_s": statistics.median(of("parvis", "first_answer_s")),
        "ratio": statistics.median(ratios),
    }
    mib = total_bytes / 2**20
    table = Table(
        title=f"Backup-to-serving, tier {ds.tier} ({mib:,.0f} MiB), median of {args.pairs}"
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("anchor: copytree of the data directory", f"{median['anchor_s']:.2f} s")
    table.add_row("  anchor throughput", f"{mib / median['anchor_s']:,.0f} MiB/s")
    table.add_row(
        "  extra: the copy, then fsync of every file", f"{median['anchor_synced_s']:.2f} s"
    )
    table.add_row("parvis backup (online copy + checksums)", f"{median['backup_s']:.2f} s")
    table.add_row("parvis restore (check + copy + migrate)", f"{median['restore_s']:.2f} s")
    table.add_row("parvis serve: start to first answer", f"{median['first_answer_s']:.2f} s")
    table.add_row("backup-to-serving total", f"{median['parvis_s']:.2f} s")
    table.add_row("ratio total / anchor (median of pairs)", f"{median['ratio']:.2f}")
    table.add_row(
        "extra: ratio backup + restore / anchor",
        f"{(median['backup_s'] + median['restore_s']) / median['anchor_s']:.2f}",
    )
    Console(width=max(Console().width, 100)).print(table)
    payload = {
        "workload": "backup-to-serving",
        "date": common.now_iso(),
        "dataset": ds.describe(),
        "seed_report": {k: seed_report.get(k) for k in ("accounts", "follows", "statuses")},
        "data_bytes": total_bytes,
        "media_files": args.media_files,
        "media_bytes": media_bytes,
        "pairs": args.pairs,
        "runs": runs,
        "median": median,
        "versions": common.versions(),
        "host": host,
        "cpu_count": os.cpu_count(),
    }
    path = common.write_result("backup", ds, payload)
    print(f"results: {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
