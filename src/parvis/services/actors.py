"""How Parvis shows itself to the fediverse: local accounts as ActivityPub actors with their
keys, their posts as Notes (Questions for polls) and activities, their collections (outbox,
followers, following, featured posts and hashtags, replies), and the instance actor.

Keys are made lazily: an account's RSA key pair is generated the first time it is needed (its
actor is fetched, or it signs a delivery) and kept in `accounts.private_key_pem` /
`public_key_pem`, its key id being `{actor uri}#main-key`. The instance actor (`{base}/actor`,
an Application that signs fetches and forwarded reports) keeps its key in a file of the data
directory, `instance_actor.pem` (0600): it exists before any account does, is shared by every
process like the server's other secrets, and goes with the data directory in a backup.

Only what an anonymous reader may see is served unless the caller names a verified `viewer`
(authorized fetch): public and unlisted posts, never ones withheld by moderators.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from parvis.config import Settings
from parvis.domain import httpsig
from parvis.domain.activitypub import e2e as e2e_ap
from parvis.domain.activitypub import render
from parvis.domain.activitypub.render import JSON
from parvis.domain.activitypub.vocabulary import NOTE_CONTEXT
from parvis.domain.erasure import name_digest
from parvis.domain.errors import Forbidden, Gone, NotFound
from parvis.domain.models import Account, Media, Status
from parvis.domain.visibility import ANONYMOUS, Viewer, may_see
from parvis.services import domain_policy
from parvis.services.context import Work
from parvis.services.fetching import SigningKey
from parvis.services.mentions import tag_url
from parvis.storage.actors import KeyPair, instance_key_pem

INSTANCE_KEY_FILE = "instance_actor.pem"
OUTBOX_PAGE = 20
RELATIONS_PAGE = 40
REPLIES_PAGE = 40
USERNAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class KeysMissing(LookupError):
    """The account has no key pair yet: run `ensure_keys` in a write unit first."""


# -- keys --------------------------------------------------------------------------------------


def _public_pem(public: Any) -> str:
    pem: bytes = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


def key_id(account: Account) -> str:
    return f"{account.uri}#main-key"


def ensure_keys(work: Work, account_id: int) -> SigningKey:
    """The local account's signing key, generated and stored on first use (write unit)."""
    account = work.store.accounts.get(account_id)
    if account is None or not account.local:
        raise NotFound("Record not found")
    pair = work.store.actors.key_pair(account_id)
    if pair is None:
        private, public = httpsig.generate_key_pair()
        work.store.actors.store_key_pair(account_id, KeyPair(private, public), key_id(account))
        pair = work.store.actors.key_pair(account_id)
        assert pair is not None
    return SigningKey(key_id=key_id(account), private_key_pem=pair.private_pem)


def signing_key(work: Work, account_id: int) -> SigningKey | None:
    """The account's signing key if it has one (read units cannot create it)."""
    account = work.store.accounts.get(account_id)
    pair = work.store.actors.key_pair(account_id)
    if account is None or pair is None:
        return None
    return SigningKey(key_id=key_id(account), private_key_pem=pair.private_pem)


@dataclass(frozen=True)
class Signer:
    """The account a signature's key belongs to, and whether it may fetch from us at all
    (not suspended here, nor on a server the operator suspended)."""

    account_id: int
    public_key_pem: str
    refused: bool


def signer(work: Work, key_uri: str) -> Signer | None:
    """Who signs with this key id, among the accounts this server knows."""
    key = work.store.actors.key_by_uri(key_uri)
    if key is None:
        return None
    refused = key.suspended or (
        key.domain is not None and domain_policy.policy_for(work, key.domain).suspended
    )
    return Signer(key.account_id, key.public_key_pem, refused)


_instance_keys: dict[Path, tuple[str, str]] = {}


