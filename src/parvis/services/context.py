"""What every use case is given: the unit of work, the clock, the settings and a job list.

Jobs a use case wants run are collected in `jobs` and enqueued by the caller only after the
transaction commits, so no job sees uncommitted data (and nothing runs for a rolled-back write).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parvis.config import Settings
from parvis.storage.store import Store

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Work:
    store: Store
    settings: Settings
    clock: Clock = system_clock
    jobs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def now(self) -> datetime:
        return self.clock()

    def later(self, kind: str, **payload: Any) -> None:
        self.jobs.append((kind, payload))
