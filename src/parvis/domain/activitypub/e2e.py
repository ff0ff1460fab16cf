"""End-to-end encrypted messages between Parvis servers: the ActivityPub extension that
FEDERATION.md describes ("Encrypted messages (Parvis extension)"). Pure: documents built from
plain values, and documents read back into plain values (or `parse.Malformed`, saying what is
wrong). The server never decrypts anything: these documents carry public keys, signatures and
the envelopes of docs/messaging.md unchanged.

The terms live under `https://parvis.social/ns#` (`parvis:`), defined inline in each document
(as the community notes' terms are):

- `E2EDevice`, a device record: `attributedTo` (its account), `deviceId` (the id its home server
  gave it, the same on every server), `identityKey`, `agreementKey`, `created` and
  `deviceSignature` (the Ed25519 signature of docs/messaging.md, over the account's URI: any
  server and any client can check it wherever it was fetched);
- `E2EDeviceCollection` (also an `OrderedCollection`): an account's active devices, at the URL
  its actor gives as `e2eDevices`; sent again in an `Update` whenever a device is added or
  revoked;
- `EncryptedConversation`: `conversationId` (the id on the starter's server, kept by every
  server) and `participants` (actor URIs), in a `Create` by the person who started it;
- `EncryptedMessage`: `conversationId`, `e2eConversation` (the conversation's URI),
  `senderDevice` (the sender's device record) and `envelope` (the JSON the client API takes:
  `sender_device_id`, `nonce`, `ciphertext`, `keys`, `signature`), in a `Create` by its sender.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from parvis.domain import messaging as e2e
from parvis.domain.activitypub import parse, render
from parvis.domain.activitypub.vocabulary import AS_CONTEXT, PARVIS
from parvis.domain.errors import Invalid
from parvis.domain.ids import parse_id
from parvis.domain.messaging import Envelope

JSON = dict[str, Any]
DEVICE_TYPE = "E2EDevice"
COLLECTION_TYPE = "E2EDeviceCollection"
CONVERSATION_TYPE = "EncryptedConversation"
MESSAGE_TYPE = "EncryptedMessage"

_ID = "@id"
E2E_TERMS: dict[str, Any] = {
    "parvis": PARVIS,
    DEVICE_TYPE: f"parvis:{DEVICE_TYPE}",
    COLLECTION_TYPE: f"parvis:{COLLECTION_TYPE}",
    CONVERSATION_TYPE: f"parvis:{CONVERSATION_TYPE}",
    MESSAGE_TYPE: f"parvis:{MESSAGE_TYPE}",
    "e2eDevices": {_ID: "parvis:e2eDevices", "@type": _ID},
    "deviceId": "parvis:deviceId",
    "identityKey": "parvis:identityKey",
    "agreementKey": "parvis:agreementKey",
    "created": "parvis:created",
    "deviceSignature": "parvis:deviceSignature",
    "conversationId": "parvis:conversationId",
    "participants": {_ID: "parvis:participants", "@type": _ID, "@container": "@list"},
    "e2eConversation": {_ID: "parvis:e2eConversation", "@type": _ID},
    "senderDevice": "parvis:senderDevice",
    "envelope": {_ID: "parvis:envelope", "@type": "@json"},
}
E2E_CONTEXT: list[Any] = [AS_CONTEXT, E2E_TERMS]
# The terms an actor document adds to its own `@context` to name its device collection.
ACTOR_TERMS: dict[str, Any] = {"parvis": PARVIS, "e2eDevices": E2E_TERMS["e2eDevices"]}


def _compact(kind: str) -> str:
    kind = parse.compact_type(kind)
    for prefix in ("parvis:", PARVIS):
        if kind.startswith(prefix):
            return kind[len(prefix) :]
    return kind


def types_of(doc: Mapping[str, Any] | None) -> set[str]:
    """Every type of a document, compacted (`parvis:X` and the full IRI read as `X`)."""
    if doc is None:
        return set()
    raw = doc.get("type", doc.get("@type"))
    return {_compact(v) for v in (raw if isinstance(raw, list) else [raw]) if isinstance(v, str)}


def is_ours(doc: Mapping[str, Any] | None) -> bool:
    """Whether the object is one of this extension's (an activity's embedded object)."""
    return bool(types_of(doc) & {COLLECTION_TYPE, CONVERSATION_TYPE, MESSAGE_TYPE})


# -- URIs --------------------------------------------------------------------------------------


def devices_uri(actor_uri: str) -> str:
    return f"{actor_uri}/collections/e2e_devices"


def device_uri(actor_uri: str, device_id: int) -> str:
    return f"{actor_uri}#e2e-devices/{device_id}"


def conversation_uri(starter_uri: str, conversation_id: int) -> str:
    return f"{starter_uri}#e2e-conversations/{conversation_id}"


def message_uri(sender_uri: str, message_id: int) -> str:
    return f"{sender_uri}#e2e-messages/{message_id}"


def advertise(actor_doc: JSON) -> JSON:
    """The actor document with its device collection (`e2eDevices`) and the term's context."""
    context = actor_doc.get("@context")
    contexts = list(context) if isinstance(context, list) else [context] if context else []
    out = {**actor_doc, "@context": [*contexts, ACTOR_TERMS]}
    out["e2eDevices"] = devices_uri(str(actor_doc["id"]))
    return out


