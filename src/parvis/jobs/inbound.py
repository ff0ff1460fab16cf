"""(being written)"""

from __future__ import annotations

from typing import Any

JOBS: dict[str, Any] = {}
OUTBOUND: dict[str, Any] = {}
RETRIES: dict[str, int] = {}
