"""Remote posts arriving: a Create stores the post (mentions, hashtags, content warning,
attachments as remote URLs, poll, quote, thread); an Update edits it as a local edit would
(history kept); an Announce stores the boost. Idempotent by URI: a post or boost already
stored is left as it is. Attachments are then cached here, one job each, after the commit
(services/remote_media.py); an edit that changes them drops the old cached files.

Visibility comes from the addressing (parse.RemoteNote.visibility). A direct or followers-only
post also becomes visible to the local accounts it is addressed to without mentioning them (the
"silent mentions" of Mastodon's limited posts). The operator's domain policy applies here:
`limit` stores public posts and boosts as unlisted, `reject_media` drops attachments.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from parvis.domain.activitypub import parse
from parvis.domain.content import detect_language, normalize_tag
from parvis.domain.ids import id_for_time, new_id
from parvis.domain.models import Account, Status
from parvis.domain.visibility import Visibility, may_boost
from parvis.services import remote_media
from parvis.services.context import Work
from parvis.services.domain_policy import Policy

POLL_DEFAULT_DAYS = 30


def _status_id(work: Work, created_at: datetime) -> int:
    """Ids order timelines: a remote post gets one from when it was published (as
    Mastodon's), never from the future."""
    now = work.now()
    if created_at >= now - timedelta(seconds=1):
        return new_id()
    for _ in range(8):
        candidate = id_for_time(created_at, secrets.randbelow(1 << 16))
        if not work.store.statuses.exists(candidate):
            return candidate
    return new_id()


def _created_at(work: Work, published: datetime | None) -> datetime:
    now = work.now()
    return min(published, now) if published is not None else now


def _visibility(note: parse.RemoteNote, author: Account, work: Work, policy: Policy) -> Visibility:
    actor = work.store.remote.actor(author.id)
    visibility = note.visibility(actor.followers_uri if actor else None)
    if policy.limited and visibility is Visibility.PUBLIC:
        return Visibility.UNLISTED
    return visibility


def _mentioned_ids(work: Work, note: parse.RemoteNote, visibility: Visibility) -> list[int]:
    """Accounts the post mentions (known here), and for non-public posts the local accounts
    it is addressed to."""
    found: dict[int, None] = {}
    for mention in note.mentions:
        account_id = work.store.remote.account_id(mention.href)
        if account_id is None:
            account_id = work.store.search.account_id_by_url(mention.href)
        if account_id is not None:
            found.setdefault(account_id)
    if visibility in (Visibility.PRIVATE, Visibility.DIRECT):
        for uri in note.audience:
            if uri == parse.PUBLIC:
                continue
            account_id = work.store.remote.account_id(uri)
            if account_id is not None:
                account = work.store.accounts.get(account_id)
                if account is not None and account.local:
                    found.setdefault(account_id)
    return list(found)


def _media_rows(note: parse.RemoteNote) -> list[dict[str, object]]:
    return [
        {
            "type": a.type,
            "remote_url": a.url,
            "mime": a.media_type[:64] or None,
            "description": a.description or None,
            "blurhash": a.blurhash,
            "width": a.width,
            "height": a.height,
            "focus_x": a.focus[0],
            "focus_y": a.focus[1],
        }
        for a in note.attachments
    ]


def _tags(work: Work, status_id: int, note: parse.RemoteNote) -> None:
    pairs = [(normalize_tag(t)[:255], t[:255]) for t in note.hashtags if normalize_tag(t)]
    work.store.statuses.add_tags(status_id, work.store.statuses.tag_ids(pairs, work.now()))


def _poll(work: Work, status_id: int, author_id: int, note: parse.RemoteNote) -> None:
    poll = note.poll
    if poll is None:
        return
    now = work.now()
    expires = poll.closed or poll.end_time or now + timedelta(days=POLL_DEFAULT_DAYS)
    work.store.polls.insert(
        status_id,
        author_id,
        [o.title for o in poll.options],
        multiple=poll.multiple,
        hide_totals=False,
        expires_at=expires,
        now=now,
    )


def _quoted_id(work: Work, note: parse.RemoteNote) -> int | None:
    if note.quote is None:
        return None
    return work.store.remote.status_id(note.quote) or work.store.remote.status_by_url(note.quote)


def _quote(work: Work, status_id: int, author: Account, note: parse.RemoteNote) -> None:
    """Record the quote when the quoted post is known here and its policy lets this author
    quote it (a local post's policy is ours to enforce; a remote one's, its server's)."""
    quoted_id = _quoted_id(work, note)
    quoted = work.store.statuses.get(quoted_id) if quoted_id is not None else None
    if quoted is None or quoted.reblog_of_id is not None:
        return
    if quoted.visibility in (Visibility.PRIVATE, Visibility.DIRECT):
        return
    if quoted.account.local and quoted.account.id != author.id:
        policy = quoted.quote_policy
        follows = work.store.social.has("follows", author.id, quoted.account.id)
        if policy == "nobody" or (policy == "followers" and not follows):
            return
    work.store.quotes.insert(status_id, quoted.id, quoted.account.id, work.now())
    work.store.statuses.adjust_counts(quoted.id, quotes_count=1)
    if quoted.account.local and quoted.account.id != author.id:
        work.later(
            "notify",
            recipient_id=quoted.account.id,
            from_id=author.id,
            type="quote",
            status_id=status_id,
        )


def _adopt_orphans(work: Work, status_id: int, uri: str) -> None:
    """Replies that arrived before this post now hang from it."""
    root = work.store.statuses.thread_root_of(status_id) or status_id
    for child in work.store.remote.replies_waiting_for(uri):
        author = work.store.statuses.parent_and_root(status_id)
        work.store.statuses.update(
            child,
            {
                "in_reply_to_id": status_id,
                "in_reply_to_account_id": author[0] if author else None,
                "thread_root_id": root,
            },
        )
        work.store.statuses.adjust_counts(status_id, replies_count=1)


def create_note(
    work: Work, note: parse.RemoteNote, author: Account, policy: Policy
) -> Status | None:
    """Store a remote post (nothing when it is already stored); the stored status."""
    store = work.store
    existing = store.remote.status_id(note.uri)
    if existing is not None:
        return store.statuses.get(existing)
    if author.suspended or author.local or note.attributed_to != author.uri:
        return None
    visibility = _visibility(note, author, work, policy)
    parent_id = store.remote.status_id(note.in_reply_to) if note.in_reply_to else None
    parent = store.statuses.parent_and_root(parent_id) if parent_id is not None else None
    created_at = _created_at(work, note.published)
    status_id = _status_id(work, created_at)
    text = note.text
    language = note.language or detect_language(text)
    store.statuses.insert(
        {
            "id": status_id,
            "account_id": author.id,
            "uri": note.uri,
            "url": note.url or note.uri,
            "local": False,
            "in_reply_to_id": parent[2] if parent else None,
            "in_reply_to_account_id": parent[0] if parent else None,
            "thread_root_id": (parent[1] or parent[2]) if parent else None,
            "in_reply_to_uri": note.in_reply_to if parent is None else None,
            "text": text,
            "content": note.content_html,
            "spoiler_text": note.summary,
            "sensitive": note.sensitive,
            "visibility": visibility.value,
            "language": language,
            "created_at": created_at,
            "quote_policy": note.quote_policy,
        }
    )
    if visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        store.search.index_status(status_id, f"{note.summary}\n{text}", language, author.id)
    mentioned = _mentioned_ids(work, note, visibility)
    if parent is not None and parent[0] != author.id and parent[0] not in mentioned:
        parent_account = store.accounts.get(parent[0])
        if parent_account is not None and parent_account.uri in note.audience:
            mentioned.append(parent[0])
    store.statuses.add_mentions(status_id, mentioned)
    _tags(work, status_id, note)
    if not policy.reject_media:
        store.remote.replace_media(status_id, author.id, _media_rows(note), work.now())
    _poll(work, status_id, author.id, note)
    _quote(work, status_id, author, note)
    store.accounts.adjust_counts(author.id, statuses_count=1)
    store.accounts.touch_last_status(author.id, created_at)
    if parent is not None:
        store.statuses.adjust_counts(parent[2], replies_count=1)
    _adopt_orphans(work, status_id, note.uri)
    work.later("fanout", status_id=status_id)
    work.later("notify_status", status_id=status_id)
    status = store.statuses.get(status_id)
    if status is not None:
        remote_media.cache_later(work, status.media)
    return status


def _changed(status: Status, note: parse.RemoteNote, policy: Policy) -> bool:
    media = () if policy.reject_media else tuple(a.url for a in note.attachments)
    poll = tuple(o.title for o in note.poll.options) if note.poll else None
    return (
        status.content != note.content_html
        or status.spoiler_text != note.summary
        or status.sensitive != note.sensitive
        or tuple(m.remote_url for m in status.media) != media
        or (status.poll.options if status.poll else None) != poll
    )


def _edit_media(work: Work, status: Status, note: parse.RemoteNote, now: datetime) -> None:
    """The same files (by URL) keep their rows, cached or not, and take the new descriptions;
    other files replace them, and the old cached files are dropped after the commit."""
    rows = _media_rows(note)
    if tuple(m.remote_url for m in status.media) == tuple(a.url for a in note.attachments):
        for m, row in zip(status.media, rows, strict=True):
            keep = ("description", "focus_x", "focus_y")
            if any(getattr(m, k) != row[k] for k in keep):
                work.store.media.update(m.id, {k: row[k] for k in keep})
        return
    work.store.remote.replace_media(status.id, status.account.id, rows, now)
    remote_media.forget_files(work, status.media)


def edit_note(work: Work, note: parse.RemoteNote, author: Account, policy: Policy) -> Status | None:
    """An Update of a remote post: a new revision when something readers see changed."""
    store = work.store
    status_id = store.remote.status_id(note.uri)
    if status_id is None:
        return create_note(work, note, author, policy)
    status = store.statuses.get(status_id)
    if status is None or status.account.id != author.id or status.reblog_of_id is not None:
        return None
    if not _changed(status, note, policy):
        return status
    now = work.now()
    edited_at = min(note.updated, now) if note.updated else now
    if store.edits.count(status.id) == 0:
        store.edits.add(
            status.id,
            author.id,
            text=status.text,
            content=status.content,
            spoiler_text=status.spoiler_text,
            sensitive=status.sensitive,
            media_ids=[m.id for m in status.media],
            poll_options=status.poll.options if status.poll else None,
            created_at=status.created_at,
        )
    language = note.language or status.language
    store.statuses.update(
        status.id,
        {
            "text": note.text,
            "content": note.content_html,
            "spoiler_text": note.summary,
            "sensitive": note.sensitive,
            "language": language,
            "edited_at": edited_at,
        },
    )
    store.statuses.clear_mentions_and_tags(status.id)
    store.statuses.add_mentions(status.id, _mentioned_ids(work, note, status.visibility))
    _tags(work, status.id, note)
    if not policy.reject_media:
        _edit_media(work, status, note, now)
    new_options = tuple(o.title for o in note.poll.options) if note.poll else None
    if status.poll is not None and new_options != status.poll.options:
        store.polls.delete_for_status(status.id)
        _poll(work, status.id, author.id, note)
    elif status.poll is None and note.poll is not None:
        _poll(work, status.id, author.id, note)
    if status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        store.search.index_status(status.id, f"{note.summary}\n{note.text}", language, author.id)
    edited = store.statuses.get(status.id)
    assert edited is not None
    store.edits.add(
        status.id,
        author.id,
        text=edited.text,
        content=edited.content,
        spoiler_text=edited.spoiler_text,
        sensitive=edited.sensitive,
        media_ids=[m.id for m in edited.media],
        poll_options=edited.poll.options if edited.poll else None,
        created_at=edited_at,
    )
    remote_media.cache_later(work, edited.media)
    recipients = {booster for _, booster in store.statuses.reblogs_of(status.id)}
    recipients |= {account for _, account in store.quotes.quoting_accounts(status.id)}
    for recipient in sorted(recipients - {author.id}):
        work.later(
            "notify", recipient_id=recipient, from_id=author.id, type="update", status_id=status.id
        )
    work.later("notify_status", status_id=status.id)
    work.emit_status("status.update", edited)
    return edited


def announce(
    work: Work, activity: parse.Activity, booster: Account, policy: Policy
) -> Status | None:
    """A boost by a remote account of a post known here (nothing when already stored, or when
    the post may not be boosted)."""
    store = work.store
    if store.remote.status_id(activity.id) is not None or booster.suspended:
        return None
    original_id = store.remote.status_id(activity.object_id or "")
    original = store.statuses.get(original_id) if original_id is not None else None
    if original is None or original.reblog is not None:
        return None
    if not may_boost(booster.id, original.facts) or original.interactions_restricted:
        return None
    if store.statuses.reblog_by(booster.id, original.id) is not None:
        return None
    if parse.PUBLIC in activity.to:
        visibility = Visibility.PUBLIC
    elif parse.PUBLIC in activity.cc:
        visibility = Visibility.UNLISTED
    else:
        visibility = Visibility.PRIVATE
    if policy.limited and visibility is Visibility.PUBLIC:
        visibility = Visibility.UNLISTED
    created_at = _created_at(work, activity.published)
    boost_id = _status_id(work, created_at)
    store.statuses.insert(
        {
            "id": boost_id,
            "account_id": booster.id,
            "uri": activity.id,
            "url": None,
            "local": False,
            "reblog_of_id": original.id,
            "visibility": visibility.value,
            "created_at": created_at,
        }
    )
    store.statuses.adjust_counts(original.id, reblogs_count=1)
    store.accounts.adjust_counts(booster.id, statuses_count=1)
    work.later("fanout", status_id=boost_id)
    if original.account.local and original.account.id != booster.id:
        work.later(
            "notify",
            recipient_id=original.account.id,
            from_id=booster.id,
            type="reblog",
            status_id=original.id,
        )
    return store.statuses.get(boost_id)


def vote(work: Work, obj: dict[str, object], voter: Account) -> bool:
    """A poll vote (Mastodon: a Note with only a `name`, replying to the Question): counted
    once per option, on an open poll of ours."""
    name = obj.get("name")
    parent_uri = obj.get("inReplyTo")
    if not isinstance(name, str) or not isinstance(parent_uri, str) or obj.get("content"):
        return False
    status_id = work.store.remote.status_id(parent_uri)
    status = work.store.statuses.get(status_id) if status_id is not None else None
    poll = status.poll if status is not None else None
    if status is None or poll is None or not status.local or poll.expired(work.now()):
        return False
    if name not in poll.options:
        return False
    choice = poll.options.index(name)
    mine = work.store.polls.own_votes(voter.id, [poll.id]).get(poll.id, ())
    if choice in mine or (mine and not poll.multiple):
        return False
    work.store.polls.add_votes(poll.id, voter.id, [choice], work.now())
    return True
