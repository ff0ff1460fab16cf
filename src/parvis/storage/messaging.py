"""End-to-end encrypted messages: devices, conversations, envelopes and each device's queue.
Nothing here can read a message: the envelopes are stored as the sender sealed them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from parvis.domain.messaging import Conversation, Device, Envelope, Message
from parvis.storage.sql import insert_ignoring_duplicates
from parvis.storage.statuses import page
from parvis.storage.tables import (
    e2e_conversations,
    e2e_deliveries,
    e2e_devices,
    e2e_history_keys,
    e2e_messages,
    e2e_participants,
    e2e_remote_accounts,
)


@dataclass(frozen=True)
class RemoteDevices:
    """Where a remote account lists its devices, when this server last read the list, and the
    device ids it refused from it (taken here by another device)."""

    account_id: int
    devices_uri: str | None
    fetched_at: datetime | None
    refused: tuple[int, ...]


def _device(r: Any) -> Device:
    return Device(
        id=r["id"],
        account_id=r["account_id"],
        identity_key=bytes(r["identity_key"]),
        agreement_key=bytes(r["agreement_key"]),
        signature=bytes(r["signature"]),
        label=r["label"],
        created_at=r["created_at"],
        revoked_at=r["revoked_at"],
        uri=r["uri"],
    )


def _message(r: Any) -> Message:
    return Message(
        id=r["id"],
        conversation_id=r["conversation_id"],
        sender_account_id=r["sender_account_id"],
        sender_device_id=r["sender_device_id"],
        created_at=r["created_at"],
        envelope=Envelope.unpack(bytes(r["envelope"])),
    )


class MessagingStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- devices -------------------------------------------------------------------------------

    def add_device(self, device: Device) -> Device:
        """Store a device; when its identity key is already known, the stored one."""
        insert_ignoring_duplicates(
            self.conn,
            e2e_devices,
            [
                {
                    "id": device.id,
                    "account_id": device.account_id,
                    "identity_key": device.identity_key,
                    "agreement_key": device.agreement_key,
                    "signature": device.signature,
                    "label": device.label,
                    "created_at": device.created_at,
                    "revoked_at": None,
                }
            ],
        )
        row = (
            self.conn.execute(
                select(e2e_devices).where(e2e_devices.c.identity_key == device.identity_key)
            )
            .mappings()
            .one()
        )
        return _device(row)

    def device(self, device_id: int) -> Device | None:
        row = (
            self.conn.execute(select(e2e_devices).where(e2e_devices.c.id == device_id))
            .mappings()
            .first()
        )
        return _device(row) if row else None

    def devices(self, ids: Iterable[int]) -> dict[int, Device]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = self.conn.execute(select(e2e_devices).where(e2e_devices.c.id.in_(wanted)))
        return {r["id"]: _device(r) for r in rows.mappings()}

    def devices_of(self, account_ids: Sequence[int], *, active: bool = True) -> list[Device]:
        """The accounts' devices, oldest first (active ones only unless `active` is False)."""
        if not account_ids:
            return []
        stmt = select(e2e_devices).where(e2e_devices.c.account_id.in_(list(account_ids)))
        if active:
            stmt = stmt.where(e2e_devices.c.revoked_at.is_(None))
        rows = self.conn.execute(stmt.order_by(e2e_devices.c.id)).mappings()
        return [_device(r) for r in rows]

    def count_active(self, account_id: int) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(e2e_devices)
                .where(e2e_devices.c.account_id == account_id, e2e_devices.c.revoked_at.is_(None))
            ).scalar_one()
        )

    def revoke(self, device_id: int, now: datetime) -> None:
        """Mark the device revoked and drop what was still queued for it."""
        self.conn.execute(
            update(e2e_devices)
            .where(e2e_devices.c.id == device_id, e2e_devices.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self.conn.execute(
            delete(e2e_deliveries).where(
                e2e_deliveries.c.device_id == device_id, e2e_deliveries.c.fetched_at.is_(None)
            )
        )
        self.conn.execute(delete(e2e_history_keys).where(e2e_history_keys.c.device_id == device_id))

    # -- conversations ------------------------------------------------------------------------

    def add_conversation(
        self, conversation: Conversation, pair_key: str | None
    ) -> Conversation | None:
        """Store a conversation and its participants; for a one-to-one conversation that
        already exists (the same `pair_key`), None."""
        row = {
            "id": conversation.id,
            "created_by": conversation.created_by,
            "pair_key": pair_key,
            "created_at": conversation.created_at,
            "activity_id": conversation.activity_id,
            "uri": conversation.uri,
        }
        if pair_key is None:
            self.conn.execute(insert(e2e_conversations).values(**row))
        else:
            insert_ignoring_duplicates(self.conn, e2e_conversations, [row])
            found = self.conn.execute(
                select(e2e_conversations.c.id).where(e2e_conversations.c.pair_key == pair_key)
            ).scalar_one()
            if found != conversation.id:
                return None
        self.conn.execute(
            insert(e2e_participants),
            [
                {"conversation_id": conversation.id, "account_id": a}
                for a in conversation.participant_ids
            ],
        )
        return conversation

    def by_pair(self, pair_key: str) -> Conversation | None:
        cid = self.conn.execute(
            select(e2e_conversations.c.id).where(e2e_conversations.c.pair_key == pair_key)
        ).scalar()
        return self.conversation(int(cid)) if cid is not None else None

    def conversation(self, conversation_id: int) -> Conversation | None:
        found = self._conversations([conversation_id])
        return found[0] if found else None

    def _conversations(self, ids: Sequence[int]) -> list[Conversation]:
        if not ids:
            return []
        rows = self.conn.execute(
            select(e2e_conversations).where(e2e_conversations.c.id.in_(list(ids)))
        ).mappings()
        by_id = {r["id"]: r for r in rows}
        members: dict[int, list[int]] = {}
        for cid, account_id in self.conn.execute(
            select(e2e_participants.c.conversation_id, e2e_participants.c.account_id)
            .where(e2e_participants.c.conversation_id.in_(list(by_id)))
            .order_by(e2e_participants.c.account_id)
        ):
            members.setdefault(cid, []).append(account_id)
        return [
            Conversation(
                id=r["id"],
                created_by=r["created_by"],
                created_at=r["created_at"],
                activity_id=r["activity_id"],
                participant_ids=tuple(members.get(r["id"], ())),
                uri=r["uri"],
            )
            for cid in ids
            if (r := by_id.get(cid)) is not None
        ]

    def conversations_of(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[Conversation]:
        """The account's conversations by latest activity (newest first; oldest first with
        min_id); the cursors are activity ids."""
        stmt = select(e2e_conversations.c.id).join(
            e2e_participants,
            and_(
                e2e_participants.c.conversation_id == e2e_conversations.c.id,
                e2e_participants.c.account_id == account_id,
            ),
        )
        stmt = page(
            stmt,
            e2e_conversations.c.activity_id,
            max_id=max_id,
            since_id=since_id,
            min_id=min_id,
            limit=limit,
        )
        return self._conversations([r[0] for r in self.conn.execute(stmt)])

    # -- messages -----------------------------------------------------------------------------

    def add_message(
        self, message: Message, recipient_device_ids: Iterable[int], uri: str | None = None
    ) -> None:
        """Store a message and queue it for these devices (`uri`: one sent from elsewhere)."""
        self.conn.execute(
            insert(e2e_messages).values(
                id=message.id,
                conversation_id=message.conversation_id,
                sender_account_id=message.sender_account_id,
                sender_device_id=message.sender_device_id,
                created_at=message.created_at,
                envelope=message.envelope.pack(),
                uri=uri,
            )
        )
        queue = [{"device_id": d, "message_id": message.id} for d in recipient_device_ids]
        if queue:
            self.conn.execute(insert(e2e_deliveries), queue)
        self.conn.execute(
            update(e2e_conversations)
            .where(
                e2e_conversations.c.id == message.conversation_id,
                e2e_conversations.c.activity_id < message.id,
            )
            .values(activity_id=message.id)
        )

    def messages(
        self,
        conversation_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[Message]:
        stmt = select(e2e_messages).where(e2e_messages.c.conversation_id == conversation_id)
        stmt = page(
            stmt, e2e_messages.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit
        )
        return [_message(r) for r in self.conn.execute(stmt).mappings()]

    def pending(self, device_id: int, limit: int) -> list[Message]:
        """Messages queued for the device and not yet acknowledged, oldest first."""
        stmt = (
            select(e2e_messages)
            .join(e2e_deliveries, e2e_deliveries.c.message_id == e2e_messages.c.id)
            .where(e2e_deliveries.c.device_id == device_id, e2e_deliveries.c.fetched_at.is_(None))
            .order_by(e2e_messages.c.id)
            .limit(limit)
        )
        return [_message(r) for r in self.conn.execute(stmt).mappings()]

    def acknowledge(self, device_id: int, up_to_id: int, now: datetime) -> int:
        done = self.conn.execute(
            update(e2e_deliveries)
            .where(
                e2e_deliveries.c.device_id == device_id,
                e2e_deliveries.c.message_id <= up_to_id,
                e2e_deliveries.c.fetched_at.is_(None),
            )
            .values(fetched_at=now)
        )
        return int(done.rowcount or 0)

    # -- history given to a new device (docs/messaging.md, "History on a new device") ----------

    def messages_by_id(self, ids: Iterable[int]) -> dict[int, Message]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = self.conn.execute(select(e2e_messages).where(e2e_messages.c.id.in_(wanted)))
        return {r["id"]: _message(r) for r in rows.mappings()}

    def taking_part(self, account_id: int, conversation_ids: Iterable[int]) -> set[int]:
        """Those of these conversations the account is a participant of."""
        wanted = list(set(conversation_ids))
        if not wanted:
            return set()
        rows = self.conn.execute(
            select(e2e_participants.c.conversation_id).where(
                e2e_participants.c.account_id == account_id,
                e2e_participants.c.conversation_id.in_(wanted),
            )
        )
        return {cid for (cid,) in rows}

    def history_keys(self, device_id: int, message_ids: Iterable[int]) -> dict[int, bytes]:
        """The message keys given to the device for these messages (message id -> sealed key)."""
        wanted = list(set(message_ids))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(e2e_history_keys.c.message_id, e2e_history_keys.c.sealed_key).where(
                e2e_history_keys.c.device_id == device_id,
                e2e_history_keys.c.message_id.in_(wanted),
            )
        )
        return {mid: bytes(sealed) for mid, sealed in rows}

    def give_history(
        self,
        device_id: int,
        given_by_device_id: int,
        keys: Sequence[tuple[int, bytes]],
        now: datetime,
    ) -> int:
        """Store message keys re-sealed to the device; a key given again replaces the old one
        (the giver may have fixed a bad one). How many were stored."""
        if not keys:
            return 0
        self.conn.execute(
            delete(e2e_history_keys).where(
                e2e_history_keys.c.device_id == device_id,
                e2e_history_keys.c.message_id.in_([m for m, _ in keys]),
            )
        )
        self.conn.execute(
            insert(e2e_history_keys),
            [
                {
                    "device_id": device_id,
                    "message_id": message_id,
                    "sealed_key": sealed,
                    "given_by_device_id": given_by_device_id,
                    "created_at": now,
                }
                for message_id, sealed in keys
            ],
        )
        return len(keys)

    # -- between servers (services/e2e_federation.py) -----------------------------------------

    def add_remote_device(self, device: Device, now: datetime) -> str:
        """Keep a remote device under its home server's id: "added", "known" (the same device,
        seen again), or "conflict" when its id or identity key is another device's here (never
        overwritten)."""
        row = (
            self.conn.execute(select(e2e_devices).where(e2e_devices.c.id == device.id))
            .mappings()
            .first()
        )
        if row is not None:
            same = (
                row["account_id"] == device.account_id
                and bytes(row["identity_key"]) == device.identity_key
                and bytes(row["agreement_key"]) == device.agreement_key
                and row["uri"] is not None
            )
            if not same:
                return "conflict"
            self.conn.execute(
                update(e2e_devices).where(e2e_devices.c.id == device.id).values(fetched_at=now)
            )
            return "known"
        taken = self.conn.execute(
            select(e2e_devices.c.id).where(
                (e2e_devices.c.identity_key == device.identity_key)
                | (e2e_devices.c.uri == device.uri)
            )
        ).first()
        if taken is not None:
            return "conflict"
        self.conn.execute(
            insert(e2e_devices).values(
                id=device.id,
                account_id=device.account_id,
                identity_key=device.identity_key,
                agreement_key=device.agreement_key,
                signature=device.signature,
                label="",
                created_at=device.created_at,
                revoked_at=None,
                uri=device.uri,
                fetched_at=now,
            )
        )
        return "added"

    def revoke_remote_except(self, account_id: int, keep: Iterable[int], now: datetime) -> int:
        """Revoke the account's remote devices its server no longer lists; how many."""
        stmt = select(e2e_devices.c.id).where(
            e2e_devices.c.account_id == account_id,
            e2e_devices.c.uri.is_not(None),
            e2e_devices.c.revoked_at.is_(None),
        )
        kept = set(keep)
        gone = [d for (d,) in self.conn.execute(stmt) if d not in kept]
        for device_id in gone:
            self.revoke(device_id, now)
        return len(gone)

    def remote_devices(self, account_ids: Iterable[int]) -> dict[int, RemoteDevices]:
        wanted = list(set(account_ids))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(e2e_remote_accounts).where(e2e_remote_accounts.c.account_id.in_(wanted))
        ).mappings()
        return {
            r["account_id"]: RemoteDevices(
                r["account_id"],
                r["devices_uri"],
                r["fetched_at"],
                tuple(int(d) for d in str(r["refused"]).split(",") if d.isdigit()),
            )
            for r in rows
        }

    def set_remote_devices(self, found: RemoteDevices) -> None:
        values = {
            "devices_uri": found.devices_uri,
            "fetched_at": found.fetched_at,
            "refused": ",".join(str(d) for d in found.refused),
        }
        done = self.conn.execute(
            update(e2e_remote_accounts)
            .where(e2e_remote_accounts.c.account_id == found.account_id)
            .values(**values)
        )
        if not done.rowcount:
            insert_ignoring_duplicates(
                self.conn, e2e_remote_accounts, [{"account_id": found.account_id, **values}]
            )

    def conversation_by_uri(self, uri: str) -> Conversation | None:
        cid = self.conn.execute(
            select(e2e_conversations.c.id).where(e2e_conversations.c.uri == uri)
        ).scalar()
        return self.conversation(int(cid)) if cid is not None else None

    def has_message_uri(self, uri: str) -> bool:
        found = self.conn.execute(select(e2e_messages.c.id).where(e2e_messages.c.uri == uri))
        return found.first() is not None

    def partners(self, account_id: int) -> set[int]:
        """Everyone who shares a conversation with the account."""
        mine = select(e2e_participants.c.conversation_id).where(
            e2e_participants.c.account_id == account_id
        )
        rows = self.conn.execute(
            select(e2e_participants.c.account_id)
            .where(e2e_participants.c.conversation_id.in_(mine))
            .distinct()
        )
        return {a for (a,) in rows if a != account_id}
