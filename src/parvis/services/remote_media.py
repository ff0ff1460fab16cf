"""Remote media, cached here: the attachments of remote posts and the avatars and headers of
remote accounts are downloaded (through the SSRF-guarded client, at most
`federation_max_media` bytes) and go through the very pipeline local uploads go through
(services/media.py: re-encoded from their pixels, so no EXIF, GPS or XMP survives; thumbnail;
blurhash); this server then serves them. Until then, or when that fails, an attachment keeps
its `remote_url` and the API links to it; an account shows the default avatar.

Only images are cached, as only images are accepted locally: video, gifv and audio stay
links to their server ("unknown" files are tried, and kept as images when they are one).
An animated GIF becomes a still of its first frame, as a local upload does. Nothing is
downloaded for an account of, or from a host on, a domain the operator suspended or rejects
media from. A failed download leaves the row as it was, the reason in `error`; the queue
retries a transient failure a few times (jobs/remote_media.py).

Downloads happen outside any transaction (`MediaNetwork.read`/`write` units around them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from parvis.config import Settings
from parvis.domain.activitypub import parse
from parvis.domain.errors import InvalidMedia
from parvis.domain.ids import new_id
from parvis.domain.models import Account, Media
from parvis.services import domain_policy, media
from parvis.services.context import Work
from parvis.services.fetching import FetchError, Http
from parvis.services.media import Files

T = TypeVar("T")

CACHED_TYPES = frozenset({"image", "unknown"})
SLOTS = ("avatar_media_id", "header_media_id")
MAX_ERROR = 500

# What a row forgets of its cached file when its remote URL changes.
_UNCACHED: dict[str, object] = {
    "file_key": None,
    "thumb_key": None,
    "mime": None,
    "width": None,
    "height": None,
    "thumb_width": None,
    "thumb_height": None,
    "file_size": None,
    "blurhash": None,
    "error": None,
}


class MediaNetwork(Protocol):
    """What caching needs of the runtime (parvis.jobs.runtime.Runtime fits)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def http(self) -> Http | None: ...

    @property
    def files(self) -> Files: ...

    def read(self, use_case: Callable[[Work], T]) -> T: ...

    def write(self, use_case: Callable[[Work], T]) -> T: ...


def wanted(m: Media) -> bool:
    """A remote file of a kind we cache, not cached yet."""
    return m.remote_url is not None and m.file_key is None and m.type in CACHED_TYPES


def cache_later(work: Work, attachments: Iterable[Media]) -> int:
    """Ask (after the commit) for the download of each attachment not cached yet; how many."""
    asked = 0
    for m in attachments:
        if wanted(m):
            work.later("cache_remote_media", media_id=m.id)
            asked += 1
    return asked


def forget_files(work: Work, attachments: Iterable[Media]) -> None:
    """Delete the cached files of these rows once the transaction commits."""
    keys = [key for m in attachments for key in (m.file_key, m.thumb_key) if key]
    if keys:
        work.later("drop_media_files", keys=keys)


def _rejected(work: Work, host: str | None) -> str | None:
    """The blocked domain when media from `host` may not be downloaded."""
    if not host:
        return None
    policy = domain_policy.policy_for(work, host)
    if policy.reject_media or policy.suspended:
        return policy.domain or host
    return None


# --- avatars and headers ------------------------------------------------------------------


def profile_images(
    work: Work, account_id: int, avatar_url: str | None, header_url: str | None
) -> None:
    """A remote actor was stored: its avatar and header become (or stay) media rows that
    `avatar_media_id`/`header_media_id` point to, as for a local account; a new or changed
    image is downloaded after the commit, a removed one (or any, when the operator rejects
    media from the domain) is dropped."""
    account = work.store.accounts.get(account_id)
    if account is None or account.local:
        return
    refuse = _rejected(work, account.domain) is not None
    for slot, url in zip(SLOTS, (avatar_url, header_url), strict=True):
        _profile_image(work, account, slot, None if refuse else url)


