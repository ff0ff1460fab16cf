"""Actors, posts and collections as ActivityPub JSON, for other servers.

Content negotiation: a request whose `Accept` asks for ActivityStreams JSON
(`application/activity+json`, `application/ld+json`, `application/json`) gets the document;
anything else (a browser) is redirected (302) to the web page. `/@name` and `/@name/{id}`
answer JSON too, but only to such requests: their route matches nothing else, so browsers go
on to the web app's routes (mounted after these) without this edge importing the web edge.

Fetches are anonymous unless signed: a valid HTTP signature from a known, not suspended
account lets its followers fetch followers-only posts and the mentioned fetch direct ones.
With `authorized_fetch` on, every fetch but the instance actor's must be signed (401
otherwise); an unsigned actor fetch gets the bare actor (id, inbox, key) so servers can
still verify signatures, as Mastodon's secure mode does. A post gone from the database answers
404 (deleted rows leave no trace to tell "deleted" from "never existed").

Community notes written here are served at `/notes/{id}` to ActivityPub requests only (the web
app has the page at the same address); see FEDERATION.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from parvis.domain import httpsig
from parvis.domain.activitypub import parse
from parvis.domain.activitypub.render import JSON
from parvis.domain.activitypub.vocabulary import wants_activity_json
from parvis.domain.errors import DomainError, Forbidden, NotFound, Unauthorized
from parvis.domain.ids import parse_id
from parvis.federation.discovery import error_response, json_response, read, runtime, write
from parvis.services import actors, e2e_federation, notes_federation, remote_actors
from parvis.services.context import Work
from parvis.services.fetching import FetchError

Build = Callable[[Work, int | None], JSON]


@dataclass(frozen=True)
class Requester:
    """Who fetches: an account proven by an HTTP signature, or nobody in particular."""

    account_id: int | None = None

    @property
    def signed(self) -> bool:
        return self.account_id is not None


UNSIGNED = Requester()


class ActivityRoute(Route):
    """A route that matches only requests asking for ActivityStreams JSON."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or not wants_activity_json(Headers(scope=scope).get("accept")):
            return Match.NONE, {}
        return super().matches(scope)


def _url(request: Request) -> str:
    """The URL the client signed: this server's public base URL, then the path and query as
    they were sent (still percent-encoded)."""
    base = runtime(request).settings.base_url
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{base}{path}" + (f"?{query}" if query else "")


async def _signer(request: Request, key_id: str) -> actors.Signer | None:
    """The signer of `key_id`: known here, or (authorized-fetch mode only, where nothing works
    without it) its actor fetched now, unless its server is suspended here."""
    rt = runtime(request)
    found = await read(request, lambda work: actors.signer(work, key_id))
    if found is not None or not rt.settings.authorized_fetch or rt.http is None:
        return found
    actor_uri = key_id.split("#", 1)[0]
    try:
        await anyio.to_thread.run_sync(lambda: remote_actors.fetch_actor(rt, actor_uri))
    except (FetchError, parse.Malformed, NotFound) as exc:
        raise httpsig.SignatureError(f"the key {key_id} could not be had: {exc}") from None
    return await read(request, lambda work: actors.signer(work, key_id))


async def requester(request: Request) -> Requester:
    """The account that signed this request, if it carries a valid signature by a key we
    know. A bad or unknown signature is anonymous, or 401 (Unauthorized) in authorized-fetch
    mode; a key of a suspended account or server is refused (403)."""
    headers = request.headers
    if "signature" not in headers and "signature-input" not in headers:
        return UNSIGNED
    rt = runtime(request)
    url = _url(request)
    try:
        info = httpsig.signature_key_id(request.method, url, headers)
        key = await _signer(request, info.key_id)
        if key is None:
            raise httpsig.SignatureError(f"unknown key {info.key_id}")
        if key.refused:
            raise Forbidden("This action is not allowed: this server or account is suspended here")
        httpsig.verify_request(
            request.method, url, headers, None, key.public_key_pem, now=rt.clock()
        )
    except httpsig.SignatureError as exc:
        if rt.settings.authorized_fetch:
            raise Unauthorized(f"Signature: {exc}") from exc
        return UNSIGNED
    return Requester(key.account_id)


def _cache(rt_authorized: bool, who: Requester) -> dict[str, str]:
    if rt_authorized or who.signed:
        return {"Cache-Control": "max-age=0, private", "Vary": "Accept, Signature"}
    return {"Cache-Control": "max-age=180, public", "Vary": "Accept"}


