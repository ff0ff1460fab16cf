"""Glue between the text renderer and the account store: resolving @mentions, tag URLs."""

from __future__ import annotations

from collections.abc import Callable

from parvis.config import Settings
from parvis.domain.content import MentionTarget
from parvis.storage.store import Store


def resolver(store: Store) -> Callable[[str, str | None], MentionTarget | None]:
    def resolve(username: str, domain: str | None) -> MentionTarget | None:
        account = store.accounts.by_acct(username, domain)
        if account is None or account.suspended:
            return None
        return MentionTarget(
            account_id=account.id, username=account.username, domain=account.domain, url=account.url
        )

    return resolve


def tag_url(settings: Settings) -> Callable[[str], str]:
    base = settings.base_url
    return lambda name: f"{base}/tags/{name}"
