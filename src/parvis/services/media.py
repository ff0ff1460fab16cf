"""Media uploads: every image is re-encoded from its pixels (no EXIF/GPS/XMP survives),
thumbnailed and blurhashed. Small images are processed during the request; large ones in a job
(the API answers 202 and the client polls), as Mastodon does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from parvis.domain.errors import Invalid, InvalidMedia, NotFound
from parvis.domain.ids import new_id
from parvis.domain.models import Media
from parvis.services.context import Work
from parvis.services.imaging import check_accepted, parse_focus, process_image, sniff_mime

SYNC_LIMIT = 4 * 1024 * 1024  # bytes processed inside the request
MAX_DESCRIPTION = 1500


class Files(Protocol):
    def new_key(self, kind: str, extension: str) -> str: ...
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Upload:
    data: bytes
    description: str | None = None
    focus: str | None = None


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise Invalid(f"Validation failed: description: at most {MAX_DESCRIPTION} characters")


def upload(work: Work, files: Files, account_id: int, up: Upload, *, allow_async: bool) -> Media:
    """Accept an upload; raises InvalidMedia (nothing stored) for anything that is not an image."""
    _check_description(up.description)
    focus_x, focus_y = parse_focus(up.focus)
    if not up.data:
        raise InvalidMedia("file is empty")
    if len(up.data) > work.settings.max_upload_bytes:
        raise InvalidMedia(
            f"file is too large: {len(up.data)} bytes, "
            f"the limit is {work.settings.max_upload_bytes}"
        )
    check_accepted(sniff_mime(up.data))  # before anything is stored, even for a later job
    media_id = new_id()
    row = {
        "id": media_id,
        "account_id": account_id,
        "type": "image",
        "description": up.description,
        "focus_x": focus_x,
        "focus_y": focus_y,
        "created_at": work.now(),
    }
    if allow_async and len(up.data) > SYNC_LIMIT:
        key = files.new_key("originals", "bin")
        files.put(key, up.data)
        work.store.media.insert({**row, "state": "pending", "original_key": key})
        work.later("process_media", media_id=media_id)
    else:
        values = processed_values(files, up.data, work.settings.max_upload_bytes)
        work.store.media.insert({**row, **values})
    media = work.store.media.get(media_id)
    assert media is not None
    return media


def processed_values(files: Files, data: bytes, max_bytes: int) -> dict[str, object]:
    image = process_image(data, max_bytes=max_bytes)
    file_key = files.new_key("attachments", image.extension)
    thumb_key = files.new_key("thumbnails", "jpg" if image.thumb_mime == "image/jpeg" else "webp")
    files.put(file_key, image.data)
    files.put(thumb_key, image.thumbnail)
    return {
        "state": "ready",
        "file_key": file_key,
        "thumb_key": thumb_key,
        "mime": image.mime,
        "width": image.width,
        "height": image.height,
        "thumb_width": image.thumb_width,
        "thumb_height": image.thumb_height,
        "file_size": len(image.data),
        "blurhash": image.blurhash,
    }


def process_pending(work: Work, files: Files, media_id: int) -> None:
    """The job behind an async upload: process, or record why it failed."""
    key = work.store.media.original_key(media_id)
    if key is None:
        return
    try:
        values = processed_values(files, files.get(key), work.settings.max_upload_bytes)
    except InvalidMedia as exc:
        values = {"state": "failed", "error": exc.message}
    work.store.media.update(media_id, {**values, "original_key": None})
    files.delete(key)


def own_media(work: Work, account_id: int, media_id: int) -> Media:
    media = work.store.media.get(media_id)
    if media is None or media.account_id != account_id:
        raise NotFound("Record not found")
    return media


def update_media(
    work: Work, account_id: int, media_id: int, description: str | None, focus: str | None
) -> Media:
    media = own_media(work, account_id, media_id)
    if media.status_id is not None:
        raise Invalid("Validation failed: this media is already attached to a post")
    _check_description(description)
    values: dict[str, object] = {}
    if description is not None:
        values["description"] = description
    if focus is not None:
        values["focus_x"], values["focus_y"] = parse_focus(focus)
    if values:
        work.store.media.update(media_id, values)
    return own_media(work, account_id, media_id)
