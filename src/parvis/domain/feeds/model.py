"""What a ranked feed works on: candidates with their visible signals, and what it gives back —
a ranking whose every item carries its explanation (parts that sum to its score)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

# Where a candidate comes from (For you): the people you follow, or a bounded set from outside.
FOLLOWING = "following"
BOOSTED_BY_FOLLOWING = "boosted_by_following"
LIKED_BY_FOLLOWING = "liked_by_following"
TRENDING = "trending"
ENGAGED = "engaged"  # bridging: posts recently appreciated on this server
SOURCES = (FOLLOWING, BOOSTED_BY_FOLLOWING, LIKED_BY_FOLLOWING, TRENDING, ENGAGED)


class Candidate(NamedTuple):
    """One post that may be ranked, with every signal any feed may use. All of them are visible
    facts: counts anyone can see on the post, or what the viewer did themselves. A tuple:
    hundreds are made for every ranking."""

    status_id: int
    author_id: int
    created_at: float  # Unix time, seconds
    source: str  # one of SOURCES
    language: str | None = None
    favourites: int = 0
    reblogs: int = 0
    replies: int = 0
    # Replies to this post written by people the viewer follows.
    followed_replies: int = 0
    # How many people the viewer follows boosted or favourited it (out-of-network sources).
    via: int = 0
    # The viewer's own favourites, boosts and replies to this author in the last 30 days.
    affinity: int = 0
    # A moderation decision in force on the post: "label" or "demote" (stronger ones hide it).
    restriction: str | None = None
    # Bridging: appreciation from each side of the server's main axis of disagreement
    # (sums of the engagers' viewpoint weights; parvis.domain.feeds.viewpoints).
    side_a: float = 0.0
    side_b: float = 0.0

    def row(self) -> list[Any]:
        """A compact, JSON-ready form for the served-page log (see `from_row`)."""
        return list(self)

    @classmethod
    def from_row(cls, row: list[Any]) -> Candidate:
        if len(row) != len(cls._fields):
            raise ValueError(f"a candidate row has {len(cls._fields)} values, not {len(row)}")
        return cls(*row)


@dataclass(frozen=True)
class Context:
    """What the ranking knows of the moment and the viewer (besides the candidates)."""

    now: float  # Unix time, seconds
    languages: tuple[str, ...] = ()  # the viewer's languages; empty: unknown


class Part(NamedTuple):
    """One signal's share of a score: contribution = weight × value. A tuple, and its words
    are formatted only when read: hundreds of parts are made per ranking, a page shows 20."""

    signal: str
    value: float  # the signal, usually in [0, 1]; negative for penalties
    weight: float  # the parameter that multiplies it
    contribution: float
    words: str  # a str.format template in plain English; the web app has its own translation
    args: tuple[Any, ...] = ()

    @property
    def text(self) -> str:
        return self.words.format(*self.args)

    def as_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "value": round(self.value, 6),
            "weight": self.weight,
            "contribution": round(self.contribution, 6),
            "text": self.text,
        }


@dataclass(frozen=True)
class Item:
    """A ranked post: its place, its score, and the parts the score is the sum of."""

    candidate: Candidate
    rank: int  # 1-based
    score: float
    parts: tuple[Part, ...]

    @property
    def status_id(self) -> int:
        return self.candidate.status_id


@dataclass(frozen=True)
class Ranking:
    feed: str
    version: str
    items: tuple[Item, ...]
    # Candidates not in the ranking: left out by the diversity rules, or beyond its limit.
    left_out: int = 0

    @property
    def ids(self) -> list[int]:
        return [item.status_id for item in self.items]
