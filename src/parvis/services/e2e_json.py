"""End-to-end encrypted messages as JSON: a device's public record and a message's envelope,
exactly as the API (`/api/parvis/v1/e2e`) gives them and as the export archive keeps them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from parvis.domain import messaging as e2e
from parvis.domain.messaging import Device, Message


def ts(moment: datetime | None) -> str | None:
    """The timestamps of the API (UTC, milliseconds, Z)."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def device_json(d: Device, *, own: bool = False) -> dict[str, Any]:
    """A device's public record, as `GET /api/parvis/v1/e2e/devices` gives it."""
    out: dict[str, Any] = {
        "id": str(d.id),
        "account_id": str(d.account_id),
        "identity_key": e2e.b64(d.identity_key),
        "agreement_key": e2e.b64(d.agreement_key),
        "created_at": int(d.created_at.timestamp()),
        "signature": e2e.b64(d.signature),
        "revoked_at": ts(d.revoked_at),
    }
    if own:
        out["label"] = d.label
    return out


def message_json(
    m: Message, sender: Device | None, history_key: bytes | None = None
) -> dict[str, Any]:
    """A message as `GET .../conversations/{id}/messages` gives it: the whole envelope and the
    record of the device that sent it, all a device needs to verify and decrypt it; and the
    message key another device of the account gave the reading device, if any."""
    env = m.envelope
    return {
        "id": str(m.id),
        "conversation_id": str(m.conversation_id),
        "sender_account_id": str(m.sender_account_id),
        "sender_device_id": str(m.sender_device_id),
        "created_at": ts(m.created_at),
        "nonce": e2e.b64(env.nonce),
        "ciphertext": e2e.b64(env.ciphertext),
        "keys": [{"device_id": str(d), "sealed_key": e2e.b64(k)} for d, k in env.keys],
        "signature": e2e.b64(env.signature),
        "sender_device": device_json(sender) if sender else None,
        "history_key": e2e.b64(history_key) if history_key is not None else None,
    }
