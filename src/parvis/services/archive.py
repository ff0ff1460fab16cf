"""The ActivityStreams archive of one's account, and its import on another server.

Export (part of the ZIP of `services/export.py`, laid out as Mastodon's archive is):
`actor.json` (the Person, with its aliases and where it moved), `outbox.json` (an
OrderedCollection of the account's Create activities, oldest first, and Announce for boosts)
and the media files under `media/` (attachments, avatar, header), which the documents point to
by their path inside the archive.

Import (`import_archive`): each Create of a Note (or Question, Article, Page) becomes a new local
post of the importing account, dated with its original `published` (its id is made from that
moment, so it takes its place in time in every timeline), with its text, content warning,
language, hashtags and the media found in the archive; a reply to another post of the archive
stays a reply to it. Imported posts are marked (an idempotency key `archive:<original id>`), so
importing the same archive again re-creates nothing. They are not fanned out, notified or sent
to other servers: they are history, not news. Boosts and direct messages are not imported (the
boosted post and the people addressed are not carried over); mentions stay in the text, not
as links to accounts of this server, which may be other people.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from parvis.domain.content import html_to_text, normalize_tag, render_plain_text, sanitize_html
from parvis.domain.errors import Invalid, InvalidMedia
from parvis.domain.ids import id_for_time
from parvis.domain.models import Account, Media, Status
from parvis.domain.visibility import Visibility
from parvis.services import media as media_service
from parvis.services.context import Work
from parvis.services.media import Files
from parvis.services.mentions import tag_url
from parvis.services.migration import moved_to, portability

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS_CONTEXT + "#Public"
PUBLIC_FORMS = {PUBLIC, "as:Public", "Public"}
NOTE_TYPES = {"Note", "Question", "Article", "Page"}
MEDIA_PREFIX = "media/"

MAX_ARCHIVE_BYTES = 4 * 1024**3  # uncompressed, all members together
MAX_OUTBOX_BYTES = 256 * 1024**2
MAX_MEMBERS = 200_000
MAX_POSTS = 20_000  # re-created per import; import again for the rest
MAX_TEXT = 100_000
KEY_PREFIX = "archive:"
EPOCH = datetime(1970, 1, 2, tzinfo=UTC)  # ids are made from the moment: it must be after this

SKIP_REASONS = {
    "boost": "boosts are not imported",
    "direct": "direct messages are not imported",
    "unsupported": "not a post",
    "invalid": "incomplete or malformed post",
    "too_long": "the post is too long",
    "later": "over this import's limit: import the archive again for the rest",
}


# -- export ------------------------------------------------------------------------------


def media_path(key: str) -> str:
    return MEDIA_PREFIX + key


def _iso(moment: datetime) -> str:
    """xsd:dateTime in UTC, to the millisecond (posts of one second keep their order)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def actor_json(work: Work, account: Account) -> dict[str, Any]:
    """The Person (or Service, for bots) as the archive holds it; no keys."""
    base = work.settings.base_url
    store = portability(work)
    doc: dict[str, Any] = {
        "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
        "id": account.uri,
        "type": "Service" if account.bot else "Person",
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.note_html,
        "url": account.url,
        "published": _iso(account.created_at),
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "inbox": f"{account.uri}/inbox",
        "outbox": "outbox.json",
        "followers": f"{account.uri}/followers",
        "following": f"{account.uri}/following",
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "attachment": [
            {"type": "PropertyValue", "name": f.name, "value": f.value_html or f.value}
            for f in account.fields
        ],
        "alsoKnownAs": [a.uri for a in store.aliases(account.id)],
    }
    target = moved_to(work, account.id)
    if target is not None:
        doc["movedTo"] = target.uri
    for slot, media_id in (("icon", account.avatar_media_id), ("image", account.header_media_id)):
        found = work.store.media.get(media_id) if media_id else None
        if found is not None and found.file_key:
            doc[slot] = {
                "type": "Image",
                "mediaType": found.mime,
                "url": media_path(found.file_key),
            }
    return doc


def _audience(status: Status, actor_uri: str) -> tuple[list[str], list[str]]:
    followers = f"{actor_uri}/followers"
    mentioned = [m.url for m in status.mentions]
    if status.visibility is Visibility.PUBLIC:
        return [PUBLIC], [followers, *mentioned]
    if status.visibility is Visibility.UNLISTED:
        return [followers], [PUBLIC, *mentioned]
    if status.visibility is Visibility.PRIVATE:
        return [followers], mentioned
    return mentioned, []


