"""End-to-end encrypted messages (issue 9, docs/messaging.md): devices publish their public
keys, conversations are fixed sets of local accounts, messages are envelopes the server checks
(shape, padding, sender device, signature, one sealed key per active device of the
conversation) and queues for each device. The server never holds a key that opens a message.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from parvis.domain import messaging as e2e
from parvis.domain.activitypub import e2e as e2e_ap
from parvis.domain.errors import Conflict, Forbidden, Invalid, NotFound
from parvis.domain.ids import new_id, parse_id
from parvis.domain.messaging import Conversation, Device, Envelope, Message
from parvis.domain.models import Account
from parvis.services import e2e_federation
from parvis.services.context import Work
from parvis.services.timelines import Paging

NOT_FOUND = "Record not found"


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    participants: list[Account]


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    devices: dict[int, Device]  # the sender devices, revoked ones included
    # message id -> its key re-sealed to the reading device by another device of the account
    history_keys: dict[int, bytes] = field(default_factory=dict)


# -- devices -----------------------------------------------------------------------------------


def publish_device(
    work: Work,
    account_id: int,
    *,
    identity_key: str,
    agreement_key: str,
    created_at: int,
    signature: str,
    label: str = "",
) -> Device:
    """Publish this device's signed record; publishing the same record again is harmless."""
    account = work.store.accounts.get(account_id)
    if account is None:
        raise NotFound(NOT_FOUND)
    identity = e2e.unb64("identity_key", identity_key, size=e2e.KEY_BYTES)
    agreement = e2e.unb64("agreement_key", agreement_key, size=e2e.KEY_BYTES)
    signed = e2e.unb64("signature", signature, size=e2e.SIGNATURE_BYTES)
    if identity == agreement:
        raise Invalid("Validation failed: agreement_key: must differ from the identity key")
    if not 0 <= created_at < 2**40:
        raise Invalid("Validation failed: created_at: seconds since the epoch")
    record = e2e.device_record_text(account.uri, identity, agreement, created_at)
    if not e2e.verify(identity, signed, record):
        raise Invalid(
            "Validation failed: signature: does not verify with identity_key over the device "
            "record (docs/messaging.md)"
        )
    made = datetime.fromtimestamp(created_at, UTC)
    e2e.check_created_at(made, work.now())
    label = " ".join(label.split())
    if len(label) > e2e.MAX_LABEL:
        raise Invalid(f"Validation failed: label: at most {e2e.MAX_LABEL} characters")
    known = work.store.messaging.devices_of([account_id], active=False)
    for d in known:
        if d.identity_key == identity:
            return _same_device(d, agreement)
    if sum(1 for d in known if d.active) >= e2e.MAX_DEVICES:
        raise Invalid(
            f"Validation failed: this account already has {e2e.MAX_DEVICES} active devices: "
            "revoke one first"
        )
    device = Device(new_id(), account_id, identity, agreement, signed, label, made, None)
    stored = work.store.messaging.add_device(device)
    if stored.id != device.id:  # the identity key belongs to another account's device
        raise Conflict("This identity key is already published: create new keys")
    e2e_federation.devices_changed(work, account_id)  # other servers seal to it from now on
    return stored


def _same_device(device: Device, agreement: bytes) -> Device:
    if device.agreement_key != agreement:
        raise Conflict("This identity key is already published with another agreement key")
    if not device.active:
        raise Conflict("This device was revoked: create new keys")
    return device


def my_devices(work: Work, account_id: int) -> list[Device]:
    return work.store.messaging.devices_of([account_id], active=False)


def revoke_device(work: Work, account_id: int, device_id: int) -> Device:
    device = _own_device(work, account_id, device_id)
    work.store.messaging.revoke(device.id, work.now())
    e2e_federation.devices_changed(work, account_id)  # other servers stop sealing to it
    revoked = work.store.messaging.device(device.id)
    assert revoked is not None
    return revoked


def account_devices(work: Work, account_id: int) -> tuple[Account, list[Device]]:
    """An account's active devices: the records to verify and encrypt to."""
    account = work.store.accounts.get(account_id)
    if account is None or account.suspended:
        raise NotFound(NOT_FOUND)
    return account, work.store.messaging.devices_of([account_id])


def _own_device(work: Work, account_id: int, device_id: int) -> Device:
    device = work.store.messaging.device(device_id)
    if device is None or device.account_id != account_id:
        raise NotFound(NOT_FOUND)
    return device


# -- conversations -----------------------------------------------------------------------------


