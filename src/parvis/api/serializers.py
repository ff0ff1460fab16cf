"""Mastodon JSON shapes, built as plain dicts (encoded with orjson at the edge)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from parvis.api.filter_shapes import filter_results_json
from parvis.config import Settings
from parvis.domain.content import normalize_tag
from parvis.domain.labels.vocabulary import labels_of
from parvis.domain.models import (
    Account,
    Media,
    ModerationWarning,
    Notification,
    Poll,
    Relationship,
    ShownNote,
    Status,
    ViewerFlags,
)
from parvis.services import announcements as announcement_service
from parvis.services import conversations as conversation_service
from parvis.services import notifications as notification_service
from parvis.services import suggestions as suggestion_service
from parvis.services import trends as trend_service

DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def ts(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _media_url(settings: Settings, key: str | None) -> str | None:
    return f"{settings.base_url}/media/{key}" if key else None


def account_json(
    a: Account, settings: Settings, *, source: dict[str, Any] | None = None
) -> dict[str, Any]:
    base = settings.base_url
    avatar = _media_url(settings, a.avatar_key) or base + DEFAULT_AVATAR
    header = _media_url(settings, a.header_key) or base + DEFAULT_HEADER
    out: dict[str, Any] = {
        "id": str(a.id),
        "username": a.username,
        "acct": a.acct,
        "display_name": a.display_name,
        "locked": a.locked,
        "bot": a.bot,
        "discoverable": a.discoverable,
        "indexable": a.indexable,
        "group": False,
        "created_at": ts(a.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": a.note_html,
        "url": a.url,
        "uri": a.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": a.followers_count,
        "following_count": a.following_count,
        "statuses_count": a.statuses_count,
        "last_status_at": a.last_status_at.date().isoformat() if a.last_status_at else None,
        "hide_collections": a.hide_collections,
        "noindex": not a.indexable,
        "emojis": [],
        "roles": [],
        "fields": [
            {"name": f.name, "value": f.value_html or f.value, "verified_at": ts(f.verified_at)}
            for f in a.fields
        ],
    }
    # Parvis: the account's labels (bot: self-declared; automated, coordinated: confirmed by
    # the moderators), docs/client-api.md.
    out["parvis_labels"] = list(labels_of(a.bot, a.labels))
    if a.suspended:
        out["suspended"] = True
    if a.moved_to is not None:
        out["moved"] = account_json(a.moved_to, settings)
    if source is not None:
        out["source"] = source
    return out


def source_json(
    a: Account, privacy: str, sensitive: bool, language: str | None, follow_requests_count: int = 0
) -> dict[str, Any]:
    return {
        "privacy": privacy,
        "sensitive": sensitive,
        "language": language or "",
        "note": a.note,
        "fields": [{"name": f.name, "value": f.value, "verified_at": None} for f in a.fields],
        "follow_requests_count": follow_requests_count,
        "hide_collections": a.hide_collections,
        "discoverable": a.discoverable,
        "indexable": a.indexable,
        "attribution_domains": [],
    }


def media_json(m: Media, settings: Settings) -> dict[str, Any]:
    ready = m.state == "ready"
    url = _media_url(settings, m.file_key) if ready else None
    preview_url = _media_url(settings, m.thumb_key) if ready else None
    if ready and m.file_key is None and m.remote_url:  # remote, not cached (yet): Mastodon's way
        url = preview_url = m.remote_url
    meta: dict[str, Any] = {"focus": {"x": m.focus_x, "y": m.focus_y}}
    if ready and m.width and m.height:
        meta["original"] = {
            "width": m.width,
            "height": m.height,
            "size": f"{m.width}x{m.height}",
            "aspect": m.width / m.height,
        }
    if ready and m.thumb_width and m.thumb_height:
        meta["small"] = {
            "width": m.thumb_width,
            "height": m.thumb_height,
            "size": f"{m.thumb_width}x{m.thumb_height}",
            "aspect": m.thumb_width / m.thumb_height,
        }
    return {
        "id": str(m.id),
        "type": m.type if ready or m.state == "pending" else "unknown",
        "url": url,
        "preview_url": preview_url,
        "remote_url": m.remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": m.description,
        "blurhash": m.blurhash,
    }


def _tag(name: str, settings: Settings) -> dict[str, Any]:
    return {"name": name, "url": f"{settings.base_url}/tags/{quote(name)}"}


# --- polls, quotes, edits, scheduled posts (statuses extended) ---------------------------------


def poll_json(p: Poll, flags: ViewerFlags, viewer_id: int | None, author_id: int) -> dict[str, Any]:
    expired = p.expired(datetime.now(UTC))
    # hide_totals: per-option counts stay hidden from everyone, the author included, until the
    # poll ends (Mastodon's Poll#show_totals_now?); the poll's own totals stay visible.
    hidden = p.hide_totals and not expired
    own = flags.poll_votes.get(p.id) if viewer_id is not None else None
    return {
        "id": str(p.id),
        "expires_at": ts(p.expires_at),
        "expired": expired,
        "multiple": p.multiple,
        "votes_count": p.votes_count,
        "voters_count": p.voters_count if p.multiple else None,
        "options": [
            {"title": title, "votes_count": None if hidden else count}
            for title, count in zip(p.options, p.votes, strict=True)
        ],
        "emojis": [],
        # As Mastodon's Poll#voted?: the author counts as having voted (clients show results).
        "voted": (own is not None or viewer_id == author_id) if viewer_id is not None else None,
        "own_votes": list(own or ()) if viewer_id is not None else None,
    }


def quote_json(
    s: Status, flags: ViewerFlags, settings: Settings, viewer_id: int | None
) -> dict[str, Any]:
    """Quote entity; a quote inside a quoted status is shallow (ShallowQuote), as in Mastodon."""
    q = s.quote
    assert q is not None
    state = q.state if q.quoted_status_id is not None else "deleted"
    if q.quoted_status is not None and state == "accepted":
        quoted = status_json(q.quoted_status, flags, settings, viewer_id)
        return {"state": state, "quoted_status": quoted}
    if state == "accepted":
        return {"state": state, "quoted_status_id": str(q.quoted_status_id)}
    return {"state": state, "quoted_status": None}


_AUTOMATIC = {"public": ["public"], "followers": ["followers"], "nobody": []}


def quote_approval_json(s: Status, viewer_id: int | None) -> dict[str, Any]:
    """Who may quote: private and direct posts by nobody but their author."""
    quotable = s.visibility.value in ("public", "unlisted")
    policy = s.quote_policy if quotable else "nobody"
    if viewer_id is not None and viewer_id == s.account.id and s.visibility.value != "direct":
        current = "automatic"
    elif viewer_id is None:
        current = "unknown"
    elif policy == "public":
        current = "automatic"
    elif policy == "nobody":
        current = "denied"
    else:  # followers: depends on whether the viewer follows the author
        current = "unknown"
    return {"automatic": _AUTOMATIC.get(policy, []), "manual": [], "current_user": current}


def status_edit_json(
    account: Account,
    *,
    content: str,
    spoiler_text: str,
    sensitive: bool,
    created_at: datetime,
    media: list[Media],
    poll_options: tuple[str, ...] | None,
    settings: Settings,
) -> dict[str, Any]:
    return {
        "content": content,
        "spoiler_text": spoiler_text,
        "sensitive": sensitive,
        "created_at": ts(created_at),
        "account": account_json(account, settings),
        "poll": {"options": [{"title": t} for t in poll_options]} if poll_options else None,
        "media_attachments": [media_json(m, settings) for m in media],
        "emojis": [],
    }


def scheduled_status_json(
    sid: int, scheduled_at: datetime, params: dict[str, Any], media: list[Media], settings: Settings
) -> dict[str, Any]:
    poll = params.get("poll")
    in_reply_to = params.get("in_reply_to_id")
    quoted = params.get("quoted_status_id")
    return {
        "id": str(sid),
        "scheduled_at": ts(scheduled_at),
        "params": {
            "text": params.get("text") or "",
            "poll": (
                {
                    "options": list(poll["options"]),
                    "expires_in": int(poll["expires_in"]),
                    "multiple": bool(poll.get("multiple")),
                    "hide_totals": bool(poll.get("hide_totals")),
                }
                if poll
                else None
            ),
            "media_ids": list(params.get("media_ids") or []) or None,
            "sensitive": params.get("sensitive"),
            "spoiler_text": params.get("spoiler_text") or None,
            "visibility": params.get("visibility") or "public",
            "in_reply_to_id": str(in_reply_to) if in_reply_to else None,
            "language": params.get("language"),
            "application_id": params.get("application_id"),
            "scheduled_at": None,
            "idempotency": params.get("idempotency_key"),
            "with_rate_limit": False,
            "quoted_status_id": str(quoted) if quoted else None,
            "quote_approval_policy": (
                "nobody"
                if params.get("visibility") in ("private", "direct")
                else params.get("quote_approval_policy") or "public"
            ),
            "reply_policy": params.get("reply_policy"),
        },
        "media_attachments": [media_json(m, settings) for m in media],
    }


def status_json(
    s: Status, flags: ViewerFlags, settings: Settings, viewer_id: int | None = None
) -> dict[str, Any]:
    reblog = status_json(s.reblog, flags, settings, viewer_id) if s.reblog is not None else None
    out: dict[str, Any] = {
        "id": str(s.id),
        "created_at": ts(s.created_at),
        "in_reply_to_id": str(s.in_reply_to_id) if s.in_reply_to_id else None,
        "in_reply_to_account_id": str(s.in_reply_to_account_id)
        if s.in_reply_to_account_id
        else None,
        "sensitive": s.marked_sensitive,
        "spoiler_text": s.warning_text,
        "visibility": s.visibility.value,
        "language": s.language,
        "uri": s.uri,
        "url": s.url,
        "replies_count": s.replies_count,
        "reblogs_count": s.reblogs_count,
        "favourites_count": s.favourites_count,
        "edited_at": ts(s.edited_at),
        "content": s.content if s.reblog is None else "",
        "reblog": reblog,
        "application": (
            {"name": s.application_name, "website": s.application_website}
            if s.application_name and viewer_id == s.account.id
            else None
        ),
        "account": account_json(s.account, settings),
        "media_attachments": [media_json(m, settings) for m in s.media],
        "mentions": [
            {"id": str(m.account_id), "username": m.username, "url": m.url, "acct": m.acct}
            for m in s.mentions
        ],
        "tags": [_tag(t, settings) for t in s.tags],
        "emojis": [],
        "card": None,
        "poll": poll_json(s.poll, flags, viewer_id, s.account.id) if s.poll else None,
        "quote": quote_json(s, flags, settings, viewer_id) if s.quote else None,
        "quotes_count": s.quotes_count,
        "quote_approval": quote_approval_json(s, viewer_id),
        "reply_policy": s.reply_policy,
        "filtered": filter_results_json(flags.filtered.get(s.id, ())),
        # Parvis extension: the community note shown on the post (a boost: the original's).
        "community_note": community_note_json(
            flags.notes.get(s.reblog.id if s.reblog is not None else s.id), settings
        ),
    }
    if s.restriction is not None:  # Parvis extension: a moderation decision in force
        out["moderation"] = {"restriction": s.restriction, "label": s.restriction_label}
    if viewer_id is not None:
        # A boost mirrors what the viewer did to the boosted status, as in Mastodon.
        proper = s.reblog.id if s.reblog is not None else s.id
        out["favourited"] = proper in flags.favourited
        out["reblogged"] = proper in flags.reblogged
        out["muted"] = proper in flags.muted_threads
        out["bookmarked"] = proper in flags.bookmarked
        if s.account.id == viewer_id:
            out["pinned"] = s.id in flags.pinned
    return out


def community_note_json(note: ShownNote | None, settings: Settings) -> dict[str, Any] | None:
    """The note shown on a post, with the address of its page (its status and why)."""
    if note is None:
        return None
    return {
        "id": str(note.id),
        "summary": note.summary,
        "sources": list(note.sources),
        "url": f"{settings.base_url}/notes/{note.id}",
        "rating_status": note.rating_status,
    }


def relationship_json(r: Relationship) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "following": r.following,
        "showing_reblogs": r.showing_reblogs,
        "notifying": r.notifying,
        "languages": list(r.languages) if r.languages is not None else None,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": r.blocked_by,
        "muting": r.muting,
        "muting_notifications": r.muting_notifications,
        "requested": r.requested,
        "requested_by": r.requested_by,
        "domain_blocking": r.domain_blocking,
        "endorsed": r.endorsed,
        "note": r.note,
    }


def notification_json(
    n: Notification, flags: ViewerFlags, settings: Settings, viewer_id: int
) -> dict[str, Any]:
    return {
        "id": str(n.id),
        "type": n.type,
        "group_key": f"ungrouped-{n.id}",
        "created_at": ts(n.created_at),
        "account": account_json(n.account, settings),
        "status": status_json(n.status, flags, settings, viewer_id) if n.status else None,
        **(
            {"moderation_warning": warning_json(n.warning, n.account, settings)}
            if n.warning is not None
            else {}
        ),
    }


# Mastodon's AccountWarning actions, for the clients that show them; the statement of reasons
# on the web (linked from `text`) says exactly what Parvis did.
_WARNING_ACTIONS = {
    "none": "none",
    "warn": "none",
    "label": "mark_statuses_as_sensitive",
    "label_account": "none",
    "age_restrict": "mark_statuses_as_sensitive",
    "remove": "delete_statuses",
    "suspend": "suspend",
    "terminate": "suspend",
}


def warning_json(w: ModerationWarning, account: Account, settings: Settings) -> dict[str, Any]:
    link = f"{settings.base_url}/decisions/{w.decision_id}"
    return {
        "id": str(w.decision_id),
        "action": _WARNING_ACTIONS.get(w.action, "silence"),
        "text": f"{w.explanation}\n\n{link}".strip(),
        "status_ids": [str(s) for s in w.status_ids] or None,
        "target_account": account_json(account, settings),
        "appeal": {"text": w.appeal_text, "state": w.appeal_state} if w.appeal_state else None,
        "created_at": ts(w.created_at),
    }


# --- conversations, grouped notifications, announcements, trends, suggestions (engineer D) ---


def conversation_json(
    c: conversation_service.Conversation, flags: ViewerFlags, settings: Settings, viewer_id: int
) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "unread": c.unread,
        "accounts": [account_json(a, settings) for a in c.accounts],
        "last_status": status_json(c.last_status, flags, settings, viewer_id),
    }


def notification_group_json(
    g: notification_service.NotificationGroup, page_min_id: int, page_max_id: int
) -> dict[str, Any]:
    latest = g.latest
    return {
        "group_key": g.key,
        "notifications_count": len(g.notifications),
        "type": latest.type,
        "most_recent_notification_id": latest.id,
        "page_min_id": str(page_min_id),
        "page_max_id": str(page_max_id),
        "latest_page_notification_at": ts(latest.created_at),
        "sample_account_ids": [str(i) for i in g.sample_account_ids()],
        "status_id": str(latest.status.id) if latest.status is not None else None,
    }


def partial_account_json(a: Account, settings: Settings) -> dict[str, Any]:
    full = account_json(a, settings)
    keys = ("id", "acct", "locked", "bot", "url", "avatar", "avatar_static")
    return {k: full[k] for k in keys}


def notification_request_json(
    r: notification_service.NotificationRequest,
    flags: ViewerFlags,
    settings: Settings,
    viewer_id: int,
) -> dict[str, Any]:
    return {
        "id": str(r.account.id),
        "created_at": ts(r.first_at),
        "updated_at": ts(r.last_at),
        "notifications_count": str(r.count),
        "account": account_json(r.account, settings),
        "last_status": status_json(r.last_status, flags, settings, viewer_id)
        if r.last_status is not None
        else None,
    }


def announcement_json(a: announcement_service.Announcement, settings: Settings) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "content": a.rendered.html,
        "starts_at": ts(a.starts_at),
        "ends_at": ts(a.ends_at),
        "all_day": a.all_day,
        "published": True,
        "published_at": ts(a.published_at),
        "updated_at": ts(a.updated_at),
        "read": a.read,
        "mentions": [
            {
                "id": str(m.account_id),
                "username": m.username,
                "url": m.url,
                "acct": m.username if m.domain is None else f"{m.username}@{m.domain}",
            }
            for m in a.rendered.mentions
        ],
        "statuses": [],
        "tags": [_tag(normalize_tag(t), settings) for t in a.rendered.tags],
        "emojis": [],
        "reactions": [
            {"name": r.name, "count": r.count, "me": r.me, "url": None, "static_url": None}
            for r in a.reactions
        ],
    }


def tag_history_json(history: list[trend_service.DayUse]) -> list[dict[str, str]]:
    return [
        {"day": str(int(d.day.timestamp())), "uses": str(d.uses), "accounts": str(d.accounts)}
        for d in history
    ]


def trending_tag_json(t: trend_service.TrendingTag, settings: Settings) -> dict[str, Any]:
    return {
        "id": str(t.id),
        **_tag(normalize_tag(t.name), settings),
        "name": t.name,
        "history": tag_history_json(t.history),
        "following": False,
    }


def suggestion_json(s: suggestion_service.Suggestion, settings: Settings) -> dict[str, Any]:
    legacy = "past_interactions" if "friends_of_friends" in s.sources else "global"
    return {
        "source": legacy,
        "sources": list(s.sources),
        "account": account_json(s.account, settings),
        "parvis_reason": {"followed_by": [str(i) for i in s.followed_by]},
    }
