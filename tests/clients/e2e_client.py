"""A reference client for Parvis's end-to-end encrypted messages (docs/messaging.md), on PyNaCl.

It talks HTTP only and imports nothing of Parvis: a second, independent implementation of the
protocol, so that the tests check the server against the document and not against itself. It
works over any HTTP client with httpx's `request(method, url, json=, params=, headers=)`
(Starlette's TestClient in the tests, httpx2 in `bench/messaging.py`).

What a client must do and this one does: create its keys on the device, publish a signed
device record, verify every device record and every envelope, seal each message key to every
device of the conversation, pad, warn when a contact's identity keys change (trust on first
use), compute safety numbers, drop replayed nonces.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import nacl.bindings as sodium
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey

E2E = "/api/parvis/v1/e2e"
PAD_BLOCK = 256


class Http(Protocol):
    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


class E2EError(Exception):
    """Something a user must be told about: the message cannot be shown as it is."""


class Tampered(E2EError):
    """A record or an envelope whose signature does not verify, or that does not decrypt."""


class Refused(E2EError):
    """The server answered with an error."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class KeyChange:
    """A contact's identity keys differ from those seen before: warn the user."""

    account_id: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Received:
    id: str
    conversation_id: str
    sender_account_id: str
    sender_device_id: str
    text: str
    sent_at: str


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def lines(*parts: str) -> bytes:
    return "\n".join(parts).encode("ascii")


def record_text(uri: str, identity: bytes, agreement: bytes, created_at: int) -> bytes:
    return lines(
        "parvis-e2e-device-v1",
        f"account {uri}",
        f"identity {b64(identity)}",
        f"agreement {b64(agreement)}",
        f"created {created_at}",
    )


def envelope_text(
    conversation_id: str,
    sender_device_id: str,
    nonce: bytes,
    ciphertext: bytes,
    keys: Iterable[tuple[str, bytes]],
) -> bytes:
    ordered = sorted(keys, key=lambda k: (len(k[0]), k[0]))  # as numbers
    return lines(
        "parvis-e2e-envelope-v1",
        f"conversation {conversation_id}",
        f"sender {sender_device_id}",
        f"nonce {b64(nonce)}",
        f"ciphertext {b64(ciphertext)}",
        *(f"key {d} {b64(k)}" for d, k in ordered),
    )


def message_ad(conversation_id: str, sender_device_id: str) -> bytes:
    return lines(
        "parvis-e2e-message-v1",
        f"conversation {conversation_id}",
        f"sender {sender_device_id}",
    )


def fingerprint(uri: str, identity_keys: Iterable[str]) -> str:
    """30 digits for one account: BLAKE2b-512 of its uri and sorted identity keys."""
    digest = hashlib.blake2b(
        lines("parvis-e2e-safety-v1", uri, *sorted(identity_keys)), digest_size=64
    ).digest()
    return "".join(
        f"{int.from_bytes(digest[i : i + 5], 'big') % 100_000:05d}" for i in range(0, 30, 5)
    )


def safety_number(uri_a: str, keys_a: Iterable[str], uri_b: str, keys_b: Iterable[str]) -> str:
    """60 digits in 12 groups of 5, the same on both sides."""
    digits = "".join(sorted([fingerprint(uri_a, keys_a), fingerprint(uri_b, keys_b)]))
    return " ".join(digits[i : i + 5] for i in range(0, 60, 5))


def verify_record(uri: str, device: dict[str, Any]) -> bytes:
    """A device record's identity key, once its signature checks out for this account."""
    identity = unb64(device["identity_key"])
    text = record_text(uri, identity, unb64(device["agreement_key"]), int(device["created_at"]))
    try:
        VerifyKey(identity).verify(text, unb64(device["signature"]))
    except (BadSignatureError, ValueError) as exc:
        raise Tampered(f"device {device['id']}: its record does not verify") from exc
    return identity


