"""Editing a status (Mastodon 3.5+): new text, media and poll, with the history of revisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from parvis.domain.content import count_characters, normalize_tag, render_plain_text
from parvis.domain.errors import Invalid, NotFound
from parvis.domain.models import Media, Status
from parvis.services import federate
from parvis.services.context import Work
from parvis.services.imaging import parse_focus
from parvis.services.mentions import resolver, tag_url
from parvis.services.posting import (
    REPLY_POLICIES,
    PollSpec,
    check_media,
    language_errors,
    poll_errors,
)
from parvis.storage.edits import EditRow

MAX_DESCRIPTION = 1500


@dataclass(frozen=True)
class MediaAttribute:
    id: int
    description: str | None = None
    focus: str | None = None


@dataclass(frozen=True)
class StatusChange:
    """PUT /api/v1/statuses/:id replaces the whole editable state, as in Mastodon: a field left
    out (media, poll) is removed."""

    text: str = ""
    spoiler_text: str = ""
    sensitive: bool | None = None
    language: str | None = None
    media_ids: tuple[int, ...] = ()
    media_attributes: tuple[MediaAttribute, ...] = ()
    poll: PollSpec | None = None
    reply_policy: str | None = None


@dataclass(frozen=True)
class Revision:
    """One entry of a status' history (the original included)."""

    status: Status
    text: str
    content: str
    spoiler_text: str
    sensitive: bool
    media: list[Media]
    poll_options: tuple[str, ...] | None
    created_at: datetime


def own_status(work: Work, account_id: int, status_id: int) -> Status:
    """Only the author may edit: others' statuses are simply not found (as Mastodon answers)."""
    status = work.store.statuses.get(status_id)
    if status is None or status.reblog_of_id is not None or status.account.id != account_id:
        raise NotFound("Record not found")
    return status


def edit_status(work: Work, account_id: int, status_id: int, change: StatusChange) -> Status:
    store, settings = work.store, work.settings
    status = own_status(work, account_id, status_id)
    text = change.text or ""
    errors = []
    if not text.strip() and not change.media_ids:
        errors.append("text: can't be blank")
    if count_characters(text) + len(change.spoiler_text or "") > settings.max_status_chars:
        errors.append(f"text: character limit of {settings.max_status_chars} exceeded")
    if len(change.media_ids) > settings.max_media_attachments:
        errors.append(f"media_ids: at most {settings.max_media_attachments} attachments")
    language = (change.language or "").strip().lower() or None
    errors += language_errors(language)
    errors += poll_errors(settings, change.poll, bool(change.media_ids))
    if change.reply_policy is not None and change.reply_policy not in REPLY_POLICIES:
        errors.append("reply_policy: one of " + ", ".join(REPLY_POLICIES))
    wanted = set(change.media_ids)
    for attr in change.media_attributes:
        if attr.id not in wanted:
            errors.append("media_attributes: only media attached to the post can be changed")
            break
        if attr.description is not None and len(attr.description) > MAX_DESCRIPTION:
            errors.append(f"media_attributes: description: at most {MAX_DESCRIPTION} characters")
            break
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    check_media(work, account_id, change.media_ids, own_status=status.id)
    focus = {a.id: parse_focus(a.focus) for a in change.media_attributes if a.focus is not None}

    now = work.now()
    old_poll = status.poll
    if store.edits.count(status.id) == 0:  # keep the original as the first revision
        store.edits.add(
            status.id,
            account_id,
            text=status.text,
            content=status.content,
            spoiler_text=status.spoiler_text,
            sensitive=status.sensitive,
            media_ids=[m.id for m in status.media],
            poll_options=old_poll.options if old_poll else None,
            created_at=status.created_at,
        )

    rendered = render_plain_text(text, resolver(store, settings), tag_url=tag_url(settings))
    mention_ids = [m.account_id for m in rendered.mentions]
    if status.in_reply_to_account_id and status.in_reply_to_account_id != account_id:
        mention_ids.append(status.in_reply_to_account_id)
    sensitive = bool(change.sensitive) or bool(change.spoiler_text)
    values: dict[str, object] = {
        "text": text,
        "content": rendered.html,
        "spoiler_text": change.spoiler_text or "",
        "sensitive": sensitive,
        "language": language or status.language,
        "edited_at": now,
    }
    if change.reply_policy is not None:
        values["reply_policy"] = change.reply_policy
    store.statuses.update(status.id, values)
    store.statuses.clear_mentions_and_tags(status.id)
    store.statuses.add_mentions(status.id, mention_ids)
    tag_pairs = [(normalize_tag(t), t) for t in rendered.tags]
    store.statuses.add_tags(status.id, store.statuses.tag_ids(tag_pairs, now))
    store.statuses.detach_media(status.id, list(change.media_ids))
    store.statuses.attach_media(status.id, list(change.media_ids))
    for attr in change.media_attributes:
        media_values: dict[str, object] = {}
        if attr.description is not None:
            media_values["description"] = attr.description
        if attr.id in focus:
            media_values["focus_x"], media_values["focus_y"] = focus[attr.id]
        if media_values:
            store.media.update(attr.id, media_values)
    _edit_poll(work, status, change.poll)
    new_language = language or status.language
    store.search.index_status(
        status.id, f"{change.spoiler_text or ''}\n{text}", new_language, account_id
    )
    new_poll = change.poll
    store.edits.add(
        status.id,
        account_id,
        text=text,
        content=rendered.html,
        spoiler_text=change.spoiler_text or "",
        sensitive=sensitive,
        media_ids=list(change.media_ids),
        poll_options=tuple(o.strip() for o in new_poll.options) if new_poll else None,
        created_at=now,
    )
    recipients = {booster for _, booster in store.statuses.reblogs_of(status.id)}
    recipients |= {author for _, author in store.quotes.quoting_accounts(status.id)}
    for recipient in sorted(recipients - {account_id}):
        work.later(
            "notify", recipient_id=recipient, from_id=account_id, type="update", status_id=status.id
        )
    work.later("notify_status", status_id=status.id)  # newly mentioned accounts
    edited = store.statuses.get(status.id)
    assert edited is not None
    work.emit_status("status.update", edited)
    federate.status_edited(work, edited)
    return edited


