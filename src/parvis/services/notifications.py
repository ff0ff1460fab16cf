"""Notifications: created by jobs after the write that caused them, read by their recipient."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from parvis.domain.errors import NotFound
from parvis.domain.models import Account, ModerationWarning, Notification, Status, ViewerFlags
from parvis.domain.visibility import Viewer, Visibility, may_see
from parvis.services import conversations, filters, streaming
from parvis.services.context import Work
from parvis.services.timelines import Paging, filtered, flags_for

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
    "quoted_update",
    "severed_relationships",
    "moderation_warning",
)
# Types never held back by the notification policy (Mastodon's non-filterable ones).
UNFILTERED = frozenset(
    ("poll", "update", "quoted_update", "admin.sign_up", "admin.report", "moderation_warning")
)
# Types that may repeat between the same accounts about the same status (one per edit).
REPEATABLE = frozenset(("update", "quoted_update"))
# Types notifying the status' own author too (a poll they created has ended).
TO_SELF = frozenset(("poll",))
NEW_ACCOUNT_DAYS = 30


def notify(
    work: Work, recipient_id: int, from_id: int, type_: str, status_id: int | None = None
) -> int | None:
    """Notify, unless the recipient blocks the sender or mutes them with notifications, or the
    cause is already gone (jobs run after the request: the follow may have been undone since)."""
    store = work.store
    if type_ not in TYPES:
        return None
    if recipient_id == from_id and type_ not in TO_SELF:
        return None
    if store.accounts.user(recipient_id) is None:
        return None
    if not _still_true(work, recipient_id, from_id, type_, status_id):
        return None
    if from_id in store.social.blocked_with(recipient_id):
        return None
    if from_id in store.social.muted_ids(recipient_id, work.now(), notifications=True):
        return None
    if status_id is not None and store.interactions.thread_muted(recipient_id, status_id):
        return None  # the recipient muted this conversation
    if type_ not in REPEATABLE and store.notifications.exists(
        recipient_id, from_id, type_, status_id
    ):
        return None
    status = None
    if status_id is not None:
        status = store.statuses.get(status_id)
        if status is None:
            return None
        viewer = store.social.viewer(recipient_id, [status.account.id])
        if not may_see(viewer, status.facts):
            return None
    verdict = policy_verdict(work, recipient_id, from_id, type_, status)
    if verdict == "drop":
        return None
    nid = store.notifications.add(
        recipient_id, from_id, type_, status_id, work.now(), filtered=verdict == "filter"
    )
    row = store.notifications.get(recipient_id, nid) if verdict != "filter" else None
    for built in _build(work, recipient_id, [row] if row else []):
        streaming.notification_created(work, recipient_id, built)
    return nid


def policy_verdict(
    work: Work, recipient_id: int, from_id: int, type_: str, status: Status | None
) -> str:
    """accept, filter or drop, by the recipient's notification policy: every rule the sender
    matches gives its setting, and the strictest wins (drop > filter > accept)."""
    if recipient_id == from_id or type_ in UNFILTERED:
        return "accept"
    policy = work.store.notifications.policy(recipient_id)
    if all(v == "accept" for v in policy.values()):
        return "accept"
    social = work.store.social
    following = social.has("follows", recipient_id, from_id)
    matched: list[str] = []
    if not following:
        matched.append(policy["for_not_following"])
    if not social.has("follows", from_id, recipient_id):
        matched.append(policy["for_not_followers"])
    sender = work.store.accounts.get(from_id)
    if sender is not None and sender.created_at > work.now() - timedelta(days=NEW_ACCOUNT_DAYS):
        matched.append(policy["for_new_accounts"])
    if (
        type_ == "mention"
        and status is not None
        and status.visibility == Visibility.DIRECT
        and not following
        and status.in_reply_to_account_id != recipient_id
    ):
        matched.append(policy["for_private_mentions"])
    # for_limited_accounts: no account is limited (silenced) yet; moderation will add it.
    for verdict in ("drop", "filter"):
        if verdict in matched:
            return verdict
    return "accept"


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
    if status.visibility == Visibility.DIRECT:
        conversations.record_direct(work, status)
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
        status_flags(work, account_id, statuses),
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
                warning=_warning(work, r.get("decision_id")),
            )
        )
    # The viewer's domain blocks and `hide` filters (notifications context) apply here, on
    # every read path and on the stream; `warn` results are added by `status_flags`.
    kept, _ = filters.apply_to_notifications(work, account_id, out)
    return kept


def _warning(work: Work, decision_id: object) -> ModerationWarning | None:
    """The decision a moderation_warning announces, as the author may see it."""
    if decision_id is None:
        return None
    decision = work.store.decisions.get(int(str(decision_id)))
    if decision is None:
        return None
    appeals = work.store.decisions.appeals_of(decision.id)
    mine = [a for a in appeals if a.appellant_role == "author"]
    state = {"": "pending", "upheld": "rejected", "reversed": "approved"}
    return ModerationWarning(
        decision_id=decision.id,
        action=decision.action,
        explanation=decision.explanation,
        status_ids=(decision.status_id,) if decision.status_id is not None else (),
        created_at=decision.created_at,
        reversed=decision.reversed_at is not None,
        appeal_text=mine[-1].text if mine else "",
        appeal_state=state[mine[-1].outcome] if mine else "",
    )


def status_flags(work: Work, account_id: int, statuses: list[Status]) -> ViewerFlags:
    """Flags for the statuses of notifications, with `warn` results of the viewer's filters."""
    return filtered(work, account_id, statuses, "notifications")[1]


