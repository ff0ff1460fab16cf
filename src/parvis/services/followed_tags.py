"""Followed hashtags: follow and unfollow; fan-out reads the followers (services.fanout)."""

from __future__ import annotations

from parvis.domain.errors import NotFound
from parvis.services import search
from parvis.services.context import Work
from parvis.services.search import Hashtag


def _tag(work: Work, name: str) -> Hashtag:
    found = search.tag(work, name)
    if found is None:
        raise NotFound("Record not found")
    return found


def follow(work: Work, account_id: int, name: str) -> Hashtag:
    tag = _tag(work, name)
    tag_id = tag.id
    if tag_id is None:  # a valid name never used yet: created, as Mastodon does
        (tag_id,) = work.store.statuses.tag_ids([(tag.name, tag.display_name)], work.now())
        tag = Hashtag(tag_id, tag.name, tag.display_name)
    work.store.tag_follows.follow(account_id, tag_id, work.now())
    return tag


def unfollow(work: Work, account_id: int, name: str) -> Hashtag:
    tag = _tag(work, name)
    if tag.id is not None:
        work.store.tag_follows.unfollow(account_id, tag.id)
    return tag


def is_following(work: Work, account_id: int, tag: Hashtag) -> bool:
    return tag.id is not None and bool(work.store.tag_follows.following(account_id, [tag.id]))
