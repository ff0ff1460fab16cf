"""Ordering scored candidates under the diversity rules shared by every ranked feed.

Greedy and deterministic: the next item is always the candidate with the highest score once the
repeat-author penalty is counted (weight × how many posts by the same author are already ranked
above it), ties going to the newer post, then to the higher id. A candidate whose author already
holds `max_author_share` of the last PAGE − 1 items waits until the window moves on; if nothing
else is left, it is left out (it is still in the chronological home). O(n log n): one heap entry
per author, holding that author's best remaining post.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence

from parvis.domain.feeds.algorithm import MAX_ITEMS, PAGE, Algorithm, part
from parvis.domain.feeds.model import Candidate, Context, Item, Part, Ranking

_Entry = tuple[float, Candidate, tuple[Part, ...]]  # (base score, candidate, base parts)


def author_cap(params: Mapping[str, float]) -> int:
    """How many of any PAGE consecutive items one author may hold."""
    return max(1, math.floor(params["max_author_share"] * PAGE + 1e-9))


def rank(
    algorithm: Algorithm,
    candidates: Sequence[Candidate],
    params: Mapping[str, float],
    ctx: Context,
    *,
    limit: int = MAX_ITEMS,
) -> Ranking:
    """The ranking of `candidates` by `algorithm` with the resolved `params` at `ctx.now`."""
    by_author: dict[int, list[_Entry]] = defaultdict(list)
    seen: set[int] = set()
    for c in candidates:
        if c.status_id in seen:  # the same post from two sources counts once
            continue
        seen.add(c.status_id)
        parts = tuple(algorithm.parts(c, params, ctx))
        by_author[c.author_id].append((math.fsum(p.contribution for p in parts), c, parts))
    for entries in by_author.values():
        entries.sort(key=lambda e: (e[0], e[1].created_at, e[1].status_id), reverse=True)
    heads = {author: 0 for author in by_author}

    weight = params["repeat_author_weight"]
    cap = author_cap(params)
    ranked_by: dict[int, int] = defaultdict(int)  # posts of each author ranked so far
    window: deque[int] = deque()  # authors of the last PAGE - 1 items
    in_window: dict[int, int] = defaultdict(int)
    waiting: set[int] = set()  # authors at their cap in the current window
    heap: list[tuple[float, float, int, int]] = []

    def push(author: int) -> None:
        i = heads[author]
        if i >= len(by_author[author]):
            return
        if in_window[author] >= cap:
            waiting.add(author)
            return
        base, c, _ = by_author[author][i]
        adjusted = base - weight * ranked_by[author]
        heapq.heappush(heap, (-adjusted, -c.created_at, -c.status_id, author))

    for author in sorted(by_author):
        push(author)

    items: list[Item] = []
    while heap and len(items) < limit:
        _, _, _, author = heapq.heappop(heap)
        _, c, parts = by_author[author][heads[author]]
        heads[author] += 1
        earlier = ranked_by[author]
        if earlier:
            parts = (
                *parts,
                part(
                    "repeat_author",
                    -float(earlier),
                    weight,
                    "Posts by the same author ranked above: {}",
                    earlier,
                ),
            )
        score = math.fsum(p.contribution for p in parts)
        items.append(Item(c, len(items) + 1, score, parts))
        ranked_by[author] += 1
        window.append(author)
        in_window[author] += 1
        if len(window) > PAGE - 1:
            old = window.popleft()
            in_window[old] -= 1
            if old in waiting and in_window[old] < cap:
                waiting.discard(old)
                push(old)
        push(author)
    return Ranking(algorithm.name, algorithm.version, tuple(items), len(seen) - len(items))
