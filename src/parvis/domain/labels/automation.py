"""Signs that an account is automated, from its recent posts, with the evidence a moderator
reads before confirming a bot label (nothing is labelled here).

Components, each measured, compared with its threshold and given a strength in [0, 1] that
grows linearly from a value typical of people (strength 0) to the threshold (strength 1):

- `rhythm`: coefficient of variation (std / mean) of the gaps between posts. People post in
  bursts (CV ≥ 1 is usual, 0.6 counts as human); a scheduler posts like clockwork (CV ≤ 0.2).
  Needs 10 posts.
- `daily_spread`: the longest stretch of hours of the day (UTC hours, taken around the clock,
  so time zones do not matter) in which the account never posted over the period. People
  sleep (6 h or more); a program posts around the clock (2 h or less). Needs 48 posts.
- `volume`: posts per day over the period: 24 a day is within human reach, 96 (one every
  15 minutes, all day long) is not.
- `duplicates`: share of posts that are near-duplicates (MinHash, estimated Jaccard ≥ 0.5,
  numbers folded so templates match) of another post of the same account: 20 % is human,
  60 % is a template. Needs 5 posts.
- `client`: share of posts sent by an application whose name says script (bot, rss, cron,
  python, …). Anyone can name an application anything, so it is only a weak hint.

Combination, on purpose a small explicit formula and no learned model — each component can
raise the score up to its weight, and independent signs add up like probabilities::

    score = 1 − ∏ (1 − weightᵢ × strengthᵢ)
    weights: rhythm 0.8, duplicates 0.6, daily_spread 0.5, volume 0.4, client 0.2

so clockwork alone (0.8), template output alone (0.6) or round-the-clock posting alone (0.5)
reaches `FLAG_AT` (0.5); volume or the client alone never does. An account that declares itself
a bot needs no detection: its signal is `declared` with score 1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from parvis.domain.labels.minhash import MinHasher

FLAG_AT = 0.5
DUPLICATE_SIMILARITY = 0.5
_SCRIPT = re.compile(
    r"bot|script|cron|rss|atom|feed|python|mastodon\.py|curl|ifttt|zapier|n8n|autopost",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PostSample:
    created_at: datetime
    text: str
    application: str | None = None  # None: the web app


@dataclass(frozen=True)
class Component:
    """One measured sign: `value` is None when there were too few posts to measure it."""

    name: str
    value: float | None
    threshold: float
    strength: float
    weight: float
    sentence: str


@dataclass(frozen=True)
class AutomationSignal:
    score: float
    flagged: bool
    declared: bool
    posts: int
    components: tuple[Component, ...]


def assess_automation(
    posts: Sequence[PostSample], *, declared: bool = False, hasher: MinHasher | None = None
) -> AutomationSignal:
    """The automation signal of one account from its recent posts (see the module docstring)."""
    if declared:
        return AutomationSignal(1.0, True, True, len(posts), ())
    ordered = sorted(posts, key=lambda p: p.created_at)
    times = np.array([p.created_at.timestamp() for p in ordered], dtype=np.float64)
    components = (
        _rhythm(times),
        _daily_spread(ordered),
        _volume(times),
        _duplicates(ordered, hasher or MinHasher()),
        _client(ordered),
    )
    keep = np.prod([1.0 - c.weight * c.strength for c in components])
    score = round(float(1.0 - keep), 3)
    return AutomationSignal(score, score >= FLAG_AT, False, len(posts), components)


def _ramp(value: float, human: float, threshold: float) -> float:
    """0 at the human value, 1 at the threshold, linear between (either direction)."""
    return float(np.clip((value - human) / (threshold - human), 0.0, 1.0))


def _rhythm(times: np.ndarray) -> Component:
    name, human, threshold, weight = "rhythm", 0.6, 0.2, 0.8
    if len(times) < 10:
        return Component(name, None, threshold, 0.0, weight, "Too few posts to judge the rhythm.")
    gaps = np.diff(times)
    cv = float(gaps.std() / gaps.mean()) if gaps.mean() > 0 else 0.0
    sentence = (
        f"The gaps between posts vary by {cv:.2f} times their mean ({gaps.mean() / 60:.0f} min): "
        f"{threshold} or less is clockwork, people are usually above {human}."
    )
    return Component(name, round(cv, 3), threshold, _ramp(cv, human, threshold), weight, sentence)


def _daily_spread(posts: Sequence[PostSample]) -> Component:
    name, human, threshold, weight = "daily_spread", 6.0, 2.0, 0.5
    if len(posts) < 48:
        return Component(
            name, None, threshold, 0.0, weight, "Too few posts to judge the daily rhythm."
        )
    hours = np.zeros(24, dtype=bool)
    hours[[p.created_at.astimezone(UTC).hour for p in posts]] = True
    idle = _longest_circular_run(~hours)
    sentence = (
        f"Posted in {int(hours.sum())} of the 24 hours of the day; the longest daily pause is "
        f"{idle} h: {threshold:.0f} h or less is round the clock, people sleep {human:.0f} h "
        "or more."
    )
    return Component(name, float(idle), threshold, _ramp(idle, human, threshold), weight, sentence)


def _volume(times: np.ndarray) -> Component:
    name, human, threshold, weight = "volume", 24.0, 96.0, 0.4
    if len(times) < 2:
        return Component(name, None, threshold, 0.0, weight, "Too few posts to judge the volume.")
    days = max((times[-1] - times[0]) / 86400.0, 1.0)
    rate = len(times) / days
    sentence = (
        f"{rate:.1f} posts a day over {days:.1f} days: {human:.0f} is within human reach, "
        f"{threshold:.0f} (one every 15 minutes all day) is not."
    )
    return Component(
        name, round(rate, 2), threshold, _ramp(rate, human, threshold), weight, sentence
    )


def _duplicates(posts: Sequence[PostSample], hasher: MinHasher) -> Component:
    name, human, threshold, weight = "duplicates", 0.2, 0.6, 0.6
    if len(posts) < 5:
        return Component(
            name, None, threshold, 0.0, weight, "Too few posts to judge repeated output."
        )
    pairs = hasher.near_duplicates(hasher.signatures([p.text for p in posts]), DUPLICATE_SIMILARITY)
    repeated = len(np.union1d(pairs.left, pairs.right))
    share = repeated / len(posts)
    sentence = (
        f"{repeated} of {len(posts)} posts ({share:.0%}) are near-copies of another post of "
        f"this account: {human:.0%} is common, {threshold:.0%} or more is a template."
    )
    return Component(
        name, round(share, 3), threshold, _ramp(share, human, threshold), weight, sentence
    )


def _client(posts: Sequence[PostSample]) -> Component:
    name, threshold, weight = "client", 1.0, 0.2
    if not posts:
        return Component(name, None, threshold, 0.0, weight, "No posts.")
    scripted = [p.application for p in posts if p.application and _SCRIPT.search(p.application)]
    share = len(scripted) / len(posts)
    names = ", ".join(sorted(set(scripted))) or "none"
    sentence = (
        f"{share:.0%} of posts came from an application named like a script ({names}); "
        "an application's name is chosen by its author, so this is a weak hint."
    )
    return Component(name, round(share, 3), threshold, share, weight, sentence)


def _longest_circular_run(flags: np.ndarray) -> int:
    """The longest run of True in a circular array."""
    if flags.all():
        return len(flags)
    doubled = np.concatenate([flags, flags]).astype(np.int8)
    edges = np.diff(np.concatenate([[0], doubled, [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if len(starts) else 0
