"""End-to-end encrypted messages between Parvis servers, going out (the extension:
domain/activitypub/e2e.py; for implementers: FEDERATION.md, "Encrypted messages").

Ids mean the same thing on every server of a conversation: a remote device is kept under the id
its home server gave it, a conversation under the id of its starter's server. A device whose id
or identity key is already another device's here is refused, never overwritten (logged, and
shown to the people who would write to it: "ask them to re-create their device").

- Each local account publishes its active devices (`devices_collection`, at the URL its actor
  gives as `e2eDevices`); a device published or revoked sends the collection again in an
  `Update` to the servers that share a conversation with the account (`devices_changed`).
- A remote participant's devices are read from its server when a local client asks for the
  devices of a conversation or an account (`refresh`), no transaction open, at most once a
  minute per account; the `Update`s keep them current in between.
- Starting a conversation with remote accounts is allowed where their server runs Parvis
  (`speakers`, by NodeInfo); the new conversation goes to their servers in a `Create`
  (`conversation_started`), each message, once stored, in another (`message_sent`). Both are
  written to the outbox in the caller's unit of work (signed and retried by jobs/deliver.py),
  to hosts known to run Parvis only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import partial

from parvis.domain.activitypub import e2e as e2e_ap
from parvis.domain.activitypub import parse
from parvis.domain.errors import Forbidden, NotFound
from parvis.domain.messaging import Conversation, Device, Message
from parvis.domain.models import Account
from parvis.services import actors, nodeinfo, outbox
from parvis.services.context import Work
from parvis.services.fetching import FetchError
from parvis.services.remote_actors import Network, fetch_document
from parvis.storage.messaging import RemoteDevices

log = logging.getLogger("parvis.federation.e2e")
FRESH_FOR = timedelta(minutes=1)  # a remote account's device list is read again after this
MAX_REFRESH = 32  # remote accounts read per request at most (a conversation's size)
RECREATE = "ask them to re-create their device"


# -- devices -----------------------------------------------------------------------------------


def record_of(account: Account, device: Device) -> e2e_ap.DeviceRecord:
    """A device as the extension publishes it (a local one at its own URI, a remote one at the
    URI its home server gave)."""
    return e2e_ap.DeviceRecord(
        uri=device.uri or e2e_ap.device_uri(account.uri, device.id),
        account_uri=account.uri,
        device_id=device.id,
        identity_key=device.identity_key,
        agreement_key=device.agreement_key,
        created=int(device.created_at.timestamp()),
        signature=device.signature,
    )


def _records(work: Work, account: Account) -> list[e2e_ap.DeviceRecord]:
    if account.suspended:
        return []
    return [record_of(account, d) for d in work.store.messaging.devices_of([account.id])]


def devices_collection(work: Work, username: str) -> e2e_ap.JSON:
    """A local account's active devices (`/users/{name}/collections/e2e_devices`)."""
    account = actors.local_account_by_username(work, username)
    return e2e_ap.collection(account.uri, _records(work, account))


def _parvis_inboxes(work: Work, inboxes: Iterable[str]) -> list[str]:
    """The inboxes on hosts known to run Parvis (the only ones that take the extension)."""
    by_host = {inbox: nodeinfo.host_key(inbox) or "" for inbox in inboxes}
    software = work.store.deliveries.software(set(by_host.values()))
    return sorted(i for i, h in by_host.items() if software.get(h) == nodeinfo.PARVIS)


def _publish(work: Work, account_id: int, activity: e2e_ap.JSON, remote_ids: Iterable[int]) -> int:
    if not work.settings.federation_enabled:
        return 0
    inboxes = _parvis_inboxes(work, outbox.inboxes_of(work, remote_ids))
    if not inboxes:
        return 0
    actors.ensure_keys(work, account_id)
    return outbox.publish(work, account_id, activity, inboxes)


def _remote_ids(work: Work, account_ids: Iterable[int]) -> list[int]:
    found = work.store.accounts.get_many(set(account_ids))
    return sorted(a.id for a in found.values() if not a.local)


def devices_changed(work: Work, account_id: int) -> int:
    """Update of a local account's device collection (a device added or revoked), to the
    servers of everyone who shares a conversation with it."""
    account = work.store.accounts.get(account_id)
    if account is None or not account.local:
        return 0
    partners = _remote_ids(work, work.store.messaging.partners(account_id))
    if not partners:
        return 0
    activity = e2e_ap.devices_update(account.uri, _records(work, account), work.now())
    return _publish(work, account_id, activity, partners)


def keep_devices(
    work: Work, account: Account, records: Sequence[e2e_ap.DeviceRecord], *, complete: bool
) -> list[int]:
    """Store a remote account's device records (each signature checked with its URI); with
    `complete` (its whole list), revoke those it no longer lists. The ids refused: a record
    that does not verify, or whose id or identity key is another device's here."""
    now = work.now()
    refused: list[int] = []
    listed: list[int] = []
    for r in records:
        if r.account_uri != account.uri or not r.verifies():
            refused.append(r.device_id)
            continue
        device = Device(
            r.device_id,
            account.id,
            r.identity_key,
            r.agreement_key,
            r.signature,
            "",
            e2e_ap.record_created(r),
            None,
            uri=r.uri,
        )
        if work.store.messaging.add_remote_device(device, now) == "conflict":
            log.warning(
                "device %d of %s refused: its id or identity key is another device's here",
                r.device_id,
                account.uri,
            )
            refused.append(r.device_id)
            continue
        listed.append(r.device_id)
    if complete:
        work.store.messaging.revoke_remote_except(account.id, listed, now)
    return refused


