"""Settings: profile, preferences, password, blocks and mutes, sessions and authorized apps, and
the export of one's data. Each section is its own page with plain forms (post, then redirect
with `?saved=1`); a refused form is shown again with the message."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Any

import anyio.to_thread
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from parvis.domain.errors import DomainError, InvalidMedia
from parvis.domain.ids import parse_id
from parvis.domain.models import Account
from parvis.services import accounts, authorizations, export, media, network_addresses, social
from parvis.services.context import Work
from parvis.storage.account_ips import AddressRow
from parvis.web import i18n, security
from parvis.web.pages import (
    LANG_COOKIE,
    YEAR,
    Visitor,
    error_message,
    form,
    read,
    redirect,
    render,
    runtime,
    text,
    visitor,
    write,
)
from parvis.web.views import deletion

MAX_FIELDS = accounts.MAX_FIELDS
EXPORT_SPOOL = 16 * 1024**2  # an export larger than this is spooled to a temporary file
EXPORT_CHUNK = 256 * 1024
PEOPLE_LIMIT = 200


async def _signed_in(request: Request) -> Visitor | None:
    who = await visitor(request)
    return who if who.signed_in else None


def _login() -> Response:
    return redirect("/login?next=/settings")


def _page(request: Request, who: Visitor, section: str, *, code: int = 200, **ctx: Any) -> Response:
    return render(
        request,
        who,
        f"settings_{section}.html",
        code=code,
        section=section,
        saved=request.query_params.get("saved") == "1",
        error=ctx.pop("error", None),
        **ctx,
    )


async def index(request: Request) -> Response:
    return redirect("/settings/profile")


# -- profile -------------------------------------------------------------------------------


async def profile_page(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account is None:
        return _login()
    return _page(request, who, "profile", values=_profile_values(who.account))


def _profile_values(account: Account) -> dict[str, Any]:
    fields = [(f.name, f.value) for f in account.fields]
    fields += [("", "")] * (MAX_FIELDS - len(fields))
    return {
        "display_name": account.display_name,
        "note": account.note,
        "fields": fields[:MAX_FIELDS],
        "locked": account.locked,
        "bot": account.bot,
    }


async def _file(data: FormData, name: str, limit: int) -> bytes | None:
    """An uploaded file's bytes (None when no file was chosen); at most limit + 1 bytes are
    read, so that the size check can refuse it."""
    upload = data.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    blob = await upload.read(limit + 1)
    return blob or None


async def profile(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login()
    data = await form(request)
    fields = [
        (text(data, f"field_name_{i}", limit=255), text(data, f"field_value_{i}", limit=255))
        for i in range(MAX_FIELDS)
    ]
    values = {
        "display_name": text(data, "display_name", limit=100),
        "note": text(data, "note", limit=2000),
        "fields": fields,
        "locked": data.get("locked") == "on",
        "bot": data.get("bot") == "on",
    }
    limit = runtime(request).settings.max_upload_bytes
    blobs = {slot: await _file(data, slot, limit) for slot in ("avatar", "header")}
    await data.close()  # the uploads' temporary files
    files, account_id = runtime(request).files, who.account_id

    def run(work: Work) -> None:
        media_ids: dict[str, int | None] = {"avatar": None, "header": None}
        for slot, blob in blobs.items():
            if blob is None:
                continue
            try:
                up = media.upload(
                    work, files, account_id, media.Upload(data=blob), allow_async=False
                )
            except InvalidMedia as exc:
                raise InvalidMedia(f"{slot}: {error_message(exc)}") from exc
            media_ids[slot] = up.id
        upd = accounts.ProfileUpdate(
            display_name=str(values["display_name"]),
            note=str(values["note"]),
            locked=bool(values["locked"]),
            bot=bool(values["bot"]),
            fields=fields,
            avatar_media_id=media_ids["avatar"],
            header_media_id=media_ids["header"],
        )
        accounts.update_profile(work, account_id, upd)

    try:
        await write(request, run)
    except DomainError as exc:
        return _page(
            request, who, "profile", code=exc.status, error=error_message(exc), values=values
        )
    return redirect("/settings/profile?saved=1")


# -- preferences ---------------------------------------------------------------------------

VISIBILITIES = ("public", "unlisted", "private")


async def preferences_page(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account is None or who.user is None:
        return _login()
    values = {
        "default_visibility": who.user.default_visibility.value,
        "default_language": who.user.default_language or "",
        "locale": who.user.locale,
        "discoverable": who.account.discoverable,
        "indexable": who.account.indexable,
        "hide_collections": who.account.hide_collections,
    }
    return _page(request, who, "preferences", values=values, visibilities=VISIBILITIES)


async def preferences(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login()
    data = await form(request)
    values: dict[str, Any] = {
        "default_visibility": text(data, "default_visibility", limit=16),
        "default_language": text(data, "default_language", limit=16).strip().lower(),
        "locale": text(data, "locale", limit=16),
        "discoverable": data.get("discoverable") == "on",
        "indexable": data.get("indexable") == "on",
        "hide_collections": data.get("hide_collections") == "on",
    }
    account_id = who.account_id
    locale = i18n.supported(values["locale"])

    def run(work: Work) -> None:
        upd = accounts.ProfileUpdate(
            default_visibility=values["default_visibility"],
            default_language=values["default_language"],
            discoverable=values["discoverable"],
            indexable=values["indexable"],
            hide_collections=values["hide_collections"],
        )
        accounts.update_profile(work, account_id, upd)
        if locale is not None:
            accounts.set_locale(work, account_id, locale)

    try:
        await write(request, run)
    except DomainError as exc:
        return _page(
            request,
            who,
            "preferences",
            code=exc.status,
            error=error_message(exc),
            values=values,
            visibilities=VISIBILITIES,
        )
    saved = "/settings/preferences?saved=1"
    if locale is not None and locale != who.locale and request.headers.get("hx-request") == "true":
        # The interface changes language: htmx would swap the body in place and keep the old
        # document's <html lang> and <head>, so ask it for a full load of the page instead.
        response: Response = Response(status_code=200, headers={"HX-Redirect": saved})
    else:
        response = redirect(saved)
    if locale is not None:
        response.set_cookie(LANG_COOKIE, locale, max_age=YEAR, httponly=True, samesite="lax")
    return response


# -- account: password ---------------------------------------------------------------------


async def account_page(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None:
        return _login()
    return _page(request, who, "account", **deletion.page_context(request))


async def password(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login()
    data = await form(request)
    current = text(data, "current_password", limit=1024)
    new = text(data, "new_password", limit=1024)
    confirm = text(data, "confirm_password", limit=1024)
    if new != confirm:
        return _page(
            request, who, "account", code=422, mismatch=True, **deletion.page_context(request)
        )
    account_id, keep = who.account_id, who.token

    def run(work: Work) -> int:
        return authorizations.change_password(work, account_id, current, new, keep_token=keep)

    try:
        await write(request, run)
    except DomainError as exc:
        return _page(
            request,
            who,
            "account",
            code=exc.status,
            error=error_message(exc),
            **deletion.page_context(request),
        )
    return redirect("/settings/account?saved=1")


# -- privacy: blocks and mutes -------------------------------------------------------------


@dataclass(frozen=True)
class People:
    blocked: list[Account]
    muted: list[Account]


async def privacy_page(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login()
    account_id = who.account_id

    def load(work: Work) -> People:
        def edges(kind: str) -> list[Account]:
            pairs = work.store.social.edge_page(
                kind,
                account_id=account_id,
                max_id=None,
                since_id=None,
                min_id=None,
                limit=PEOPLE_LIMIT,
            )
            found = work.store.accounts.get_many(a for _, a in pairs)
            return [found[a] for _, a in pairs if a in found]

        return People(edges("blocks"), edges("mutes"))

    people = await read(request, load)
    return _page(request, who, "privacy", people=people)


async def undo(request: Request) -> Response:
    """Unblock or unmute someone (from the privacy page)."""
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login()
    await form(request)
    action = {"unblock": social.unblock, "unmute": social.unmute}.get(request.path_params["action"])
    target = parse_id(request.path_params["id"])
    if action is None or target is None:
        return render(request, who, "not_found.html", code=404)
    account_id = who.account_id
    try:
        await write(request, lambda work: action(work, account_id, target))
    except DomainError as exc:
        return render(request, who, "error.html", code=exc.status, error=error_message(exc))
    return redirect("/settings/privacy?saved=1")


# -- sessions and authorized apps ----------------------------------------------------------


async def sessions_page(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login()
    account_id, token = who.account_id, who.token

    def load(work: Work) -> tuple[authorizations.Authorizations, list[AddressRow]]:
        found = authorizations.of_account(work, account_id, token)
        return found, network_addresses.own(work, account_id)

    found, addresses = await read(request, load)
    return _page(request, who, "sessions", found=found, addresses=addresses)


async def revoke(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login()
    await form(request)
    kind = request.path_params["kind"]
    target = parse_id(request.path_params["id"])
    if kind not in ("sessions", "apps") or target is None:
        return render(request, who, "not_found.html", code=404)
    account_id = who.account_id

    def run(work: Work) -> None:
        if kind == "sessions":
            authorizations.revoke_session(work, account_id, target)
        else:
            authorizations.revoke_app(work, account_id, target)

    try:
        await write(request, run)
    except DomainError as exc:
        return render(request, who, "error.html", code=exc.status, error=error_message(exc))
    return redirect("/settings/sessions?saved=1")


# -- export --------------------------------------------------------------------------------


async def export_page(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None:
        return _login()
    response = _page(request, who, "export")
    # Its "download my messages" button decrypts in the browser, with libsodium (WebAssembly).
    response.headers["Content-Security-Policy"] = security.CSP_WASM
    return response


async def export_archive(request: Request) -> Response:
    """The archive itself (a GET: it changes nothing; the session cookie is SameSite=Lax)."""
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login()
    account_id, files = who.account_id, runtime(request).files

    def run(work: Work) -> tuple[IO[bytes], str]:
        # Written into a temporary file (on disk past EXPORT_SPOOL bytes) and sent from it: an
        # archive with its media files is never held whole in memory.
        spool = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL)  # noqa: SIM115
        try:
            export.write_archive(work, account_id, spool, files)
        except BaseException:
            spool.close()
            raise
        return spool, export.filename(work, account_id)

    spool, name = await read(request, run)
    size = spool.tell()
    spool.seek(0)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await anyio.to_thread.run_sync(spool.read, EXPORT_CHUNK):
                yield chunk
        finally:
            spool.close()

    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(size),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


routes = [
    Route("/settings", index, methods=["GET"]),
    Route("/settings/profile", profile_page, methods=["GET"]),
    Route("/settings/profile", profile, methods=["POST"]),
    Route("/settings/preferences", preferences_page, methods=["GET"]),
    Route("/settings/preferences", preferences, methods=["POST"]),
    Route("/settings/account", account_page, methods=["GET"]),
    Route("/settings/password", password, methods=["POST"]),
    Route("/settings/privacy", privacy_page, methods=["GET"]),
    Route("/settings/privacy/{action}/{id}", undo, methods=["POST"]),
    Route("/settings/sessions", sessions_page, methods=["GET"]),
    Route("/settings/{kind}/{id}/revoke", revoke, methods=["POST"]),
    Route("/settings/export", export_page, methods=["GET"]),
    Route("/settings/export/archive", export_archive, methods=["GET"]),
]
