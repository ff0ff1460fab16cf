"""The composition root: the only place that picks concrete implementations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware

from parvis.api.application import build_asgi
from parvis.api.streaming import Publisher
from parvis.config import Settings
from parvis.federation.routes import federation_routes
from parvis.jobs import mail
from parvis.jobs.http import HttpClient
from parvis.jobs.queue import HueyQueue, make_huey, start_embedded_worker
from parvis.jobs.runtime import InlineQueue, Runtime
from parvis.services import rules
from parvis.services.context import Clock, system_clock
from parvis.storage.counters import Counters, MemoryCounters, RedisCounters
from parvis.storage.database import Database
from parvis.storage.feeds import RedisFeedStore, SqlFeedStore
from parvis.storage.files import LocalFiles
from parvis.storage.migrate import upgrade
from parvis.storage.pubsub import Broker, InProcessBroker, RedisBroker
from parvis.storage.store import FeedFactory, Stores
from parvis.web.pages import CsrfRefused, csrf_refused
from parvis.web.routes import web_routes

log = logging.getLogger("parvis")


@dataclass
class Parvis:
    settings: Settings
    db: Database
    runtime: Runtime
    huey: Any | None = None

    def close(self) -> None:
        if self.runtime.broker is not None:
            self.runtime.broker.close()
        self.db.dispose()


def build(
    settings: Settings | None = None, *, clock: Clock = system_clock, migrate: bool = False
) -> Parvis:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url()
    db = Database(url)
    if migrate:
        upgrade(db)
    feed_factory: FeedFactory = SqlFeedStore
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        redis_feeds = RedisFeedStore(client, settings.home_feed_cap)
        feed_factory = lambda _conn: redis_feeds  # noqa: E731
    stores = Stores(db, feed_factory)
    files = LocalFiles(settings.media_dir)
    ref: list[Runtime] = []
    huey = None
    if settings.jobs_immediate:
        inline = InlineQueue()
        runtime = Runtime(stores=stores, settings=settings, files=files, queue=inline, clock=clock)
        inline.runtime = runtime
    else:
        huey = make_huey(settings, url)
        runtime = Runtime(
            stores=stores, settings=settings, files=files, queue=HueyQueue(huey, ref), clock=clock
        )
    # Streaming: one process shares events in memory; with Redis, every process hears them.
    broker: Broker = RedisBroker(settings.redis_url) if settings.redis_url else InProcessBroker()
    runtime.broker = broker
    runtime.publisher = Publisher(broker, settings)
    runtime.mailer = mail.from_settings(settings)  # None without PARVIS_SMTP_URL
    if settings.federation_enabled:
        runtime.http = HttpClient(settings)
    ref.append(runtime)
    if migrate:  # the versioned rules start as the configured ones (services/rules.py)
        runtime.write(rules.seed)
    return Parvis(settings=settings, db=db, runtime=runtime, huey=huey)


def create_app(parvis: Parvis | None = None, *, embedded_worker: bool | None = None) -> Starlette:
    """The ASGI application: Mastodon API, OAuth, ActivityPub and the web app."""
    parvis = parvis or build(migrate=True)
    start_worker = parvis.settings.embedded_worker if embedded_worker is None else embedded_worker
    consumer = None

    def on_startup() -> None:
        nonlocal consumer
        if start_worker and parvis.huey is not None:
            consumer = start_embedded_worker(parvis.huey)

    def on_shutdown() -> None:
        if consumer is not None:
            consumer.stop(graceful=True)
        parvis.close()

    counters: Counters = (
        RedisCounters(redis.Redis.from_url(parvis.settings.redis_url))
        if parvis.settings.redis_url
        else MemoryCounters()
    )
    asgi = build_asgi(
        parvis.runtime, on_startup=on_startup, on_shutdown=on_shutdown, rate_counters=counters
    )
    asgi.router.routes.extend(federation_routes())
    asgi.router.routes.extend(web_routes())
    asgi.add_exception_handler(CsrfRefused, csrf_refused)
    if parvis.settings.compress_responses:
        # Event streams and images are left alone (Starlette's default exclusions). Pages
        # carry CSRF tokens masked afresh on every response, so compression leaks nothing.
        asgi.add_middleware(GZipMiddleware, minimum_size=1024)
    return asgi
