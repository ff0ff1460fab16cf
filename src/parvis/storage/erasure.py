"""Erasing an account: the SQL behind services/deletion.py.

What goes is read from the schema rather than listed by hand, so that a table added later is
not forgotten silently. Every foreign key to `accounts.id` is either ON DELETE CASCADE (its
rows are deleted here, table by table, while the account's bare actor is kept to sign its
Delete) or SET NULL (the row is a record kept after the account, de-identified: each such
column is in DEIDENTIFIED, saying what is kept). Columns that hold an account id with no
foreign key are in UNLINKED. tests/services/test_account_deletion.py fails when a column
that looks like a reference to an account is in none of these.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, delete, exists, func, insert, or_, select, union, update
from sqlalchemy.engine import Connection

from parvis.storage.sql import clamped_add
from parvis.storage.tables import (
    account_tombstones,
    accounts,
    appeals,
    authority_orders,
    community_note_raters,
    community_note_ratings,
    community_note_runs,
    community_notes,
    decisions,
    e2e_conversations,
    erased_usernames,
    favourites,
    federation_deliveries,
    federation_inbox,
    feed_served,
    follow_requests,
    follows,
    home_feed,
    label_signal_accounts,
    label_signals,
    media_attachments,
    metadata,
    mod_cases,
    mod_events,
    notice_items,
    notices,
    notifications,
    oauth_apps,
    poll_votes,
    polls,
    status_mentions,
    statuses,
    trend_exclusions,
    users,
)

# What a de-identified free text reads instead.
ERASED = "(erased with the account)"

# Records that outlive the account (SET NULL foreign keys), and what is left of them.
DEIDENTIFIED: dict[str, str] = {
    "notices.reporter_account_id": "the notice is counted in the transparency report; its "
    "notifier's name, e-mail and explanation are blanked when the notifier is erased, its "
    "explanation when the notice is about the erased account or its posts",
    "notice_items.account_id": "the item stays in its case (category, dates); no account or post",
    "mod_cases.account_id": "the case stays (state, priority, dates) with its subject replaced "
    "by the case's own id",
    "mod_cases.assignee_id": "a moderator who is erased is no longer named",
    "mod_events.actor_id": "the event log stays; free text (notes, reasons) of the account's "
    "cases is blanked",
    "decisions.account_id": "the decision (action, ground, category, dates, PUID) is a legal "
    "record; its explanation and facts, which may quote the content, are blanked",
    "decisions.moderator_id": "a moderator who is erased is no longer named",
    "appeals.appellant_account_id": "the appeal and its outcome stay; its text is blanked",
    "appeals.reviewer_id": "a moderator who is erased is no longer named",
    "trusted_flaggers.account_id": "the flagger (an organisation) stays, without its account",
    "authority_orders.created_by": "the order stays; its items naming the account are blanked",
    "label_signals.decided_by": "a moderator who is erased is no longer named",
    "e2e_conversations.created_by": "a group conversation of others stays",
}

# Account ids held without a foreign key, and what erasing does with them.
UNLINKED: dict[str, str] = {
    "accounts.moved_to_account_id": "accounts that moved to it no longer point anywhere",
    "statuses.in_reply_to_account_id": "replies of others to it are kept, unlinked",
    "oauth_apps.owner_account_id": "apps it registered stay (other people use them), ownerless",
    "home_feed.author_id": "its entries in every home feed are deleted",
    "mod_cases.subject_id": "replaced by the case's own id",
    "decisions.subject_id": "replaced by the case's own id",
    "trend_exclusions.target_id": "exclusions of it and of its posts are deleted",
    "e2e_conversations.pair_key": "its one-to-one conversations are deleted",
}


def account_foreign_keys() -> list[tuple[Table, Column[Any], str]]:
    """Every column referencing `accounts.id`, with its ON DELETE rule (upper case)."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column is accounts.c.id:
                    found.append((table, column, (fk.ondelete or "").upper()))
    return found


