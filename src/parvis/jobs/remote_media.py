"""Remote media, in the background (services/remote_media.py).

`cache_remote_media` (asked for once per attachment when a remote post is stored or edited,
and for an avatar or header when a remote actor is stored) downloads one file without a
transaction open, processes it like a local upload and marks the row cached. A transient
network failure raises, so the queue retries it (`RETRIES`, then the row stays a remote link);
anything else is recorded on the row. `drop_media_files` deletes the cached files a row
stopped referring to (an edited post's old attachments, a replaced avatar), once the change
committed.
"""

from __future__ import annotations

from typing import Any

from parvis.services import remote_media
from parvis.services.remote_media import MediaNetwork


def cache_remote_media(runtime: MediaNetwork, media_id: int) -> str:
    return remote_media.cache(runtime, media_id)


def drop_media_files(runtime: MediaNetwork, keys: list[str]) -> int:
    return remote_media.drop_files(runtime.files, keys)


JOBS: dict[str, Any] = {}
OUTBOUND: dict[str, Any] = {
    "cache_remote_media": cache_remote_media,
    "drop_media_files": drop_media_files,
}
RETRIES: dict[str, int] = {"cache_remote_media": 3, "drop_media_files": 1}
