"""Lists of followed accounts (Mastodon lists), and timeline read markers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

REPLIES_POLICIES = ("followed", "list", "none")
MAX_LISTS = 50  # per account, as Mastodon's default limit
MARKER_TIMELINES = ("home", "notifications")


@dataclass(frozen=True)
class UserList:
    id: int
    account_id: int
    title: str
    replies_policy: str  # followed | list | none
    exclusive: bool


@dataclass(frozen=True)
class Marker:
    timeline: str
    last_read_id: int
    version: int
    updated_at: datetime