@dataclass
class E2EClient:
    """One device of one account."""

    http: Http
    token: str
    label: str = "reference client"
    clock: Callable[[], float] = time.time
    signing: SigningKey = field(default_factory=SigningKey.generate)
    agreement: PrivateKey = field(default_factory=PrivateKey.generate)
    device_id: str | None = None
    warnings: list[KeyChange] = field(default_factory=list)

    def __post_init__(self) -> None:
        me = self.call("GET", "/api/v1/accounts/verify_credentials")
        self.account_id: str = me["id"]
        self.uri: str = me["uri"]
        self.uris: dict[str, str] = {self.account_id: self.uri}
        self.pins: dict[str, set[str]] = {}  # account id -> identity keys seen (TOFU)
        self.ever: dict[str, set[str]] = {}  # and every key ever seen, for old messages
        self.nonces: dict[tuple[str, bytes], str] = {}  # -> the message id it came with

    # -- HTTP --------------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        r = self.http.request(method, path, headers=headers, **kwargs)
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = r.text
            raise Refused(r.status_code, body)
        return r.json()

    # -- devices -----------------------------------------------------------------------------

    @property
    def identity_key(self) -> str:
        return b64(bytes(self.signing.verify_key))

    def publish(self) -> dict[str, Any]:
        created = int(self.clock())
        identity = bytes(self.signing.verify_key)
        agreement = bytes(self.agreement.public_key)
        signature = self.signing.sign(record_text(self.uri, identity, agreement, created))
        device: dict[str, Any] = self.call(
            "POST",
            f"{E2E}/devices",
            json={
                "identity_key": b64(identity),
                "agreement_key": b64(agreement),
                "created_at": created,
                "signature": b64(signature.signature),
                "label": self.label,
            },
        )
        self.device_id = device["id"]
        self.ever.setdefault(self.account_id, set()).add(self.identity_key)
        return device

    def revoke(self) -> dict[str, Any]:
        assert self.device_id is not None
        revoked: dict[str, Any] = self.call("DELETE", f"{E2E}/devices/{self.device_id}")
        return revoked

    def check_keys(self, account_id: str, keys: set[str]) -> KeyChange | None:
        """Compare an account's identity keys with those seen before; a change is a warning."""
        self.ever.setdefault(account_id, set()).update(keys)
        before = self.pins.get(account_id)
        self.pins[account_id] = set(keys)
        if before is None or before == keys:
            return None
        change = KeyChange(account_id, tuple(sorted(keys - before)), tuple(sorted(before - keys)))
        self.warnings.append(change)
        return change

    def account_devices(self, account_id: str) -> list[dict[str, Any]]:
        uri = self.uri_of(account_id)
        devices: list[dict[str, Any]] = self.call("GET", f"{E2E}/accounts/{account_id}/devices")
        self.check_keys(account_id, {b64(verify_record(uri, d)) for d in devices})
        return devices

    def uri_of(self, account_id: str) -> str:
        if account_id not in self.uris:
            self.uris[account_id] = self.call("GET", f"/api/v1/accounts/{account_id}")["uri"]
        return self.uris[account_id]

    # -- conversations -----------------------------------------------------------------------

    def start(self, *participant_ids: str) -> dict[str, Any]:
        convo: dict[str, Any] = self.call(
            "POST", f"{E2E}/conversations", json={"participant_ids": list(participant_ids)}
        )
        for account in convo["participants"]:
            self.uris[account["id"]] = account["uri"]
        return convo

    def devices_for(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every device to seal to, each record verified, key changes noted."""
        found = self.call("GET", f"{E2E}/conversations/{conversation_id}/devices")
        out = []
        for entry in found["participants"]:
            account = entry["account"]
            self.uris[account["id"]] = account["uri"]
            keys = {b64(verify_record(account["uri"], d)) for d in entry["devices"]}
            self.check_keys(account["id"], keys)
            out += entry["devices"]
        return out

    # -- sending -----------------------------------------------------------------------------

    def seal(
        self, conversation_id: str, text: str, devices: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The envelope of one message, sealed to these devices and signed."""
        assert self.device_id is not None, "publish the device first"
        plain = json.dumps(
            {
                "v": 1,
                "type": "text",
                "text": text,
                "sent_at": datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            ensure_ascii=False,
        ).encode()
        padded = sodium.sodium_pad(plain, PAD_BLOCK)
        key = sodium.randombytes(32)
        nonce = sodium.randombytes(24)
        ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            padded, message_ad(conversation_id, self.device_id), nonce, key
        )
        sealed = [
            (d["id"], sodium.crypto_box_seal(key, unb64(d["agreement_key"]))) for d in devices
        ]
        signature = self.signing.sign(
            envelope_text(conversation_id, self.device_id, nonce, ciphertext, sealed)
        ).signature
        return {
            "sender_device_id": self.device_id,
            "nonce": b64(nonce),
            "ciphertext": b64(ciphertext),
            "keys": [{"device_id": d, "sealed_key": b64(k)} for d, k in sealed],
            "signature": b64(signature),
        }

    def post(self, conversation_id: str, envelope: dict[str, Any]) -> dict[str, Any]:
        sent: dict[str, Any] = self.call(
            "POST", f"{E2E}/conversations/{conversation_id}/messages", json=envelope
        )
        return sent

    def send(self, conversation_id: str, text: str) -> dict[str, Any]:
        """Encrypt to every device of the conversation; when the server says devices were
        added or removed meanwhile, fetch them again (noting the change) and retry once."""
        for attempt in (1, 2):
            envelope = self.seal(conversation_id, text, self.devices_for(conversation_id))
            try:
                return self.post(conversation_id, envelope)
            except Refused as refused:
                if attempt == 2 or not isinstance(refused.body, dict):
                    raise
                if "missing_device_ids" not in refused.body:
                    raise
        raise AssertionError("unreachable")

    # -- receiving ---------------------------------------------------------------------------

    def open(self, message: dict[str, Any]) -> Received:
        """Verify and decrypt one message; Tampered when anything does not check out."""
        assert self.device_id is not None
        sender_account = message["sender_account_id"]
        sender = message["sender_device"]
        if sender is None or sender["id"] != message["sender_device_id"]:
            raise Tampered(f"message {message['id']}: no record of its sender device")
        identity = verify_record(self.uri_of(sender_account), sender)
        if b64(identity) not in self.ever.get(sender_account, set()):
            self.account_devices(sender_account)  # new to us: refresh (and warn)
            if b64(identity) not in self.ever.get(sender_account, set()):
                change = KeyChange(sender_account, (b64(identity),), ())
                self.warnings.append(change)
                self.ever[sender_account].add(b64(identity))
        conversation_id = message["conversation_id"]
        nonce, ciphertext = unb64(message["nonce"]), unb64(message["ciphertext"])
        keys = [(k["device_id"], unb64(k["sealed_key"])) for k in message["keys"]]
        text = envelope_text(conversation_id, sender["id"], nonce, ciphertext, keys)
        try:
            VerifyKey(identity).verify(text, unb64(message["signature"]))
        except (BadSignatureError, ValueError) as exc:
            raise Tampered(f"message {message['id']}: its signature does not verify") from exc
        try:
            key = self.message_key(message)
            padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                ciphertext, message_ad(conversation_id, sender["id"]), nonce, key
            )
            body = json.loads(sodium.sodium_unpad(padded, PAD_BLOCK))
        except (CryptoError, ValueError) as exc:
            raise Tampered(f"message {message['id']}: does not decrypt") from exc
        first = self.nonces.setdefault((conversation_id, nonce), message["id"])
        if first != message["id"]:
            raise Tampered(f"message {message['id']}: a replay of message {first}")
        return Received(
            message["id"],
            conversation_id,
            sender_account,
            sender["id"],
            str(body["text"]),
            str(body["sent_at"]),
        )

    def message_key(self, message: dict[str, Any]) -> bytes:
        """The message key sealed to this device in the envelope, or else the one another
        device of the account gave it (`history_key`). CryptoError when it does not open; the
        caller has checked the envelope's signature, and a wrong key only fails the AEAD."""
        mine = [k["sealed_key"] for k in message["keys"] if k["device_id"] == self.device_id]
        sealed = mine[0] if mine else message.get("history_key")
        if not sealed:
            raise E2EError(f"message {message['id']}: not sealed to this device")
        return bytes(
            sodium.crypto_box_seal_open(
                unb64(sealed), bytes(self.agreement.public_key), bytes(self.agreement)
            )
        )

    def inbox(self, *, ack: bool = True) -> list[Received]:
        """What is queued for this device, opened; acknowledged unless `ack` is False."""
        found = self.call("GET", f"{E2E}/devices/{self.device_id}/inbox", params={"limit": 100})
        opened = [self.open(m) for m in found]
        if ack and found:
            self.call(
                "POST",
                f"{E2E}/devices/{self.device_id}/inbox/ack",
                json={"up_to_id": found[-1]["id"]},
            )
        return opened

    def history(
        self, conversation_id: str, limit: int = 40, max_id: str | None = None
    ) -> list[dict[str, Any]]:
        """A page of the conversation, newest first, with this device's `history_key`s."""
        params: dict[str, Any] = {"limit": limit}
        if self.device_id is not None:
            params["device_id"] = self.device_id
        if max_id is not None:
            params["max_id"] = max_id
        found: list[dict[str, Any]] = self.call(
            "GET", f"{E2E}/conversations/{conversation_id}/messages", params=params
        )
        return found

    # -- history on a new device -------------------------------------------------------------

    def give_history(self, new_device_id: str, batch: int = 500) -> int:
        """Give another device of this account every past message this one can open: each
        message key re-sealed to that device's agreement key (whose record is verified first),
        posted in batches. Messages that do not verify or open are left out. How many given."""
        assert self.device_id is not None
        target = [d for d in self.account_devices(self.account_id) if d["id"] == new_device_id]
        if not target:
            raise E2EError(f"device {new_device_id} is not an active device of this account")
        agreement = unb64(target[0]["agreement_key"])
        keys: list[dict[str, str]] = []
        for convo in self.all_conversations():
            max_id = None
            while page := self.history(convo["id"], limit=40, max_id=max_id):
                for message in page:
                    try:
                        self.open(message)  # signature checked, the key opens the text
                        key = self.message_key(message)
                    except (E2EError, CryptoError):
                        continue
                    sealed = sodium.crypto_box_seal(key, agreement)
                    keys.append({"message_id": message["id"], "sealed_key": b64(sealed)})
                max_id = page[-1]["id"]
        stored = 0
        for at in range(0, len(keys), batch):
            done = self.call(
                "POST",
                f"{E2E}/devices/{new_device_id}/history",
                json={"from_device_id": self.device_id, "keys": keys[at : at + batch]},
            )
            stored += int(done["stored"])
        return stored

    def all_conversations(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 40}
        while page := self.call("GET", f"{E2E}/conversations", params=params):
            found += page
            params["max_id"] = page[-1]["last_message_id"] or page[-1]["id"]
        return found

    # -- safety numbers ----------------------------------------------------------------------

    def safety_number(self, account_id: str) -> str:
        """Ours with this contact, from both accounts' current (verified) devices."""
        mine = {b64(verify_record(self.uri, d)) for d in self.account_devices(self.account_id)}
        theirs = {
            b64(verify_record(self.uri_of(account_id), d)) for d in self.account_devices(account_id)
        }
        return safety_number(self.uri, mine, self.uri_of(account_id), theirs)
