"""Writing statuses: post, reply, boost, delete. Fan-out and notifications happen in jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from parvis.config import Settings
from parvis.domain.content import (
    count_characters,
    detect_language,
    normalize_tag,
    render_plain_text,
)
from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.domain.models import Media, Status
from parvis.domain.visibility import Visibility, may_boost, may_see
from parvis.services import federate
from parvis.services.context import Work
from parvis.services.mentions import resolver, tag_url

REPLY_POLICIES = ("everyone", "followers", "mentioned")
QUOTE_POLICIES = ("public", "followers", "nobody")


@dataclass(frozen=True)
class PollSpec:
    options: tuple[str, ...]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


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
    poll: PollSpec | None = None
    quoted_status_id: int | None = None
    quote_approval_policy: str | None = None
    reply_policy: str | None = None


@dataclass(frozen=True)
class _Checked:
    """What validation established, before anything is written."""

    visibility: Visibility
    language: str | None
    media: list[Media]
    parent: Status | None
    thread_root_id: int | None
    quoted: Status | None
    quote_policy: str
    reply_policy: str


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


def poll_errors(settings: Settings, poll: PollSpec | None, has_media: bool) -> list[str]:
    """Validation of a poll as posted or edited (Mastodon's rules, limits from the settings)."""
    if poll is None:
        return []
    errors = []
    if has_media:
        errors.append("poll: a post cannot have both media and a poll")
    options = [o.strip() for o in poll.options]
    if not 2 <= len(options) <= settings.poll_max_options:
        errors.append(f"poll[options]: between 2 and {settings.poll_max_options} options")
    if any(not o for o in options):
        errors.append("poll[options]: an option can't be blank")
    if any(len(o) > settings.poll_max_option_chars for o in options):
        errors.append(
            f"poll[options]: at most {settings.poll_max_option_chars} characters per option"
        )
    if len(set(options)) != len(options):
        errors.append("poll[options]: options must be distinct")
    lo, hi = settings.poll_min_expiration, settings.poll_max_expiration
    if not lo <= poll.expires_in <= hi:
        errors.append(f"poll[expires_in]: between {lo} and {hi} seconds")
    return errors


def language_errors(language: str | None) -> list[str]:
    if language is not None and not (language.isalpha() and 2 <= len(language) <= 3):
        return ["language: an ISO 639 language code such as 'en' or 'fr'"]
    return []


def check_media(
    work: Work, author_id: int, media_ids: tuple[int, ...], *, own_status: int | None = None
) -> list[Media]:
    """The author's media, free to attach (or already on `own_status`), none failed or reserved
    by a scheduled post."""
    media = work.store.media.get_many(list(media_ids)) if media_ids else []
    if len(media) != len(set(media_ids)) or any(
        m.account_id != author_id or m.status_id not in (None, own_status) for m in media
    ):
        raise Invalid("Validation failed: media_ids: unknown or already attached media")
    if work.store.scheduled.reserved(list(media_ids)):
        raise Invalid("Validation failed: media_ids: media reserved by a scheduled post")
    if any(m.state == "failed" for m in media):
        raise Invalid("Validation failed: media_ids: a media attachment failed to process")
    return media


def check_status(work: Work, author_id: int, new: NewStatus) -> _Checked:
    """Every check a new status must pass, with nothing written (scheduling runs it too)."""
    store, settings = work.store, work.settings
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
    errors += language_errors(language)
    errors += poll_errors(settings, new.poll, bool(new.media_ids))
    if new.reply_policy is not None and new.reply_policy not in REPLY_POLICIES:
        errors.append("reply_policy: one of " + ", ".join(REPLY_POLICIES))
    if new.quote_approval_policy is not None and new.quote_approval_policy not in QUOTE_POLICIES:
        errors.append("quote_approval_policy: one of " + ", ".join(QUOTE_POLICIES))
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    assert visibility is not None

    media = check_media(work, author_id, new.media_ids)

    parent = None
    thread_root_id = None
    if new.in_reply_to_id is not None:
        parent = visible_status(work, author_id, new.in_reply_to_id)
        if parent.reblog_of_id:
            raise Invalid("Validation failed: in_reply_to_id: cannot reply to a boost")
        found = store.statuses.parent_and_root(parent.id)
        assert found is not None
        thread_root_id = found[1] or parent.id
        check_reply_allowed(work, author_id, parent, thread_root_id)

    quoted = None
    if new.quoted_status_id is not None:
        quoted, visibility = check_quote(work, author_id, new.quoted_status_id, visibility)
        check_interactions_allowed(author_id, quoted)
    quote_policy = new.quote_approval_policy or "public"
    if visibility in (Visibility.PRIVATE, Visibility.DIRECT):
        quote_policy = "nobody"  # Mastodon: only public and unlisted posts can be quoted
    return _Checked(
        visibility=visibility,
        language=language,
        media=media,
        parent=parent,
        thread_root_id=thread_root_id,
        quoted=quoted,
        quote_policy=quote_policy,
        reply_policy=new.reply_policy or "everyone",
    )


def check_interactions_allowed(account_id: int, status: Status) -> None:
    """A moderation decision may restrict replies, boosts, quotes and favourites (not for the
    author)."""
    if status.interactions_restricted and account_id != status.account.id:
        raise Forbidden(
            "This action is not allowed: the moderators restricted interactions with this post"
        )


def check_reply_allowed(work: Work, author_id: int, parent: Status, root_id: int) -> None:
    """Reply controls (a Parvis extension): the policy of the post replied to and of the thread's
    first post must both let this account reply. The thread's author may always reply."""
    check_interactions_allowed(author_id, parent)
    root = parent if root_id == parent.id else work.store.statuses.get(root_id)
    root_author = root.account.id if root is not None else parent.account.id
    if author_id == root_author:
        return
    for target in (root, parent):
        if target is None or target.reply_policy == "everyone" or author_id == target.account.id:
            continue
        if target.reply_policy == "followers":
            if not work.store.social.has("follows", author_id, target.account.id):
                raise Forbidden(
                    "This action is not allowed: replies are limited to accounts following "
                    f"@{target.account.acct}"
                )
        elif author_id not in {m.account_id for m in target.mentions}:
            raise Forbidden(
                "This action is not allowed: replies are limited to accounts mentioned in the post"
            )


def check_quote(
    work: Work, author_id: int, quoted_id: int, visibility: Visibility
) -> tuple[Status, Visibility]:
    """The status to quote (404 when the quoter cannot see it) and the quote's visibility."""
    quoted = visible_status(work, author_id, quoted_id)
    if quoted.reblog is not None:
        quoted = quoted.reblog
    own = quoted.account.id == author_id
    if quoted.visibility is Visibility.DIRECT or (
        quoted.visibility is Visibility.PRIVATE and not own
    ):
        raise Forbidden("This action is not allowed: this post cannot be quoted")
    if quoted.visibility is Visibility.PRIVATE:
        if visibility is Visibility.DIRECT:
            raise Invalid(
                "Validation failed: visibility: a quote of a followers-only post is followers-only"
            )
        visibility = Visibility.PRIVATE
    if not own:
        policy = quoted.quote_policy
        allowed = policy == "public" or (
            policy == "followers" and work.store.social.has("follows", author_id, quoted.account.id)
        )
        if not allowed:
            raise Forbidden(
                "This action is not allowed: the author does not allow you to quote this post"
            )
    return quoted, visibility


def create_status(work: Work, author_id: int, new: NewStatus) -> Status:
    store, settings = work.store, work.settings
    if new.idempotency_key:
        existing = _idempotent(work, author_id, new.idempotency_key)
        if existing is not None:
            return existing
    checked = check_status(work, author_id, new)
    user = store.accounts.user(author_id)
    text = new.text or ""
    media = checked.media
    parent = checked.parent
    parent_account_id = parent.account.id if parent is not None else None

    rendered = render_plain_text(text, resolver(store, settings), tag_url=tag_url(settings))
    mention_ids = [m.account_id for m in rendered.mentions]
    if parent_account_id is not None and parent_account_id != author_id:
        mention_ids.append(parent_account_id)  # Mastodon: the replied-to author is addressed
    if (
        checked.quoted is not None
        and checked.visibility is Visibility.DIRECT
        and checked.quoted.account.id not in {*mention_ids, author_id}
    ):
        raise Invalid("Validation failed: a private mention quoting a post must mention its author")
    now = work.now()
    status_id = new_id()
    base = settings.base_url
    author = store.accounts.get(author_id)
    assert author is not None
    default_lang = user.default_language if user else None
    language = checked.language or detect_language(text, default=default_lang)
    store.statuses.insert(
        {
            "id": status_id,
            "account_id": author_id,
            "uri": f"{base}/users/{author.username}/statuses/{status_id}",
            "url": f"{base}/@{author.username}/{status_id}",
            "local": True,
            "in_reply_to_id": new.in_reply_to_id,
            "in_reply_to_account_id": parent_account_id,
            "thread_root_id": checked.thread_root_id,
            "text": text,
            "content": rendered.html,
            "spoiler_text": new.spoiler_text or "",
            "sensitive": bool(new.sensitive)
            or bool(new.spoiler_text)
            or bool(new.sensitive is None and user and user.default_sensitive and media),
            "visibility": checked.visibility.value,
            "language": language,
            "application_id": new.application_id,
            "created_at": now,
            "reply_policy": checked.reply_policy,
            "quote_policy": checked.quote_policy,
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
    if new.poll is not None:
        store.polls.insert(
            status_id,
            author_id,
            [o.strip() for o in new.poll.options],
            multiple=new.poll.multiple,
            hide_totals=new.poll.hide_totals,
            expires_at=now + timedelta(seconds=new.poll.expires_in),
            now=now,
        )
    if checked.quoted is not None:
        quoted = checked.quoted
        store.quotes.insert(status_id, quoted.id, quoted.account.id, now)
        store.statuses.adjust_counts(quoted.id, quotes_count=1)
        if quoted.account.id != author_id and quoted.account.local:
            work.later(
                "notify",
                recipient_id=quoted.account.id,
                from_id=author_id,
                type="quote",
                status_id=status_id,
            )
    _remember(work, author_id, new.idempotency_key, status_id)
    work.later("fanout", status_id=status_id)
    work.later("notify_status", status_id=status_id)
    status = store.statuses.get(status_id)
    assert status is not None
    federate.status_created(work, status)
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
    federate.status_deleted(work, status)
    _remove(work, status)
    return status


def _remove(work: Work, status: Status) -> None:
    work.emit_status("delete", status)
    store = work.store
    for reblog_id, booster_id in store.statuses.reblogs_of(status.id):
        store.accounts.adjust_counts(booster_id, statuses_count=-1)
        store.feeds.remove_status(reblog_id)
    store.feeds.remove_status(status.id)
    if status.in_reply_to_id is not None:
        store.statuses.adjust_counts(status.in_reply_to_id, replies_count=-1)
    if status.reblog_of_id is not None:
        store.statuses.adjust_counts(status.reblog_of_id, reblogs_count=-1)
    quote = status.quote
    if quote is not None and quote.quoted_status_id is not None and quote.state == "accepted":
        store.statuses.adjust_counts(quote.quoted_status_id, quotes_count=-1)
    store.accounts.adjust_counts(status.account.id, statuses_count=-1)
    store.search.unindex_status(status.id)
    store.statuses.delete(status.id)


def erase(work: Work, status: Status) -> None:
    """Remove a post (or boost) of an account being erased, telling no other server: the
    Delete of the account itself does (services/deletion.py)."""
    _remove(work, status)


def reblog(work: Work, account_id: int, status_id: int, visibility: str | None = None) -> Status:
    original = visible_status(work, account_id, status_id)
    if original.reblog is not None:
        original = original.reblog
    if not may_boost(account_id, original.facts):
        raise Forbidden("This action is not allowed: this post cannot be boosted")
    check_interactions_allowed(account_id, original)
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
    federate.reblogged(work, status)
    return status


def unreblog(work: Work, account_id: int, status_id: int) -> Status:
    original = visible_status(work, account_id, status_id)
    if original.reblog is not None:
        original = original.reblog
    existing = work.store.statuses.reblog_by(account_id, original.id)
    if existing is not None:
        boost = work.store.statuses.get(existing)
        assert boost is not None
        federate.unreblogged(work, boost)
        _remove(work, boost)
        work.store.notifications.remove_about(
            original.account.id, account_id, "reblog", original.id
        )
    refreshed = work.store.statuses.get(original.id)
    assert refreshed is not None
    return refreshed
