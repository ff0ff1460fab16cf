"""ActivityPub documents from plain dataclasses: actors, notes and questions, activities and
collections, shaped as Mastodon 4.x sends them (see FEDERATION.md).

Pure: no store, no clock, no settings. Callers (parvis.services.actors) gather the facts into
`ActorDoc` / `NoteDoc` and get JSON-ready dicts back. Top-level documents carry `@context`;
objects embedded in an activity or a collection page do not.

Activity ids are stable URIs under their actor or object, so a retried delivery carries the
same id and receivers deduplicate it: `{status}/activity` (Create, Announce),
`{object}#updates/{unix time in µs}`, `{object}#delete`, `{actor}#likes/{id}`,
`{actor}#follows/{id}`, `{actor}#blocks/{id}`, `{actor}#accepts/follows/{id}`,
`{actor}#rejects/follows/{id}`, `{actor}#flags/{id}`, `{actor}#moves/{id}`, and
`{activity id}/undo` for an Undo.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

from parvis.domain.activitypub.vocabulary import (
    ACTIVITY_CONTEXT,
    ACTOR_CONTEXT,
    AS_PUBLIC,
    NOTE_CONTEXT,
    QUOTE_AUTHORIZATION_CONTEXT,
)
from parvis.domain.visibility import Visibility

JSON = dict[str, Any]


def iso(moment: datetime) -> str:
    """ActivityStreams timestamps as Mastodon writes them: UTC, whole seconds, `Z`."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(context: Any, obj: Mapping[str, Any]) -> JSON:
    return {"@context": context, **obj}


def bare(doc: Mapping[str, Any]) -> JSON:
    """The object without its `@context`, to embed it in another document."""
    return {k: v for k, v in doc.items() if k != "@context"}


# -- actors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    url: str
    media_type: str | None = None


@dataclass(frozen=True)
class PropertyValue:
    """A profile field; `value` is HTML (links already rendered)."""

    name: str
    value: str


@dataclass(frozen=True)
class ActorDoc:
    uri: str
    type: str  # Person | Service (bots) | Application (the instance actor) | Group
    username: str
    key_id: str
    public_key_pem: str
    inbox: str
    shared_inbox: str | None = None
    outbox: str | None = None
    followers: str | None = None
    following: str | None = None
    featured: str | None = None
    featured_tags: str | None = None
    url: str | None = None
    name: str = ""
    summary: str = ""  # HTML
    webfinger: str | None = None  # "alice@example.org"
    manually_approves_followers: bool = False
    discoverable: bool = False
    indexable: bool = False
    memorial: bool = False
    published: datetime | None = None
    icon: Image | None = None
    image: Image | None = None
    fields: tuple[PropertyValue, ...] = ()
    also_known_as: tuple[str, ...] = ()
    moved_to: str | None = None
    suspended: bool = False
    attribution_domains: tuple[str, ...] = ()


def _image(img: Image) -> JSON:
    out: JSON = {"type": "Image", "url": img.url}
    if img.media_type:
        out["mediaType"] = img.media_type
    return out


def _public_key(doc: ActorDoc) -> JSON:
    return {"id": doc.key_id, "owner": doc.uri, "publicKeyPem": doc.public_key_pem}


def _optional(out: JSON, **values: Any) -> None:
    for key, value in values.items():
        if value is not None:
            out[key] = value


