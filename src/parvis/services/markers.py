"""Timeline read markers (home, notifications): where a client's reader stopped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from parvis.domain.errors import Invalid
from parvis.domain.lists import MARKER_TIMELINES, Marker
from parvis.services.context import Work


def get(work: Work, account_id: int, timelines: Sequence[str]) -> dict[str, Marker]:
    wanted = [t for t in dict.fromkeys(timelines) if t in MARKER_TIMELINES]
    return work.store.markers.get(account_id, wanted)


def save(work: Work, account_id: int, positions: Mapping[str, int]) -> dict[str, Marker]:
    unknown = [t for t in positions if t not in MARKER_TIMELINES]
    if unknown:
        raise Invalid(f"Validation failed: unknown timeline {unknown[0]!r} (home, notifications)")
    for timeline, last_read_id in positions.items():
        work.store.markers.set(account_id, timeline, last_read_id, work.now())
    return work.store.markers.get(account_id, list(positions))