def _instance_pair(settings: Settings) -> tuple[str, str]:
    path = (settings.data_dir / INSTANCE_KEY_FILE).resolve()
    pair = _instance_keys.get(path)
    if pair is None or not path.exists():
        private = instance_key_pem(path, lambda: httpsig.generate_key_pair()[0])
        key = serialization.load_pem_private_key(private.encode(), password=None)
        pair = (private, _public_pem(key.public_key()))
        _instance_keys[path] = pair
    return pair


def instance_actor_uri(settings: Settings) -> str:
    return f"{settings.base_url}/actor"


def instance_key(settings: Settings) -> SigningKey:
    """The key the instance actor signs fetches and forwarded reports with."""
    private, _ = _instance_pair(settings)
    return SigningKey(key_id=f"{instance_actor_uri(settings)}#main-key", private_key_pem=private)


def instance_actor_document(settings: Settings) -> JSON:
    """The instance actor: an Application named after the domain (as Mastodon's)."""
    _, public = _instance_pair(settings)
    uri, base = instance_actor_uri(settings), settings.base_url
    return render.actor(
        render.ActorDoc(
            uri=uri,
            type="Application",
            username=settings.domain,
            key_id=f"{uri}#main-key",
            public_key_pem=public,
            inbox=f"{base}/inbox",
            shared_inbox=f"{base}/inbox",
            outbox=f"{uri}/outbox",
            url=f"{base}/about",
            name=settings.title,
            summary="",
            webfinger=f"{settings.domain}@{settings.domain}",
            manually_approves_followers=True,
        )
    )


def instance_outbox(settings: Settings) -> JSON:
    return render.ordered_collection(f"{instance_actor_uri(settings)}/outbox", total=0, items=[])


# -- actors ------------------------------------------------------------------------------------


def local_account_by_username(work: Work, username: str) -> Account:
    """A local account by username, whatever its case; NotFound otherwise, Gone when it was
    erased (or is being erased)."""
    if not USERNAME.match(username):
        raise NotFound("Record not found")
    if work.store.erasure.name_forbidden(name_digest(work.settings.signing_key(), username)):
        raise Gone("This account was deleted")  # erased, or being erased (deletion.py)
    account = work.store.accounts.by_acct(username, None)
    if account is None:
        raise NotFound("Record not found")
    return account


_IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
}


def _media_url(settings: Settings, key: str) -> str:
    return f"{settings.base_url}/media/{key}"


def _image(settings: Settings, key: str | None) -> render.Image | None:
    if not key:
        return None
    extension = key.rsplit(".", 1)[-1].lower() if "." in key else ""
    return render.Image(_media_url(settings, key), _IMAGE_TYPES.get(extension))


def _collection_uri(account: Account, name: str) -> str:
    return f"{account.uri}/{name}"


def actor_doc(work: Work, account: Account) -> render.ActorDoc:
    pair = work.store.actors.key_pair(account.id)
    if pair is None:
        raise KeysMissing(account.username)
    settings = work.settings
    return render.ActorDoc(
        uri=account.uri,
        type="Service" if account.bot else "Person",
        username=account.username,
        key_id=key_id(account),
        public_key_pem=pair.public_pem,
        inbox=f"{account.uri}/inbox",
        shared_inbox=f"{settings.base_url}/inbox",
        outbox=_collection_uri(account, "outbox"),
        followers=_collection_uri(account, "followers"),
        following=_collection_uri(account, "following"),
        featured=_collection_uri(account, "collections/featured"),
        featured_tags=_collection_uri(account, "collections/tags"),
        url=account.url,
        name=account.display_name,
        summary=account.note_html,
        webfinger=f"{account.username}@{settings.domain}",
        manually_approves_followers=account.locked,
        discoverable=account.discoverable,
        indexable=account.indexable,
        published=account.created_at.replace(hour=0, minute=0, second=0, microsecond=0),
        icon=_image(settings, account.avatar_key),
        image=_image(settings, account.header_key),
        fields=tuple(render.PropertyValue(f.name, f.value_html or f.value) for f in account.fields),
        also_known_as=tuple(work.store.actors.aliases(account.id)),
        moved_to=work.store.actors.moved_to_uri(account.id),
        suspended=account.suspended,
    )


