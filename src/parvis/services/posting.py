"""Writing statuses: post, reply, boost, delete. Fan-out and notifications happen in jobs."""

from __future__ import annotations

from dataclasses import dataclass

from parvis.domain.content import (
    count_characters,
    detect_language,
    normalize_tag,
    render_plain_text,
)
from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.domain.models import Status
from parvis.domain.visibility import Visibility, may_boost, may_see
from parvis.services.context import Work
from parvis.services.mentions import resolver, tag_url


@dataclass(frozen=True)
class NewStatus:
    text: str = ""
    spoiler_text: str = ""
    sensitive: bool | None = None
    visibility: str | None = None
    language: str | None = None
    in_reply_to_id: int | None = None
    media_ids: tuple[int, ...] = ()
    application_id: int | None = None
    idempotency_key: str | None = None


def visible_status(work: Work, viewer_id: int | None, status_id: int) -> Status:
    """A status the viewer may see, or NotFound (never Forbidden: existence is not revealed)."""
    status = work.store.statuses.get(status_id)
    if status is None:
        raise NotFound("Record not found")
    authors = [status.account.id] + ([status.reblog.account.id] if status.reblog else [])
    viewer = work.store.social.viewer(viewer_id, authors)
    hidden_original = status.reblog is not None and not may_see(viewer, status.reblog.facts)
    if not may_see(viewer, status.facts) or hidden_original:
        raise NotFound("Record not found")
    return status


def create_status(work: Work, author_id: int, new: NewStatus) -> Status:
    store, settings = work.store, work.settings
    if new.idempotency_key:
        existing = _idempotent(work, author_id, new.idempotency_key)
        if existing is not None:
            return existing
    user = store.accounts.user(author_id)
    text = new.text or ""
    errors = []
    if not text.strip() and not new.media_ids:
        errors.append("text: can't be blank")
    if count_characters(text) + len(new.spoiler_text or "") > settings.max_status_chars:
        errors.append(f"text: character limit of {settings.max_status_chars} exceeded")
    if len(new.media_ids) > settings.max_media_attachments:
        errors.append(f"media_ids: at most {settings.max_media_attachments} attachments")
    visibility = (
        Visibility.parse(new.visibility)
        if new.visibility
        else (user.default_visibility if user else Visibility.PUBLIC)
    )
    if visibility is None:
        errors.append("visibility: one of public, unlisted, private, direct")
    language = (new.language or "").strip().lower() or None
    if language is not None and not (language.isalpha() and 2 <= len(language) <= 3):
        errors.append("language: an ISO 639 language code such as 'en' or 'fr'")
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    assert visibility is not None

    media = store.media.get_many(list(new.media_ids)) if new.media_ids else []
    if len(media) != len(set(new.media_ids)) or any(
        m.account_id != author_id or m.status_id is not None for m in media
    ):
        raise Invalid("Validation failed: media_ids: unknown or already attached media")
    if any(m.state == "failed" for m in media):
        raise Invalid("Validation failed: media_ids: a media attachment failed to process")

    parent_account_id = None
    thread_root_id = None
    if new.in_reply_to_id is not None:
        parent = visible_status(work, author_id, new.in_reply_to_id)
        if parent.reblog_of_id:
            raise Invalid("Validation failed: in_reply_to_id: cannot reply to a boost")
        parent_account_id = parent.account.id
        found = store.statuses.parent_and_root(parent.id)
        assert found is not None
        thread_root_id = found[1] or parent.id

    rendered = render_plain_text(text, resolver(store, settings), tag_url=tag_url(settings))
    mention_ids = [m.account_id for m in rendered.mentions]
    if parent_account_id is not None and parent_account_id != author_id:
        mention_ids.append(parent_account_id)  # Mastodon: the replied-to author is addressed
    now = work.now()
    status_id = new_id()
    base = settings.base_url
    author = store.accounts.get(author_id)
    assert author is not None
    default_lang = user.default_language if user else None
    language = language or detect_language(text, default=default_lang)
    store.statuses.insert(
        {
            "id": status_id,
            "account_id": author_id,
            "uri": f"{base}/users/{author.username}/statuses/{status_id}",
            "url": f"{base}/@{author.username}/{status_id}",
            "local": True,
            "in_reply_to_id": new.in_reply_to_id,
            "in_reply_to_account_id": parent_account_id,
            "thread_root_id": thread_root_id,
            "text": text,
            "content": rendered.html,
            "spoiler_text": new.spoiler_text or "",
            "sensitive": bool(new.sensitive)
            or bool(new.spoiler_text)
            or bool(new.sensitive is None and user and user.default_sensitive and media),
            "visibility": visibility.value,
            "language": language,
            "application_id": new.application_id,
            "created_at": now,
        }
    )
    store.search.index_status(status_id, f"{new.spoiler_text or ''}\n{text}", language, author_id)
    store.statuses.add_mentions(status_id, mention_ids)
    tag_pairs = [(normalize_tag(t), t) for t in rendered.tags]
    store.statuses.add_tags(status_id, store.statuses.tag_ids(tag_pairs, now))
    store.statuses.attach_media(status_id, list(new.media_ids))
    store.accounts.adjust_counts(author_id, statuses_count=1)
    store.accounts.touch_last_status(author_id, now)
    if new.in_reply_to_id is not None:
        store.statuses.adjust_counts(new.in_reply_to_id, replies_count=1)
    _remember(work, author_id, new.idempotency_key, status_id)
    work.later("fanout", status_id=status_id)
    work.later("notify_status", status_id=status_id)
    status = store.statuses.get(status_id)
    assert status is not None
    return status


