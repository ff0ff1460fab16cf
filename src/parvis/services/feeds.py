"""Ranked feeds (issue 7): gather a feed's candidates with their visible signals, rank them with
the pure algorithm (parvis.domain.feeds), log the ranking with its inputs, and serve it page by
page to the viewer, each item with its explanation; users' weights and settings; replay of a
logged ranking; the periodic viewpoints, sides and trending posts behind the candidates.

Paging continues through the logged ranking: `max_id` is the last status of the previous page
in the viewer's latest ranking of the feed. A request without it (or whose ranking is gone,
older than PAGING_WINDOW, or from another version of the feed) ranks afresh.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from parvis.domain.errors import Invalid, NotFound
from parvis.domain.feeds import registry, selection, viewpoints
from parvis.domain.feeds.algorithm import Algorithm
from parvis.domain.feeds.model import (
    BOOSTED_BY_FOLLOWING,
    ENGAGED,
    FOLLOWING,
    LIKED_BY_FOLLOWING,
    TRENDING,
    Candidate,
    Context,
    Item,
    Ranking,
)
from parvis.domain.ids import id_for_time
from parvis.domain.models import Status, ViewerFlags
from parvis.services import filters, timelines, trends
from parvis.services.context import Work
from parvis.storage.ranked import Post, Served

# Candidates (see the feeds' `candidates` texts in parvis.domain.feeds).
HOME_WINDOW = timedelta(hours=72)
HOME_LIMIT = 250
BEYOND_WINDOW = timedelta(hours=48)
BEYOND_LIMIT = 100  # out of network, in all
TRENDING_LIMIT = 30  # of which trending posts, at most
AFFINITY_WINDOW = timedelta(days=30)
BRIDGING_WINDOW = timedelta(hours=72)
BRIDGING_LIMIT = 400
# Paging through a logged ranking.
PAGING_WINDOW = timedelta(hours=1)
MAX_PAGE = 40
# The periodic work.
VIEWPOINT_WINDOW = timedelta(days=30)
VIEWPOINT_EDGES = 200_000
SIDES_WINDOW = timedelta(hours=72)
SIDES_KEPT = 600  # the most bridging posts: a viewer's 400 candidates, and room for exclusions
TRENDING_KEPT = 200
TRENDING_BATCH = 10_000


@dataclass(frozen=True)
class FeedPage:
    feed: str  # "for_you" | "bridging"
    served_id: int  # the feed_served row this page comes from
    statuses: list[Status]  # visible to the viewer, filters applied ("home"), ranked order
    items: dict[int, Item]  # status id -> ranking Item (rank, score, parts)
    flags: ViewerFlags  # as timelines.StatusPage.flags
    next_max_id: int | None  # status id to continue after; None when the ranking is exhausted


@dataclass(frozen=True)
class Replay:
    served_id: int
    feed: str
    served_at: datetime
    version: str
    served: list[int]
    recomputed: list[int]
    matches: bool
    first_difference: int | None  # 1-based rank of the first difference
    note: str  # e.g. "version 1 logged, version 2 running" when they differ


# -- the feeds and their documentation --------------------------------------------------------


def catalogue() -> list[Algorithm]:
    """The ranked feeds, in registry order."""
    return list(registry.FEEDS.values())


def algorithm_json(feed: str) -> dict[str, Any]:
    """What a feed publishes of itself (GET /api/parvis/v1/feeds/{feed}/algorithm)."""
    algorithm = registry.get(feed)
    return {
        "name": algorithm.name,
        "title": algorithm.title,
        "version": algorithm.version,
        "summary": algorithm.summary,
        "candidates": algorithm.candidates,
        "inputs": [{"name": i.name, "description": i.description} for i in algorithm.inputs],
        "parameters": [
            {
                "name": p.name,
                "default": p.default,
                "min": p.low,
                "max": p.high,
                "description": p.description,
            }
            for p in algorithm.all_parameters()
        ],
    }


def explanation(item: Item, feed: str) -> dict[str, Any]:
    """Why an item is where it is: its score and the parts that add up to it; the summary
    names its (up to) three largest positive parts, in English."""
    largest = sorted((p for p in item.parts if p.contribution > 0), key=lambda p: -p.contribution)
    return {
        "feed": feed,
        "version": registry.get(feed).version,
        "rank": item.rank,
        "score": round(item.score, 6),
        "parts": [p.as_dict() for p in item.parts],
        "source": item.candidate.source,
        "summary": "; ".join(p.text for p in largest[:3]),
    }


# -- serving ----------------------------------------------------------------------------------


def serve(work: Work, viewer_id: int, feed: str, *, max_id: int | None, limit: int) -> FeedPage:
    """A page of the viewer's ranking of `feed`: the next one after `max_id` in their latest
    ranking, or the first of a fresh one (computed and logged). A write: it logs."""
    algorithm = registry.get(feed)
    limit = max(1, min(limit, MAX_PAGE))
    now = work.now()
    served = _continued(work, viewer_id, algorithm, max_id, now)
    if served is not None:  # the same inputs give the same ranking: recomputed, not stored
        served_id, ranking = served.id, _recompute(served, algorithm, served.params)
        ids = ranking.ids
        start = ids.index(max_id) + 1 if max_id in ids else 0
    else:
        served_id, ranking = _rank_and_log(work, viewer_id, algorithm, now)
        ids, start = ranking.ids, 0
    items = {item.status_id: item for item in ranking.items}
    statuses, flags, end = _visible_page(work, viewer_id, ids, start, limit)
    next_max_id = ids[end - 1] if end < len(ids) else None
    return FeedPage(feed, served_id, statuses, items, flags, next_max_id)


def _continued(
    work: Work, viewer_id: int, algorithm: Algorithm, max_id: int | None, now: datetime
) -> Served | None:
    if max_id is None:
        return None
    latest = work.store.ranked.latest(viewer_id, algorithm.name)
    if (
        latest is None
        or latest.served_at < now - PAGING_WINDOW
        or latest.version != algorithm.version
        or max_id not in latest.ranked
    ):
        return None
    return latest


def _rank_and_log(
    work: Work, viewer_id: int, algorithm: Algorithm, now: datetime
) -> tuple[int, Ranking]:
    languages = _languages(work, viewer_id)
    candidates = GATHER[algorithm.name](work, viewer_id, now, languages)
    params = algorithm.resolve(_custom(work, viewer_id, algorithm))
    ctx = Context(now.timestamp(), languages)
    ranking = selection.rank(algorithm, candidates, params, ctx)
    store = work.store.ranked
    served_id = store.log(
        viewer_id,
        algorithm.name,
        algorithm.version,
        now,
        params,
        {"now": ctx.now, "languages": list(languages)},
        [c.row() for c in candidates],
        ranking.ids,
    )
    if work.settings.feed_log_days == 0:  # nothing kept but what paging needs
        store.keep_only(viewer_id, algorithm.name, served_id)
    return served_id, ranking


def _visible_page(
    work: Work, viewer_id: int, ids: Sequence[int], start: int, limit: int
) -> tuple[list[Status], ViewerFlags, int]:
    """Up to `limit` statuses from ids[start:] that the viewer may see and whose filters do
    not hide, in order, and the position after the last id looked at."""
    kept: list[Status] = []
    results: dict[int, Any] = {}
    pos = start
    while len(kept) < limit and pos < len(ids):
        chunk = list(ids[pos : pos + limit - len(kept)])
        pos += len(chunk)
        seen = timelines.visible(work, viewer_id, chunk, hide_muted=True)
        shown, found = filters.apply(work, viewer_id, "home", seen)
        kept += shown
        results.update(found)
    flags = timelines.flags_for(work, viewer_id, kept)
    return kept, replace(flags, filtered=results) if results else flags, pos


def _languages(work: Work, viewer_id: int) -> tuple[str, ...]:
    """The viewer's posting language and their interface's."""
    user = work.store.accounts.user(viewer_id)
    if user is None:
        return ()
    found = [user.default_language, user.locale.split("-")[0].lower()]
    return tuple(dict.fromkeys(lang for lang in found if lang))


# -- candidates -------------------------------------------------------------------------------


def _restriction(value: str | None) -> str | None:
    """A label stays a label; anything stronger that still lets the viewer see the post keeps
    it out of recommendations at least, so it ranks as demoted."""
    return value if value in (None, "label") else "demote"


def _candidate(post: Post, source: str, **signals: Any) -> Candidate:
    return Candidate(
        status_id=post.id,
        author_id=post.author_id,
        created_at=post.created_at.timestamp(),
        source=source,
        language=post.language,
        favourites=post.favourites,
        reblogs=post.reblogs,
        replies=post.replies,
        via=post.via,
        restriction=_restriction(post.restriction),
        side_a=post.side_a,
        side_b=post.side_b,
        **signals,
    )


def _source(post: Post) -> str:
    if post.trend_score:
        return TRENDING
    return BOOSTED_BY_FOLLOWING if post.boosted else LIKED_BY_FOLLOWING


def _for_you_candidates(
    work: Work, viewer_id: int, now: datetime, languages: tuple[str, ...]
) -> list[Candidate]:
    """The viewer's home feed of the last 72 hours (newest first, a post once however often
    it was boosted, members of exclusive lists left to their lists, as in the home timeline),
    then a bounded set from beyond the people they follow."""
    store = work.store.ranked
    ids = work.store.feeds.page(
        viewer_id,
        max_id=None,
        since_id=id_for_time(now - HOME_WINDOW),
        min_id=None,
        limit=HOME_LIMIT,
    )
    exclusive = work.store.lists.exclusive_member_ids(viewer_id)
    posts = store.posts(viewer_id, ids, now)
    chosen: list[tuple[Post, str]] = []
    originals: set[int] = set()
    for i in ids:
        post = posts.get(i)
        if post is None or post.poster_id in exclusive or post.original_id in originals:
            continue
        originals.add(post.original_id)
        chosen.append((post, FOLLOWING))
    since = now - BEYOND_WINDOW
    trending = store.trending(viewer_id, since, now, languages, TRENDING_LIMIT)
    engaged = store.engaged_by_following(viewer_id, since, now, BEYOND_LIMIT)
    for post in engaged[: BEYOND_LIMIT - len(trending)] + trending:
        if post.original_id not in originals:
            originals.add(post.original_id)
            chosen.append((post, _source(post)))
    affinity = store.affinity(viewer_id, {p.author_id for p, _ in chosen}, now - AFFINITY_WINDOW)
    replies = store.followed_replies(viewer_id, [p.original_id for p, _ in chosen])
    return [
        _candidate(
            post,
            source,
            affinity=affinity.get(post.author_id, 0),
            followed_replies=replies.get(post.original_id, 0),
        )
        for post, source in chosen
    ]


def _bridging_candidates(
    work: Work, viewer_id: int, now: datetime, languages: tuple[str, ...]
) -> list[Candidate]:
    """The most bridging public posts of the last 72 hours (see `recompute_viewpoints`)."""
    posts = work.store.ranked.bridging(viewer_id, now - BRIDGING_WINDOW, now, BRIDGING_LIMIT)
    return [_candidate(post, ENGAGED) for post in posts]


# How each feed of the registry gathers its candidates.
Gatherer = Callable[[Work, int, datetime, tuple[str, ...]], list[Candidate]]
GATHER: dict[str, Gatherer] = {"for_you": _for_you_candidates, "bridging": _bridging_candidates}


# -- weights ----------------------------------------------------------------------------------


def _custom(work: Work, viewer_id: int, algorithm: Algorithm) -> dict[str, float]:
    """The user's stored weights that are still valid (bounds may have changed since)."""
    out: dict[str, float] = {}
    for name, value in work.store.ranked.weights(viewer_id, algorithm.name).items():
        try:
            out.update(algorithm.validate({name: value}))
        except Invalid:
            continue
    return out


