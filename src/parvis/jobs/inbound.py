"""Inbound activities, in the background.

`process_inbound` (asked for by the inbox once an activity is stored) prepares what the
activity needs (fetches, without a transaction open) and applies it in one unit of work that
marks the row done (services/inbound.py). It never raises: the outcome is on the row. A remote
server that could not be reached leaves the row `retry` (the periodic `retry_inbound` asks for
it again, up to `MAX_ATTEMPTS`); anything else the activity is refused for leaves it `failed`
with the reason. `prune_inbox` forgets processed rows after `KEEP_DAYS` (a row only guards
against a re-delivery being processed twice, and senders stop retrying long before).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from parvis.domain.errors import DomainError
from parvis.services import inbound
from parvis.services.context import Work
from parvis.services.fetching import FetchError
from parvis.services.media import Files
from parvis.services.remote_actors import Network

log = logging.getLogger("parvis.federation")

MAX_ATTEMPTS = 6
RETRY_AFTER = timedelta(minutes=5)
KEEP_DAYS = 14


def process_inbound(runtime: Network, inbox_id: int) -> str:
    try:
        return inbound.process(runtime, inbox_id)
    except FetchError as exc:
        state, error = ("failed" if exc.permanent else "retry"), f"fetch: {exc}"
    except DomainError as exc:
        state, error = "failed", exc.message
    except Exception as exc:  # a bug must not stop the queue: recorded, logged
        log.exception("processing inbound activity %s failed", inbox_id)
        state, error = "failed", f"{type(exc).__name__}: {exc}"
    runtime.write(lambda work: work.store.inbox.mark(inbox_id, state, work.now(), error))
    return f"{state}: {error}"


def retry_inbound(work: Work, files: Files) -> int:
    """Ask again for the activities that waited on an unreachable server."""
    work.store.inbox.give_up(MAX_ATTEMPTS)
    due = work.store.inbox.to_retry(MAX_ATTEMPTS, work.now() - RETRY_AFTER)
    for inbox_id in due:
        work.later("process_inbound", inbox_id=inbox_id)
    return len(due)


def prune_inbox(work: Work, files: Files) -> int:
    return work.store.inbox.prune(work.now() - timedelta(days=KEEP_DAYS))


JOBS: dict[str, Any] = {"retry_inbound": retry_inbound, "prune_inbox": prune_inbox}
OUTBOUND: dict[str, Any] = {"process_inbound": process_inbound}
RETRIES: dict[str, int] = {"process_inbound": 0, "retry_inbound": 0, "prune_inbox": 0}
