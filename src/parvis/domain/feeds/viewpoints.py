"""Viewpoints: one axis along which the people of this server differ in what they appreciate,
estimated from who favourites and boosts what — the input of the bridging feed.

The idea is the one behind the community notes model: a single hidden dimension explains much of
who engages with what. People who appreciate the same posts sit close together on it, people
whose appreciation rarely overlaps sit at opposite ends. Nothing about a post's words or an
account's profile is used, only the pattern of favourites and boosts.

How it is computed, step by step:

1. Take the favourites and boosts (account, post) of the last 30 days, each pair once.
2. Keep the accounts with at least `min_engagements` of them and the posts that at least two of
   those accounts engaged with; repeat until nothing more is dropped. A post only one person
   engaged with says nothing about who agrees with whom.
3. Keep the largest group of accounts and posts linked to each other through engagements: an
   axis can only place people relative to each other when something connects them.
4. Write the engagements as a table W, one row per account and one column per post, 1 where the
   account engaged with the post. Divide each cell by the square roots of its row's and its
   column's totals, so that very active accounts and very popular posts do not drown the rest.
5. The singular value decomposition of that table gives its main directions. The first one is
   trivial (it only says how active each account is); the second one is the axis: it splits the
   accounts into two groups that engage with posts of their own group much more than with the
   other's (the spectral method for finding two communities in a bipartite graph). An account's
   position is its coordinate on it, divided by the square root of its total.
6. The positions are scaled so that 95% of the accounts lie within [-1, 1] and the rest are
   clipped to it. Which end is called "positive" carries no meaning; it is fixed (the accounts
   with the smallest ids, taken together, lean positive) so that the same engagements always give
   the same numbers, in whatever order they are read.

Accounts outside the kept group have no position (treated as 0: unknown). A post's appreciation
on side A is then the sum of the positive positions of those who favourited or boosted it, and on
side B the sum of the negative ones, as magnitudes (`Viewpoints.sides`). Positions are never
published; each account may see its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import svds

# Tables up to this many cells (500 × 500) are decomposed densely, larger ones with ARPACK: a
# full dense decomposition grows with the cube of the size (3 s at 1900 × 1900 on one core,
# against 0.4 s with ARPACK for 200,000 engagements of 10,000 accounts on 20,000 posts).
DENSE_CELLS = 250_000
# A table this narrow on one side is decomposed densely whatever its other size.
DENSE_SIDE = 16
# The positions are divided by this percentile of their magnitudes, then clipped to [-1, 1].
SCALE_PERCENTILE = 95.0
# The share of accounts (smallest ids first) whose positions, summed, fix the sign of the axis.
ORIENTING_SHARE = 0.1
# A second singular value below this means nothing separates anyone: every position is 0.
NO_AXIS = 1e-9
DIGITS = 6  # positions are rounded to this many decimals: nothing meaningful lies beyond

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Viewpoints:
    factors: dict[int, float]  # account id -> position in [-1, 1]; absent: unknown (0)

    def sides(self, engagements: Iterable[tuple[int, int]]) -> dict[int, tuple[float, float]]:
        """(account id, status id) pairs -> status id -> (side_a, side_b), where side_a sums
        max(f, 0) and side_b sums max(-f, 0) over the accounts (each counted once per post)."""
        accounts, statuses = _pairs(engagements)
        if not len(statuses):
            return {}
        ids, column = np.unique(statuses, return_inverse=True)
        f = np.array([self.factors.get(int(a), 0.0) for a in accounts], dtype=np.float64)
        # The pairs are unique and sorted, so the sums run in the same order for any input.
        a = np.bincount(column, weights=np.maximum(f, 0.0), minlength=len(ids))
        b = np.bincount(column, weights=np.maximum(-f, 0.0), minlength=len(ids))
        return {
            int(s): (round(float(x), DIGITS), round(float(y), DIGITS))
            for s, x, y in zip(ids, a, b, strict=True)
        }


def estimate(edges: Iterable[tuple[int, int]], *, min_engagements: int = 3) -> Viewpoints:
    """Each account's position on the main axis of engagement (see the module docstring).
    `edges` are (account id, status id) favourites and boosts; duplicates count once."""
    accounts, statuses = _pairs(edges)
    account_ids, rows = np.unique(accounts, return_inverse=True)
    status_ids, cols = np.unique(statuses, return_inverse=True)
    keep = _prune(rows, cols, len(account_ids), len(status_ids), min_engagements)
    rows, cols = rows[keep], cols[keep]
    rows, cols, kept = _largest_component(rows, cols, len(account_ids), len(status_ids))
    account_ids = account_ids[kept]
    if len(account_ids) < 2 or cols.max(initial=-1) < 1:
        return Viewpoints({})
    strength, x = _axis(rows, cols)
    scale = float(np.percentile(np.abs(x), SCALE_PERCENTILE))
    if strength < NO_AXIS or not np.isfinite(scale) or scale <= 0.0:
        return Viewpoints({int(a): 0.0 for a in account_ids})
    positions = np.clip(_orient(x) / scale, -1.0, 1.0)
    return Viewpoints(
        {
            int(a): round(float(p), DIGITS) + 0.0  # + 0.0: no -0.0
            for a, p in zip(account_ids, positions, strict=True)
        }
    )


def _pairs(edges: Iterable[tuple[int, int]]) -> tuple[IntArray, IntArray]:
    """The distinct (account, status) pairs as two id arrays, sorted by account then status."""
    array = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    if not len(array):
        return array[:, 0], array[:, 1]
    pairs = np.unique(array, axis=0)
    return pairs[:, 0], pairs[:, 1]


def _prune(
    rows: IntArray, cols: IntArray, n_accounts: int, n_posts: int, min_engagements: int
) -> npt.NDArray[np.bool_]:
    """The engagements left once accounts with fewer than `min_engagements` and posts with
    fewer than two engagers are dropped, over and over until none is."""
    keep = np.ones(len(rows), dtype=bool)
    while True:
        per_account = np.bincount(rows[keep], minlength=n_accounts)
        per_post = np.bincount(cols[keep], minlength=n_posts)
        still = keep & (per_account[rows] >= min_engagements) & (per_post[cols] >= 2)
        if still.sum() == keep.sum():
            return keep
        keep = still


def _largest_component(
    rows: IntArray, cols: IntArray, n_accounts: int, n_posts: int
) -> tuple[IntArray, IntArray, IntArray]:
    """The engagements of the largest connected group, renumbered from 0, and the original
    indices of its accounts (in increasing order)."""
    if not len(rows):
        return rows, cols, rows
    n = n_accounts + n_posts
    graph = coo_matrix((np.ones(len(rows)), (rows, n_accounts + cols)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    label_of_edge = labels[rows]
    # Ties go to the group met first in id order (argmax keeps the first maximum).
    sizes = np.bincount(label_of_edge)
    inside = label_of_edge == int(np.argmax(sizes))
    rows, cols = rows[inside], cols[inside]
    kept_accounts, rows = np.unique(rows, return_inverse=True)
    _, cols = np.unique(cols, return_inverse=True)
    return rows, cols, kept_accounts


def _axis(rows: IntArray, cols: IntArray) -> tuple[float, FloatArray]:
    """(s2, x) with x_u = Du^-1/2 u2, s2 and u2 the second singular value and left singular
    vector of Du^-1/2 W Dp^-1/2."""
    n_accounts, n_posts = int(rows.max()) + 1, int(cols.max()) + 1
    du = np.bincount(rows, minlength=n_accounts).astype(np.float64)
    dp = np.bincount(cols, minlength=n_posts).astype(np.float64)
    values = 1.0 / np.sqrt(du[rows] * dp[cols])
    m = csr_matrix((values, (rows, cols)), shape=(n_accounts, n_posts))
    if n_accounts * n_posts <= DENSE_CELLS or min(n_accounts, n_posts) <= DENSE_SIDE:
        u, s, _ = np.linalg.svd(m.toarray(), full_matrices=False)
        strength, second = float(s[1]), u[:, 1]
    else:
        # A fixed starting vector keeps ARPACK deterministic; a pseudo-random one (rather than
        # all ones) is unlikely to be orthogonal to the axis sought.
        v0 = np.random.default_rng(0).standard_normal(min(n_accounts, n_posts))
        u, s, _ = svds(m, k=3, v0=v0, solver="arpack")
        i = int(np.argsort(s)[::-1][1])
        strength, second = float(s[i]), u[:, i]
    return strength, np.asarray(second / np.sqrt(du), dtype=np.float64)


def _orient(x: FloatArray) -> FloatArray:
    """The axis with its sign fixed: the accounts with the smallest ids (indices follow ids),
    taken together, lean positive; if they balance exactly, the first account off zero does."""
    first = x[: max(1, int(len(x) * ORIENTING_SHARE))]
    lean = float(first.sum())
    if lean == 0.0:
        nonzero = np.flatnonzero(x)
        lean = float(x[nonzero[0]]) if len(nonzero) else 1.0
    return -x if lean < 0.0 else x