def _attachment(m: Media, with_files: bool, base: str) -> dict[str, Any]:
    url = m.remote_url or ""
    if m.file_key:
        url = media_path(m.file_key) if with_files else f"{base}/media/{m.file_key}"
    doc: dict[str, Any] = {
        "type": "Document",
        "mediaType": m.mime,
        "url": url,
        "name": m.description,
        "blurhash": m.blurhash,
        "focalPoint": [m.focus_x, m.focus_y],
    }
    if m.width and m.height:
        doc["width"], doc["height"] = m.width, m.height
    return doc


def note_json(
    status: Status, actor_uri: str, parent_uri: str | None, *, base: str, with_files: bool
) -> dict[str, Any]:
    to, cc = _audience(status, actor_uri)
    note: dict[str, Any] = {
        "id": status.uri,
        "type": "Question" if status.poll else "Note",
        "summary": status.spoiler_text or None,
        "inReplyTo": parent_uri,
        "published": _iso(status.created_at),
        "url": status.url,
        "attributedTo": actor_uri,
        "to": to,
        "cc": cc,
        "sensitive": status.sensitive,
        "content": status.content,
        "source": {"content": status.text, "mediaType": "text/plain"},
        "attachment": [_attachment(m, with_files, base) for m in status.media],
        "tag": [
            {"type": "Hashtag", "href": f"{base}/tags/{t}", "name": f"#{t}"} for t in status.tags
        ]
        + [{"type": "Mention", "href": m.url, "name": f"@{m.acct}"} for m in status.mentions],
    }
    if status.language:
        note["contentMap"] = {status.language: status.content}
    if status.edited_at:
        note["updated"] = _iso(status.edited_at)
    if status.poll:
        choices = "anyOf" if status.poll.multiple else "oneOf"
        note[choices] = [
            {"type": "Note", "name": name, "replies": {"type": "Collection", "totalItems": n}}
            for name, n in zip(status.poll.options, status.poll.votes, strict=False)
        ]
        note["endTime"] = _iso(status.poll.expires_at)
    return note


def outbox_json(
    work: Work, account: Account, statuses: list[Status], *, with_files: bool
) -> dict[str, Any]:
    """The account's posts as an OrderedCollection of activities, oldest first."""
    base = work.settings.base_url
    ordered = sorted(statuses, key=lambda s: s.id)
    parent_ids = [s.in_reply_to_id for s in ordered if s.in_reply_to_id]
    parents = {i: s.uri for i, s in work.store.statuses.load(parent_ids).items()}
    items: list[dict[str, Any]] = []
    for status in ordered:
        to, cc = _audience(status, account.uri)
        if status.reblog is not None:
            items.append(
                {
                    "id": status.uri,
                    "type": "Announce",
                    "actor": account.uri,
                    "published": _iso(status.created_at),
                    "to": to,
                    "cc": cc,
                    "object": status.reblog.uri,
                }
            )
            continue
        parent = parents.get(status.in_reply_to_id) if status.in_reply_to_id else None
        note = note_json(status, account.uri, parent, base=base, with_files=with_files)
        items.append(
            {
                "id": f"{status.uri}/activity",
                "type": "Create",
                "actor": account.uri,
                "published": note["published"],
                "to": to,
                "cc": cc,
                "object": note,
            }
        )
    return {
        "@context": AS_CONTEXT,
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


def media_keys(account: Account, statuses: Iterable[Status]) -> list[str]:
    """The files the archive carries: avatar, header, and the posts' attachments."""
    keys = [k for k in (account.avatar_key, account.header_key) if k]
    for status in statuses:
        if status.reblog is None:
            keys += [m.file_key for m in status.media if m.file_key]
    return list(dict.fromkeys(keys))


def write(
    work: Work,
    archive: zipfile.ZipFile,
    account: Account,
    statuses: list[Status],
    files: Files | None,
) -> None:
    """Add actor.json, outbox.json and (with `files`) the media files to an export."""
    dump = orjson.OPT_INDENT_2
    archive.writestr("actor.json", orjson.dumps(actor_json(work, account), option=dump))
    outbox = outbox_json(work, account, statuses, with_files=files is not None)
    archive.writestr("outbox.json", orjson.dumps(outbox, option=dump))
    if files is None:
        return
    for key in media_keys(account, statuses):
        try:
            blob = files.get(key)
        except (OSError, ValueError):  # a file lost on disk: the archive goes on without it
            continue
        archive.writestr(media_path(key), blob, compress_type=zipfile.ZIP_STORED)


# -- import ------------------------------------------------------------------------------


@dataclass
class ArchiveReport:
    posts: int = 0  # re-created
    media: int = 0  # attachments re-created
    already: int = 0  # imported before
    media_missing: int = 0  # attachments not in the archive, or not images we accept
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> how many

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class _Archive:
    """The members of an uploaded ZIP, read with limits (a ZIP bomb is refused)."""

    def __init__(self, source: bytes | IO[bytes]) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
            raise Invalid("Validation failed: file: this is not a ZIP archive") from None
        if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_ARCHIVE_BYTES:
            raise Invalid("Validation failed: file: the archive is too large")
        self.sizes = {i.filename: i.file_size for i in infos if not i.is_dir()}

    def read(self, name: str, limit: int) -> bytes | None:
        size = self.sizes.get(name)
        if size is None or size > limit:
            return None
        try:
            with self.zip.open(name) as member:
                data = member.read(limit + 1)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, zlib.error):
            return None
        except RuntimeError:  # encrypted
            return None
        return data if len(data) <= limit else None


