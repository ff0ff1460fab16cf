"""What each local change sends to other servers, and to whom.

The use cases (posting, edits, interactions, social, accounts, restrictions) call these
functions in their own unit of work; each works out the remote inboxes first and writes nothing
at all when there are none (an all-local audience), else renders the activity (domain/
activitypub/render.py through services/actors.py) and hands it to the outbox, in the same
transaction. Delivery happens later (jobs/deliver.py). Each function returns how many
deliveries it wrote.

Audiences, as Mastodon's: a post goes to its author's remote followers' inboxes (shared inboxes
when known) and to the remote accounts it mentions (a direct message: to those only), a quote to
the quoted author too; edits and deletions go where the post went (a deletion also to the
remote accounts that boosted it); likes, follows, blocks and their undoing go to the other
account's inbox; Accept and Reject to the requester's; a profile change and a move to every
remote follower. A report is forwarded as a Flag from the instance actor (the reporter stays
anonymous) to the reported account's server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from parvis.domain.activitypub import render
from parvis.domain.ids import new_id
from parvis.domain.models import Account, Status
from parvis.domain.moderation import HIDING
from parvis.domain.visibility import Visibility
from parvis.services import actors, outbox
from parvis.services.context import Work

JSON = dict[str, Any]


def _remote(account: Account | None) -> bool:
    return account is not None and not account.local


def _send(work: Work, account_id: int, inboxes: Iterable[str], build: Any) -> int:
    """Render (only when there is somewhere to send) and queue."""
    wanted = sorted(set(inboxes))
    if not wanted or not work.settings.federation_enabled:
        return 0
    return outbox.publish(work, account_id, build(), wanted)


def _inbox_of(work: Work, account: Account) -> list[str]:
    return outbox.inboxes_of(work, [account.id]) if _remote(account) else []


# -- posts ------------------------------------------------------------------------------------


def _post_inboxes(work: Work, status: Status, *, boosters: bool = False) -> list[str]:
    """Where a post of ours goes: followers (unless direct) and mentioned remote accounts, the
    quoted author, and (for a deletion) the remote accounts that boosted it."""
    ids = [m.account_id for m in status.mentions if m.domain is not None]
    quote = status.quote
    if quote is not None and quote.quoted_status_id is not None:
        quoted = work.store.statuses.get(quote.quoted_status_id)
        if quoted is not None and _remote(quoted.account):
            ids.append(quoted.account.id)
    if boosters:
        ids += [booster for _, booster in work.store.statuses.reblogs_of(status.id)]
    inboxes = outbox.inboxes_of(work, ids)
    if status.visibility is not Visibility.DIRECT:
        inboxes += outbox.follower_inboxes(work, status.account.id)
    return inboxes


def _federated(status: Status) -> bool:
    return status.local and status.reblog_of_id is None and status.account.local


def status_created(work: Work, status: Status) -> int:
    """Create(Note) for a new local post."""
    if not _federated(status):
        return 0
    return _send(
        work,
        status.account.id,
        _post_inboxes(work, status),
        lambda: actors.activity_for_status(work, status),
    )


def status_edited(work: Work, status: Status) -> int:
    """Update(Note) after an edit, to where the post went and to newly mentioned accounts."""
    if not _federated(status):
        return 0
    when = status.edited_at or work.now()
    return _send(
        work,
        status.account.id,
        _post_inboxes(work, status),
        lambda: render.update(actors.note_document(work, status), status.account.uri, updated=when),
    )


def status_deleted(work: Work, status: Status) -> int:
    """Delete(Tombstone) of a local post; call it before the post's rows go."""
    if not _federated(status):
        return 0
    return _send(
        work,
        status.account.id,
        _post_inboxes(work, status, boosters=True),
        lambda: render.delete(status.uri, status.account.uri),
    )


def status_withheld(work: Work, status_id: int, action: str | None) -> int:
    """A moderation decision now in force on a post: when it starts hiding a local post
    (disable, remove), other servers are asked to delete their copy. Call it before the post's
    restriction is updated (the previous one tells whether it was already hidden)."""
    if action not in HIDING:
        return 0
    status = work.store.statuses.get(status_id)
    if status is None or status.restriction in HIDING:
        return 0
    return status_deleted(work, status)


