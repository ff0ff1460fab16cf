"""Export of everything: how long building the archive of an account with 10,000 posts takes,
as a ratio to a bare copy of a file of the same number of bytes (the anchor), in the same run.

- Parvis: `services.export.write_archive`, the function the web view (`GET
  /settings/export/archive`) calls, in this process, into a temporary file as the view spools
  it: every post read in batches and written as JSON and ActivityStreams, every other section,
  the media files (`--media` posts carry a picture of `--media-kib` KiB, random bytes: they are
  stored in the ZIP as they are, like images, which are compressed already). Once more through
  HTTP (the real view through Starlette's TestClient, signed in with a session cookie), to show
  what the web adds.
- anchor: `shutil.copyfile` of the archive just built to a new file: what moving the bytes of
  the archive costs with nothing read from the database and nothing encoded.

The account is made in a fresh SQLite data directory, its posts inserted in bulk
(`storage/bulk.py`, as `parvis seed` does). Rounds alternate Parvis and anchor; medians.

    .venv/bin/python bench/export.py                 # 10,000 posts, 500 with a 64 KiB picture
    .venv/bin/python bench/export.py --posts 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common as common
from rich.console import Console
from rich.table import Table
from starlette.testclient import TestClient

from parvis.app import Parvis, build, create_app
from parvis.config import Settings
from parvis.domain.ids import id_for_time
from parvis.services import accounts, export
from parvis.storage.bulk import insert_rows
from parvis.storage.tables import media_attachments, statuses

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def seed(parvis: Parvis, posts: int, media: int, kib: int) -> int:
    """An account with `posts` posts, `media` of them with a picture; returns its id."""
    reg = accounts.Registration("exporter", "exporter@example.org", PASSWORD, True)
    account_id = parvis.runtime.write(lambda w: accounts.register(w, reg).account_id)
    base = parvis.settings.base_url
    start = datetime.now(UTC) - timedelta(days=400)
    rng = random.Random(posts * 31 + media)
    files = parvis.runtime.files
    status_rows: list[tuple[Any, ...]] = []
    media_rows: list[tuple[Any, ...]] = []
    with_media = set(rng.sample(range(posts), min(media, posts)))
    for i in range(posts):
        moment = start + timedelta(minutes=55 * i)
        sid = id_for_time(moment, i & 0xFFFF)
        text = f"Post {i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        status_rows.append(
            (
                sid,
                account_id,
                f"{base}/users/exporter/statuses/{sid}",
                f"{base}/@exporter/{sid}",
                True,
                sid,
                text,
                f"<p>{text}</p>",
                "",
                False,
                "public",
                "en",
                moment,
            )
        )
        if i in with_media:
            key = files.new_key("media", "png")
            files.put(key, rng.randbytes(kib * 1024))
            media_rows.append(
                (sid + 1, account_id, sid, "image", "ready", key, "image/png", kib * 1024, moment)
            )
    names = [
        "id",
        "account_id",
        "uri",
        "url",
        "local",
        "thread_root_id",
        "text",
        "content",
        "spoiler_text",
        "sensitive",
        "visibility",
        "language",
        "created_at",
    ]
    media_names = [
        "id",
        "account_id",
        "status_id",
        "type",
        "state",
        "file_key",
        "mime",
        "file_size",
        "created_at",
    ]
    with parvis.db.engine.begin() as conn:
        insert_rows(conn, statuses, names, status_rows)
        insert_rows(conn, media_attachments, media_names, media_rows)
    parvis.runtime.write(lambda w: w.store.accounts.adjust_counts(account_id, statuses_count=posts))
    return account_id


WORDS = (
    *("parvis", "place", "marché", "café", "vélo", "jardin", "soleil", "pluie", "école"),
    *("livre", "musique", "quartier", "rue", "market", "garden", "river", "bridge", "morning"),
    *("evening", "train", "station", "library", "music", "neighbours"),
)


def build_once(parvis: Parvis, account_id: int, out: Path) -> float:
    files = parvis.runtime.files
    started = time.perf_counter()
    with out.open("wb") as target:
        parvis.runtime.read(lambda w: export.write_archive(w, account_id, target, files))
    return time.perf_counter() - started


def copy_once(source: Path, target: Path) -> float:
    started = time.perf_counter()
    shutil.copyfile(source, target)
    return time.perf_counter() - started


def through_http(parvis: Parvis) -> tuple[float, int]:
    """Seconds and bytes of one download of the archive through the web view."""
    app = create_app(parvis, embedded_worker=False)
    with TestClient(app, base_url=parvis.settings.base_url) as web:
        found = CSRF.search(web.get("/login").text)
        assert found is not None
        r = web.post(
            "/login",
            data={"csrf": found.group(1), "login": "exporter@example.org", "password": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        started = time.perf_counter()
        answer = web.get("/settings/export/archive")
        elapsed = time.perf_counter() - started
        assert answer.status_code == 200, answer.text[:200]
        return elapsed, len(answer.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--media", type=int, default=500, help="posts with a picture")
    parser.add_argument("--media-kib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-http", action="store_true", help="skip the download over HTTP")
    args = parser.parse_args()
    console = Console()

    with tempfile.TemporaryDirectory(prefix="parvis-bench-export-") as tmp:
        root = Path(tmp)
        settings = Settings(
            domain="bench.test",
            scheme="https",
            data_dir=root / "data",
            jobs_immediate=True,
            embedded_worker=False,
            rate_limits_enabled=False,
        )
        parvis = build(settings, migrate=True)
        try:
            started = time.perf_counter()
            account_id = seed(parvis, args.posts, args.media, args.media_kib)
            seeded = time.perf_counter() - started
            console.print(
                f"seeded {args.posts} posts ({args.media} with {args.media_kib} KiB) "
                f"in {seeded:.1f} s"
            )
            archive, copy = root / "archive.zip", root / "copy.zip"
            build_once(parvis, account_id, archive)  # warm-up: caches, first compilation
            exports: list[float] = []
            copies: list[float] = []
            for _ in range(args.rounds):
                exports.append(build_once(parvis, account_id, archive))
                copies.append(copy_once(archive, copy))
                os.remove(copy)
            size = archive.stat().st_size
            with zipfile.ZipFile(archive) as z:
                members = len(z.namelist())
                posts_json = z.getinfo("posts.json").file_size
            http = None if args.no_http else through_http(parvis)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        finally:
            parvis.close()

    export_s, copy_s = statistics.median(exports), statistics.median(copies)
    table = Table(title=f"Export of an account with {args.posts:,} posts")
    table.add_column("what")
    table.add_column("median", justify="right")
    table.add_column("rounds", justify="right")
    table.add_row("export (services.export.write_archive)", f"{export_s * 1000:.0f} ms", "")
    table.add_row("anchor: shutil.copyfile, same bytes", f"{copy_s * 1000:.1f} ms", "")
    table.add_row("ratio export / copy", f"{export_s / copy_s:.0f}x", str(args.rounds))
    if http is not None:
        table.add_row("once through HTTP (the web view)", f"{http[0] * 1000:.0f} ms", "1")
    console.print(table)
    console.print(
        f"archive: {size / 1024**2:.1f} MiB, {members} files (posts.json "
        f"{posts_json / 1024**2:.1f} MiB uncompressed); export throughput "
        f"{args.posts / export_s:,.0f} posts/s; peak RSS of this process {peak_mb:.0f} MiB"
    )
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    path = common.RESULTS / f"export-sqlite-posts{args.posts}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    payload = {
        "posts": args.posts,
        "media": args.media,
        "media_kib": args.media_kib,
        "rounds": args.rounds,
        "archive_bytes": size,
        "export_s": exports,
        "copy_s": copies,
        "export_median_s": export_s,
        "copy_median_s": copy_s,
        "ratio": export_s / copy_s,
        "http_s": http[0] if http else None,
        "peak_rss_mb": peak_mb,
        "host": common.host_info(),
        "versions": common.versions(),
        "at": common.now_iso(),
    }
    path.write_text(json.dumps(payload, indent=2, default=str))
    console.print(f"written: {path}")


if __name__ == "__main__":
    main()