def _profile_image(work: Work, account: Account, slot: str, url: str | None) -> None:
    current_id: int | None = getattr(account, slot)
    current = work.store.media.get(current_id) if current_id is not None else None
    ours = current if current is not None and current.remote_url is not None else None
    if url is None:
        if current_id is not None:
            work.store.accounts.update(account.id, {slot: None})
        if ours is not None:
            work.store.media.update(ours.id, _UNCACHED)
            forget_files(work, [ours])
        return
    if ours is not None and ours.remote_url == url:
        cache_later(work, [ours])  # not cached yet (an earlier failure): tried again
        return
    if ours is not None:
        work.store.media.update(ours.id, {**_UNCACHED, "remote_url": url})
        forget_files(work, [ours])
        media_id = ours.id
    else:
        media_id = new_id()
        work.store.media.insert(
            {
                "id": media_id,
                "account_id": account.id,
                "type": "image",
                "state": "ready",
                "remote_url": url,
                "created_at": work.now(),
            }
        )
        work.store.accounts.update(account.id, {slot: media_id})
    work.later("cache_remote_media", media_id=media_id)


# --- the download -------------------------------------------------------------------------


def _source(work: Work, media_id: int) -> tuple[str | None, str]:
    """(the URL to download, "") or (None, why not)."""
    m = work.store.media.get(media_id)
    if m is None:
        return None, "skipped: no such attachment"
    if not wanted(m) or m.remote_url is None:
        return None, "skipped: nothing to download"
    account = work.store.accounts.get(m.account_id)
    if account is None or account.suspended:
        return None, "skipped: the account is suspended"
    for host in (account.domain, parse.host_of(m.remote_url)):
        blocked = _rejected(work, host)
        if blocked is not None:
            return None, f"skipped: media from {blocked} are rejected"
    return m.remote_url, ""


def _note(work: Work, media_id: int, url: str, error: str) -> None:
    m = work.store.media.get(media_id)
    if m is not None and m.remote_url == url and m.file_key is None:
        work.store.media.update(media_id, {"error": error[:MAX_ERROR]})


def _keep(work: Work, media_id: int, url: str, values: dict[str, object]) -> bool:
    """Record the cached file, unless the row changed or went away meanwhile."""
    m = work.store.media.get(media_id)
    if m is None or m.remote_url != url or m.file_key is not None:
        return False
    work.store.media.update(media_id, {**values, "type": "image", "error": None})
    return True


def cache(net: MediaNetwork, media_id: int) -> str:
    """Download one remote image and store it processed; what happened, in words. Raises
    FetchError only for a transient failure the queue can retry (never with the inline queue
    of `jobs_immediate`, which cannot)."""
    found, why = net.read(lambda work: _source(work, media_id))
    if found is None:
        return why
    url: str = found
    settings = net.settings
    if net.http is None:
        return "skipped: federation is offline here (no HTTP client)"
    try:
        data, declared = net.http.get_bytes(url, max_bytes=settings.federation_max_media)
    except FetchError as exc:
        error = f"download: {exc}"
        net.write(lambda work: _note(work, media_id, url, error))
        if exc.permanent or settings.jobs_immediate:
            return f"failed: {exc}"
        raise
    try:
        # The upload pipeline itself (services/media.py): re-encoded from pixels, files put.
        values = media.processed_values(net.files, data, settings.federation_max_media)
    except InvalidMedia as exc:
        reason = f"{exc.message} (sent as {declared or 'no Content-Type'})"
        net.write(lambda work: _note(work, media_id, url, reason))
        return f"refused: {reason}"
    if not net.write(lambda work: _keep(work, media_id, url, values)):
        for key in (values["file_key"], values["thumb_key"]):
            net.files.delete(str(key))
        return "dropped: the attachment changed meanwhile"
    return "cached"


def drop_files(files: Files, keys: Iterable[str]) -> int:
    """Delete cached files no row refers to any more; how many keys."""
    count = 0
    for key in keys:
        files.delete(key)
        count += 1
    return count