def devices_link(actor_doc: Mapping[str, Any]) -> str | None:
    """The device collection an actor document names (`e2eDevices`), if any."""
    found = _value(_get(actor_doc, "e2eDevices"))
    if not isinstance(found, str):
        return None
    try:
        return parse.check_uri(found, "e2eDevices")
    except parse.Malformed:
        return None


# -- building ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceRecord:
    """A device as its home server publishes it: what the device signed, and the signature."""

    uri: str
    account_uri: str
    device_id: int
    identity_key: bytes
    agreement_key: bytes
    created: int  # seconds since the epoch, as signed
    signature: bytes

    def verifies(self) -> bool:
        """Whether the signature holds over this account's URI (docs/messaging.md)."""
        text = e2e.device_record_text(
            self.account_uri, self.identity_key, self.agreement_key, self.created
        )
        return e2e.verify(self.identity_key, self.signature, text)


def device(record: DeviceRecord) -> JSON:
    return {
        "id": record.uri,
        "type": DEVICE_TYPE,
        "attributedTo": record.account_uri,
        "deviceId": str(record.device_id),
        "identityKey": e2e.b64(record.identity_key),
        "agreementKey": e2e.b64(record.agreement_key),
        "created": record.created,
        "deviceSignature": e2e.b64(record.signature),
    }


def collection(actor_uri: str, records: Sequence[DeviceRecord]) -> JSON:
    """The account's active devices, all in one page (there are at most 10)."""
    return {
        "@context": E2E_CONTEXT,
        "id": devices_uri(actor_uri),
        "type": ["OrderedCollection", COLLECTION_TYPE],
        "attributedTo": actor_uri,
        "totalItems": len(records),
        "orderedItems": [device(r) for r in records],
    }


def devices_update(actor_uri: str, records: Sequence[DeviceRecord], moment: datetime) -> JSON:
    """Update of the device collection, embedded: a device added or revoked."""
    doc = collection(actor_uri, records)
    doc["to"] = []  # addressed by delivery only: to the servers that share a conversation
    return render.update(doc, actor_uri, updated=moment)


@dataclass(frozen=True)
class ConversationDoc:
    uri: str
    conversation_id: int
    starter_uri: str
    participants: tuple[str, ...]  # actor URIs, the starter's included
    published: datetime


def conversation(doc: ConversationDoc) -> JSON:
    return {
        "@context": E2E_CONTEXT,
        "id": doc.uri,
        "type": CONVERSATION_TYPE,
        "attributedTo": doc.starter_uri,
        "conversationId": str(doc.conversation_id),
        "participants": list(doc.participants),
        "published": render.iso(doc.published),
        "to": [p for p in doc.participants if p != doc.starter_uri],
    }


def create_conversation(doc: ConversationDoc) -> JSON:
    """Create of a conversation by its starter: id `{conversation}/activity`."""
    return render.create(conversation(doc), doc.starter_uri)


def envelope_json(sender_device_id: int, envelope: Envelope) -> JSON:
    """The envelope as the client API takes it (base64 values, ids as strings)."""
    return {
        "sender_device_id": str(sender_device_id),
        "nonce": e2e.b64(envelope.nonce),
        "ciphertext": e2e.b64(envelope.ciphertext),
        "keys": [{"device_id": str(d), "sealed_key": e2e.b64(k)} for d, k in envelope.keys],
        "signature": e2e.b64(envelope.signature),
    }