# -- grouped notifications (v2) -----------------------------------------------------------------

GROUPABLE = ("favourite", "reblog", "follow")
DEFAULT_GROUPED = GROUPABLE
DAY = 86_400
SAMPLE_ACCOUNTS = 8
SCAN_CHUNK = 200
SCAN_MAX = 2_000  # notifications looked at for one page of groups


def group_key(n: Notification, grouped_types: Sequence[str] = DEFAULT_GROUPED) -> str:
    """Favourites and boosts group by status, follows by UTC day; the rest stay alone.
    Clients treat the key as opaque; `parse_group_key` reads it back."""
    if n.type in grouped_types and n.type in GROUPABLE:
        if n.type == "follow":
            return f"follow-{int(n.created_at.timestamp()) // DAY}"
        if n.status is not None:
            return f"{n.type}-{n.status.id}"
    return f"ungrouped-{n.id}"


@dataclass(frozen=True)
class GroupSelector:
    type: str | None  # None: a single notification (ungrouped)
    number: int  # the notification id, the status id or the day number


def parse_group_key(key: str) -> GroupSelector:
    kind, _, number = key.rpartition("-")
    if not number.isdigit() or len(number) > 19:
        raise NotFound("Record not found")
    if kind == "ungrouped":
        return GroupSelector(None, int(number))
    if kind in GROUPABLE:
        return GroupSelector(kind, int(number))
    raise NotFound("Record not found")


@dataclass
class NotificationGroup:
    key: str
    notifications: list[Notification]  # newest first

    @property
    def latest(self) -> Notification:
        return self.notifications[0]

    def sample_account_ids(self) -> list[int]:
        return list(dict.fromkeys(n.account.id for n in self.notifications))[:SAMPLE_ACCOUNTS]


@dataclass(frozen=True)
class GroupPage:
    groups: list[NotificationGroup]
    flags: ViewerFlags
    first_id: int | None  # the notification ids this page covers, for the Link header
    last_id: int | None


def grouped_page(
    work: Work,
    account_id: int,
    paging: Paging,
    *,
    types: Sequence[str] | None = None,
    exclude_types: Sequence[str] = (),
    grouped_types: Sequence[str] = DEFAULT_GROUPED,
    from_account_id: int | None = None,
    include_filtered: bool = False,
) -> GroupPage:
    """Up to `paging.limit` groups, made of the consecutive notifications the page covers
    (newest first; oldest first with min_id, then returned newest first). A group can go on in
    the next page: each page says which notifications it counted (page_min_id/page_max_id)."""
    groups: dict[str, NotificationGroup] = {}
    cursor = paging
    covered: list[int] = []
    scanned = 0
    done = False
    while not done and scanned < SCAN_MAX:
        rows = work.store.notifications.page(
            account_id,
            types=types,
            exclude_types=exclude_types,
            from_account_id=from_account_id,
            include_filtered=include_filtered,
            max_id=cursor.max_id,
            since_id=cursor.since_id,
            min_id=cursor.min_id,
            limit=SCAN_CHUNK,
        )
        scanned += len(rows)
        built = {n.id: n for n in _build(work, account_id, rows)}
        for r in rows:
            n = built.get(int(r["id"]))
            key = group_key(n, grouped_types) if n is not None else None
            if key is not None and key not in groups and len(groups) >= paging.limit:
                done = True
                break
            covered.append(int(r["id"]))
            if n is not None and key is not None:
                groups.setdefault(key, NotificationGroup(key, [])).notifications.append(n)
        if len(rows) < SCAN_CHUNK:
            break
        last = int(rows[-1]["id"])
        cursor = (
            Paging(None, None, last, paging.limit)
            if paging.min_id is not None
            else Paging(last, paging.since_id, None, paging.limit)
        )
    ordered = list(groups.values())
    for g in ordered:
        g.notifications.sort(key=lambda n: n.id, reverse=True)
    ordered.sort(key=lambda g: g.latest.id, reverse=True)
    statuses = [n.status for g in ordered for n in g.notifications[:1] if n.status is not None]
    return GroupPage(
        ordered,
        status_flags(work, account_id, statuses),
        max(covered) if covered else None,
        min(covered) if covered else None,
    )


