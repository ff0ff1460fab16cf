"""The plug-in interface of a ranked feed: its parameters with their bounds, the inputs it
reads, and a score made of named parts. A new feed is a subclass registered in
parvis.domain.feeds.registry; the rest (gathering, selection, explanations, logging, replay,
the API, the web app and docs/algorithm.md) follows from what it declares."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parvis.domain.errors import Invalid
from parvis.domain.feeds.model import Candidate, Context, Part

PAGE = 20  # a page of a ranked feed: the diversity rules hold on any 20 consecutive items
MAX_ITEMS = 200  # a ranking holds at most this many posts (ten pages)


@dataclass(frozen=True)
class Parameter:
    name: str
    default: float
    low: float
    high: float
    description: str  # what it does, in plain English

    def check(self, value: object) -> float:
        """The value as a float, or Invalid saying which bound it breaks."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"{self.name} must be a number")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float (JSON allows it)
            number = math.inf
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise Invalid(f"{self.name} must be between {_num(self.low)} and {_num(self.high)}")
        return number


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Input:
    """A signal the feed reads, as the documentation describes it."""

    name: str
    description: str


# The diversity rules, shared by every ranked feed (parvis.domain.feeds.selection).
REPEAT_AUTHOR = Parameter(
    "repeat_author_weight",
    0.5,
    0.0,
    3.0,
    "Subtracted from a post's score for each post by the same author ranked above it.",
)
MAX_AUTHOR_SHARE = Parameter(
    "max_author_share",
    0.2,
    0.05,
    0.5,
    f"The largest share of any {PAGE} consecutive posts that one author may hold; "
    "posts beyond it are left out.",
)


# Signals more than one feed reads, with the same meaning and bounds everywhere.
RECENCY = Parameter("recency_weight", 1.0, 0.0, 3.0, "Weight of recency.")
LABEL = Parameter(
    "label_weight", 0.5, 0.0, 3.0, "Subtracted from a post that carries a moderators' label."
)


class Algorithm:
    """A ranked feed. Subclasses set the class attributes and implement `parts`."""

    name: str = ""
    version: str = ""  # changes whenever the scoring changes: replay compares like with like
    title: str = ""
    summary: str = ""  # a paragraph for docs/algorithm.md and the API
    inputs: tuple[Input, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    # Where the candidates come from, in plain words (for the documentation).
    candidates: str = ""

    def parts(self, candidate: Candidate, params: Mapping[str, float], ctx: Context) -> list[Part]:
        """The position-independent parts of a candidate's score."""
        raise NotImplementedError

    # -- parameters ------------------------------------------------------------------------

    def all_parameters(self) -> tuple[Parameter, ...]:
        return (*self.parameters, REPEAT_AUTHOR, MAX_AUTHOR_SHARE)

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.all_parameters()}

    def validate(self, weights: Mapping[str, object]) -> dict[str, float]:
        """A user's weights checked against the published bounds: every error at once, in a
        Invalid; unknown names are refused too (a typo must not pass silently)."""
        known = {p.name: p for p in self.all_parameters()}
        errors: list[str] = []
        checked: dict[str, float] = {}
        for name, value in weights.items():
            parameter = known.get(name)
            if parameter is None:
                errors.append(f"{name} is not a parameter of {self.name}")
                continue
            try:
                checked[name] = parameter.check(value)
            except Invalid as exc:
                errors.append(str(exc))
        if errors:
            raise Invalid("; ".join(errors))
        return checked

    def resolve(self, weights: Mapping[str, float]) -> dict[str, float]:
        """The defaults overlaid with a user's (already validated) weights."""
        resolved = self.defaults()
        resolved.update({k: v for k, v in weights.items() if k in resolved})
        return resolved


# -- helpers for the parts of a score ---------------------------------------------------------


def part(signal: str, value: float, weight: float, words: str, *args: Any) -> Part:
    """A part of a score; `words.format(*args)` says it in plain English (when read)."""
    return Part(signal, value, weight, weight * value, words, args)


def decay(age_hours: float, half_life_hours: float) -> float:
    """1 for a post from now, 1/2 after one half-life, 1/4 after two…"""
    return float(2.0 ** (-max(age_hours, 0.0) / half_life_hours))


def saturating_log(count: float, full_at: float) -> float:
    """log(1 + count) scaled so that `full_at` gives 1; more than that still gives 1."""
    if count <= 0:
        return 0.0
    return min(1.0, math.log1p(count) / math.log1p(full_at))


@dataclass(frozen=True, slots=True)
class Age:
    """An age in hours that reads as words ("3 hours ago") only when formatted."""

    hours: float

    def __format__(self, spec: str) -> str:
        if self.hours < 1:
            return f"{max(int(self.hours * 60), 0)} minutes ago"
        if self.hours < 48:
            return f"{int(self.hours)} hours ago"
        return f"{int(self.hours // 24)} days ago"
