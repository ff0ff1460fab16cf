"""End-to-end encrypted messages from other Parvis servers, coming in (the extension:
domain/activitypub/e2e.py; FEDERATION.md, "Encrypted messages"; the way out:
services/e2e_federation.py).

At the inbox door (`check`, after the HTTP signature verified and before anything is stored):
the request must be signed by the activity's actor itself, not another account of its server
(403); the object must read as one of the extension's (400); it must be its actor's (403): a
conversation started by it, a message whose sender device record and envelope signature verify
with its account's URI and the conversation's id (the checks of services/messaging.py `send`,
on the same domain code), a device list whose every record verifies; a message must belong to a
conversation this server has (or whose `Create` waits in the inbox), that lists its sender
(403), and seal its key to no device that is here someone else's than a participant's (422);
ids already taken here by something else are refused (409).

Processing (`receive`, in the unit of work of services/inbound.py `apply`) checks again, then
stores: the conversation under its starter's id (unless a local participant blocks the starter
or is blocked, or is suspended), the message with a delivery row for each active local device
it is sealed to (a one-to-one conversation whose other person blocks the sender takes nothing),
the sender's device when new here, a device list (what it no longer lists is revoked).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from parvis.domain import messaging as e2e
from parvis.domain.activitypub import e2e as e2e_ap
from parvis.domain.activitypub import parse
from parvis.domain.errors import Conflict, Forbidden, Invalid
from parvis.domain.ids import new_id
from parvis.domain.messaging import Conversation, Message
from parvis.domain.models import Account
from parvis.services import e2e_federation, nodeinfo, remote_actors
from parvis.services.context import Work
from parvis.services.fetching import FetchError
from parvis.services.remote_actors import Network

log = logging.getLogger("parvis.federation.e2e")
KINDS = ("Create", "Update")


class NotYet(FetchError):
    """The message's conversation has not landed yet (its Create waits in the inbox): the
    inbound job retries it later, as it does when a server is unreachable."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not here yet (its Create waits in the inbox)")


def _object(activity: parse.Activity) -> Mapping[str, Any] | None:
    obj = activity.object
    return obj if activity.type in KINDS and e2e_ap.is_ours(obj) else None


def _waiting(work: Work, uri: str) -> bool:
    row = work.store.inbox.by_activity(f"{uri}/activity")
    return row is not None and row.state in ("pending", "retry")


# -- the door ----------------------------------------------------------------------------------


def check(net: Network, activity: parse.Activity, signer: str) -> None:
    """Refuse, before it is stored, an activity of the extension that is malformed (400),
    forged (403), about what is not here (422) or that takes an id that is (409). Anything
    else passes untouched."""
    obj = _object(activity)
    if obj is None:
        return
    if signer != activity.actor:
        raise Forbidden("This action is not allowed: signed by another account than the actor")
    kinds = e2e_ap.types_of(obj)
    if activity.type == "Create" and e2e_ap.CONVERSATION_TYPE in kinds:
        convo = e2e_ap.remote_conversation(obj)
        if convo.starter != activity.actor:
            raise Forbidden(
                "This action is not allowed: the conversation's starter is not the actor"
            )
        net.read(lambda work: _check_conversation(work, convo))
    elif activity.type == "Create" and e2e_ap.MESSAGE_TYPE in kinds:
        message = e2e_ap.remote_message(obj)
        if message.sender.account_uri != activity.actor:
            raise Forbidden("This action is not allowed: the message's sender is not the actor")
        _check_signatures(message)
        net.read(lambda work: _check_message(work, message))
    elif activity.type == "Update" and e2e_ap.COLLECTION_TYPE in kinds:
        owner, records = e2e_ap.device_collection(obj)
        if owner != activity.actor:
            raise Forbidden("This action is not allowed: the devices are not the actor's")
        for record in records:
            if not record.verifies():
                raise Forbidden(
                    f"This action is not allowed: device {record.device_id}: its record does "
                    "not verify with its account's URI"
                )
    else:
        raise parse.Malformed(f"{activity.type} of {sorted(kinds)} is not part of the extension")


