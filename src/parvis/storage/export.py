"""What the export of an account (and the answer to an authority's order to provide
information) reads beyond the other stores: the account's rows of every table that holds
something of it, one section per file of the archive, streamed in batches (`yield_per`: a
server-side cursor on PostgreSQL, the driver's cursor on SQLite) so that a large account never
sits whole in memory.

Rows come back as plain mappings whose column names say what they hold; an account another
row points at comes as `<name>_username`, `<name>_domain`, `<name>_uri` (the service makes
the address), a post as `<name>_uri`. Ids of this server's private tables are left out: they
mean nothing anywhere else."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnElement

from parvis.storage.tables import (
    account_aliases,
    account_domain_blocks,
    account_ips,
    account_labels,
    account_notes,
    account_pins,
    accounts,
    appeals,
    community_note_raters,
    community_note_ratings,
    community_notes,
    decisions,
    e2e_messages,
    e2e_participants,
    favourites,
    featured_tags,
    feed_preferences,
    feed_settings,
    feed_viewpoints,
    follow_requests,
    label_preferences,
    markers,
    notices,
    notification_policies,
    oauth_apps,
    oauth_tokens,
    poll_votes,
    polls,
    scheduled_statuses,
    status_edits,
    status_pins,
    statuses,
    suggestion_dismissals,
    tag_follows,
    tags,
    thread_mutes,
)

BATCH = 500


def _account(alias_name: str, joined: Any) -> list[ColumnElement[Any]]:
    return [
        joined.c.username.label(f"{alias_name}_username"),
        joined.c.domain.label(f"{alias_name}_domain"),
        joined.c.uri.label(f"{alias_name}_uri"),
    ]


def _favourites(account_id: int) -> Select[Any]:
    return (
        select(statuses.c.uri.label("post_uri"), favourites.c.created_at)
        .join(statuses, statuses.c.id == favourites.c.status_id)
        .where(favourites.c.account_id == account_id)
        .order_by(favourites.c.id)
    )


def _pinned_posts(account_id: int) -> Select[Any]:
    return (
        select(statuses.c.uri.label("post_uri"), status_pins.c.created_at)
        .join(statuses, statuses.c.id == status_pins.c.status_id)
        .where(status_pins.c.account_id == account_id)
        .order_by(status_pins.c.id)
    )


def _targets(table: Any, *columns: ColumnElement[Any]) -> Callable[[int], Select[Any]]:
    """Rows of `table` pointing from the account to other accounts, with their addresses."""

    def build(account_id: int) -> Select[Any]:
        other = accounts.alias("other")
        return (
            select(*_account("account", other), *columns)
            .join(other, other.c.id == table.c.target_account_id)
            .where(table.c.account_id == account_id)
            .order_by(other.c.id)
        )

    return build


def _followed_tags(account_id: int) -> Select[Any]:
    return (
        select(tags.c.display_name.label("name"), tag_follows.c.created_at)
        .join(tags, tags.c.id == tag_follows.c.tag_id)
        .where(tag_follows.c.account_id == account_id)
        .order_by(tag_follows.c.id)
    )


def _featured_tags(account_id: int) -> Select[Any]:
    return (
        select(featured_tags.c.name, featured_tags.c.created_at)
        .where(featured_tags.c.account_id == account_id)
        .order_by(featured_tags.c.id)
    )


def _muted_conversations(account_id: int) -> Select[Any]:
    return (
        select(statuses.c.uri.label("thread_uri"), thread_mutes.c.created_at)
        .join(statuses, statuses.c.id == thread_mutes.c.thread_root_id)
        .where(thread_mutes.c.account_id == account_id)
        .order_by(thread_mutes.c.thread_root_id)
    )


def _domain_blocks(account_id: int) -> Select[Any]:
    return (
        select(account_domain_blocks.c.domain, account_domain_blocks.c.created_at)
        .where(account_domain_blocks.c.account_id == account_id)
        .order_by(account_domain_blocks.c.domain)
    )


def _polls(account_id: int) -> Select[Any]:
    return (
        select(
            statuses.c.uri.label("post_uri"),
            polls.c.options,
            polls.c.multiple,
            polls.c.hide_totals,
            polls.c.expires_at,
            polls.c.created_at,
        )
        .join(statuses, statuses.c.id == polls.c.status_id)
        .where(polls.c.account_id == account_id)
        .order_by(polls.c.id)
    )


def _poll_votes(account_id: int) -> Select[Any]:
    return (
        select(statuses.c.uri.label("post_uri"), poll_votes.c.choice, poll_votes.c.created_at)
        .join(polls, polls.c.id == poll_votes.c.poll_id)
        .join(statuses, statuses.c.id == polls.c.status_id)
        .where(poll_votes.c.account_id == account_id)
        .order_by(poll_votes.c.id)
    )


def _scheduled_posts(account_id: int) -> Select[Any]:
    return (
        select(
            scheduled_statuses.c.scheduled_at,
            scheduled_statuses.c.params,
            scheduled_statuses.c.created_at,
        )
        .where(scheduled_statuses.c.account_id == account_id)
        .order_by(scheduled_statuses.c.scheduled_at, scheduled_statuses.c.id)
    )


def _edit_history(account_id: int) -> Select[Any]:
    return (
        select(
            statuses.c.uri.label("post_uri"),
            status_edits.c.text,
            status_edits.c.spoiler_text,
            status_edits.c.sensitive,
            status_edits.c.poll_options,
            status_edits.c.created_at,
        )
        .join(statuses, statuses.c.id == status_edits.c.status_id)
        .where(status_edits.c.account_id == account_id)
        .order_by(status_edits.c.id)
    )


def _community_notes(account_id: int) -> Select[Any]:
    return (
        select(
            community_notes.c.uri,
            statuses.c.uri.label("post_uri"),
            community_notes.c.classification,
            community_notes.c.reasons,
            community_notes.c.summary,
            community_notes.c.sources,
            community_notes.c.language,
            community_notes.c.created_at,
            community_notes.c.rating_status,
        )
        .join(statuses, statuses.c.id == community_notes.c.status_id)
        .where(community_notes.c.author_id == account_id)
        .order_by(community_notes.c.id)
    )


def _community_note_ratings(account_id: int) -> Select[Any]:
    return (
        select(
            community_notes.c.uri.label("note_uri"),
            community_note_ratings.c.helpfulness,
            community_note_ratings.c.tags,
            community_note_ratings.c.created_at,
            community_note_ratings.c.updated_at,
        )
        .join(community_notes, community_notes.c.id == community_note_ratings.c.note_id)
        .where(community_note_ratings.c.rater_id == account_id)
        .order_by(community_note_ratings.c.note_id)
    )


def _community_note_rater(account_id: int) -> Select[Any]:
    return select(
        community_note_raters.c.helpfulness,
        community_note_raters.c.intercept,
        community_note_raters.c.factor,
        community_note_raters.c.ratings,
        community_note_raters.c.scored_at,
    ).where(community_note_raters.c.account_id == account_id)


def _label_preferences(account_id: int) -> Select[Any]:
    return (
        select(label_preferences.c.label, label_preferences.c.action)
        .where(label_preferences.c.account_id == account_id)
        .order_by(label_preferences.c.label)
    )


def _labels(account_id: int) -> Select[Any]:
    return (
        select(account_labels.c.label, account_labels.c.since, account_labels.c.until)
        .where(account_labels.c.account_id == account_id)
        .order_by(account_labels.c.label)
    )


def _markers(account_id: int) -> Select[Any]:
    return (
        select(markers.c.timeline, markers.c.last_read_id, markers.c.updated_at)
        .where(markers.c.account_id == account_id)
        .order_by(markers.c.timeline)
    )


def _feed_settings(account_id: int) -> Select[Any]:
    return select(feed_settings.c.viewpoint_opt_out, feed_settings.c.lists_in_apps).where(
        feed_settings.c.account_id == account_id
    )


def _feed_weights(account_id: int) -> Select[Any]:
    return (
        select(feed_preferences.c.feed, feed_preferences.c.weights, feed_preferences.c.updated_at)
        .where(feed_preferences.c.account_id == account_id)
        .order_by(feed_preferences.c.feed)
    )


def _feed_viewpoint(account_id: int) -> Select[Any]:
    return select(
        feed_viewpoints.c.factor, feed_viewpoints.c.engagements, feed_viewpoints.c.computed_at
    ).where(feed_viewpoints.c.account_id == account_id)


def _notification_policy(account_id: int) -> Select[Any]:
    p = notification_policies.c
    return select(
        p.for_not_following,
        p.for_not_followers,
        p.for_new_accounts,
        p.for_private_mentions,
        p.for_limited_accounts,
        p.updated_at,
    ).where(p.account_id == account_id)


def _aliases(account_id: int) -> Select[Any]:
    return (
        select(account_aliases.c.uri, account_aliases.c.created_at)
        .where(account_aliases.c.account_id == account_id)
        .order_by(account_aliases.c.id)
    )


def _sessions(account_id: int) -> Select[Any]:
    """The applications signed in as the account: never the token (only its hash is kept, and
    that is not given either)."""
    return (
        select(
            oauth_apps.c.name.label("application"),
            oauth_apps.c.website,
            oauth_tokens.c.scopes,
            oauth_tokens.c.created_at,
            oauth_tokens.c.last_used_at,
            oauth_tokens.c.expires_at,
            oauth_tokens.c.revoked_at,
        )
        .join(oauth_apps, oauth_apps.c.id == oauth_tokens.c.app_id)
        .where(oauth_tokens.c.account_id == account_id)
        .order_by(oauth_tokens.c.id)
    )


def _network_addresses(account_id: int) -> Select[Any]:
    return (
        select(
            account_ips.c.purpose,
            account_ips.c.ip,
            account_ips.c.first_seen_at,
            account_ips.c.last_seen_at,
        )
        .where(account_ips.c.account_id == account_id)
        .order_by(account_ips.c.purpose, account_ips.c.last_seen_at.desc(), account_ips.c.ip)
    )


def _reports(account_id: int) -> Select[Any]:
    n = notices.c
    return (
        select(
            n.category,
            n.dsa_category,
            n.explanation,
            n.legal_ground,
            n.channel,
            n.created_at,
            n.decided_at,
            n.outcome,
        )
        .where(n.reporter_account_id == account_id)
        .order_by(n.id)
    )


def _decisions(account_id: int) -> Select[Any]:
    """The moderation decisions about the account (their statements of reasons were sent to
    it); who decided is left out, as in the statements."""
    d = decisions.c
    return (
        select(
            d.puid,
            d.action,
            d.ground,
            d.rule_id,
            d.legal_ground,
            d.explanation,
            d.facts,
            d.dsa_category,
            d.territorial_scope,
            d.label,
            d.starts_at,
            d.ends_at,
            d.automated_detection,
            d.automated_decision,
            d.created_at,
            d.reversed_at,
        )
        .where(d.account_id == account_id)
        .order_by(d.id)
    )


def _appeals(account_id: int) -> Select[Any]:
    a = appeals.c
    return (
        select(
            decisions.c.puid.label("decision_puid"),
            a.text,
            a.filed_at,
            a.outcome,
            a.reply,
            a.decided_at,
        )
        .join(decisions, decisions.c.id == a.decision_id)
        .where(a.appellant_account_id == account_id)
        .order_by(a.id)
    )


# file name (without .json) -> (the table it reads, its query)
SECTIONS: dict[str, tuple[str, Callable[[int], Select[Any]]]] = {
    "favourites": ("favourites", _favourites),
    "pinned_posts": ("status_pins", _pinned_posts),
    "follow_requests": (
        "follow_requests",
        _targets(follow_requests, follow_requests.c.created_at),
    ),
    "endorsements": ("account_pins", _targets(account_pins, account_pins.c.created_at)),
    "account_notes": (
        "account_notes",
        _targets(account_notes, account_notes.c.comment, account_notes.c.updated_at),
    ),
    "dismissed_suggestions": (
        "suggestion_dismissals",
        _targets(suggestion_dismissals, suggestion_dismissals.c.created_at),
    ),
    "followed_tags": ("tag_follows", _followed_tags),
    "featured_tags": ("featured_tags", _featured_tags),
    "muted_conversations": ("thread_mutes", _muted_conversations),
    "domain_blocks": ("account_domain_blocks", _domain_blocks),
    "polls": ("polls", _polls),
    "poll_votes": ("poll_votes", _poll_votes),
    "scheduled_posts": ("scheduled_statuses", _scheduled_posts),
    "edit_history": ("status_edits", _edit_history),
    "community_notes": ("community_notes", _community_notes),
    "community_note_ratings": ("community_note_ratings", _community_note_ratings),
    "community_note_rater": ("community_note_raters", _community_note_rater),
    "label_preferences": ("label_preferences", _label_preferences),
    "labels": ("account_labels", _labels),
    "markers": ("markers", _markers),
    "feed_settings": ("feed_settings", _feed_settings),
    "feed_weights": ("feed_preferences", _feed_weights),
    "feed_viewpoint": ("feed_viewpoints", _feed_viewpoint),
    "notification_policy": ("notification_policies", _notification_policy),
    "aliases": ("account_aliases", _aliases),
    "sessions": ("oauth_tokens", _sessions),
    "network_addresses": ("account_ips", _network_addresses),
    "reports": ("notices", _reports),
    "moderation_decisions": ("decisions", _decisions),
    "appeals": ("appeals", _appeals),
}


class ExportStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _stream(self, stmt: Select[Any]) -> Iterator[dict[str, Any]]:
        result = self.conn.execute(stmt.execution_options(yield_per=BATCH))
        for row in result.mappings():
            yield {str(k): v for k, v in row.items()}  # plain str keys (not quoted_name)

    def section(self, name: str, account_id: int) -> Iterator[dict[str, Any]]:
        """The account's rows of one section of the archive, in a stable order."""
        _, build = SECTIONS[name]
        return self._stream(build(account_id))

    def network_addresses(self, account_id: int, since: datetime) -> list[dict[str, Any]]:
        """The sign-up and sign-in addresses last seen at or after `since` (rows older than the
        retention are not handed over even if the pruning job has not run yet)."""
        stmt = _network_addresses(account_id).where(account_ips.c.last_seen_at >= since)
        return list(self._stream(stmt))

    # -- end-to-end messages: what the server holds about them, never what they say --------

    def conversation_ids(self, account_id: int) -> list[int]:
        """The account's encrypted conversations, oldest first (a list: each is then read
        while no cursor is open)."""
        rows = self.conn.execute(
            select(e2e_participants.c.conversation_id)
            .where(e2e_participants.c.account_id == account_id)
            .order_by(e2e_participants.c.conversation_id)
        )
        return [int(r[0]) for r in rows]

    def message_metadata(self, conversation_id: int) -> Iterator[dict[str, Any]]:
        """When each message was sent, by which account and device, and the size of its
        envelope in bytes; the envelope itself (ciphertext, nonce, sealed keys, signature) is
        not read."""
        stmt = (
            select(
                e2e_messages.c.id,
                e2e_messages.c.created_at,
                e2e_messages.c.sender_device_id,
                func.length(e2e_messages.c.envelope).label("envelope_bytes"),
                *_account("sender", accounts),
            )
            .join(accounts, accounts.c.id == e2e_messages.c.sender_account_id)
            .where(e2e_messages.c.conversation_id == conversation_id)
            .order_by(e2e_messages.c.id)
        )
        return self._stream(stmt)
