"""The operator's domain blocks (suspend, limit, reject media, reject reports). A block on a
domain covers its subdomains; the most specific block wins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from parvis.domain.ids import new_id
from parvis.storage.tables import instance_domain_blocks


@dataclass(frozen=True)
class DomainBlock:
    id: int
    domain: str
    severity: str  # suspend | limit | noop
    reject_media: bool
    reject_reports: bool
    public_comment: str
    private_comment: str
    created_at: datetime


def _block(r: RowMapping) -> DomainBlock:
    return DomainBlock(
        id=r["id"],
        domain=r["domain"],
        severity=r["severity"],
        reject_media=r["reject_media"],
        reject_reports=r["reject_reports"],
        public_comment=r["public_comment"],
        private_comment=r["private_comment"],
        created_at=r["created_at"],
    )


def candidates(host: str) -> list[str]:
    """The host (its port dropped) and every parent domain, most specific first:
    `a.b.example.org:8443` → a.b.example.org, b.example.org, example.org, org."""
    name = host.lower().rsplit(":", 1)[0] if host.count(":") == 1 else host.lower()
    name = name.strip("[]").rstrip(".")
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels)) if labels[i]]


class DomainPolicyStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, domain: str) -> DomainBlock | None:
        row = (
            self.conn.execute(
                select(instance_domain_blocks).where(instance_domain_blocks.c.domain == domain)
            )
            .mappings()
            .first()
        )
        return _block(row) if row else None

    def matching(self, host: str) -> DomainBlock | None:
        """The block that applies to `host`: its own, else its closest parent's."""
        names = candidates(host)
        if not names:
            return None
        rows = {
            r["domain"]: _block(r)
            for r in self.conn.execute(
                select(instance_domain_blocks).where(instance_domain_blocks.c.domain.in_(names))
            ).mappings()
        }
        return next((rows[n] for n in names if n in rows), None)

    def put(
        self,
        domain: str,
        *,
        severity: str,
        reject_media: bool,
        reject_reports: bool,
        public_comment: str,
        private_comment: str,
        now: datetime,
    ) -> tuple[DomainBlock, bool]:
        """Create or replace the block on `domain`; (the block, whether it is new)."""
        values = {
            "severity": severity,
            "reject_media": reject_media,
            "reject_reports": reject_reports,
            "public_comment": public_comment,
            "private_comment": private_comment,
        }
        existing = self.get(domain)
        if existing is None:
            self.conn.execute(
                insert(instance_domain_blocks).values(
                    id=new_id(), domain=domain, created_at=now, **values
                )
            )
        else:
            self.conn.execute(
                update(instance_domain_blocks)
                .where(instance_domain_blocks.c.id == existing.id)
                .values(**values)
            )
        found = self.get(domain)
        assert found is not None
        return found, existing is None

    def remove(self, domain: str) -> bool:
        result = self.conn.execute(
            delete(instance_domain_blocks).where(instance_domain_blocks.c.domain == domain)
        )
        return bool(result.rowcount)

    def every(self) -> list[DomainBlock]:
        rows = self.conn.execute(
            select(instance_domain_blocks).order_by(instance_domain_blocks.c.domain)
        ).mappings()
        return [_block(r) for r in rows]
