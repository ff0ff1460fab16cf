"""The transactional outbox and each remote host's health (circuit breaker, dead hosts).

Delivery rows are written in the transaction of the change they announce (services/outbox.py);
a job posts each one later. `federation_hosts` remembers, per host, the current run of failures
(its count and when it began), until when its circuit is open and since when it is dead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.sql import insert_ignoring_duplicates
from parvis.storage.tables import (
    accounts,
    favourites,
    federation_deliveries,
    federation_hosts,
    follows,
    instance_domain_blocks,
)

_d = federation_deliveries
_h = federation_hosts
STATES = ("pending", "delivered", "failed")


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    activity_uri: str
    account_id: int
    inbox_uri: str
    host: str
    body: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class HostRow:
    host: str
    consecutive_failures: int
    first_failure_at: datetime | None
    open_until: datetime | None
    dead_at: datetime | None
    last_success_at: datetime | None


@dataclass(frozen=True)
class NewDelivery:
    activity_uri: str
    account_id: int
    inbox_uri: str
    host: str
    body: str


_INBOX = func.coalesce(accounts.c.shared_inbox_uri, accounts.c.inbox_uri)
_REACHABLE = and_(
    accounts.c.domain.is_not(None),
    accounts.c.suspended_at.is_(None),
    _INBOX.is_not(None),
    accounts.c.domain.not_in(
        select(instance_domain_blocks.c.domain).where(
            instance_domain_blocks.c.severity == "suspend"
        )
    ),
)


# The delivery job's statements, built once (it runs once per delivery).
_TAKE = (
    select(
        _d.c.id,
        _d.c.account_id,
        _d.c.inbox_uri,
        _d.c.host,
        _d.c.body,
        _d.c.state,
        _d.c.last_error,
        _h.c.open_until,
        _h.c.dead_at,
        accounts.c.uri.label("account_uri"),
        accounts.c.key_uri,
        accounts.c.private_key_pem,
    )
    .select_from(
        _d.outerjoin(_h, _h.c.host == _d.c.host).outerjoin(
            accounts, accounts.c.id == _d.c.account_id
        )
    )
    .where(_d.c.id == bindparam("id"))
)
_LEASE = update(_d).where(_d.c.id == bindparam("_id")).values(next_attempt_at=bindparam("until"))
_DELIVERED = (
    update(_d)
    .where(_d.c.id == bindparam("_id"))
    .values(
        state="delivered",
        delivered_at=bindparam("now"),
        attempts=_d.c.attempts + 1,
        last_error="",
    )
)
_HOST = select(_h).where(_h.c.host == bindparam("host"))


@dataclass(frozen=True)
class Taken:
    """What the delivery job needs of a row, its host's state and its sender's key."""

    id: int
    account_id: int
    inbox_uri: str
    host: str
    body: str
    state: str
    last_error: str
    open_until: datetime | None
    dead_at: datetime | None
    account_uri: str | None
    key_uri: str | None
    private_key_pem: str | None


class DeliveryStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- recipients ---------------------------------------------------------------------------

    def follower_inboxes(self, account_id: int) -> list[str]:
        """Distinct inboxes (the shared one when known) of the account's remote followers
        that can be reached (not suspended, not on an operator-suspended domain)."""
        rows = self.conn.execute(
            select(_INBOX)
            .distinct()
            .select_from(follows.join(accounts, accounts.c.id == follows.c.account_id))
            .where(follows.c.target_account_id == account_id, _REACHABLE)
        )
        return sorted(r[0] for r in rows)

    def inboxes_of(self, account_ids: Iterable[int], *, shared: bool = True) -> dict[int, str]:
        """The inbox of each of these accounts that is remote and reachable (local ones are
        left out): the shared inbox when known and `shared`, else the personal one."""
        wanted = list(set(account_ids))
        if not wanted:
            return {}
        inbox = _INBOX if shared else func.coalesce(accounts.c.inbox_uri, _INBOX)
        rows = self.conn.execute(
            select(accounts.c.id, inbox).where(accounts.c.id.in_(wanted), _REACHABLE)
        )
        return {r[0]: r[1] for r in rows}

    def remote_follower_count(self, account_id: int) -> int:
        row = self.conn.execute(
            select(func.count())
            .select_from(follows.join(accounts, accounts.c.id == follows.c.account_id))
            .where(follows.c.target_account_id == account_id, accounts.c.domain.is_not(None))
        ).scalar()
        return int(row or 0)

    def favourite_id(self, account_id: int, status_id: int) -> int | None:
        """The favourite's row id: a Like's activity id is made of it."""
        return self.conn.execute(
            select(favourites.c.id).where(
                favourites.c.account_id == account_id, favourites.c.status_id == status_id
            )
        ).scalar()

    # -- the outbox ---------------------------------------------------------------------------

    def add_many(self, rows: Iterable[NewDelivery], now: datetime, first_at: datetime) -> list[int]:
        """Insert one pending row per (activity, inbox); an existing pair is kept as it is.
        Returns the ids of the rows inserted."""
        values = [
            {
                "id": new_id(),
                "activity_uri": r.activity_uri,
                "account_id": r.account_id,
                "inbox_uri": r.inbox_uri,
                "host": r.host,
                "body": r.body,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": first_at,
                "last_error": "",
                "created_at": now,
            }
            for r in rows
        ]
        if not values:
            return []
        insert_ignoring_duplicates(self.conn, _d, values)
        wanted = [v["id"] for v in values]
        found = self.conn.execute(select(_d.c.id).where(_d.c.id.in_(wanted)))
        return sorted(r[0] for r in found)

    def take(self, delivery_id: int) -> Taken | None:
        row = self.conn.execute(_TAKE, {"id": delivery_id}).mappings().first()
        return Taken(**dict(row)) if row else None

    def lease(self, delivery_id: int, until: datetime) -> None:
        self.conn.execute(_LEASE, {"_id": delivery_id, "until": until})

    def get(self, delivery_id: int) -> DeliveryRow | None:
        row = self.conn.execute(select(_d).where(_d.c.id == delivery_id)).mappings().first()
        return DeliveryRow(**dict(row)) if row else None

    def for_activity(self, activity_uri: str) -> list[DeliveryRow]:
        rows = self.conn.execute(
            select(_d).where(_d.c.activity_uri == activity_uri).order_by(_d.c.id)
        ).mappings()
        return [DeliveryRow(**dict(r)) for r in rows]

    def latest(
        self, limit: int = 50, *, host: str | None = None, state: str | None = None
    ) -> list[DeliveryRow]:
        """The most recent rows, newest first (of one host, in one state)."""
        query = select(_d).order_by(_d.c.id.desc()).limit(limit)
        if host is not None:
            query = query.where(_d.c.host == host)
        if state is not None:
            query = query.where(_d.c.state == state)
        return [DeliveryRow(**dict(r)) for r in self.conn.execute(query).mappings()]

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[int]:
        """Pending rows due by `now` whose host's circuit is not open, oldest first; their next
        attempt moves to `lease_until` so that the next sweep does not take them again while
        their job waits in the queue. (Rows of a dead host are taken too: their job fails
        them without sending.)"""
        open_hosts = select(_h.c.host).where(_h.c.open_until > now)
        ids = [
            r[0]
            for r in self.conn.execute(
                select(_d.c.id)
                .where(
                    _d.c.state == "pending",
                    _d.c.next_attempt_at <= now,
                    _d.c.host.not_in(open_hosts),
                )
                .order_by(_d.c.next_attempt_at, _d.c.id)
                .limit(limit)
            )
        ]
        if ids:
            self.conn.execute(
                update(_d).where(_d.c.id.in_(ids)).values(next_attempt_at=lease_until)
            )
        return ids

    def delivered(self, delivery_id: int, now: datetime) -> None:
        self.conn.execute(_DELIVERED, {"_id": delivery_id, "now": now})

    def reschedule(
        self, delivery_id: int, next_at: datetime, error: str, *, attempted: bool = True
    ) -> None:
        values: dict[str, object] = {"next_attempt_at": next_at, "last_error": error[:2000]}
        if attempted:
            values["attempts"] = _d.c.attempts + 1
        self.conn.execute(update(_d).where(_d.c.id == delivery_id).values(**values))

    def fail(self, delivery_id: int, error: str, *, attempted: bool = True) -> None:
        values: dict[str, object] = {"state": "failed", "last_error": error[:2000]}
        if attempted:
            values["attempts"] = _d.c.attempts + 1
        self.conn.execute(update(_d).where(_d.c.id == delivery_id).values(**values))

    def retry(self, now: datetime, host: str | None = None) -> int:
        """Failed rows (of one host, or all) become pending, due now; returns how many."""
        where = [_d.c.state == "failed"]
        if host is not None:
            where.append(_d.c.host == host)
        result = self.conn.execute(
            update(_d).where(*where).values(state="pending", next_attempt_at=now, last_error="")
        )
        return int(result.rowcount or 0)

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(select(_d.c.state, func.count()).group_by(_d.c.state))
        found = {str(r[0]): int(r[1]) for r in rows}
        return {state: found.get(state, 0) for state in STATES}

    def counts_by_host(self, limit: int = 50) -> list[tuple[str, dict[str, int]]]:
        """Per host, deliveries in each state; hosts with the most pending or failed first."""
        rows = self.conn.execute(
            select(_d.c.host, _d.c.state, func.count()).group_by(_d.c.host, _d.c.state)
        )
        by_host: dict[str, dict[str, int]] = {}
        for host, state, count in rows:
            by_host.setdefault(str(host), dict.fromkeys(STATES, 0))[str(state)] = int(count)
        ranked = sorted(
            by_host.items(), key=lambda kv: (-(kv[1]["pending"] + kv[1]["failed"]), kv[0])
        )
        return ranked[:limit]

    def pending_for_host(self, host: str) -> int:
        row = self.conn.execute(
            select(func.count()).where(_d.c.host == host, _d.c.state == "pending")
        ).scalar()
        return int(row or 0)

    # -- hosts ----------------------------------------------------------------------------------

    def host(self, host: str) -> HostRow | None:
        row = self.conn.execute(_HOST, {"host": host}).mappings().first()
        if row is None:
            return None
        return HostRow(
            host=row["host"],
            consecutive_failures=row["consecutive_failures"],
            first_failure_at=row["first_failure_at"],
            open_until=row["open_until"],
            dead_at=row["dead_at"],
            last_success_at=row["last_success_at"],
        )

    def dead_hosts(self, hosts: Iterable[str]) -> set[str]:
        wanted = list(set(hosts))
        if not wanted:
            return set()
        rows = self.conn.execute(
            select(_h.c.host).where(_h.c.host.in_(wanted), _h.c.dead_at.is_not(None))
        )
        return {r[0] for r in rows}

    def save_host(self, row: HostRow) -> None:
        values = {
            "consecutive_failures": row.consecutive_failures,
            "first_failure_at": row.first_failure_at,
            "open_until": row.open_until,
            "dead_at": row.dead_at,
            "last_success_at": row.last_success_at,
        }
        result = self.conn.execute(update(_h).where(_h.c.host == row.host).values(**values))
        if not result.rowcount:
            insert_ignoring_duplicates(self.conn, _h, [{"host": row.host, **values}])

    def software(self, hosts: Iterable[str]) -> dict[str, str]:
        """The software each of these hosts runs, as its NodeInfo names it, where known."""
        wanted = list(set(hosts))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(_h.c.host, _h.c.software).where(_h.c.host.in_(wanted), _h.c.software != "")
        )
        return {str(r[0]): str(r[1]) for r in rows}

    def software_checked(self, hosts: Iterable[str]) -> dict[str, tuple[str, datetime | None]]:
        """What each of these hosts is known to run ("" when unknown) and when that was read."""
        wanted = list(set(hosts))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(_h.c.host, _h.c.software, _h.c.software_checked_at).where(_h.c.host.in_(wanted))
        )
        return {str(r[0]): (str(r[1]), r[2]) for r in rows}

    def set_software(self, host: str, software: str, checked_at: datetime) -> None:
        values = {"software": software, "software_checked_at": checked_at}
        result = self.conn.execute(update(_h).where(_h.c.host == host).values(**values))
        if not result.rowcount:
            insert_ignoring_duplicates(
                self.conn, _h, [{"host": host, "consecutive_failures": 0, **values}]
            )

    def unhealthy_hosts(self, now: datetime, limit: int = 200) -> list[HostRow]:
        """Hosts that are dead, whose circuit is open, or that are failing now."""
        rows = self.conn.execute(
            select(_h)
            .where(
                or_(
                    _h.c.dead_at.is_not(None),
                    _h.c.open_until > now,
                    _h.c.consecutive_failures > 0,
                )
            )
            .order_by(_h.c.dead_at.is_(None), _h.c.host)
            .limit(limit)
        ).mappings()
        return [
            HostRow(
                host=r["host"],
                consecutive_failures=r["consecutive_failures"],
                first_failure_at=r["first_failure_at"],
                open_until=r["open_until"],
                dead_at=r["dead_at"],
                last_success_at=r["last_success_at"],
            )
            for r in rows
        ]

    def revive(self, host: str | None = None) -> int:
        """Forget the failures of a host (or of all): circuit closed, not dead."""
        stmt = update(_h).values(
            consecutive_failures=0, first_failure_at=None, open_until=None, dead_at=None
        )
        if host is not None:
            stmt = stmt.where(_h.c.host == host)
        return int(self.conn.execute(stmt).rowcount or 0)
