"""Every kind of background job, by name. Each runs in its own unit of work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parvis.jobs import deliver, inbound, labels, mail, notes_federation, remote_media
from parvis.services import (
    deletion,
    fanout,
    feeds,
    media,
    network_addresses,
    notes,
    notifications,
    restrictions,
    scheduled,
)
from parvis.services.context import Work
from parvis.services.media import Files

Handler = Callable[..., Any]


def _fanout(work: Work, files: Files, status_id: int) -> int:
    return fanout.fan_out(work, status_id)


def _backfill(work: Work, files: Files, account_id: int, author_id: int) -> int:
    return fanout.backfill(work, account_id, author_id)


def _notify_status(work: Work, files: Files, status_id: int) -> int:
    return notifications.notify_status(work, status_id)


def _notify(
    work: Work,
    files: Files,
    recipient_id: int,
    from_id: int,
    type: str,
    status_id: int | None = None,
) -> int | None:
    return notifications.notify(work, recipient_id, from_id, type, status_id)


def _process_media(work: Work, files: Files, media_id: int) -> None:
    media.process_pending(work, files, media_id)


def _trim_feeds(work: Work, files: Files) -> int:
    return work.store.feeds.trim(work.settings.home_feed_cap)


def _publish_due(work: Work, files: Files) -> int:
    return scheduled.publish_due(work)


def _end_restrictions(work: Work, files: Files) -> int:
    return restrictions.expire(work)


def _feed_viewpoints(work: Work, files: Files) -> tuple[int, int]:
    return feeds.recompute_viewpoints(work)


def _feed_trending(work: Work, files: Files) -> int:
    return feeds.refresh_trending(work)


def _prune_feed_log(work: Work, files: Files) -> int:
    return feeds.prune_log(work)


def _score_notes(work: Work, files: Files) -> int:
    return notes.score(work).changed


def _erase_accounts(work: Work, files: Files) -> int:
    return deletion.erase_due(work, files)


def _erase_remote_account(work: Work, files: Files, account_id: int) -> bool:
    return deletion.erase_remote(work, files, account_id)


def _prune_ips(work: Work, files: Files) -> int:
    return network_addresses.prune(work)


JOBS: dict[str, Handler] = {
    "fanout": _fanout,
    "backfill_feed": _backfill,
    "notify_status": _notify_status,
    "notify": _notify,
    "process_media": _process_media,
    "trim_feeds": _trim_feeds,
    "publish_due": _publish_due,
    "end_restrictions": _end_restrictions,
    "feed_viewpoints": _feed_viewpoints,
    "feed_trending": _feed_trending,
    "prune_feed_log": _prune_feed_log,
    "score_notes": _score_notes,
    "erase_accounts": _erase_accounts,
    "erase_remote_account": _erase_remote_account,
    "prune_ips": _prune_ips,
}

# Jobs that talk to the outside world get the runtime (its `mailer`, `read`) instead of a unit
# of work: they read what they need in one unit of work and send once it is closed, so no
# transaction stays open while a remote server answers.
OUTBOUND: dict[str, Handler] = {
    "mail_notice_receipt": mail.send_receipt,
    "mail_notice_decision": mail.send_decision,
}

# Retries per kind (Huey retries a failed job after `retry_delay` seconds).
RETRIES: dict[str, int] = {
    "fanout": 5,
    "backfill_feed": 3,
    "notify_status": 3,
    "notify": 3,
    "process_media": 2,
    "trim_feeds": 0,
    "publish_due": 0,
    "end_restrictions": 0,
    "feed_viewpoints": 0,
    "feed_trending": 0,
    "prune_feed_log": 0,
    "score_notes": 0,
    "erase_accounts": 0,  # periodic: the next run carries on
    "erase_remote_account": 3,
    "prune_ips": 0,
    "mail_notice_receipt": 5,
    "mail_notice_decision": 5,
}

# Federation: each module declares its own kinds (jobs/deliver.py, jobs/inbound.py,
# jobs/notes_federation.py); so does the label detection run (jobs/labels.py).
for _module in (deliver, inbound, remote_media, labels, notes_federation):
    JOBS.update(_module.JOBS)
    OUTBOUND.update(_module.OUTBOUND)
    RETRIES.update(_module.RETRIES)