def reblogged(work: Work, boost: Status) -> int:
    """Announce of a boost by a local account, to its followers and the original's author."""
    original = boost.reblog
    if original is None or not boost.account.local:
        return 0
    inboxes = outbox.follower_inboxes(work, boost.account.id) + _inbox_of(work, original.account)
    return _send(work, boost.account.id, inboxes, lambda: actors.activity_for_status(work, boost))


def unreblogged(work: Work, boost: Status) -> int:
    """Undo(Announce); call it before the boost's row goes."""
    original = boost.reblog
    if original is None or not boost.account.local:
        return 0
    inboxes = outbox.follower_inboxes(work, boost.account.id) + _inbox_of(work, original.account)
    return _send(
        work,
        boost.account.id,
        inboxes,
        lambda: render.undo(actors.activity_for_status(work, boost)),
    )


def _like(work: Work, account_id: int, status: Status, *, undo: bool) -> int:
    """Like (or its Undo) of a remote post; a local author needs nothing. Call it while the
    favourite's row exists (its id names the Like)."""
    if not _remote(status.account):
        return 0
    favourite_id = work.store.deliveries.favourite_id(account_id, status.id)
    account = work.store.accounts.get(account_id)
    if favourite_id is None or account is None:
        return 0
    like = render.like(account.uri, status.uri, favourite_id)
    return _send(
        work,
        account_id,
        _inbox_of(work, status.account),
        lambda: render.undo(like) if undo else like,
    )


def favourited(work: Work, account_id: int, status: Status) -> int:
    return _like(work, account_id, status, undo=False)


def unfavourited(work: Work, account_id: int, status: Status) -> int:
    """Undo(Like); call it before the favourite's row goes."""
    return _like(work, account_id, status, undo=True)


# -- accounts ---------------------------------------------------------------------------------


def _edge_uri(work: Work, kind: str, account_id: int, target_id: int, verb: str) -> str | None:
    """The activity id stored on a follow, follow request or block, given one (ours: derived
    from the row) when it has none."""
    row = work.store.social.get(kind, account_id, target_id)
    if row is None:
        return None
    if row.get("uri"):
        return str(row["uri"])
    account = work.store.accounts.get(account_id)
    if account is None or not account.local:
        return None
    uri = f"{account.uri}#{verb}/{row['id']}"
    work.store.social.add(kind, account_id, target_id, work.now(), uri=uri)
    return uri


def _pair(work: Work, account_id: int, target_id: int) -> tuple[Account, Account] | None:
    found = work.store.accounts.get_many([account_id, target_id])
    if account_id not in found or target_id not in found:
        return None
    return found[account_id], found[target_id]


def follow_requested(work: Work, account_id: int, target_id: int) -> int:
    """Follow of a remote account: the request stays pending until its server accepts.
    Call it once the follow request row exists (it gets the activity's id)."""
    pair = _pair(work, account_id, target_id)
    if pair is None or not _remote(pair[1]):
        return 0
    account, target = pair
    uri = _edge_uri(work, "follow_requests", account_id, target_id, "follows")
    return _send(
        work,
        account_id,
        _inbox_of(work, target),
        lambda: render.follow(account.uri, target.uri, 0, uri=uri),
    )


def unfollowed(work: Work, account_id: int, target_id: int) -> int:
    """Undo(Follow) of a remote account, followed or requested; call it before the rows go."""
    pair = _pair(work, account_id, target_id)
    if pair is None or not _remote(pair[1]):
        return 0
    account, target = pair
    uri = _edge_uri(work, "follows", account_id, target_id, "follows") or _edge_uri(
        work, "follow_requests", account_id, target_id, "follows"
    )
    if uri is None:
        return 0
    return _send(
        work,
        account_id,
        _inbox_of(work, target),
        lambda: render.undo(render.follow(account.uri, target.uri, 0, uri=uri)),
    )