def start(
    work: Work,
    account_id: int,
    participant_ids: Sequence[int],
    *,
    remote_ok: Collection[int] = (),
) -> ConversationView:
    """A conversation between the account and these others (the same one, for one-to-one).
    Remote accounts may be included when they are in `remote_ok` (their server runs Parvis:
    e2e_federation.speakers); the conversation then goes to their servers."""
    others = sorted(set(participant_ids) - {account_id})
    if not others:
        raise Invalid("Validation failed: participant_ids: name at least one other account")
    if len(others) + 1 > e2e.MAX_PARTICIPANTS:
        raise Invalid(
            f"Validation failed: participant_ids: at most {e2e.MAX_PARTICIPANTS} participants, "
            "you included"
        )
    found = work.store.accounts.get_many([account_id, *others])
    unknown = [a for a in others if a not in found]
    if unknown:
        raise Invalid(
            "Validation failed: participant_ids: no such account: "
            + ", ".join(str(a) for a in unknown)
        )
    blocked = work.store.social.blocked_with(account_id)
    blocked_domains = {d.lower() for d in work.store.social.blocked_domains(account_id)}
    for other in others:
        who = found[other]
        if who.domain is not None and who.domain.lower() in blocked_domains:
            raise Invalid(
                f"Validation failed: participant_ids: you block the server of @{who.acct}"
            )
        if not who.local and other not in remote_ok:
            raise Invalid(
                f"Validation failed: participant_ids: @{who.acct} is on a server that does not "
                "take encrypted messages (only Parvis servers do)"
            )
        if who.suspended or other in blocked:
            raise Invalid(
                f"Validation failed: participant_ids: you cannot start a conversation with "
                f"@{who.acct}"
            )
    members = tuple(sorted([account_id, *others]))
    pair = e2e.pair_key(*members) if len(members) == 2 else None
    existing = work.store.messaging.by_pair(pair) if pair else None
    if existing is None:
        cid = new_id()
        federated = not all(found[a].local for a in members)
        uri = e2e_ap.conversation_uri(found[account_id].uri, cid) if federated else None
        made = Conversation(cid, account_id, work.now(), cid, members, uri=uri)
        existing = work.store.messaging.add_conversation(made, pair)
        if existing is None and pair is not None:  # made meanwhile by the other person
            existing = work.store.messaging.by_pair(pair)
        elif existing is not None:
            e2e_federation.conversation_started(work, existing)
    assert existing is not None
    return ConversationView(existing, [found[a] for a in existing.participant_ids])


def _member_of(work: Work, account_id: int, conversation_id: int) -> Conversation:
    """The conversation, for a participant; 404 for everyone else (existence not revealed)."""
    found = work.store.messaging.conversation(conversation_id)
    if found is None or account_id not in found.participant_ids:
        raise NotFound(NOT_FOUND)
    return found


def conversation(work: Work, account_id: int, conversation_id: int) -> ConversationView:
    found = _member_of(work, account_id, conversation_id)
    return _view(work, [found])[0]


def conversations(work: Work, account_id: int, paging: Paging) -> list[ConversationView]:
    found = work.store.messaging.conversations_of(account_id, **paging.kw())
    if paging.min_id is not None:
        found.reverse()
    return _view(work, found)


def _view(work: Work, found: list[Conversation]) -> list[ConversationView]:
    accounts = work.store.accounts.get_many({a for c in found for a in c.participant_ids})
    return [
        ConversationView(c, [accounts[a] for a in c.participant_ids if a in accounts])
        for c in found
    ]


def conversation_devices(
    work: Work, account_id: int, conversation_id: int
) -> tuple[list[Account], list[Device]]:
    """The participants and every active device of theirs: what a message must be sealed to."""
    view = conversation(work, account_id, conversation_id)
    ids = list(view.conversation.participant_ids)
    return view.participants, work.store.messaging.devices_of(ids)


# -- messages ----------------------------------------------------------------------------------


def send(
    work: Work,
    account_id: int,
    conversation_id: int,
    *,
    sender_device_id: str,
    nonce: str,
    ciphertext: str,
    keys: Sequence[tuple[str, str]],
    signature: str,
) -> Message:
    """Check an envelope and queue it for every other device of the conversation."""
    convo = _member_of(work, account_id, conversation_id)
    store = work.store.messaging
    sender_id = parse_id(sender_device_id)
    sender = store.device(sender_id) if sender_id is not None else None
    if sender is None or sender.account_id != account_id or not sender.active:
        raise Invalid("Validation failed: sender_device_id: not an active device of yours")
    envelope = Envelope(
        e2e.unb64("nonce", nonce, size=e2e.NONCE_BYTES),
        e2e.unb64("ciphertext", ciphertext, maximum=e2e.MAX_CIPHERTEXT),
        _sealed_keys(keys),
        e2e.unb64("signature", signature, size=e2e.SIGNATURE_BYTES),
    )
    e2e.check_ciphertext(envelope.ciphertext)
    others = [a for a in convo.participant_ids if a != account_id]
    if len(others) == 1 and others[0] in work.store.social.blocked_with(account_id):
        raise Forbidden("You cannot send messages to this account")
    active = [d.id for d in store.devices_of(list(convo.participant_ids))]
    missing, unknown = e2e.coverage(envelope.device_ids(), active)
    if missing or unknown:
        raise e2e.DevicesNotCovered(missing, unknown)
    if not e2e.verify(
        sender.identity_key, envelope.signature, envelope.signed_text(convo.id, sender.id)
    ):
        raise Invalid(
            "Validation failed: signature: does not verify with the sender device's identity "
            "key over the envelope (docs/messaging.md)"
        )
    message = Message(new_id(), convo.id, account_id, sender.id, work.now(), envelope)
    local = {d.id for d in store.devices_of(list(convo.participant_ids)) if d.local}
    store.add_message(message, [d for d in envelope.device_ids() if d != sender.id and d in local])
    e2e_federation.message_sent(work, convo, message)  # the other servers queue it for theirs
    return message


