"""Export of an account's data, as its owner downloads it: a ZIP archive holding JSON files
(the account, its posts, follows, followers, blocks, mutes, lists, bookmarks), CSV files in
the formats Mastodon imports (following, blocks, mutes, blocked domains, bookmarks, lists:
`services/imports.py` reads them back), and the ActivityStreams archive of the account's posts
(`actor.json`, `outbox.json` and, given the media files, the files under `media/`: see
`services/archive.py`, which imports it)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import orjson

from parvis.domain.models import Account, Status
from parvis.services import accounts, archive
from parvis.services.context import Work
from parvis.services.media import Files
from parvis.services.timelines import Paging, account_statuses, by_marks

BATCH = 200
MAX_ITEMS = 100_000  # per collection: a bound on one request's work


def _edges(work: Work, kind: str, **key: int) -> Iterator[int]:
    """The other account ids of an account's follows/blocks/mutes (or followers), all pages."""
    max_id: int | None = None
    seen = 0
    while seen < MAX_ITEMS:
        pairs = work.store.social.edge_page(
            kind, max_id=max_id, since_id=None, min_id=None, limit=BATCH, **key
        )
        if not pairs:
            return
        for _, other in pairs:
            yield other
        seen += len(pairs)
        max_id = pairs[-1][0]


def _statuses(work: Work, account_id: int, *, bookmarks: bool) -> Iterator[Status]:
    max_id: int | None = None
    seen = 0
    while seen < MAX_ITEMS:
        page = Paging(max_id=max_id, limit=BATCH)
        found = (
            by_marks(work, account_id, "bookmarks", page)
            if bookmarks
            else account_statuses(work, account_id, account_id, page)
        )
        yield from found.statuses
        if found.last_id is None or found.last_id == max_id:
            return
        seen += BATCH
        max_id = found.last_id


def full_acct(work: Work, account: Account) -> str:
    """user@domain, the address Mastodon's import expects (local accounts get this domain)."""
    return f"{account.username}@{account.domain or work.settings.domain}"


def _account_json(work: Work, account: Account) -> dict[str, Any]:
    user = work.store.accounts.user(account.id)
    return {
        "id": str(account.id),
        "acct": full_acct(work, account),
        "uri": account.uri,
        "url": account.url,
        "display_name": account.display_name,
        "note": account.note,
        "fields": [{"name": f.name, "value": f.value} for f in account.fields],
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "hide_collections": account.hide_collections,
        "created_at": account.created_at.isoformat(),
        "email": user.email if user else None,
        "locale": user.locale if user else None,
        "default_visibility": user.default_visibility.value if user else None,
        "default_language": user.default_language if user else None,
        "avatar": f"{work.settings.base_url}/media/{account.avatar_key}"
        if account.avatar_key
        else None,
        "header": f"{work.settings.base_url}/media/{account.header_key}"
        if account.header_key
        else None,
    }


def _status_json(status: Status) -> dict[str, Any]:
    return {
        "id": str(status.id),
        "uri": status.uri,
        "url": status.url,
        "created_at": status.created_at.isoformat(),
        "edited_at": status.edited_at.isoformat() if status.edited_at else None,
        "visibility": status.visibility.value,
        "language": status.language,
        "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
        "reblog_of": status.reblog.uri if status.reblog else None,
        "spoiler_text": status.spoiler_text,
        "sensitive": status.sensitive,
        "text": status.text,
        "content": status.content,
        "tags": list(status.tags),
        "media": [
            {
                "url": f"/media/{m.file_key}" if m.file_key else m.remote_url,
                "description": m.description,
            }
            for m in status.media
        ],
    }


def _csv(rows: list[list[str]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _dump(data: object) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2)


def build(work: Work, account_id: int, files: Files | None = None) -> bytes:
    """The account's archive (a ZIP), built in memory; with `files`, the media files too."""
    account = accounts.get_account(work, account_id)
    store = work.store
    now = work.now()

    def accts(ids: list[int]) -> list[Account]:
        found = store.accounts.get_many(ids)
        return [found[i] for i in ids if i in found]

    following = accts(list(_edges(work, "follows", account_id=account_id)))
    followers = accts(list(_edges(work, "follows", target_id=account_id)))
    blocked = accts(list(_edges(work, "blocks", account_id=account_id)))
    muted = accts(list(_edges(work, "mutes", account_id=account_id)))
    follow_rels = {
        r.id: r for r in store.social.relationships(account_id, [a.id for a in following], now)
    }
    mute_rels = {
        r.id: r for r in store.social.relationships(account_id, [a.id for a in muted], now)
    }
    lists: list[dict[str, Any]] = []
    list_rows: list[list[str]] = []
    for found in store.lists.of_account(account_id):
        pairs = store.lists.member_page(
            found.id, account_id, max_id=None, since_id=None, min_id=None, limit=None
        )
        members = [full_acct(work, a) for a in accts([a for _, a in pairs])]
        list_rows += [[found.title, acct] for acct in members]
        lists.append(
            {
                "title": found.title,
                "replies_policy": found.replies_policy,
                "exclusive": found.exclusive,
                "members": members,
            }
        )
    statuses = list(_statuses(work, account_id, bookmarks=False))
    posts = [_status_json(s) for s in statuses]
    bookmarks = [s.uri for s in _statuses(work, account_id, bookmarks=True)]

    documents: dict[str, str | bytes] = {
        "account.json": _dump(_account_json(work, account)),
        "posts.json": _dump(posts),
        "following.json": _dump([full_acct(work, a) for a in following]),
        "followers.json": _dump([full_acct(work, a) for a in followers]),
        "blocks.json": _dump([full_acct(work, a) for a in blocked]),
        "mutes.json": _dump([full_acct(work, a) for a in muted]),
        "lists.json": _dump(lists),
        "bookmarks.json": _dump(bookmarks),
        "following_accounts.csv": _csv(
            [
                [
                    full_acct(work, a),
                    str(follow_rels[a.id].showing_reblogs if a.id in follow_rels else True).lower(),
                    str(follow_rels[a.id].notifying if a.id in follow_rels else False).lower(),
                    ", ".join(follow_rels[a.id].languages or ()) if a.id in follow_rels else "",
                ]
                for a in following
            ],
            ["Account address", "Show boosts", "Notify on new posts", "Languages"],
        ),
        "blocked_accounts.csv": _csv([[full_acct(work, a)] for a in blocked]),
        "muted_accounts.csv": _csv(
            [
                [
                    full_acct(work, a),
                    str(
                        mute_rels[a.id].muting_notifications if a.id in mute_rels else True
                    ).lower(),
                ]
                for a in muted
            ],
            ["Account address", "Hide notifications"],
        ),
        "blocked_domains.csv": _csv(
            [[d] for d in sorted(store.social.blocked_domains(account_id))], ["#domain"]
        ),
        "bookmarks.csv": _csv([[uri] for uri in bookmarks]),
        "lists.csv": _csv(list_rows),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, content in documents.items():
            zipped.writestr(name, content)
        archive.write(work, zipped, account, statuses, files)
    return buffer.getvalue()


def filename(work: Work, account_id: int) -> str:
    account = accounts.get_account(work, account_id)
    return f"parvis-{account.username}-{work.now():%Y%m%d}.zip"
