"""Reading: timelines, threads, lists of statuses — every one filtered by the visibility rule,
the viewer's blocks, mutes and domain blocks, and the viewer's filters (v2) for its context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypedDict

from parvis.domain.errors import NotFound
from parvis.domain.models import Status, ViewerFlags
from parvis.domain.visibility import Visibility, may_see
from parvis.services import filters, notes, polls
from parvis.services.context import Work
from parvis.services.lists import owned as owned_list
from parvis.services.posting import visible_status


class PageArgs(TypedDict):
    """Paging as keyword arguments for the stores' page queries."""

    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int


@dataclass(frozen=True)
class Paging:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def kw(self) -> PageArgs:
        return {
            "max_id": self.max_id,
            "since_id": self.since_id,
            "min_id": self.min_id,
            "limit": self.limit,
        }


@dataclass(frozen=True)
class StatusPage:
    statuses: list[Status]
    flags: ViewerFlags
    # Cursor ids for the Link header: the first and last *candidate* ids, so paging continues
    # past items that were filtered out.
    first_id: int | None
    last_id: int | None


def visible(
    work: Work, viewer_id: int | None, ids: Sequence[int], *, hide_muted: bool = False
) -> list[Status]:
    """Load statuses in the given order and keep those the viewer may see."""
    loaded = work.store.statuses.load(ids)
    authors: set[int] = set()
    for st in loaded.values():
        authors.add(st.account.id)
        if st.reblog:
            authors.add(st.reblog.account.id)
            authors.update(m.account_id for m in st.reblog.mentions)
    viewer = work.store.social.viewer(viewer_id, authors)
    muted = (
        work.store.social.muted_ids(viewer_id, work.now()) if hide_muted and viewer_id else set()
    )
    remote = any(
        not st.account.local or (st.reblog is not None and not st.reblog.account.local)
        for st in loaded.values()
    )
    blocked_domains = (
        work.store.social.blocked_domains(viewer_id) if remote and viewer_id else set()
    )
    out: list[Status] = []
    for i in ids:
        s = loaded.get(i)
        if s is None or not may_see(viewer, s.facts):
            continue
        if s.reblog is not None and not may_see(viewer, s.reblog.facts):
            continue
        if muted and (s.account.id in muted or (s.reblog and s.reblog.account.id in muted)):
            continue
        if blocked_domains and (
            s.account.domain in blocked_domains
            or (s.reblog is not None and s.reblog.account.domain in blocked_domains)
        ):
            continue
        out.append(s)
    return out


def _page(
    work: Work,
    viewer_id: int | None,
    ids: list[int],
    *,
    hide_muted: bool,
    context: str | None,
    exclude_authors: set[int] | None = None,
) -> StatusPage:
    statuses = visible(work, viewer_id, ids, hide_muted=hide_muted)
    if exclude_authors:
        statuses = [s for s in statuses if s.account.id not in exclude_authors]
    statuses, flags = filtered(work, viewer_id, statuses, context)
    return StatusPage(statuses, flags, ids[0] if ids else None, ids[-1] if ids else None)


def filtered(
    work: Work, viewer_id: int | None, statuses: Sequence[Status], context: str | None
) -> tuple[list[Status], ViewerFlags]:
    """Apply the viewer's filters for `context` (None: none apply) and build the flags, with
    `filtered` results. For any read path: a single status is read in the `thread` context."""
    kept, results = (
        filters.apply(work, viewer_id, context, statuses)
        if context is not None and viewer_id is not None
        else (list(statuses), {})
    )
    flags = flags_for(work, viewer_id, kept)
    return kept, replace(flags, filtered=results) if results else flags


def _flag_ids(statuses: Sequence[Status]) -> list[int]:
    return [s.id for s in statuses] + [s.reblog.id for s in statuses if s.reblog]


def flags_for(work: Work, viewer_id: int | None, statuses: Sequence[Status]) -> ViewerFlags:
    """What the viewer did to these statuses: marks (favourited, bookmarked…) and poll votes;
    and the community notes shown on them (one query for the page)."""
    flags = work.store.interactions.flags(viewer_id, _flag_ids(statuses))
    flags = polls.with_votes(work, viewer_id, statuses, flags)
    shown = notes.shown_notes(work, statuses)
    return replace(flags, notes=shown) if shown else flags


def _ordered(ids: list[int], paging: Paging) -> list[int]:
    # With min_id the store returns oldest first; Mastodon still renders newest first.
    return sorted(ids, reverse=True) if paging.min_id is not None else ids


def home(work: Work, viewer_id: int, paging: Paging) -> StatusPage:
    ids = _ordered(work.store.feeds.page(viewer_id, **paging.kw()), paging)
    # Members of exclusive lists are read in their list only.
    exclusive = work.store.lists.exclusive_member_ids(viewer_id)
    return _page(work, viewer_id, ids, hide_muted=True, context="home", exclude_authors=exclusive)


def list_timeline(work: Work, viewer_id: int, list_id: int, paging: Paging) -> StatusPage:
    """Statuses by the list's members (still followed), computed at read time, honouring the
    list's replies policy; filtered in the `home` context, as Mastodon does."""
    found = owned_list(work, viewer_id, list_id)
    members = work.store.lists.followed_member_ids(found.id, viewer_id)
    vis = [Visibility.PUBLIC.value, Visibility.UNLISTED.value, Visibility.PRIVATE.value]
    ids = work.store.lists.timeline_ids(
        viewer_id, members, found.replies_policy, vis, **paging.kw()
    )
    return _page(work, viewer_id, _ordered(ids, paging), hide_muted=True, context="home")


