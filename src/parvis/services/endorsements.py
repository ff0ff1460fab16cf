"""Endorsements (featured accounts, "account pins"): followed accounts shown on one's profile."""

from __future__ import annotations

from parvis.domain.errors import Invalid, NotFound
from parvis.domain.models import Relationship
from parvis.services.context import Work

MAX_ENDORSEMENTS = 100


def _relationship(work: Work, account_id: int, target_id: int) -> Relationship:
    (rel,) = work.store.social.relationships(account_id, [target_id], work.now())
    return rel


def endorse(work: Work, account_id: int, target_id: int) -> Relationship:
    target = work.store.accounts.get(target_id)
    if target is None or target.suspended:
        raise NotFound("Record not found")
    if target_id == account_id or not work.store.social.has("follows", account_id, target_id):
        raise Invalid("Validation failed: you can only endorse accounts you follow")
    pinned = work.store.social.endorsement_page(
        account_id, max_id=None, since_id=None, min_id=None, limit=MAX_ENDORSEMENTS
    )
    if len(pinned) >= MAX_ENDORSEMENTS and target_id not in {a for _, a in pinned}:
        raise Invalid(f"Validation failed: at most {MAX_ENDORSEMENTS} endorsed accounts")
    work.store.social.add("account_pins", account_id, target_id, work.now())
    return _relationship(work, account_id, target_id)


def unendorse(work: Work, account_id: int, target_id: int) -> Relationship:
    if work.store.accounts.get(target_id) is None:
        raise NotFound("Record not found")
    work.store.social.remove("account_pins", account_id, target_id)
    return _relationship(work, account_id, target_id)