def weights(work: Work, viewer_id: int, feed: str) -> dict[str, Any]:
    """{"feed", "weights": every parameter as it applies, "custom": the user's own}."""
    algorithm = registry.get(feed)
    custom = _custom(work, viewer_id, algorithm)
    return {"feed": feed, "weights": algorithm.resolve(custom), "custom": custom}


def set_weights(
    work: Work, viewer_id: int, feed: str, values: Mapping[str, object]
) -> dict[str, Any]:
    """Merge `values` into the user's weights, every one within its bounds (Invalid names
    every offending parameter)."""
    algorithm = registry.get(feed)
    checked = algorithm.validate(values)
    merged = {**_custom(work, viewer_id, algorithm), **checked}
    work.store.ranked.set_weights(viewer_id, feed, merged, work.now())
    return weights(work, viewer_id, feed)


def reset_weights(work: Work, viewer_id: int, feed: str) -> dict[str, Any]:
    registry.get(feed)
    work.store.ranked.delete_weights(viewer_id, feed)
    return weights(work, viewer_id, feed)


# -- settings ---------------------------------------------------------------------------------


def viewpoint_opt_out(work: Work, viewer_id: int) -> bool:
    return work.store.ranked.settings(viewer_id).viewpoint_opt_out


def own_viewpoint(work: Work, viewer_id: int) -> float | None:
    """The viewer's own estimated position, from -1 to 1 (None: not estimated). Shown to them
    only: nobody else can read it."""
    return work.store.ranked.viewpoint(viewer_id)