def public(
    work: Work,
    viewer_id: int | None,
    paging: Paging,
    *,
    local: bool | None,
    only_media: bool = False,
) -> StatusPage:
    ids = _ordered(
        work.store.statuses.public_ids(local=local, only_media=only_media, **paging.kw()), paging
    )
    return _page(work, viewer_id, ids, hide_muted=True, context="public")


def hashtag(
    work: Work,
    viewer_id: int | None,
    tag_key: str,
    paging: Paging,
    *,
    local: bool | None,
    only_media: bool = False,
    any_keys: Sequence[str] = (),
    all_keys: Sequence[str] = (),
    none_keys: Sequence[str] = (),
) -> StatusPage:
    """Public statuses with this tag (or any of `any_keys`), all of `all_keys` too and none of
    `none_keys` (normalized tag names, as Mastodon's any[] / all[] / none[])."""
    empty = StatusPage([], ViewerFlags(), None, None)
    if not (any_keys or all_keys or none_keys):  # the common case: one query for the id
        tag_id = work.store.statuses.tag_id(tag_key)
        if tag_id is None:
            return empty
        ids = work.store.statuses.tag_ids_page(
            tag_id, local=local, only_media=only_media, **paging.kw()
        )
        return _page(work, viewer_id, _ordered(ids, paging), hide_muted=True, context="public")
    known = work.store.statuses.tag_ids_named([tag_key, *any_keys, *all_keys, *none_keys])
    tag_id = known.get(tag_key)
    # A tag nobody used yet: nothing carries it (the main one, or one that all[] requires).
    if tag_id is None or any(k not in known for k in all_keys):
        return empty
    ids = work.store.statuses.tag_ids_page(
        tag_id,
        local=local,
        only_media=only_media,
        any_ids=[known[k] for k in any_keys if k in known and known[k] != tag_id],
        all_ids=[known[k] for k in all_keys],
        none_ids=[known[k] for k in none_keys if k in known],
        **paging.kw(),
    )
    return _page(work, viewer_id, _ordered(ids, paging), hide_muted=True, context="public")


def account_statuses(
    work: Work,
    viewer_id: int | None,
    account_id: int,
    paging: Paging,
    *,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
    only_media: bool = False,
    pinned: bool = False,
    tagged: str | None = None,
) -> StatusPage:
    account = work.store.accounts.get(account_id)
    if account is None:
        raise NotFound("Record not found")
    viewer = work.store.social.viewer(viewer_id, [account_id])
    if viewer_id is not None and viewer.blocked_with(account_id) and viewer_id != account_id:
        return StatusPage([], ViewerFlags(), None, None)
    if pinned:
        ids = work.store.interactions.pinned_ids(account_id)
        return _page(work, viewer_id, ids, hide_muted=False, context="account")
    # Pre-filter by the visibilities this viewer could possibly see; may_see decides after.
    vis = [Visibility.PUBLIC.value, Visibility.UNLISTED.value]
    if viewer_id is not None:
        vis += [Visibility.PRIVATE.value, Visibility.DIRECT.value]
    tag_id = None
    if tagged is not None:
        tag_id = work.store.statuses.tag_id(tagged)
        if tag_id is None:
            return StatusPage([], ViewerFlags(), None, None)
    ids = work.store.statuses.account_timeline_ids(
        account_id,
        exclude_replies=exclude_replies,
        exclude_reblogs=exclude_reblogs,
        only_media=only_media,
        tagged=tag_id,
        visibilities=vis,
        **paging.kw(),
    )
    return _page(work, viewer_id, _ordered(ids, paging), hide_muted=False, context="account")


def by_marks(work: Work, viewer_id: int, kind: str, paging: Paging) -> StatusPage:
    """Bookmarks or favourites, paged by when they were marked."""
    pairs = work.store.interactions.status_page(kind, viewer_id, **paging.kw())
    if paging.min_id is not None:
        pairs.reverse()
    page = _page(work, viewer_id, [s for _, s in pairs], hide_muted=False, context=None)
    return StatusPage(
        page.statuses, page.flags, pairs[0][0] if pairs else None, pairs[-1][0] if pairs else None
    )


@dataclass(frozen=True)
class Context:
    ancestors: list[Status]
    descendants: list[Status]
    flags: ViewerFlags


def context(work: Work, viewer_id: int | None, status_id: int) -> Context:
    status = visible_status(work, viewer_id, status_id)
    if status.reblog is not None:
        status = status.reblog
    root = work.store.statuses.thread_root_of(status.id) or status.id
    thread = visible(work, viewer_id, work.store.statuses.thread_ids(root))
    by_id = {s.id: s for s in thread}
    ancestors: list[Status] = []
    parent = status.in_reply_to_id
    while parent is not None and parent in by_id and len(ancestors) < 4096:
        ancestors.append(by_id[parent])
        parent = by_id[parent].in_reply_to_id
    ancestors.reverse()
    children: dict[int, list[Status]] = {}
    for s in thread:
        if s.in_reply_to_id is not None:
            children.setdefault(s.in_reply_to_id, []).append(s)
    descendants: list[Status] = []
    stack = list(reversed(children.get(status.id, [])))
    while stack:  # depth first, oldest reply first, as Mastodon orders them
        s = stack.pop()
        descendants.append(s)
        stack.extend(reversed(children.get(s.id, [])))
    kept, flags = filtered(work, viewer_id, ancestors + descendants, "thread")
    keep = {s.id for s in kept}
    ancestors = [s for s in ancestors if s.id in keep]
    descendants = [s for s in descendants if s.id in keep]
    return Context(ancestors, descendants, flags)