def _answer(
    work: Work, kind: str, account_id: int, requester_id: int, follow_uri: str | None
) -> int:
    pair = _pair(work, account_id, requester_id)
    if pair is None or not _remote(pair[1]) or not follow_uri:
        return 0
    account, requester = pair
    follow = render.follow(requester.uri, account.uri, 0, uri=follow_uri)
    answer = render.accept if kind == "Accept" else render.reject
    local_id = new_id()
    return _send(
        work,
        account_id,
        _inbox_of(work, requester),
        lambda: answer(follow, account.uri, local_id),
    )


def follow_authorized(
    work: Work, account_id: int, requester_id: int, follow_uri: str | None
) -> int:
    """Accept of a remote account's Follow (its id, as the requester sent it). The follow
    row keeps that id, for a later Reject when the follower is removed."""
    if follow_uri and work.store.social.has("follows", requester_id, account_id):
        work.store.social.add("follows", requester_id, account_id, work.now(), uri=follow_uri)
    return _answer(work, "Accept", account_id, requester_id, follow_uri)


def follow_rejected(work: Work, account_id: int, requester_id: int, follow_uri: str | None) -> int:
    """Reject of a remote account's Follow request."""
    return _answer(work, "Reject", account_id, requester_id, follow_uri)


def follower_removed(work: Work, account_id: int, follower_id: int) -> int:
    """Reject of a remote follower's Follow (how Mastodon removes a follower); call it before
    the follow row goes."""
    row = work.store.social.get("follows", follower_id, account_id)
    uri = str(row["uri"]) if row is not None and row.get("uri") else None
    return _answer(work, "Reject", account_id, follower_id, uri)


def blocked(work: Work, account_id: int, target_id: int) -> int:
    """Block of a remote account; call it once the block row exists."""
    pair = _pair(work, account_id, target_id)
    if pair is None or not _remote(pair[1]):
        return 0
    account, target = pair
    uri = _edge_uri(work, "blocks", account_id, target_id, "blocks")
    return _send(
        work,
        account_id,
        _inbox_of(work, target),
        lambda: {**render.block(account.uri, target.uri, 0), "id": uri},
    )


def unblocked(work: Work, account_id: int, target_id: int) -> int:
    """Undo(Block); call it before the block row goes."""
    pair = _pair(work, account_id, target_id)
    if pair is None or not _remote(pair[1]):
        return 0
    account, target = pair
    uri = _edge_uri(work, "blocks", account_id, target_id, "blocks")
    if uri is None:
        return 0
    return _send(
        work,
        account_id,
        _inbox_of(work, target),
        lambda: render.undo({**render.block(account.uri, target.uri, 0), "id": uri}),
    )


def profile_updated(work: Work, account_id: int) -> int:
    """Update(Person) to every remote follower."""
    inboxes = outbox.follower_inboxes(work, account_id)
    account = work.store.accounts.get(account_id)
    if not inboxes or account is None or not account.local:
        return 0
    actors.ensure_keys(work, account_id)
    return _send(
        work,
        account_id,
        inboxes,
        lambda: render.update_actor(actors.actor_document(work, account), updated=work.now()),
    )


def account_moved(work: Work, account_id: int, target_id: int) -> int:
    """Move to the new account, sent to every remote follower (their servers move them)."""
    pair = _pair(work, account_id, target_id)
    if pair is None or not pair[0].local:
        return 0
    account, target = pair
    return _send(
        work,
        account_id,
        outbox.follower_inboxes(work, account_id),
        lambda: render.move(account.uri, target.uri),
    )


def report_forwarded(
    work: Work,
    reporter_id: int,
    reported_account_id: int,
    status_ids: Sequence[int],
    comment: str,
    local_id: int,
) -> bool:
    """Flag to the reported remote account's server, from the instance actor (the reporter
    is not named; the delivery row is theirs only locally). False when nothing was sent."""
    target = work.store.accounts.get(reported_account_id)
    if target is None or target.local:
        return False
    loaded = work.store.statuses.load(status_ids) if status_ids else {}
    uris = [target.uri] + [
        s.uri for i in status_ids if (s := loaded.get(i)) is not None and s.account.id == target.id
    ]
    actor_uri = actors.instance_actor_uri(work.settings)
    sent = _send(
        work,
        reporter_id,
        _inbox_of(work, target),
        lambda: render.flag(actor_uri, uris, comment, local_id),
    )
    return sent > 0
