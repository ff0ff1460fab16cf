"""The transactional outbox: what to deliver where, and what each attempt's outcome means.

`publish` writes one `federation_deliveries` row per distinct inbox in the caller's transaction
(so a rolled-back change sends nothing) and asks for one "deliver" job per row, run after the
commit (jobs/deliver.py). Rows are taken by a job with a lease: their next attempt moves
`LEASE` ahead, so the periodic sweep (`claim_due`) does not take them again while their job
waits in the queue; a job lost with its worker is retried once the lease ends.

The rules of retrying (settings in config.py):

- success: the row is delivered and its host healthy again (circuit closed, not dead);
- a permanent failure (4xx but 408/429, a refused address): the row fails at once; a host that
  answered is alive, so its failure count is reset;
- a transient failure (timeout, reset, 5xx, 408, 429): the attempt is counted and the next one
  is due after 30 s · 2^attempts (capped at `MAX_DELAY`), plus a jitter of up to a quarter
  taken from the delivery id (deterministic); a row whose next attempt would come after
  `delivery_max_days` since it was written fails (given up);
- a host failing `circuit_failures` times in a row has its circuit opened for `CIRCUIT_OPEN`:
  its rows wait (not counted as attempts) and the first attempt after that is the probe;
- a host whose run of failures has lasted `federation_dead_days` is dead: its pending rows fail,
  nothing new is written for it, until it answers again (an inbound activity from it,
  `host_alive`) or the operator retries it (`parvis federation retry --host`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from parvis.domain import netguard
from parvis.domain.errors import NotFound
from parvis.services import actors
from parvis.services.context import Work
from parvis.services.fetching import FetchError, SigningKey
from parvis.storage.deliveries import DeliveryRow, HostRow, NewDelivery, Taken

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=12)
CIRCUIT_OPEN = timedelta(hours=1)
LEASE = timedelta(minutes=10)
HEALTHY_NOTE = timedelta(minutes=1)
SWEEP_LIMIT = 1000


def host_of(inbox: str) -> str | None:
    """The normalized host of an inbox URL, or None when it may not be fetched at all."""
    try:
        return netguard.parse_url(inbox).host
    except netguard.RefusedUrl:
        return None


def follower_inboxes(work: Work, account_id: int) -> list[str]:
    """Distinct inboxes (shared when known) of the account's remote followers."""
    return work.store.deliveries.follower_inboxes(account_id)


def inboxes_of(work: Work, account_ids: Iterable[int]) -> list[str]:
    """Distinct inboxes of the remote accounts among these (local ones are left out)."""
    return sorted(set(work.store.deliveries.inboxes_of(account_ids).values()))


def publish(
    work: Work, actor_account_id: int, activity: dict[str, Any], inboxes: Iterable[str]
) -> int:
    """Queue `activity`, signed later by `actor_account_id`, for each distinct inbox; returns
    how many deliveries were written. Local and unreachable inboxes (refused URLs, dead hosts)
    are skipped; nothing at all is written when none remains."""
    own = work.settings.domain.lower()
    hosts: dict[str, str] = {}
    for inbox in inboxes:
        host = host_of(inbox)
        if host is not None and host != own and inbox not in hosts:
            hosts[inbox] = host
    dead = work.store.deliveries.dead_hosts(hosts.values())
    targets = [(inbox, host) for inbox, host in hosts.items() if host not in dead]
    if not targets:
        return 0
    body = orjson.dumps(activity).decode()
    uri = str(activity.get("id") or "")
    now = work.now()
    ids = work.store.deliveries.add_many(
        (NewDelivery(uri, actor_account_id, inbox, host, body) for inbox, host in targets),
        now,
        now + LEASE,
    )
    for delivery_id in ids:
        work.later("deliver", delivery_id=delivery_id)
    return len(ids)


# -- the rules ------------------------------------------------------------------------------


def jitter(delivery_id: int) -> float:
    """A share between 0 and 0.25, fixed for a delivery: spreads retries of a burst."""
    return ((delivery_id * 2654435761) % 1000) / 4000


def backoff(attempts: int, delivery_id: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1 for the first): 30 s, 1 min, 2 min…
    up to MAX_DELAY, each plus the delivery's jitter."""
    delay: timedelta = min(BASE_DELAY * (2 ** min(max(attempts - 1, 0), 20)), MAX_DELAY)
    return delay * (1 + jitter(delivery_id))


def host_failed(row: HostRow | None, host: str, now: datetime, settings: Any) -> HostRow:
    """A host's record after one more failed attempt."""
    failures = (row.consecutive_failures if row else 0) + 1
    first = row.first_failure_at if row is not None and row.first_failure_at else now
    open_until = row.open_until if row is not None else None
    if failures >= settings.circuit_failures:
        open_until = now + CIRCUIT_OPEN
    dead_at = row.dead_at if row is not None else None
    if dead_at is None and now - first >= timedelta(days=settings.federation_dead_days):
        dead_at = now
    return HostRow(
        host=host,
        consecutive_failures=failures,
        first_failure_at=first,
        open_until=open_until,
        dead_at=dead_at,
        last_success_at=row.last_success_at if row is not None else None,
    )


