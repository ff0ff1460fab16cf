"""The ActivityStreams vocabulary Parvis speaks: JSON-LD contexts, the Public collection, the
media types of ActivityPub, WebFinger and host-meta, and content negotiation on `Accept`.

The contexts are the ones Mastodon 4.x sends (its `toot:`, `schema:`, `ostatus`-free subset),
plus FEP-044f quote terms and GoToSocial's `interactionPolicy` vocabulary that Mastodon 4.5 uses
for quote controls. Terms are defined inline so that no receiver has to fetch a context
document it does not already know (only the two W3C ones every implementation bundles).
"""

from __future__ import annotations

from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# The compacted spellings of the Public collection that real servers send.
PUBLIC_ALIASES = frozenset({AS_PUBLIC, "as:Public", "Public"})

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
AS_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_JSON = "application/jrd+json"
XRD_XML = "application/xrd+xml"
# What Parvis answers ActivityPub documents with (Mastodon adds the charset too).
ACTIVITY_CONTENT_TYPE = f"{ACTIVITY_JSON}; charset=utf-8"

TOOT = "http://joinmastodon.org/ns#"
SCHEMA = "http://schema.org#"
GTS = "https://gotosocial.org/ns#"
FEP_044F = "https://w3id.org/fep/044f#"
# Parvis's own terms (community notes: domain/activitypub/notes.py), defined inline too.
PARVIS = "https://parvis.social/ns#"

_ID = "@id"
_TYPE = "@type"

# Actors: Mastodon's actor extensions, and FEP-2c59's `webfinger`.
ACTOR_TERMS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": TOOT,
    "featured": {_ID: "toot:featured", _TYPE: _ID},
    "featuredTags": {_ID: "toot:featuredTags", _TYPE: _ID},
    "alsoKnownAs": {_ID: "as:alsoKnownAs", _TYPE: _ID},
    "movedTo": {_ID: "as:movedTo", _TYPE: _ID},
    "schema": SCHEMA,
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "discoverable": "toot:discoverable",
    "suspended": "toot:suspended",
    "memorial": "toot:memorial",
    "indexable": "toot:indexable",
    "attributionDomains": {_ID: "toot:attributionDomains", _TYPE: _ID},
    "focalPoint": {"@container": "@list", _ID: "toot:focalPoint"},
    "webfinger": "https://purl.archive.org/socialweb/webfinger#webfinger",
}

# Notes and questions: content warnings, hashtags, polls, media hints, quotes (FEP-044f, with
# the Misskey and Fedibird spellings Mastodon also sends) and quote controls.
NOTE_TERMS: dict[str, Any] = {
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": TOOT,
    "votersCount": "toot:votersCount",
    "blurhash": "toot:blurhash",
    "focalPoint": {"@container": "@list", _ID: "toot:focalPoint"},
    "quote": {_ID: f"{FEP_044F}quote", _TYPE: _ID},
    "quoteUri": "http://fedibird.com/ns#quoteUri",
    "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
    "quoteAuthorization": {_ID: f"{FEP_044F}quoteAuthorization", _TYPE: _ID},
    "gts": GTS,
    "interactionPolicy": {_ID: "gts:interactionPolicy", _TYPE: _ID},
    "canQuote": {_ID: "gts:canQuote", _TYPE: _ID},
    "automaticApproval": {_ID: "gts:automaticApproval", _TYPE: _ID},
    "manualApproval": {_ID: "gts:manualApproval", _TYPE: _ID},
}

QUOTE_AUTHORIZATION_TERMS: dict[str, Any] = {
    "QuoteAuthorization": f"{FEP_044F}QuoteAuthorization",
    "gts": GTS,
    "quoteAuthorization": {_ID: f"{FEP_044F}quoteAuthorization", _TYPE: _ID},
    "interactingObject": {_ID: "gts:interactingObject"},
    "interactionTarget": {_ID: "gts:interactionTarget"},
}

ACTOR_CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, ACTOR_TERMS]
NOTE_CONTEXT: list[Any] = [AS_CONTEXT, NOTE_TERMS]
QUOTE_AUTHORIZATION_CONTEXT: list[Any] = [AS_CONTEXT, QUOTE_AUTHORIZATION_TERMS]
ACTIVITY_CONTEXT = AS_CONTEXT  # activities that carry no extension terms (Follow, Like, ...)

# Media types that ask for ActivityStreams JSON (Mastodon treats all of them as JSON).
_AP_TYPES = frozenset({ACTIVITY_JSON, LD_JSON, "application/json"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    """(media type, q) for each range of an Accept header; malformed q values count as 0."""
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        kind = pieces[0].lower()
        if not kind:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        ranges.append((kind, q))
    return ranges


def wants_activity_json(accept: str | None) -> bool:
    """Whether an `Accept` header asks for ActivityStreams JSON rather than a web page.

    `application/activity+json`, `application/ld+json` (with or without the ActivityStreams
    profile) and `application/json` count, when they rank at least as high as HTML. A browser's
    `text/html,...,*/*;q=0.8` does not; no header at all does not either (a person's link).
    """
    if not accept:
        return False
    ap = html = 0.0
    for kind, q in _media_ranges(accept[:2048]):
        if kind in _AP_TYPES:
            ap = max(ap, q)
        elif kind in _HTML_TYPES:
            html = max(html, q)
    return ap > 0.0 and ap >= html


def is_public(address: object) -> bool:
    """Whether an addressing entry names the Public collection (any spelling)."""
    return isinstance(address, str) and address in PUBLIC_ALIASES
