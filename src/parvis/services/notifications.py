"""Notifications: created by jobs after the write that caused them, read by their recipient."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from parvis.domain.errors import NotFound
from parvis.domain.models import Notification, ViewerFlags
from parvis.domain.visibility import Viewer, may_see
from parvis.services.context import Work
from parvis.services.timelines import Paging, flags_for

TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
    "quote",
)


def notify(
    work: Work, recipient_id: int, from_id: int, type_: str, status_id: int | None = None
) -> int | None:
    """Notify, unless the recipient blocks the sender or mutes them with notifications, or the
    cause is already gone (jobs run after the request: the follow may have been undone since)."""
    store = work.store
    if recipient_id == from_id or store.accounts.user(recipient_id) is None:
        return None
    if not _still_true(work, recipient_id, from_id, type_, status_id):
        return None
    if from_id in store.social.blocked_with(recipient_id):
        return None
    if from_id in store.social.muted_ids(recipient_id, work.now(), notifications=True):
        return None
    if store.notifications.exists(recipient_id, from_id, type_, status_id):
        return None
    if status_id is not None:
        status = store.statuses.get(status_id)
        if status is None:
            return None
        viewer = store.social.viewer(recipient_id, [status.account.id])
        if not may_see(viewer, status.facts):
            return None
    return store.notifications.add(recipient_id, from_id, type_, status_id, work.now())


def _still_true(
    work: Work, recipient_id: int, from_id: int, type_: str, status_id: int | None
) -> bool:
    store = work.store
    if type_ == "follow_request":
        return store.social.has("follow_requests", from_id, recipient_id)
    if type_ == "follow":
        return store.social.has("follows", from_id, recipient_id)
    if type_ == "favourite" and status_id is not None:
        return bool(store.interactions.flags(from_id, [status_id]).favourited)
    if type_ == "reblog" and status_id is not None:
        return store.statuses.reblog_by(from_id, status_id) is not None
    return True


def notify_status(work: Work, status_id: int) -> int:
    """Mentions, and `status` notifications for followers who asked to be told."""
    status = work.store.statuses.get(status_id)
    if status is None or status.reblog_of_id is not None:
        return 0
    created = 0
    mentioned = {m.account_id for m in status.mentions}
    for account_id in mentioned:
        if notify(work, account_id, status.account.id, "mention", status.id):
            created += 1
    if status.in_reply_to_id is None or status.in_reply_to_account_id == status.account.id:
        for follower in work.store.social.followers_notified(status.account.id):
            if follower not in mentioned and notify(
                work, follower, status.account.id, "status", status.id
            ):
                created += 1
    return created


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[Notification]
    flags: ViewerFlags
    first_id: int | None
    last_id: int | None


def list_notifications(
    work: Work,
    account_id: int,
    paging: Paging,
    *,
    types: Sequence[str] | None = None,
    exclude_types: Sequence[str] = (),
    from_account_id: int | None = None,
) -> NotificationPage:
    rows = work.store.notifications.page(
        account_id,
        types=types,
        exclude_types=exclude_types,
        from_account_id=from_account_id,
        **paging.kw(),
    )
    if paging.min_id is not None:
        rows.reverse()
    built = _build(work, account_id, rows)
    statuses = [n.status for n in built if n.status is not None]
    return NotificationPage(
        built,
        flags_for(work, account_id, statuses),
        rows[0]["id"] if rows else None,
        rows[-1]["id"] if rows else None,
    )


def get_notification(work: Work, account_id: int, notification_id: int) -> Notification:
    row = work.store.notifications.get(account_id, notification_id)
    built = _build(work, account_id, [row]) if row else []
    if not built:
        raise NotFound("Record not found")
    return built[0]


def _build(work: Work, account_id: int, rows: list[dict[str, object]]) -> list[Notification]:
    accounts = work.store.accounts.get_many(int(str(r["from_account_id"])) for r in rows)
    status_ids = [int(str(r["status_id"])) for r in rows if r["status_id"] is not None]
    statuses = work.store.statuses.load(status_ids)
    involved = set(accounts) | {s.account.id for s in statuses.values()}
    viewer: Viewer = work.store.social.viewer(account_id, involved)
    out = []
    for r in rows:
        sender = accounts.get(int(str(r["from_account_id"])))
        if sender is None or sender.suspended or viewer.blocked_with(sender.id):
            continue
        status = statuses.get(int(str(r["status_id"]))) if r["status_id"] is not None else None
        if r["status_id"] is not None and (status is None or not may_see(viewer, status.facts)):
            continue
        out.append(
            Notification(
                id=int(str(r["id"])),
                type=str(r["type"]),
                created_at=r["created_at"],  # type: ignore[arg-type]
                account=sender,
                status=status,
            )
        )
    return out
