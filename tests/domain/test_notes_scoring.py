"""The bridging scorer on a planted population (performance-anchors §4.2): raters with a
viewpoint f_u ~ N(0, 1), notes with planted (i_n, f_n), P(helpful) = σ(i_n + f_u·f_n).
Notes helpful across the split must become helpful, notes liked by one side only must not;
warm start, inertia, determinism and rating floods."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from parvis.domain.errors import Invalid
from parvis.domain.notes.model import Ratings, Status
from parvis.domain.notes.scoring import Parameters, State, score

BRIDGING, ONE_SIDED, BAD = 0, 1, 2


@dataclass
class Planted:
    ratings: Ratings
    kind: np.ndarray
    intercept: np.ndarray
    factor: np.ndarray
    viewpoint: np.ndarray


def planted(
    notes: int = 400,
    raters: int = 1200,
    ratings: int = 20_000,
    seed: int = 1,
    mix: tuple[float, float, float] = (0.35, 0.4, 0.25),
) -> Planted:
    """`mix`: the shares of bridging, one-sided and bad notes."""
    g = np.random.default_rng(seed)
    viewpoint = g.normal(0, 1, raters)
    kind = g.choice(3, notes, p=list(mix))
    intercept = np.select(
        [kind == BRIDGING, kind == ONE_SIDED, kind == BAD],
        [g.normal(2.5, 0.3, notes), g.normal(-0.5, 0.3, notes), g.normal(-2.5, 0.3, notes)],
    )
    factor = np.where(
        kind == ONE_SIDED,
        g.choice([-1, 1], notes) * g.normal(2.5, 0.3, notes),
        g.normal(0, 0.15, notes),
    )
    popularity = g.lognormal(0, 1, notes)
    note = g.choice(notes, ratings, p=popularity / popularity.sum())
    rater = g.integers(0, raters, ratings)
    pair = np.unique(rater.astype(np.int64) * notes + note)
    rater, note = pair // notes, pair % notes
    p = 1 / (1 + np.exp(-(intercept[note] + viewpoint[rater] * factor[note])))
    value = (g.random(len(p)) < p).astype(float)
    value[g.random(len(p)) < 0.1] = 0.5
    return Planted(
        Ratings(
            note_ids=np.arange(notes, dtype=np.int64) + 1000,
            note_misleading=np.ones(notes, dtype=bool),
            rater_ids=np.array([f"rater{i:05d}" for i in range(raters)]),
            rater=rater.astype(np.int64),
            note=note.astype(np.int64),
            value=value,
        ),
        kind,
        intercept,
        factor,
        viewpoint,
    )


@pytest.fixture(scope="module")
def population() -> Planted:
    return planted()


def statuses(result: object) -> np.ndarray:
    return np.array([s.value for s in result.notes.status])  # type: ignore[attr-defined]


def test_planted_population_is_recovered(population: Planted) -> None:
    result = score(population.ratings)
    assert result.converged
    enough = result.notes.num_ratings >= 5
    assert 0.75 <= enough.mean() <= 0.98  # ~80% of notes have ≥ 5 ratings, as in §4.2
    st = statuses(result)
    fitted = np.isfinite(result.notes.intercept)
    bridging = fitted & (population.kind == BRIDGING)
    one_sided = fitted & (population.kind == ONE_SIDED)
    # Helpful across the split: helpful. Liked by one side only: never helpful.
    # Few ratings leave a note's intercept shrunk towards 0: those may still need more.
    assert (st[bridging] == Status.HELPFUL).mean() >= 0.6
    well_rated = bridging & (result.notes.num_ratings >= 20)
    assert (st[well_rated] == Status.HELPFUL).mean() >= 0.7
    assert (st[one_sided] == Status.HELPFUL).sum() == 0
    assert (st[fitted & (population.kind == BAD)] == Status.NOT_HELPFUL).mean() >= 0.8
    truth = np.select(
        [population.kind == BRIDGING, population.kind == BAD],
        [Status.HELPFUL.value, Status.NOT_HELPFUL.value],
        Status.NEEDS_MORE_RATINGS.value,
    )
    agreement = (st[fitted] == truth[fitted]).mean()
    assert agreement >= 0.8
    corr_i = np.corrcoef(population.intercept[fitted], result.notes.intercept[fitted])[0, 1]
    corr_f = abs(np.corrcoef(population.factor[fitted], result.notes.factor[fitted])[0, 1])
    assert corr_i >= 0.9
    assert corr_f >= 0.85
    raters = np.isfinite(result.raters.factor)
    corr_u = abs(np.corrcoef(population.viewpoint[raters], result.raters.factor[raters])[0, 1])
    assert corr_u >= 0.6
    # Raters' helpfulness: agreement with the final statuses, within [0, 1].
    h = result.raters.helpfulness[np.isfinite(result.raters.helpfulness)]
    assert len(h) and (h >= 0).all() and (h <= 1).all()
    print(
        f"\nplanted: agreement {agreement:.3f}, corr(intercept) {corr_i:.3f}, "
        f"|corr(factor)| {corr_f:.3f}, |corr(rater factor)| {corr_u:.3f}, "
        f"bridging CRH {(st[bridging] == Status.HELPFUL).mean():.3f}, epochs {result.epochs}"
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_a_realistic_share_of_bridging_notes_most_are_found(seed: int) -> None:
    """With a third of the notes bridging (the population above), the global intercept μ takes
    about 0.45 of a bridging note's 0.87 mean rating and many land just under the 0.40 line:
    the rule is conservative there. With a share closer to X's (most notes never shown: 15%
    bridging, 45% one-sided, 40% bad), μ ≈ 0.32 and nearly all are found. A one-sided note
    with a handful of ratings can still draw raters from the other side who happen to like it
    (seed 1: one of 170, 8 ratings): at most 1% of them."""
    population = planted(seed=seed, mix=(0.15, 0.45, 0.40))
    result = score(population.ratings)
    st = statuses(result)
    fitted = np.isfinite(result.notes.intercept)
    bridging = fitted & (population.kind == BRIDGING)
    helpful = st == Status.HELPFUL
    recall = helpful[bridging].mean()
    precision = bridging[helpful].mean()
    assert recall >= 0.85
    assert precision >= 0.95
    one_sided = fitted & (population.kind == ONE_SIDED)
    assert helpful[one_sided].mean() <= 0.01
    print(
        f"\nrealistic mix, seed {seed}: recall {recall:.3f}, precision {precision:.3f}, "
        f"one-sided shown {helpful[one_sided].sum()} of {one_sided.sum()}"
    )


def test_warm_start_converges_faster_to_the_same_statuses(population: Planted) -> None:
    cold = score(population.ratings)
    warm = score(population.ratings, cold.state)
    assert warm.warm_started and not cold.warm_started
    assert warm.epochs < cold.epochs / 3
    assert warm.notes.status == cold.notes.status
    # Through the JSON form of the state too.
    again = score(population.ratings, State.from_dict(cold.state.to_dict()))
    assert again.epochs == warm.epochs and again.notes.status == cold.notes.status


def test_inertia_keeps_a_helpful_note_until_the_threshold_minus_one_hundredth(
    population: Planted,
) -> None:
    first = score(population.ratings)
    i = first.notes.intercept
    f = np.abs(first.notes.factor)
    fitted = np.isfinite(i) & (f < 0.5)
    # Move the helpful bar just above notes sitting in [0.39, 0.40 + δ).
    near = fitted & (i >= 0.30) & (i < 0.45)
    assert near.any()
    bar = float(np.max(i[near])) + 0.005
    strict = replace(Parameters(), helpful_intercept=bar)
    without = score(population.ratings, parameters=strict)
    above_inertia = near & (i >= bar - 0.01)
    below_inertia = near & (i < bar - 0.01)
    assert above_inertia.any() and below_inertia.any()
    was_helpful = State.of(
        **{
            **vars(first.state),
            "note_status": tuple(Status.HELPFUL for _ in first.notes.status),
        }
    )
    with_history = score(population.ratings, was_helpful, parameters=strict)
    st_without, st_with = statuses(without), statuses(with_history)
    assert (st_without[above_inertia] != Status.HELPFUL).all()
    assert (st_with[above_inertia] == Status.HELPFUL).all()
    assert (st_with[below_inertia] != Status.HELPFUL).all()


def test_same_input_in_any_order_gives_the_same_output(population: Planted) -> None:
    r = population.ratings
    a = score(r)
    g = np.random.default_rng(7)
    rows = g.permutation(len(r.rater))
    notes = g.permutation(len(r.note_ids))
    raters = g.permutation(len(r.rater_ids))
    shuffled = Ratings(
        note_ids=r.note_ids[notes],
        note_misleading=r.note_misleading[notes],
        rater_ids=r.rater_ids[raters],
        rater=np.argsort(raters)[r.rater[rows]],
        note=np.argsort(notes)[r.note[rows]],
        value=r.value[rows],
    )
    b = score(shuffled)
    assert a.epochs == b.epochs and a.loss == b.loss
    assert np.array_equal(a.notes.intercept, b.notes.intercept, equal_nan=True)
    assert np.array_equal(a.raters.factor, b.raters.factor, equal_nan=True)
    assert a.notes.status == b.notes.status
    assert score(r).loss == a.loss


def _with_extra(base: Ratings, extra: list[tuple[str, int, float]]) -> Ratings:
    ids = list(base.rater_ids.tolist())
    index = {r: i for i, r in enumerate(ids)}
    note_index = {n: i for i, n in enumerate(base.note_ids.tolist())}
    for r, _, _ in extra:
        if r not in index:
            index[r] = len(ids)
            ids.append(r)
    return Ratings(
        note_ids=base.note_ids,
        note_misleading=base.note_misleading,
        rater_ids=np.array(ids),
        rater=np.concatenate([base.rater, [index[r] for r, _, _ in extra]]).astype(np.int64),
        note=np.concatenate([base.note, [note_index[n] for _, n, _ in extra]]).astype(np.int64),
        value=np.concatenate([base.value, [v for _, _, v in extra]]),
    )


def test_a_flood_of_new_accounts_with_few_ratings_moves_nothing(population: Planted) -> None:
    base = score(population.ratings)
    st = statuses(base)
    target = int(base.notes.ids[np.flatnonzero(st == Status.NEEDS_MORE_RATINGS)[0]])
    flood = [(f"sock{k}", target, 1.0) for k in range(500)]
    others = [int(n) for n in population.ratings.note_ids[:4] if n != target][:3]
    flood += [(f"sock{k}", n, 1.0) for k in range(500) for n in others]
    flooded = score(_with_extra(population.ratings, flood))
    assert flooded.notes.status == base.notes.status
    assert np.allclose(flooded.notes.intercept, base.notes.intercept, equal_nan=True)


def test_fifty_raters_from_one_side_cannot_make_a_note_helpful(population: Planted) -> None:
    r = population.ratings
    base = score(r)
    kind = population.kind
    fitted = np.isfinite(base.notes.intercept)
    one_sided = np.flatnonzero(fitted & (kind == ONE_SIDED))
    target = int(one_sided[0])
    side = np.sign(population.factor[target])
    # Same-side notes: what the target's fans like; they rate 12 of them as their side does.
    same_side = np.flatnonzero(fitted & (kind == ONE_SIDED) & (np.sign(population.factor) == side))
    other_side = np.flatnonzero(fitted & (kind == ONE_SIDED) & (np.sign(population.factor) != side))
    ids = r.note_ids
    flood = []
    for k in range(50):
        flood.append((f"fan{k}", int(ids[target]), 1.0))
        flood += [(f"fan{k}", int(ids[j]), 1.0) for j in same_side[1:7]]
        flood += [(f"fan{k}", int(ids[j]), 0.0) for j in other_side[:6]]
    flooded = score(_with_extra(r, flood))
    assert flooded.notes.status[target] is not Status.HELPFUL
    assert abs(flooded.notes.factor[target]) >= 0.5 or flooded.notes.intercept[target] < 0.4


def test_not_misleading_notes_are_never_helpful(population: Planted) -> None:
    base = score(population.ratings)
    helpful = np.array([s is Status.HELPFUL for s in base.notes.status])
    assert helpful.any()
    r = population.ratings
    flipped = score(replace(r, note_misleading=~helpful))
    assert not any(s is Status.HELPFUL for s in flipped.notes.status)
    assert np.allclose(flipped.notes.intercept, base.notes.intercept, equal_nan=True)


def test_below_the_minimums_everything_needs_more_ratings() -> None:
    ratings = [(f"r{k}", n, 1.0) for k in range(4) for n in range(1, 13)]
    result = score(Ratings.build({n: True for n in range(1, 13)}, ratings))
    assert set(result.notes.status) == {Status.NEEDS_MORE_RATINGS}
    assert result.epochs == 0 and np.isnan(result.notes.intercept).all()


def test_bad_ratings_are_refused() -> None:
    with pytest.raises(Invalid, match="twice"):
        Ratings.build({1: True}, [("a", 1, 1.0), ("a", 1, 0.0)])
    with pytest.raises(Invalid, match=r"0\.5"):
        Ratings.build({1: True}, [("a", 1, 0.7)])
    with pytest.raises(Invalid, match="not in the notes"):
        Ratings.build({1: True}, [("a", 2, 1.0)])
