"""The door of the inbox: what an inbound POST must be before anything of it is kept.

In this order, each refusal final and nothing stored before the last step:

1. a JSON object that reads as an activity (id, type, actor; see `parse.activity`), whose
   actor is not on this server — Malformed (400);
2. not from a domain the operator suspended (the actor's, or the signing key's) — Forbidden
   (403), before any fetch;
3. signed (draft-cavage or RFC 9421) with a key on the actor's host — Unauthorized (401) when
   the signature is missing, malformed or does not verify. The key's actor is looked up, or
   fetched when unknown; a signature that fails with a stored key stale by more than
   `REFETCH_AFTER` fetches the actor once more (key rotation), then verifies again;
   a community note or rating is then checked (services/notes_federation.py `check`: 400
   malformed, 403 not from its author, 422 invalid or about nothing this server has), and so
   is an encrypted conversation, message or device list (services/inbound_e2e.py `check`);
4. stored (idempotent by activity id: a re-delivery finds the first row and is not processed
   twice) with the signer's actor when it was just fetched, and the `process_inbound` job
   asked for, in one unit of work.

A Delete of an actor we never knew is accepted and dropped: its key cannot be fetched any
more, and there is nothing of it to delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from parvis.domain import httpsig
from parvis.domain.activitypub import parse
from parvis.domain.errors import Forbidden, NotFound, Unauthorized
from parvis.services import domain_policy, inbound_e2e, notes_federation, outbox, remote_actors
from parvis.services.context import Work
from parvis.services.fetching import FetchError
from parvis.services.remote_actors import Network

REFETCH_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Received:
    inbox_id: int | None  # None: accepted and dropped
    created: bool


@dataclass(frozen=True)
class SignerKey:
    """A public key for a keyId: stored (with when its actor was fetched), or fetched now
    (`actor` to store once the signature verified)."""

    key_id: str
    owner: str
    pem: str
    fetched_at: datetime | None
    actor: parse.RemoteActor | None = None


def _stored_key(work: Work, key_id: str) -> SignerKey | None:
    found = work.store.remote.actor_by_key(key_id)
    if found is None or found.public_key_pem is None or found.local:
        return None
    return SignerKey(key_id, found.uri, found.public_key_pem, found.fetched_at)


def _fetched_key(net: Network, key_id: str) -> SignerKey:
    """The key, from its actor's document fetched now (the key id's document is the actor,
    or a Key naming its owner)."""
    doc = remote_actors.fetch_document(net, key_id.split("#", 1)[0])
    if parse.compact_type(str(doc.get("type") or "")) not in parse.ACTOR_TYPES:
        owner = doc.get("owner")
        if not isinstance(owner, str) or not parse.same_host(owner, key_id):
            raise parse.Malformed(f"{key_id}: neither an actor nor a key with its owner")
        doc = remote_actors.fetch_document(net, owner)
    actor = parse.actor(doc)
    if actor.key is None or actor.key.id != key_id:
        raise parse.Malformed(f"{actor.uri} does not publish the key {key_id}")
    return SignerKey(key_id, actor.uri, actor.key.pem, None, actor)


def _verify(
    net: Network,
    key: SignerKey,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    try:
        httpsig.verify_request(method, url, headers, body, key.pem, now=net.clock())
    except httpsig.SignatureError:
        return False
    return True


def _signer(
    net: Network,
    key_id: str,
    key: SignerKey | None,
    request: tuple[str, str, Mapping[str, str], bytes],
) -> SignerKey:
    """The key that verifies the request: `key` (the stored one), else fetched."""
    method, url, headers, body = request
    try:
        if key is None:
            key = _fetched_key(net, key_id)
            if _verify(net, key, method, url, headers, body):
                return key
            raise Unauthorized("The signature does not verify")
        if _verify(net, key, method, url, headers, body):
            return key
        stale = key.fetched_at is None or net.clock() - key.fetched_at > REFETCH_AFTER
        if not stale:
            raise Unauthorized("The signature does not verify")
        key = _fetched_key(net, key_id)
    except (FetchError, parse.Malformed, NotFound) as exc:
        message = exc.message if isinstance(exc, parse.Malformed) else str(exc)
        raise Unauthorized(f"The signing key could not be had: {message}") from None
    if _verify(net, key, method, url, headers, body):
        return key
    raise Unauthorized("The signature does not verify")


def _look_up(net: Network, key_id: str, hosts: tuple[str, ...]) -> SignerKey | None:
    """One read: refuse a suspended host, and the stored key, if any."""

    def look(work: Work) -> tuple[str | None, SignerKey | None]:
        for host in hosts:
            if domain_policy.policy_for(work, host).suspended:
                return host, None
        return None, _stored_key(work, key_id)

    suspended, key = net.read(look)
    if suspended is not None:
        raise Forbidden(f"{suspended} is suspended on this server")
    return key


def receive(
    net: Network, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> Received:
    """Check, verify and store one delivered activity (see the module's docstring). `url`
    is the absolute URL the client requested (this server's public base and the raw path)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise parse.Malformed("The body is not JSON") from None
    activity = parse.activity(doc)
    if activity.host == remote_actors.local_host(net.settings):
        raise parse.Malformed("An activity of this server cannot come from elsewhere")
    try:
        key_id = httpsig.signature_key_id(method, url, headers).key_id
        parse.check_uri(key_id, "keyId")
    except (httpsig.SignatureError, parse.Malformed) as exc:
        message = exc.message if isinstance(exc, parse.Malformed) else str(exc)
        raise Unauthorized(f"No usable signature: {message}") from None
    stored = _look_up(net, key_id, (activity.host, parse.host_of(key_id)))
    if not parse.same_host(key_id, activity.actor):
        raise Unauthorized("The request is signed by another server than the actor's")
    gone = activity.type == "Delete" and activity.object_id == activity.actor
    if gone and stored is None:
        return Received(inbox_id=None, created=False)
    signer = _signer(net, key_id, stored, (method, url, headers, body))
    if signer.owner != activity.actor and not parse.same_host(signer.owner, activity.actor):
        raise Unauthorized("The signer is not the actor")
    notes_federation.check(net, activity)  # community notes: refused here when they must be
    inbound_e2e.check(net, activity, signer.owner)  # encrypted messages: the same
    text = body.decode("utf-8", errors="replace")

    def keep(work: Work) -> Received:
        if signer.actor is not None:
            remote_actors.store_actor(work, signer.actor)
        outbox.host_alive(work, activity.host)  # a dead host or open circuit: heard from again
        inbox_id, created = work.store.inbox.add(
            activity.id, activity.actor, activity.type, text, work.now()
        )
        if created:
            work.later("process_inbound", inbox_id=inbox_id)
        return Received(inbox_id=inbox_id, created=created)

    return net.write(keep)