def actor(doc: ActorDoc) -> JSON:
    """The actor document (Mastodon's ActorSerializer shape). A suspended actor keeps only what
    a receiver needs to know it is suspended and to verify its old signatures."""
    out: JSON = {"id": doc.uri, "type": doc.type}
    _optional(
        out,
        following=doc.following,
        followers=doc.followers,
        inbox=doc.inbox,
        outbox=doc.outbox,
        featured=doc.featured,
        featuredTags=doc.featured_tags,
    )
    out["preferredUsername"] = doc.username
    if doc.webfinger:
        out["webfinger"] = doc.webfinger
    visible = not doc.suspended
    out["name"] = (doc.name or doc.username) if visible else doc.username
    out["summary"] = doc.summary if visible else ""
    _optional(out, url=doc.url)
    out["manuallyApprovesFollowers"] = doc.manually_approves_followers and visible
    out["discoverable"] = doc.discoverable and visible
    out["indexable"] = doc.indexable and visible
    if doc.published is not None:
        out["published"] = iso(doc.published)
    out["memorial"] = doc.memorial
    out["publicKey"] = _public_key(doc)
    out["tag"] = []
    out["attachment"] = (
        [{"type": "PropertyValue", "name": f.name, "value": f.value} for f in doc.fields]
        if visible
        else []
    )
    if doc.shared_inbox:
        out["endpoints"] = {"sharedInbox": doc.shared_inbox}
    if visible and doc.icon is not None:
        out["icon"] = _image(doc.icon)
    if visible and doc.image is not None:
        out["image"] = _image(doc.image)
    if visible and doc.moved_to:
        out["movedTo"] = doc.moved_to
    if visible and doc.also_known_as:
        out["alsoKnownAs"] = list(doc.also_known_as)
    if doc.suspended:
        out["suspended"] = True
    if visible and doc.attribution_domains:
        out["attributionDomains"] = list(doc.attribution_domains)
    return _document(ACTOR_CONTEXT, out)


def bare_actor(doc: ActorDoc) -> JSON:
    """What an unsigned fetch gets in authorized-fetch mode: enough to verify a signature and
    to deliver (Mastodon's BareActorSerializer), nothing about the person."""
    out: JSON = {"id": doc.uri, "type": doc.type, "inbox": doc.inbox}
    out["publicKey"] = _public_key(doc)
    if doc.shared_inbox:
        out["endpoints"] = {"sharedInbox": doc.shared_inbox}
    return _document([ACTOR_CONTEXT[0], ACTOR_CONTEXT[1]], out)


# -- notes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionTag:
    href: str  # the mentioned actor's URI
    name: str  # "@alice@example.org" (local: "@alice")


@dataclass(frozen=True)
class HashtagTag:
    href: str  # the tag's page on this server
    name: str  # without "#"


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str | None
    name: str | None = None  # the alt text
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    focal_point: tuple[float, float] | None = None
    type: str = "Document"


@dataclass(frozen=True)
class PollDoc:
    options: tuple[str, ...]
    votes: tuple[int, ...] | None  # None: counts hidden until the poll ends
    multiple: bool
    end_time: datetime
    closed: bool
    voters_count: int | None = None


@dataclass(frozen=True)
class QuoteDoc:
    """The quoted post: its URI (None when it was deleted: a Tombstone is sent), and the URI
    of the FEP-044f QuoteAuthorization that approves the quote, when there is one."""

    uri: str | None
    url: str | None = None
    authorization: str | None = None


