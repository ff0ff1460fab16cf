"""What every use case is given: the unit of work, the clock, the settings and a job list.

Jobs a use case wants run are collected in `jobs` and enqueued by the caller only after the
transaction commits, so no job sees uncommitted data (and nothing runs for a rolled-back write).
Streaming events are collected the same way (`emit`, `emit_status`) and published only after
the commit (see `Runtime.write`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parvis.config import Settings
from parvis.domain.models import ShownNote, Status
from parvis.storage.store import Store

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StreamEvent:
    """An event for the streaming API, published after the commit.

    `channels` are broker channel names (see services/streaming.py); `payload` is a Status, a
    Notification or a plain string, rendered once by the publisher (for `viewer_id` when set);
    `accounts` are the ids a receiver's blocks and mutes are checked against.
    """

    channels: tuple[str, ...]
    event: str
    payload: Any
    accounts: frozenset[int] = frozenset()
    viewer_id: int | None = None
    # The community notes shown on a status payload (and on its boosted or quoted post): the
    # same for every reader, read before the commit (parvis.services.notes.shown_notes).
    notes: Mapping[int, ShownNote] = field(default_factory=dict)


@dataclass
class Work:
    store: Store
    settings: Settings
    clock: Clock = system_clock
    jobs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    events: list[StreamEvent] = field(default_factory=list)
    # Statuses whose whole audience must hear of a change ("delete", "status.update"): the
    # channels are resolved at the end of the use case, inside its transaction.
    status_events: list[tuple[str, Status]] = field(default_factory=list)

    def now(self) -> datetime:
        return self.clock()

    def later(self, kind: str, **payload: Any) -> None:
        self.jobs.append((kind, payload))

    def emit(
        self,
        channels: Iterable[str],
        event: str,
        payload: Any,
        *,
        accounts: Iterable[int] = (),
        viewer_id: int | None = None,
        notes: Mapping[int, ShownNote] | None = None,
    ) -> None:
        """Publish `event` on these channels once the transaction commits."""
        chans = tuple(channels)
        if chans:
            self.events.append(
                StreamEvent(chans, event, payload, frozenset(accounts), viewer_id, notes or {})
            )

    def emit_status(self, event: str, status: Status) -> None:
        """Tell every stream that may show `status` ("delete" or "status.update")."""
        self.status_events.append((event, status))