def actor_document(work: Work, account: Account) -> JSON:
    """The local account's actor document; KeysMissing when it has no key pair yet. It names
    the account's encrypted-message devices (`e2eDevices`, FEDERATION.md)."""
    return e2e_ap.advertise(render.actor(actor_doc(work, account)))


def bare_actor_document(work: Work, account: Account) -> JSON:
    return render.bare_actor(actor_doc(work, account))


# -- notes -------------------------------------------------------------------------------------


def _attachment(settings: Settings, m: Media) -> render.Attachment | None:
    if m.state != "ready":
        return None
    url = _media_url(settings, m.file_key) if m.file_key else m.remote_url
    if not url:
        return None
    return render.Attachment(
        url=url,
        media_type=m.mime,
        name=m.description or None,
        blurhash=m.blurhash,
        width=m.width,
        height=m.height,
        focal_point=(m.focus_x, m.focus_y),
    )


def _quote_authorization_uri(quoted_author_uri: str, quoting_status_id: int) -> str:
    return f"{quoted_author_uri}/quote_authorizations/{quoting_status_id}"


def note_docs(work: Work, statuses: Sequence[Status]) -> list[render.NoteDoc]:
    """NoteDocs for local, original (not boost) statuses, in a fixed number of queries."""
    store, settings = work.store, work.settings
    mentioned = store.accounts.get_many(m.account_id for s in statuses for m in s.mentions)
    related = {s.in_reply_to_id for s in statuses if s.in_reply_to_id}
    related |= {s.quote.quoted_status_id for s in statuses if s.quote and s.quote.quoted_status_id}
    refs = store.statuses.load(related) if related else {}
    to_tag = tag_url(settings)
    now = work.now()
    docs: list[render.NoteDoc] = []
    for s in statuses:
        if not s.local or s.reblog_of_id is not None:
            raise ValueError("only local original statuses are rendered as notes")
        author = s.account
        in_reply_to = None
        if s.in_reply_to_id is not None:
            parent = refs.get(s.in_reply_to_id)
            in_reply_to = parent.uri if parent else store.actors.parent_uri(s.id)
        mentions = tuple(
            render.MentionTag(
                href=mentioned[m.account_id].uri,
                name=f"@{m.username}@{m.domain or settings.domain}",
            )
            for m in s.mentions
            if m.account_id in mentioned
        )
        hashtags = tuple(render.HashtagTag(href=to_tag(t), name=t) for t in s.tags)
        attachments = tuple(a for m in s.media if (a := _attachment(settings, m)) is not None)
        poll = None
        if s.poll is not None:
            p = s.poll
            closed = p.expired(now)
            poll = render.PollDoc(
                options=p.options,
                votes=None if p.hide_totals and not closed else p.votes,
                multiple=p.multiple,
                end_time=p.expires_at,
                closed=closed,
                voters_count=p.voters_count,
            )
        quote = None
        if s.quote is not None:
            quoted = refs.get(s.quote.quoted_status_id) if s.quote.quoted_status_id else None
            if quoted is None:
                quote = render.QuoteDoc(uri=None)
            else:
                approval = None
                if s.quote.state == "accepted" and quoted.local:
                    approval = _quote_authorization_uri(quoted.account.uri, s.id)
                quote = render.QuoteDoc(uri=quoted.uri, url=quoted.url, authorization=approval)
        summary = s.warning_text or None
        docs.append(
            render.NoteDoc(
                uri=s.uri,
                attributed_to=author.uri,
                followers=_collection_uri(author, "followers"),
                visibility=s.visibility,
                content=s.content,
                published=s.created_at,
                url=s.url,
                summary=summary,
                sensitive=s.marked_sensitive or summary is not None,
                updated=s.edited_at,
                in_reply_to=in_reply_to,
                language=s.language,
                mentions=mentions,
                hashtags=hashtags,
                attachments=attachments,
                poll=poll,
                quote=quote,
                quote_policy=s.quote_policy,
                replies=f"{s.uri}/replies",
                likes=(f"{s.uri}/likes", s.favourites_count),
                shares=(f"{s.uri}/shares", s.reblogs_count),
            )
        )
    return docs


