"""Moving an account: aliases (alsoKnownAs) and `Move`, as Mastodon does it.

To move from an old account to a new one, the person first adds the old account as an alias
of the new one (`add_alias` on the new account: its actor then says alsoKnownAs the old one),
then, on the old account, moves to the new one (`move_to`): the old account is marked as moved
(`moved_to_account_id`, shown as `moved` in the Mastodon API), its followers on this server
follow the new account at once (`apply_move`), and its remote followers are sent a `Move`
(`federate.account_moved`) so that their servers do the same. An inbound `Move` from another
server calls `apply_move` too, after checking the target's alsoKnownAs.

As in Mastodon, a follower keeps the old account's posts in their home timeline, a follower who
blocks the new account (or is blocked by it) stays where they were, and the blocks and mutes
of local accounts are carried over to the new account.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from parvis.domain.errors import DomainError, Forbidden, Invalid, NotFound
from parvis.domain.models import Account
from parvis.services import accounts, federate, social
from parvis.services.context import Work
from parvis.storage.portability import Alias, PortabilityStore

MAX_ALIASES = 10

# Finds (or fetches, through WebFinger) the account of a `user@domain` address that is not
# known here yet; None when there is none. The edges pass one; the services never fetch.
Resolve = Callable[[str], int | None]


def portability(work: Work) -> PortabilityStore:
    """The store of aliases, moves and URI look-ups (to become `work.store.portability`)."""
    return PortabilityStore(work.store.conn)


def _local(work: Work, account_id: int) -> Account:
    account = accounts.get_account(work, account_id)
    if not account.local:
        raise Forbidden("This action is not allowed: not an account of this server")
    return account


def is_uri(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2048


def find_account(work: Work, address: str, resolve: Resolve | None = None) -> Account | None:
    """The account of `user`, `@user`, `user@domain` or an actor URI: known here, else found
    through `resolve` (user@domain only). None when there is none."""
    address = address.strip()
    if is_uri(address):
        found = portability(work).account_id_by_uri(address)
        return work.store.accounts.get(found) if found is not None else None
    username, _, domain = address.lstrip("@").partition("@")
    if not username or "/" in address:
        return None
    if domain.lower() == work.settings.domain.lower():
        domain = ""
    account = work.store.accounts.by_acct(username, domain or None)
    if account is None and domain and resolve is not None:
        account_id = resolve(f"{username}@{domain}")
        account = work.store.accounts.get(account_id) if account_id is not None else None
    return account


# -- aliases -----------------------------------------------------------------------------


def aliases(work: Work, account_id: int) -> list[Alias]:
    return portability(work).aliases(account_id)


def add_alias(
    work: Work, account_id: int, acct_or_uri: str, *, resolve: Resolve | None = None
) -> Alias:
    """Say that this account is also known as another one (the account one moves from)."""
    account = _local(work, account_id)
    store = portability(work)
    value = acct_or_uri.strip()
    if not value:
        raise Invalid("Validation failed: alias: give an account address or its URI")
    if is_uri(value):
        uri = value
    else:
        other = find_account(work, value, resolve)
        if other is None:
            raise Invalid("Validation failed: alias: no such account was found")
        uri = other.uri
    if uri == account.uri:
        raise Invalid("Validation failed: alias: an account cannot be an alias of itself")
    existing = store.aliases(account_id)
    if any(a.uri == uri for a in existing):
        raise Invalid("Validation failed: alias: this alias is already there")
    if len(existing) >= MAX_ALIASES:
        raise Invalid(f"Validation failed: alias: at most {MAX_ALIASES} aliases")
    store.add_alias(account_id, uri, work.now())
    return next(a for a in store.aliases(account_id) if a.uri == uri)


def remove_alias(work: Work, account_id: int, acct_or_uri: str) -> None:
    _local(work, account_id)
    store = portability(work)
    value = acct_or_uri.strip()
    uri = value
    if not is_uri(value):
        other = find_account(work, value)
        uri = other.uri if other is not None else value
    if not store.remove_alias(account_id, uri):
        raise NotFound("Record not found")


# -- moves -------------------------------------------------------------------------------


def confirm_password(work: Work, account_id: int, password: str) -> None:
    """The account's current password, asked before a move."""
    user = work.store.accounts.user(account_id)
    found = work.store.accounts.user_by_login(user.email) if user is not None else None
    if found is None or not accounts.check_password(found[1], password):
        raise Invalid("Validation failed: current password: it is not your password")


def moved_to(work: Work, account_id: int) -> Account | None:
    target = portability(work).moved_to(account_id)
    return work.store.accounts.get(target) if target is not None else None