def _idempotent(work: Work, author_id: int, key: str) -> Status | None:
    status_id = work.store.statuses.idempotent(author_id, key[:255])
    return work.store.statuses.get(status_id) if status_id else None


def _remember(work: Work, author_id: int, key: str | None, status_id: int) -> None:
    if key:
        work.store.statuses.remember_idempotency(author_id, key[:255], status_id, work.now())


def delete_status(work: Work, account_id: int, status_id: int) -> Status:
    status = work.store.statuses.get(status_id)
    if status is None or status.reblog_of_id is not None:
        raise NotFound("Record not found")
    if status.account.id != account_id:
        raise Forbidden("This action is not allowed")
    _remove(work, status)
    return status


def _remove(work: Work, status: Status) -> None:
    store = work.store
    for reblog_id, booster_id in store.statuses.reblogs_of(status.id):
        store.accounts.adjust_counts(booster_id, statuses_count=-1)
        store.feeds.remove_status(reblog_id)
    store.feeds.remove_status(status.id)
    if status.in_reply_to_id is not None:
        store.statuses.adjust_counts(status.in_reply_to_id, replies_count=-1)
    if status.reblog_of_id is not None:
        store.statuses.adjust_counts(status.reblog_of_id, reblogs_count=-1)
    store.accounts.adjust_counts(status.account.id, statuses_count=-1)
    store.search.unindex_status(status.id)
    store.statuses.delete(status.id)


def reblog(work: Work, account_id: int, status_id: int, visibility: str | None = None) -> Status:
    original = visible_status(work, account_id, status_id)
    if original.reblog is not None:
        original = original.reblog
    if not may_boost(account_id, original.facts):
        raise Forbidden("This action is not allowed: this post cannot be boosted")
    existing = work.store.statuses.reblog_by(account_id, original.id)
    if existing is not None:
        found = work.store.statuses.get(existing)
        assert found is not None
        return found
    vis = Visibility.parse(visibility) if visibility else Visibility.PUBLIC
    if vis is None or vis is Visibility.DIRECT:
        raise Invalid("Validation failed: visibility: one of public, unlisted, private")
    if original.visibility is Visibility.PRIVATE:
        vis = Visibility.PRIVATE
    author = work.store.accounts.get(account_id)
    assert author is not None
    now = work.now()
    rid = new_id()
    base = work.settings.base_url
    work.store.statuses.insert(
        {
            "id": rid,
            "account_id": account_id,
            "uri": f"{base}/users/{author.username}/statuses/{rid}/activity",
            "url": None,
            "local": True,
            "reblog_of_id": original.id,
            "visibility": vis.value,
            "created_at": now,
        }
    )
    work.store.statuses.adjust_counts(original.id, reblogs_count=1)
    work.store.accounts.adjust_counts(account_id, statuses_count=1)
    work.later("fanout", status_id=rid)
    if original.account.id != account_id and original.account.local:
        work.later(
            "notify",
            recipient_id=original.account.id,
            from_id=account_id,
            type="reblog",
            status_id=original.id,
        )
    status = work.store.statuses.get(rid)
    assert status is not None
    return status


def unreblog(work: Work, account_id: int, status_id: int) -> Status:
    original = visible_status(work, account_id, status_id)
    if original.reblog is not None:
        original = original.reblog
    existing = work.store.statuses.reblog_by(account_id, original.id)
    if existing is not None:
        boost = work.store.statuses.get(existing)
        assert boost is not None
        _remove(work, boost)
        work.store.notifications.remove_about(
            original.account.id, account_id, "reblog", original.id
        )
    refreshed = work.store.statuses.get(original.id)
    assert refreshed is not None
    return refreshed
