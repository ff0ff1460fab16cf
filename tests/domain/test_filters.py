"""The filters v2 matcher: Mastodon's keyword rules (case-insensitive, whole words bounded only
on word-character edges), contexts, expiry and status filters; with property tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from parvis.domain.filters import (
    Filter,
    FilterKeyword,
    FilterStatus,
    compile_filters,
    hides,
    keyword_pattern,
    searchable_text,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make(
    *keywords: tuple[str, bool],
    context: tuple[str, ...] = ("home",),
    action: str = "warn",
    expires_at: datetime | None = None,
    statuses: tuple[int, ...] = (),
) -> Filter:
    return Filter(
        id=1,
        title="t",
        context=context,
        action=action,
        expires_at=expires_at,
        keywords=tuple(FilterKeyword(i, k, w) for i, (k, w) in enumerate(keywords)),
        statuses=tuple(FilterStatus(i, s) for i, s in enumerate(statuses)),
    )


def words(text: str, *keywords: tuple[str, bool]) -> list[str]:
    matcher = compile_filters([make(*keywords)], "home", NOW)
    found = matcher.match(text)
    return list(found[0].keyword_matches) if found else []


def test_whole_word_and_substring() -> None:
    assert words("I read Dune today", ("dune", True)) == ["dune"]
    assert words("Dunes of sand", ("dune", True)) == []
    assert words("Dunes of sand", ("dune", False)) == ["dune"]
    assert words("DUNE!", ("dune", True)) == ["dune"]
    assert words("dune_fan", ("dune", True)) == []  # _ is a word character


def test_keywords_with_non_word_edges() -> None:
    # "#tag" starts with a non-word character: no boundary is asked before it.
    assert words("love #Rust", ("#rust", True)) == ["#rust"]
    assert words("love #Rustacean", ("#rust", True)) == []
    assert words("I write c++ daily", ("c++", True)) == ["c++"]
    assert words("café au lait", ("café", True)) == ["café"]
    assert words("cafés", ("café", True)) == []


def test_context_expiry_and_status_matches() -> None:
    f = make(("cats", False), context=("public",))
    assert not compile_filters([f], "home", NOW)
    assert compile_filters([f], "public", NOW)
    expired = make(("cats", False), expires_at=NOW - timedelta(seconds=1))
    assert not compile_filters([expired], "home", NOW)
    later = make(("cats", False), expires_at=NOW + timedelta(seconds=1))
    assert compile_filters([later], "home", NOW)
    by_status = make(statuses=(42,), action="hide")
    matcher = compile_filters([by_status], "home", NOW)
    assert matcher.match("anything", [7]) == []
    (hit,) = matcher.match("anything", [7, 42])
    assert hit.status_matches == (42,) and hit.keyword_matches == ()
    assert hides([hit])


def test_searchable_text_joins_parts() -> None:
    assert searchable_text("cw", "body", ["alt one", ""]) == "cw\n\nbody\n\nalt one"
    assert words(searchable_text("", "body", ["a photo of a Cat"]), ("cat", True)) == ["cat"]


@given(st.text(max_size=20), st.text(max_size=60), st.booleans())
def test_a_keyword_never_crashes_and_substring_agrees(keyword: str, text: str, whole: bool) -> None:
    got = words(text, (keyword, whole))
    pattern = re.compile(keyword_pattern(keyword, whole), re.IGNORECASE)
    assert bool(got) == bool(keyword and pattern.search(text))
    if not whole and keyword:
        assert bool(got) == (re.search(re.escape(keyword), text, re.IGNORECASE) is not None)


@given(
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    st.text(alphabet=" .,!?", max_size=3),
    st.text(alphabet=" .,!?", max_size=3),
)
def test_a_word_surrounded_by_separators_matches_whole(word: str, before: str, after: str) -> None:
    assert words(f"{before}{word.upper()}{after}", (word, True)) == [word]


@given(
    st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.from_regex(r"[a-z0-9_]{1,3}", fullmatch=True)
)
def test_a_word_glued_to_letters_is_not_whole(word: str, glue: str) -> None:
    assert words(f"{word}{glue}", (word, True)) == []
    assert words(f"{glue}{word}", (word, True)) == []
    assert words(f"{glue}{word}", (word, False)) == [word]
