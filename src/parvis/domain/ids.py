"""Time-ordered 64-bit identifiers, like Mastodon's: milliseconds since the epoch << 16 | sequence.

Ordering ids orders rows by creation time, so timelines page on the primary key alone.
Ids appear as decimal strings in JSON, as Mastodon's do.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def id_for_time(moment: datetime, seq: int = 0) -> int:
    """The smallest id for a moment (used to page by time and to seed historic data)."""
    ms = int(moment.timestamp() * 1000)
    return (ms << 16) | (seq & 0xFFFF)


def new_id(now_ms: int | None = None) -> int:
    """A fresh id; strictly increasing within this process."""
    global _last_ms, _seq
    with _lock:
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        if ms <= _last_ms:
            ms = _last_ms
            _seq += 1
            if _seq > 0xFFFF:
                ms += 1
                _seq = secrets.randbelow(64)
        else:
            _seq = secrets.randbelow(64)
        _last_ms = ms
        return (ms << 16) | _seq


def parse_id(value: object) -> int | None:
    """An id from a path or query parameter; None when it is not a valid id."""
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        n = int(value)
        return n if 0 < n < 2**63 else None
    return None
