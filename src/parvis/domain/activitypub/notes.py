"""Community notes between Parvis servers: the ActivityPub extension that FEDERATION.md
describes ("Community notes (Parvis extension)"). Pure: documents built from plain values, and
documents read back into plain values (or `parse.Malformed`, saying what is wrong).

The terms live under `https://parvis.social/ns#` (`parvis:`), defined inline in each
document's `@context`, so no receiver has to fetch anything:

- `CommunityNote`, an object: `attributedTo` (its author), `about` (the post's URI; not
  `inReplyTo`, so that servers which do not know the type never show it as a reply), `content`
  (the note, plain text) with `contentMap` when its language is known, `classification`
  (`misleading` | `not_misleading`), `reasons`, `sources` (URLs) and `published`. It comes in a
  `Create` by its author and goes with a `Delete` (a `Tombstone`).
- `NoteRating`, an activity by a rater: `object` is the note's URI, with `helpfulness`
  (`helpful` | `somewhat_helpful` | `not_helpful`) and `tags`; withdrawn by an `Undo` that
  embeds it.

Values are the keys of the client API and of `parvis.domain.notes.model`; whether they are
acceptable (known reasons, a source for a misleading post, lengths) is the services' business
(`services.notes.draft_errors`), so that remote notes pass exactly the rules of local ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from parvis.domain.activitypub import parse, render
from parvis.domain.activitypub.vocabulary import AS_CONTEXT, AS_PUBLIC, PARVIS
from parvis.domain.content import html_to_text

JSON = dict[str, Any]
NOTE_TYPE = "CommunityNote"
RATING_TYPE = "NoteRating"
MAX_TEXT = 5000  # read at most this much of `content` (the rules allow far less)
MAX_ITEMS = 20  # reasons, sources, tags read at most
MAX_KEY = 64
MAX_LANGUAGE = 16

_ID = "@id"
NOTE_TERMS: dict[str, Any] = {
    "parvis": PARVIS,
    NOTE_TYPE: f"parvis:{NOTE_TYPE}",
    RATING_TYPE: f"parvis:{RATING_TYPE}",
    "about": {_ID: "parvis:about", "@type": _ID},
    "classification": "parvis:classification",
    "reasons": {_ID: "parvis:reasons", "@container": "@list"},
    "sources": {_ID: "parvis:sources", "@type": _ID, "@container": "@list"},
    "helpfulness": "parvis:helpfulness",
    "tags": {_ID: "parvis:tags", "@container": "@list"},
}
NOTES_CONTEXT: list[Any] = [AS_CONTEXT, NOTE_TERMS]


def compact(kind: str) -> str:
    """A type or term as Parvis spells it: `parvis:NoteRating` and the full IRI become
    `NoteRating` (ActivityStreams prefixes go as `parse.compact_type` takes them)."""
    kind = parse.compact_type(kind)
    for prefix in ("parvis:", PARVIS):
        if kind.startswith(prefix):
            return kind[len(prefix) :]
    return kind


def type_of(doc: Mapping[str, Any] | None) -> str:
    """The first type of a document, compacted ("" when it has none)."""
    if doc is None:
        return ""
    raw = doc.get("type", doc.get("@type"))
    for value in raw if isinstance(raw, list) else [raw]:
        if isinstance(value, str) and value:
            return compact(value)
    return ""


def is_rating(kind: str) -> bool:
    return compact(kind) == RATING_TYPE


# -- building --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteDoc:
    uri: str
    about: str  # the post's URI
    summary: str  # plain text
    classification: str  # misleading | not_misleading
    reasons: tuple[str, ...]
    sources: tuple[str, ...]
    language: str
    published: datetime
    attributed_to: str | None  # None: left out (what an anonymous fetch gets)


def note(doc: NoteDoc) -> JSON:
    """The CommunityNote document, with its `@context` (public: to `as:Public`)."""
    out: JSON = {"id": doc.uri, "type": NOTE_TYPE}
    if doc.attributed_to is not None:
        out["attributedTo"] = doc.attributed_to
    out.update(
        {
            "about": doc.about,
            "published": render.iso(doc.published),
            "url": doc.uri,
            "to": [AS_PUBLIC],
            "mediaType": "text/plain",
            "content": doc.summary,
        }
    )
    if doc.language:
        out["contentMap"] = {doc.language: doc.summary}
    out.update(
        {
            "classification": doc.classification,
            "reasons": list(doc.reasons),
            "sources": list(doc.sources),
        }
    )
    return {"@context": NOTES_CONTEXT, **out}


def create(doc: NoteDoc) -> JSON:
    """Create of a note by its author: id `{note}/activity`."""
    if doc.attributed_to is None:
        raise ValueError("a note is created by its author")
    return render.create(note(doc), doc.attributed_to)


def delete(note_uri: str, author_uri: str) -> JSON:
    """Delete of a note by its author (a Tombstone): id `{note}#delete`."""
    out = render.delete(note_uri, author_uri)
    out["object"]["formerType"] = NOTE_TYPE
    return out


def rating_id(rater_uri: str, note_ref: int | str, moment: datetime) -> str:
    """A rating's activity id: each rating (and each change of it) has its own, since
    receivers apply an activity id once; `moment` is when it was given, to the microsecond."""
    micros = round(moment.astimezone(UTC).timestamp() * 1_000_000)
    return f"{rater_uri}#note_ratings/{note_ref}/{micros}"


def rating(
    activity_id: str,
    rater_uri: str,
    note_uri: str,
    helpfulness: str,
    tags: Sequence[str],
    published: datetime,
) -> JSON:
    """NoteRating: not addressed to the public (ratings are published as pseudonymous files
    only), delivered to the servers that hold the note."""
    return {
        "@context": NOTES_CONTEXT,
        "id": activity_id,
        "type": RATING_TYPE,
        "actor": rater_uri,
        "published": render.iso(published),
        "helpfulness": helpfulness,
        "tags": list(tags),
        "object": note_uri,
    }


def undo_rating(activity_id: str, rater_uri: str, note_uri: str) -> JSON:
    """Undo of a rating, embedding it (its id, actor and note): id `{rating}/undo`."""
    undone = {
        "@context": NOTES_CONTEXT,
        "id": activity_id,
        "type": RATING_TYPE,
        "actor": rater_uri,
        "object": note_uri,
    }
    return render.undo(undone)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteCommunityNote:
    uri: str
    attributed_to: str
    about: str
    summary: str
    classification: str
    reasons: tuple[str, ...]
    sources: tuple[str, ...]
    language: str
    published: datetime | None


@dataclass(frozen=True)
class RemoteRating:
    id: str
    actor: str
    note: str  # the note's URI
    helpfulness: str
    tags: tuple[str, ...]
    published: datetime | None


def _get(doc: Mapping[str, Any], name: str) -> Any:
    """A property by its compact name, `parvis:` or `as:` prefixed, or full IRI."""
    for key in (name, f"parvis:{name}", PARVIS + name, f"as:{name}", parse.AS + name):
        if key in doc:
            return doc[key]
    return None


def _value(item: Any) -> Any:
    return (
        item.get("@value", item.get("@id", item.get("href"))) if isinstance(item, Mapping) else item
    )


def _items(value: Any) -> list[Any]:
    if isinstance(value, Mapping) and "@list" in value:
        value = value["@list"]
    if value is None:
        return []
    return [_value(v) for v in (value if isinstance(value, list) else [value])]


def _string(value: Any, what: str, limit: int, *, required: bool = True) -> str:
    items = _items(value)
    if not items:
        if required:
            raise parse.Malformed(f"{what}: missing")
        return ""
    if len(items) > 1 or not isinstance(items[0], str):
        raise parse.Malformed(f"{what}: not a string")
    return items[0].replace("\x00", "")[:limit]


def _strings(value: Any, what: str, limit: int) -> tuple[str, ...]:
    items = _items(value)
    if len(items) > MAX_ITEMS:
        raise parse.Malformed(f"{what}: more than {MAX_ITEMS} entries")
    if not all(isinstance(i, str) for i in items):
        raise parse.Malformed(f"{what}: a list of strings")
    return tuple(dict.fromkeys(i.replace("\x00", "")[:limit] for i in items))


def _uri(value: Any, what: str) -> str:
    found = _items(value)
    if not found or not isinstance(found[0], str):
        raise parse.Malformed(f"{what}: missing")
    return parse.check_uri(found[0], what)


def _published(value: Any) -> datetime | None:
    text = _string(value, "published", 40, required=False)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None  # as parse does: a date nobody can read is no date
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _content(doc: Mapping[str, Any]) -> tuple[str, str]:
    """(the note as plain text, its language or "")."""
    text = _string(_get(doc, "content"), "content", MAX_TEXT, required=False)
    language = ""
    mapped = _get(doc, "contentMap")
    if isinstance(mapped, Mapping):
        entries = [(k, v) for k, v in mapped.items() if isinstance(k, str) and isinstance(v, str)]
        match = [k for k, v in entries if v[:MAX_TEXT] == text] if text else []
        if match:
            language = match[0]
        elif entries and not text:
            language, text = entries[0][0], entries[0][1][:MAX_TEXT]
        elif len(entries) == 1:
            language = entries[0][0]
    media_type = _string(_get(doc, "mediaType"), "mediaType", 100, required=False)
    if media_type.lower().startswith("text/html") or (not media_type and "</" in text):
        text = html_to_text(text)
    return text, language[:MAX_LANGUAGE]


def community_note(doc: Any) -> RemoteCommunityNote:
    """A CommunityNote document (embedded in its Create, or fetched)."""
    if not isinstance(doc, Mapping):
        raise parse.Malformed("note: not a JSON object")
    kind = type_of(doc)
    if kind != NOTE_TYPE:
        raise parse.Malformed(f"note: type {kind or '(none)'!r} is not {NOTE_TYPE}")
    uri = _uri(doc.get("id", doc.get("@id")), "note id")
    author = _uri(_get(doc, "attributedTo"), "attributedTo")
    if not parse.same_host(author, uri):
        raise parse.Malformed("note: its id and its author are on different hosts")
    summary, language = _content(doc)
    return RemoteCommunityNote(
        uri=uri,
        attributed_to=author,
        about=_uri(_get(doc, "about"), "about"),
        summary=summary,
        classification=_string(_get(doc, "classification"), "classification", MAX_KEY),
        reasons=_strings(_get(doc, "reasons"), "reasons", MAX_KEY),
        sources=_strings(_get(doc, "sources"), "sources", 4096),
        language=language,
        published=_published(_get(doc, "published")),
    )


def note_rating(activity: parse.Activity) -> RemoteRating:
    """A NoteRating activity (already read by `parse.activity`: id and actor on one host)."""
    if not is_rating(activity.type):
        raise parse.Malformed(f"rating: type {activity.type!r} is not {RATING_TYPE}")
    if activity.object_id is None or len(activity.objects) != 1:
        raise parse.Malformed("rating: object: the URI of one note")
    raw = activity.raw
    return RemoteRating(
        id=activity.id,
        actor=activity.actor,
        note=activity.object_id,
        helpfulness=_string(_get(raw, "helpfulness"), "helpfulness", MAX_KEY),
        tags=_strings(_get(raw, "tags"), "tags", MAX_KEY),
        published=_published(_get(raw, "published")),
    )
