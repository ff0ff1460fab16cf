"""The network addresses accounts signed up and signed in from (`account_ips`), kept a few days
for the moderators (services/network_addresses.py says when they are written and pruned)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from parvis.storage.tables import account_ips


@dataclass(frozen=True)
class AddressRow:
    account_id: int
    purpose: str  # sign_up | sign_in
    ip: str
    first_seen_at: datetime
    last_seen_at: datetime


def _row(m: RowMapping) -> AddressRow:
    return AddressRow(m["account_id"], m["purpose"], m["ip"], m["first_seen_at"], m["last_seen_at"])


class AccountIpStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(self, account_id: int, purpose: str, ip: str, now: datetime) -> None:
        """Insert the address, or move its `last_seen_at` to `now` when it was seen before
        (one statement: two sign-ins at once never collide on the primary key)."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(account_ips).values(
            account_id=account_id, purpose=purpose, ip=ip, first_seen_at=now, last_seen_at=now
        )
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[account_ips.c.account_id, account_ips.c.purpose, account_ips.c.ip],
                set_={"last_seen_at": stmt.excluded.last_seen_at},
            )
        )

    def for_account(self, account_id: int) -> list[AddressRow]:
        """The account's addresses, the latest seen first."""
        rows = self.conn.execute(
            select(account_ips)
            .where(account_ips.c.account_id == account_id)
            .order_by(account_ips.c.last_seen_at.desc(), account_ips.c.ip)
        ).mappings()
        return [_row(r) for r in rows]

    def others_at(
        self, ips: Sequence[str], account_id: int, since: datetime, limit: int = 100
    ) -> list[AddressRow]:
        """Rows of other accounts seen at one of `ips` since `since`, the latest first."""
        if not ips:
            return []
        rows = self.conn.execute(
            select(account_ips)
            .where(
                account_ips.c.ip.in_(list(ips)),
                account_ips.c.account_id != account_id,
                account_ips.c.last_seen_at >= since,
            )
            .order_by(account_ips.c.last_seen_at.desc(), account_ips.c.account_id)
            .limit(limit)
        ).mappings()
        return [_row(r) for r in rows]

    def prune(self, before: datetime | None) -> int:
        """Delete the rows last seen before `before` (None: every row). Returns how many."""
        stmt = delete(account_ips)
        if before is not None:
            stmt = stmt.where(account_ips.c.last_seen_at < before)
        return int(self.conn.execute(stmt).rowcount or 0)