def note_document(work: Work, status: Status) -> JSON:
    """The Note (Question for a poll) of a local status, with its `@context`."""
    return render.note(note_docs(work, [status])[0])


def activity_for_status(work: Work, status: Status) -> JSON:
    """Create for a local post, Announce for a local boost."""
    if status.reblog is not None:
        original = status.reblog
        return render.announce(
            status.uri,
            status.account.uri,
            original.uri,
            published=status.created_at,
            visibility=status.visibility,
            followers=_collection_uri(status.account, "followers"),
            object_author=original.account.uri,
        )
    return render.create(note_document(work, status), status.account.uri)


def _activities(work: Work, statuses: Sequence[Status]) -> list[JSON]:
    originals = [s for s in statuses if s.reblog is None]
    notes = {d.uri: render.note_object(d) for d in note_docs(work, originals)}
    out: list[JSON] = []
    for s in statuses:
        if s.reblog is not None:
            out.append(render.bare(activity_for_status(work, s)))
        else:
            out.append(render.bare(render.create(notes[s.uri], s.account.uri)))
    return out


# -- what may be fetched -----------------------------------------------------------------------


def _viewer(work: Work, viewer_id: int | None, author_id: int) -> Viewer:
    if viewer_id is None:
        return ANONYMOUS
    return work.store.social.viewer(viewer_id, [author_id])


def _shown(work: Work, status: Status, viewer: Viewer) -> bool:
    if not may_see(viewer, status.facts):
        return False
    if status.reblog is not None:
        return may_see(viewer, status.reblog.facts)
    return True


def fetchable_status(
    work: Work, username: str, status_id: int, *, viewer_id: int | None = None
) -> Status:
    """A local status (or boost) of `username` that this reader may fetch; NotFound otherwise
    (withheld, private to others, the author suspended: not told apart)."""
    account = local_account_by_username(work, username)
    status = work.store.statuses.get(status_id)
    if status is None or status.account.id != account.id or not status.local:
        raise NotFound("Record not found")
    if not _shown(work, status, _viewer(work, viewer_id, account.id)):
        raise NotFound("Record not found")
    return status


def quote_authorization_document(work: Work, username: str, quoting_id: int) -> JSON:
    """The FEP-044f stamp for a post quoting one of `username`'s posts, while the quote stands
    (a revoked or deleted quote has none: NotFound)."""
    account = local_account_by_username(work, username)
    quoting = work.store.statuses.get(quoting_id)
    q = quoting.quote if quoting is not None else None
    if quoting is None or q is None or q.state != "accepted" or q.quoted_status_id is None:
        raise NotFound("Record not found")
    quoted = work.store.statuses.get(q.quoted_status_id)
    if quoted is None or quoted.account.id != account.id or not quoted.local:
        raise NotFound("Record not found")
    if account.suspended:
        raise NotFound("Record not found")
    return render.quote_authorization(
        _quote_authorization_uri(account.uri, quoting.id), account.uri, quoting.uri, quoted.uri
    )


# -- collections -------------------------------------------------------------------------------