def group_notifications(work: Work, account_id: int, key: str) -> NotificationGroup:
    """Every notification of one group (at most 1,000), newest first; NotFound when empty."""
    selector = parse_group_key(key)
    store = work.store.notifications
    if selector.type is None:
        row = store.get(account_id, selector.number)
        rows = [row] if row is not None else []
    elif selector.type == "follow":
        start = datetime.fromtimestamp(selector.number * DAY, UTC)
        rows = store.of_group(account_id, "follow", since=start, until=start + timedelta(days=1))
    else:
        rows = store.of_group(account_id, selector.type, status_id=selector.number)
    built = _build(work, account_id, rows)
    if not built:
        raise NotFound("Record not found")
    return NotificationGroup(key, built)


def dismiss_group(work: Work, account_id: int, key: str) -> int:
    selector = parse_group_key(key)
    store = work.store.notifications
    if selector.type is None:
        return 1 if store.dismiss(account_id, selector.number) else 0
    if selector.type == "follow":
        start = datetime.fromtimestamp(selector.number * DAY, UTC)
        rows = store.of_group(
            account_id, "follow", since=start, until=start + timedelta(days=1), limit=100_000
        )
    else:
        rows = store.of_group(account_id, selector.type, status_id=selector.number, limit=100_000)
    return store.dismiss_many(account_id, [int(r["id"]) for r in rows])


UNREAD_SCAN = 5_000


def unread_groups(
    work: Work,
    account_id: int,
    since_id: int | None,
    *,
    types: Sequence[str] | None,
    exclude_types: Sequence[str],
    grouped_types: Sequence[str],
    from_account_id: int | None,
    limit: int,
) -> int:
    """How many groups the notifications newer than `since_id` make (at most `limit`)."""
    rows = work.store.notifications.page(
        account_id,
        types=types,
        exclude_types=exclude_types,
        from_account_id=from_account_id,
        max_id=None,
        since_id=since_id,
        min_id=None,
        limit=UNREAD_SCAN,
    )
    keys = {group_key(n, grouped_types) for n in _build(work, account_id, rows)}
    return min(len(keys), limit)


def read_marker(work: Work, account_id: int) -> int | None:
    """The id of the last notification the user has read (their `notifications` marker), or
    None when they never set one (then every notification counts as unread)."""
    marker = work.store.markers.get(account_id, ["notifications"]).get("notifications")
    return marker.last_read_id if marker is not None else None


# -- policy and requests ---------------------------------------------------------------------------

POLICY_VALUES = ("accept", "filter", "drop")


@dataclass(frozen=True)
class NotificationRequest:
    account: Account
    count: int
    last_id: int
    first_at: datetime
    last_at: datetime
    last_status: Status | None


def requests(
    work: Work, account_id: int, paging: Paging, from_account_id: int | None = None
) -> tuple[list[NotificationRequest], ViewerFlags]:
    rows = work.store.notifications.requests(
        account_id, from_account_id=from_account_id, **paging.kw()
    )
    if paging.min_id is not None:
        rows.reverse()
    senders = work.store.accounts.get_many(int(r["from_account_id"]) for r in rows)
    viewer = work.store.social.viewer(account_id, senders)
    out = []
    for r in rows:
        sender = senders.get(int(r["from_account_id"]))
        if sender is None:
            continue
        status_id = work.store.notifications.last_filtered_status(account_id, sender.id)
        status = work.store.statuses.get(status_id) if status_id is not None else None
        if status is not None and not may_see(viewer, status.facts):
            status = None
        out.append(
            NotificationRequest(
                sender,
                int(r["count"]),
                int(r["last_id"]),
                r["first_at"],
                r["last_at"],
                status,
            )
        )
    statuses = [q.last_status for q in out if q.last_status is not None]
    return out, flags_for(work, account_id, statuses)


def one_request(
    work: Work, account_id: int, from_account_id: int
) -> tuple[NotificationRequest, ViewerFlags]:
    found, flags = requests(work, account_id, Paging(limit=1), from_account_id)
    if not found:
        raise NotFound("Record not found")
    return found[0], flags
