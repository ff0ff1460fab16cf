"""Statuses: writing them, and loading pages of them fully hydrated in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.sql import Select

from parvis.domain.ids import new_id
from parvis.domain.models import Media, Mention, Quote, Status
from parvis.domain.visibility import Visibility
from parvis.storage.accounts import AccountStore
from parvis.storage.polls import polls_for
from parvis.storage.quotes import quotes_for
from parvis.storage.sql import clamped_add
from parvis.storage.tables import (
    accounts,
    idempotency_keys,
    media_attachments,
    oauth_apps,
    status_mentions,
    status_tags,
    statuses,
    tags,
)


def media_from_row(r: RowMapping) -> Media:
    return Media(
        id=r["id"],
        account_id=r["account_id"],
        status_id=r["status_id"],
        type=r["type"],
        state=r["state"],
        file_key=r["file_key"],
        thumb_key=r["thumb_key"],
        mime=r["mime"],
        remote_url=r["remote_url"],
        width=r["width"],
        height=r["height"],
        thumb_width=r["thumb_width"],
        thumb_height=r["thumb_height"],
        blurhash=r["blurhash"],
        description=r["description"],
        focus_x=r["focus_x"],
        focus_y=r["focus_y"],
        error=r["error"],
        created_at=r["created_at"],
    )


def page(
    stmt: Select[Any],
    id_col: Any,
    *,
    max_id: int | None,
    since_id: int | None,
    min_id: int | None,
    limit: int,
) -> Select[Any]:
    """Mastodon paging on a time-ordered id: newest first, except with min_id (oldest first)."""
    if max_id is not None:
        stmt = stmt.where(id_col < max_id)
    if since_id is not None:
        stmt = stmt.where(id_col > since_id)
    if min_id is not None:
        return stmt.where(id_col > min_id).order_by(id_col.asc()).limit(limit)
    return stmt.order_by(id_col.desc()).limit(limit)


# Only statuses with media attached.
_HAS_MEDIA = (
    select(media_attachments.c.id).where(media_attachments.c.status_id == statuses.c.id).exists()
)

# Statements of the hot read path, built once (execution still caches their compiled form).
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_BY_IDS = select(statuses).where(statuses.c.id.in_(_IDS))
_MEDIA_FOR = (
    select(media_attachments)
    .where(media_attachments.c.status_id.in_(_IDS))
    .order_by(media_attachments.c.id)
)
_MENTIONS_FOR = (
    select(
        status_mentions.c.status_id,
        accounts.c.id,
        accounts.c.username,
        accounts.c.domain,
        accounts.c.url,
    )
    .join(accounts, accounts.c.id == status_mentions.c.account_id)
    .where(status_mentions.c.status_id.in_(_IDS))
)
_TAGS_FOR = (
    select(status_tags.c.status_id, tags.c.name)
    .join(tags, tags.c.id == status_tags.c.tag_id)
    .where(status_tags.c.status_id.in_(_IDS))
)
_APPS_FOR = select(oauth_apps.c.id, oauth_apps.c.name, oauth_apps.c.website).where(
    oauth_apps.c.id.in_(_IDS)
)


class StatusStore:
    def __init__(self, conn: Connection, accounts_store: AccountStore) -> None:
        self.conn = conn
        self.accounts = accounts_store

    # -- writing -------------------------------------------------------------------------

    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(statuses).values(**values))

    def add_mentions(self, status_id: int, account_ids: Iterable[int]) -> None:
        rows = [{"status_id": status_id, "account_id": a} for a in dict.fromkeys(account_ids)]
        if rows:
            self.conn.execute(insert(status_mentions), rows)

    def tag_ids(self, names: Sequence[tuple[str, str]], now: Any) -> list[int]:
        """Ids of (normalized, display) tags, creating the missing ones."""
        ids: list[int] = []
        for key, display in names:
            found = self.conn.execute(select(tags.c.id).where(tags.c.name == key)).scalar()
            if found is None:
                found = new_id()
                self.conn.execute(
                    insert(tags).values(id=found, name=key, display_name=display, created_at=now)
                )
            ids.append(found)
        return ids

    def add_tags(self, status_id: int, tag_ids: Iterable[int]) -> None:
        rows = [{"status_id": status_id, "tag_id": t} for t in dict.fromkeys(tag_ids)]
        if rows:
            self.conn.execute(insert(status_tags), rows)

    def tag_id(self, key: str) -> int | None:
        return self.conn.execute(select(tags.c.id).where(tags.c.name == key)).scalar()

    def adjust_counts(self, status_id: int, **deltas: int) -> None:
        values = {n: clamped_add(getattr(statuses.c, n), d) for n, d in deltas.items() if d}
        if values:
            self.conn.execute(update(statuses).where(statuses.c.id == status_id).values(**values))

    def delete(self, status_id: int) -> None:
        self.conn.execute(delete(statuses).where(statuses.c.id == status_id))

    def update(self, status_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(update(statuses).where(statuses.c.id == status_id).values(**values))

    def clear_mentions_and_tags(self, status_id: int) -> None:
        self.conn.execute(delete(status_mentions).where(status_mentions.c.status_id == status_id))
        self.conn.execute(delete(status_tags).where(status_tags.c.status_id == status_id))

    def detach_media(self, status_id: int, keep: Sequence[int]) -> None:
        """Detach the status' media except `keep` (an edit removed them)."""
        stmt = update(media_attachments).where(media_attachments.c.status_id == status_id)
        if keep:
            stmt = stmt.where(media_attachments.c.id.not_in(list(keep)))
        self.conn.execute(stmt.values(status_id=None))

    def reblogs_of(self, status_id: int) -> list[tuple[int, int]]:
        """(reblog id, booster id) for every boost of a status."""
        rows = self.conn.execute(
            select(statuses.c.id, statuses.c.account_id).where(statuses.c.reblog_of_id == status_id)
        )
        return [(r[0], r[1]) for r in rows]

    def reblog_by(self, account_id: int, status_id: int) -> int | None:
        return self.conn.execute(
            select(statuses.c.id).where(
                statuses.c.account_id == account_id, statuses.c.reblog_of_id == status_id
            )
        ).scalar()

    def attach_media(self, status_id: int, media_ids: Sequence[int]) -> None:
        if media_ids:
            self.conn.execute(
                update(media_attachments)
                .where(media_attachments.c.id.in_(list(media_ids)))
                .values(status_id=status_id)
            )

    def restrictions_ended(self, now: datetime) -> list[int]:
        """Posts whose moderation restriction has reached its end."""
        rows = self.conn.execute(
            select(statuses.c.id).where(
                statuses.c.restriction.is_not(None), statuses.c.restriction_until <= now
            )
        )
        return [int(r[0]) for r in rows]

    # -- reading -------------------------------------------------------------------------

    def exists(self, status_id: int) -> bool:
        return (
            self.conn.execute(select(statuses.c.id).where(statuses.c.id == status_id)).first()
            is not None
        )

    def get(self, status_id: int) -> Status | None:
        return self.load([status_id]).get(status_id)

    def load(self, ids: Iterable[int]) -> dict[int, Status]:
        """Statuses by id with their account, media, mentions, tags, app and boosted status,
        in a fixed number of queries whatever the page size (boosted statuses included)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        rows = list(self.conn.execute(_BY_IDS, {"ids": wanted}).mappings())
        have = {r["id"] for r in rows}
        missing = {r["reblog_of_id"] for r in rows if r["reblog_of_id"]} - have
        if missing:
            rows += self.conn.execute(_BY_IDS, {"ids": list(missing)}).mappings()
        quote_map = quotes_for(self.conn, [r["id"] for r in rows])
        # Quoted statuses, one level deep (a quote inside a quote is shown shallow).
        have = {r["id"] for r in rows}
        quoted = {q for state, q in quote_map.values() if q and state == "accepted"} - have
        if quoted:
            extra = list(self.conn.execute(_BY_IDS, {"ids": list(quoted)}).mappings())
            rows += extra
            quote_map.update(quotes_for(self.conn, [r["id"] for r in extra]))
        all_ids = [r["id"] for r in rows]
        poll_map = polls_for(self.conn, all_ids)
        account_map = self.accounts.get_many({r["account_id"] for r in rows})
        media = self._media_for(all_ids)
        mentions = self._mentions_for(all_ids)
        tag_map = self._tags_for(all_ids)
        apps = self._apps_for({r["application_id"] for r in rows if r["application_id"]})
        built: dict[int, Status] = {}
        for r in rows:
            app = apps.get(r["application_id"]) if r["application_id"] else None
            sid = r["id"]
            built[sid] = Status(
                id=sid,
                account=account_map[r["account_id"]],
                uri=r["uri"],
                url=r["url"],
                local=r["local"],
                in_reply_to_id=r["in_reply_to_id"],
                in_reply_to_account_id=r["in_reply_to_account_id"],
                reblog_of_id=r["reblog_of_id"],
                text=r["text"],
                content=r["content"],
                spoiler_text=r["spoiler_text"],
                sensitive=r["sensitive"],
                visibility=Visibility(r["visibility"]),
                language=r["language"],
                application_id=r["application_id"],
                replies_count=r["replies_count"],
                reblogs_count=r["reblogs_count"],
                favourites_count=r["favourites_count"],
                created_at=r["created_at"],
                edited_at=r["edited_at"],
                media=tuple(media.get(sid, ())),
                mentions=tuple(mentions.get(sid, ())),
                tags=tuple(tag_map.get(sid, ())),
                application_name=app[0] if app else None,
                application_website=app[1] if app else None,
                reply_policy=r["reply_policy"],
                quote_policy=r["quote_policy"],
                quotes_count=r["quotes_count"],
                poll=poll_map.get(sid),
                restriction=r["restriction"],
                restriction_label=r["restriction_label"],
            )
        shallow = {
            sid: replace(st, quote=Quote(quote_map[sid][0], quote_map[sid][1]))
            for sid, st in built.items()
            if sid in quote_map
        }
        built.update(shallow)
        for sid, (state, qid) in quote_map.items():
            if sid in built and qid is not None and state == "accepted" and qid in built:
                built[sid] = replace(
                    built[sid], quote=Quote(state, qid, shallow.get(qid, built[qid]))
                )
        out: dict[int, Status] = {}
        for sid in wanted:
            status = built.get(sid)
            if status is None:
                continue
            if status.reblog_of_id:
                original = built.get(status.reblog_of_id)
                if original is None:  # the boosted status is gone: so is the boost
                    continue
                status = replace(status, reblog=original)
            out[sid] = status
        return out

    def _media_for(self, status_ids: list[int]) -> dict[int, list[Media]]:
        out: dict[int, list[Media]] = defaultdict(list)
        for r in self.conn.execute(_MEDIA_FOR, {"ids": status_ids}).mappings():
            out[r["status_id"]].append(media_from_row(r))
        return out

    def _mentions_for(self, status_ids: list[int]) -> dict[int, list[Mention]]:
        out: dict[int, list[Mention]] = defaultdict(list)
        for sid, aid, username, domain, url in self.conn.execute(
            _MENTIONS_FOR, {"ids": status_ids}
        ):
            out[sid].append(Mention(account_id=aid, username=username, domain=domain, url=url))
        return out

    def _tags_for(self, status_ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = defaultdict(list)
        for sid, name in self.conn.execute(_TAGS_FOR, {"ids": status_ids}):
            out[sid].append(name)
        return out

    def _apps_for(self, app_ids: set[int]) -> dict[int, tuple[str, str | None]]:
        if not app_ids:
            return {}
        rows = self.conn.execute(_APPS_FOR, {"ids": list(app_ids)})
        return {r[0]: (r[1], r[2]) for r in rows}

    # -- id queries for timelines (candidates; visibility is applied by the caller) --------

    def account_timeline_ids(
        self,
        account_id: int,
        *,
        exclude_replies: bool,
        exclude_reblogs: bool,
        only_media: bool,
        tagged: int | None,
        visibilities: Sequence[str],
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[int]:
        stmt = select(statuses.c.id).where(
            statuses.c.account_id == account_id, statuses.c.visibility.in_(list(visibilities))
        )
        if exclude_replies:
            stmt = stmt.where(
                (statuses.c.in_reply_to_id.is_(None))
                | (statuses.c.in_reply_to_account_id == account_id)
            )
        if exclude_reblogs:
            stmt = stmt.where(statuses.c.reblog_of_id.is_(None))
        if only_media:
            stmt = stmt.where(_HAS_MEDIA)
        if tagged is not None:
            stmt = stmt.where(
                select(status_tags.c.status_id)
                .where(
                    and_(status_tags.c.status_id == statuses.c.id, status_tags.c.tag_id == tagged)
                )
                .exists()
            )
        stmt = page(
            stmt, statuses.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit
        )
        return [r[0] for r in self.conn.execute(stmt)]

    def public_ids(
        self,
        *,
        local: bool | None,
        only_media: bool,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[int]:
        stmt = select(statuses.c.id).where(
            statuses.c.visibility == Visibility.PUBLIC.value, statuses.c.reblog_of_id.is_(None)
        )
        if local is not None:
            stmt = stmt.where(statuses.c.local == local)
        if only_media:
            stmt = stmt.where(_HAS_MEDIA)
        stmt = page(
            stmt, statuses.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit
        )
        return [r[0] for r in self.conn.execute(stmt)]

    def tag_ids_named(self, keys: Iterable[str]) -> dict[str, int]:
        """{normalized name: tag id} for those of these tags that exist."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = self.conn.execute(select(tags.c.name, tags.c.id).where(tags.c.name.in_(wanted)))
        return {r[0]: r[1] for r in rows}

    def tag_ids_page(
        self,
        tag_id: int,
        *,
        local: bool | None,
        only_media: bool,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
        any_ids: Sequence[int] = (),
        all_ids: Sequence[int] = (),
        none_ids: Sequence[int] = (),
    ) -> list[int]:
        """Public statuses tagged `tag_id` (or any of `any_ids`), that also carry every one of
        `all_ids` and none of `none_ids` (Mastodon's any[] / all[] / none[])."""
        if any_ids:
            either = [tag_id, *any_ids]
            stmt = (
                select(statuses.c.id)
                .join(status_tags, status_tags.c.status_id == statuses.c.id)
                .where(status_tags.c.tag_id.in_(either))
                .distinct()
            )
        else:  # the common case: one index range scan
            stmt = (
                select(statuses.c.id)
                .join(status_tags, status_tags.c.status_id == statuses.c.id)
                .where(status_tags.c.tag_id == tag_id)
            )
        stmt = stmt.where(statuses.c.visibility == Visibility.PUBLIC.value)
        for required in dict.fromkeys(all_ids):
            also = status_tags.alias()
            stmt = stmt.where(
                select(also.c.tag_id)
                .where(also.c.status_id == statuses.c.id, also.c.tag_id == required)
                .exists()
            )
        if none_ids:
            other = status_tags.alias()
            stmt = stmt.where(
                ~select(other.c.tag_id)
                .where(other.c.status_id == statuses.c.id, other.c.tag_id.in_(list(none_ids)))
                .exists()
            )
        if local is not None:
            stmt = stmt.where(statuses.c.local == local)
        if only_media:
            stmt = stmt.where(_HAS_MEDIA)
        stmt = page(
            stmt, statuses.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit
        )
        return [r[0] for r in self.conn.execute(stmt)]

    def thread_ids(self, root_id: int) -> list[int]:
        rows = self.conn.execute(
            select(statuses.c.id)
            .where((statuses.c.thread_root_id == root_id) | (statuses.c.id == root_id))
            .order_by(statuses.c.id)
            .limit(4096)
        )
        return [r[0] for r in rows]

    def thread_root_of(self, status_id: int) -> int | None:
        row = self.conn.execute(
            select(statuses.c.thread_root_id).where(statuses.c.id == status_id)
        ).first()
        if row is None:
            return None
        return row[0] or status_id

    def parent_and_root(self, status_id: int) -> tuple[int, int | None, int] | None:
        """(account id, thread root id or None, id) of a status, to reply to it."""
        row = self.conn.execute(
            select(statuses.c.account_id, statuses.c.thread_root_id, statuses.c.id).where(
                statuses.c.id == status_id
            )
        ).first()
        return (row[0], row[1], row[2]) if row else None

    # -- idempotency ---------------------------------------------------------------------

    def idempotent(self, account_id: int, key: str) -> int | None:
        return self.conn.execute(
            select(idempotency_keys.c.status_id).where(
                idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key
            )
        ).scalar()

    def remember_idempotency(self, account_id: int, key: str, status_id: int, now: Any) -> None:
        self.conn.execute(
            insert(idempotency_keys).values(
                account_id=account_id, key=key, status_id=status_id, created_at=now
            )
        )