def _edit_poll(work: Work, status: Status, spec: PollSpec | None) -> None:
    """Changing the options (or single/multiple choice) resets the votes, as in Mastodon."""
    polls, now, old = work.store.polls, work.now(), status.poll
    if spec is None:
        if old is not None:
            polls.delete_for_status(status.id)
        return
    options = [o.strip() for o in spec.options]
    expires_at = now + timedelta(seconds=spec.expires_in)
    if old is None:
        polls.insert(
            status.id,
            status.account.id,
            options,
            multiple=spec.multiple,
            hide_totals=spec.hide_totals,
            expires_at=expires_at,
            now=now,
        )
        return
    changed = tuple(options) != old.options or spec.multiple != old.multiple
    if changed:
        polls.reset_votes(old.id)
    polls.update(
        old.id,
        options,
        multiple=spec.multiple,
        hide_totals=spec.hide_totals,
        expires_at=expires_at if changed else old.expires_at,
    )


def history(work: Work, status: Status) -> list[Revision]:
    """Revisions oldest first; a status never edited has one: itself."""
    rows: list[EditRow] = work.store.edits.history(status.id)
    if not rows:
        return [
            Revision(
                status=status,
                text=status.text,
                content=status.content,
                spoiler_text=status.spoiler_text,
                sensitive=status.sensitive,
                media=list(status.media),
                poll_options=status.poll.options if status.poll else None,
                created_at=status.created_at,
            )
        ]
    media_ids = {m for r in rows for m in r.media_ids}
    media = {m.id: m for m in work.store.media.get_many(list(media_ids))} if media_ids else {}
    return [
        Revision(
            status=status,
            text=r.text,
            content=r.content,
            spoiler_text=r.spoiler_text,
            sensitive=r.sensitive,
            media=[media[m] for m in r.media_ids if m in media],
            poll_options=r.poll_options,
            created_at=r.created_at,
        )
        for r in rows
    ]
