"""Remote actors: found by URI or by `user@host` (WebFinger), fetched with the instance actor's
signature, parsed and kept as ordinary accounts (with a `domain`).

A stored actor is used as it is for a day, then fetched again; a signature that does not
verify with the stored key makes the inbox fetch the actor once more (key rotation). Nothing is
fetched from a domain the operator suspended, and a document is accepted only when its `id`
is on the host of the URL that was fetched (a server speaks only for its own actors).

The network is reached through `Network` (the jobs runtime): its `http` client, and its
`read`/`write` units of work, never held open while a remote server answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TypeVar
from urllib.parse import quote

from parvis.config import Settings
from parvis.domain.activitypub import parse
from parvis.domain.content import html_to_text
from parvis.domain.errors import Forbidden, NotFound
from parvis.domain.models import Account
from parvis.services import actors, domain_policy, remote_media
from parvis.services.context import Clock, Work
from parvis.services.fetching import FetchError, Http
from parvis.storage.remote import RemoteAccount

T = TypeVar("T")
REFRESH_AFTER = timedelta(days=1)
JRD_SELF = ("application/activity+json", "application/ld+json")


class Network(Protocol):
    """What these use cases need of the runtime (parvis.jobs.runtime.Runtime fits)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def http(self) -> Http | None: ...

    def read(self, use_case: Callable[[Work], T]) -> T: ...

    def write(self, use_case: Callable[[Work], T]) -> T: ...


@dataclass(frozen=True)
class KnownActor:
    account: Account
    actor: RemoteAccount


def local_host(settings: Settings) -> str:
    return parse.host_of(settings.base_url + "/")


def _http(net: Network) -> Http:
    if net.http is None:
        raise FetchError("federation is offline here (no HTTP client)", permanent=True)
    return net.http


def fetch_document(net: Network, uri: str) -> dict[str, object]:
    """GET an ActivityPub document, signed by the instance actor; its `id` must be on the
    host that was asked. Malformed, Forbidden (suspended domain) or FetchError otherwise."""
    parse.check_uri(uri)
    host = parse.host_of(uri)
    if net.read(lambda work: domain_policy.policy_for(work, host)).suspended:
        raise Forbidden(f"{host} is suspended on this server")
    doc = _http(net).get_json(uri, key=actors.instance_key(net.settings))
    found = doc.get("id")
    if not isinstance(found, str) or not parse.same_host(parse.check_uri(found), uri):
        raise parse.Malformed(f"{uri}: the document's id is not on the host it came from")
    return doc


def _known(work: Work, uri: str) -> KnownActor | None:
    actor = work.store.remote.actor_by_uri(uri)
    if actor is None:
        return None
    account = work.store.accounts.get(actor.account_id)
    return KnownActor(account, actor) if account is not None else None


def _fresh(net: Network, known: KnownActor) -> bool:
    fetched = known.actor.fetched_at
    return fetched is not None and net.clock() - fetched < REFRESH_AFTER


def store_actor(work: Work, actor: parse.RemoteActor) -> Account:
    """Create or update the account of a parsed remote actor (write unit)."""
    now = work.now()
    fields = [
        {"name": f.name, "value": html_to_text(f.value_html), "value_html": f.value_html}
        for f in actor.fields
    ]
    values: dict[str, object] = {
        "uri": actor.uri,
        "username": actor.username,
        "domain": actor.domain,
        "display_name": actor.display_name,
        "note": html_to_text(actor.summary_html),
        "note_html": actor.summary_html,
        "fields_json": json.dumps(fields, ensure_ascii=False),
        "locked": actor.locked,
        "bot": actor.bot,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "url": actor.url,
        "inbox_uri": actor.inbox,
        "shared_inbox_uri": actor.shared_inbox,
        "outbox_uri": actor.outbox,
        "followers_uri": actor.followers,
        "following_uri": actor.following,
        "featured_uri": actor.featured,
        "actor_type": actor.type,
        "fetched_at": now,
    }
    if actor.key is not None:  # a document without its key (a partial Update) keeps the old one
        values["key_uri"] = actor.key.id
        values["public_key_pem"] = actor.key.pem
    known = work.store.remote.account_id(actor.uri)
    if known is None and actor.published is not None and actor.published <= now:
        values["created_at"] = actor.published
    account_id, _ = work.store.remote.upsert_account(values, now)
    work.store.remote.set_aliases(account_id, actor.also_known_as, now)
    if actor.moved_to:
        work.store.remote.set_moved(account_id, work.store.remote.account_id(actor.moved_to))
    if domain_policy.policy_for(work, actor.domain).suspended:
        block = work.store.domain_policy.matching(actor.domain)
        if block is not None:
            work.store.remote.set_suspended(account_id, block.created_at)
    remote_media.profile_images(work, account_id, actor.avatar_url, actor.header_url)
    account = work.store.accounts.get(account_id)
    assert account is not None
    return account


