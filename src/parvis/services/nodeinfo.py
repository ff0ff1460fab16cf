"""What software a remote server runs, from its NodeInfo (`/.well-known/nodeinfo`, then the
2.x document it links to), kept per host in `federation_hosts.software`.

Parvis asks only where it has to decide something by it: extensions that only Parvis servers
understand (community notes, services/notes_federation.py) are delivered to hosts known to run
Parvis, never to others. A host is asked once; what it answered is kept. A host that cannot be
asked (down, no NodeInfo) stays unknown, and is asked again the next time it matters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from parvis.domain import netguard
from parvis.domain.activitypub import parse
from parvis.services.fetching import FetchError
from parvis.services.remote_actors import Network

WELL_KNOWN = "/.well-known/nodeinfo"
SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"
PARVIS = "parvis"
MAX_PROBES = 20  # hosts asked at most per call: the rest wait for the next one
SOFTWARE_TTL = timedelta(days=7)  # a server may change software (or move to Parvis)
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def base_of(url: str) -> str | None:
    """`scheme://authority` of a URL (an inbox), where its NodeInfo lives; None if refused."""
    try:
        target = netguard.parse_url(url)
    except netguard.RefusedUrl:
        return None
    return f"{target.scheme}://{target.authority}"


def host_key(url: str) -> str | None:
    """The host as `federation_hosts` (and the outbox) name it."""
    try:
        return netguard.parse_url(url).host
    except netguard.RefusedUrl:
        return None


def _version(rel: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in rel.removeprefix(SCHEMA).split("."))
    except ValueError:
        return (0,)


def document_link(links: Mapping[str, Any], base: str) -> str | None:
    """The newest NodeInfo 2.x document the well-known document links to, on the same host."""
    found: list[tuple[tuple[int, ...], str]] = []
    entries = links.get("links")
    for link in entries if isinstance(entries, list) else []:
        if not isinstance(link, Mapping):
            continue
        rel, href = link.get("rel"), link.get("href")
        if not isinstance(rel, str) or not isinstance(href, str) or not rel.startswith(SCHEMA):
            continue
        if _version(rel)[:1] != (2,) or not parse.same_host(href, base):
            continue
        found.append((_version(rel), href))
    return max(found)[1] if found else None


def software_name(document: Mapping[str, Any]) -> str | None:
    """`software.name` of a NodeInfo document, lower-cased, when it is a plausible name."""
    software = document.get("software")
    name = software.get("name") if isinstance(software, Mapping) else None
    if not isinstance(name, str):
        return None
    name = name.strip().lower()
    return name if _NAME.fullmatch(name) else None


def probe(net: Network, url: str) -> str | None:
    """Ask the server of `url` what it runs (no transaction open); None when it cannot say."""
    base = base_of(url)
    if base is None or net.http is None:
        return None
    try:
        links = net.http.get_json(base + WELL_KNOWN)
        href = document_link(links, base)
        if href is None:
            return None
        return software_name(net.http.get_json(href))
    except FetchError:
        return None


def software_of(net: Network, urls: Iterable[str]) -> dict[str, str]:
    """The software of the hosts of these URLs (inboxes), by host: what is known, and for at
    most MAX_PROBES hosts unknown or last asked more than SOFTWARE_TTL ago, what they answer
    now (recorded). A known host that cannot answer keeps its name until the next week."""
    by_host: dict[str, str] = {}
    for url in urls:
        host = host_key(url)
        if host is not None:
            by_host.setdefault(host, url)
    now, known = net.read(
        lambda work: (work.now(), work.store.deliveries.software_checked(by_host))
    )
    found = {host: name for host, (name, _) in known.items() if name}

    def due(host: str) -> bool:
        name, checked_at = known.get(host, ("", None))
        return not name or checked_at is None or checked_at < now - SOFTWARE_TTL

    for host in [h for h in sorted(by_host) if due(h)][:MAX_PROBES]:
        name = probe(net, by_host[host])
        if name is not None:
            _record(net, host, name)
            found[host] = name
        elif host in found:
            _record(net, host, found[host])
    return found


def _record(net: Network, host: str, name: str) -> None:
    net.write(lambda work: work.store.deliveries.set_software(host, name, work.now()))