def _sealed_keys(keys: Sequence[tuple[str, str]]) -> tuple[tuple[int, bytes], ...]:
    if not keys:
        raise Invalid("Validation failed: keys: seal the message key to at least one device")
    if len(keys) > e2e.MAX_KEYS:
        raise Invalid(f"Validation failed: keys: at most {e2e.MAX_KEYS} devices")
    out: dict[int, bytes] = {}
    for i, (device_id, sealed) in enumerate(keys):
        parsed = parse_id(device_id)
        if parsed is None:
            raise Invalid(f"Validation failed: keys.{i}.device_id: must be a numeric id")
        if parsed in out:
            raise Invalid(f"Validation failed: keys.{i}.device_id: device {parsed} is twice")
        out[parsed] = e2e.unb64(f"keys.{i}.sealed_key", sealed, size=e2e.SEALED_KEY_BYTES)
    return tuple(sorted(out.items()))


def history(
    work: Work,
    account_id: int,
    conversation_id: int,
    paging: Paging,
    device_id: int | None = None,
) -> MessagePage:
    """A page of the conversation; with the reading device's id, the message keys given to it
    by another device of the account (its history from before it existed)."""
    convo = _member_of(work, account_id, conversation_id)
    reader = None
    if device_id is not None:
        reader = work.store.messaging.device(device_id)
        if reader is None or reader.account_id != account_id:
            raise Invalid("Validation failed: device_id: not a device of yours")
    found = work.store.messaging.messages(convo.id, **paging.kw())
    if paging.min_id is not None:
        found.reverse()
    return _page(work, found, reader.id if reader else None)


def inbox(work: Work, account_id: int, device_id: int, limit: int) -> MessagePage:
    """What is queued for one of the account's devices and not yet acknowledged."""
    device = _own_device(work, account_id, device_id)
    return _page(work, work.store.messaging.pending(device.id, limit), device.id)


def acknowledge(work: Work, account_id: int, device_id: int, up_to_id: int) -> int:
    device = _own_device(work, account_id, device_id)
    return work.store.messaging.acknowledge(device.id, up_to_id, work.now())


def _page(work: Work, found: list[Message], reader: int | None = None) -> MessagePage:
    store = work.store.messaging
    given = store.history_keys(reader, (m.id for m in found)) if reader is not None else {}
    return MessagePage(found, store.devices(m.sender_device_id for m in found), given)


# -- history on a new device -------------------------------------------------------------------


def give_history(
    work: Work,
    account_id: int,
    device_id: int,
    *,
    from_device_id: str,
    keys: Sequence[tuple[str, str]],
) -> int:
    """Keep message keys that one device of the account (`from_device_id`) re-sealed to
    another (`device_id`), on the user's request: each for a message of a conversation the
    account takes part in that the giver could open (sealed to it, or given to it before).
    All or nothing; how many were stored. The server cannot check what a sealed key holds: a
    wrong one only fails to decrypt, and the envelope's signature still proves the sender."""
    store = work.store.messaging
    target = store.device(device_id)
    if target is None or target.account_id != account_id or not target.active:
        raise Invalid("Validation failed: id: not an active device of yours")
    giver_id = parse_id(from_device_id)
    giver = store.device(giver_id) if giver_id is not None else None
    if giver is None or giver.account_id != account_id or not giver.active:
        raise Invalid("Validation failed: from_device_id: not an active device of yours")
    if giver.id == target.id:
        raise Invalid("Validation failed: from_device_id: give the history to another device")
    if not keys:
        raise Invalid("Validation failed: keys: give at least one message key")
    if len(keys) > e2e.MAX_HISTORY_KEYS:
        raise Invalid(f"Validation failed: keys: at most {e2e.MAX_HISTORY_KEYS} per request")
    given: dict[int, bytes] = {}
    for i, (message_id, sealed) in enumerate(keys):
        parsed = parse_id(message_id)
        if parsed is None:
            raise Invalid(f"Validation failed: keys.{i}.message_id: must be a numeric id")
        if parsed in given:
            raise Invalid(f"Validation failed: keys.{i}.message_id: message {parsed} is twice")
        given[parsed] = e2e.unb64(f"keys.{i}.sealed_key", sealed, size=e2e.SEALED_KEY_BYTES)
    found = store.messages_by_id(given)
    mine = store.taking_part(account_id, {m.conversation_id for m in found.values()})
    held = store.history_keys(giver.id, given)  # what the giver itself was given
    for i, mid in enumerate(given):
        m = found.get(mid)
        if (
            m is None
            or m.conversation_id not in mine
            or (giver.id not in m.envelope.device_ids() and mid not in held)
        ):
            raise Invalid(
                f"Validation failed: keys.{i}.message_id: not a message of your conversations "
                f"that device {giver.id} can open"
            )
    return store.give_history(target.id, giver.id, list(given.items()), work.now())
