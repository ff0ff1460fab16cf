"""Featured hashtags: the tags an account shows on its profile (Mastodon's FeaturedTag)."""

from __future__ import annotations

from parvis.domain.errors import Invalid, NotFound
from parvis.services import search
from parvis.services.context import Work
from parvis.services.search import Hashtag
from parvis.storage.featured_tags import FeaturedTagRow

# Mastodon's limit of featured tags per account.
MAX_FEATURED = 10
# The longest tag name stored (the tags table's column).
MAX_NAME = 255
# Suggestions: the tags most used in the account's latest statuses, as many as Mastodon shows.
SUGGESTIONS = 10


def _tag(work: Work, name: str, *, create: bool) -> Hashtag:
    """The hashtag by name, created when `create` and never used yet; NotFound when the name is
    not a hashtag (or, without `create`, when nobody used it)."""
    found = search.tag(work, name)
    if found is None:
        raise NotFound("Record not found")
    if found.id is None and create:
        if max(len(found.name), len(found.display_name)) > MAX_NAME:
            raise Invalid(f"Validation failed: Name is too long (at most {MAX_NAME} characters)")
        (tag_id,) = work.store.statuses.tag_ids([(found.name, found.display_name)], work.now())
        found = Hashtag(tag_id, found.name, found.display_name)
    return found


def feature(work: Work, account_id: int, name: str) -> FeaturedTagRow:
    """Feature a tag (at most MAX_FEATURED); featuring it again returns the existing one."""
    if search.tag(work, name) is None:
        raise Invalid("Validation failed: Name is not a valid hashtag")
    tag = _tag(work, name, create=True)
    assert tag.id is not None
    if not work.store.featured_tags.featuring(account_id, [tag.id]):
        if work.store.featured_tags.count(account_id) >= MAX_FEATURED:
            raise Invalid(
                "Validation failed: You have already featured the maximum number of hashtags"
                f" ({MAX_FEATURED})"
            )
        written = name.strip().lstrip("#＃")
        work.store.featured_tags.add(account_id, tag.id, written, work.now())
    return next(f for f in listed(work, account_id) if f.tag_id == tag.id)


def unfeature(work: Work, account_id: int, featured_id: int) -> None:
    if not work.store.featured_tags.remove(account_id, featured_id):
        raise NotFound("Record not found")


def feature_tag(work: Work, account_id: int, name: str) -> Hashtag:
    """POST /api/v1/tags/:name/feature: the tag, now featured (NotFound for a non-tag name)."""
    tag = _tag(work, name, create=True)
    feature(work, account_id, name)
    return tag


def unfeature_tag(work: Work, account_id: int, name: str) -> Hashtag:
    """POST /api/v1/tags/:name/unfeature: the tag, no longer featured (a no-op if it was not)."""
    tag = _tag(work, name, create=False)
    if tag.id is not None:
        work.store.featured_tags.remove_tag(account_id, tag.id)
    return tag


def listed(work: Work, account_id: int) -> list[FeaturedTagRow]:
    return work.store.featured_tags.of_account(account_id)


def of_account(work: Work, account_id: int) -> list[FeaturedTagRow]:
    """Another account's featured tags, for its profile: none for a suspended account."""
    account = work.store.accounts.get(account_id)
    if account is None:
        raise NotFound("Record not found")
    return [] if account.suspended else listed(work, account_id)


def suggestions(work: Work, account_id: int) -> list[Hashtag]:
    rows = work.store.featured_tags.recently_used(account_id, limit=SUGGESTIONS)
    return [Hashtag(*row) for row in rows]


def is_featuring(work: Work, account_id: int, tag: Hashtag) -> bool:
    return tag.id is not None and bool(work.store.featured_tags.featuring(account_id, [tag.id]))
