"""The public moderation log's tables: leaves (entries), complete subtrees (nodes), signed
checkpoints, and the one state row (tree size and right edge) that each append locks.

An append writes one entry, the subtrees it completes (one on average, at most log2 n), the new
right edge and a checkpoint: it never reads or recomputes the rest of the tree. Any root or
proof needs O(log n) subtree hashes, fetched by `nodes` in one query per few hundred.
Hashes are stored as lowercase hex and handed out as bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.engine import Connection, RowMapping

from parvis.domain.merkle import Frontier, Node
from parvis.storage.tables import transparency_log_checkpoints as checkpoints
from parvis.storage.tables import transparency_log_entries as entries
from parvis.storage.tables import transparency_log_nodes as nodes
from parvis.storage.tables import transparency_log_state as state

_CHUNK = 400  # (level, idx) pairs per query: well under every backend's parameter limit


@dataclass(frozen=True)
class EntryRow:
    index: int
    data: str  # the canonical JSON the leaf hashes (UTF-8)
    leaf_hash: bytes
    created_at: datetime


@dataclass(frozen=True)
class CheckpointRow:
    tree_size: int
    root_hash: bytes
    note: str  # the signed note
    created_at: datetime


def _checkpoint(row: RowMapping) -> CheckpointRow:
    return CheckpointRow(
        row["tree_size"], bytes.fromhex(row["root_hash"]), row["note"], row["created_at"]
    )


class TransparencyLogStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- appending (one unit of work: lock, then write) --

    def lock_frontier(self) -> Frontier:
        """The tree's size and right edge, locked until the transaction ends (PostgreSQL:
        concurrent appends wait here; SQLite has one writer anyway)."""
        query = select(state.c.tree_size, state.c.frontier).where(state.c.id == 1)
        row = self.conn.execute(query.with_for_update()).first()
        if row is None:  # a schema made without the migration's first row
            self.conn.execute(insert(state).values(id=1, tree_size=0, frontier=""))
            return Frontier()
        return Frontier.unpack(row.tree_size, bytes.fromhex(row.frontier))

    def append(
        self,
        index: int,
        data: str,
        leaf_hash: bytes,
        created_at: datetime,
        completed: Iterable[tuple[Node, bytes]],
        frontier: Frontier,
    ) -> None:
        """Store leaf `index`, the subtrees it completed and the new right edge."""
        if index != frontier.size - 1:
            raise ValueError("the frontier must already hold the new leaf")
        self.conn.execute(
            insert(entries).values(
                idx=index, data=data, leaf_hash=leaf_hash.hex(), created_at=created_at
            )
        )
        made = [{"level": lvl, "idx": i, "hash": h.hex()} for (lvl, i), h in completed]
        if made:
            self.conn.execute(insert(nodes), made)
        self.conn.execute(
            update(state)
            .where(state.c.id == 1)
            .values(tree_size=frontier.size, frontier=frontier.pack().hex())
        )

    def add_checkpoint(self, tree_size: int, root_hash: bytes, note: str, at: datetime) -> None:
        self.conn.execute(
            insert(checkpoints).values(
                tree_size=tree_size, root_hash=root_hash.hex(), note=note, created_at=at
            )
        )

    # -- reading --

    def size(self) -> int:
        found = self.conn.execute(select(state.c.tree_size).where(state.c.id == 1)).scalar()
        return int(found or 0)

    def entries(self, start: int, end: int) -> list[EntryRow]:
        """Leaves [start, end), in order."""
        rows = self.conn.execute(
            select(entries)
            .where(entries.c.idx >= start, entries.c.idx < end)
            .order_by(entries.c.idx)
        ).mappings()
        return [
            EntryRow(r["idx"], r["data"], bytes.fromhex(r["leaf_hash"]), r["created_at"])
            for r in rows
        ]

    def latest_checkpoint(self) -> CheckpointRow | None:
        row = (
            self.conn.execute(select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1))
            .mappings()
            .first()
        )
        return _checkpoint(row) if row is not None else None

    def checkpoints(
        self, after: int, limit: int, *, up_to: int | None = None
    ) -> list[CheckpointRow]:
        """Checkpoints of trees larger than `after` (and at most `up_to`), smallest first."""
        query = select(checkpoints).where(checkpoints.c.tree_size > after)
        if up_to is not None:
            query = query.where(checkpoints.c.tree_size <= up_to)
        rows = self.conn.execute(query.order_by(checkpoints.c.tree_size).limit(limit)).mappings()
        return [_checkpoint(r) for r in rows]

    def checkpoint_before(self, tree_size: int) -> CheckpointRow | None:
        """The checkpoint of the largest tree smaller than `tree_size`."""
        row = (
            self.conn.execute(
                select(checkpoints)
                .where(checkpoints.c.tree_size < tree_size)
                .order_by(checkpoints.c.tree_size.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return _checkpoint(row) if row is not None else None

    def nodes(self, wanted: Iterable[Node]) -> dict[Node, bytes]:
        """The hashes of these complete subtrees (level 0: the leaves). Missing ones are left
        out: the caller asked for a subtree the tree does not have yet."""
        leaves: list[int] = []
        inner: list[tuple[int, int]] = []
        for level, index in wanted:
            if level == 0:
                leaves.append(index)
            else:
                inner.append((level, index))
        out: dict[Node, bytes] = {}
        for i in range(0, len(leaves), _CHUNK):
            rows = self.conn.execute(
                select(entries.c.idx, entries.c.leaf_hash).where(
                    entries.c.idx.in_(leaves[i : i + _CHUNK])
                )
            )
            out.update({(0, r.idx): bytes.fromhex(r.leaf_hash) for r in rows})
        for i in range(0, len(inner), _CHUNK):
            rows = self.conn.execute(
                select(nodes.c.level, nodes.c.idx, nodes.c.hash).where(
                    tuple_(nodes.c.level, nodes.c.idx).in_(inner[i : i + _CHUNK])
                )
            )
            out.update({(r.level, r.idx): bytes.fromhex(r.hash) for r in rows})
        return out
