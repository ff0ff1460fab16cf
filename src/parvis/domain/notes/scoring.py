"""The community notes scorer: the one-factor bridging model of X's Community Notes, fitted by
alternating ridge regressions, and the rules that turn a note's fit into a status.

The model (reference §6.2). Every rating r (1 helpful, 0.5 somewhat, 0 not helpful) of note n
by rater u is predicted as

    r̂ = μ + i_u + i_n + f_u·f_n

μ is the global intercept, i_u how generous the rater is, i_n how helpful the note is to
everyone, and f_u·f_n the part explained by viewpoint: raters and notes on the same side of the
one hidden axis agree more. The parameters minimise

    Σ (r − r̂)² + λ_i (Σ i_u² + Σ i_n² + μ²) + λ_f (Σ f_u² + Σ f_n²),   λ_i = 0.15, λ_f = 0.03

Regularisation as SUMS over parameters, not per-group means: the reference's code divides each
group's penalty by its size (and the squared error by the number of ratings), which makes the
pull on one note's intercept depend on how many notes and ratings the whole dataset has; with
sums a note's fit depends on its own ratings and its raters only, whatever the size of the
server. Both forms agree on what matters: intercepts cost 5 times more than factors, so support
from one side only is explained by the factor, and a high intercept needs support from raters
of both sides.

Fitting. With one factor, the best (i_u, f_u) of one rater given the notes' parameters is a
2×2 ridge regression whose sums are np.bincount sums over the ratings; the same holds for notes
given raters, and μ has a closed form. One epoch = all raters, then all notes, then μ: each
step is an exact minimisation, so the loss never rises. Epochs repeat until the loss moves by
less than `tolerance` × number of ratings. Factors start from a seeded normal draw (intercepts
from zero), or from the previous run's parameters by id (warm start), which converges in far
fewer epochs. Everything is sorted by id first, so the same ratings in any order give the same
numbers. The sign of the axis carries no meaning; warm starts keep the previous run's.

Inclusion (reference: minNumRatingsPerRater, minNumRatersPerNote): only raters with at least
10 ratings and notes with at least 5, filtered again until stable, enter the fit. A flood of
new accounts with a handful of ratings each moves nothing.

Statuses (reference §6.3, core rules only), for notes in the fit:
- on a post said misleading: CURRENTLY_RATED_HELPFUL when i_n ≥ 0.40 and |f_n| < 0.50 (a note
  that was helpful keeps the status until i_n < 0.39: inertia); CURRENTLY_RATED_NOT_HELPFUL
  when i_n < −0.05 − 0.8·|f_n|; otherwise NEEDS_MORE_RATINGS;
- on a post said not misleading (never shown): CURRENTLY_RATED_NOT_HELPFUL when i_n < −0.15,
  otherwise NEEDS_MORE_RATINGS.
Notes outside the fit need more ratings.

Rater helpfulness (reference §6.4, simplified): over a rater's ratings of notes that ended
helpful or not helpful, the mean agreement with that status — 1 for "helpful" on a helpful
note or "not helpful" on a not-helpful one, 0 for the opposite, 0.5 for "somewhat". The
reference's 48-hour validity window and abuse penalty are left out. Raters with no such rating
have none (NaN).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from parvis.domain.errors import Invalid
from parvis.domain.notes.model import FloatArray, IntArray, Ratings, Status


@dataclass(frozen=True)
class Parameters:
    """The scorer's knobs, with the reference's defaults."""

    lambda_intercept: float = 0.15
    lambda_factor: float = 0.03
    min_ratings_per_rater: int = 10
    min_ratings_per_note: int = 5
    helpful_intercept: float = 0.40
    helpful_max_factor: float = 0.50
    helpful_inertia: float = 0.01
    not_helpful_intercept: float = -0.05
    not_helpful_factor_slope: float = 0.8
    not_misleading_not_helpful_intercept: float = -0.15
    tolerance: float = 1e-7
    max_epochs: int = 2000
    seed: int = 0
    initial_factor_scale: float = 0.1


@dataclass(frozen=True)
class State:
    """What a run leaves for the next one: parameters for the warm start and statuses for
    inertia, by id. Parameters may be NaN (a note known only from its status history)."""

    global_intercept: float
    note_ids: IntArray
    note_intercept: FloatArray
    note_factor: FloatArray
    note_status: tuple[Status, ...]
    rater_ids: npt.NDArray[np.str_]
    rater_intercept: FloatArray
    rater_factor: FloatArray

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable form (NaN written as null)."""

        def floats(a: FloatArray) -> list[float | None]:
            return [None if np.isnan(x) else x for x in a.tolist()]

        return {
            "global_intercept": self.global_intercept,
            "notes": {
                "ids": self.note_ids.tolist(),
                "intercept": floats(self.note_intercept),
                "factor": floats(self.note_factor),
                "status": [s.value for s in self.note_status],
            },
            "raters": {
                "ids": self.rater_ids.tolist(),
                "intercept": floats(self.rater_intercept),
                "factor": floats(self.rater_factor),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> State:
        try:
            notes, raters = data["notes"], data["raters"]

            def floats(values: list[float | None]) -> FloatArray:
                return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

            return cls.of(
                global_intercept=float(data["global_intercept"]),
                note_ids=np.array(notes["ids"], dtype=np.int64),
                note_intercept=floats(notes["intercept"]),
                note_factor=floats(notes["factor"]),
                note_status=tuple(Status(s) for s in notes["status"]),
                rater_ids=np.array(raters["ids"], dtype=np.str_),
                rater_intercept=floats(raters["intercept"]),
                rater_factor=floats(raters["factor"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid(f"not a scorer state: {exc}") from None

    @classmethod
    def of(cls, **columns: Any) -> State:
        """Checked construction: equal lengths per group, unique ids."""
        state = cls(**columns)
        n, r = len(state.note_ids), len(state.rater_ids)
        if not (len(state.note_intercept) == len(state.note_factor) == len(state.note_status) == n):
            raise Invalid("scorer state: note columns of different lengths")
        if not (len(state.rater_intercept) == len(state.rater_factor) == r):
            raise Invalid("scorer state: rater columns of different lengths")
        if len(np.unique(state.note_ids)) != n or len(np.unique(state.rater_ids)) != r:
            raise Invalid("scorer state: duplicate ids")
        return state


@dataclass(frozen=True)
class NoteScores:
    """Per note, sorted by id. Intercept and factor are NaN for notes outside the fit."""

    ids: IntArray
    intercept: FloatArray
    factor: FloatArray
    status: tuple[Status, ...]
    num_ratings: IntArray


@dataclass(frozen=True)
class RaterScores:
    """Per rater, sorted by id. Intercept and factor are NaN for raters outside the fit,
    helpfulness for raters with no rating of a helpful or not-helpful note."""

    ids: npt.NDArray[np.str_]
    intercept: FloatArray
    factor: FloatArray
    helpfulness: FloatArray
    num_ratings: IntArray


@dataclass(frozen=True)
class Result:
    notes: NoteScores
    raters: RaterScores
    global_intercept: float
    loss: float
    epochs: int
    converged: bool
    ratings_fitted: int
    warm_started: bool
    counts: dict[Status, int] = field(default_factory=dict)

    @property
    def state(self) -> State:
        return State(
            global_intercept=self.global_intercept,
            note_ids=self.notes.ids,
            note_intercept=self.notes.intercept,
            note_factor=self.notes.factor,
            note_status=self.notes.status,
            rater_ids=self.raters.ids,
            rater_intercept=self.raters.intercept,
            rater_factor=self.raters.factor,
        )


EpochCallback = Callable[[int, float], None]


def score(
    ratings: Ratings,
    previous: State | None = None,
    parameters: Parameters = Parameters(),
    on_epoch: EpochCallback | None = None,
) -> Result:
    """Fit the model to `ratings` (warm-started from `previous` when given) and give every
    note its status and every rater a helpfulness. `on_epoch(epoch, loss)` follows progress."""
    p = parameters
    # Canonical order: notes and raters by id, ratings by (note, rater).
    note_order = np.argsort(ratings.note_ids, kind="stable")
    rater_order = np.argsort(ratings.rater_ids, kind="stable")
    note_ids = ratings.note_ids[note_order]
    rater_ids = ratings.rater_ids[rater_order]
    misleading = ratings.note_misleading[note_order]
    note_rank = _inverse(note_order)
    rater_rank = _inverse(rater_order)
    note = note_rank[ratings.note]
    rater = rater_rank[ratings.rater]
    rows = np.lexsort((rater, note))
    note, rater, value = note[rows], rater[rows], ratings.value[rows]
    n_notes, n_raters = len(note_ids), len(rater_ids)
    note_count = np.bincount(note, minlength=n_notes).astype(np.int64)
    rater_count = np.bincount(rater, minlength=n_raters).astype(np.int64)

    kept = _included(rater, note, n_raters, n_notes, p)
    fit_notes = np.flatnonzero(np.bincount(note[kept], minlength=n_notes))
    fit_raters = np.flatnonzero(np.bincount(rater[kept], minlength=n_raters))
    # Compact indices into the fitted notes and raters.
    u = np.searchsorted(fit_raters, rater[kept])
    n = np.searchsorted(fit_notes, note[kept])
    r = value[kept]

    rng = np.random.default_rng(p.seed)
    fu = rng.normal(0.0, p.initial_factor_scale, len(fit_raters))
    fn = rng.normal(0.0, p.initial_factor_scale, len(fit_notes))
    iu = np.zeros(len(fit_raters))
    i_n = np.zeros(len(fit_notes))
    mu = 0.0
    warm = False
    if previous is not None:
        warm = _warm(previous.note_ids, note_ids[fit_notes], previous.note_intercept, i_n)
        _warm(previous.note_ids, note_ids[fit_notes], previous.note_factor, fn)
        warm |= _warm(previous.rater_ids, rater_ids[fit_raters], previous.rater_intercept, iu)
        _warm(previous.rater_ids, rater_ids[fit_raters], previous.rater_factor, fu)
        if warm and np.isfinite(previous.global_intercept):
            mu = previous.global_intercept

    loss, epochs, converged = 0.0, 0, True
    if len(r):
        fit = _Fit(u, n, r, len(fit_raters), len(fit_notes), p)
        mu, loss, epochs, converged = fit.run(mu, iu, fu, i_n, fn, on_epoch)

    intercept = np.full(n_notes, np.nan)
    factor = np.full(n_notes, np.nan)
    intercept[fit_notes], factor[fit_notes] = i_n, fn
    was_helpful = np.zeros(n_notes, dtype=bool)
    if previous is not None:
        before = _lookup(previous.note_ids, note_ids)
        known = before >= 0
        helpful_before = np.array([s is Status.HELPFUL for s in previous.note_status], dtype=bool)
        was_helpful[known] = helpful_before[before[known]]
    status_code = _statuses(intercept, factor, misleading, was_helpful, p)
    statuses = tuple(_STATUSES[c] for c in status_code.tolist())

    r_intercept = np.full(n_raters, np.nan)
    r_factor = np.full(n_raters, np.nan)
    r_intercept[fit_raters], r_factor[fit_raters] = iu, fu
    helpfulness = _helpfulness(rater, note, value, status_code, n_raters)
    return Result(
        notes=NoteScores(note_ids, intercept, factor, statuses, note_count),
        raters=RaterScores(rater_ids, r_intercept, r_factor, helpfulness, rater_count),
        global_intercept=float(mu),
        loss=float(loss),
        epochs=epochs,
        converged=converged,
        ratings_fitted=len(r),
        warm_started=warm,
        counts={s: int((status_code == i).sum()) for i, s in enumerate(_STATUSES)},
    )


_STATUSES = (Status.NEEDS_MORE_RATINGS, Status.HELPFUL, Status.NOT_HELPFUL)


class _Fit:
    """Alternating ridge regressions over fixed (rater, note, value) columns."""

    def __init__(
        self, u: IntArray, n: IntArray, r: FloatArray, raters: int, notes: int, p: Parameters
    ) -> None:
        self.u, self.n, self.r, self.p = u, n, r, p
        self.raters, self.notes = raters, notes
        self.u_count = np.bincount(u, minlength=raters).astype(np.float64)
        self.n_count = np.bincount(n, minlength=notes).astype(np.float64)

    def run(
        self,
        mu: float,
        iu: FloatArray,
        fu: FloatArray,
        i_n: FloatArray,
        fn: FloatArray,
        on_epoch: EpochCallback | None,
    ) -> tuple[float, float, int, bool]:
        """Fit in place (iu, fu, i_n, fn); returns μ, the loss, the epochs and convergence."""
        p, u, n, r = self.p, self.u, self.n, self.r
        threshold = p.tolerance * len(r)
        loss = np.inf
        for epoch in range(1, p.max_epochs + 1):
            # Raters given notes, notes given raters: one 2×2 ridge solve each.
            iu[:], fu[:] = self._solve(u, self.u_count, self.raters, r - mu - i_n[n], fn[n])
            i_n[:], fn[:] = self._solve(n, self.n_count, self.notes, r - mu - iu[u], fu[u])
            residual = r - iu[u] - i_n[n] - fu[u] * fn[n]
            mu = float(residual.sum() / (len(r) + p.lambda_intercept))
            residual -= mu
            new_loss = float(
                residual @ residual
                + p.lambda_intercept * (iu @ iu + i_n @ i_n + mu * mu)
                + p.lambda_factor * (fu @ fu + fn @ fn)
            )
            if on_epoch is not None:
                on_epoch(epoch, new_loss)
            if abs(loss - new_loss) <= threshold:
                return mu, new_loss, epoch, True
            loss = new_loss
        return mu, loss, p.max_epochs, False

    def _solve(
        self, group: IntArray, count: FloatArray, size: int, target: FloatArray, other: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Per group, the (intercept, factor) minimising Σ(target − a − f·other)² + λ_i a² +
        λ_f f²: the 2×2 normal equations, their sums by bincount."""
        p = self.p
        s_x = np.bincount(group, other, minlength=size)
        s_xx = np.bincount(group, other * other, minlength=size)
        s_y = np.bincount(group, target, minlength=size)
        s_xy = np.bincount(group, target * other, minlength=size)
        a11 = count + p.lambda_intercept
        a22 = s_xx + p.lambda_factor
        det = a11 * a22 - s_x * s_x
        return (a22 * s_y - s_x * s_xy) / det, (a11 * s_xy - s_x * s_y) / det


def _included(
    rater: IntArray, note: IntArray, n_raters: int, n_notes: int, p: Parameters
) -> npt.NDArray[np.bool_]:
    """Ratings of raters with enough ratings on notes with enough ratings, until stable."""
    kept = np.ones(len(rater), dtype=bool)
    while True:
        per_rater = np.bincount(rater[kept], minlength=n_raters)
        per_note = np.bincount(note[kept], minlength=n_notes)
        now = (
            kept
            & (per_rater[rater] >= p.min_ratings_per_rater)
            & (per_note[note] >= p.min_ratings_per_note)
        )
        if now.sum() == kept.sum():
            return now
        kept = now


def _statuses(
    intercept: FloatArray,
    factor: FloatArray,
    misleading: npt.NDArray[np.bool_],
    was_helpful: npt.NDArray[np.bool_],
    p: Parameters,
) -> IntArray:
    """0 needs more ratings, 1 helpful, 2 not helpful (index into _STATUSES)."""
    fitted = np.isfinite(intercept)
    i = np.where(fitted, intercept, 0.0)
    f = np.abs(np.where(fitted, factor, 0.0))
    bar = np.where(was_helpful, p.helpful_intercept - p.helpful_inertia, p.helpful_intercept)
    helpful = fitted & misleading & (i >= bar) & (f < p.helpful_max_factor)
    not_helpful = fitted & np.where(
        misleading,
        i < p.not_helpful_intercept - p.not_helpful_factor_slope * f,
        i < p.not_misleading_not_helpful_intercept,
    )
    return np.where(helpful, 1, np.where(not_helpful, 2, 0)).astype(np.int64)


def _helpfulness(
    rater: IntArray, note: IntArray, value: FloatArray, status: IntArray, n_raters: int
) -> FloatArray:
    decided = status[note] > 0
    target = np.where(status[note] == 1, 1.0, 0.0)
    agreement = 1.0 - np.abs(value - target)
    total = np.bincount(rater[decided], minlength=n_raters)
    matched = np.bincount(rater[decided], agreement[decided], minlength=n_raters)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, matched / np.maximum(total, 1), np.nan)


def _inverse(order: IntArray) -> IntArray:
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return inverse


def _lookup(known: npt.NDArray[Any], wanted: npt.NDArray[Any]) -> IntArray:
    """Index of each wanted id in `known`, or -1."""
    if len(known) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    order = np.argsort(known, kind="stable")
    at = np.searchsorted(known[order], wanted)
    at = np.minimum(at, len(known) - 1)
    found = known[order][at] == wanted
    return np.where(found, order[at], -1).astype(np.int64)


def _warm(
    known: npt.NDArray[Any], wanted: npt.NDArray[Any], values: FloatArray, into: FloatArray
) -> bool:
    """Copy the previous values (finite ones) of the wanted ids into `into`; any copied?"""
    at = _lookup(known, wanted)
    ok = at >= 0
    ok[ok] = np.isfinite(values[at[ok]])
    into[ok] = values[at[ok]]
    return bool(ok.any())
