"""Account deletion: the account is closed at once and erased when a grace period ends, unless
its user cancels in the meantime.

Closing (`request`, or `schedule` for the operator): `users.delete_after` is set to the end of
the grace (`account_deletion_grace_days`, 0: the next run of the job) and the account is
suspended, which every read path already honours: its profile and posts answer 404 to
everyone, leave timelines, search and suggestions, and nothing of it is federated; it can no
longer post or interact, and every session and token is revoked but the one that asked (an
app keeps it to read the state and cancel: GET and DELETE /api/parvis/v1/account/deletion).
Signing in on the web with the right password shows when it will be erased and a button to
cancel (a one-hour ticket, as appeals.py gives a suspended author). Cancelling lifts the
suspension only when the request is what set it (`users.closed_by_deletion`).

Erasing (the periodic `erase_accounts` job, a few accounts and a batch of posts at a time):

1. `Delete` of the actor, signed with its own key, is queued to every remote server that may
   know it (the inboxes of the accounts it had anything to do with, both ways: followers,
   follows, requests, replies, boosts, likes, mentions, votes, notifications); its username
   is added to the names never given again (a keyed hash: domain/erasure.py); a tombstone row
   marks the erasure as started;
2. its posts and boosts are removed in batches as a deletion by their author would remove
   them (counters, feeds, search, streams), without a Delete each: the actor's Delete tells
   other servers to drop everything of it, as Mastodon does;
3. then its media files (uploads, thumbnails, avatar, header) and every row of it
   (storage/erasure.py: read from the schema's foreign keys), moderation records kept but
   de-identified; what is left is its bare actor (URI, key pair), to sign the Delete;
4. once no delivery of the Delete is pending (delivered, failed or given up), or after
   `delivery_max_days` and a day more in any case, the account row goes, and with it its
   deliveries and the tombstone.

A remote account whose server sent `Delete` of it is erased the same way
(`erase_remote_account`): its posts, cached media and every row of it, with nothing to send.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from parvis.domain.activitypub import render
from parvis.domain.erasure import name_digest
from parvis.domain.errors import Invalid, NotFound
from parvis.domain.models import Account
from parvis.services import accounts, actors, oauth, outbox, posting, restrictions, tickets
from parvis.services.context import Work
from parvis.services.media import Files

ACCOUNTS_PER_RUN = 5  # erasures started by one run of the job
TOMBSTONES_PER_RUN = 50  # erasures carried on by one run
STATUS_BATCH = 200  # posts removed per erasure and run


def pending(work: Work, account_id: int) -> datetime | None:
    """When the account will be erased, or None when no deletion is pending."""
    found = work.store.erasure.request(account_id)
    return found.delete_after if found is not None else None


# -- closing, cancelling -------------------------------------------------------------------------


def request(work: Work, account_id: int, password: str, *, keep_token: str | None) -> datetime:
    """The user asks for their account to be deleted: checks the password, closes the account
    (see the module's docstring) and returns when it will be erased. The token in `keep_token`
    (the app or browser asking) is not revoked."""
    user = work.store.accounts.user(account_id)
    if user is None:
        raise NotFound("No local user with this account")
    found = work.store.accounts.user_by_login(user.email)
    if not password or found is None or not accounts.check_password(found[1], password):
        raise Invalid("Validation failed: password: it is not your password")
    grace = timedelta(days=work.settings.account_deletion_grace_days)
    return close(work, account_id, work.now() + grace, keep_token=keep_token)


def close(
    work: Work, account_id: int, delete_after: datetime, *, keep_token: str | None = None
) -> datetime:
    """Close the account until `delete_after` (an operator's `parvis user delete` too). A
    deletion already pending keeps its date unless this one is sooner."""
    store = work.store
    found = store.erasure.request(account_id)
    account = store.accounts.get(account_id)
    if found is None or account is None:
        raise NotFound("No local user with this account")
    if found.delete_after is not None and found.delete_after <= delete_after:
        return found.delete_after
    closed = found.closed_by_deletion if found.delete_after is not None else not account.suspended
    store.erasure.set_request(account_id, delete_after, closed)
    now = work.now()
    if not account.suspended:
        store.accounts.update(account_id, {"suspended_at": now})
    keep = oauth.digest(keep_token) if keep_token else None
    store.oauth.revoke_for(account_id, now, keep_hash=keep)
    return delete_after


def cancel(work: Work, account_id: int) -> None:
    """The deletion is called off: the account is open again (unless a moderation decision or
    an operator suspended it meanwhile). NotFound when none is pending or erasure started."""
    store = work.store
    found = store.erasure.request(account_id)
    if found is None or found.delete_after is None:
        raise NotFound("No deletion of this account is pending")
    store.erasure.set_request(account_id, None, False)
    if found.closed_by_deletion:
        store.accounts.update(account_id, {"suspended_at": None})
        restrictions.refresh_account(work, account_id)  # a suspension decided meanwhile


def schedule(work: Work, username: str, *, now: bool) -> datetime:
    """The operator deletes a local user: closed at once, erased after the grace period, or at
    the next run of the job with `now`."""
    account = _local(work, username)
    grace = timedelta(0 if now else work.settings.account_deletion_grace_days)
    return close(work, account.id, work.now() + grace)


def unschedule(work: Work, username: str) -> None:
    cancel(work, _local(work, username).id)


def _local(work: Work, username: str) -> Account:
    account = work.store.accounts.by_acct(username.strip().lstrip("@"), None)
    if account is None or work.store.accounts.user(account.id) is None:
        raise NotFound(f"No local user named {username}")
    return account


# -- the web's way back in -------------------------------------------------------------------


def closed_ticket(work: Work, login: str, password: str) -> tuple[str, datetime] | None:
    """For the right credentials of an account whose deletion is pending: a ticket (one hour)
    that lets it cancel, and when it will be erased; None when none is pending."""
    user = accounts.check_credentials(work, login, password)
    when = pending(work, user.account_id)
    if when is None:
        return None
    return ticket_for(work, user.account_id), when


def ticket_for(work: Work, account_id: int) -> str:
    return tickets.issue(work, "deletion", account_id)


def ticket_account(work: Work, ticket: str) -> int | None:
    """The account a ticket was given to, while it is valid."""
    return tickets.account_of(work, "deletion", ticket)


# -- erasing -------------------------------------------------------------------------------------


def erase_due(work: Work, files: Files) -> int:
    """The periodic job: start the erasures whose grace has ended, carry on those started,
    remove the tombstones whose Delete is delivered. Returns how many accounts it worked on;
    asks for another run at once while an erasure has posts left."""
    store, now = work.store.erasure, work.now()
    for account_id in store.due(now, ACCOUNTS_PER_RUN):
        _begin(work, account_id)
    patience = timedelta(days=work.settings.delivery_max_days + 1)
    worked = 0
    more = False
    for stone in store.tombstones(TOMBSTONES_PER_RUN):
        if stone.erased_at is None:
            worked += 1
            if not _erase_some(work, files, stone.account_id, keep_activity=_delete_id(stone.uri)):
                more = True
        elif store.pending_deliveries(stone.account_id) == 0 or now - stone.started_at > patience:
            worked += 1
            store.remove_account(stone.account_id)
    if more:
        work.later("erase_accounts")
    return worked


def _delete_id(actor_uri: str) -> str:
    return str(render.delete(actor_uri, actor_uri)["id"])


def _begin(work: Work, account_id: int) -> None:
    """Tell other servers (queued now, signed by the account at delivery), forbid the name,
    mark the erasure as started."""
    store = work.store
    account = store.accounts.get(account_id)
    if account is None:
        return
    if work.settings.federation_enabled:
        related = store.erasure.related_accounts(account_id)
        inboxes = set(outbox.inboxes_of(work, related)) | set(
            outbox.follower_inboxes(work, account_id)
        )
        if inboxes:
            actors.ensure_keys(work, account_id)
            outbox.publish(work, account_id, render.delete(account.uri, account.uri), inboxes)
    store.erasure.forbid_name(name_digest(work.settings.signing_key(), account.username))
    store.erasure.start(account_id, work.now())


def _erase_some(work: Work, files: Files, account_id: int, *, keep_activity: str | None) -> bool:
    """One batch of the account's posts; once none is left, everything else. True when done."""
    store = work.store
    ids = store.erasure.status_batch(account_id, STATUS_BATCH)
    if ids:
        loaded = store.statuses.load(ids)
        for status_id in ids:
            status = loaded.get(status_id) or store.statuses.get(status_id)
            if status is not None:
                posting.erase(work, status)
            else:  # not loadable (a boost of something gone): the row alone
                store.statuses.delete(status_id)
        store.erasure.forget_trend_exclusions("status", ids)
        return False
    account = store.accounts.get(account_id)
    if account is None:
        return True
    _erase_rest(work, files, account, keep_activity=keep_activity)
    if account.local:
        store.erasure.compact_search()
        store.erasure.strip_actor(account_id)
        store.erasure.mark_erased(account_id, work.now())
    else:
        store.erasure.forget_activities_of(account.uri)
        store.erasure.remove_account(account_id)
    return True


def _erase_rest(work: Work, files: Files, account: Account, *, keep_activity: str | None) -> None:
    store = work.store.erasure
    keys = store.media_keys(account.id)
    needles = [f'{account.uri}"', f"{account.uri}/", f"{account.uri}#"]
    needles += [f'{account.url}"', f"{account.url}/"] if account.url else []
    store.deidentify(account.id, needles)
    store.forget_notes_state(account.id)
    store.forget_feed_logs(account.id, account.created_at)
    store.forget_activities(account.id, needles)
    store.erase_rows(account.id, keep_activity=keep_activity)
    for key in keys:
        files.delete(key)


def erase_remote(work: Work, files: Files, account_id: int) -> bool:
    """The job behind an inbound Delete of a remote actor: a batch of its posts, or the rest
    of it. Asks for itself again while posts are left; True once it is gone."""
    account = work.store.accounts.get(account_id)
    if account is None:
        return True
    if account.local:
        return False
    done = _erase_some(work, files, account_id, keep_activity=None)
    if not done:
        work.later("erase_remote_account", account_id=account_id)
    return done
