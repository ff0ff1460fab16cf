"""Why a note has its status, in numbers a reader can check: the scorer's fit of the note
(intercept and factor) against the thresholds, and its ratings counted by the rater's side.

`explain` picks one of a few cases (`code`); the API writes the case in English (`text`), the
web app in the reader's language from the same numbers."""

from __future__ import annotations

from dataclasses import dataclass

from parvis.domain.notes.model import Status
from parvis.domain.notes.scoring import Parameters


@dataclass(frozen=True)
class Why:
    code: str
    # helpful_across       shown: helpful to raters on both sides (intercept, factor vs bounds)
    # not_helpful          rated not helpful (intercept below the line for its factor)
    # one_sided            needs more ratings: liked by one side only (|factor| too large)
    # low_intercept        needs more ratings: not helpful enough to raters of both sides yet
    # too_few_ratings      needs more ratings: fewer than the minimum from counted raters
    # not_misleading       the author says the post is not misleading: never shown
    status: Status
    intercept: float | None
    factor: float | None
    helpful_intercept: float
    max_factor: float
    min_ratings: int
    counted_ratings: int  # ratings by raters who are in the fit

    @property
    def text(self) -> str:
        i = f"{self.intercept:.3f}" if self.intercept is not None else "none"
        f = f"{abs(self.factor):.3f}" if self.factor is not None else "none"
        h, m = f"{self.helpful_intercept:.2f}", f"{self.max_factor:.2f}"
        return {
            "helpful_across": f"Shown: raters who usually disagree found it helpful "
            f"(helpfulness {i} ≥ {h}, one-sidedness {f} < {m}).",
            "not_helpful": f"Rated not helpful by raters across viewpoints (helpfulness {i}).",
            "one_sided": f"Not shown: found helpful mostly by raters on one side "
            f"(one-sidedness {f}, shown below {m}).",
            "low_intercept": f"Not shown yet: not helpful enough to raters of both sides "
            f"(helpfulness {i}, shown from {h}).",
            "too_few_ratings": f"Needs more ratings: {self.counted_ratings} of the "
            f"{self.min_ratings} needed from raters with enough rating history.",
            "not_misleading": "The note's author says the post is not misleading: such notes "
            "are never shown on the post.",
        }[self.code]


def explain(
    status: Status,
    misleading: bool,
    intercept: float | None,
    factor: float | None,
    counted_ratings: int,
    parameters: Parameters | None = None,
) -> Why:
    p = parameters or Parameters()

    def why(code: str) -> Why:
        return Why(
            code,
            status,
            intercept,
            factor,
            p.helpful_intercept,
            p.helpful_max_factor,
            p.min_ratings_per_note,
            counted_ratings,
        )

    if status is Status.HELPFUL:
        return why("helpful_across")
    if status is Status.NOT_HELPFUL:
        return why("not_helpful")
    if not misleading:
        return why("not_misleading")
    if intercept is None or factor is None:
        return why("too_few_ratings")
    if abs(factor) >= p.helpful_max_factor:
        return why("one_sided")
    return why("low_intercept")
