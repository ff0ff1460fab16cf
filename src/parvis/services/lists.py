"""Lists of followed accounts: managing them (the list timeline is in services.timelines)."""

from __future__ import annotations

from collections.abc import Sequence

from parvis.domain.errors import Invalid, NotFound
from parvis.domain.lists import MAX_LISTS, REPLIES_POLICIES, UserList
from parvis.services.context import Work

MAX_TITLE = 255


def _title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise Invalid(f"Validation failed: Title is too long (maximum is {MAX_TITLE} characters)")
    return title


def _policy(policy: str) -> str:
    if policy not in REPLIES_POLICIES:
        raise Invalid(
            "Validation failed: replies_policy must be one of " + ", ".join(REPLIES_POLICIES)
        )
    return policy


def owned(work: Work, owner_id: int, list_id: int) -> UserList:
    found = work.store.lists.get(list_id)
    if found is None or found.account_id != owner_id:
        raise NotFound("Record not found")
    return found


def create(work: Work, owner_id: int, title: str, replies_policy: str, exclusive: bool) -> UserList:
    title, replies_policy = _title(title), _policy(replies_policy)
    if work.store.lists.count(owner_id) >= MAX_LISTS:
        raise Invalid(f"Validation failed: you can have at most {MAX_LISTS} lists")
    return work.store.lists.create(owner_id, title, replies_policy, exclusive, work.now())


def update(
    work: Work,
    owner_id: int,
    list_id: int,
    *,
    title: str | None,
    replies_policy: str | None,
    exclusive: bool | None,
) -> UserList:
    found = owned(work, owner_id, list_id)
    values: dict[str, object] = {}
    if title is not None:
        values["title"] = _title(title)
    if replies_policy is not None:
        values["replies_policy"] = _policy(replies_policy)
    if exclusive is not None:
        values["exclusive"] = exclusive
    work.store.lists.update(found.id, **values)
    return owned(work, owner_id, list_id)


def delete(work: Work, owner_id: int, list_id: int) -> None:
    work.store.lists.delete(owned(work, owner_id, list_id).id)


def add_accounts(work: Work, owner_id: int, list_id: int, account_ids: Sequence[int]) -> None:
    found = owned(work, owner_id, list_id)
    known = work.store.accounts.get_many(account_ids)
    if any(a not in known for a in account_ids):
        raise NotFound("Record not found")
    rels = work.store.social.relationships(owner_id, list(account_ids), work.now())
    if any(not r.following for r in rels):
        raise Invalid("Validation failed: Account has not been followed")
    work.store.lists.add_members(found.id, account_ids, work.now())


def remove_accounts(work: Work, owner_id: int, list_id: int, account_ids: Sequence[int]) -> None:
    work.store.lists.remove_members(owned(work, owner_id, list_id).id, account_ids)


def lists_with(work: Work, owner_id: int, account_id: int) -> list[UserList]:
    if work.store.accounts.get(account_id) is None:
        raise NotFound("Record not found")
    return work.store.lists.lists_with_member(owner_id, account_id)
