"""Delivery of outbound activities: the "deliver" job (one row of the outbox) and the periodic
sweep "deliver_due" that asks again for the rows whose time has come.

"deliver" gets the runtime (registry.OUTBOUND): it takes the row in one short unit of work
(services/outbox.py `prepare`: skipped when the host's circuit is open or the host is dead),
posts it signed with no transaction open, then records the outcome in another. Retrying is the
outbox's business (backoff over days, recorded in the row), so Huey never retries these jobs.
Without an HTTP client (`runtime.http` is None: federation off, or tests that do not talk to
the network) rows stay pending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from parvis.config import Settings
from parvis.services import outbox
from parvis.services.context import Work
from parvis.services.fetching import FetchError, Http
from parvis.services.media import Files

T = TypeVar("T")
log = logging.getLogger("parvis.federation.deliver")


class Outbound(Protocol):
    """What a delivery job needs of the runtime (jobs/runtime.py Runtime)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def http(self) -> Http | None: ...

    def write(self, use_case: Callable[[Work], T]) -> T: ...


def deliver(runtime: Outbound, delivery_id: int) -> str:
    """Post one delivery; returns what became of it: delivered, pending, failed or skipped."""
    http = runtime.http
    if http is None or not runtime.settings.federation_enabled:
        return "skipped"
    attempt = runtime.write(lambda work: outbox.prepare(work, delivery_id))
    if attempt is None:
        return "skipped"
    try:
        http.post_json(attempt.inbox, attempt.body, key=attempt.key)
    except FetchError as exc:
        failure = exc
        state = runtime.write(lambda work: outbox.record_failure(work, delivery_id, failure))
        log.info("delivery %d to %s: %s (%s)", delivery_id, attempt.inbox, failure, state)
        return state
    except Exception as exc:  # a bug must not leave the row leased forever without a trace
        error = FetchError(f"{type(exc).__name__}: {exc}")
        runtime.write(lambda work: outbox.record_failure(work, delivery_id, error))
        raise
    runtime.write(lambda work: outbox.record_success(work, delivery_id, attempt.host))
    return "delivered"


def _deliver_due(work: Work, files: Files) -> int:
    return outbox.claim_due(work)


JOBS: dict[str, Any] = {"deliver_due": _deliver_due}
OUTBOUND: dict[str, Any] = {"deliver": deliver}
RETRIES: dict[str, int] = {"deliver": 0, "deliver_due": 0}
