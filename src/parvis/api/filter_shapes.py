"""Mastodon JSON for filters v2 (Filter, FilterKeyword, FilterStatus, FilterResult) and v1.

Separate from api.serializers (which renders `filtered` with it) to keep both small."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from parvis.domain.filters import Filter, FilterKeyword, FilterMatch, FilterStatus


def _ts(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def keyword_json(k: FilterKeyword) -> dict[str, Any]:
    return {"id": str(k.id), "keyword": k.keyword, "whole_word": k.whole_word}


def filter_status_json(s: FilterStatus) -> dict[str, Any]:
    return {"id": str(s.id), "status_id": str(s.status_id)}


def filter_json(f: Filter, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f.key or str(f.id),
        "title": f.title,
        "context": list(f.context),
        "expires_at": _ts(f.expires_at),
        "filter_action": f.action,
    }
    if full:
        out["keywords"] = [keyword_json(k) for k in f.keywords]
        out["statuses"] = [filter_status_json(s) for s in f.statuses]
    return out


def filter_results_json(matches: Sequence[FilterMatch]) -> list[dict[str, Any]]:
    return [
        {
            "filter": filter_json(m.filter, full=False),
            "keyword_matches": list(m.keyword_matches) or None,
            "status_matches": [str(i) for i in m.status_matches] or None,
        }
        for m in matches
    ]


def v1_filters_json(filters: Sequence[Filter]) -> list[dict[str, Any]]:
    """The v1 view: one entry per keyword."""
    return [
        {
            "id": str(k.id),
            "phrase": k.keyword,
            "context": list(f.context),
            "whole_word": k.whole_word,
            "expires_at": _ts(f.expires_at),
            "irreversible": f.action == "hide",
        }
        for f in filters
        for k in f.keywords
    ]
