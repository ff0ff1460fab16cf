"""The ranked feeds' storage (issue 7): the candidate queries, the served-ranking log, users'
weights and settings, the bridging viewpoints and sides, and the trending posts.

Candidate queries are few and set-based: one per source, each a fixed number of round trips
whatever the number of candidates, their signals read in the same statement. Statements are
built once, at import time.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    distinct,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection

from parvis.domain.ids import id_for_time, new_id
from parvis.storage.tables import (
    TS,
    accounts,
    blocks,
    favourites,
    feed_post_sides,
    feed_preferences,
    feed_served,
    feed_settings,
    feed_trending,
    feed_viewpoints,
    follows,
    mutes,
    statuses,
)

PUBLIC = "public"
BATCH = 2000


class Post(NamedTuple):
    """A candidate post and its visible signals. For a boost from the home feed, `id` is the
    boost's (what is served) and everything else the original's, but `poster_id` (the booster)
    and `created_at` (the boost's time)."""

    id: int
    original_id: int
    author_id: int
    poster_id: int
    created_at: datetime
    language: str | None
    favourites: int
    reblogs: int
    replies: int
    restriction: str | None
    via: int = 0  # out of network: how many people the viewer follows engaged with it
    boosted: bool = False  # out of network: one of them boosted it (else favourited)
    side_a: float = 0.0
    side_b: float = 0.0
    trend_score: float = 0.0


@dataclass(frozen=True)
class Served:
    """One logged ranking."""

    id: int
    account_id: int
    feed: str
    version: str
    served_at: datetime
    params: dict[str, float]
    context: dict[str, Any]
    candidates: list[list[Any]]
    ranked: list[int]


@dataclass(frozen=True)
class FeedSettings:
    viewpoint_opt_out: bool = False
    lists_in_apps: bool = False


# -- shared pieces ----------------------------------------------------------------------------

_VIEWER: BindParameter[int] = bindparam("viewer")
# Ids are time-ordered: `id >= floor` (the smallest id of `since`) walks an index where
# `created_at >= since` would scan; both are asked, so that either is enough to be right.
_FLOOR: BindParameter[int] = bindparam("floor")
_SINCE = bindparam("since", type_=TS)
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_FOLLOWED = select(follows.c.target_account_id).where(follows.c.account_id == _VIEWER)
_MILD = or_(statuses.c.restriction.is_(None), statuses.c.restriction == "label")


def _unset(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """`column IS NULL`, written so that no index serves it: SQLite's statistics make a
    mostly-NULL indexed column (a reply's or a boost's target) look selective, and it would
    walk every original post instead of the few candidates."""
    return func.coalesce(column, 0) == 0


def _not_shunned(author: ColumnElement[Any]) -> ColumnElement[bool]:
    """The author is neither blocked by the viewer, nor blocking them, nor muted by them."""
    return and_(
        author.not_in(select(blocks.c.target_account_id).where(blocks.c.account_id == _VIEWER)),
        author.not_in(select(blocks.c.account_id).where(blocks.c.target_account_id == _VIEWER)),
        author.not_in(
            select(mutes.c.target_account_id).where(
                mutes.c.account_id == _VIEWER,
                or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > bindparam("now", type_=TS)),
            )
        ),
    )


_SIGNALS = (
    statuses.c.id,
    statuses.c.account_id,
    statuses.c.created_at,
    statuses.c.language,
    statuses.c.favourites_count,
    statuses.c.reblogs_count,
    statuses.c.replies_count,
    statuses.c.restriction,
)


def _post(r: Any, **extra: Any) -> Post:
    return Post(
        id=r.id,
        original_id=r.id,
        author_id=r.account_id,
        poster_id=r.account_id,
        created_at=r.created_at,
        language=r.language,
        favourites=r.favourites_count,
        reblogs=r.reblogs_count,
        replies=r.replies_count,
        restriction=r.restriction,
        **extra,
    )


def _out_of_network(stmt: Select[Any]) -> Select[Any]:
    """Public originals, not replies, by unsuspended authors other than the viewer and those
    they follow, not demoted (nor worse), from nobody the viewer blocked, muted or is blocked
    by."""
    return stmt.where(
        statuses.c.visibility == PUBLIC,
        _unset(statuses.c.reblog_of_id),
        _unset(statuses.c.in_reply_to_id),
        statuses.c.created_at >= _SINCE,
        statuses.c.account_id != _VIEWER,
        statuses.c.account_id.not_in(_FOLLOWED),
        _MILD,
        accounts.c.suspended_at.is_(None),
        _not_shunned(statuses.c.account_id),
    )


# -- statements -------------------------------------------------------------------------------

_original = statuses.alias("original")
_HOME_POSTS = (
    select(
        *_SIGNALS,
        statuses.c.reblog_of_id,
        _original.c.account_id.label("o_account_id"),
        _original.c.language.label("o_language"),
        _original.c.favourites_count.label("o_favourites_count"),
        _original.c.reblogs_count.label("o_reblogs_count"),
        _original.c.replies_count.label("o_replies_count"),
        _original.c.restriction.label("o_restriction"),
    )
    .select_from(statuses.outerjoin(_original, _original.c.id == statuses.c.reblog_of_id))
    .where(
        statuses.c.id.in_(_IDS),
        _not_shunned(statuses.c.account_id),
        or_(_original.c.id.is_(None), _not_shunned(_original.c.account_id)),
    )
)

_booster = statuses.alias("booster")
_target = statuses.alias("target")
_interactions = union_all(
    select(statuses.c.account_id.label("author"))
    .select_from(favourites.join(statuses, statuses.c.id == favourites.c.status_id))
    .where(
        favourites.c.account_id == _VIEWER,
        favourites.c.created_at >= _SINCE,
    ),
    select(_target.c.account_id)
    .select_from(_booster.join(_target, _target.c.id == _booster.c.reblog_of_id))
    .where(
        _booster.c.account_id == _VIEWER,
        _booster.c.id >= _FLOOR,
        _booster.c.created_at >= _SINCE,
    ),
    select(statuses.c.in_reply_to_account_id).where(
        statuses.c.account_id == _VIEWER,
        statuses.c.id >= _FLOOR,
        statuses.c.created_at >= _SINCE,
        statuses.c.in_reply_to_account_id.is_not(None),
    ),
).subquery()
_AFFINITY = select(_interactions.c.author, func.count()).group_by(_interactions.c.author)

_FOLLOWED_REPLIES = (
    select(statuses.c.in_reply_to_id, func.count())
    .where(statuses.c.in_reply_to_id.in_(_IDS), statuses.c.account_id.in_(_FOLLOWED))
    .group_by(statuses.c.in_reply_to_id)
)

# What the people the viewer follows favourited or boosted lately (favourites and boosts of
# posts newer than `since` only: the post must be that recent anyway).
_engagements = union_all(
    select(
        favourites.c.status_id.label("status_id"),
        favourites.c.account_id.label("who"),
        literal(0).label("boost"),
    )
    # Ids are time-ordered: a post id at or above the floor is that recent (the outer query
    # checks created_at too), so the favourites need no join here.
    .where(favourites.c.account_id.in_(_FOLLOWED), favourites.c.status_id >= _FLOOR),
    select(statuses.c.reblog_of_id, statuses.c.account_id, literal(1)).where(
        statuses.c.account_id.in_(_FOLLOWED),
        statuses.c.id >= _FLOOR,
        statuses.c.reblog_of_id >= _FLOOR,
    ),
).subquery()
_engaged = (
    select(
        _engagements.c.status_id,
        func.count(distinct(_engagements.c.who)).label("via"),
        func.max(_engagements.c.boost).label("boosted"),
    )
    .group_by(_engagements.c.status_id)
    # The most engaged-with first, a few times what is wanted, before the joins and checks
    # below (which keep most of them): the rest would rank below anyway.
    .order_by(literal_column("via").desc(), _engagements.c.status_id.desc())
    .limit(bindparam("scan"))
    .subquery()
)
_ENGAGED_BY_FOLLOWING = (
    _out_of_network(
        select(*_SIGNALS, _engaged.c.via, _engaged.c.boosted).select_from(
            _engaged.join(statuses, statuses.c.id == _engaged.c.status_id).join(
                accounts, accounts.c.id == statuses.c.account_id
            )
        )
    )
    .order_by(_engaged.c.via.desc(), statuses.c.id.desc())
    .limit(bindparam("limit"))
)

_TRENDING = (
    _out_of_network(
        select(*_SIGNALS, feed_trending.c.score)
        .select_from(
            feed_trending.join(statuses, statuses.c.id == feed_trending.c.status_id).join(
                accounts, accounts.c.id == statuses.c.account_id
            )
        )
        .where(statuses.c.id.in_(_IDS))
    )
    .order_by(feed_trending.c.score.desc(), statuses.c.id.desc())
    .limit(bindparam("limit"))
)
_TRENDING_IN = _TRENDING.where(statuses.c.language.in_(bindparam("languages", expanding=True)))

# The trending and bridging posts are read in two steps, their ids first: given the ids, every
# planner walks the few candidates by primary key rather than the recent public posts.
_TRENDING_IDS = select(feed_trending.c.status_id)
_SIDES_IDS = select(feed_post_sides.c.status_id)

_smaller_side = case(
    (feed_post_sides.c.side_a < feed_post_sides.c.side_b, feed_post_sides.c.side_a),
    else_=feed_post_sides.c.side_b,
)
_BRIDGING = (
    select(*_SIGNALS, feed_post_sides.c.side_a, feed_post_sides.c.side_b)
    .select_from(
        feed_post_sides.join(statuses, statuses.c.id == feed_post_sides.c.status_id).join(
            accounts, accounts.c.id == statuses.c.account_id
        )
    )
    .where(
        statuses.c.id.in_(_IDS),
        statuses.c.visibility == PUBLIC,
        _unset(statuses.c.reblog_of_id),
        statuses.c.created_at >= _SINCE,
        _MILD,
        accounts.c.suspended_at.is_(None),
        _not_shunned(statuses.c.account_id),
    )
    .order_by(
        _smaller_side.desc(),
        (feed_post_sides.c.side_a + feed_post_sides.c.side_b).desc(),
        statuses.c.id.desc(),
    )
    .limit(bindparam("limit"))
)

_opted_out = select(feed_settings.c.account_id).where(feed_settings.c.viewpoint_opt_out.is_(True))
_all_engagements = union_all(
    select(
        favourites.c.account_id.label("account_id"),
        favourites.c.status_id.label("status_id"),
        favourites.c.created_at.label("at"),
    ).where(favourites.c.created_at >= _SINCE),
    select(statuses.c.account_id, statuses.c.reblog_of_id, statuses.c.created_at).where(
        statuses.c.reblog_of_id.is_not(None), statuses.c.created_at >= _SINCE
    ),
).subquery()
_ENGAGEMENTS = (
    select(_all_engagements.c.account_id, _all_engagements.c.status_id)
    .where(_all_engagements.c.account_id.not_in(_opted_out))
    .order_by(_all_engagements.c.at.desc(), _all_engagements.c.status_id.desc())
    .limit(bindparam("limit"))
)

_LATEST = (
    select(feed_served)
    .where(feed_served.c.account_id == _VIEWER, feed_served.c.feed == bindparam("feed"))
    .order_by(feed_served.c.served_at.desc(), feed_served.c.id.desc())
    .limit(1)
)
_AT_OR_BEFORE = (
    select(feed_served)
    .where(
        feed_served.c.account_id == _VIEWER, feed_served.c.served_at <= bindparam("at", type_=TS)
    )
    .order_by(feed_served.c.served_at.desc(), feed_served.c.id.desc())
    .limit(1)
)


def _window(viewer_id: int, since: datetime, now: datetime, limit: int) -> dict[str, Any]:
    return {
        "viewer": viewer_id,
        "since": since,
        "floor": id_for_time(since),
        "now": now,
        "limit": limit,
    }


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _served(r: Any) -> Served:
    candidates = orjson.loads(zlib.decompress(r.candidates))
    return Served(
        id=r.id,
        account_id=r.account_id,
        feed=r.feed,
        version=r.version,
        served_at=r.served_at,
        params=orjson.loads(r.params),
        context=orjson.loads(r.context),
        candidates=candidates,
        ranked=[candidates[i][0] for i in orjson.loads(r.ranked)],
    )


class RankedFeedStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- candidates ----------------------------------------------------------------------------

    def posts(self, viewer_id: int, ids: Sequence[int], now: datetime) -> dict[int, Post]:
        """Home feed entries by id, a boost carrying its original's signals; but those by (or
        boosting) someone the viewer blocked or muted, or who blocks them."""
        if not ids:
            return {}
        out: dict[int, Post] = {}
        params = {"ids": list(ids), "viewer": viewer_id, "now": now}
        for r in self.conn.execute(_HOME_POSTS, params):
            if r.reblog_of_id is None:
                out[r.id] = _post(r)
            elif r.o_account_id is not None:
                out[r.id] = Post(
                    id=r.id,
                    original_id=r.reblog_of_id,
                    author_id=r.o_account_id,
                    poster_id=r.account_id,
                    created_at=r.created_at,
                    language=r.o_language,
                    favourites=r.o_favourites_count,
                    reblogs=r.o_reblogs_count,
                    replies=r.o_replies_count,
                    restriction=r.o_restriction,
                )
        return out

    def affinity(
        self, viewer_id: int, author_ids: Iterable[int], since: datetime
    ) -> dict[int, int]:
        """The viewer's favourites, boosts and replies since `since`, per author (of these)."""
        authors = set(author_ids) - {viewer_id}
        if not authors:
            return {}
        # One's own interactions of a month are few: all of them, then those with these authors
        # (cheaper than three long IN lists).
        rows = self.conn.execute(
            _AFFINITY, {"viewer": viewer_id, "since": since, "floor": id_for_time(since)}
        )
        return {int(a): int(n) for a, n in rows if a in authors}

    def followed_replies(self, viewer_id: int, status_ids: Sequence[int]) -> dict[int, int]:
        """How many replies to each of these posts people the viewer follows wrote."""
        if not status_ids:
            return {}
        rows = self.conn.execute(_FOLLOWED_REPLIES, {"viewer": viewer_id, "ids": list(status_ids)})
        return {int(s): int(n) for s, n in rows}

    def engaged_by_following(
        self, viewer_id: int, since: datetime, now: datetime, limit: int
    ) -> list[Post]:
        """Public, not-a-reply originals since `since` from beyond the people the viewer
        follows, that some of them favourited or boosted: most of them first."""
        rows = self.conn.execute(
            _ENGAGED_BY_FOLLOWING, {**_window(viewer_id, since, now, limit), "scan": 3 * limit}
        )
        return [_post(r, via=int(r.via), boosted=bool(r.boosted)) for r in rows]

    def trending(
        self,
        viewer_id: int,
        since: datetime,
        now: datetime,
        languages: Sequence[str],
        limit: int,
    ) -> list[Post]:
        """The trending posts (see `replace_trending`) from beyond the people the viewer
        follows, in their languages when known: highest score first."""
        ids = [r[0] for r in self.conn.execute(_TRENDING_IDS)]
        if not ids:
            return []
        params = {**_window(viewer_id, since, now, limit), "ids": ids}
        stmt = _TRENDING
        if languages:
            stmt, params["languages"] = _TRENDING_IN, list(languages)
        return [_post(r, trend_score=float(r.score)) for r in self.conn.execute(stmt, params)]

    def bridging(self, viewer_id: int, since: datetime, now: datetime, limit: int) -> list[Post]:
        """Public originals since `since` with sides, most appreciated by both sides first."""
        ids = [r[0] for r in self.conn.execute(_SIDES_IDS)]
        if not ids:
            return []
        rows = self.conn.execute(_BRIDGING, {**_window(viewer_id, since, now, limit), "ids": ids})
        return [_post(r, side_a=float(r.side_a), side_b=float(r.side_b)) for r in rows]

    def engagements(self, since: datetime, limit: int) -> list[tuple[int, int]]:
        """(account, status) of favourites and boosts since `since`, newest first, but those
        of accounts that opted out of viewpoints."""
        rows = self.conn.execute(_ENGAGEMENTS, {"since": since, "limit": limit})
        return [(int(a), int(s)) for a, s in rows]

    # -- the log of served rankings ------------------------------------------------------------

    def log(
        self,
        account_id: int,
        feed: str,
        version: str,
        served_at: datetime,
        params: Mapping[str, float],
        context: Mapping[str, Any],
        candidates: Sequence[Sequence[Any]],
        ranked: Sequence[int],
    ) -> int:
        served_id = new_id()
        # orjson and the fastest compression: a log row is written on every ranked request.
        blob = zlib.compress(orjson.dumps(candidates), 1)
        # The ranking as positions in the candidates (a status id is its row's first value):
        # a few hundred small numbers instead of as many 18-digit ids.
        position: dict[int, int] = {}
        for i, row in enumerate(candidates):
            position.setdefault(int(row[0]), i)
        self.conn.execute(
            insert(feed_served).values(
                id=served_id,
                account_id=account_id,
                feed=feed,
                version=version,
                served_at=served_at,
                params=_text(dict(params)),
                context=_text(dict(context)),
                candidates=blob,
                ranked=_text([position[status_id] for status_id in ranked]),
            )
        )
        return served_id

    def latest(self, account_id: int, feed: str) -> Served | None:
        row = self.conn.execute(_LATEST, {"viewer": account_id, "feed": feed}).first()
        return _served(row) if row else None

    def at_or_before(self, account_id: int, at: datetime) -> Served | None:
        """The latest ranking served to the account at or before `at`, of any feed."""
        row = self.conn.execute(_AT_OR_BEFORE, {"viewer": account_id, "at": at}).first()
        return _served(row) if row else None

    def keep_only(self, account_id: int, feed: str, served_id: int) -> None:
        """Forget every ranking of this account and feed but one."""
        self.conn.execute(
            delete(feed_served).where(
                feed_served.c.account_id == account_id,
                feed_served.c.feed == feed,
                feed_served.c.id != served_id,
            )
        )

    def prune(self, before: datetime) -> int:
        result = self.conn.execute(delete(feed_served).where(feed_served.c.served_at < before))
        return int(result.rowcount or 0)

    # -- users' weights and settings -----------------------------------------------------------

    def weights(self, account_id: int, feed: str) -> dict[str, Any]:
        row = self.conn.execute(
            select(feed_preferences.c.weights).where(
                feed_preferences.c.account_id == account_id, feed_preferences.c.feed == feed
            )
        ).first()
        found = orjson.loads(row[0]) if row else {}
        return found if isinstance(found, dict) else {}

    def set_weights(
        self, account_id: int, feed: str, weights: Mapping[str, float], now: datetime
    ) -> None:
        self.delete_weights(account_id, feed)
        self.conn.execute(
            insert(feed_preferences).values(
                account_id=account_id, feed=feed, weights=_text(dict(weights)), updated_at=now
            )
        )

    def delete_weights(self, account_id: int, feed: str) -> None:
        self.conn.execute(
            delete(feed_preferences).where(
                feed_preferences.c.account_id == account_id, feed_preferences.c.feed == feed
            )
        )

    def settings(self, account_id: int) -> FeedSettings:
        row = self.conn.execute(
            select(feed_settings.c.viewpoint_opt_out, feed_settings.c.lists_in_apps).where(
                feed_settings.c.account_id == account_id
            )
        ).first()
        return FeedSettings(bool(row[0]), bool(row[1])) if row else FeedSettings()

    def set_settings(self, account_id: int, values: FeedSettings) -> None:
        self.conn.execute(delete(feed_settings).where(feed_settings.c.account_id == account_id))
        self.conn.execute(
            insert(feed_settings).values(
                account_id=account_id,
                viewpoint_opt_out=values.viewpoint_opt_out,
                lists_in_apps=values.lists_in_apps,
            )
        )

    # -- viewpoints, sides, trending (periodic) ------------------------------------------------

    def replace_viewpoints(
        self, factors: Mapping[int, float], engagements: Mapping[int, int], now: datetime
    ) -> None:
        self.conn.execute(delete(feed_viewpoints))
        rows = [
            {"account_id": a, "factor": f, "engagements": engagements.get(a, 0), "computed_at": now}
            for a, f in factors.items()
        ]
        self._insert(feed_viewpoints, rows)

    def viewpoint(self, account_id: int) -> float | None:
        found = self.conn.execute(
            select(feed_viewpoints.c.factor).where(feed_viewpoints.c.account_id == account_id)
        ).scalar()
        return None if found is None else float(found)

    def delete_viewpoint(self, account_id: int) -> None:
        self.conn.execute(delete(feed_viewpoints).where(feed_viewpoints.c.account_id == account_id))

    def replace_sides(self, sides: Mapping[int, tuple[float, float]], now: datetime) -> None:
        self.conn.execute(delete(feed_post_sides))
        rows = [
            # Three decimals are plenty, and the logged rankings compress better.
            {"status_id": s, "side_a": round(a, 3), "side_b": round(b, 3), "computed_at": now}
            for s, (a, b) in sides.items()
        ]
        self._insert(feed_post_sides, rows)

    def replace_trending(self, scores: Mapping[int, float], now: datetime) -> None:
        self.conn.execute(delete(feed_trending))
        rows = [{"status_id": s, "score": v, "computed_at": now} for s, v in scores.items()]
        self._insert(feed_trending, rows)

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            self.conn.execute(insert(table), rows[start : start + BATCH])
