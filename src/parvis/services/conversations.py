"""Conversations: the direct-message threads of each participant, kept by the `notify_status`
job when a direct status is posted (unread for its recipients, read for its author)."""

from __future__ import annotations

from dataclasses import dataclass

from parvis.domain.errors import NotFound
from parvis.domain.models import Account, Status, ViewerFlags
from parvis.domain.visibility import may_see
from parvis.services.context import Work
from parvis.services.timelines import Paging, flags_for


@dataclass(frozen=True)
class Conversation:
    id: int
    unread: bool
    accounts: list[Account]
    last_status: Status


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[Conversation]
    flags: ViewerFlags
    first_id: int | None  # last status ids, the cursors of the Link header
    last_id: int | None


def record_direct(work: Work, status: Status) -> int:
    """Put a direct status at the top of its thread's conversation, for every local
    participant (its author and the accounts it mentions) who may see it."""
    store = work.store
    root = store.statuses.thread_root_of(status.id) or status.id
    participants = {status.account.id} | {m.account_id for m in status.mentions}
    blocked = store.social.blocked_with(status.account.id)
    touched = 0
    for account_id in sorted(participants):
        if account_id != status.account.id and account_id in blocked:
            continue
        if store.accounts.user(account_id) is None:  # remote: their server keeps their own
            continue
        unread = account_id != status.account.id
        store.conversations.touch(account_id, root, status.id, unread, work.now())
        touched += 1
    return touched


def list_conversations(work: Work, account_id: int, paging: Paging) -> ConversationPage:
    rows = work.store.conversations.page(account_id, **paging.kw())
    if paging.min_id is not None:
        rows.reverse()
    built = _build(work, account_id, rows)
    return ConversationPage(
        built,
        flags_for(work, account_id, [c.last_status for c in built]),
        int(rows[0]["last_status_id"]) if rows else None,
        int(rows[-1]["last_status_id"]) if rows else None,
    )


def mark_read(
    work: Work, account_id: int, conversation_id: int
) -> tuple[Conversation, ViewerFlags]:
    if not work.store.conversations.mark_read(account_id, conversation_id):
        raise NotFound("Record not found")
    row = work.store.conversations.get(account_id, conversation_id)
    built = _build(work, account_id, [row] if row else [])
    if not built:
        raise NotFound("Record not found")
    return built[0], flags_for(work, account_id, [built[0].last_status])


def remove(work: Work, account_id: int, conversation_id: int) -> None:
    if not work.store.conversations.remove(account_id, conversation_id):
        raise NotFound("Record not found")


def _build(work: Work, account_id: int, rows: list[dict[str, object]]) -> list[Conversation]:
    store = work.store
    statuses = store.statuses.load(int(str(r["last_status_id"])) for r in rows)
    others: set[int] = set()
    for s in statuses.values():
        others.add(s.account.id)
        others.update(m.account_id for m in s.mentions)
    accounts = store.accounts.get_many(others | {account_id})
    viewer = store.social.viewer(account_id, others)
    out = []
    for r in rows:
        status = statuses.get(int(str(r["last_status_id"])))
        if status is None or not may_see(viewer, status.facts):
            continue
        ids = [status.account.id, *(m.account_id for m in status.mentions)]
        people = [
            accounts[i]
            for i in dict.fromkeys(ids)
            if i != account_id and i in accounts and not accounts[i].suspended
        ]
        if not people and account_id in accounts:
            people = [accounts[account_id]]  # a note to oneself: Mastodon lists the owner
        out.append(Conversation(int(str(r["id"])), bool(r["unread"]), people, status))
    return out
