"""Search with `resolve=true`: bring an account (`user@host`) or a post or actor (its URL) from
another server into this one, so the ordinary search then finds it (Mastodon's behaviour).

Best effort and bounded: one WebFinger query and one actor fetch for an address; one document
fetch (plus its author and up to a few parents of a reply) for a URL. A server that is down, a
suspended domain, a private address or a document that is not ActivityPub just finds nothing.
No transaction is held while another server answers.
"""

from __future__ import annotations

from parvis.domain.activitypub import parse
from parvis.domain.errors import Forbidden, NotFound
from parvis.services import inbound, remote_actors
from parvis.services.fetching import FetchError
from parvis.services.remote_actors import Network

_NOT_FOUND = (FetchError, parse.Malformed, Forbidden, NotFound)


def resolve(net: Network, query: str) -> None:
    """Fetch and store what `query` names on another server, if anything."""
    text = query.strip()
    if text.lower().startswith(("https://", "http://")):
        _resolve_url(net, text)
    elif remote_actors.split_acct(text) is not None:
        remote_actors.resolve_acct(net, text)


def _resolve_url(net: Network, url: str) -> None:
    try:
        if parse.host_of(url) == remote_actors.local_host(net.settings):
            return  # ours: the search reads it from the database
        doc = remote_actors.fetch_document(net, url)
        kind = parse.compact_type(str(doc.get("type") or ""))
        if kind in parse.ACTOR_TYPES:
            actor = parse.actor(doc)
            net.write(lambda work: remote_actors.store_actor(work, actor))
        elif kind in parse.NOTE_TYPES:
            inbound.store_post(net, parse.note(doc))
    except _NOT_FOUND:
        return
