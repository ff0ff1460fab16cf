"""Remote accounts acting on local ones: Follow (a request when the local account is locked,
else a follow and an Accept sent back), Accept and Reject of our follows, Undo, Block, Like
(Misskey's reactions and Akkoma's EmojiReact count as favourites), Delete, Flag (a notice in the
moderation queue), Move, and profile updates.

Each handler runs inside the one write unit that applies an activity and returns a short
outcome for the inbox row ("followed", "ignored: …"). Handlers are idempotent: applying an
activity twice leaves the store as applying it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parvis.domain.activitypub import parse
from parvis.domain.errors import DomainError
from parvis.domain.models import Account, Status
from parvis.domain.visibility import Visibility, may_see
from parvis.services import federate, migration, notices, posting, remote_actors
from parvis.services.context import Work
from parvis.services.domain_policy import Policy

FLAG_CATEGORY = "other"  # a remote report names no category Parvis could trust


def _local_account(work: Work, uri: str | None) -> Account | None:
    if not uri:
        return None
    account_id = work.store.remote.account_id(uri)
    account = work.store.accounts.get(account_id) if account_id is not None else None
    return account if account is not None and account.local else None


def _local_status(work: Work, uri: str | None) -> Status | None:
    if not uri:
        return None
    status_id = work.store.remote.status_id(uri)
    status = work.store.statuses.get(status_id) if status_id is not None else None
    return status if status is not None and status.local else None


# -- follows -----------------------------------------------------------------------------------


def follow(work: Work, activity: parse.Activity, actor: Account) -> str:
    target = _local_account(work, activity.object_id)
    if target is None or target.suspended:
        return "ignored: not a local account"
    social = work.store.social
    if social.has("blocks", target.id, actor.id) or social.has("blocks", actor.id, target.id):
        federate.follow_rejected(work, target.id, actor.id, activity.id)
        return "rejected: blocked"
    if social.has("follows", actor.id, target.id):
        work.store.remote.set_follow_uri("follows", actor.id, target.id, activity.id)
        federate.follow_authorized(work, target.id, actor.id, activity.id)
        return "accepted again"
    if target.locked:
        if social.add("follow_requests", actor.id, target.id, work.now(), uri=activity.id):
            work.later("notify", recipient_id=target.id, from_id=actor.id, type="follow_request")
        else:
            work.store.remote.set_follow_uri("follow_requests", actor.id, target.id, activity.id)
        return "follow requested"
    social.add("follows", actor.id, target.id, work.now(), uri=activity.id)
    work.store.accounts.adjust_counts(actor.id, following_count=1)
    work.store.accounts.adjust_counts(target.id, followers_count=1)
    work.later("notify", recipient_id=target.id, from_id=actor.id, type="follow")
    federate.follow_authorized(work, target.id, actor.id, activity.id)
    return "followed"


def _drop_follow(work: Work, follower: int, followed: int) -> bool:
    if not work.store.social.remove("follows", follower, followed):
        return False
    work.store.accounts.adjust_counts(follower, following_count=-1)
    work.store.accounts.adjust_counts(followed, followers_count=-1)
    work.store.feeds.remove_author(follower, followed)
    return True


def _our_follow(
    work: Work, activity: parse.Activity, actor: Account
) -> tuple[str, int, int] | None:
    """The follow (or follow request) of ours that an Accept or Reject answers:
    (kind, local follower, remote followed)."""
    follow_uri = activity.object_id
    for kind in ("follow_requests", "follows"):
        pair = work.store.remote.follow_by_uri(kind, follow_uri) if follow_uri else None
        if pair is not None and pair[1] == actor.id:
            return kind, pair[0], pair[1]
    undone = parse.inner(activity)
    if undone is None or undone.type != "Follow" or undone.object_id != actor.uri:
        return None
    follower = _local_account(work, undone.actor)
    if follower is None:
        return None
    for kind in ("follow_requests", "follows"):
        if work.store.social.has(kind, follower.id, actor.id):
            return kind, follower.id, actor.id
    return None


def accept(work: Work, activity: parse.Activity, actor: Account) -> str:
    found = _our_follow(work, activity, actor)
    if found is None:
        return "ignored: no follow of ours to accept"
    kind, follower, followed = found
    if kind == "follows":
        return "already following"
    request = work.store.social.get("follow_requests", follower, followed) or {}
    work.store.social.remove("follow_requests", follower, followed)
    if work.store.social.add(
        "follows",
        follower,
        followed,
        work.now(),
        show_reblogs=request.get("show_reblogs", True),
        notify=request.get("notify", False),
        uri=request.get("uri"),
    ):
        work.store.accounts.adjust_counts(follower, following_count=1)
        work.store.accounts.adjust_counts(followed, followers_count=1)
        work.later("backfill_feed", account_id=follower, author_id=followed)
    return "follow accepted"


def reject(work: Work, activity: parse.Activity, actor: Account) -> str:
    found = _our_follow(work, activity, actor)
    if found is None:
        return "ignored: no follow of ours to reject"
    kind, follower, followed = found
    if kind == "follow_requests":
        work.store.social.remove("follow_requests", follower, followed)
    else:
        _drop_follow(work, follower, followed)
    return "follow rejected"


# -- blocks ------------------------------------------------------------------------------------


def block(work: Work, activity: parse.Activity, actor: Account) -> str:
    """A remote account blocks a local one: the block is recorded (each stops seeing the
    other) and the follows and requests between them end."""
    target = _local_account(work, activity.object_id)
    if target is None:
        return "ignored: not a local account"
    social = work.store.social
    social.add("blocks", actor.id, target.id, work.now(), uri=activity.id)
    _drop_follow(work, actor.id, target.id)
    _drop_follow(work, target.id, actor.id)
    social.remove("follow_requests", actor.id, target.id)
    social.remove("follow_requests", target.id, actor.id)
    work.store.notifications.remove_from(target.id, actor.id)
    return "blocked"


# -- likes -------------------------------------------------------------------------------------


def like(work: Work, activity: parse.Activity, actor: Account) -> str:
    status = _local_status(work, activity.object_id)
    if status is None or status.reblog_of_id is not None:
        return "ignored: not a local post"
    viewer = work.store.social.viewer(actor.id, [status.account.id])
    if not may_see(viewer, status.facts):
        return "ignored: the post is not visible to this account"
    if status.interactions_restricted and actor.id != status.account.id:
        return "ignored: interactions restricted"
    if work.store.interactions.add("favourites", actor.id, status.id, work.now()):
        work.store.statuses.adjust_counts(status.id, favourites_count=1)
        work.later(
            "notify",
            recipient_id=status.account.id,
            from_id=actor.id,
            type="favourite",
            status_id=status.id,
        )
    return "favourited"


def _unlike(work: Work, actor: Account, object_uri: str | None) -> str:
    status = _local_status(work, object_uri)
    if status is None:
        return "ignored: not a local post"
    if work.store.interactions.remove("favourites", actor.id, status.id):
        work.store.statuses.adjust_counts(status.id, favourites_count=-1)
        work.store.notifications.remove_about(status.account.id, actor.id, "favourite", status.id)
    return "unfavourited"


# -- undo --------------------------------------------------------------------------------------


def _unfollow(work: Work, actor: Account, target: Account | None, uri: str | None) -> str:
    pairs: list[tuple[str, int, int]] = []
    for kind in ("follows", "follow_requests"):
        pair = work.store.remote.follow_by_uri(kind, uri) if uri else None
        if pair is None and target is not None:
            pair = (
                (actor.id, target.id) if work.store.social.has(kind, actor.id, target.id) else None
            )
        if pair is not None and pair[0] == actor.id:
            pairs.append((kind, pair[0], pair[1]))
    for kind, follower, followed in pairs:
        if kind == "follows":
            _drop_follow(work, follower, followed)
        else:
            work.store.social.remove("follow_requests", follower, followed)
            work.store.notifications.remove_about(followed, follower, "follow_request")
    return "unfollowed" if pairs else "ignored: no such follow"


def _unannounce(work: Work, actor: Account, boost_uri: str) -> str:
    boost_id = work.store.remote.status_id(boost_uri)
    boost = work.store.statuses.get(boost_id) if boost_id is not None else None
    if boost is None or boost.account.id != actor.id or boost.reblog is None:
        return "ignored: no such boost"
    try:
        posting.unreblog(work, actor.id, boost.reblog.id)
    except DomainError as exc:
        return f"ignored: {exc.message}"
    return "unboosted"


def undo(work: Work, activity: parse.Activity, actor: Account) -> str:
    undone = parse.inner(activity)
    if undone is not None and undone.actor != actor.uri:
        return "ignored: undoing someone else's activity"
    kind = undone.type if undone is not None else None
    if kind == "Follow" and undone is not None:
        return _unfollow(work, actor, _local_account(work, undone.object_id), undone.id)
    if kind in ("Like", "EmojiReact") and undone is not None:
        return _unlike(work, actor, undone.object_id)
    if kind == "Announce" and undone is not None:
        return _unannounce(work, actor, undone.id)
    if kind == "Block" and undone is not None:
        target = _local_account(work, undone.object_id)
        if target is None:
            return "ignored: not a local account"
        work.store.social.remove("blocks", actor.id, target.id)
        return "unblocked"
    if undone is None and activity.object_id:  # only the undone activity's id was given
        uri = activity.object_id
        if work.store.remote.status_id(uri) is not None:
            return _unannounce(work, actor, uri)
        return _unfollow(work, actor, None, uri)
    return f"ignored: Undo of {kind}"


# -- deletions, profile updates, moves ----------------------------------------------------------


def delete(work: Work, activity: parse.Activity, actor: Account) -> str:
    if activity.object_id == actor.uri:
        return _account_gone(work, actor)
    status_id = work.store.remote.status_id(activity.object_id or "")
    status = work.store.statuses.get(status_id) if status_id is not None else None
    if status is None or status.local:
        return "ignored: unknown post"
    if status.account.id != actor.id:
        return "ignored: not the author"
    if status.reblog_of_id is not None:
        return _unannounce(work, actor, status.uri)
    posting.delete_status(work, actor.id, status.id)
    return "deleted"


def _account_gone(work: Work, actor: Account) -> str:
    """The remote account was deleted: it is suspended here (hidden everywhere) at once, its
    follows with local accounts end, and the `erase_remote_account` job erases everything of
    it this server holds: its posts, their cached media, every row (services/deletion.py)."""
    if actor.local:
        return "ignored: a local account"
    if not actor.suspended:
        work.store.remote.set_suspended(actor.id, work.now())
    for follower, followed in work.store.remote.follow_edges([actor.id]):
        _drop_follow(work, follower, followed)
    work.store.remote.drop_follow_requests([actor.id])
    work.later("erase_remote_account", account_id=actor.id)
    return "account deleted"


def update_actor(work: Work, obj: Mapping[str, Any], actor: Account) -> str:
    remote = parse.actor(obj)
    if remote.uri != actor.uri:
        return "ignored: an update of another actor"
    remote_actors.store_actor(work, remote)
    return "profile updated"


def move(work: Work, activity: parse.Activity, actor: Account) -> str:
    """The actor moved: accepted when the object is the actor itself and the target (fetched
    afresh before this unit) lists it in its alsoKnownAs."""
    if activity.object_id != actor.uri or not activity.target:
        return "ignored: a Move must move its actor"
    target_id = work.store.remote.account_id(activity.target)
    target = work.store.accounts.get(target_id) if target_id is not None else None
    if target is None or target.id == actor.id:
        return "ignored: unknown target"
    if actor.uri not in work.store.remote.aliases(target.id):
        return "ignored: the target does not list the actor as an alias"
    moved = migration.apply_move(work, actor.id, target.id)
    return f"moved {moved} followers"


# -- reports -----------------------------------------------------------------------------------


def flag(work: Work, activity: parse.Activity, policy: Policy) -> str:
    """A report from another server: one notice (channel "federation") on the local posts and
    accounts it names; posts not public are reported as their author's account."""
    if policy.reject_reports:
        return "ignored: reports from this domain are rejected"
    items: dict[tuple[int | None, int | None], None] = {}
    for uri in activity.objects:
        account = _local_account(work, uri)
        if account is not None:
            items.setdefault((None, account.id))
            continue
        status = _local_status(work, uri)
        if status is None:
            continue
        public = status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
        if public and not status.reblog_of_id:
            items.setdefault((status.id, None))
        else:
            items.setdefault((None, status.account.id))
    if not items:
        return "ignored: nothing local reported"
    host = parse.host_of(activity.actor)
    comment = activity.content.strip() or f"Reported from {host}, without a comment."
    notice = notices.NewNotice(
        category=FLAG_CATEGORY,
        explanation=comment[: notices.MAX_EXPLANATION],
        items=tuple(notices.Item(s, a) for s, a in list(items)[: notices.MAX_ITEMS]),
        good_faith=True,
        channel="federation",
        remote_actor=activity.actor,
    )
    try:
        notices.submit(work, None, notice)
    except DomainError as exc:
        return f"ignored: {exc.message}"
    return "reported"
