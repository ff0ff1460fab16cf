"""The social graph: follow (with requests for locked accounts), block, mute."""

from __future__ import annotations

from datetime import timedelta

from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.domain.models import Account, Relationship
from parvis.services import federate
from parvis.services.context import Work


def _target(work: Work, account_id: int, target_id: int) -> Account:
    if account_id == target_id:
        raise Forbidden("This action is not allowed: you cannot do this to yourself")
    target = work.store.accounts.get(target_id)
    if target is None or target.suspended:
        raise NotFound("Record not found")
    return target


def relationship(work: Work, account_id: int, target_id: int) -> Relationship:
    return work.store.social.relationships(account_id, [target_id], work.now())[0]


def follow(
    work: Work,
    account_id: int,
    target_id: int,
    *,
    reblogs: bool = True,
    notify: bool = False,
    languages: list[str] | None = None,
) -> Relationship:
    target = _target(work, account_id, target_id)
    social = work.store.social
    if social.has("blocks", account_id, target_id) or social.has("blocks", target_id, account_id):
        raise Forbidden("This action is not allowed: one of you blocks the other")
    options = {"show_reblogs": reblogs, "notify": notify}
    if social.has("follows", account_id, target_id):
        social.add(
            "follows",
            account_id,
            target_id,
            work.now(),
            languages=",".join(languages) if languages else None,
            **options,
        )
    elif target.locked or not target.local:  # a remote account is locked until it Accepts
        if social.add("follow_requests", account_id, target_id, work.now(), **options):
            if target.local:
                work.later(
                    "notify", recipient_id=target_id, from_id=account_id, type="follow_request"
                )
            else:
                federate.follow_requested(work, account_id, target_id)
    else:
        _accept(work, account_id, target_id, options, languages)
    return relationship(work, account_id, target_id)


def _accept(
    work: Work,
    follower_id: int,
    target_id: int,
    options: dict[str, bool],
    languages: list[str] | None = None,
) -> None:
    social = work.store.social
    if social.add(
        "follows",
        follower_id,
        target_id,
        work.now(),
        languages=",".join(languages) if languages else None,
        **options,
    ):
        work.store.accounts.adjust_counts(follower_id, following_count=1)
        work.store.accounts.adjust_counts(target_id, followers_count=1)
        work.later("backfill_feed", account_id=follower_id, author_id=target_id)
        work.later("notify", recipient_id=target_id, from_id=follower_id, type="follow")


def unfollow(work: Work, account_id: int, target_id: int) -> Relationship:
    _target(work, account_id, target_id)
    federate.unfollowed(work, account_id, target_id)
    _drop_follow(work, account_id, target_id)
    work.store.social.remove("follow_requests", account_id, target_id)
    return relationship(work, account_id, target_id)


def _drop_follow(work: Work, follower_id: int, target_id: int) -> None:
    if work.store.social.remove("follows", follower_id, target_id):
        work.store.accounts.adjust_counts(follower_id, following_count=-1)
        work.store.accounts.adjust_counts(target_id, followers_count=-1)
        work.store.feeds.remove_author(follower_id, target_id)


def authorize_request(work: Work, account_id: int, requester_id: int) -> Relationship:
    request = work.store.social.get("follow_requests", requester_id, account_id)
    if request is None:
        raise NotFound("Record not found: no follow request from this account")
    work.store.social.remove("follow_requests", requester_id, account_id)
    work.store.notifications.remove_about(account_id, requester_id, "follow_request")
    _accept(
        work,
        requester_id,
        account_id,
        {"show_reblogs": request["show_reblogs"], "notify": request["notify"]},
    )
    federate.follow_authorized(work, account_id, requester_id, request.get("uri"))
    return relationship(work, account_id, requester_id)


def reject_request(work: Work, account_id: int, requester_id: int) -> Relationship:
    request = work.store.social.get("follow_requests", requester_id, account_id)
    if request is None or not work.store.social.remove("follow_requests", requester_id, account_id):
        raise NotFound("Record not found: no follow request from this account")
    work.store.notifications.remove_about(account_id, requester_id, "follow_request")
    federate.follow_rejected(work, account_id, requester_id, request.get("uri"))
    return relationship(work, account_id, requester_id)


def remove_follower(work: Work, account_id: int, follower_id: int) -> Relationship:
    _target(work, account_id, follower_id)
    federate.follower_removed(work, account_id, follower_id)
    _drop_follow(work, follower_id, account_id)
    return relationship(work, account_id, follower_id)


def block(work: Work, account_id: int, target_id: int) -> Relationship:
    _target(work, account_id, target_id)
    social = work.store.social
    social.add("blocks", account_id, target_id, work.now())
    federate.blocked(work, account_id, target_id)
    _drop_follow(work, account_id, target_id)
    _drop_follow(work, target_id, account_id)
    social.remove("follow_requests", account_id, target_id)
    social.remove("follow_requests", target_id, account_id)
    # A block hides everything both ways, notifications included.
    work.store.notifications.remove_from(account_id, target_id)
    work.store.notifications.remove_from(target_id, account_id)
    return relationship(work, account_id, target_id)


def unblock(work: Work, account_id: int, target_id: int) -> Relationship:
    _target(work, account_id, target_id)
    federate.unblocked(work, account_id, target_id)
    work.store.social.remove("blocks", account_id, target_id)
    return relationship(work, account_id, target_id)


def mute(
    work: Work, account_id: int, target_id: int, *, notifications: bool = True, duration: int = 0
) -> Relationship:
    _target(work, account_id, target_id)
    if duration < 0 or duration > 10 * 365 * 86400:
        raise Invalid(
            "Validation failed: duration must be between 0 (forever) and 10 years, in seconds"
        )
    expires = work.now() + timedelta(seconds=duration) if duration else None
    work.store.social.add(
        "mutes",
        account_id,
        target_id,
        work.now(),
        hide_notifications=notifications,
        expires_at=expires,
    )
    return relationship(work, account_id, target_id)


def unmute(work: Work, account_id: int, target_id: int) -> Relationship:
    _target(work, account_id, target_id)
    work.store.social.remove("mutes", account_id, target_id)
    return relationship(work, account_id, target_id)