@dataclass(frozen=True)
class MessageDoc:
    uri: str
    conversation_uri: str
    conversation_id: int
    sender: DeviceRecord
    envelope: Envelope
    to: tuple[str, ...]  # the other participants' actor URIs
    published: datetime


def message(doc: MessageDoc) -> JSON:
    return {
        "@context": E2E_CONTEXT,
        "id": doc.uri,
        "type": MESSAGE_TYPE,
        "attributedTo": doc.sender.account_uri,
        "e2eConversation": doc.conversation_uri,
        "conversationId": str(doc.conversation_id),
        "senderDevice": device(doc.sender),
        "envelope": envelope_json(doc.sender.device_id, doc.envelope),
        "published": render.iso(doc.published),
        "to": list(doc.to),
    }


def create_message(doc: MessageDoc) -> JSON:
    """Create of a message by its sender: id `{message}/activity`."""
    return render.create(message(doc), doc.sender.account_uri)


# -- reading -----------------------------------------------------------------------------------


def _get(doc: Mapping[str, Any], name: str) -> Any:
    for key in (name, f"parvis:{name}", PARVIS + name, f"as:{name}", parse.AS + name):
        if key in doc:
            return doc[key]
    return None


def _value(item: Any) -> Any:
    return item.get("@value", item.get("@id")) if isinstance(item, Mapping) else item


def _uri(value: Any, what: str) -> str:
    found = _value(value)
    if not isinstance(found, str):
        raise parse.Malformed(f"{what}: missing")
    return parse.check_uri(found, what)


def _id(value: Any, what: str) -> int:
    found = parse_id(_value(value)) if isinstance(_value(value), str) else None
    if found is None:
        raise parse.Malformed(f"{what}: a numeric id, as a string")
    return found


def _bytes(value: Any, what: str, size: int | None = None, maximum: int = 0) -> bytes:
    try:
        return e2e.unb64(what, _value(value), size=size, maximum=maximum)
    except Invalid as exc:
        raise parse.Malformed(exc.message.removeprefix("Validation failed: ")) from None


