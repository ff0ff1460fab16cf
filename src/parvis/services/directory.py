"""The profile directory: discoverable accounts, most recently active or newest first."""

from __future__ import annotations

from parvis.domain.models import Account
from parvis.services.context import Work

MAX_LIMIT = 80
ORDERS = ("active", "new")


def listing(
    work: Work,
    viewer_id: int | None,
    *,
    order: str = "active",
    local_only: bool = False,
    offset: int = 0,
    limit: int = 40,
) -> list[Account]:
    """One page of the directory; a signed-in viewer does not see the accounts they block,
    mute or are blocked by, nor those of the domains they block."""
    exclude: set[int] = set()
    domains: set[str] = set()
    if viewer_id is not None:
        social = work.store.social
        exclude = social.blocked_with(viewer_id) | social.muted_ids(viewer_id, work.now())
        domains = social.blocked_domains(viewer_id)
    ids = work.store.directory.page(
        order=order if order in ORDERS else "active",
        local_only=local_only,
        exclude_ids=exclude,
        exclude_domains=domains,
        offset=offset,
        limit=min(max(limit, 1), MAX_LIMIT),
    )
    found = work.store.accounts.get_many(ids)
    return [found[i] for i in ids if i in found]