def _stale(work: Work, account_ids: Iterable[int]) -> list[tuple[Account, RemoteDevices | None]]:
    found = work.store.accounts.get_many(set(account_ids))
    remote = [a for a in found.values() if not a.local and not a.suspended]
    known = work.store.messaging.remote_devices(a.id for a in remote)
    now = work.now()
    out = []
    for account in sorted(remote, key=lambda a: a.id):
        row = known.get(account.id)
        if row is None or row.fetched_at is None or now - row.fetched_at >= FRESH_FOR:
            out.append((account, row))
    return out[:MAX_REFRESH]


def _devices_uri(net: Network, account: Account, row: RemoteDevices | None) -> str:
    if row is not None and row.devices_uri:
        return row.devices_uri
    actor = fetch_document(net, account.uri)
    link = e2e_ap.devices_link(actor)
    if link is None or not parse.same_host(link, account.uri):
        raise parse.Malformed(f"{account.uri} publishes no device collection (not Parvis?)")
    return link


def refresh(net: Network, account_ids: Iterable[int]) -> None:
    """Read again the device lists of the remote accounts among these, where the last reading
    is over a minute old (no transaction open while their servers answer). A server that does
    not answer leaves what is known as it is; it is asked again a minute later."""
    if net.http is None or not net.settings.federation_enabled:
        return
    for account, row in net.read(lambda work: _stale(work, account_ids)):
        devices_uri = row.devices_uri if row is not None else None
        try:
            devices_uri = _devices_uri(net, account, row)
            owner, records = e2e_ap.device_collection(fetch_document(net, devices_uri))
            if owner != account.uri:
                raise parse.Malformed(f"{devices_uri}: the devices of another account")
        except (FetchError, parse.Malformed, Forbidden, NotFound) as exc:
            log.info("devices of %s not read: %s", account.uri, exc)
            records = None
        net.write(partial(_refreshed, account=account, devices_uri=devices_uri, records=records))


def _refreshed(
    work: Work,
    *,
    account: Account,
    devices_uri: str | None,
    records: list[e2e_ap.DeviceRecord] | None,
) -> None:
    before = work.store.messaging.remote_devices([account.id]).get(account.id)
    refused = before.refused if before is not None else ()
    if records is not None:
        refused = tuple(keep_devices(work, account, records, complete=True))
    work.store.messaging.set_remote_devices(
        RemoteDevices(account.id, devices_uri, work.now(), refused)
    )


def refresh_conversation(net: Network, account_id: int, conversation_id: int) -> None:
    """Refresh the remote participants' devices of one of the account's conversations."""

    def participants(work: Work) -> tuple[int, ...]:
        found = work.store.messaging.conversation(conversation_id)
        if found is None or account_id not in found.participant_ids:
            return ()
        return found.participant_ids

    ids = net.read(participants)
    if ids:
        refresh(net, ids)


def unreachable(work: Work, account_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(account id, device id) of the remote devices refused here (see `keep_devices`)."""
    rows = work.store.messaging.remote_devices(account_ids)
    return [(a, d) for a, row in sorted(rows.items()) for d in row.refused]


# -- conversations and messages ----------------------------------------------------------------


def speakers(net: Network, account_ids: Iterable[int]) -> set[int]:
    """The remote accounts among these whose server runs Parvis (asked by NodeInfo when not
    known yet, no transaction open): those a conversation may include."""
    inboxes = net.read(lambda work: work.store.deliveries.inboxes_of(account_ids))
    if not inboxes or net.http is None or not net.settings.federation_enabled:
        return set()
    software = nodeinfo.software_of(net, inboxes.values())
    return {
        account_id
        for account_id, inbox in inboxes.items()
        if software.get(nodeinfo.host_key(inbox) or "") == nodeinfo.PARVIS
    }


def conversation_started(work: Work, conversation: Conversation) -> int:
    """Create of a new conversation with people on other servers, by its starter."""
    if conversation.uri is None or conversation.created_by is None:
        return 0
    members = work.store.accounts.get_many(conversation.participant_ids)
    starter = members.get(conversation.created_by)
    if starter is None or not starter.local:
        return 0
    doc = e2e_ap.ConversationDoc(
        uri=conversation.uri,
        conversation_id=conversation.id,
        starter_uri=starter.uri,
        participants=tuple(members[a].uri for a in conversation.participant_ids if a in members),
        published=conversation.created_at,
    )
    remote = [a.id for a in members.values() if not a.local]
    return _publish(work, starter.id, e2e_ap.create_conversation(doc), remote)


def message_sent(work: Work, conversation: Conversation, message: Message) -> int:
    """Create of a message stored here, from a local device, to the servers of the other
    participants (each keeps it for its own devices)."""
    if conversation.uri is None:
        return 0
    members = work.store.accounts.get_many(conversation.participant_ids)
    sender = members.get(message.sender_account_id)
    device = work.store.messaging.device(message.sender_device_id)
    if sender is None or not sender.local or device is None:
        return 0
    others = tuple(members[a].uri for a in conversation.participant_ids if a != sender.id)
    doc = e2e_ap.MessageDoc(
        uri=e2e_ap.message_uri(sender.uri, message.id),
        conversation_uri=conversation.uri,
        conversation_id=conversation.id,
        sender=record_of(sender, device),
        envelope=message.envelope,
        to=others,
        published=message.created_at,
    )
    remote = [a.id for a in members.values() if not a.local]
    return _publish(work, sender.id, e2e_ap.create_message(doc), remote)