def _mapping(doc: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise parse.Malformed(f"{what}: not a JSON object")
    return doc


def _typed(doc: Any, kind: str, what: str) -> Mapping[str, Any]:
    found = _mapping(doc, what)
    if kind not in types_of(found):
        raise parse.Malformed(f"{what}: its type is not {kind}")
    return found


def device_record(doc: Any) -> DeviceRecord:
    """An E2EDevice (its signature is not checked here: `DeviceRecord.verifies`)."""
    doc = _typed(doc, DEVICE_TYPE, "device")
    uri = _uri(doc.get("id", doc.get(_ID)), "device id")
    account = _uri(_get(doc, "attributedTo"), "device attributedTo")
    if not parse.same_host(uri, account):
        raise parse.Malformed("device: its id and its account are on different hosts")
    created = _value(_get(doc, "created"))
    if isinstance(created, bool) or not isinstance(created, int) or not 0 <= created < 2**40:
        raise parse.Malformed("device created: seconds since the epoch, an integer")
    return DeviceRecord(
        uri=uri,
        account_uri=account,
        device_id=_id(_get(doc, "deviceId"), "deviceId"),
        identity_key=_bytes(_get(doc, "identityKey"), "identityKey", e2e.KEY_BYTES),
        agreement_key=_bytes(_get(doc, "agreementKey"), "agreementKey", e2e.KEY_BYTES),
        created=created,
        signature=_bytes(_get(doc, "deviceSignature"), "deviceSignature", e2e.SIGNATURE_BYTES),
    )


def _list(value: Any, what: str, limit: int) -> list[Any]:
    if isinstance(value, Mapping) and "@list" in value:
        value = value["@list"]
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if len(items) > limit:
        raise parse.Malformed(f"{what}: more than {limit} entries")
    return items


def device_collection(doc: Any) -> tuple[str, list[DeviceRecord]]:
    """(the account's URI, its devices) from an E2EDeviceCollection: each device the
    account's, on its host; at most MAX_DEVICES of them, each id once."""
    doc = _typed(doc, COLLECTION_TYPE, "device collection")
    account = _uri(_get(doc, "attributedTo"), "device collection attributedTo")
    records = [
        device_record(item)
        for item in _list(_get(doc, "orderedItems"), "orderedItems", e2e.MAX_DEVICES)
    ]
    for record in records:
        if record.account_uri != account:
            raise parse.Malformed("device collection: a device of another account")
    if len({r.device_id for r in records}) != len(records):
        raise parse.Malformed("device collection: a device is listed twice")
    return account, records


@dataclass(frozen=True)
class RemoteConversation:
    uri: str
    conversation_id: int
    starter: str
    participants: tuple[str, ...]


def remote_conversation(doc: Any) -> RemoteConversation:
    """An EncryptedConversation: 2 to 32 distinct participants, its starter among them, its id
    on its starter's host."""
    doc = _typed(doc, CONVERSATION_TYPE, "conversation")
    uri = _uri(doc.get("id", doc.get(_ID)), "conversation id")
    starter = _uri(_get(doc, "attributedTo"), "conversation attributedTo")
    if not parse.same_host(uri, starter):
        raise parse.Malformed("conversation: its id and its starter are on different hosts")
    listed = _list(_get(doc, "participants"), "participants", e2e.MAX_PARTICIPANTS)
    participants = tuple(dict.fromkeys(_uri(p, "participants") for p in listed))
    if len(participants) != len(listed):
        raise parse.Malformed("participants: an account is listed twice")
    if len(participants) < 2 or starter not in participants:
        raise parse.Malformed("participants: the starter and at least one other account")
    return RemoteConversation(
        uri=uri,
        conversation_id=_id(_get(doc, "conversationId"), "conversationId"),
        starter=starter,
        participants=participants,
    )


@dataclass(frozen=True)
class RemoteMessage:
    uri: str
    conversation_uri: str
    conversation_id: int
    sender: DeviceRecord
    envelope: Envelope


def _sealed_keys(value: Any) -> tuple[tuple[int, bytes], ...]:
    items = _list(value, "envelope keys", e2e.MAX_KEYS)
    if not items:
        raise parse.Malformed("envelope keys: at least one")
    keys: dict[int, bytes] = {}
    for i, item in enumerate(items):
        item = _mapping(item, f"envelope keys.{i}")
        device_id = _id(item.get("device_id"), f"keys.{i}.device_id")
        if device_id in keys:
            raise parse.Malformed(f"keys.{i}.device_id: device {device_id} is twice")
        keys[device_id] = _bytes(
            item.get("sealed_key"), f"keys.{i}.sealed_key", e2e.SEALED_KEY_BYTES
        )
    return tuple(sorted(keys.items()))


def remote_message(doc: Any) -> RemoteMessage:
    """An EncryptedMessage: its envelope read as the client API reads one (base64, sizes,
    padding), sent by the device whose record it carries, attributed to that device's account.
    Signatures are checked by the receiving service, which knows the conversation."""
    doc = _typed(doc, MESSAGE_TYPE, "message")
    uri = _uri(doc.get("id", doc.get(_ID)), "message id")
    sender = device_record(_get(doc, "senderDevice"))
    author = _uri(_get(doc, "attributedTo"), "message attributedTo")
    if author != sender.account_uri:
        raise parse.Malformed("message: its sender device is not its author's")
    if not parse.same_host(uri, author):
        raise parse.Malformed("message: its id and its author are on different hosts")
    raw = _mapping(_get(doc, "envelope"), "envelope")
    if _id(raw.get("sender_device_id"), "envelope sender_device_id") != sender.device_id:
        raise parse.Malformed("envelope sender_device_id: not the sender device's id")
    envelope = Envelope(
        nonce=_bytes(raw.get("nonce"), "nonce", e2e.NONCE_BYTES),
        ciphertext=_bytes(raw.get("ciphertext"), "ciphertext", maximum=e2e.MAX_CIPHERTEXT),
        keys=_sealed_keys(raw.get("keys")),
        signature=_bytes(raw.get("signature"), "signature", e2e.SIGNATURE_BYTES),
    )
    try:
        e2e.check_ciphertext(envelope.ciphertext)
    except Invalid as exc:
        raise parse.Malformed(exc.message.removeprefix("Validation failed: ")) from None
    return RemoteMessage(
        uri=uri,
        conversation_uri=_uri(_get(doc, "e2eConversation"), "e2eConversation"),
        conversation_id=_id(_get(doc, "conversationId"), "conversationId"),
        sender=sender,
        envelope=envelope,
    )


def record_created(record: DeviceRecord) -> datetime:
    return datetime.fromtimestamp(record.created, UTC)
