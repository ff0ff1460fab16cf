"""Background jobs on Huey: SqliteHuey on one machine, RedisHuey when REDIS_URL is set,
PostgresHuey when the database is PostgreSQL and there is no Redis."""

from __future__ import annotations

import logging
from typing import Any

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from parvis.jobs.registry import RETRIES
from parvis.jobs.runtime import Runtime, run_job
from parvis.services import statements

log = logging.getLogger("parvis.jobs")


def make_huey(settings: Any, database_url: str) -> Huey:
    if settings.redis_url:
        return RedisHuey("parvis", url=settings.redis_url)
    if database_url.startswith("postgresql"):
        dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
        return PostgresHuey("parvis", dsn=dsn)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("parvis", filename=str(settings.data_dir / "queue.sqlite3"))


class HueyQueue:
    def __init__(self, huey: Huey, runtime_ref: list[Runtime]) -> None:
        self.huey = huey
        self._runtime_ref = runtime_ref
        self._tasks = {}
        for kind, retries in RETRIES.items():
            self._tasks[kind] = huey.task(retries=retries, retry_delay=10, name=f"parvis.{kind}")(
                self._handler(kind)
            )
        # Periodic work; the federation kinds: deliveries whose retry time has come (the outbox
        # keeps the schedule), inbound activities that waited on an unreachable server, and the
        # inbox's old rows.
        for kind, schedule in (
            ("trim_feeds", crontab(minute="*/15")),
            ("publish_due", crontab(minute="*")),
            ("end_restrictions", crontab(minute="*")),
            ("deliver_due", crontab(minute="*")),
            ("retry_inbound", crontab(minute="*/5")),
            ("prune_inbox", crontab(minute="17", hour="4")),
            # Ranked feeds: viewpoints and sides (bridging), trending posts (For you), and
            # the log of served rankings.
            ("feed_viewpoints", crontab(minute="*/15")),
            ("feed_trending", crontab(minute="*/15")),
            ("prune_feed_log", crontab(minute="37", hour="4")),
            # Community notes: rescored when a rating or note changed (warm-started).
            ("score_notes", crontab(minute="*/15")),
            # Label signals (automation, coordination) for the moderators.
            ("detect_labels", crontab(minute="23")),
            # Accounts whose deletion grace ended: erased, then their tombstones removed.
            ("erase_accounts", crontab(minute="*/5")),
            # Network addresses older than PARVIS_IP_RETENTION_DAYS (all of them at 0).
            ("prune_ips", crontab(minute="41")),
        ):
            huey.periodic_task(schedule, name=f"parvis.periodic.{kind}")(self._periodic(kind))
        # Statements of reasons to the DSA Transparency Database, when PARVIS_TDB_ENDPOINT is
        # set; not a registry job: it must not hold a transaction while it talks to the database.
        huey.periodic_task(crontab(minute="*/10"), name="parvis.periodic.submit_statements")(
            lambda: statements.submit_configured(
                self._runtime_ref[0], self._runtime_ref[0].settings
            )
        )

    def _periodic(self, kind: str) -> Any:
        return lambda: run_job(self._runtime_ref[0], kind, {})

    def _handler(self, kind: str) -> Any:
        def handle(payload: dict[str, Any]) -> Any:
            return run_job(self._runtime_ref[0], kind, payload)

        return handle

    def enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        self._tasks[kind](payload)


# Huey's idle consumer backs off to one poll every 10 s; a post would then reach home feeds and
# streams up to 10 s late. A SQLite or PostgreSQL queue is polled at most every 250 ms instead
# (an indexed read of an empty table); RedisHuey blocks on the list and wakes at once anyway.
POLLING = {"initial_delay": 0.05, "backoff": 1.5, "max_delay": 0.25}


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A Huey consumer run from threads inside `parvis serve` (signals belong to the server)."""

    def _set_signal_handlers(self) -> None:
        pass


def start_embedded_worker(huey: Huey, workers: int = 2) -> EmbeddedConsumer:
    consumer = EmbeddedConsumer(
        huey, workers=workers, worker_type="thread", periodic=True, **POLLING
    )
    consumer.start()
    log.info("embedded job worker started (%d threads)", workers)
    return consumer
