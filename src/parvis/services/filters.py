"""Filters v2: managing filter groups, and applying them on every read path.

`apply` is what timelines (and notifications, threads, single statuses) call: `hide` filters
drop the status, `warn`/`blur` keep it with the matches carried to the `filtered` attribute.
The viewer's label choices (services/labels.py) apply there too, as filters the server makes.
The viewer's own statuses are never filtered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from parvis.domain.content import html_to_text
from parvis.domain.errors import Invalid, NotFound
from parvis.domain.filters import (
    ACTIONS,
    CONTEXTS,
    Filter,
    FilterKeyword,
    FilterMatch,
    FilterStatus,
    Matcher,
    compile_filters,
    hides,
    searchable_text,
)
from parvis.domain.models import Notification, Status
from parvis.services import labels
from parvis.services.context import Work

MAX_FILTERS = 100  # per account
MAX_KEYWORDS = 100  # per filter
MAX_EXPIRES_IN = 10 * 365 * 86400

Results = dict[int, tuple[FilterMatch, ...]]


# -- applying ------------------------------------------------------------------------------


def matcher(work: Work, viewer_id: int | None, context: str) -> Matcher:
    """The viewer's active filters for `context`, compiled once for this request."""
    if viewer_id is None:
        return Matcher()
    return compile_filters(work.store.filters.of_account(viewer_id), context, work.now())


def status_text(status: Status) -> str:
    return searchable_text(
        status.spoiler_text,
        html_to_text(status.content),
        (m.description for m in status.media if m.description),
    )


def match_status(m: Matcher, viewer_id: int | None, status: Status) -> tuple[FilterMatch, ...]:
    proper = status.reblog or status
    if not m or proper.account.id == viewer_id:
        return ()
    return tuple(m.match(status_text(proper), (status.id, proper.id)))


def apply(
    work: Work, viewer_id: int | None, context: str, statuses: Sequence[Status]
) -> tuple[list[Status], Results]:
    """(statuses kept, filter results by status id: the status and, for a boost, its original)."""
    m = matcher(work, viewer_id, context)
    marked = labels.marks(work, viewer_id, context, statuses)
    if not m and not marked:
        return list(statuses), {}
    kept: list[Status] = []
    results: Results = {}
    for status in statuses:
        found = match_status(m, viewer_id, status) + marked.get(status.id, ())
        if found and hides(found):
            continue
        kept.append(status)
        if found:
            results[status.id] = found
            if status.reblog is not None:
                results[status.reblog.id] = found
    return kept, results


def apply_to_notifications(
    work: Work, viewer_id: int, notifications: Sequence[Notification]
) -> tuple[list[Notification], Results]:
    """For the notifications read path: drops notifications from accounts on a domain the
    viewer blocks, and applies the viewer's `notifications` filters to their statuses."""
    blocked = work.store.social.blocked_domains(viewer_id)
    if blocked:
        notifications = [n for n in notifications if n.account.domain not in blocked]
    m = matcher(work, viewer_id, "notifications")
    with_status = [n.status for n in notifications if n.status is not None]
    marked = labels.marks(work, viewer_id, "notifications", with_status)
    if not m and not marked:
        return list(notifications), {}
    kept: list[Notification] = []
    results: Results = {}
    for n in notifications:
        found = (
            match_status(m, viewer_id, n.status) + marked.get(n.status.id, ())
            if n.status is not None
            else ()
        )
        if found and hides(found):
            continue
        kept.append(n)
        if found and n.status is not None:
            results[n.status.id] = found
            if n.status.reblog is not None:
                results[n.status.reblog.id] = found
    return kept, results


# -- managing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeywordChange:
    """One item of keywords_attributes: create (no id), update (id) or destroy (id, destroy)."""

    keyword: str | None = None
    whole_word: bool | None = None
    id: int | None = None
    destroy: bool = False


def _check_context(context: Sequence[str]) -> tuple[str, ...]:
    ctx = tuple(dict.fromkeys(context))
    if not ctx:
        raise Invalid("Validation failed: Context can't be blank")
    bad = [c for c in ctx if c not in CONTEXTS]
    if bad:
        raise Invalid(f"Validation failed: Context {bad[0]!r} is not one of {', '.join(CONTEXTS)}")
    return ctx


def _check_action(action: str) -> str:
    if action not in ACTIONS:
        raise Invalid(f"Validation failed: filter_action must be one of {', '.join(ACTIONS)}")
    return action


def _check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("Validation failed: Title can't be blank")
    return title


def _check_keyword(keyword: str) -> str:
    if not keyword.strip():
        raise Invalid("Validation failed: Keyword can't be blank")
    return keyword


def owned(work: Work, viewer_id: int, filter_id: int) -> Filter:
    found = work.store.filters.of_account(viewer_id, filter_id)
    if not found:
        raise NotFound("Record not found")
    return found[0]


