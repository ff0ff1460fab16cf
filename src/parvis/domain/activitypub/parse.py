"""Reading what other servers send: ActivityPub documents (actors, notes, activities) turned
into plain, validated values. Pure: no I/O; every function either returns a value or raises
`Malformed` with a message saying what is wrong.

Tolerant of the fediverse's dialects: Mastodon (the common one), Misskey (`_misskey_content`,
`_misskey_quote`, `_misskey_reaction`), Pleroma/Akkoma (`quoteUrl`, `source`, `EmojiReact`),
GoToSocial (`interactionPolicy`, a lone object where others send a list) and FEP-044f quotes
(Mastodon 4.5's `quote`/`quoteAuthorization`). JSON-LD is read as plain JSON, as every one of
them does, with the usual oddities accepted: a value that is a string, an object or a list;
any `@context`; compacted `as:Public`/`Public`; `as:`-prefixed and full-IRI keys and types;
`{"@id": …}` and `{"@value": …}` nodes.

Every URI that Parvis might later fetch or compare is checked here: http(s) only, a host name
(no user info), at most 2048 characters, and never a loopback, private, link-local or otherwise
non-public IP literal, whatever its spelling (decimal `2130706433`, octal `0177.0.0.1`, hex,
IPv4-mapped IPv6) — the network guard resolves names; literals are refused before any fetch.
Remote HTML is sanitized here (`domain.content.sanitize_html`), so nothing unsanitized leaves.

One module over the usual length on purpose: the three readers share every tolerance rule
(`_get`, `_id_of`, `_text`, …), and a dialect quirk is fixed in one place for all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from parvis.domain import netguard
from parvis.domain.content import html_to_text, normalize_tag, sanitize_html
from parvis.domain.errors import Invalid
from parvis.domain.visibility import Visibility

AS = "https://www.w3.org/ns/activitystreams#"
PUBLIC = AS + "Public"
_PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public", "https://www.w3.org/ns/activitystreams"})
MAX_URI = 2048
MAX_AUDIENCE = 500  # to/cc entries kept
MAX_TAGS = 100
MAX_ATTACHMENTS = 16
MAX_POLL_OPTIONS = 50
MAX_DISPLAY_NAME = 120
MAX_USERNAME = 64
MAX_FIELDS = 16

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
# Objects that become statuses (Mastodon converts the last five as best it can).
NOTE_TYPES = frozenset({"Note", "Question", "Article", "Page", "Image", "Video", "Audio", "Event"})
ACTIVITY_TYPES = frozenset(
    {
        "Create",
        "Update",
        "Delete",
        "Announce",
        "Like",
        "EmojiReact",
        "Undo",
        "Follow",
        "Accept",
        "Reject",
        "Block",
        "Flag",
        "Move",
        "Add",
        "Remove",
        "QuoteRequest",
    }
)


class Malformed(Invalid):
    """The document is not something Parvis can accept; `message` says why."""

    status = 400


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicKey:
    id: str
    owner: str
    pem: str


@dataclass(frozen=True)
class ProfileField:
    name: str
    value_html: str


@dataclass(frozen=True)
class RemoteActor:
    uri: str
    type: str
    username: str
    domain: str  # host[:port] of the actor's id, lower-cased
    display_name: str
    summary_html: str
    url: str
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    key: PublicKey | None
    locked: bool
    bot: bool
    discoverable: bool
    indexable: bool
    also_known_as: tuple[str, ...]
    moved_to: str | None
    fields: tuple[ProfileField, ...]
    avatar_url: str | None
    header_url: str | None
    published: datetime | None
    suspended: bool

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.domain}"


@dataclass(frozen=True)
class Mention:
    href: str
    name: str  # "@user@domain" as written, may be empty


@dataclass(frozen=True)
class Attachment:
    url: str
    type: str  # image | gifv | video | audio | unknown (Mastodon's media types)
    media_type: str
    description: str  # the alt text
    blurhash: str | None
    width: int | None
    height: int | None
    focus: tuple[float, float]


@dataclass(frozen=True)
class PollOption:
    title: str
    votes: int


@dataclass(frozen=True)
class Poll:
    options: tuple[PollOption, ...]
    multiple: bool
    end_time: datetime | None
    closed: datetime | None
    voters_count: int | None


@dataclass(frozen=True)
class RemoteNote:
    uri: str
    type: str
    attributed_to: str
    content_html: str  # sanitized
    text: str  # plain text: the author's source when given (Misskey, Pleroma), else from HTML
    summary: str  # the content warning, plain text
    sensitive: bool
    published: datetime | None
    updated: datetime | None
    url: str | None
    in_reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    mentions: tuple[Mention, ...]
    hashtags: tuple[str, ...]  # names as written, without '#', de-duplicated
    attachments: tuple[Attachment, ...]
    poll: Poll | None
    quote: str | None  # the quoted post's URI (quote, quoteUrl, quoteUri, _misskey_quote, …)
    quote_authorization: str | None  # FEP-044f approval stamp
    language: str | None
    quote_policy: str  # public | followers | nobody (from interactionPolicy.canQuote)

    @property
    def audience(self) -> frozenset[str]:
        return frozenset(self.to) | frozenset(self.cc)

    def visibility(self, followers_uri: str | None) -> Visibility:
        """Mastodon's rule: Public in `to` → public; in `cc` → unlisted; the author's
        followers collection addressed → followers-only; otherwise direct."""
        if PUBLIC in self.to:
            return Visibility.PUBLIC
        if PUBLIC in self.cc:
            return Visibility.UNLISTED
        audience = self.audience
        if followers_uri and followers_uri in audience:
            return Visibility.PRIVATE
        if not followers_uri and any(a.rstrip("/").endswith("/followers") for a in audience):
            return Visibility.PRIVATE
        return Visibility.DIRECT


@dataclass(frozen=True)
class Activity:
    id: str
    type: str  # the activity type, compacted ("Create"); unknown types are kept as given
    actor: str
    object_id: str | None
    object: Mapping[str, Any] | None  # the object, when it came embedded
    object_type: str | None
    objects: tuple[str, ...]  # every object id (Flag reports several)
    target: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    content: str  # Flag's comment, a reaction's emoji (plain text)
    published: datetime | None
    raw: Mapping[str, Any]

    @property
    def host(self) -> str:
        return host_of(self.actor)


# --- URIs ---------------------------------------------------------------------------------

_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\<>\"`{}|^]")


def check_uri(url: str, what: str = "URI") -> str:
    """`url` if it is an http(s) URI Parvis may store and fetch; Malformed otherwise (the
    network guard's rules, domain/netguard.py, plus: no non-public address literal at all)."""
    if not isinstance(url, str) or not url:
        raise Malformed(f"{what}: missing")
    if len(url) > MAX_URI:
        raise Malformed(f"{what}: longer than {MAX_URI} characters")
    if _FORBIDDEN_CHARS.search(url):
        raise Malformed(f"{what}: not a valid URI")
    try:
        target = netguard.parse_url(url)
        urlsplit(url).port  # noqa: B018 - the standard library must read it the same way
    except (netguard.RefusedUrl, ValueError) as exc:
        raise Malformed(f"{what}: {exc}") from None
    if target.ip is not None and not netguard.is_public(target.ip):
        raise Malformed(f"{what}: {url!r} points at a non-public address")
    if target.host == "localhost" or target.host.endswith(".localhost"):
        raise Malformed(f"{what}: {url!r} points at this machine")
    return url


def host_of(url: str) -> str:
    """The authority of a URI as accounts store it: host[:port], normalized as the network
    guard reads it (lower-cased, no trailing dot, default port dropped), or "" when it has
    none (`https://Example.org:443/x` → `example.org`)."""
    try:
        return netguard.parse_url(url).authority
    except netguard.RefusedUrl:
        return ""


def same_host(a: str, b: str) -> bool:
    host = host_of(a)
    return bool(host) and host == host_of(b)


# --- reading JSON(-LD) --------------------------------------------------------------------


def _get(doc: Mapping[str, Any], name: str) -> Any:
    """A property by its compact name, or its `as:` / full-IRI spelling."""
    if name in doc:
        return doc[name]
    for key in (f"as:{name}", AS + name):
        if key in doc:
            return doc[key]
    return None


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _first(value: Any) -> Any:
    items = _listed(value)
    return items[0] if items else None


def compact_type(value: str) -> str:
    for prefix in ("as:", AS, "https://www.w3.org/ns/activitystreams/"):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _type(doc: Mapping[str, Any], known: Iterable[str] = ()) -> str:
    """The object's type; of several, the first one Parvis knows (else the first)."""
    raw = doc.get("type", doc.get("@type"))
    names = [compact_type(t) for t in _listed(raw) if isinstance(t, str) and t]
    wanted = set(known)
    for name in names:
        if name in wanted:
            return name
    return names[0] if names else ""


def _id_of(value: Any) -> str | None:
    """The URI a property points at: a string, or an object's `id`/`@id`/`href`."""
    value = _first(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in ("id", "@id", "href"):
            found = value.get(key)
            if isinstance(found, str):
                return found
    return None


def _uri(value: Any, what: str) -> str:
    found = _id_of(value)
    if found is None:
        raise Malformed(f"{what}: missing")
    return check_uri(found, what)


def _optional_uri(value: Any) -> str | None:
    found = _id_of(value)
    if found is None:
        return None
    try:
        return check_uri(found)
    except Malformed:
        return None


def _link_url(value: Any) -> str | None:
    """A URL given as a string, a Link (`href`), an Image (`url`) or a list of those: the first
    usable http(s) one."""
    for item in _listed(value):
        if isinstance(item, str):
            candidate: Any = item
        elif isinstance(item, Mapping):
            candidate = item.get("href") if "href" in item else item.get("url")
            if isinstance(candidate, (list, Mapping)):
                nested = _link_url(candidate)
                if nested:
                    return nested
                continue
        else:
            continue
        if isinstance(candidate, str):
            try:
                return check_uri(candidate)
            except Malformed:
                continue
    return None


def _audience(value: Any) -> tuple[str, ...]:
    out: list[str] = []
    for item in _listed(value)[: MAX_AUDIENCE * 2]:
        found = _id_of(item)
        if not found:
            continue
        if found in _PUBLIC_FORMS:
            out.append(PUBLIC)
            continue
        try:
            out.append(check_uri(found))
        except Malformed:
            continue
        if len(out) >= MAX_AUDIENCE:
            break
    return tuple(dict.fromkeys(out))


def _text(value: Any, limit: int | None = None) -> str:
    value = _first(value)
    if isinstance(value, Mapping):
        value = value.get("@value")
    if not isinstance(value, str):
        return ""
    text: str = value.replace("\x00", "")
    return text[:limit] if limit is not None else text


def _bool(value: Any, default: bool = False) -> bool:
    value = _first(value)
    if isinstance(value, Mapping):
        value = value.get("@value")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return default


def _int(value: Any) -> int | None:
    value = _first(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = int(value)
    return number if 0 <= number < 2**31 else None


def _datetime(value: Any) -> datetime | None:
    text = _text(value)
    if not text or len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _require_mapping(doc: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise Malformed(f"{what}: not a JSON object")
    return doc


# --- actors -------------------------------------------------------------------------------

# Instance actors are named after their domain, port included ("alpha.test:8001").
_USERNAME_BAD = re.compile(r"[\s@/\\?#\x00-\x1f\x7f]")


def _key(doc: Mapping[str, Any], actor_uri: str) -> PublicKey | None:
    for item in _listed(_get(doc, "publicKey")):
        if not isinstance(item, Mapping):
            continue
        pem = _text(item.get("publicKeyPem"))
        key_id = _optional_uri(item.get("id"))
        owner = _id_of(item.get("owner")) or actor_uri
        if not key_id or owner != actor_uri or not same_host(key_id, actor_uri):
            continue
        if not pem.lstrip().startswith("-----BEGIN") or len(pem) > 16_384:
            continue
        return PublicKey(id=key_id, owner=owner, pem=pem)
    return None


def _fields(doc: Mapping[str, Any]) -> tuple[ProfileField, ...]:
    out: list[ProfileField] = []
    for item in _listed(_get(doc, "attachment")):
        if not isinstance(item, Mapping) or _type(item) != "PropertyValue":
            continue
        name = html_to_text(_text(item.get("name"), 255))
        value = sanitize_html(_text(item.get("value"), 2048))
        if name:
            out.append(ProfileField(name=name, value_html=value))
        if len(out) >= MAX_FIELDS:
            break
    return tuple(out)


def actor(doc: Any) -> RemoteActor:
    """A remote actor document (Person, Service, Application, Group, Organization)."""
    doc = _require_mapping(doc, "actor")
    kind = _type(doc, ACTOR_TYPES)
    if kind not in ACTOR_TYPES:
        raise Malformed(f"actor: type {kind or '(none)'!r} is not an actor type")
    uri = _uri(doc.get("id", doc.get("@id")), "actor id")
    username = _text(_get(doc, "preferredUsername")).strip()
    if not username:
        raise Malformed("actor: no preferredUsername")
    if len(username) > MAX_USERNAME or _USERNAME_BAD.search(username):
        raise Malformed("actor: preferredUsername is not a usable user name")
    inbox = _uri(_get(doc, "inbox"), "actor inbox")
    endpoints = _first(_get(doc, "endpoints"))
    shared = _optional_uri(endpoints.get("sharedInbox")) if isinstance(endpoints, Mapping) else None
    name = html_to_text(_text(_get(doc, "name"), 2000)).replace("\n", " ").strip()
    summary = _text(_get(doc, "summary"), 20_000)
    also = tuple(u for u in (_optional_uri(v) for v in _listed(_get(doc, "alsoKnownAs"))[:20]) if u)
    return RemoteActor(
        uri=uri,
        type=kind,
        username=username,
        domain=host_of(uri),
        display_name=name[:MAX_DISPLAY_NAME],
        summary_html=sanitize_html(summary) if summary else "",
        url=_link_url(_get(doc, "url")) or uri,
        inbox=inbox,
        shared_inbox=shared,
        outbox=_optional_uri(_get(doc, "outbox")),
        followers=_optional_uri(_get(doc, "followers")),
        following=_optional_uri(_get(doc, "following")),
        featured=_optional_uri(_get(doc, "featured")),
        key=_key(doc, uri),
        locked=_bool(_get(doc, "manuallyApprovesFollowers")),
        bot=kind in ("Service", "Application"),
        discoverable=_bool(_get(doc, "discoverable")),
        indexable=_bool(_get(doc, "indexable")),
        also_known_as=also,
        moved_to=_optional_uri(_get(doc, "movedTo")),
        fields=_fields(doc),
        avatar_url=_link_url(_get(doc, "icon")),
        header_url=_link_url(_get(doc, "image")),
        published=_datetime(_get(doc, "published")),
        suspended=_bool(_get(doc, "suspended")),
    )


# --- notes --------------------------------------------------------------------------------

_MEDIA_KINDS = {"image": "image", "video": "video", "audio": "audio"}


def _attachment(item: Any) -> Attachment | None:
    if not isinstance(item, Mapping):
        return None
    kind = _type(item)
    if kind in ("PropertyValue", "Link") and "mediaType" not in item:
        return None
    url = _link_url(item.get("url")) or _link_url(item.get("href"))
    if url is None:
        return None
    media_type = _text(item.get("mediaType"), 64)
    if not media_type:  # a Link with several urls may carry the type on the chosen one
        for candidate in _listed(item.get("url")):
            if isinstance(candidate, Mapping) and _text(candidate.get("mediaType")):
                media_type = _text(candidate.get("mediaType"), 64)
                break
    family = media_type.split("/", 1)[0].lower() if media_type else kind.lower()
    media_kind = _MEDIA_KINDS.get(family, "unknown")
    if media_type.lower() == "image/gif":
        media_kind = "gifv" if kind == "Video" else "image"
    focus: tuple[float, float] = (0.0, 0.0)
    raw_focus = item.get("focalPoint")
    if isinstance(raw_focus, list) and len(raw_focus) == 2:
        try:
            x, y = (max(-1.0, min(1.0, float(v))) for v in raw_focus)
            focus = (x, y)
        except (TypeError, ValueError):
            pass
    description = _text(item.get("name"), 1500) or _text(item.get("summary"), 1500)
    blurhash = _text(item.get("blurhash"), 64) or None
    return Attachment(
        url=url,
        type=media_kind,
        media_type=media_type,
        description=description,
        blurhash=blurhash,
        width=_int(item.get("width")),
        height=_int(item.get("height")),
        focus=focus,
    )


def _tags(doc: Mapping[str, Any]) -> tuple[tuple[Mention, ...], tuple[str, ...], str | None]:
    """Mentions, hashtag names and a FEP-e232 quote link from `tag`."""
    mentions: dict[str, Mention] = {}
    hashtags: dict[str, str] = {}
    quote: str | None = None
    for item in _listed(_get(doc, "tag"))[:MAX_TAGS]:
        if not isinstance(item, Mapping):
            continue
        kind = _type(item)
        if kind == "Mention":
            href = _optional_uri(item.get("href"))
            if href:
                mentions.setdefault(href, Mention(href=href, name=_text(item.get("name"), 320)))
        elif kind == "Hashtag":
            name = _text(item.get("name"), 255).strip().lstrip("#＃").strip()
            if name and not any(c.isspace() for c in name):
                hashtags.setdefault(normalize_tag(name), name)
        elif kind == "Link" and quote is None:
            rel = " ".join(str(r) for r in _listed(item.get("rel")))
            if "_misskey_quote" in rel or "fep/044f#quote" in rel:
                quote = _optional_uri(item.get("href"))
    return tuple(mentions.values()), tuple(hashtags.values()), quote


def _language_and_content(doc: Mapping[str, Any]) -> tuple[str, str | None]:
    """The HTML content and its language (GoToSocial's rule: the contentMap key whose value
    is `content`, or the only key)."""
    content = _text(_get(doc, "content"))
    mapped = _first(_get(doc, "contentMap"))
    language: str | None = None
    if isinstance(mapped, Mapping):
        entries = [(k, v) for k, v in mapped.items() if isinstance(k, str) and isinstance(v, str)]
        if content:
            language = next((k for k, v in entries if v == content), None)
        if not content and entries:
            language, content = entries[0]
        if language is None and len(entries) == 1:
            language = entries[0][0]
    if language is not None:
        language = language.split("-", 1)[0].lower()
        if not (language.isalpha() and 2 <= len(language) <= 3):
            language = None
    return content, language


def _source(doc: Mapping[str, Any]) -> str:
    """The author's own text: Misskey's `_misskey_content` or the `source` object."""
    source = _first(_get(doc, "source"))
    if isinstance(source, Mapping):
        text = _text(source.get("content"))
        if text:
            return text
    return _text(doc.get("_misskey_content"))


def _paragraphs(text: str) -> str:
    chunks = [c for c in re.split(r"\n{2,}", text.strip()) if c]
    return "".join(f"<p>{escape(c).replace(chr(10), '<br />')}</p>" for c in chunks)


def _quote_policy(doc: Mapping[str, Any]) -> str:
    """FEP-044f / GoToSocial `interactionPolicy.canQuote`: who may quote, as Mastodon's three
    policies (absent: public)."""
    policy = _first(_get(doc, "interactionPolicy"))
    if not isinstance(policy, Mapping) or "canQuote" not in policy:
        return "public"
    can = _first(policy.get("canQuote"))
    if not isinstance(can, Mapping):
        return "nobody"
    allowed = {
        _id_of(v) or ""
        for key in ("automaticApproval", "always", "manualApproval", "approvalRequired")
        for v in _listed(can.get(key))
    }
    if allowed & _PUBLIC_FORMS:
        return "public"
    if any(a.rstrip("/").endswith("/followers") for a in allowed):
        return "followers"
    return "nobody"


def _poll(doc: Mapping[str, Any]) -> Poll | None:
    multiple = "anyOf" in doc
    raw = _listed(doc.get("anyOf") if multiple else doc.get("oneOf"))
    options: list[PollOption] = []
    for item in raw[:MAX_POLL_OPTIONS]:
        if not isinstance(item, Mapping):
            continue
        title = _text(item.get("name"), 500).strip()
        replies = item.get("replies")
        votes = _int(replies.get("totalItems")) if isinstance(replies, Mapping) else None
        if title:
            options.append(PollOption(title=title, votes=votes or 0))
    if len(options) < 1:
        return None
    closed = _datetime(doc.get("closed"))
    if closed is None and _bool(doc.get("closed")):
        closed = _datetime(doc.get("endTime"))
    return Poll(
        options=tuple(options),
        multiple=multiple,
        end_time=_datetime(doc.get("endTime")),
        closed=closed,
        voters_count=_int(_get(doc, "votersCount")),
    )


def _quote(doc: Mapping[str, Any], from_tags: str | None) -> str | None:
    for key in ("quote", "quoteUrl", "quoteUri", "_misskey_quote", "quoteURL"):
        found = _optional_uri(_get(doc, key))
        if found:
            return found
    return from_tags


def note(doc: Any) -> RemoteNote:
    """A post (Note, Question; Article, Page and media objects converted as Mastodon does)."""
    doc = _require_mapping(doc, "object")
    kind = _type(doc, NOTE_TYPES)
    if kind not in NOTE_TYPES:
        raise Malformed(f"object: type {kind or '(none)'!r} is not a post")
    uri = _uri(doc.get("id", doc.get("@id")), "object id")
    author_value = _get(doc, "attributedTo")
    author = None
    for item in _listed(author_value):  # PeerTube lists a Person and a Group: take the Person
        if isinstance(item, Mapping) and _type(item, ACTOR_TYPES) not in ("Person", ""):
            continue
        author = _id_of(item)
        if author:
            break
    author = check_uri(author or _id_of(author_value) or "", "object attributedTo")
    if not same_host(author, uri):
        raise Malformed("object: its id and its author are on different hosts")
    content, language = _language_and_content(doc)
    source = _source(doc)
    if not content and source:
        content = _paragraphs(source)
    name = _text(_get(doc, "name"), 2000)
    url = _link_url(_get(doc, "url"))
    if kind not in ("Note", "Question"):
        title = f"<p><strong>{escape(name)}</strong></p>" if name and content else ""
        body = content or (f"<p>{escape(name)}</p>" if name else "")
        link = f'<p><a href="{escape(url)}">{escape(url)}</a></p>' if url else ""
        content = title + body + link
    html = sanitize_html(content) if content else ""
    summary_raw = _text(_get(doc, "summary"), 5000)
    summary = html_to_text(summary_raw) if "<" in summary_raw else summary_raw.strip()
    mentions, hashtags, tag_quote = _tags(doc)
    sensitive = _bool(_get(doc, "sensitive")) or bool(summary)
    attachments = tuple(
        a for a in (_attachment(i) for i in _listed(_get(doc, "attachment"))) if a is not None
    )[:MAX_ATTACHMENTS]
    quote_authorization = _optional_uri(_get(doc, "quoteAuthorization"))
    return RemoteNote(
        uri=uri,
        type=kind,
        attributed_to=author,
        content_html=html,
        text=source or html_to_text(html),
        summary=summary,
        sensitive=sensitive,
        published=_datetime(_get(doc, "published")),
        updated=_datetime(_get(doc, "updated")),
        url=url,
        in_reply_to=_optional_uri(_get(doc, "inReplyTo")),
        to=_audience(_get(doc, "to")),
        cc=_audience(_get(doc, "cc")),
        mentions=mentions,
        hashtags=hashtags,
        attachments=attachments,
        poll=_poll(doc) if kind == "Question" else None,
        quote=_quote(doc, tag_quote),
        quote_authorization=quote_authorization,
        language=language,
        quote_policy=_quote_policy(doc),
    )


# --- activities ---------------------------------------------------------------------------


def activity(doc: Any) -> Activity:
    """An activity as delivered to an inbox: an object with an `id`, a `type` and an `actor`,
    the activity's id on its actor's host, and (for Create, Update, Delete) an object that
    belongs to that host too."""
    doc = _require_mapping(doc, "activity")
    kind = _type(doc, ACTIVITY_TYPES)
    if not kind:
        raise Malformed("activity: no type")
    if len(kind) > 32:
        raise Malformed("activity: type is too long")
    activity_id = _uri(doc.get("id", doc.get("@id")), "activity id")
    actor_uri = _uri(_get(doc, "actor"), "activity actor")
    if not same_host(activity_id, actor_uri):
        raise Malformed("activity: its id and its actor are on different hosts")
    raw_object = _get(doc, "object")
    embedded = _first(raw_object)
    objects: list[str] = []
    for item in _listed(raw_object)[:MAX_TAGS]:
        found = _id_of(item)
        if found is not None:
            objects.append(check_uri(found, "activity object"))
    object_id = objects[0] if objects else None
    obj = embedded if isinstance(embedded, Mapping) else None
    object_type = _type(obj) if obj is not None else None
    owned = kind in ("Create", "Update", "Delete") and object_id is not None
    if owned and not same_host(object_id or "", actor_uri):
        raise Malformed(f"{kind}: the object is not on its actor's host")
    needs_object = ("Create", "Announce", "Like", "EmojiReact", "Follow", "Block", "Undo")
    if kind in needs_object and object_id is None:
        raise Malformed(f"{kind}: no object")
    target = _optional_uri(_get(doc, "target"))
    content = _text(doc.get("_misskey_reaction"), 500) or _text(_get(doc, "content"), 20_000)
    if kind == "Flag" and "<" in content:
        content = html_to_text(content)
    return Activity(
        id=activity_id,
        type=kind,
        actor=actor_uri,
        object_id=object_id,
        object=obj,
        object_type=object_type,
        objects=tuple(dict.fromkeys(objects)),
        target=target,
        to=_audience(_get(doc, "to")),
        cc=_audience(_get(doc, "cc")),
        content=content,
        published=_datetime(_get(doc, "published")),
        raw=doc,
    )


def inner(outer: Activity) -> Activity | None:
    """The activity an Undo, Accept or Reject carries, when it came embedded (its actor
    defaults to the outer one's when left out, as some servers do). None when only its id
    was given or it cannot be read."""
    obj = outer.object
    if obj is None:
        return None
    doc = dict(obj)
    if _get(doc, "actor") is None:
        doc["actor"] = outer.actor
    try:
        return activity(doc)
    except Malformed:
        return None
