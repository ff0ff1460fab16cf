"""The answer to an order to provide information (DSA art. 10, the authority register of
`services/authority.py`): what this server holds about the accounts and posts the order names,
assembled as a ZIP archive, and recorded in the register as handed over.

For each account named (by its profile URL, its ActivityPub id, or user@domain), or that wrote
a post named: its subscriber data (username, display name, e-mail, role, when it signed up and
the sign-up and sign-in network addresses still kept, `ip_retention_days`), its posts that
still exist, its follow counts, and the metadata of its end-to-end encrypted messaging (its
devices' public records; its conversations with their participants; when each message was sent,
by whom and how large it is). Never a message's ciphertext, nonce, sealed keys or signature —
they are useless without the keys the server never has — and nothing of deleted data: deleted
posts and accounts are gone from the database, so nothing here can find them; a named post or
account that no longer exists is listed as not held. The statement of what the server cannot
hand over (`authority.not_held`) goes with it.

Assembling is handing over: the order is carried out in the same transaction, its `provided`
saying what the archive held (with the archive's SHA-256), so the register and the archive
cannot disagree. An order carried out already is not assembled again.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

from parvis.domain import messaging as e2e
from parvis.domain.errors import Conflict
from parvis.domain.ids import parse_id
from parvis.domain.models import Account, Status
from parvis.services import authority, e2e_json, export
from parvis.services.context import Work
from parvis.storage.export import ExportStore

_ACCOUNT_PATHS = (re.compile(r"^/@([A-Za-z0-9_]+)/?$"), re.compile(r"^/users/([A-Za-z0-9_]+)/?$"))
_POST_PATHS = (
    re.compile(r"^/@([A-Za-z0-9_]+)/(\d+)/?$"),
    re.compile(r"^/users/([A-Za-z0-9_]+)/statuses/(\d+)/?$"),
)
_ACCT = re.compile(r"^@?([A-Za-z0-9_]+)(?:@([A-Za-z0-9.-]+))?$")


@dataclass
class Subjects:
    """What the order's items name, as found on this server."""

    accounts: dict[int, Account] = field(default_factory=dict)
    posts: list[Status] = field(default_factory=list)
    not_held: list[str] = field(default_factory=list)  # items naming nothing that exists


@dataclass(frozen=True)
class Handed:
    order: authority.Order
    archive: bytes
    filename: str


def _local(work: Work, username: str) -> Account | None:
    found = work.store.accounts.by_acct(username, None)
    return found if found is not None and found.local else None


def resolve(work: Work, items: tuple[str, ...]) -> Subjects:
    """The accounts and posts of this server the items name (URLs, or user@domain)."""
    out = Subjects()
    base = urlsplit(work.settings.base_url)
    for item in items:
        found: Account | None = None
        post: Status | None = None
        try:
            parts = urlsplit(item)
        except ValueError:  # "[" without "]" and the like: not an address of anything here
            out.not_held.append(item)
            continue
        if parts.scheme and parts.netloc:
            path = parts.path if parts.netloc.lower() == base.netloc.lower() else ""
            for pattern in _POST_PATHS:
                if m := pattern.match(path):
                    author = _local(work, m.group(1))
                    status_id = parse_id(m.group(2))
                    post = work.store.statuses.get(status_id) if status_id else None
                    if post is None or author is None or post.account.id != author.id:
                        post = None
            for pattern in _ACCOUNT_PATHS:
                if m := pattern.match(path):
                    found = _local(work, m.group(1))
        elif m := _ACCT.match(item.strip()):
            domain = m.group(2)
            if domain is None or domain.lower() == work.settings.domain.lower():
                found = _local(work, m.group(1))
        if post is not None:
            out.posts.append(post)
            out.accounts.setdefault(post.account.id, post.account)
        elif found is not None:
            out.accounts.setdefault(found.id, found)
        else:
            out.not_held.append(item)
    return out


def _subscriber(work: Work, account: Account) -> dict[str, Any]:
    user = work.store.accounts.user(account.id)
    return {
        "id": str(account.id),
        "acct": export.full_acct(work, account),
        "username": account.username,
        "uri": account.uri,
        "url": account.url,
        "display_name": account.display_name,
        "email": user.email if user else None,
        "role": user.role if user else None,
        "created_at": e2e_json.ts(account.created_at),
        "suspended": account.suspended,
        "statuses_count": account.statuses_count,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
    }


def _addresses(work: Work, account_id: int) -> list[dict[str, Any]]:
    days = work.settings.ip_retention_days
    if days <= 0:
        return []
    since = work.now() - timedelta(days=days)
    domain = work.settings.domain
    rows = ExportStore(work.store.conn).network_addresses(account_id, since)
    return [export.plain(r, domain) for r in rows]