def _apply_keywords(
    work: Work, f: Filter, changes: Sequence[KeywordChange], *, creating: bool
) -> None:
    store = work.store.filters
    known = {k.id for k in f.keywords}
    count = len(known)
    for ch in changes:
        if ch.id is not None and not creating:
            if ch.id not in known:
                raise NotFound("Record not found")
            if ch.destroy:
                store.delete_keyword(ch.id)
                count -= 1
                continue
            values: dict[str, object] = {}
            if ch.keyword is not None:
                values["keyword"] = _check_keyword(ch.keyword)
            if ch.whole_word is not None:
                values["whole_word"] = ch.whole_word
            store.update_keyword(ch.id, **values)
            continue
        if ch.destroy:
            continue
        count += 1
        if count > MAX_KEYWORDS:
            raise Invalid(f"Validation failed: a filter holds at most {MAX_KEYWORDS} keywords")
        store.add_keyword(
            f.id,
            _check_keyword(ch.keyword or ""),
            True if ch.whole_word is None else ch.whole_word,
            work.now(),
        )


def _expiry(work: Work, expires_in: int | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= 0 or expires_in > MAX_EXPIRES_IN:
        raise Invalid("Validation failed: expires_in must be a positive number of seconds")
    return work.now() + timedelta(seconds=expires_in)


def create(
    work: Work,
    viewer_id: int,
    *,
    title: str,
    context: Sequence[str],
    action: str,
    expires_in: int | None,
    keywords: Sequence[KeywordChange],
) -> Filter:
    store = work.store.filters
    if store.count(viewer_id) >= MAX_FILTERS:
        raise Invalid(f"Validation failed: at most {MAX_FILTERS} filters per account")
    expires_at = _expiry(work, expires_in)
    filter_id = store.create(
        viewer_id,
        title=_check_title(title),
        context=_check_context(context),
        action=_check_action(action),
        expires_at=expires_at,
        now=work.now(),
    )
    _apply_keywords(work, owned(work, viewer_id, filter_id), keywords, creating=True)
    return owned(work, viewer_id, filter_id)


def update(
    work: Work,
    viewer_id: int,
    filter_id: int,
    *,
    title: str | None,
    context: Sequence[str] | None,
    action: str | None,
    expires_in: int | None,
    expires_in_given: bool,
    keywords: Sequence[KeywordChange],
) -> Filter:
    f = owned(work, viewer_id, filter_id)
    values: dict[str, object] = {}
    if title is not None:
        values["title"] = _check_title(title)
    if context is not None:
        values["context"] = _check_context(context)
    if action is not None:
        values["action"] = _check_action(action)
    if expires_in_given:
        values["expires_at"] = _expiry(work, expires_in)
    work.store.filters.update(f.id, **values)
    _apply_keywords(work, f, keywords, creating=False)
    return owned(work, viewer_id, filter_id)


def delete(work: Work, viewer_id: int, filter_id: int) -> None:
    work.store.filters.delete(owned(work, viewer_id, filter_id).id)


def add_keyword(
    work: Work, viewer_id: int, filter_id: int, keyword: str, whole_word: bool
) -> FilterKeyword:
    f = owned(work, viewer_id, filter_id)
    if len(f.keywords) >= MAX_KEYWORDS:
        raise Invalid(f"Validation failed: a filter holds at most {MAX_KEYWORDS} keywords")
    kid = work.store.filters.add_keyword(f.id, _check_keyword(keyword), whole_word, work.now())
    return FilterKeyword(kid, keyword, whole_word)


def owned_keyword(work: Work, viewer_id: int, keyword_id: int) -> FilterKeyword:
    found = work.store.filters.keyword(keyword_id)
    if found is None or work.store.filters.owner_of(found[0]) != viewer_id:
        raise NotFound("Record not found")
    return found[1]


def update_keyword(
    work: Work, viewer_id: int, keyword_id: int, keyword: str | None, whole_word: bool | None
) -> FilterKeyword:
    kw = owned_keyword(work, viewer_id, keyword_id)
    values: dict[str, object] = {}
    if keyword is not None:
        values["keyword"] = _check_keyword(keyword)
    if whole_word is not None:
        values["whole_word"] = whole_word
    work.store.filters.update_keyword(kw.id, **values)
    return owned_keyword(work, viewer_id, keyword_id)


def delete_keyword(work: Work, viewer_id: int, keyword_id: int) -> None:
    work.store.filters.delete_keyword(owned_keyword(work, viewer_id, keyword_id).id)


def add_status(work: Work, viewer_id: int, filter_id: int, status_id: int) -> FilterStatus:
    f = owned(work, viewer_id, filter_id)
    if not work.store.statuses.exists(status_id):
        raise NotFound("Record not found")
    mark = work.store.filters.add_status(f.id, status_id, work.now())
    return FilterStatus(mark, status_id)


def owned_status(work: Work, viewer_id: int, mark_id: int) -> FilterStatus:
    found = work.store.filters.status_mark(mark_id)
    if found is None or work.store.filters.owner_of(found[0]) != viewer_id:
        raise NotFound("Record not found")
    return found[1]


def delete_status(work: Work, viewer_id: int, mark_id: int) -> None:
    work.store.filters.delete_status(owned_status(work, viewer_id, mark_id).id)