@dataclass(frozen=True)
class Request:
    """A user's deletion request: when it is due, and whether it is what suspended them."""

    delete_after: datetime | None
    closed_by_deletion: bool


@dataclass(frozen=True)
class Tombstone:
    account_id: int
    uri: str
    started_at: datetime
    erased_at: datetime | None


def _mentions(text_column: Any, needles: Sequence[str]) -> Any:
    return or_(*(text_column.contains(n, autoescape=True) for n in needles))


class ErasureStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- the request -------------------------------------------------------------------------

    def request(self, account_id: int) -> Request | None:
        row = self.conn.execute(
            select(users.c.delete_after, users.c.closed_by_deletion).where(
                users.c.account_id == account_id
            )
        ).first()
        return Request(row[0], bool(row[1])) if row is not None else None

    def set_request(self, account_id: int, delete_after: datetime | None, closed: bool) -> None:
        self.conn.execute(
            update(users)
            .where(users.c.account_id == account_id)
            .values(delete_after=delete_after, closed_by_deletion=closed)
        )

    def due(self, now: datetime, limit: int) -> list[int]:
        """Users whose grace has ended and whose erasure has not started."""
        rows = self.conn.execute(
            select(users.c.account_id)
            .where(
                users.c.delete_after <= now,
                ~exists().where(account_tombstones.c.account_id == users.c.account_id),
            )
            .order_by(users.c.delete_after)
            .limit(limit)
        )
        return [r[0] for r in rows]

    # -- names never given again -------------------------------------------------------------

    def forbid_name(self, digest: str) -> None:
        if not self.name_forbidden(digest):
            self.conn.execute(insert(erased_usernames).values(digest=digest))

    def name_forbidden(self, digest: str) -> bool:
        found = self.conn.execute(
            select(erased_usernames.c.digest).where(erased_usernames.c.digest == digest)
        ).first()
        return found is not None

    # -- tombstones ----------------------------------------------------------------------------

    def start(self, account_id: int, now: datetime) -> None:
        self.conn.execute(insert(account_tombstones).values(account_id=account_id, started_at=now))

    def tombstones(self, limit: int) -> list[Tombstone]:
        rows = self.conn.execute(
            select(
                account_tombstones.c.account_id,
                accounts.c.uri,
                account_tombstones.c.started_at,
                account_tombstones.c.erased_at,
            )
            .join(accounts, accounts.c.id == account_tombstones.c.account_id)
            .order_by(account_tombstones.c.started_at)
            .limit(limit)
        )
        return [Tombstone(r[0], r[1], r[2], r[3]) for r in rows]

    def mark_erased(self, account_id: int, now: datetime) -> None:
        self.conn.execute(
            update(account_tombstones)
            .where(account_tombstones.c.account_id == account_id)
            .values(erased_at=now)
        )

    def pending_deliveries(self, account_id: int) -> int:
        found = self.conn.execute(
            select(func.count()).where(
                federation_deliveries.c.account_id == account_id,
                federation_deliveries.c.state == "pending",
            )
        ).scalar()
        return int(found or 0)

    def remove_account(self, account_id: int) -> None:
        """The last of it: the account row (its deliveries and tombstone go with it)."""
        self.conn.execute(delete(accounts).where(accounts.c.id == account_id))

    # -- who may know it -----------------------------------------------------------------------

    def related_accounts(self, account_id: int) -> set[int]:
        """Every account it followed, was followed by, asked, blocked or was blocked by, replied
        to, boosted, liked, mentioned or voted with, and every one that did any of that to it
        or its posts (local ones too: the caller keeps the remote ones)."""
        mine = select(statuses.c.id).where(statuses.c.account_id == account_id)
        other = statuses.alias("other")
        parent = statuses.alias("parent")
        queries = [
            select(follows.c.target_account_id).where(follows.c.account_id == account_id),
            select(follows.c.account_id).where(follows.c.target_account_id == account_id),
            select(follow_requests.c.target_account_id).where(
                follow_requests.c.account_id == account_id
            ),
            select(follow_requests.c.account_id).where(
                follow_requests.c.target_account_id == account_id
            ),
            select(notifications.c.from_account_id).where(notifications.c.account_id == account_id),
            select(notifications.c.account_id).where(notifications.c.from_account_id == account_id),
            select(status_mentions.c.account_id).where(status_mentions.c.status_id.in_(mine)),
            select(other.c.account_id).where(
                or_(other.c.reblog_of_id.in_(mine), other.c.in_reply_to_id.in_(mine))
            ),
            select(parent.c.account_id)
            .join(
                statuses,
                or_(
                    statuses.c.reblog_of_id == parent.c.id,
                    statuses.c.in_reply_to_id == parent.c.id,
                ),
            )
            .where(statuses.c.account_id == account_id),
            select(favourites.c.account_id).where(favourites.c.status_id.in_(mine)),
            select(statuses.c.account_id)
            .join(favourites, favourites.c.status_id == statuses.c.id)
            .where(favourites.c.account_id == account_id),
            select(polls.c.account_id)
            .join(poll_votes, poll_votes.c.poll_id == polls.c.id)
            .where(poll_votes.c.account_id == account_id),
        ]
        rows = self.conn.execute(union(*queries))
        return {r[0] for r in rows if r[0] is not None and r[0] != account_id}

    # -- posts and files -----------------------------------------------------------------------

    def status_batch(self, account_id: int, limit: int) -> list[int]:
        """Some of its posts, boosts first (deleting an original also deletes boosts of it)."""
        rows = self.conn.execute(
            select(statuses.c.id)
            .where(statuses.c.account_id == account_id)
            .order_by(statuses.c.reblog_of_id.is_(None), statuses.c.id)
            .limit(limit)
        )
        return [r[0] for r in rows]

    def forget_trend_exclusions(self, kind: str, ids: Iterable[int]) -> None:
        wanted = list(ids)
        if wanted:
            self.conn.execute(
                delete(trend_exclusions).where(
                    trend_exclusions.c.kind == kind, trend_exclusions.c.target_id.in_(wanted)
                )
            )

    def media_keys(self, account_id: int) -> list[str]:
        """Every file of its media: uploads, their thumbnails and any unprocessed original
        (avatar and header are media rows too)."""
        rows = self.conn.execute(
            select(
                media_attachments.c.file_key,
                media_attachments.c.thumb_key,
                media_attachments.c.original_key,
            ).where(media_attachments.c.account_id == account_id)
        )
        return sorted({key for row in rows for key in row if key})

    # -- everything else -----------------------------------------------------------------------

    def erase_rows(self, account_id: int, *, keep_activity: str | None) -> None:
        """Delete every row of the account but its own (the bare actor) and the deliveries of
        `keep_activity` (its Delete, still to be delivered); null every SET NULL reference to
        it (de-identify first: `deidentify`)."""
        self._unlinked(account_id)
        self._uncount(account_id)
        for table, column, rule in account_foreign_keys():
            if table is accounts or table is account_tombstones:
                continue
            if rule == "CASCADE":
                stmt = delete(table).where(column == account_id)
                if table is federation_deliveries and keep_activity is not None:
                    stmt = stmt.where(federation_deliveries.c.activity_uri != keep_activity)
                self.conn.execute(stmt)
            else:
                self.conn.execute(
                    update(table).where(column == account_id).values({column.name: None})
                )

    def _uncount(self, account_id: int) -> None:
        """Counters of others that included it: their followers and following, the likes of
        their posts."""
        conn = self.conn
        conn.execute(
            update(accounts)
            .where(
                accounts.c.id.in_(
                    select(follows.c.target_account_id).where(follows.c.account_id == account_id)
                )
            )
            .values(followers_count=clamped_add(accounts.c.followers_count, -1))
        )
        conn.execute(
            update(accounts)
            .where(
                accounts.c.id.in_(
                    select(follows.c.account_id).where(follows.c.target_account_id == account_id)
                )
            )
            .values(following_count=clamped_add(accounts.c.following_count, -1))
        )
        conn.execute(
            update(statuses)
            .where(
                statuses.c.id.in_(
                    select(favourites.c.status_id).where(favourites.c.account_id == account_id)
                )
            )
            .values(favourites_count=clamped_add(statuses.c.favourites_count, -1))
        )

    def _unlinked(self, account_id: int) -> None:
        conn = self.conn
        conn.execute(
            update(accounts)
            .where(accounts.c.moved_to_account_id == account_id)
            .values(moved_to_account_id=None)
        )
        conn.execute(
            update(statuses)
            .where(statuses.c.in_reply_to_account_id == account_id)
            .values(in_reply_to_account_id=None)
        )
        conn.execute(
            update(oauth_apps)
            .where(oauth_apps.c.owner_account_id == account_id)
            .values(owner_account_id=None)
        )
        conn.execute(delete(home_feed).where(home_feed.c.author_id == account_id))
        self.forget_trend_exclusions("account", [account_id])
        conn.execute(
            delete(e2e_conversations).where(
                or_(
                    e2e_conversations.c.pair_key.like(f"{account_id}:%"),
                    e2e_conversations.c.pair_key.like(f"%:{account_id}"),
                )
            )
        )

    def forget_activities(self, account_id: int, needles: Sequence[str]) -> None:
        """Inbound activities that name the account (its URI or profile URL), and deliveries
        of others already made that name it: the JSON kept of them is gone."""
        if not needles:
            return
        self.conn.execute(
            delete(federation_inbox).where(_mentions(federation_inbox.c.body, needles))
        )
        self.conn.execute(
            delete(federation_deliveries).where(
                federation_deliveries.c.account_id != account_id,
                federation_deliveries.c.state != "pending",
                _mentions(federation_deliveries.c.body, needles),
            )
        )

    def forget_activities_of(self, actor_uri: str) -> None:
        """Inbound activities of a remote actor."""
        self.conn.execute(delete(federation_inbox).where(federation_inbox.c.actor_uri == actor_uri))

    def forget_feed_logs(self, account_id: int, since: datetime) -> None:
        """Logged rankings (of anyone, since `since`) that had its posts among their
        candidates: the log keeps what was ranked, authors included."""
        token = re.compile(rb"(?<![0-9])" + str(account_id).encode() + rb"(?![0-9])")
        rows = self.conn.execute(
            select(feed_served.c.id, feed_served.c.candidates).where(
                feed_served.c.served_at >= since
            )
        )
        doomed = [r[0] for r in rows if token.search(zlib.decompress(r[1]))]
        for i in range(0, len(doomed), 500):
            self.conn.execute(delete(feed_served).where(feed_served.c.id.in_(doomed[i : i + 500])))

    def forget_notes_state(self, account_id: int) -> None:
        """The scorer's warm-start state lists raters and notes: dropped when the account wrote
        or rated notes (the next run starts cold)."""
        took_part = self.conn.execute(
            select(
                or_(
                    exists().where(community_notes.c.author_id == account_id),
                    exists().where(community_note_ratings.c.rater_id == account_id),
                    exists().where(community_note_raters.c.account_id == account_id),
                )
            )
        ).scalar()
        if took_part:
            self.conn.execute(
                update(community_note_runs)
                .where(community_note_runs.c.state.is_not(None))
                .values(state=None)
            )

    def deidentify(self, account_id: int, needles: Sequence[str]) -> None:
        """Moderation records about the account, its posts or by it: kept, without the account
        (see DEIDENTIFIED). `needles` are the strings that name it (URI, profile URL)."""
        conn = self.conn
        cases = [
            r[0]
            for r in conn.execute(
                select(mod_cases.c.id).where(mod_cases.c.account_id == account_id)
            )
        ]
        for i in range(0, len(cases), 500):
            chunk = cases[i : i + 500]
            conn.execute(
                update(mod_cases)
                .where(mod_cases.c.id.in_(chunk))
                .values(subject_id=mod_cases.c.id, account_id=None)
            )
            conn.execute(
                update(decisions)
                .where(decisions.c.case_id.in_(chunk))
                .values(
                    subject_id=decisions.c.case_id,
                    account_id=None,
                    status_id=None,
                    explanation=ERASED,
                    facts=ERASED,
                )
            )
            conn.execute(
                update(appeals)
                .where(
                    appeals.c.decision_id.in_(
                        select(decisions.c.id).where(decisions.c.case_id.in_(chunk))
                    )
                )
                .values(text=ERASED, reply=ERASED)
            )
            conn.execute(
                update(notices)
                .where(
                    notices.c.id.in_(
                        select(notice_items.c.notice_id).where(notice_items.c.case_id.in_(chunk))
                    )
                )
                .values(explanation=ERASED)
            )
            conn.execute(
                update(notice_items)
                .where(notice_items.c.case_id.in_(chunk))
                .values(status_id=None, account_id=None)
            )
            self._scrub_events(
                select(mod_events.c.id, mod_events.c.data).where(mod_events.c.case_id.in_(chunk)),
                account_id,
            )
        self._scrub_events(
            select(mod_events.c.id, mod_events.c.data).where(
                mod_events.c.data.contains(str(account_id), autoescape=True)
            ),
            account_id,
        )
        conn.execute(
            update(notices)
            .where(notices.c.reporter_account_id == account_id)
            .values(
                reporter_account_id=None, reporter_name="", reporter_email="", explanation=ERASED
            )
        )
        conn.execute(
            update(appeals)
            .where(appeals.c.appellant_account_id == account_id)
            .values(appellant_account_id=None, text=ERASED)
        )
        if needles:
            conn.execute(
                update(authority_orders)
                .where(_mentions(authority_orders.c["items"], needles))
                .values(items="[]", effect=ERASED, provided=ERASED)
            )
        # A detector's finding about it (alone or in a cluster) is a lead for moderators, not a
        # record: a confirmed one became a decision, which is kept as above.
        conn.execute(
            delete(label_signals).where(
                label_signals.c.id.in_(
                    select(label_signal_accounts.c.signal_id).where(
                        label_signal_accounts.c.account_id == account_id
                    )
                )
            )
        )

    def _scrub_events(self, query: Any, account_id: int) -> None:
        for event_id, raw in list(self.conn.execute(query)):
            data = json.loads(raw or "{}")
            if not isinstance(data, dict):
                continue
            clean = {
                k: (
                    ""
                    if k in ("text", "reason", "note", "comment", "explanation")
                    else None
                    if v == account_id or v == str(account_id)
                    else v
                )
                for k, v in data.items()
            }
            if clean != data:
                self.conn.execute(
                    update(mod_events)
                    .where(mod_events.c.id == event_id)
                    .values(data=json.dumps(clean, sort_keys=True, separators=(",", ":")))
                )

    def compact_search(self) -> None:
        """SQLite's full-text index keeps the words of deleted posts in its segments until they
        are merged (it has no secure delete before SQLite 3.42): merge them all now, so that
        no word of an erased account's posts stays. It rewrites the index, once per erased
        local account. PostgreSQL's index has no such leftovers (dead rows are vacuumed)."""
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql(
                "INSERT INTO status_search(status_search) VALUES ('optimize')"
            )

    def strip_actor(self, account_id: int) -> None:
        """What stays of the account while its Delete is delivered: its URI and key pair."""
        self.conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(
                display_name="",
                note="",
                note_html="",
                fields_json="[]",
                avatar_media_id=None,
                header_media_id=None,
                discoverable=False,
                indexable=False,
                statuses_count=0,
                followers_count=0,
                following_count=0,
                last_status_at=None,
                moved_to_account_id=None,
                featured_uri=None,
            )
        )
