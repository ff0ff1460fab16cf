"""Export of an account's data, as its owner downloads it: a ZIP archive with a README.txt that
lists its files. JSON files hold the account, its posts, follows, followers, blocks, mutes,
lists, bookmarks and every other thing the account holds (filters, followed and featured tags,
endorsements, notes on accounts, muted conversations, polls and votes, scheduled posts,
community notes and ratings, preferences, markers, feed settings, sessions, network addresses,
reports, decisions and appeals: `storage/export.py`, one file per section); CSV files in the
formats Mastodon imports (following, blocks, mutes, blocked domains, bookmarks, lists:
`services/imports.py` reads them back); the ActivityStreams archive of the account's posts
(`actor.json`, `outbox.json` and, given the media files, the files under `media/`: see
`services/archive.py`, which imports it); and the end-to-end encrypted messages as the server
holds them (`messages/`): each envelope exactly as the API gives it, so that a device holding
its keys can read the archive offline. The server cannot decrypt them and does not try.

`LEFT_OUT` says, for every table that refers to an account and is not exported, why: a test
fails when a new table is neither exported nor explained there.

The archive is written into a file object as it is read (rows in batches, one ZIP member at a
time), not assembled in memory; `build` returns it as bytes for callers that want that.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

import orjson

from parvis.domain import messaging as e2e
from parvis.domain.models import Account, Status
from parvis.services import accounts, archive, messaging
from parvis.services.context import Work
from parvis.services.e2e_json import device_json, message_json, ts
from parvis.services.media import Files
from parvis.services.timelines import Paging, account_statuses, by_marks
from parvis.storage.export import SECTIONS, ExportStore

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


def account_posts(work: Work, account_id: int) -> Iterator[Status]:
    """The account's posts and boosts that exist, newest first, read in batches."""
    return _statuses(work, account_id, bookmarks=False)


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
        "role": user.role if user else None,
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


def status_json(status: Status) -> dict[str, Any]:
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


# Tables that refer to an account and whose rows are not in the archive as such, and why.
LEFT_OUT: dict[str, str] = {
    "accounts": "account.json and actor.json (keys are never exported)",
    "users": "account.json (the password is kept only as a hash, which is not exported)",
    "statuses": "posts.json and outbox.json",
    "status_mentions": "posts.json (mentions are in each post's text) and outbox.json",
    "media_attachments": "posts.json, outbox.json and the files under media/",
    "follows": "following.json, followers.json and following_accounts.csv",
    "blocks": "blocks.json and blocked_accounts.csv",
    "mutes": "mutes.json and muted_accounts.csv",
    "bookmarks": "bookmarks.json and bookmarks.csv",
    "lists": "lists.json and lists.csv",
    "list_accounts": "lists.json (each list with its members)",
    "custom_filters": "filters.json (with their keywords and posts)",
    "e2e_devices": "messages/devices.json",
    "e2e_conversations": "messages/conversations.json",
    "e2e_participants": "messages/conversations.json",
    "e2e_messages": "messages/conversations.json (each envelope as the API gives it)",
    "home_feed": "a cache of the home timeline, rebuilt from follows",
    "notifications": "what others did, shown in the app; derived from their posts and actions",
    "filtered_notifications": "the same notifications, held back by the notification policy",
    "conversations": "the read state of direct-post threads; the posts are in posts.json",
    "idempotency_keys": "technical: retried requests and imported posts are not made twice",
    "oauth_codes": "technical: one-use codes that expire within minutes",
    "feed_served": "the ranked-feed log, replayed on Settings -> Feeds; pruned after days",
    "federation_deliveries": "technical: the queue of activities being sent to other servers",
    "quotes": "quotes of the account's posts by others, held with their posts",
    "announcement_reads": "whether the server's announcements were read",
    "announcement_reactions": "emoji reactions to the server's announcements",
    "notice_items": "reports by others about the account: the reporters are protected",
    "mod_cases": "moderators' case files; decisions about the account are exported",
    "mod_events": "moderators' own actions in case files",
    "label_signals": "moderators' review of automated label signals",
    "label_signal_accounts": "signals under moderators' review; labels given are exported",
    "trusted_flaggers": "the register of trusted flaggers (DSA art. 22)",
    "moderators": "the register of moderators (DSA art. 15)",
    "authority_orders": "the authority register (DSA arts. 9, 10, 18)",
    "oauth_apps": "applications registered by the account: sessions.json names them",
    "e2e_remote_accounts": "where another server lists a remote account's devices",
    "account_tombstones": "the erasure of an account in progress (there is nothing to export)",
}

