"""Glue between the text renderer and the account store: resolving @mentions, tag URLs."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from parvis.config import Settings
from parvis.domain.content import MentionTarget, normalize_tag
from parvis.storage.store import Store


def resolver(store: Store, settings: Settings) -> Callable[[str, str | None], MentionTarget | None]:
    """Resolve @user and @user@domain to known accounts (our own domain means local)."""
    own = settings.domain.lower()

    def resolve(username: str, domain: str | None) -> MentionTarget | None:
        if domain is not None and domain.lower() == own:
            domain = None
        account = store.accounts.by_acct(username, domain)
        if account is None or account.suspended:
            return None
        return MentionTarget(
            account_id=account.id, username=account.username, domain=account.domain, url=account.url
        )

    return resolve


def tag_url(settings: Settings) -> Callable[[str], str]:
    base = settings.base_url
    return lambda name: f"{base}/tags/{quote(normalize_tag(name))}"