def _local(net: Network, uri: str) -> Account:
    def find(work: Work) -> Account:
        account_id = work.store.remote.account_id(uri)
        account = work.store.accounts.get(account_id) if account_id is not None else None
        if account is None or not account.local:
            raise NotFound("Record not found")
        return account

    return net.read(find)


def fetch_actor(net: Network, uri: str, *, refresh: bool = False) -> Account:
    """The account of the actor at `uri`: stored and fresh, or fetched now (also when
    `refresh`). Local URIs are looked up, never fetched. Raises Malformed, Forbidden
    (suspended domain), NotFound (a local URI nobody has) or FetchError."""
    parse.check_uri(uri)
    if parse.host_of(uri) == local_host(net.settings):
        return _local(net, uri)
    known = net.read(lambda work: _known(work, uri))
    if known is not None and not refresh and _fresh(net, known):
        return known.account
    try:
        actor = parse.actor(fetch_document(net, uri))
    except FetchError:
        if known is None:
            raise
        return known.account  # stale beats nothing while its server is unreachable
    return net.write(lambda work: store_actor(work, actor))


def split_acct(acct: str) -> tuple[str, str] | None:
    """("user", "host") of `user@host`, `@user@host` or `acct:user@host`; None otherwise."""
    text = acct.strip().removeprefix("acct:").lstrip("@")
    username, sep, host = text.partition("@")
    if not sep or not username or not host or "@" in host or "/" in host:
        return None
    return username, host.lower()


def _webfinger(net: Network, username: str, host: str) -> str | None:
    """The actor URI WebFinger gives for user@host, or None."""
    resource = quote(f"acct:{username}@{host}", safe="@:")
    url = f"{net.settings.scheme}://{host}/.well-known/webfinger?resource={resource}"
    parse.check_uri(url)
    jrd = _http(net).get_json(url)
    links = jrd.get("links")
    if not isinstance(links, list):
        return None
    for link in links:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        kind = str(link.get("type") or "")
        href = link.get("href")
        if isinstance(href, str) and any(kind.startswith(t) for t in JRD_SELF):
            return href
    return None


def resolve_acct(net: Network, acct: str) -> Account | None:
    """The account of `user@host` (local when host is ours): stored, or found through
    WebFinger and fetched. None when it cannot be found or fetched, or its domain is
    suspended."""
    parts = split_acct(acct)
    if parts is None:
        return None
    username, host = parts
    if host == local_host(net.settings):
        return net.read(lambda work: work.store.accounts.by_acct(username, None))
    stored = net.read(lambda work: work.store.accounts.by_acct(username, host))
    try:
        if stored is not None:
            return fetch_actor(net, stored.uri)
        if net.read(lambda work: domain_policy.policy_for(work, host)).suspended:
            return None
        uri = _webfinger(net, username, host)
        if uri is None:
            return None
        account = fetch_actor(net, uri)
    except (parse.Malformed, Forbidden, NotFound, FetchError):
        return stored
    if account.username.lower() != username.lower() or (account.domain or "") != host:
        return None
    return account
