"""Fixed-window counters for rate limits: in memory (one process) or in Redis (INCR + EXPIRE,
shared by every process behind the proxy)."""

from __future__ import annotations

import threading
from typing import Protocol

import redis


class Counters(Protocol):
    def hit(self, key: str, window: int, period: int) -> int:
        """Count one more hit for `key` in window number `window` (of `period` seconds) and
        return the window's total."""
        ...


class MemoryCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}
        self._oldest: dict[int, int] = {}  # period -> the oldest live window seen

    def hit(self, key: str, window: int, period: int) -> int:
        with self._lock:
            if self._oldest.get(period, window) < window:
                # A new window began: drop the finished ones of this period.
                self._counts = {
                    (k, w): n
                    for (k, w), n in self._counts.items()
                    if w >= window or not k.startswith(f"{period}:")
                }
            self._oldest[period] = window
            slot = (f"{period}:{key}", window)
            count = self._counts.get(slot, 0) + 1
            self._counts[slot] = count
            return count


class RedisCounters:
    def __init__(self, client: redis.Redis, prefix: str = "parvis:rl:") -> None:
        self.client = client
        self.prefix = prefix

    def hit(self, key: str, window: int, period: int) -> int:
        name = f"{self.prefix}{period}:{window}:{key}"
        with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(name)
            pipe.expire(name, period + 5)
            count, _ = pipe.execute()
        return int(count)
