"""The label detection run (services/label_detection.py), hourly: it gets the runtime, reads
the recent posts in one read-only unit of work, computes with no transaction open (SQLite's one
writer is never held while MinHash runs), and records the signals in one short write."""

from __future__ import annotations

from typing import Any

from parvis.services import label_detection
from parvis.services.label_detection import Run, Units


def detect_labels(runtime: Units) -> Run:
    return label_detection.detect(runtime)


JOBS: dict[str, Any] = {}
OUTBOUND: dict[str, Any] = {"detect_labels": detect_labels}
RETRIES: dict[str, int] = {"detect_labels": 0}
