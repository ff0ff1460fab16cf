"""The vocabulary of community notes: statuses, note classifications, rating levels, and the
ratings the scorer takes as input (columns of numpy arrays, one row per rating)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from parvis.domain.errors import Invalid

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class Status(StrEnum):
    """A note's rating status, spelled as in the public files."""

    HELPFUL = "CURRENTLY_RATED_HELPFUL"
    NOT_HELPFUL = "CURRENTLY_RATED_NOT_HELPFUL"
    NEEDS_MORE_RATINGS = "NEEDS_MORE_RATINGS"


class Classification(StrEnum):
    """What the note's author says about the post: only notes on misleading posts are shown."""

    MISLEADING = "MISINFORMED_OR_POTENTIALLY_MISLEADING"
    NOT_MISLEADING = "NOT_MISLEADING"


class Helpfulness(StrEnum):
    """A rater's answer to "is this note helpful?", with its value in the model."""

    HELPFUL = "HELPFUL"
    SOMEWHAT_HELPFUL = "SOMEWHAT_HELPFUL"
    NOT_HELPFUL = "NOT_HELPFUL"

    @property
    def value_in_model(self) -> float:
        return {"HELPFUL": 1.0, "SOMEWHAT_HELPFUL": 0.5, "NOT_HELPFUL": 0.0}[self.value]


@dataclass(frozen=True)
class Ratings:
    """The scorer's input: the notes (id, misleading or not), the raters (id), and one row per
    rating: indices into those two lists and the value (1 helpful, 0.5 somewhat, 0 not).

    Each (rater, note) pair appears at most once. The order of notes, raters and rows carries
    no meaning: the scorer sorts everything by id first, so shuffled input scores the same.
    """

    note_ids: IntArray
    note_misleading: BoolArray
    rater_ids: npt.NDArray[np.str_]
    rater: IntArray
    note: IntArray
    value: FloatArray

    def __post_init__(self) -> None:
        n_notes, n_raters = len(self.note_ids), len(self.rater_ids)
        if len(self.note_misleading) != n_notes:
            raise Invalid("one classification per note is needed")
        if not len(self.rater) == len(self.note) == len(self.value):
            raise Invalid("rater, note and value columns must have the same length")
        if len(np.unique(self.note_ids)) != n_notes:
            raise Invalid("note ids must be unique")
        if len(np.unique(self.rater_ids)) != n_raters:
            raise Invalid("rater ids must be unique")
        if len(self.rater) and (
            self.rater.min() < 0
            or self.rater.max() >= n_raters
            or self.note.min() < 0
            or self.note.max() >= n_notes
        ):
            raise Invalid("a rating points to a rater or note that is not in the lists")
        if not np.isin(self.value, (0.0, 0.5, 1.0)).all():
            raise Invalid("rating values must be 0 (not helpful), 0.5 (somewhat) or 1 (helpful)")
        pairs = self.rater.astype(np.int64) * max(n_notes, 1) + self.note
        if len(np.unique(pairs)) != len(pairs):
            raise Invalid("a rater rated the same note twice: keep one rating per pair")

    @classmethod
    def build(
        cls,
        notes: dict[int, bool],
        ratings: list[tuple[str, int, float]],
    ) -> Ratings:
        """From {note id: misleading} and (rater id, note id, value) triples: for tests and
        small callers."""
        note_ids = np.array(sorted(notes), dtype=np.int64)
        raters = sorted({r for r, _, _ in ratings})
        rater_index = {r: i for i, r in enumerate(raters)}
        note_index = {n: i for i, n in enumerate(note_ids.tolist())}
        try:
            note_col = [note_index[n] for _, n, _ in ratings]
        except KeyError as exc:
            raise Invalid(f"a rating of note {exc.args[0]}, which is not in the notes") from None
        return cls(
            note_ids=note_ids,
            note_misleading=np.array([notes[n] for n in note_ids.tolist()], dtype=bool),
            rater_ids=np.array(raters, dtype=np.str_),
            rater=np.array([rater_index[r] for r, _, _ in ratings], dtype=np.int64),
            note=np.array(note_col, dtype=np.int64),
            value=np.array([v for _, _, v in ratings], dtype=np.float64),
        )


# The reasons a note's author gives, and the tags a rater gives, by key. Each key is also a
# column of the public files: "misleading" + FactualError, "helpful" + GoodSources, and so on
# (`column`).
MISLEADING_REASONS = (
    "factual_error",
    "manipulated_media",
    "outdated_information",
    "missing_important_context",
    "unverified_claim_as_fact",
    "satire",
    "other",
)
NOT_MISLEADING_REASONS = (
    "factually_correct",
    "outdated_but_not_when_written",
    "clearly_satire",
    "personal_opinion",
    "other",
)
HELPFUL_TAGS = (
    "informative",
    "clear",
    "good_sources",
    "unique_context",
    "addresses_claim",
    "important_context",
    "unbiased_language",
    "empathetic",
    "other",
)
NOT_HELPFUL_TAGS = (
    "incorrect",
    "sources_missing_or_unreliable",
    "opinion_speculation_or_bias",
    "missing_key_points",
    "outdated",
    "hard_to_understand",
    "argumentative_or_biased",
    "off_topic",
    "spam_harassment_or_abuse",
    "irrelevant_sources",
    "opinion_speculation",
    "note_not_needed",
    "other",
)


def column(prefix: str, key: str) -> str:
    """The public files' column for a reason or tag: column("notHelpful", "off_topic") is
    "notHelpfulOffTopic"."""
    return prefix + "".join(part.capitalize() for part in key.split("_"))


def reasons_for(classification: Classification) -> tuple[str, ...]:
    return (
        MISLEADING_REASONS
        if classification is Classification.MISLEADING
        else NOT_MISLEADING_REASONS
    )


def tags_for(helpfulness: Helpfulness) -> tuple[str, ...]:
    """Tags a rating may carry: why it helps, why not, or either for "somewhat"."""
    if helpfulness is Helpfulness.HELPFUL:
        return HELPFUL_TAGS
    if helpfulness is Helpfulness.NOT_HELPFUL:
        return NOT_HELPFUL_TAGS
    return tuple(dict.fromkeys(HELPFUL_TAGS + NOT_HELPFUL_TAGS))