def host_answered(row: HostRow | None, host: str, now: datetime, *, success: bool) -> HostRow:
    """A host's record once it answered (a 2xx, or a 4xx that is not about load)."""
    return HostRow(
        host=host,
        consecutive_failures=0,
        first_failure_at=None,
        open_until=None,
        dead_at=None,
        last_success_at=now if success or row is None else row.last_success_at,
    )


# -- what the delivery job asks ---------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A delivery to make now."""

    delivery_id: int
    inbox: str
    host: str
    body: bytes
    key: SigningKey


def prepare(work: Work, delivery_id: int) -> Attempt | None:
    """What to send for this delivery, or None when it is not to be sent now (already done,
    the host's circuit open or the host dead: the row is updated to say so). The row is
    leased to the caller for `LEASE`."""
    store = work.store.deliveries
    row = store.take(delivery_id)
    if row is None or row.state != "pending":
        return None
    now = work.now()
    if row.dead_at is not None:
        store.fail(delivery_id, f"host {row.host} is dead", attempted=False)
        return None
    if row.open_until is not None and row.open_until > now:
        store.reschedule(
            delivery_id,
            row.open_until + BASE_DELAY * jitter(delivery_id),
            row.last_error or "circuit open",
            attempted=False,
        )
        return None
    key = _signer(work, row)
    if key is None:
        store.fail(delivery_id, "the sending account is gone or not local", attempted=False)
        return None
    store.lease(delivery_id, now + LEASE)
    return Attempt(delivery_id, row.inbox_uri, row.host, row.body.encode(), key)


def _signer(work: Work, row: Taken) -> SigningKey | None:
    """The key of the activity's actor: the instance actor's for what it sends (forwarded
    reports), else the account's own (made now if it has none yet)."""
    instance = actors.instance_actor_uri(work.settings)
    if f'"actor":"{instance}"' in row.body:
        try:
            actor = orjson.loads(row.body).get("actor")
        except orjson.JSONDecodeError:
            actor = None
        if actor == instance:
            return actors.instance_key(work.settings)
    if row.private_key_pem and row.account_uri:
        return SigningKey(row.key_uri or f"{row.account_uri}#main-key", row.private_key_pem)
    try:
        return actors.ensure_keys(work, row.account_id)
    except NotFound:
        return None


def record_success(work: Work, delivery_id: int, host: str) -> None:
    """Delivered. The host's record is written only when it changes (it was failing, or its
    last success is more than `HEALTHY_NOTE` old): not one write of a hot row per delivery."""
    store, now = work.store.deliveries, work.now()
    store.delivered(delivery_id, now)
    row = store.host(host)
    if (
        row is None
        or row.consecutive_failures
        or row.open_until is not None
        or row.dead_at is not None
        or row.last_success_at is None
        or now - row.last_success_at >= HEALTHY_NOTE
    ):
        store.save_host(host_answered(row, host, now, success=True))


def record_failure(work: Work, delivery_id: int, error: FetchError) -> str:
    """Apply the rules to a failed attempt; returns the row's new state."""
    store, now = work.store.deliveries, work.now()
    row = store.get(delivery_id)
    if row is None:
        return "gone"
    message = str(error) or type(error).__name__
    host = store.host(row.host)
    if error.permanent:
        store.fail(delivery_id, message)
        if error.status is not None:  # the host answered: it is alive
            store.save_host(host_answered(host, row.host, now, success=False))
        return "failed"
    updated = host_failed(host, row.host, now, work.settings)
    store.save_host(updated)
    if updated.dead_at is not None:
        store.fail(delivery_id, f"{message} (host dead)")
        return "failed"
    next_at = now + backoff(row.attempts + 1, delivery_id)
    if next_at - row.created_at > timedelta(days=work.settings.delivery_max_days):
        store.fail(delivery_id, f"{message} (given up after {row.attempts + 1} attempts)")
        return "failed"
    if updated.open_until is not None and updated.open_until > next_at:
        next_at = updated.open_until
    store.reschedule(delivery_id, next_at, message)
    return "pending"


def claim_due(work: Work, limit: int = SWEEP_LIMIT) -> int:
    """The periodic sweep: ask for a "deliver" job for each pending row that is due."""
    now = work.now()
    ids = work.store.deliveries.claim_due(now, now + LEASE, limit)
    for delivery_id in ids:
        work.later("deliver", delivery_id=delivery_id)
    return len(ids)


def host_alive(work: Work, host: str) -> None:
    """A host was heard from (a valid inbound activity): not dead, circuit closed."""
    store = work.store.deliveries
    row = store.host(host)
    if row is not None and (row.dead_at or row.consecutive_failures or row.open_until):
        store.save_host(host_answered(row, host, work.now(), success=False))


# -- for the operator -------------------------------------------------------------------------


def retry(work: Work, host: str | None = None) -> int:
    """Failed deliveries (of `host`, or all) are tried again now; the host (or every host) is
    taken out of the dead list and its circuit closed. Returns how many rows were requeued."""
    store = work.store.deliveries
    store.revive(host.lower() if host else None)
    return store.retry(work.now(), host.lower() if host else None)


def deliveries_of(work: Work, activity_uri: str) -> list[DeliveryRow]:
    return work.store.deliveries.for_activity(activity_uri)