@dataclass(frozen=True)
class NoteDoc:
    uri: str
    attributed_to: str
    followers: str  # the author's followers collection (for addressing)
    visibility: Visibility
    content: str  # HTML
    published: datetime
    url: str | None = None
    summary: str | None = None
    sensitive: bool = False
    updated: datetime | None = None
    in_reply_to: str | None = None
    language: str | None = None
    mentions: tuple[MentionTag, ...] = ()
    hashtags: tuple[HashtagTag, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    poll: PollDoc | None = None
    quote: QuoteDoc | None = None
    # Who may quote it (Mastodon 4.5): public | followers | nobody.
    quote_policy: str = "public"
    replies: str | None = None  # the replies collection URI
    likes: tuple[str, int] | None = None  # (collection URI, count)
    shares: tuple[str, int] | None = None


def addressing(
    visibility: Visibility, followers: str, mentioned: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(to, cc) for a post, as Mastodon addresses it: public → to Public, cc followers;
    unlisted → to followers, cc Public; followers-only → to followers; direct → to the
    mentioned accounts only. Mentioned accounts are in cc otherwise."""
    mentions = list(dict.fromkeys(mentioned))
    match visibility:
        case Visibility.PUBLIC:
            return [AS_PUBLIC], [followers, *mentions]
        case Visibility.UNLISTED:
            return [followers], [AS_PUBLIC, *mentions]
        case Visibility.PRIVATE:
            return [followers], mentions
        case Visibility.DIRECT:
            return mentions, []
    raise ValueError(f"unknown visibility: {visibility}")


def _quote_fallback(quote: QuoteDoc) -> str:
    """The inline "RE:" line servers without quote support show (receivers that support quotes
    drop elements of class `quote-inline`)."""
    link = quote.url or quote.uri
    assert link is not None
    href = escape(link, quote=True)
    return f'<p class="quote-inline">RE: <a href="{href}">{escape(link)}</a></p>'


def _interaction_policy(note: NoteDoc) -> JSON:
    """Who may quote the post without asking (FEP-044f / GoToSocial's interactionPolicy).
    Private and direct posts may be quoted by their author alone."""
    quotable = note.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
    policy = note.quote_policy if quotable else "nobody"
    if policy == "public":
        approved = [AS_PUBLIC]
    elif policy == "followers":
        approved = [note.followers]
    else:
        approved = [note.attributed_to]
    return {"canQuote": {"automaticApproval": approved}}


def _attachment(a: Attachment) -> JSON:
    out: JSON = {"type": a.type, "mediaType": a.media_type, "url": a.url}
    if a.name:
        out["name"] = a.name
    _optional(out, blurhash=a.blurhash)
    if a.focal_point is not None:
        out["focalPoint"] = [a.focal_point[0], a.focal_point[1]]
    _optional(out, width=a.width, height=a.height)
    return out


def _poll_fields(poll: PollDoc) -> JSON:
    options: list[JSON] = []
    for i, title in enumerate(poll.options):
        option: JSON = {"type": "Note", "name": title}
        if poll.votes is not None:
            option["replies"] = {"type": "Collection", "totalItems": poll.votes[i]}
        options.append(option)
    out: JSON = {("anyOf" if poll.multiple else "oneOf"): options, "endTime": iso(poll.end_time)}
    if poll.closed:
        out["closed"] = iso(poll.end_time)
    if poll.voters_count is not None:
        out["votersCount"] = poll.voters_count
    return out


def note_object(note: NoteDoc) -> JSON:
    """The Note (or Question, for a poll) without `@context`."""
    to, cc = addressing(note.visibility, note.followers, [m.href for m in note.mentions])
    content = note.content
    if note.quote is not None and (note.quote.url or note.quote.uri):
        link = note.quote.url or note.quote.uri
        if link and link not in content:
            content += _quote_fallback(note.quote)
    out: JSON = {
        "id": note.uri,
        "type": "Question" if note.poll is not None else "Note",
        "summary": note.summary or None,
        "inReplyTo": note.in_reply_to,
        "published": iso(note.published),
        "url": note.url or note.uri,
        "attributedTo": note.attributed_to,
        "to": to,
        "cc": cc,
        "sensitive": note.sensitive,
        "content": content,
    }
    if note.language:
        out["contentMap"] = {note.language: content}
    if note.updated is not None:
        out["updated"] = iso(note.updated)
    out["attachment"] = [_attachment(a) for a in note.attachments]
    tags: list[JSON] = [{"type": "Mention", "href": m.href, "name": m.name} for m in note.mentions]
    tags += [{"type": "Hashtag", "href": h.href, "name": f"#{h.name}"} for h in note.hashtags]
    out["tag"] = tags
    if note.replies:
        out["replies"] = {
            "id": note.replies,
            "type": "Collection",
            "first": f"{note.replies}?page=true",
        }
    if note.likes is not None:
        out["likes"] = {"id": note.likes[0], "type": "Collection", "totalItems": note.likes[1]}
    if note.shares is not None:
        out["shares"] = {"id": note.shares[0], "type": "Collection", "totalItems": note.shares[1]}
    if note.poll is not None:
        out.update(_poll_fields(note.poll))
    if note.quote is not None:
        if note.quote.uri is None:
            out["quote"] = {"type": "Tombstone"}
        else:
            out["quote"] = note.quote.uri
            out["_misskey_quote"] = note.quote.uri
            out["quoteUri"] = note.quote.uri
            if note.quote.authorization:
                out["quoteAuthorization"] = note.quote.authorization
    out["interactionPolicy"] = _interaction_policy(note)
    return out


def note(doc: NoteDoc) -> JSON:
    return _document(NOTE_CONTEXT, note_object(doc))


def quote_authorization(uri: str, quoted_author: str, quoting: str, quoted: str) -> JSON:
    """The stamp (FEP-044f) with which `quoted_author` approves `quoting` quoting `quoted`."""
    return _document(
        QUOTE_AUTHORIZATION_CONTEXT,
        {
            "id": uri,
            "type": "QuoteAuthorization",
            "attributedTo": quoted_author,
            "interactingObject": quoting,
            "interactionTarget": quoted,
        },
    )


def tombstone(uri: str, *, former_type: str | None = None, deleted: datetime | None = None) -> JSON:
    out: JSON = {"id": uri, "type": "Tombstone"}
    _optional(out, formerType=former_type)
    if deleted is not None:
        out["deleted"] = iso(deleted)
    return _document(ACTIVITY_CONTEXT, out)


# -- activities --------------------------------------------------------------------------------


def _context_of(obj: Mapping[str, Any]) -> Any:
    return obj.get("@context", ACTIVITY_CONTEXT)


def _audience(obj: Mapping[str, Any]) -> JSON:
    out: JSON = {}
    for key in ("to", "cc"):
        if key in obj:
            out[key] = obj[key]
    return out


def _activity(
    kind: str, uri: str, actor_uri: str, obj: Any, context: Any = ACTIVITY_CONTEXT, **fields: Any
) -> JSON:
    """An activity document: id, type and actor first, the object last."""
    return _document(
        context, {"id": uri, "type": kind, "actor": actor_uri, **fields, "object": obj}
    )


def create(obj: Mapping[str, Any], actor_uri: str) -> JSON:
    """Create of a note: id `{note}/activity`, the note's audience and publication time."""
    uri = f"{obj['id']}/activity"
    published = obj.get("published")
    return _activity(
        "Create", uri, actor_uri, bare(obj), _context_of(obj), published=published, **_audience(obj)
    )


def update(obj: Mapping[str, Any], actor_uri: str, *, updated: datetime) -> JSON:
    """Update of a note (an edit) or of an actor (a profile change)."""
    uri = f"{obj['id']}#updates/{round(updated.timestamp() * 1_000_000)}"  # µs: edits can be close
    audience = _audience(obj) or {"to": [AS_PUBLIC]}
    return _activity(
        "Update", uri, actor_uri, bare(obj), _context_of(obj), published=iso(updated), **audience
    )


def update_actor(actor_doc: Mapping[str, Any], *, updated: datetime) -> JSON:
    return update(actor_doc, str(actor_doc["id"]), updated=updated)


def delete(
    object_uri: str,
    actor_uri: str,
    to: Sequence[str] = (AS_PUBLIC,),
    cc: Sequence[str] = (),
) -> JSON:
    """Delete of a post (the object is a Tombstone) or, when `object_uri` is the actor itself,
    of the account."""
    obj: Any = object_uri if object_uri == actor_uri else {"id": object_uri, "type": "Tombstone"}
    audience: JSON = {"to": list(to), "cc": list(cc)} if cc else {"to": list(to)}
    return _activity("Delete", f"{object_uri}#delete", actor_uri, obj, **audience)


def announce(
    activity_uri: str,
    actor_uri: str,
    object_uri: str,
    *,
    published: datetime,
    visibility: Visibility,
    followers: str,
    object_author: str,
) -> JSON:
    """A boost: `activity_uri` is the boost's own URI (`{status}/activity`)."""
    match visibility:
        case Visibility.PUBLIC:
            to, cc = [AS_PUBLIC], [object_author, followers]
        case Visibility.UNLISTED:
            to, cc = [followers], [AS_PUBLIC, object_author]
        case _:
            to, cc = [followers], [object_author]
    return _activity(
        "Announce", activity_uri, actor_uri, object_uri, published=iso(published), to=to, cc=cc
    )


def like(actor_uri: str, object_uri: str, local_id: int | str) -> JSON:
    return _activity("Like", f"{actor_uri}#likes/{local_id}", actor_uri, object_uri)


def follow(actor_uri: str, target_uri: str, local_id: int | str, *, uri: str | None = None) -> JSON:
    """A follow; `uri` when the follow already has one (stored with the follow request)."""
    return _activity("Follow", uri or f"{actor_uri}#follows/{local_id}", actor_uri, target_uri)


def block(actor_uri: str, target_uri: str, local_id: int | str) -> JSON:
    return _activity("Block", f"{actor_uri}#blocks/{local_id}", actor_uri, target_uri)


def undo(activity: Mapping[str, Any]) -> JSON:
    """Undo of an activity we sent (Follow, Like, Announce, Block): the same actor, audience."""
    return _activity(
        "Undo",
        f"{activity['id']}/undo",
        str(activity["actor"]),
        bare(activity),
        _context_of(activity),
        **_audience(activity),
    )


def accept(follow_activity: Mapping[str, Any], actor_uri: str, local_id: int | str) -> JSON:
    """Accept of a Follow received (`follow_activity` as the follower sent it: its `id` must
    be theirs, so build it with `follow(..., uri=stored uri)`)."""
    uri = f"{actor_uri}#accepts/follows/{local_id}"
    return _activity("Accept", uri, actor_uri, bare(follow_activity))


def reject(follow_activity: Mapping[str, Any], actor_uri: str, local_id: int | str) -> JSON:
    uri = f"{actor_uri}#rejects/follows/{local_id}"
    return _activity("Reject", uri, actor_uri, bare(follow_activity))


def flag(actor_uri: str, object_uris: Iterable[str], content: str, local_id: int | str) -> JSON:
    """A report forwarded to another server: the reported account first, then its posts.
    Mastodon sends it from the instance actor, so the reporter stays anonymous."""
    objects = list(dict.fromkeys(object_uris))
    return _activity("Flag", f"{actor_uri}#flags/{local_id}", actor_uri, objects, content=content)


def move(actor_uri: str, target_uri: str, local_id: int | str | None = None) -> JSON:
    """The account moved to `target_uri` (whose alsoKnownAs must name it). Without `local_id`
    the id is derived from the target, so a repeated Move keeps its id."""
    ref = local_id if local_id is not None else hashlib.sha256(target_uri.encode()).hexdigest()[:16]
    doc = _activity("Move", f"{actor_uri}#moves/{ref}", actor_uri, actor_uri)
    doc["target"] = target_uri
    return doc


# -- collections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a collection: its items (URIs or embedded objects) and its neighbours."""

    id: str
    part_of: str
    items: Sequence[Any] = field(default_factory=list)
    next: str | None = None
    prev: str | None = None
    total: int | None = None


def ordered_collection(
    uri: str,
    *,
    total: int | None = None,
    first: str | JSON | None = None,
    last: str | None = None,
    items: Sequence[Any] | None = None,
    context: Any = ACTIVITY_CONTEXT,
) -> JSON:
    out: JSON = {"id": uri, "type": "OrderedCollection"}
    _optional(out, totalItems=total, first=first, last=last)
    if items is not None:
        out["orderedItems"] = list(items)
    return _document(context, out)


def ordered_collection_page(page: Page, *, context: Any = ACTIVITY_CONTEXT) -> JSON:
    out: JSON = {"id": page.id, "type": "OrderedCollectionPage"}
    _optional(out, totalItems=page.total, next=page.next, prev=page.prev)
    out["partOf"] = page.part_of
    out["orderedItems"] = list(page.items)
    return _document(context, out)


def collection(uri: str, *, total: int | None = None, first: str | None = None) -> JSON:
    out: JSON = {"id": uri, "type": "Collection"}
    _optional(out, totalItems=total, first=first)
    return _document(ACTIVITY_CONTEXT, out)


def collection_page(page: Page) -> JSON:
    out: JSON = {"id": page.id, "type": "CollectionPage"}
    _optional(out, totalItems=page.total, next=page.next, prev=page.prev)
    out["partOf"] = page.part_of
    out["items"] = list(page.items)
    return _document(ACTIVITY_CONTEXT, out)