FILES: dict[str, str] = {
    "README.txt": "this list",
    "account.json": "your profile and account settings",
    "actor.json": "your profile as an ActivityPub actor (for moving to another server)",
    "posts.json": "your posts and boosts, with their text and pictures",
    "outbox.json": "your posts as ActivityStreams activities (Parvis and Mastodon import it)",
    "media/": "the pictures and files of your posts, your avatar and header",
    "following.json": "the accounts you follow",
    "followers.json": "the accounts that follow you",
    "blocks.json": "the accounts you block",
    "mutes.json": "the accounts you mute",
    "lists.json": "your lists with their members",
    "bookmarks.json": "the posts you bookmarked",
    "filters.json": "your filters, with their keywords and filtered posts",
    "favourites.json": "the posts you favourited",
    "pinned_posts.json": "your pinned posts",
    "follow_requests.json": "your follow requests still waiting for an answer",
    "endorsements.json": "the accounts featured on your profile",
    "account_notes.json": "your private notes on accounts",
    "dismissed_suggestions.json": "the follow suggestions you dismissed",
    "followed_tags.json": "the hashtags you follow",
    "featured_tags.json": "the hashtags featured on your profile",
    "muted_conversations.json": "the conversations you muted",
    "domain_blocks.json": "the servers you block",
    "polls.json": "the polls of your posts",
    "poll_votes.json": "your votes in polls",
    "scheduled_posts.json": "your scheduled posts",
    "edit_history.json": "the earlier versions of your edited posts",
    "community_notes.json": "the community notes you wrote",
    "community_note_ratings.json": "your ratings of community notes",
    "community_note_rater.json": "your rater profile, as the notes algorithm computed it",
    "label_preferences.json": "what you chose to do with labelled content",
    "labels.json": "the labels on your account",
    "markers.json": "where you stopped reading your timelines",
    "feed_settings.json": "your feed settings",
    "feed_weights.json": "your weights for the ranked feeds",
    "feed_viewpoint.json": "your viewpoint, as the bridging feed computed it",
    "notification_policy.json": "your notification filtering policy",
    "aliases.json": "your account's other names (for moving accounts)",
    "sessions.json": "the applications signed in as you (never their tokens)",
    "network_addresses.json": "the addresses you signed up and signed in from, while kept",
    "reports.json": "the reports you sent to the moderators",
    "moderation_decisions.json": "the moderators' decisions about your account or posts",
    "appeals.json": "your appeals of moderation decisions",
    "messages/conversations.json": (
        "your end-to-end encrypted conversations: participants, and each message as the "
        "encrypted envelope the server holds (a device with its keys decrypts them)"
    ),
    "messages/devices.json": "your devices' public key records",
    "following_accounts.csv": "CSV for import elsewhere: the accounts you follow",
    "blocked_accounts.csv": "CSV for import elsewhere: the accounts you block",
    "muted_accounts.csv": "CSV for import elsewhere: the accounts you mute",
    "blocked_domains.csv": "CSV for import elsewhere: the servers you block",
    "bookmarks.csv": "CSV for import elsewhere: your bookmarks",
    "lists.csv": "CSV for import elsewhere: your lists",
}

# Text columns that hold JSON: given as JSON, not as a string of it.
_JSON_TEXT = {"options", "params", "weights", "reasons", "sources", "tags", "poll_options"}