def _page_uri(collection: str, **params: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{collection}?{query}&page=true" if query else f"{collection}?page=true"


def _live(account: Account) -> None:
    if account.suspended:
        raise NotFound("Record not found")


def outbox(work: Work, account: Account) -> JSON:
    _live(account)
    uri = _collection_uri(account, "outbox")
    return render.ordered_collection(
        uri,
        total=work.store.actors.outbox_count(account.id),
        first=_page_uri(uri),
        last=_page_uri(uri, min_id=0),
    )


def outbox_page(work: Work, account: Account, *, max_id: int | None, min_id: int | None) -> JSON:
    """A page of Create and Announce activities, newest first."""
    _live(account)
    uri = _collection_uri(account, "outbox")
    ids = work.store.actors.outbox_ids(account.id, max_id=max_id, min_id=min_id, limit=OUTBOX_PAGE)
    loaded = work.store.statuses.load(ids)
    shown = [s for i in ids if (s := loaded.get(i)) is not None and _shown(work, s, ANONYMOUS)]
    page = render.Page(
        id=_page_uri(uri, max_id=max_id, min_id=min_id),
        part_of=uri,
        items=_activities(work, shown),
        next=_page_uri(uri, max_id=ids[-1]) if len(ids) == OUTBOX_PAGE else None,
        prev=_page_uri(uri, min_id=ids[0]) if ids else None,
    )
    return render.ordered_collection_page(page, context=NOTE_CONTEXT)


def relations(work: Work, account: Account, kind: str) -> JSON:
    """The followers or following collection: its size, and its first page unless the
    account hides its social graph (Mastodon's `hide_collections`: counts only)."""
    _live(account)
    uri = _collection_uri(account, kind)
    total = account.followers_count if kind == "followers" else account.following_count
    first = None if account.hide_collections else _page_uri(uri)
    return render.ordered_collection(uri, total=total, first=first)


def relations_page(work: Work, account: Account, kind: str, *, max_id: int | None) -> JSON:
    _live(account)
    if account.hide_collections:
        raise Forbidden("This action is not allowed: this account hides its network")
    uri = _collection_uri(account, kind)
    rows = work.store.actors.relation_page(kind, account.id, max_id=max_id, limit=RELATIONS_PAGE)
    total = account.followers_count if kind == "followers" else account.following_count
    page = render.Page(
        id=_page_uri(uri, max_id=max_id),
        part_of=uri,
        items=[actor_uri for _, actor_uri in rows],
        next=_page_uri(uri, max_id=rows[-1][0]) if len(rows) == RELATIONS_PAGE else None,
        total=total,
    )
    return render.ordered_collection_page(page)


def featured(work: Work, account: Account) -> JSON:
    """Pinned posts that anyone may see, as embedded Notes."""
    _live(account)
    ids = work.store.interactions.pinned_ids(account.id)
    loaded = work.store.statuses.load(ids)
    shown = [
        s
        for i in ids
        if (s := loaded.get(i)) is not None
        and s.reblog is None
        and s.local
        and _shown(work, s, ANONYMOUS)
    ]
    items = [render.note_object(d) for d in note_docs(work, shown)]
    return render.ordered_collection(
        _collection_uri(account, "collections/featured"),
        total=len(items),
        items=items,
        context=NOTE_CONTEXT,
    )


def featured_tags(work: Work, account: Account) -> JSON:
    _live(account)
    to_tag = tag_url(work.settings)
    rows = work.store.featured_tags.of_account(account.id)
    doc = render.collection(_collection_uri(account, "collections/tags"), total=len(rows))
    doc["items"] = [{"type": "Hashtag", "href": to_tag(r.name), "name": f"#{r.name}"} for r in rows]
    return doc


def replies(work: Work, status: Status) -> JSON:
    uri = f"{status.uri}/replies"
    return render.collection(uri, first=_page_uri(uri))


def replies_page(work: Work, status: Status, *, min_id: int | None) -> JSON:
    """URIs of the public and unlisted replies to a post, oldest first."""
    uri = f"{status.uri}/replies"
    ids = work.store.actors.reply_ids(status.id, min_id=min_id, limit=REPLIES_PAGE)
    loaded = work.store.statuses.load(ids)
    shown = [s.uri for i in ids if (s := loaded.get(i)) is not None and _shown(work, s, ANONYMOUS)]
    page = render.Page(
        id=_page_uri(uri, min_id=min_id),
        part_of=uri,
        items=shown,
        next=_page_uri(uri, min_id=ids[-1]) if len(ids) == REPLIES_PAGE else None,
    )
    return render.collection_page(page)


def counted(uri: str, total: int) -> JSON:
    """A collection published by its size alone (likes, shares)."""
    return render.collection(uri, total=total)


def webfinger_avatar(work: Work, account: Account) -> render.Image | None:
    return _image(work.settings, account.avatar_key)
