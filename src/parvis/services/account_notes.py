"""Private notes on accounts: what one keeps in mind about someone, seen by oneself only."""

from __future__ import annotations

from parvis.domain.errors import Invalid, NotFound
from parvis.domain.models import Relationship
from parvis.services.context import Work

MAX_NOTE = 2000  # characters, as Mastodon


def set_note(work: Work, account_id: int, target_id: int, comment: str) -> Relationship:
    """Set (or, with an empty comment, remove) the account's note on the target."""
    target = work.store.accounts.get(target_id)
    if target is None or target.suspended:
        raise NotFound("Record not found")
    comment = comment.strip()
    if len(comment) > MAX_NOTE:
        raise Invalid(f"Validation failed: comment: at most {MAX_NOTE} characters")
    work.store.social.set_note(account_id, target.id, comment, work.now())
    return work.store.social.relationships(account_id, [target.id], work.now())[0]