def plain(row: dict[str, Any], domain: str) -> dict[str, Any]:
    """A row of `storage/export.py` as JSON values: accounts as user@domain (and their URI),
    times in ISO 8601, JSON columns parsed."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key.endswith("_domain") and f"{key[:-7]}_username" in row:
            continue
        if key.endswith("_username"):
            prefix = key[: -len("_username")]
            out[prefix] = f"{value}@{row.get(prefix + '_domain') or domain}"
        elif isinstance(value, datetime):
            out[key] = ts(value)
        elif isinstance(value, bytes):
            out[key] = e2e.b64(value)
        elif key in _JSON_TEXT and isinstance(value, str):
            try:
                out[key] = orjson.loads(value)
            except orjson.JSONDecodeError:
                out[key] = value
        else:
            out[key] = value
    return out


def write_json_array(zipped: zipfile.ZipFile, name: str, items: Iterable[object]) -> None:
    """One JSON array member of the archive, written item by item."""
    with zipped.open(name, "w", force_zip64=True) as member:
        member.write(b"[")
        for i, item in enumerate(items):
            member.write(b",\n" if i else b"\n")
            member.write(orjson.dumps(item))
        member.write(b"\n]\n")


def _one(rows: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
    """A section of one row at most (settings): the row, or None."""
    found = list(rows)
    return found[0] if found else None


def participant_json(work: Work, account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "acct": full_acct(work, account),
        "uri": account.uri,
        "display_name": account.display_name,
    }


def _messages(work: Work, conversation_id: int) -> Iterator[dict[str, Any]]:
    """Every message of a conversation, oldest first, in batches."""
    store = work.store.messaging
    after = 0
    while True:
        found = store.messages(
            conversation_id, max_id=None, since_id=None, min_id=after, limit=BATCH
        )
        if not found:
            return
        senders = store.devices({m.sender_device_id for m in found})
        for m in found:
            yield message_json(m, senders.get(m.sender_device_id))
        after = found[-1].id


def _write_conversations(work: Work, zipped: zipfile.ZipFile, account_id: int) -> None:
    """messages/conversations.json: a JSON array of conversations, each with its messages,
    written message by message."""
    ids = ExportStore(work.store.conn).conversation_ids(account_id)
    with zipped.open("messages/conversations.json", "w", force_zip64=True) as member:
        member.write(b"[")
        for i, cid in enumerate(ids):
            convo = work.store.messaging.conversation(cid)
            if convo is None:
                continue
            people = work.store.accounts.get_many(list(convo.participant_ids))
            head = {
                "id": str(convo.id),
                "created_at": ts(convo.created_at),
                "last_message_id": str(convo.activity_id)
                if convo.activity_id != convo.id
                else None,
                "participants": [
                    participant_json(work, people[a]) for a in convo.participant_ids if a in people
                ],
            }
            opening = orjson.dumps(head)[:-1] + b', "messages": ['
            member.write((b",\n" if i else b"\n") + opening)
            for j, message in enumerate(_messages(work, cid)):
                member.write((b",\n  " if j else b"\n  ") + orjson.dumps(message))
            member.write(b"\n]}")
        member.write(b"\n]\n")


def _readme(work: Work, account: Account) -> str:
    width = max(len(name) for name in FILES)
    lines = [
        f"Archive of {full_acct(work, account)}, made by {work.settings.domain} on "
        f"{work.now():%Y-%m-%d %H:%M} UTC.",
        "",
        "Files:",
        *(f"  {name.ljust(width)}  {what}" for name, what in FILES.items()),
        "",
        "Encrypted messages are as the server holds them: it cannot read them. A device that",
        "holds its keys (the Parvis web app, or any client of docs/messaging.md) decrypts them.",
        "",
    ]
    return "\n".join(lines)


def write_archive(work: Work, account_id: int, out: IO[bytes], files: Files | None = None) -> None:
    """Write the account's archive (a ZIP) into `out`; with `files`, the media files too."""
    account = accounts.get_account(work, account_id)
    store = work.store
    now = work.now()
    domain = work.settings.domain
    rows = ExportStore(store.conn)

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
    bookmarks = [s.uri for s in _statuses(work, account_id, bookmarks=True)]
    post_uris = {s.id: s.uri for s in statuses}

    documents: dict[str, str | bytes] = {
        "README.txt": _readme(work, account),
        "account.json": _dump(_account_json(work, account)),
        "following.json": _dump([full_acct(work, a) for a in following]),
        "followers.json": _dump([full_acct(work, a) for a in followers]),
        "blocks.json": _dump([full_acct(work, a) for a in blocked]),
        "mutes.json": _dump([full_acct(work, a) for a in muted]),
        "lists.json": _dump(lists),
        "bookmarks.json": _dump(bookmarks),
        "filters.json": _dump(_filters(work, account_id, post_uris)),
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
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, content in documents.items():
            zipped.writestr(name, content)
        write_json_array(zipped, "posts.json", (status_json(s) for s in statuses))
        for section in SECTIONS:
            held = (plain(r, domain) for r in rows.section(section, account_id))
            if section in SINGLE:
                zipped.writestr(f"{section}.json", _dump(_one(held)))
            else:
                write_json_array(zipped, f"{section}.json", held)
        zipped.writestr(
            "messages/devices.json",
            _dump([device_json(d, own=True) for d in messaging.my_devices(work, account_id)]),
        )
        _write_conversations(work, zipped, account_id)
        archive.write(work, zipped, account, statuses, files)


# Sections of one row at most: a JSON object (or null), not an array.
SINGLE = {"feed_settings", "feed_viewpoint", "notification_policy", "community_note_rater"}


def _filters(work: Work, account_id: int, post_uris: dict[int, str]) -> list[dict[str, Any]]:
    found = work.store.filters.of_account(account_id)
    missing = [m.status_id for f in found for m in f.statuses if m.status_id not in post_uris]
    uris = {**{i: s.uri for i, s in work.store.statuses.load(missing).items()}, **post_uris}
    return [
        {
            "title": f.title,
            "context": list(f.context),
            "action": f.action,
            "expires_at": ts(f.expires_at),
            "keywords": [{"keyword": k.keyword, "whole_word": k.whole_word} for k in f.keywords],
            "posts": [uris[m.status_id] for m in f.statuses if m.status_id in uris],
        }
        for f in found
    ]


def build(work: Work, account_id: int, files: Files | None = None) -> bytes:
    """The account's archive (a ZIP) as bytes; with `files`, the media files too."""
    buffer = io.BytesIO()
    write_archive(work, account_id, buffer, files)
    return buffer.getvalue()


def filename(work: Work, account_id: int) -> str:
    account = accounts.get_account(work, account_id)
    return f"parvis-{account.username}-{work.now():%Y%m%d}.zip"
