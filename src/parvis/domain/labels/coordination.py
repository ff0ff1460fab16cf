"""Coordinated inauthentic behaviour: clusters of distinct accounts posting near-identical texts
in step, surfaced to moderators with the evidence (never acted on here).

The rules, all in `Rules` and configurable:

1. Texts: posts of at least `min_words` words (shorter ones — "+1", "bravo !" — are identical
   by nature) are compared with MinHash; posts whose estimated Jaccard similarity of word
   shingles is at least `similarity` are linked through LSH buckets, and the connected
   components (union-find) of these links are the *text groups*: one message and its edited
   copies.
2. Synchronization: in a text group reaching `min_accounts` distinct accounts, a *burst* is a
   run of copies within `window` of its first copy that has `min_accounts` distinct accounts.
   The group counts only if at least `synchronized_share` of its copies fall in bursts: a quote
   shared by many people over a day has a few close copies by chance, not most of them.
3. Events and clusters: each burst is an event (a text, its accounts, its posts). Events whose
   account sets overlap (overlap coefficient |A∩B| / min(|A|, |B|) ≥ `overlap`) are merged by
   union-find into one cluster of accounts; a cluster needs `min_accounts` accounts.
4. Beyond shared text: people do react together to the same news, so a cluster is a signal only
   with at least one of:
   - *in step repeatedly*: `min_accounts` of its accounts took part in `min_texts` or more
     different texts of the cluster (the same set of accounts synchronized again and again);
   - *young accounts*: at least `young_share` of its accounts were younger than `young_age`
     when they first posted in it (only when account creation dates are given);
   - *single purpose*: at least `single_purpose_share` of its accounts have `single_purpose`
     or more of their given posts among the cluster's copies.

Give `find_coordination` all the recent posts of a period (say a week): an account's share of
copies is measured against its posts in that input. The result does not depend on the order
of the input (posts are taken in id order).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from parvis.domain.errors import Invalid
from parvis.domain.labels.minhash import MinHasher, words


@dataclass(frozen=True)
class Post:
    id: int
    account: int
    created_at: datetime
    text: str


@dataclass(frozen=True)
class Rules:
    window: timedelta = timedelta(minutes=30)
    similarity: float = 0.5
    min_accounts: int = 3
    min_words: int = 5
    synchronized_share: float = 0.75
    overlap: float = 0.5
    min_texts: int = 2
    young_age: timedelta = timedelta(days=30)
    young_share: float = 0.5
    single_purpose: float = 0.6
    single_purpose_share: float = 0.5

    def __post_init__(self) -> None:
        if self.window <= timedelta(0):
            raise Invalid("The coordination window must be positive.")
        if self.min_accounts < 2 or self.min_texts < 1 or self.min_words < 1:
            raise Invalid("A cluster needs at least 2 accounts, 1 text and 1 word per post.")
        shares = (
            self.similarity,
            self.synchronized_share,
            self.overlap,
            self.young_share,
            self.single_purpose,
            self.single_purpose_share,
        )
        if not all(0.0 < share <= 1.0 for share in shares):
            raise Invalid("Similarity and shares must lie in (0, 1].")


@dataclass(frozen=True)
class CoordinationSignal:
    """A cluster to show moderators: who, which posts, when, how alike, and why it is not
    organic (`reasons` are codes: "repeated", "young", "single_purpose"; `evidence` the
    sentences)."""

    accounts: tuple[int, ...]
    posts: tuple[int, ...]
    start: datetime
    end: datetime
    similarity: float
    texts: int
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class _Event:
    text: int  # the text group
    posts: tuple[Post, ...]
    accounts: frozenset[int]


def find_coordination(
    posts: Iterable[Post],
    account_created: Mapping[int, datetime] | None = None,
    rules: Rules | None = None,
    hasher: MinHasher | None = None,
) -> list[CoordinationSignal]:
    """The coordination signals among `posts`, earliest first (see the module docstring)."""
    rules = rules or Rules()
    hasher = hasher or MinHasher()
    ordered = sorted({p.id: p for p in posts}.values(), key=lambda p: p.id)
    posted = Counter(p.account for p in ordered)
    tokenized = [(p, words(p.text)) for p in ordered]
    eligible = [(p, ws) for p, ws in tokenized if len(ws) >= rules.min_words]
    signatures = hasher.signatures_of_words([ws for _, ws in eligible])
    pairs = hasher.near_duplicates(signatures, rules.similarity)
    n = len(eligible)
    graph = coo_matrix((np.ones(len(pairs.left)), (pairs.left, pairs.right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[Post]] = defaultdict(list)
    for (post, _), label in zip(eligible, labels.tolist(), strict=True):
        groups[label].append(post)
    events: list[_Event] = []
    in_bursts: dict[int, tuple[int, int]] = {}  # text -> (copies in bursts, copies)
    for label, copies in groups.items():
        if len({p.account for p in copies}) < rules.min_accounts:
            continue
        copies.sort(key=lambda p: (p.created_at, p.id))
        bursts = _bursts(copies, rules)
        synchronized = sum(len(b) for b in bursts)
        if synchronized < rules.synchronized_share * len(copies):
            continue
        in_bursts[label] = (synchronized, len(copies))
        events += [_Event(label, b, frozenset(p.account for p in b)) for b in bursts]
    clusters = _clusters(events, rules)
    index = {p.id: i for i, (p, _) in enumerate(eligible)}
    cluster_of = np.full(n, -1, dtype=np.int64)
    for k, cluster in enumerate(clusters):
        cluster_of[[index[p.id] for e in cluster for p in e.posts]] = k
    inside = (cluster_of[pairs.left] == cluster_of[pairs.right]) & (cluster_of[pairs.left] >= 0)
    which = cluster_of[pairs.left][inside]
    total = np.bincount(which, weights=pairs.similarity[inside], minlength=len(clusters))
    linked = np.bincount(which, minlength=len(clusters))
    signals = []
    for k, cluster in enumerate(clusters):
        mean = float(total[k] / linked[k]) if linked[k] else rules.similarity
        signal = _signal(cluster, mean, posted, account_created or {}, rules, in_bursts)
        if signal is not None:
            signals.append(signal)
    return sorted(signals, key=lambda s: (s.start, s.accounts))


def _bursts(copies: Sequence[Post], rules: Rules) -> list[tuple[Post, ...]]:
    """Runs of copies within `rules.window` of their first copy that reach `min_accounts`
    distinct accounts, taken greedily from the earliest (copies sorted by time)."""
    times = [p.created_at.timestamp() for p in copies]
    span = rules.window.total_seconds()
    bursts = []
    i = 0
    while i < len(copies):
        end = bisect_right(times, times[i] + span)
        if len({p.account for p in copies[i:end]}) >= rules.min_accounts:
            bursts.append(tuple(copies[i:end]))
            i = end
        else:
            i += 1
    return bursts


def _clusters(events: Sequence[_Event], rules: Rules) -> list[list[_Event]]:
    """Union-find over events whose account sets overlap enough."""
    parent = list(range(len(events)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_account: dict[int, list[int]] = defaultdict(list)
    for i, event in enumerate(events):
        for account in event.accounts:
            by_account[account].append(i)
    for shared in by_account.values():
        for k, i in enumerate(shared):
            for j in shared[k + 1 :]:
                a, b = events[i].accounts, events[j].accounts
                if len(a & b) >= rules.overlap * min(len(a), len(b)):
                    parent[root(i)] = root(j)
    clusters: dict[int, list[_Event]] = defaultdict(list)
    for i, event in enumerate(events):
        clusters[root(i)].append(event)
    return list(clusters.values())


def _signal(
    cluster: Sequence[_Event],
    similarity: float,
    posted: Mapping[int, int],
    account_created: Mapping[int, datetime],
    rules: Rules,
    in_bursts: Mapping[int, tuple[int, int]],
) -> CoordinationSignal | None:
    """The cluster as a signal, or None when it is too small or nothing beyond the shared text
    supports it."""
    posts = sorted({p for e in cluster for p in e.posts}, key=lambda p: (p.created_at, p.id))
    accounts = sorted({p.account for p in posts})
    if len(accounts) < rules.min_accounts:
        return None
    accounts_of: dict[int, set[int]] = defaultdict(set)
    for event in cluster:
        accounts_of[event.text] |= event.accounts
    text_count = Counter(a for members in accounts_of.values() for a in members)
    copies = Counter(p.account for p in posts)
    first: dict[int, datetime] = {}
    for p in posts:
        first.setdefault(p.account, p.created_at)
    texts = set(accounts_of)
    window = int(rules.window.total_seconds() // 60)
    synchronized = sum(in_bursts[t][0] for t in texts) / sum(in_bursts[t][1] for t in texts)
    evidence = [
        f"{len(accounts)} accounts posted {len(texts)} near-identical text(s) in {len(posts)} "
        f"posts; {synchronized:.0%} of all copies of these texts came within {window} minutes "
        "of each other."
    ]
    reasons = []
    in_step = [a for a in accounts if text_count[a] >= rules.min_texts]
    if len(texts) >= rules.min_texts and len(in_step) >= rules.min_accounts:
        reasons.append("repeated")
        evidence.append(
            f"{len(in_step)} of these accounts posted in step for at least {rules.min_texts} "
            f"different texts ({len(texts)} in all)."
        )
    known = [a for a in accounts if a in account_created]
    young = [a for a in known if first[a] - account_created[a] < rules.young_age]
    if known and len(young) >= rules.young_share * len(accounts):
        reasons.append("young")
        evidence.append(
            f"{len(young)} of the {len(accounts)} accounts were less than "
            f"{rules.young_age.days} days old when they posted."
        )
    single = [a for a in accounts if copies[a] >= rules.single_purpose * posted[a]]
    if len(single) >= rules.single_purpose_share * len(accounts):
        reasons.append("single_purpose")
        evidence.append(
            f"{len(single)} of the {len(accounts)} accounts posted little else: at least "
            f"{rules.single_purpose:.0%} of their recent posts are these copies."
        )
    if not reasons:
        return None
    return CoordinationSignal(
        accounts=tuple(accounts),
        posts=tuple(sorted(p.id for p in posts)),
        start=posts[0].created_at,
        end=posts[-1].created_at,
        similarity=round(similarity, 3),
        texts=len(texts),
        reasons=tuple(reasons),
        evidence=tuple(evidence),
    )
