"""The runtime every edge and job goes through: open a unit of work, run a use case, commit,
then publish the streaming events and enqueue the jobs it asked for (never before the commit)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from parvis.config import Settings
from parvis.jobs.registry import JOBS, OUTBOUND
from parvis.services import streaming
from parvis.services.context import Clock, StreamEvent, Work, system_clock
from parvis.services.fetching import Http
from parvis.services.mail import Mailer
from parvis.services.media import Files
from parvis.storage.pubsub import Broker
from parvis.storage.store import Stores

T = TypeVar("T")
log = logging.getLogger("parvis.streaming")

# Renders events and hands them to the broker (the edge knows the JSON shapes: api/streaming.py).
Publisher = Callable[[Sequence[StreamEvent]], None]


class Queue(Protocol):
    def enqueue(self, kind: str, payload: dict[str, Any]) -> None: ...


class InlineQueue:
    """Runs each job right away, in its own unit of work (tests, scripts, `jobs_immediate`)."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None

    def enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        assert self.runtime is not None
        run_job(self.runtime, kind, payload)


@dataclass
class Runtime:
    stores: Stores
    settings: Settings
    files: Files
    queue: Queue
    clock: Clock = system_clock
    hooks: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)
    broker: Broker | None = None
    publisher: Publisher | None = None
    mailer: Mailer | None = None  # None: no PARVIS_SMTP_URL, no e-mail
    http: Http | None = None  # outbound federation requests (parvis.jobs.http); None: offline

    def write(self, use_case: Callable[[Work], T]) -> T:
        with self.stores.write() as store:
            work = Work(store=store, settings=self.settings, clock=self.clock)
            result = use_case(work)
            events = (
                streaming.resolve(work)
                if self.publisher is not None and (work.events or work.status_events)
                else []
            )
        if events and self.publisher is not None:
            try:
                self.publisher(events)
            except Exception:  # a lost streaming event must not fail a committed write
                log.exception("publishing %d streaming events failed", len(events))
        for kind, payload in work.jobs:
            self.queue.enqueue(kind, payload)
        return result

    def read(self, use_case: Callable[[Work], T]) -> T:
        with self.stores.read() as store:
            work = Work(store=store, settings=self.settings, clock=self.clock)
            result = use_case(work)
        if work.jobs:
            raise RuntimeError("a read-only use case asked for jobs")
        return result


def run_job(runtime: Runtime, kind: str, payload: dict[str, Any]) -> Any:
    outbound = OUTBOUND.get(kind)
    if outbound is not None:  # it opens its own units of work (jobs/registry.py)
        return outbound(runtime, **payload)
    handler = JOBS.get(kind)
    if handler is None:
        raise LookupError(f"unknown job kind: {kind}")
    return runtime.write(lambda work: handler(work, runtime.files, **payload))