def _outbox(archive: _Archive) -> list[dict[str, Any]]:
    raw = archive.read("outbox.json", MAX_OUTBOX_BYTES)
    if raw is None:
        raise Invalid("Validation failed: file: the archive has no outbox.json, or it is too large")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Invalid("Validation failed: file: outbox.json is not JSON") from None
    items = doc.get("orderedItems", doc.get("items")) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise Invalid("Validation failed: file: outbox.json is not an ActivityStreams collection")
    return [i for i in items if isinstance(i, dict)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [
            v if isinstance(v, str) else str(v.get("id", ""))
            for v in value
            if isinstance(v, str | dict)
        ]
    if isinstance(value, dict):
        return [str(value.get("id", ""))]
    return []


def _visibility(note: dict[str, Any], activity: dict[str, Any]) -> Visibility:
    to = _strings(note.get("to", activity.get("to")))
    cc = _strings(note.get("cc", activity.get("cc")))
    if PUBLIC_FORMS & set(to):
        return Visibility.PUBLIC
    if PUBLIC_FORMS & set(cc):
        return Visibility.UNLISTED
    if any(x.endswith("/followers") for x in to + cc):
        return Visibility.PRIVATE
    return Visibility.DIRECT


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _language(note: dict[str, Any]) -> str | None:
    found = note.get("contentMap")
    if isinstance(found, dict):
        for key in found:
            if isinstance(key, str) and _LANGUAGE.match(key.lower()):
                return key.lower()
    return None


def _uri(value: Any) -> str | None:
    """An identifier as the database can keep it (no control characters, bounded)."""
    if not isinstance(value, str) or not value or len(value) > 2048:
        return None
    return None if any(ord(c) < 32 for c in value) else value


def _key(uri: str) -> str:
    if len(uri) <= 255 - len(KEY_PREFIX):
        return KEY_PREFIX + uri
    return KEY_PREFIX + "sha256:" + hashlib.sha256(uri.encode()).hexdigest()


def _no_mentions(_username: str, _domain: str | None) -> None:
    return None  # the archive's @names may be other people here: they stay plain text


def _text_and_html(work: Work, note: dict[str, Any]) -> tuple[str, str] | None:
    """The post's text and HTML: rendered here from its plain-text source when the archive has
    it (Parvis, Pleroma), else the archive's HTML, sanitized (Mastodon)."""
    content = note.get("content")
    content = content if isinstance(content, str) else ""
    source = note.get("source")
    if (
        isinstance(source, dict)
        and isinstance(source.get("content"), str)
        and source.get("mediaType", "text/plain") == "text/plain"
    ):
        text = source["content"]
        html = render_plain_text(text, _no_mentions, tag_url=tag_url(work.settings)).html
    else:
        text = html_to_text(content) if content else ""
        html = sanitize_html(content) if content else ""
    if not text.strip() and not note.get("attachment"):
        return None
    return text, html


def import_archive(
    work: Work, files: Files, account_id: int, source: bytes | IO[bytes]
) -> ArchiveReport:
    """Re-create the posts of an archive (this server's export, or Mastodon's) as posts of the
    account, in the caller's unit of work."""
    account = work.store.accounts.get(account_id)
    if account is None or not account.local:
        raise Invalid("Validation failed: account: not an account of this server")
    archive = _Archive(source)
    items = _outbox(archive)
    report = ArchiveReport()
    store = portability(work)
    creates: list[tuple[datetime, dict[str, Any], dict[str, Any]]] = []
    for activity in items:
        kind = activity.get("type")
        note = activity.get("object")
        if kind == "Announce":
            report.skip("boost")
        elif kind != "Create" or not isinstance(note, dict) or note.get("type") not in NOTE_TYPES:
            report.skip("unsupported")
        else:
            moment = _moment(note.get("published", activity.get("published")))
            if moment is None or not _uri(note.get("id")) or not EPOCH < moment <= work.now():
                report.skip("invalid")
            else:
                creates.append((moment, activity, note))
    creates.sort(key=lambda c: c[0])
    made: dict[str, int] = {}
    newest: datetime | None = None
    for moment, activity, note in creates:
        original = str(note["id"])
        key = _key(original)
        done = store.imported(account_id, key)
        if done is not None:
            made[original] = done
            report.already += 1
            continue
        if _visibility(note, activity) is Visibility.DIRECT:
            report.skip("direct")
            continue
        if report.posts >= MAX_POSTS:
            report.skip("later")
            continue
        status_id = _create(work, files, account, archive, note, moment, made, report)
        if status_id is None:
            continue
        store.mark_imported(account_id, key, status_id, work.now())
        made[original] = status_id
        report.posts += 1
        newest = moment if newest is None or moment > newest else newest
    if report.posts:
        work.store.accounts.adjust_counts(account_id, statuses_count=report.posts)
        if newest is not None and (
            account.last_status_at is None or newest > account.last_status_at
        ):
            work.store.accounts.touch_last_status(account_id, newest)
    return report


def _new_status_id(work: Work, moment: datetime) -> int:
    store = portability(work)
    while True:
        candidate = id_for_time(moment, secrets.randbelow(0x10000))
        if store.status_id_free(candidate):
            return candidate


def _create(
    work: Work,
    files: Files,
    account: Account,
    archive: _Archive,
    note: dict[str, Any],
    moment: datetime,
    made: dict[str, int],
    report: ArchiveReport,
) -> int | None:
    found = _text_and_html(work, note)
    if found is None:
        report.skip("invalid")
        return None
    text, html = found
    if len(text) > MAX_TEXT or len(html) > 5 * MAX_TEXT:
        report.skip("too_long")
        return None
    summary = note.get("summary")
    spoiler = html_to_text(summary)[:1000] if isinstance(summary, str) else ""
    visibility = _visibility(note, {})
    language = _language(note)
    store = work.store
    status_id = _new_status_id(work, moment)
    base = work.settings.base_url
    parent_uri = _uri(note.get("inReplyTo"))
    parent_id = made.get(parent_uri) if parent_uri else None
    root_id = None
    if parent_id is not None:
        found_parent = store.statuses.parent_and_root(parent_id)
        root_id = (found_parent[1] if found_parent else None) or parent_id
    media_ids = _media(work, files, account.id, archive, note.get("attachment"), report)
    store.statuses.insert(
        {
            "id": status_id,
            "account_id": account.id,
            "uri": f"{base}/users/{account.username}/statuses/{status_id}",
            "url": f"{base}/@{account.username}/{status_id}",
            "local": True,
            "in_reply_to_id": parent_id,
            "in_reply_to_account_id": account.id if parent_id is not None else None,
            "in_reply_to_uri": parent_uri if parent_id is None else None,
            "thread_root_id": root_id,
            "text": text,
            "content": html,
            "spoiler_text": spoiler,
            "sensitive": bool(note.get("sensitive")) or bool(spoiler),
            "visibility": visibility.value,
            "language": language,
            "created_at": moment,
            "reply_policy": "everyone",
            "quote_policy": "public"
            if visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
            else "nobody",
        }
    )
    if parent_id is not None:
        store.statuses.adjust_counts(parent_id, replies_count=1)
    store.search.index_status(status_id, f"{spoiler}\n{text}", language, account.id)
    found_tags = note.get("tag")
    tags = [
        t["name"].lstrip("#")
        for t in (found_tags if isinstance(found_tags, list) else [])
        if isinstance(t, dict)
        and t.get("type") == "Hashtag"
        and isinstance(t.get("name"), str)
        and len(t["name"]) <= 101
    ]
    pairs = [(normalize_tag(t), t) for t in tags if t and normalize_tag(t)]
    store.statuses.add_tags(status_id, store.statuses.tag_ids(list(dict.fromkeys(pairs)), moment))
    store.statuses.attach_media(status_id, media_ids)
    return status_id


def _media(
    work: Work, files: Files, account_id: int, archive: _Archive, found: Any, report: ArchiveReport
) -> list[int]:
    attachments = found if isinstance(found, list) else [found] if isinstance(found, dict) else []
    ids: list[int] = []
    for item in attachments[: work.settings.max_media_attachments]:
        if not isinstance(item, dict):
            continue
        url = item.get("url")
        if isinstance(url, dict):  # a Link
            url = url.get("href")
        blob = (
            archive.read(url.lstrip("/"), work.settings.max_upload_bytes)
            if isinstance(url, str)
            else None
        )
        if blob is None:
            report.media_missing += 1
            continue
        name = item.get("name")
        description = name[: media_service.MAX_DESCRIPTION] if isinstance(name, str) else None
        try:
            up = media_service.upload(
                work,
                files,
                account_id,
                media_service.Upload(data=blob, description=description),
                allow_async=False,
            )
        except InvalidMedia:
            report.media_missing += 1
            continue
        ids.append(up.id)
        report.media += 1
    return ids