def _messaging(work: Work, account: Account) -> dict[str, Any]:
    """Devices' public records and the conversations' metadata: never an envelope."""
    rows = ExportStore(work.store.conn)
    domain = work.settings.domain
    devices = [
        {
            "id": str(d.id),
            "identity_key": e2e.b64(d.identity_key),
            "agreement_key": e2e.b64(d.agreement_key),
            "created_at": e2e_json.ts(d.created_at),
            "revoked_at": e2e_json.ts(d.revoked_at),
        }
        for d in work.store.messaging.devices_of([account.id], active=False)
    ]
    conversations = []
    for cid in rows.conversation_ids(account.id):
        convo = work.store.messaging.conversation(cid)
        if convo is None:
            continue
        people = work.store.accounts.get_many(list(convo.participant_ids))
        conversations.append(
            {
                "id": str(cid),
                "created_at": e2e_json.ts(convo.created_at),
                "participants": [
                    export.full_acct(work, people[a]) for a in convo.participant_ids if a in people
                ],
                "messages": [
                    {**export.plain(m, domain), "id": str(m["id"])}
                    for m in rows.message_metadata(cid)
                ],
            }
        )
    return {"devices": devices, "conversations": conversations}


def _readme(work: Work, order: authority.Order, subjects: Subjects) -> str:
    names = ", ".join(export.full_acct(work, a) for a in subjects.accounts.values()) or "none"
    return "\n".join(
        (
            f"Response of {work.settings.domain} to the order {order.reference} of "
            f"{order.authority} ({order.member_state}), received {order.received_at:%Y-%m-%d}.",
            f"Assembled on {work.now():%Y-%m-%d %H:%M} UTC.",
            "",
            "Files:",
            "  order.json                       the order as the register holds it",
            "  not_held.txt                     what this server cannot hand over: it does not "
            "hold it",
            "  items.json                       each item of the order and what it names here",
            "  posts.json                       the posts the order names, that still exist",
            "  accounts/<username>/account.json  subscriber data, network addresses still kept",
            "  accounts/<username>/posts.json    the account's posts that still exist",
            "  accounts/<username>/messaging.json  encrypted messaging: metadata only (devices' "
            "public keys, conversations, when and how large each message is); the contents are "
            "encrypted on the users' devices and the server holds no key",
            "",
            f"Accounts: {names}.",
            "",
        )
    )


def _dump(data: object) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2)


def assemble(work: Work, order: authority.Order) -> tuple[bytes, str]:
    """The archive for an order, and a summary of what it holds (for the register)."""
    subjects = resolve(work, order.items)
    buffer = io.BytesIO()
    lines: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("README.txt", _readme(work, order, subjects))
        zipped.writestr(
            "order.json",
            _dump(
                {
                    "id": str(order.id),
                    "authority": order.authority,
                    "member_state": order.member_state,
                    "reference": order.reference,
                    "legal_basis": order.legal_basis,
                    "received_at": e2e_json.ts(order.received_at),
                    "items": list(order.items),
                }
            ),
        )
        zipped.writestr("not_held.txt", authority.not_held(work.settings) + "\n")
        zipped.writestr(
            "items.json",
            _dump(
                {
                    "accounts": [export.full_acct(work, a) for a in subjects.accounts.values()],
                    "posts": [p.uri for p in subjects.posts],
                    "not_held": subjects.not_held,
                }
            ),
        )
        zipped.writestr("posts.json", _dump([export.status_json(p) for p in subjects.posts]))
        for account in subjects.accounts.values():
            folder = f"accounts/{account.username}"
            addresses = _addresses(work, account.id)
            zipped.writestr(
                f"{folder}/account.json",
                _dump({**_subscriber(work, account), "network_addresses": addresses}),
            )
            count = 0

            def counted(found: Iterator[Status]) -> Iterator[Status]:
                nonlocal count
                for status in found:
                    count += 1
                    yield status

            export.write_json_array(
                zipped,
                f"{folder}/posts.json",
                (export.status_json(s) for s in counted(export.account_posts(work, account.id))),
            )
            messaging = _messaging(work, account)
            zipped.writestr(f"{folder}/messaging.json", _dump(messaging))
            messages = sum(len(c["messages"]) for c in messaging["conversations"])
            lines.append(
                f"- {export.full_acct(work, account)}: subscriber data, "
                f"{len(addresses)} network address(es), {count} post(s), "
                f"{len(messaging['devices'])} device record(s), "
                f"{len(messaging['conversations'])} conversation(s) and {messages} message(s) "
                "as metadata only"
            )
    blob = buffer.getvalue()
    head = [
        f"Archive assembled by Parvis: {len(blob)} bytes, "
        f"SHA-256 {hashlib.sha256(blob).hexdigest()}.",
        f"Posts named and still held: {len(subjects.posts)}.",
        *lines,
    ]
    if subjects.not_held:
        head.append(f"Items naming nothing held: {len(subjects.not_held)}.")
    head.append("With the statement of what is not held (no message contents, no deleted data).")
    return blob, _bounded("\n".join(head))


def _bounded(text: str) -> str:
    if len(text) <= authority.MAX_TEXT:
        return text
    return text[: authority.MAX_TEXT - 20].rsplit("\n", 1)[0] + "\n- (and more)"


def hand_over(work: Work, order_id: int) -> Handed:
    """Assemble the response to an order to provide information and record it as carried
    out, with what was handed over."""
    order = authority.get(work, order_id)
    if order.kind != "info":
        raise Conflict("Only an order to provide information (art. 10) is answered with data")
    if order.carried_out_at is not None:
        raise Conflict("This order was already carried out: the register says what was handed over")
    blob, provided = assemble(work, order)
    done = authority.carry_out(work, order_id, provided=provided)
    name = f"parvis-authority-{order.id}-{work.now():%Y%m%d}.zip"
    return Handed(done, blob, name)
