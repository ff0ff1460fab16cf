"""Discovery: WebFinger (RFC 7033) and host-meta (RFC 6415), so that `@alice@example.org`
leads other servers to `https://example.org/users/alice`.

NodeInfo 2.0/2.1 (`/.well-known/nodeinfo`, `/nodeinfo/2.x`) is served by the API edge
(parvis.api.instance), which already computes the usage counts for /api/v2/instance.

Also the few helpers every ActivityPub route shares (running a use case off the event loop,
JSON answers as orjson bytes, errors as `{"error": ...}`), used by parvis.federation.objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parvis.domain.activitypub.vocabulary import (
    ACTIVITY_CONTENT_TYPE,
    ACTIVITY_JSON,
    JRD_JSON,
    XRD_XML,
)
from parvis.domain.errors import DomainError, Invalid, NotFound
from parvis.jobs.runtime import Runtime
from parvis.services import actors
from parvis.services.context import Work

T = TypeVar("T")

PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
AVATAR = "http://webfinger.net/rel/avatar"
MAX_RESOURCE = 512


# -- what every ActivityPub route shares -------------------------------------------------------


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def read(request: Request, use_case: Callable[[Work], T]) -> T:
    return await anyio.to_thread.run_sync(runtime(request).read, use_case)


async def write(request: Request, use_case: Callable[[Work], T]) -> T:
    return await anyio.to_thread.run_sync(runtime(request).write, use_case)


def json_response(
    body: Any,
    *,
    media_type: str = ACTIVITY_CONTENT_TYPE,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


def error_response(exc: DomainError) -> Response:
    return json_response({"error": exc.message}, media_type="application/json", status=exc.status)


# -- WebFinger ---------------------------------------------------------------------------------


def _local_host(settings_domain: str, host: str) -> bool:
    return host.lower() == settings_domain.lower()


def _account_jrd(work: Work, username: str) -> dict[str, Any]:
    account = actors.local_account_by_username(work, username)
    domain = work.settings.domain
    links: list[dict[str, Any]] = [
        {"rel": PROFILE_PAGE, "type": "text/html", "href": account.url},
        {"rel": "self", "type": ACTIVITY_JSON, "href": account.uri},
    ]
    avatar = actors.webfinger_avatar(work, account)
    if avatar is not None and not account.suspended:
        links.append({"rel": AVATAR, "type": avatar.media_type, "href": avatar.url})
    return {
        "subject": f"acct:{account.username}@{domain}",
        "aliases": [account.url, account.uri],
        "links": links,
    }


def _instance_jrd(work: Work) -> dict[str, Any]:
    settings = work.settings
    uri = actors.instance_actor_uri(settings)
    return {
        "subject": f"acct:{settings.domain}@{settings.domain}",
        "aliases": [uri],
        "links": [
            {"rel": PROFILE_PAGE, "type": "text/html", "href": f"{settings.base_url}/about"},
            {"rel": "self", "type": ACTIVITY_JSON, "href": uri},
        ],
    }


def _username_of_acct(acct: str, domain: str) -> str:
    user, at, host = acct.removeprefix("@").rpartition("@")
    if not at or not user or not host:
        raise Invalid("resource: an acct: URI is user@domain")
    if not _local_host(domain, host):
        raise NotFound("Record not found")
    return user


def _username_of_url(url: str, base_url: str) -> str:
    parts = urlsplit(url)
    base = urlsplit(base_url)
    if parts.scheme.lower() != base.scheme or (parts.netloc or "").lower() != base.netloc.lower():
        raise NotFound("Record not found")
    path = parts.path.rstrip("/")
    if path == "/actor":
        return ""
    for prefix in ("/users/", "/@"):
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return path[len(prefix) :]
    raise NotFound("Record not found")


def resolve(work: Work, resource: str) -> dict[str, Any]:
    """The JRD for `acct:user@domain`, `user@domain`, or the actor's or profile's URL.
    Invalid (400) when the resource is missing or not of these forms; NotFound (404) for
    another server's resource or an unknown account. Usernames match whatever their case."""
    settings = work.settings
    resource = resource.strip()
    if not resource:
        raise Invalid("resource: a resource parameter is required")
    if len(resource) > MAX_RESOURCE:
        raise Invalid("resource: too long")
    scheme, colon, rest = resource.partition(":")
    scheme = scheme.lower()
    if colon and scheme == "acct":
        username = _username_of_acct(rest, settings.domain)
    elif colon and scheme in ("http", "https"):
        username = _username_of_url(resource, settings.base_url)
    elif "@" in resource and not colon:
        username = _username_of_acct(resource, settings.domain)
    else:
        raise Invalid("resource: use acct:user@domain or an actor URL")
    if username == "" or username.lower() == settings.domain.lower():
        return _instance_jrd(work)
    return _account_jrd(work, username)


async def webfinger(request: Request) -> Response:
    resource = request.query_params.get("resource", "")
    try:
        jrd = await read(request, lambda work: resolve(work, resource))
    except DomainError as exc:
        response = error_response(exc)
        if isinstance(exc, Invalid):
            response.status_code = 400
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    return json_response(
        jrd,
        media_type=f"{JRD_JSON}; charset=utf-8",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=3600, public"},
    )


# -- host-meta ---------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "xml" not in accept


async def host_meta(request: Request) -> Response:
    template = f"{runtime(request).settings.base_url}/.well-known/webfinger?resource={{uri}}"
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=86400, public"}
    if _wants_json(request):
        body = {"links": [{"rel": "lrdd", "template": template}]}
        return json_response(body, media_type=f"{JRD_JSON}; charset=utf-8", headers=headers)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )
    return Response(xml, media_type=f"{XRD_XML}; charset=utf-8", headers=headers)


routes: list[BaseRoute] = [
    Route("/.well-known/webfinger", webfinger, methods=["GET"]),
    Route("/.well-known/host-meta", host_meta, methods=["GET"]),
]
