"""Filters v2 (Mastodon 4.x): keyword and status filters, matched against a status's text.

Pure: filters come in as values, a `Matcher` is compiled once per request and asked about each
status. Keyword matching follows Mastodon: case-insensitive; a `whole_word` keyword is bounded
by word boundaries on the sides where it starts or ends with a word character (so "#tag" or
"c++" still match as whole words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide", "blur")


@dataclass(frozen=True)
class FilterKeyword:
    id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True)
class FilterStatus:
    id: int
    status_id: int


@dataclass(frozen=True)
class Filter:
    id: int
    title: str
    context: tuple[str, ...]
    action: str  # warn | hide | blur
    expires_at: datetime | None
    keywords: tuple[FilterKeyword, ...] = ()
    statuses: tuple[FilterStatus, ...] = ()
    # A filter the server applies for the user (a label choice: "label-automated"), not one of
    # the user's own: its id in the API, in place of `id`.
    key: str = ""

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True)
class FilterMatch:
    """A FilterResult: which filter matched a status, by which keywords and/or status ids."""

    filter: Filter
    keyword_matches: tuple[str, ...] = ()
    status_matches: tuple[int, ...] = ()


def _is_word(char: str) -> bool:  # Ruby's [[:word:]]: letters, marks, digits, connectors
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Pc"


def keyword_pattern(keyword: str, whole_word: bool) -> str:
    escaped = re.escape(keyword)
    if not whole_word or not keyword:
        return escaped
    start = r"\b" if _is_word(keyword[0]) else ""
    end = r"\b" if _is_word(keyword[-1]) else ""
    return f"{start}{escaped}{end}"


@dataclass(frozen=True)
class _Compiled:
    filter: Filter
    regex: re.Pattern[str] | None
    status_ids: frozenset[int]
    keywords: tuple[tuple[FilterKeyword, re.Pattern[str]], ...]


@dataclass(frozen=True)
class Matcher:
    """Active filters of one context, compiled: one combined regex per filter."""

    compiled: tuple[_Compiled, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.compiled)

    def match(self, text: str, status_ids: Iterable[int] = ()) -> list[FilterMatch]:
        """The filters matching this text (a status's searchable text) or these status ids
        (the status itself and, for a boost, the boosted status)."""
        ids = frozenset(status_ids)
        out: list[FilterMatch] = []
        for c in self.compiled:
            words: tuple[str, ...] = ()
            if c.regex is not None and text and c.regex.search(text):
                words = tuple(kw.keyword for kw, rx in c.keywords if rx.search(text))
            hits = tuple(sorted(ids & c.status_ids))
            if words or hits:
                out.append(FilterMatch(c.filter, words, hits))
        return out


def compile_filters(filters: Sequence[Filter], context: str, now: datetime) -> Matcher:
    """The matcher for the filters that apply in `context` and have not expired."""
    compiled: list[_Compiled] = []
    for f in filters:
        if context not in f.context or not f.active(now):
            continue
        keywords = tuple(
            (kw, re.compile(keyword_pattern(kw.keyword, kw.whole_word), re.IGNORECASE))
            for kw in f.keywords
            if kw.keyword
        )
        regex = (
            re.compile("|".join(f"(?:{rx.pattern})" for _, rx in keywords), re.IGNORECASE)
            if keywords
            else None
        )
        status_ids = frozenset(s.status_id for s in f.statuses)
        if regex is None and not status_ids:
            continue
        compiled.append(_Compiled(f, regex, status_ids, keywords))
    return Matcher(tuple(compiled))


def hides(matches: Sequence[FilterMatch]) -> bool:
    return any(m.filter.action == "hide" for m in matches)


def searchable_text(spoiler_text: str, content_text: str, media_descriptions: Iterable[str]) -> str:
    """What keywords are matched against, as in Mastodon: the content warning, the text
    content (HTML already stripped by the caller) and the media descriptions."""
    parts = [spoiler_text, content_text, *media_descriptions]
    return "\n\n".join(p for p in parts if p)
