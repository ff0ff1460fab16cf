"""Who to follow, explained: accounts followed by people you follow, ranked by how many of them
follow each (friends of friends); when there are too few, the most followed local accounts.
Never yourself, accounts you follow or asked to follow, blocked (either way), muted or
dismissed ones."""

from __future__ import annotations

from dataclasses import dataclass

from parvis.domain.errors import NotFound
from parvis.domain.models import Account
from parvis.services.context import Work

MAX = 80


@dataclass(frozen=True)
class Suggestion:
    account: Account
    sources: tuple[str, ...]  # Mastodon's SuggestionSourcesEnum values
    followed_by: tuple[int, ...]  # up to 3 of the people you follow who follow them


def suggest(work: Work, account_id: int, limit: int) -> list[Suggestion]:
    store = work.store
    exclude = {account_id} | store.suggestions.following(account_id)
    exclude |= store.suggestions.dismissed(account_id)
    exclude |= store.social.blocked_with(account_id)
    exclude |= store.social.muted_ids(account_id, work.now())
    exclude |= store.suggestions.requested(account_id)
    picks: list[tuple[int, tuple[str, ...]]] = [
        (target, ("friends_of_friends",))
        for target, _ in store.suggestions.friends_of_friends(account_id, exclude, limit)
    ]
    if len(picks) < limit:
        taken = exclude | {t for t, _ in picks}
        picks += [
            (target, ("most_followed",))
            for target in store.suggestions.most_followed_local(taken, limit - len(picks))
        ]
    accounts = store.accounts.get_many(t for t, _ in picks)
    out = []
    for target, sources in picks:
        account = accounts.get(target)
        if account is None:
            continue
        followed_by = (
            tuple(store.suggestions.followed_by_among(account_id, target))
            if "friends_of_friends" in sources
            else ()
        )
        out.append(Suggestion(account, sources, followed_by))
    return out


def dismiss(work: Work, account_id: int, target_id: int) -> None:
    if work.store.accounts.get(target_id) is None:
        raise NotFound("Record not found")
    work.store.suggestions.dismiss(account_id, target_id, work.now())
