"""Mastodon JSON shapes, built as plain dicts (encoded with orjson at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from parvis.config import Settings
from parvis.domain.models import Account, Media, Notification, Relationship, Status, ViewerFlags

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
    if a.suspended:
        out["suspended"] = True
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
        "preview_url": _media_url(settings, m.thumb_key) if ready else None,
        "remote_url": m.remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": m.description,
        "blurhash": m.blurhash,
    }


def _tag(name: str, settings: Settings) -> dict[str, Any]:
    return {"name": name, "url": f"{settings.base_url}/tags/{quote(name)}"}


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
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
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
        "poll": None,
        "quote": None,
        "filtered": [],
    }
    if viewer_id is not None:
        out["favourited"] = s.id in flags.favourited
        out["reblogged"] = s.id in flags.reblogged
        out["muted"] = s.id in flags.muted_threads
        out["bookmarked"] = s.id in flags.bookmarked
        if s.account.id == viewer_id:
            out["pinned"] = s.id in flags.pinned
    return out


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
    }