def set_viewpoint_opt_out(work: Work, viewer_id: int, value: bool) -> None:
    """Opting out deletes the stored factor at once; the account's favourites and boosts
    leave the posts' sides at the next recomputation (within 15 minutes)."""
    store = work.store.ranked
    store.set_settings(viewer_id, replace(store.settings(viewer_id), viewpoint_opt_out=value))
    if value:
        store.delete_viewpoint(viewer_id)


def lists_in_apps(work: Work, viewer_id: int) -> bool:
    """Whether Mastodon apps see the ranked feeds among the user's lists (default: no;
    the user turns it on in Settings → Feeds)."""
    return work.store.ranked.settings(viewer_id).lists_in_apps


def set_lists_in_apps(work: Work, viewer_id: int, value: bool) -> None:
    store = work.store.ranked
    store.set_settings(viewer_id, replace(store.settings(viewer_id), lists_in_apps=value))


# -- replay -----------------------------------------------------------------------------------


def _recompute(served: Served, algorithm: Algorithm, params: Mapping[str, float]) -> Ranking:
    candidates = [Candidate.from_row(row) for row in served.candidates]
    ctx = Context(float(served.context["now"]), tuple(served.context.get("languages", ())))
    return selection.rank(algorithm, candidates, params, ctx)


def replay(
    work: Work, account_id: int, at: datetime, *, overrides: Mapping[str, float] | None = None
) -> Replay:
    """Recompute the latest ranking served to the account at or before `at` (any feed) from
    its logged inputs with the running code, `overrides` replacing logged parameters, and
    compare the order with what was served."""
    served = work.store.ranked.at_or_before(account_id, at)
    if served is None:
        raise NotFound(
            f"No ranked feed was served to this account at or before {at:%Y-%m-%d %H:%M:%S} "
            f"UTC that is still logged (the log keeps {work.settings.feed_log_days} days)"
        )
    algorithm = registry.get(served.feed)
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(algorithm.defaults()))
    if unknown:
        raise Invalid(f"{', '.join(unknown)}: not a parameter of {served.feed}")
    params = {**algorithm.resolve(served.params), **overrides}
    recomputed = _recompute(served, algorithm, params).ids
    first = next(
        (
            n
            for n, (a, b) in enumerate(zip(served.ranked, recomputed, strict=False), start=1)
            if a != b
        ),
        None,
    )
    if first is None and len(served.ranked) != len(recomputed):
        first = min(len(served.ranked), len(recomputed)) + 1
    note = (
        f"version {served.version} logged, version {algorithm.version} running"
        if served.version != algorithm.version
        else ""
    )
    return Replay(
        served.id,
        served.feed,
        served.served_at,
        served.version,
        served.ranked,
        recomputed,
        first is None,
        first,
        note,
    )


