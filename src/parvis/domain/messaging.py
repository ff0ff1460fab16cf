"""End-to-end encrypted messages (issue 9): the protocol's pure parts, as docs/messaging.md
states them. The server never decrypts: it checks shapes and signatures, and stores envelopes.

- the texts a device signs (its device record, each envelope), byte for byte;
- the envelope as the server stores it (one binary blob) and back;
- which devices an envelope must cover.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from parvis.domain.errors import Invalid

KEY_BYTES = 32  # Ed25519 and X25519 public keys
SIGNATURE_BYTES = 64
NONCE_BYTES = 24  # XChaCha20-Poly1305
SEALED_KEY_BYTES = 80  # crypto_box_seal of a 32-byte message key: 32 + 48
TAG_BYTES = 16
PAD_BLOCK = 256
MAX_PADDED = 64 * 1024
MAX_CIPHERTEXT = MAX_PADDED + TAG_BYTES
MAX_PARTICIPANTS = 32
MAX_DEVICES = 10  # active devices per account
MAX_KEYS = MAX_PARTICIPANTS * MAX_DEVICES
MAX_LABEL = 64
MAX_HISTORY_KEYS = 500  # message keys given to a new device in one request
CLOCK_AHEAD = timedelta(minutes=10)  # a device record's created_at, against the server clock
RECORD_MAX_AGE = timedelta(days=1)


class DevicesNotCovered(Invalid):
    """An envelope that does not seal its key to exactly the conversation's active devices."""

    def __init__(self, missing: Sequence[int], unknown: Sequence[int]) -> None:
        parts = []
        if missing:
            parts.append(
                "the envelope does not cover every device of the conversation (missing "
                + ", ".join(str(d) for d in missing)
                + "): fetch the conversation's devices and seal the key to each"
            )
        if unknown:
            parts.append(
                "not an active device of a participant: " + ", ".join(str(d) for d in unknown)
            )
        super().__init__("Validation failed: keys: " + "; ".join(parts))
        self.missing = list(missing)
        self.unknown = list(unknown)


@dataclass(frozen=True)
class Device:
    id: int
    account_id: int
    identity_key: bytes
    agreement_key: bytes
    signature: bytes
    label: str
    created_at: datetime
    revoked_at: datetime | None
    uri: str | None = None  # a remote device: its record's URI (its id is its home server's)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def local(self) -> bool:
        return self.uri is None


@dataclass(frozen=True)
class Conversation:
    id: int
    created_by: int | None
    created_at: datetime
    activity_id: int
    participant_ids: tuple[int, ...]
    uri: str | None = None  # with people on other servers: its URI on the starter's server


# -- encodings ---------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(field: str, value: object, *, size: int | None = None, maximum: int = 0) -> bytes:
    """Standard base64 (padded) from a client, checked; a 422 naming `field` otherwise."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"Validation failed: {field}: must be a base64 string")
    if maximum and len(value) > (maximum + 2) // 3 * 4:
        raise Invalid(f"Validation failed: {field}: longer than {maximum} bytes")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise Invalid(f"Validation failed: {field}: not valid base64") from None
    if size is not None and len(raw) != size:
        raise Invalid(f"Validation failed: {field}: must be {size} bytes, not {len(raw)}")
    return raw


def _lines(*lines: str) -> bytes:
    return "\n".join(lines).encode("ascii")


# -- device records ----------------------------------------------------------------------------


def device_record_text(
    account_uri: str, identity_key: bytes, agreement_key: bytes, created_at: int
) -> bytes:
    """What a device signs with its identity key when it publishes itself."""
    return _lines(
        "parvis-e2e-device-v1",
        f"account {account_uri}",
        f"identity {b64(identity_key)}",
        f"agreement {b64(agreement_key)}",
        f"created {created_at}",
    )


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """An Ed25519 detached signature; False for a bad signature or an invalid key."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def check_created_at(created_at: datetime, now: datetime) -> None:
    if created_at > now + CLOCK_AHEAD:
        raise Invalid("Validation failed: created_at: in the future (check the device's clock)")
    if created_at < now - RECORD_MAX_AGE:
        raise Invalid("Validation failed: created_at: more than a day old: sign a fresh record")


# -- envelopes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """An encrypted message: one ciphertext, its key sealed to each device, a signature."""

    nonce: bytes
    ciphertext: bytes
    keys: tuple[tuple[int, bytes], ...]  # (device id, sealed key), by device id
    signature: bytes

    def signed_text(self, conversation_id: int, sender_device_id: int) -> bytes:
        return envelope_text(
            conversation_id, sender_device_id, self.nonce, self.ciphertext, self.keys
        )

    def device_ids(self) -> list[int]:
        return [d for d, _ in self.keys]

    def pack(self) -> bytes:
        """The stored form: nonce, signature, key count, (id, sealed key)…, ciphertext."""
        head = self.nonce + self.signature + struct.pack(">H", len(self.keys))
        body = b"".join(struct.pack(">Q", d) + sealed for d, sealed in self.keys)
        return head + body + self.ciphertext

    @classmethod
    def unpack(cls, blob: bytes) -> Envelope:
        at = NONCE_BYTES + SIGNATURE_BYTES
        nonce, signature = blob[:NONCE_BYTES], blob[NONCE_BYTES:at]
        (count,) = struct.unpack(">H", blob[at : at + 2])
        at += 2
        keys = []
        for _ in range(count):
            (device_id,) = struct.unpack(">Q", blob[at : at + 8])
            keys.append((device_id, blob[at + 8 : at + 8 + SEALED_KEY_BYTES]))
            at += 8 + SEALED_KEY_BYTES
        return cls(nonce, blob[at:], tuple(keys), signature)


def envelope_text(
    conversation_id: int,
    sender_device_id: int,
    nonce: bytes,
    ciphertext: bytes,
    keys: Iterable[tuple[int, bytes]],
) -> bytes:
    """What the sending device signs: the whole envelope, keys in increasing device id."""
    ordered = sorted(keys, key=lambda k: k[0])
    return _lines(
        "parvis-e2e-envelope-v1",
        f"conversation {conversation_id}",
        f"sender {sender_device_id}",
        f"nonce {b64(nonce)}",
        f"ciphertext {b64(ciphertext)}",
        *(f"key {d} {b64(sealed)}" for d, sealed in ordered),
    )


def check_ciphertext(ciphertext: bytes) -> None:
    if len(ciphertext) > MAX_CIPHERTEXT:
        raise Invalid(f"Validation failed: ciphertext: longer than {MAX_CIPHERTEXT} bytes")
    body = len(ciphertext) - TAG_BYTES
    if body <= 0 or body % PAD_BLOCK:
        raise Invalid(
            "Validation failed: ciphertext: the plaintext must be padded to a multiple of "
            f"{PAD_BLOCK} bytes (sodium_pad) before encryption"
        )


def coverage(covered: Iterable[int], active: Iterable[int]) -> tuple[list[int], list[int]]:
    """(devices that should have a key and have none, keys for devices that should not)."""
    have, want = set(covered), set(active)
    return sorted(want - have), sorted(have - want)


def pair_key(a: int, b: int) -> str:
    """The one-to-one conversation of two accounts, whoever asks first."""
    low, high = sorted((a, b))
    return f"{low}:{high}"


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    sender_account_id: int
    sender_device_id: int
    created_at: datetime
    envelope: Envelope