def _check_signatures(message: e2e_ap.RemoteMessage) -> None:
    if not message.sender.verifies():
        raise Forbidden(
            "This action is not allowed: senderDevice: its record does not verify with the "
            "sender's URI"
        )
    text = message.envelope.signed_text(message.conversation_id, message.sender.device_id)
    if not e2e.verify(message.sender.identity_key, message.envelope.signature, text):
        raise Forbidden(
            "This action is not allowed: envelope: its signature does not verify with the sender "
            "device's identity key"
        )


def _check_conversation(work: Work, convo: e2e_ap.RemoteConversation) -> None:
    existing = work.store.messaging.conversation(convo.conversation_id)
    if existing is not None and existing.uri != convo.uri:
        log.warning("conversation %s refused: its id is taken here", convo.uri)
        raise Conflict(f"conversationId {convo.conversation_id} is another conversation's here")
    here = remote_actors.local_host(work.settings)
    if not any(parse.host_of(p) == here for p in convo.participants):
        raise Invalid("Validation failed: participants: nobody on this server")


def _account_id(work: Work, uri: str) -> int | None:
    return work.store.remote.account_id(uri)


def _check_message(work: Work, message: e2e_ap.RemoteMessage) -> None:
    store = work.store.messaging
    convo = store.conversation(message.conversation_id)
    if convo is None:
        if _waiting(work, message.conversation_uri):
            return
        raise Invalid("Validation failed: conversationId: no such conversation on this server")
    if convo.uri != message.conversation_uri:
        raise Invalid("Validation failed: e2eConversation: not the conversation of that id")
    sender_id = _account_id(work, message.sender.account_uri)
    if sender_id is None or sender_id not in convo.participant_ids:
        raise Forbidden("This action is not allowed: the sender is not in the conversation")
    known = store.device(message.sender.device_id)
    if known is not None and (
        known.account_id != sender_id or known.identity_key != message.sender.identity_key
    ):
        log.warning("message %s refused: its sender device id is taken here", message.uri)
        raise Conflict(f"senderDevice: device {message.sender.device_id} is another's here")
    if known is not None and not known.active:
        raise Invalid("Validation failed: senderDevice: this device was revoked")
    _check_keys(work, convo, message)


def _check_keys(work: Work, convo: Conversation, message: e2e_ap.RemoteMessage) -> None:
    """No key for a device that is someone else's here, and one for some device of this
    server's participants when they have any."""
    devices = work.store.messaging.devices(message.envelope.device_ids())
    members = set(convo.participant_ids)
    outsiders = sorted(d for d, dev in devices.items() if dev.account_id not in members)
    if outsiders:
        raise e2e.DevicesNotCovered([], outsiders)
    local = [d for d in work.store.messaging.devices_of(list(members)) if d.local]
    covered = [d for d in local if d.id in devices]
    if local and not covered:
        raise e2e.DevicesNotCovered(sorted(d.id for d in local), [])


# -- before applying: what the conversation needs --------------------------------------------


def prepare(net: Network, activity: parse.Activity) -> None:
    """For a conversation: fetch the participants not known here yet, and learn what their
    servers run (messages go to Parvis servers only). No transaction open."""
    obj = _object(activity)
    if (
        obj is None
        or activity.type != "Create"
        or e2e_ap.CONVERSATION_TYPE not in (e2e_ap.types_of(obj))
    ):
        return
    convo = e2e_ap.remote_conversation(obj)
    here = remote_actors.local_host(net.settings)
    known = net.read(lambda work: {p: _account_id(work, p) for p in convo.participants})
    ids = [i for i in known.values() if i is not None]
    for uri in [p for p, i in known.items() if i is None and parse.host_of(p) != here]:
        ids.append(remote_actors.fetch_actor(net, uri).id)
    inboxes = net.read(lambda work: work.store.deliveries.inboxes_of(ids))
    nodeinfo.software_of(net, inboxes.values())


# -- applying ----------------------------------------------------------------------------------