# -- periodic work ----------------------------------------------------------------------------


def recompute_viewpoints(work: Work) -> tuple[int, int]:
    """Every active account's viewpoint from the favourites and boosts of the last 30 days
    (accounts that opted out left out), then each recent post's sides; only the latest are
    kept. Returns (accounts with a factor, posts with sides)."""
    now = work.now()
    store = work.store.ranked
    edges = store.engagements(now - VIEWPOINT_WINDOW, VIEWPOINT_EDGES)
    found = viewpoints.estimate(edges)
    store.replace_viewpoints(found.factors, Counter(a for a, _ in edges), now)
    floor = id_for_time(now - SIDES_WINDOW)
    sides = found.sides([(a, s) for a, s in edges if s >= floor])
    top = sorted(
        sides.items(), key=lambda kv: (min(kv[1]), kv[1][0] + kv[1][1], kv[0]), reverse=True
    )[:SIDES_KEPT]
    store.replace_sides(dict(top), now)
    return len(found.factors), len(top)


def refresh_trending(work: Work) -> int:
    """The trending posts For you draws from, ranked as parvis.services.trends ranks them
    (interactions, halved every 6 hours), the best TRENDING_KEPT kept. Returns how many."""
    now = work.now()
    found = work.store.trends.status_candidates(now - timedelta(hours=trends.STATUS_WINDOW_HOURS))
    counts: dict[int, dict[str, int]] = {}
    for start in range(0, len(found), TRENDING_BATCH):  # PostgreSQL takes 65,535 parameters
        batch = [c[0] for c in found[start : start + TRENDING_BATCH]]
        counts.update(work.store.trends.interacting_accounts(batch))
    scored: dict[int, float] = {}
    for status_id, _, created_at in found:
        interactions = sum(counts.get(status_id, {}).values())
        if interactions >= trends.MIN_STATUS_INTERACTIONS:
            scored[status_id] = trends.status_score(interactions, created_at, now)
    top = sorted(scored.items(), key=lambda kv: (-kv[1], -kv[0]))[:TRENDING_KEPT]
    work.store.ranked.replace_trending(dict(top), now)
    return len(top)


def prune_log(work: Work) -> int:
    """Forget served rankings older than PARVIS_FEED_LOG_DAYS (with 0, older than paging
    needs). Returns how many."""
    days = work.settings.feed_log_days
    keep = timedelta(days=days) if days else PAGING_WINDOW
    return work.store.ranked.prune(work.now() - keep)