async def answer(
    request: Request,
    build: Build,
    *,
    html: str | None,
    unsigned: Build | None = None,
) -> Response:
    """Negotiate, authenticate, then build the document in a read unit. `html`: where a browser
    goes instead. `unsigned`: what an unsigned fetch gets in authorized-fetch mode (else 401).
    When an account has no key pair yet, it is made (write unit) and the read retried."""
    if html is not None and not wants_activity_json(request.headers.get("accept")):
        return RedirectResponse(html, status_code=302, headers={"Vary": "Accept"})
    rt = runtime(request)
    if not rt.settings.federation_enabled:
        return error_response(NotFound("Record not found"))
    authorized = rt.settings.authorized_fetch
    try:
        who = await requester(request)
        chosen = build
        if authorized and not who.signed:
            if unsigned is None:
                raise Unauthorized("Request not signed")
            chosen = unsigned
        try:
            doc = await read(request, lambda work: chosen(work, who.account_id))
        except actors.KeysMissing:
            name = request.path_params["username"]
            await write(
                request,
                lambda work: actors.ensure_keys(
                    work, actors.local_account_by_username(work, name).id
                ),
            )
            doc = await read(request, lambda work: chosen(work, who.account_id))
    except DomainError as exc:
        return error_response(exc)
    return json_response(doc, headers=_cache(authorized, who))


def _name(request: Request) -> str:
    return str(request.path_params["username"])[:64]


def _status_id(request: Request) -> int:
    found = parse_id(request.path_params["id"])
    if found is None:
        raise NotFound("Record not found")
    return found


