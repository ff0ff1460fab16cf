"""docs/algorithm.md is what the running code publishes: regenerate it with
`parvis feeds document > docs/algorithm.md` whenever a feed changes."""

from __future__ import annotations

from pathlib import Path

from parvis.domain.feeds import document
from parvis.domain.feeds.registry import FEEDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "algorithm.md"


def test_the_published_document_matches_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == document.markdown() + "\n", (
        "docs/algorithm.md is out of date: run `parvis feeds document > docs/algorithm.md`"
    )


def test_the_document_states_every_parameter_with_its_bounds() -> None:
    text = document.markdown()
    for feed in FEEDS.values():
        assert f"`{feed.name}`, version {feed.version}" in text
        for p in feed.all_parameters():
            assert f"| `{p.name}` | {p.default:g} | {p.low:g} – {p.high:g} |" in text