def move_to(work: Work, account_id: int, target_account_id: int) -> int:
    """Move this local account to another one (here or on another server), which must list
    this account among its aliases. Returns how many local followers were moved."""
    account = _local(work, account_id)
    if target_account_id == account_id:
        raise Invalid("Validation failed: target: you cannot move to this same account")
    target = work.store.accounts.get(target_account_id)
    if target is None:
        raise NotFound("Record not found")
    if target.suspended:
        raise Invalid("Validation failed: target: this account is suspended")
    store = portability(work)
    if store.moved_to(account_id) == target_account_id:
        raise Invalid("Validation failed: target: this account has already moved there")
    if store.moved_to(target_account_id) is not None:
        raise Invalid("Validation failed: target: that account has itself moved elsewhere")
    if account.uri not in store.alias_uris(target_account_id):
        raise Invalid(
            "Validation failed: target: that account must first list this one as an alias"
        )
    moved = apply_move(work, account_id, target_account_id)
    # Remote followers: the actor (now with movedTo), then the Move, as Mastodon sends them.
    federate.profile_updated(work, account_id)
    federate.account_moved(work, account_id, target_account_id)
    return moved


def apply_move(work: Work, old_id: int, new_id: int) -> int:
    """The old account has moved to the new one: mark it, and every local follower of the old
    account follows the new one (with the same options) and stops following the old one.
    Returns how many followers moved. Used by local moves and by an inbound `Move`."""
    old = work.store.accounts.get(old_id)
    new = work.store.accounts.get(new_id)
    if old is None or new is None:
        raise NotFound("Record not found")
    if old_id == new_id:
        return 0
    store = portability(work)
    if store.moved_to(old_id) != new_id:
        store.set_moved_to(old_id, new_id, work.now())
    graph = work.store.social
    moved = 0
    for follow in store.local_follows_of(old_id):
        follower = follow.account_id
        if follower == new_id:
            continue
        if graph.has("blocks", follower, new_id) or graph.has("blocks", new_id, follower):
            continue  # Mastodon leaves them following the old account
        languages = [x for x in (follow.languages or "").split(",") if x] or None
        options = {"show_reblogs": follow.show_reblogs, "notify": follow.notify}
        try:
            if new.local:
                _follow_directly(work, follower, new_id, options, languages)
            else:  # a Follow is sent (a request until the remote server accepts)
                social.follow(
                    work,
                    follower,
                    new_id,
                    reblogs=options["show_reblogs"],
                    notify=options["notify"],
                    languages=languages,
                )
            _stop_following(work, follower, old)
        except DomainError:
            continue
        moved += 1
    _carry_blocks_and_mutes(work, store, old_id, new_id)
    return moved


def _follow_directly(
    work: Work,
    follower: int,
    target: int,
    options: dict[str, bool],
    languages: list[str] | None,
) -> None:
    """Follow a local account without a request: it asked for these followers by listing the
    old account as its alias (Mastodon bypasses the lock for local targets too)."""
    graph = work.store.social
    graph.remove("follow_requests", follower, target)
    if graph.add(
        "follows",
        follower,
        target,
        work.now(),
        languages=",".join(languages) if languages else None,
        **options,
    ):
        work.store.accounts.adjust_counts(follower, following_count=1)
        work.store.accounts.adjust_counts(target, followers_count=1)
        work.later("backfill_feed", account_id=follower, author_id=target)
        work.later("notify", recipient_id=target, from_id=follower, type="follow")


def _stop_following(work: Work, follower: int, old: Account) -> None:
    """Unfollow the old account, keeping its posts in the follower's home timeline."""
    if not old.local:  # through the service: the old server is sent an Undo
        social.unfollow(work, follower, old.id)
        return
    if work.store.social.remove("follows", follower, old.id):
        work.store.accounts.adjust_counts(follower, following_count=-1)
        work.store.accounts.adjust_counts(old.id, followers_count=-1)


def _carry_blocks_and_mutes(work: Work, store: PortabilityStore, old_id: int, new_id: int) -> None:
    for blocker in store.local_blockers_of(old_id):
        if blocker != new_id and not work.store.social.has("blocks", blocker, new_id):
            try:
                social.block(work, blocker, new_id)
            except DomainError:
                continue
    for mute in store.local_mutes_of(old_id):
        if mute.account_id != new_id:
            work.store.social.add(
                "mutes",
                mute.account_id,
                new_id,
                work.now(),
                hide_notifications=mute.hide_notifications,
                expires_at=mute.expires_at,
            )