def receive(
    work: Work, activity: parse.Activity, obj: Mapping[str, Any] | None, actor: Account
) -> str | None:
    """Apply an activity of the extension (in the unit of work of services/inbound.py
    `apply`): a short outcome, or None when the activity is not one of it."""
    if obj is None or activity.type not in KINDS or not e2e_ap.is_ours(obj):
        return None
    kinds = e2e_ap.types_of(obj)
    if activity.type == "Create" and e2e_ap.CONVERSATION_TYPE in kinds:
        return _store_conversation(work, e2e_ap.remote_conversation(obj), actor)
    if activity.type == "Create" and e2e_ap.MESSAGE_TYPE in kinds:
        return _store_message(work, e2e_ap.remote_message(obj), actor)
    if activity.type == "Update" and e2e_ap.COLLECTION_TYPE in kinds:
        owner, records = e2e_ap.device_collection(obj)
        if owner != actor.uri:
            return "ignored: the devices are not the actor's"
        refused = e2e_federation.keep_devices(work, actor, records, complete=True)
        return f"ignored: devices refused: {refused}" if refused else "devices updated"
    return "ignored: not part of the extension"


def _blocked(work: Work, local: Account, other: Account) -> bool:
    """Whether the local account blocks the other or is blocked by it (its domain too)."""
    if other.id in work.store.social.blocked_with(local.id):
        return True
    return other.domain is not None and other.domain in work.store.social.blocked_domains(local.id)


def _store_conversation(work: Work, convo: e2e_ap.RemoteConversation, actor: Account) -> str:
    if convo.starter != actor.uri:
        return "ignored: the starter is not the actor"
    store = work.store.messaging
    existing = store.conversation(convo.conversation_id)
    if existing is not None:
        if existing.uri == convo.uri:
            return "ignored: the conversation is already here"
        log.warning("conversation %s refused: its id is taken here", convo.uri)
        return "ignored: its id is another conversation's here"
    ids = [_account_id(work, p) for p in convo.participants]
    if any(i is None for i in ids):
        return "ignored: a participant could not be found"
    members = work.store.accounts.get_many([i for i in ids if i is not None])
    local = [a for a in members.values() if a.local]
    if not local:
        return "ignored: nobody on this server"
    if any(a.suspended for a in members.values()):
        return "ignored: a participant is suspended here"
    if any(_blocked(work, a, actor) for a in local):
        return "ignored: a participant here blocks the starter, or is blocked by them"
    participant_ids = tuple(sorted(members))
    pair = e2e.pair_key(*participant_ids) if len(participant_ids) == 2 else None
    if pair is not None and store.by_pair(pair) is not None:
        pair = None  # both started one at once: this one is kept as a group of two
    made = Conversation(
        convo.conversation_id,
        actor.id,
        work.now(),
        convo.conversation_id,
        participant_ids,
        uri=convo.uri,
    )
    store.add_conversation(made, pair)
    return "conversation stored"


def _store_message(work: Work, message: e2e_ap.RemoteMessage, actor: Account) -> str:
    store = work.store.messaging
    if message.sender.account_uri != actor.uri:
        return "ignored: the sender is not the actor"
    convo = store.conversation(message.conversation_id)
    if convo is None:
        if _waiting(work, message.conversation_uri):
            raise NotYet(message.conversation_uri)
        return "ignored: no such conversation"
    if convo.uri != message.conversation_uri or actor.id not in convo.participant_ids:
        return "ignored: the sender is not in the conversation"
    if store.has_message_uri(message.uri):
        return "ignored: the message is already here"
    others = [a for a in convo.participant_ids if a != actor.id]
    if len(others) == 1:
        other = work.store.accounts.get(others[0])
        if other is not None and other.local and _blocked(work, other, actor):
            return "ignored: blocked"
    try:
        _check_signatures(message)
        _check_keys(work, convo, message)
    except (Forbidden, Invalid) as exc:
        return f"ignored: {exc.message}"
    if e2e_federation.keep_devices(work, actor, [message.sender], complete=False):
        return f"ignored: senderDevice: its id is another device's here ({e2e_federation.RECREATE})"
    sender = store.device(message.sender.device_id)
    if sender is None or not sender.active:
        return "ignored: the sender device was revoked"
    covered = set(message.envelope.device_ids())
    recipients = [
        d.id for d in store.devices_of(list(convo.participant_ids)) if d.local and d.id in covered
    ]
    stored = Message(new_id(), convo.id, actor.id, sender.id, work.now(), message.envelope)
    store.add_message(stored, recipients, uri=message.uri)
    return "message stored"