def _page_id(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    return None if value is None else parse_id(value) or 0


# -- the instance actor ------------------------------------------------------------------------


async def instance_actor(request: Request) -> Response:
    settings = runtime(request).settings
    if not wants_activity_json(request.headers.get("accept")):
        return RedirectResponse("/about", status_code=302, headers={"Vary": "Accept"})
    if not settings.federation_enabled:
        return error_response(NotFound("Record not found"))
    return json_response(actors.instance_actor_document(settings), headers={"Vary": "Accept"})


async def instance_outbox(request: Request) -> Response:
    return json_response(actors.instance_outbox(runtime(request).settings))


# -- actors and their collections --------------------------------------------------------------


async def actor(request: Request) -> Response:
    name = _name(request)

    def full(work: Work, _viewer: int | None) -> JSON:
        return actors.actor_document(work, actors.local_account_by_username(work, name))

    def bare(work: Work, _viewer: int | None) -> JSON:
        return actors.bare_actor_document(work, actors.local_account_by_username(work, name))

    return await answer(request, full, html=f"/@{name}", unsigned=bare)


async def outbox(request: Request) -> Response:
    name = _name(request)
    paged = "page" in request.query_params
    max_id, min_id = _page_id(request, "max_id"), _page_id(request, "min_id")

    def build(work: Work, _viewer: int | None) -> JSON:
        account = actors.local_account_by_username(work, name)
        if paged:
            return actors.outbox_page(work, account, max_id=max_id, min_id=min_id)
        return actors.outbox(work, account)

    return await answer(request, build, html=f"/@{name}")


def _relations(kind: str) -> Callable[[Request], object]:
    async def endpoint(request: Request) -> Response:
        name = _name(request)
        paged = "page" in request.query_params
        max_id = _page_id(request, "max_id")

        def build(work: Work, _viewer: int | None) -> JSON:
            account = actors.local_account_by_username(work, name)
            if paged:
                return actors.relations_page(work, account, kind, max_id=max_id)
            return actors.relations(work, account, kind)

        return await answer(request, build, html=f"/@{name}/{kind}")

    return endpoint


async def featured(request: Request) -> Response:
    name = _name(request)

    def build(work: Work, _viewer: int | None) -> JSON:
        return actors.featured(work, actors.local_account_by_username(work, name))

    return await answer(request, build, html=f"/@{name}")


async def e2e_devices(request: Request) -> Response:
    """The account's active devices for encrypted messages (FEDERATION.md, "Encrypted
    messages"): public keys and their signatures only."""
    name = _name(request)

    def build(work: Work, _viewer: int | None) -> JSON:
        return e2e_federation.devices_collection(work, name)

    return await answer(request, build, html=f"/@{name}")


async def featured_tags(request: Request) -> Response:
    name = _name(request)

    def build(work: Work, _viewer: int | None) -> JSON:
        return actors.featured_tags(work, actors.local_account_by_username(work, name))

    return await answer(request, build, html=f"/@{name}")


# -- posts -------------------------------------------------------------------------------------


async def status(request: Request) -> Response:
    """The Note (or Question) of a post; a boost has none (its URI is `.../activity`)."""
    name = _name(request)
    try:
        sid = _status_id(request)
    except NotFound as exc:
        return error_response(exc)

    def build(work: Work, viewer: int | None) -> JSON:
        found = actors.fetchable_status(work, name, sid, viewer_id=viewer)
        if found.reblog is not None:
            raise NotFound("Record not found")
        return actors.note_document(work, found)

    return await answer(request, build, html=f"/@{name}/{sid}")


async def status_activity(request: Request) -> Response:
    """Create for a post, Announce for a boost."""
    name = _name(request)
    try:
        sid = _status_id(request)
    except NotFound as exc:
        return error_response(exc)

    def build(work: Work, viewer: int | None) -> JSON:
        found = actors.fetchable_status(work, name, sid, viewer_id=viewer)
        return actors.activity_for_status(work, found)

    return await answer(request, build, html=f"/@{name}/{sid}")


async def replies(request: Request) -> Response:
    name = _name(request)
    paged = "page" in request.query_params
    min_id = _page_id(request, "min_id")
    try:
        sid = _status_id(request)
    except NotFound as exc:
        return error_response(exc)

    def build(work: Work, viewer: int | None) -> JSON:
        found = actors.fetchable_status(work, name, sid, viewer_id=viewer)
        if found.reblog is not None:
            raise NotFound("Record not found")
        if paged:
            return actors.replies_page(work, found, min_id=min_id)
        return actors.replies(work, found)

    return await answer(request, build, html=f"/@{name}/{sid}")


def _counted(kind: str) -> Callable[[Request], object]:
    async def endpoint(request: Request) -> Response:
        name = _name(request)
        try:
            sid = _status_id(request)
        except NotFound as exc:
            return error_response(exc)

        def build(work: Work, viewer: int | None) -> JSON:
            found = actors.fetchable_status(work, name, sid, viewer_id=viewer)
            if found.reblog is not None:
                raise NotFound("Record not found")
            total = found.favourites_count if kind == "likes" else found.reblogs_count
            return actors.counted(f"{found.uri}/{kind}", total)

        return await answer(request, build, html=f"/@{name}/{sid}")

    return endpoint


async def quote_authorization(request: Request) -> Response:
    name = _name(request)
    try:
        sid = _status_id(request)
    except NotFound as exc:
        return error_response(exc)

    def build(work: Work, _viewer: int | None) -> JSON:
        return actors.quote_authorization_document(work, name, sid)

    return await answer(request, build, html=None)


# -- community notes (Parvis extension) ---------------------------------------------------------


async def community_note(request: Request) -> Response:
    """A note written here, as a CommunityNote, at its URI (`/notes/{id}`); ActivityPub
    requests only (an ActivityRoute): browsers go on to the web app's page. Only signed fetches
    (servers) are told who wrote it."""
    try:
        note_id = _status_id(request)
    except NotFound as exc:
        return error_response(exc)

    def build(work: Work, viewer: int | None) -> JSON:
        return notes_federation.note_document(work, note_id, signed=viewer is not None)

    return await answer(request, build, html=None)


routes: list[BaseRoute] = [
    Route("/actor", instance_actor, methods=["GET"]),
    Route("/actor/outbox", instance_outbox, methods=["GET"]),
    Route("/users/{username}", actor, methods=["GET"]),
    Route("/users/{username}/outbox", outbox, methods=["GET"]),
    Route("/users/{username}/followers", _relations("followers"), methods=["GET"]),
    Route("/users/{username}/following", _relations("following"), methods=["GET"]),
    Route("/users/{username}/collections/featured", featured, methods=["GET"]),
    Route("/users/{username}/collections/tags", featured_tags, methods=["GET"]),
    Route("/users/{username}/collections/e2e_devices", e2e_devices, methods=["GET"]),
    Route("/users/{username}/statuses/{id}", status, methods=["GET"]),
    Route("/users/{username}/statuses/{id}/activity", status_activity, methods=["GET"]),
    Route("/users/{username}/statuses/{id}/replies", replies, methods=["GET"]),
    Route("/users/{username}/statuses/{id}/likes", _counted("likes"), methods=["GET"]),
    Route("/users/{username}/statuses/{id}/shares", _counted("shares"), methods=["GET"]),
    Route("/users/{username}/quote_authorizations/{id}", quote_authorization, methods=["GET"]),
    # JSON at the web addresses too, for ActivityPub requests only (see the module docstring).
    ActivityRoute("/@{username}", actor, methods=["GET"]),
    ActivityRoute("/@{username}/{id}", status, methods=["GET"]),
    ActivityRoute("/notes/{id}", community_note, methods=["GET"]),
]
