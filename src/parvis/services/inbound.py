"""Processing one stored inbound activity, idempotently.

Two phases, so no transaction is held while another server answers:

1. `prepare` fetches what is missing, each piece stored in its own small unit of work: the
   actor (refreshed when older than a day), an object given only by its URI, the posts a reply
   answers (up to `MAX_THREAD_DEPTH` of them, best effort), a quoted or boosted post, mentioned
   accounts (a few, best effort), a Move's target (always afresh, for its aliases);
2. `apply` applies the activity in one write unit, which also marks the inbox row done.

The handlers live in `inbound_notes` (posts, boosts, votes) and `inbound_social` (follows,
blocks, likes, undo, deletions, reports, moves); community notes and their ratings in
`notes_federation`; encrypted conversations, messages and device lists in `inbound_e2e`. An
activity from a domain the operator suspended after it arrived is dropped unapplied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parvis.domain.activitypub import parse
from parvis.domain.errors import Forbidden, NotFound
from parvis.domain.models import Account
from parvis.services import (
    domain_policy,
    inbound_e2e,
    inbound_notes,
    inbound_social,
    notes_federation,
    remote_actors,
)
from parvis.services.context import Work
from parvis.services.domain_policy import Policy
from parvis.services.fetching import FetchError
from parvis.services.remote_actors import Network

MAX_THREAD_DEPTH = 5
MAX_MENTION_FETCHES = 5
_BEST_EFFORT = (FetchError, parse.Malformed, Forbidden, NotFound)


@dataclass(frozen=True)
class Prepared:
    """What `prepare` found: the actor's account (None when it is gone and unknown) and the
    object, when it is a document (embedded or fetched)."""

    actor: Account | None
    obj: Mapping[str, Any] | None = None
    note: parse.RemoteNote | None = None


def _policy(net: Network, host: str) -> Policy:
    return net.read(lambda work: domain_policy.policy_for(work, host))


def _known_status(net: Network, uri: str) -> bool:
    return net.read(lambda work: work.store.remote.status_id(uri)) is not None


def _is_local(net: Network, uri: str) -> bool:
    return parse.host_of(uri) == remote_actors.local_host(net.settings)


def _store_fetched(net: Network, note: parse.RemoteNote) -> None:
    """Store a post fetched for context (its author fetched first)."""
    author = remote_actors.fetch_actor(net, note.attributed_to)
    policy = _policy(net, parse.host_of(note.uri))
    if policy.suspended:
        return
    net.write(lambda work: inbound_notes.create_note(work, note, author, policy))


def _fetch_note(net: Network, uri: str) -> parse.RemoteNote:
    return parse.note(remote_actors.fetch_document(net, uri))


def _ensure_thread(net: Network, note: parse.RemoteNote) -> None:
    """The posts this one replies to, up the thread as far as MAX_THREAD_DEPTH, stored root
    first (best effort: the thread stops where a post cannot be had)."""
    chain: list[parse.RemoteNote] = []
    uri = note.in_reply_to
    while uri and len(chain) < MAX_THREAD_DEPTH:
        if _is_local(net, uri) or _known_status(net, uri):
            break
        try:
            parent = _fetch_note(net, uri)
        except _BEST_EFFORT:
            break
        chain.append(parent)
        uri = parent.in_reply_to
    for parent in reversed(chain):
        try:
            _store_fetched(net, parent)
        except _BEST_EFFORT:
            break


def _ensure_post(net: Network, uri: str | None) -> None:
    """A quoted or boosted post, fetched when unknown (best effort)."""
    if not uri or _is_local(net, uri) or _known_status(net, uri):
        return
    try:
        note = _fetch_note(net, uri)
        if note.uri != uri and _known_status(net, note.uri):
            return
        _store_fetched(net, note)
        _ensure_thread(net, note)
    except _BEST_EFFORT:
        return


def store_post(net: Network, note: parse.RemoteNote) -> None:
    """A post fetched on its own (a search by its URL): the posts it answers, then itself."""
    if _is_local(net, note.uri) or _known_status(net, note.uri):
        return
    _ensure_thread(net, note)
    _store_fetched(net, note)


def _known_account(net: Network, uri: str) -> bool:
    return net.read(lambda work: work.store.remote.account_id(uri)) is not None


def _ensure_mentions(net: Network, note: parse.RemoteNote) -> None:
    fetched = 0
    for mention in note.mentions:
        if fetched >= MAX_MENTION_FETCHES:
            break
        href = mention.href
        if _is_local(net, href) or _known_account(net, href):
            continue
        fetched += 1
        try:
            remote_actors.fetch_actor(net, href)
        except _BEST_EFFORT:
            continue


def _actor(net: Network, activity: parse.Activity) -> Account | None:
    if activity.type == "Delete" and activity.object_id == activity.actor:
        # The actor is gone: its document answers 410 now; only a known one matters.
        def known(work: Work) -> Account | None:
            account_id = work.store.remote.account_id(activity.actor)
            return work.store.accounts.get(account_id) if account_id is not None else None

        return net.read(known)
    return remote_actors.fetch_actor(net, activity.actor)


def _looks_like_a_vote(obj: Mapping[str, Any]) -> bool:
    """Mastodon's poll vote: a Note with a `name` (the option), no content, replying to the
    Question."""
    return (
        obj.get("type") == "Note"
        and isinstance(obj.get("name"), str)
        and not obj.get("content")
        and isinstance(obj.get("inReplyTo"), str)
    )


def prepare(net: Network, activity: parse.Activity) -> Prepared:
    """Fetch and store what applying `activity` needs (see the module's docstring)."""
    actor = _actor(net, activity)
    if actor is None:
        return Prepared(actor=None)
    inbound_e2e.prepare(net, activity)  # encrypted conversations: their participants
    kind = activity.type
    if kind == "Move" and activity.target:
        remote_actors.fetch_actor(net, activity.target, refresh=True)
        return Prepared(actor=actor)
    if kind == "Announce":
        _ensure_post(net, activity.object_id)
        return Prepared(actor=actor)
    if kind not in ("Create", "Update") or activity.object_id is None:
        return Prepared(actor=actor)
    obj = activity.object
    if obj is None:
        obj = remote_actors.fetch_document(net, activity.object_id)
    if parse.compact_type(str(obj.get("type") or "")) not in parse.NOTE_TYPES:
        return Prepared(actor=actor, obj=obj)
    if kind == "Create" and _looks_like_a_vote(obj):
        return Prepared(actor=actor, obj=obj)  # nothing to fetch
    note = parse.note(obj)
    _ensure_thread(net, note)
    _ensure_post(net, note.quote)
    _ensure_mentions(net, note)
    return Prepared(actor=actor, obj=obj, note=note)


def apply(work: Work, activity: parse.Activity, prepared: Prepared, policy: Policy) -> str:
    """Apply the activity (one write unit); a short outcome for the inbox row."""
    if prepared.actor is None:
        return "ignored: unknown actor"
    actor = work.store.accounts.get(prepared.actor.id)
    if actor is None:
        return "ignored: unknown actor"
    kind = activity.type
    if actor.suspended and kind not in ("Delete", "Undo"):
        return "ignored: the actor is suspended here"
    noted = notes_federation.receive(work, activity, prepared.obj, actor)  # community notes
    if noted is not None:
        return noted
    sealed = inbound_e2e.receive(work, activity, prepared.obj, actor)  # encrypted messages
    if sealed is not None:
        return sealed
    if kind in ("Create", "Update"):
        return _create_or_update(work, activity, prepared, actor, policy)
    if kind == "Announce":
        boost = inbound_notes.announce(work, activity, actor, policy)
        return "boosted" if boost is not None else "ignored: nothing to boost"
    if kind in ("Like", "EmojiReact"):
        return inbound_social.like(work, activity, actor)
    if kind == "Flag":
        return inbound_social.flag(work, activity, policy)
    handlers = {
        "Delete": inbound_social.delete,
        "Undo": inbound_social.undo,
        "Follow": inbound_social.follow,
        "Accept": inbound_social.accept,
        "Reject": inbound_social.reject,
        "Block": inbound_social.block,
        "Move": inbound_social.move,
    }
    handler = handlers.get(kind)
    if handler is None:
        return f"ignored: {kind} is not handled"
    return handler(work, activity, actor)


def _create_or_update(
    work: Work, activity: parse.Activity, prepared: Prepared, actor: Account, policy: Policy
) -> str:
    obj = prepared.obj
    if obj is None:
        return "ignored: no object"
    if activity.type == "Update" and parse.compact_type(str(obj.get("type") or "")) in (
        parse.ACTOR_TYPES
    ):
        return inbound_social.update_actor(work, obj, actor)
    if activity.type == "Create" and prepared.note is None:
        if inbound_notes.vote(work, dict(obj), actor):
            return "voted"
        return "ignored: not a post"
    note = prepared.note
    if note is None:
        return "ignored: not a post"
    if note.attributed_to != actor.uri:
        return "ignored: the post's author is not the actor"
    if activity.type == "Create":
        created = inbound_notes.create_note(work, note, actor, policy)
        return "created" if created is not None else "ignored: not stored"
    edited = inbound_notes.edit_note(work, note, actor, policy)
    return "updated" if edited is not None else "ignored: not the author's post"


def process(net: Network, inbox_id: int) -> str:
    """Process one stored activity: prepare, then apply and mark it done in one unit.
    Raises what went wrong (the job records it): Malformed, a DomainError, FetchError."""
    row = net.read(lambda work: work.store.inbox.get(inbox_id))
    if row is None:
        return "gone"
    if row.state == "done":
        return "already done"
    try:
        doc = json.loads(row.body)
    except ValueError:
        raise parse.Malformed("stored activity: not JSON") from None
    activity = parse.activity(doc)
    policy = _policy(net, activity.host)
    if policy.suspended:
        outcome = "ignored: the domain is suspended"
        net.write(lambda work: work.store.inbox.mark(inbox_id, "done", work.now(), outcome))
        return outcome
    prepared = prepare(net, activity)

    def apply_and_mark(work: Work) -> str:
        current = work.store.inbox.get(inbox_id)
        if current is None or current.state == "done":
            return "already done"
        outcome = apply(work, activity, prepared, policy)
        note = outcome if outcome.startswith("ignored") else ""
        work.store.inbox.mark(inbox_id, "done", work.now(), note)
        return outcome

    return net.write(apply_and_mark)
