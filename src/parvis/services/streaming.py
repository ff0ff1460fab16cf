"""Which streaming channels hear of what. Channel names (internal to the broker):

- `user:<account id>`: home updates, notifications, deletes, edits (the `user` and
  `user:notification` streams read it; the latter keeps notifications only);
- `public`, `public:local`, `public:remote` and their `:media` variants;
- `hashtag:<tag>`, `hashtag:local:<tag>` (normalized tag);
- `list:<list id>`, `direct:<account id>`.

Events are collected on the `Work` and published after the commit by the runtime; the rendering
happens once per event (a public status without viewer flags, as Mastodon does), and each
connection drops what its user blocks or mutes (`StreamEvent.accounts`).
"""

from __future__ import annotations

from collections.abc import Iterable

from parvis.domain.content import normalize_tag
from parvis.domain.models import Notification, Status
from parvis.domain.visibility import Visibility
from parvis.services import notes
from parvis.services.context import StreamEvent, Work


def user_channel(account_id: int) -> str:
    return f"user:{account_id}"


def direct_channel(account_id: int) -> str:
    return f"direct:{account_id}"


def list_channel(list_id: int) -> str:
    return f"list:{list_id}"


def hashtag_channel(tag: str, *, local: bool = False) -> str:
    return f"hashtag:local:{normalize_tag(tag)}" if local else f"hashtag:{normalize_tag(tag)}"


def public_channel(*, local: bool | None = None, media: bool = False) -> str:
    name = "public" if local is None else ("public:local" if local else "public:remote")
    return name + ":media" if media else name


def involved(status: Status) -> frozenset[int]:
    """Accounts a receiver's blocks and mutes are checked against (author, mentions, boosted)."""
    ids = {status.account.id, *(m.account_id for m in status.mentions)}
    if status.reblog is not None:
        ids |= {status.reblog.account.id, *(m.account_id for m in status.reblog.mentions)}
    return frozenset(ids)


def _public_channels(status: Status) -> list[str]:
    """Public and hashtag channels, for an original public post."""
    if status.visibility is not Visibility.PUBLIC or status.reblog is not None:
        return []
    out = [public_channel(), public_channel(local=status.local)]
    if status.media:
        out += [public_channel(media=True), public_channel(local=status.local, media=True)]
    for tag in status.tags:
        out.append(hashtag_channel(tag))
        if status.local:
            out.append(hashtag_channel(tag, local=True))
    return out


def _list_channels(work: Work, status: Status) -> list[str]:
    """Lists that hold the author (their owners following the author), with each list's
    replies policy as the list timeline applies it. Direct messages never go to lists."""
    if status.visibility is Visibility.DIRECT:
        return []
    store = work.store
    author = status.account.id
    reply_to = status.in_reply_to_account_id
    if status.in_reply_to_id is None or reply_to == author:
        reply_to = None
    out = []
    for list_id, owner, policy in store.lists.lists_holding(author):
        if reply_to is not None and reply_to != owner:
            if policy == "none":
                continue
            if policy == "list" and reply_to not in store.lists.member_ids(list_id):
                continue
            if policy == "followed" and not store.social.has("follows", owner, reply_to):
                continue
        out.append(list_channel(list_id))
    return out


def status_created(work: Work, status: Status, recipients: Iterable[int]) -> None:
    """From the fan-out job: home updates for `recipients`, public, hashtag, list and direct
    streams (direct messages are sent as `update`: conversations are not streamed yet)."""
    recipients = list(recipients)
    accounts = involved(status)
    channels = [user_channel(r) for r in recipients]
    channels += _public_channels(status)
    channels += _list_channels(work, status)
    if status.visibility is Visibility.DIRECT and status.reblog is None:
        local = {status.account.id} if status.account.local else set()
        for mention in status.mentions:
            if mention.domain is None:
                local.add(mention.account_id)
        channels += [direct_channel(a) for a in sorted(local)]
    # A post just written has no note yet; a boost or a quote shows its original's.
    shown = notes.shown_notes(work, [status]) if status.reblog or status.quote else None
    work.emit(channels, "update", status, accounts=accounts, notes=shown)


def notification_created(work: Work, recipient_id: int, notification: Notification) -> None:
    work.emit([user_channel(recipient_id)], "notification", notification, viewer_id=recipient_id)


def audience(work: Work, status: Status) -> list[str]:
    """Every channel that may have shown `status`: its author's and their local followers' home
    streams, mentioned accounts, public, hashtag and direct streams."""
    author = status.account.id
    ids = {author} if status.account.local else set()
    if status.visibility is not Visibility.DIRECT:
        ids.update(work.store.social.local_follower_ids(author))
    mentioned = [m.account_id for m in status.mentions if m.domain is None]
    ids.update(mentioned)
    channels = [user_channel(a) for a in sorted(ids)]
    channels += _public_channels(status)
    if status.visibility is Visibility.DIRECT:
        channels += [direct_channel(a) for a in sorted({author, *mentioned})]
    return channels


def resolve(work: Work) -> list[StreamEvent]:
    """All events of a finished use case, status-wide ones resolved to their channels (called
    inside the transaction, before the commit; published after it)."""
    events = list(work.events)
    for event, status in work.status_events:
        payload: object = str(status.id) if event == "delete" else status
        accounts = frozenset() if event == "delete" else involved(status)
        channels = tuple(audience(work, status))
        if channels:
            shown = {} if event == "delete" else notes.shown_notes(work, [status])
            events.append(StreamEvent(channels, event, payload, accounts, notes=shown))
    return events


def filtered_ids(work: Work, account_id: int) -> frozenset[int]:
    """Whom a connection of `account_id` never hears of: blocks either way, and mutes."""
    social = work.store.social
    return frozenset(social.blocked_with(account_id) | social.muted_ids(account_id, work.now()))
