"""Settings → Import and Settings → Moving: bring one's follows, blocks, mutes, blocked domains,
bookmarks and lists in from CSV files (Mastodon's formats), re-create one's posts from an
archive, and move an account (aliases, then the move itself, password confirmed).

Accounts of other servers are looked up on the network (WebFinger, then their actor) before the
unit of work that applies the import or the move, never inside it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import anyio.to_thread
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parvis.domain.errors import DomainError, Invalid
from parvis.domain.models import Account
from parvis.jobs.runtime import Runtime
from parvis.services import archive, imports, migration, remote_actors
from parvis.services.context import Work
from parvis.services.fetching import FetchError
from parvis.storage.portability import Alias
from parvis.web.pages import (
    CsrfRefused,
    Visitor,
    error_message,
    form,
    read,
    render,
    runtime,
    text,
    visitor,
    write,
)
from parvis.web.pages import redirect as see_other

MAX_LOOKUPS = 100  # accounts of other servers looked up per import
LOOKUP_THREADS = 8
MAX_ARCHIVE_UPLOAD = 2 * 1024**3


async def _signed_in(request: Request) -> Visitor | None:
    who = await visitor(request)
    return who if who.signed_in and who.account_id is not None else None


def _login(path: str) -> Response:
    return see_other(f"/login?next={path}")


def _page(request: Request, who: Visitor, section: str, *, code: int = 200, **ctx: Any) -> Response:
    ctx.setdefault("error", None)
    return render(
        request,
        who,
        f"settings_{section}.html",
        code=code,
        section=section,
        saved=request.query_params.get("saved") == "1",
        **ctx,
    )


async def _form(request: Request) -> FormData:
    """The form after its CSRF check; a refused one's uploaded files are closed first (their
    temporary files would otherwise linger until garbage collection)."""
    try:
        return await form(request)
    except CsrfRefused:
        await (await request.form()).close()
        raise


async def _upload(data: FormData, name: str, limit: int) -> bytes | None:
    """An uploaded file's bytes (None when no file was chosen); at most limit + 1 bytes are
    read, so that the size check refuses a larger one."""
    upload = data.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await upload.read(limit + 1) or None


def _lookup(rt: Runtime, addresses: list[str]) -> dict[str, int]:
    """Accounts of other servers, found through WebFinger (a few at a time)."""
    if rt.http is None or not addresses:
        return {}

    def one(address: str) -> tuple[str, int | None]:
        account = remote_actors.resolve_acct(rt, address)
        return address, account.id if account is not None else None

    with ThreadPoolExecutor(max_workers=LOOKUP_THREADS) as pool:
        return {a: i for a, i in pool.map(one, addresses) if i is not None}


# -- import ------------------------------------------------------------------------------


def _import_page(request: Request, who: Visitor, *, code: int = 200, **ctx: Any) -> Response:
    ctx.setdefault("kind", "following")
    ctx.setdefault("mode", "merge")
    return _page(
        request,
        who,
        "import",
        code=code,
        kinds=imports.KINDS,
        max_rows=imports.MAX_ROWS,
        max_mib=imports.MAX_BYTES // (1024 * 1024),
        **ctx,
    )


async def import_page(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None:
        return _login("/settings/import")
    return _import_page(request, who)


async def import_csv(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login("/settings/import")
    data = await _form(request)
    kind = text(data, "type", limit=32)
    mode = text(data, "mode", limit=16) or "merge"
    try:
        blob = await _upload(data, "file", imports.MAX_BYTES)
    finally:
        await data.close()
    account_id = who.account_id
    try:
        if blob is None:
            raise Invalid("Validation failed: file: choose a file")
        if mode not in imports.MODES:
            raise Invalid("Validation failed: mode: one of merge, overwrite")
        parsed = await anyio.to_thread.run_sync(lambda: imports.parse(kind, blob))
        remote = await read(request, lambda work: imports.unknown_addresses(work, parsed))
        found = await anyio.to_thread.run_sync(_lookup, runtime(request), remote[:MAX_LOOKUPS])
        later = remote[MAX_LOOKUPS:]

        def run(work: Work) -> imports.Report:
            return imports.apply(
                work, account_id, parsed, mode, resolve=found.get, not_looked_up=later
            )

        report = await write(request, run)
        report.skipped = [  # a service's refusal, in the visitor's language
            replace(s, detail=error_message(DomainError(s.detail))) if s.detail else s
            for s in report.skipped
        ]
    except DomainError as exc:
        return _import_page(
            request, who, code=exc.status, error=error_message(exc), kind=kind, mode=mode
        )
    return _import_page(request, who, report=report, kind=kind, mode=mode)


async def import_archive(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login("/settings/import")
    data = await _form(request)
    account_id, files = who.account_id, runtime(request).files
    try:
        upload = data.get("archive")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid("Validation failed: file: choose a file")
        if upload.size is not None and upload.size > MAX_ARCHIVE_UPLOAD:
            raise Invalid("Validation failed: file: the archive is too large")
        source = upload.file
        found = await write(
            request, lambda work: archive.import_archive(work, files, account_id, source)
        )
    except DomainError as exc:
        return _import_page(request, who, code=exc.status, error=error_message(exc))
    finally:
        await data.close()
    return _import_page(request, who, archive_report=found)


# -- moving ------------------------------------------------------------------------------


def _moving(work: Work, account_id: int) -> dict[str, Any]:
    return {
        "aliases": migration.aliases(work, account_id),
        "moved_to": migration.moved_to(work, account_id),
    }


async def _moving_page(request: Request, who: Visitor, *, code: int = 200, **ctx: Any) -> Response:
    assert who.account_id is not None
    account_id = who.account_id
    shown = await read(request, lambda work: _moving(work, account_id))
    return _page(request, who, "moving", code=code, **shown, **ctx)


async def moving_page(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None:
        return _login("/settings/moving")
    return await _moving_page(request, who)


def _is_remote(settings_domain: str, address: str) -> bool:
    _, _, domain = address.strip().lstrip("@").partition("@")
    return bool(domain) and domain.lower() != settings_domain.lower()


async def _find_remote(request: Request, address: str) -> Account | None:
    """The account of a `user@domain` of another server, fetched afresh (its alsoKnownAs is
    what a move checks). None without a network, or when it cannot be found."""
    rt = runtime(request)
    if rt.http is None or not _is_remote(rt.settings.domain, address):
        return None

    def fetch() -> Account | None:
        account = remote_actors.resolve_acct(rt, address.strip().lstrip("@"))
        if account is None:
            return None
        return remote_actors.fetch_actor(rt, account.uri, refresh=True)

    try:
        return await anyio.to_thread.run_sync(fetch)
    except (DomainError, FetchError):  # the remote server failed us (or said nonsense)
        return None


async def add_alias(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login("/settings/moving")
    data = await _form(request)
    value = text(data, "alias", limit=2048).strip()
    account_id = who.account_id
    try:
        remote = await _find_remote(request, value)

        def run(work: Work) -> Alias:
            found = (lambda _a: remote.id) if remote is not None else None
            return migration.add_alias(work, account_id, value, resolve=found)

        await write(request, run)
    except DomainError as exc:
        return await _moving_page(
            request, who, code=exc.status, error=error_message(exc), alias=value
        )
    return see_other("/settings/moving?saved=1")


async def remove_alias(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login("/settings/moving")
    data = await _form(request)
    uri = text(data, "uri", limit=2048)
    account_id = who.account_id
    try:
        await write(request, lambda work: migration.remove_alias(work, account_id, uri))
    except DomainError as exc:
        return await _moving_page(request, who, code=exc.status, error=error_message(exc))
    return see_other("/settings/moving?saved=1")


async def move(request: Request) -> Response:
    who = await _signed_in(request)
    if who is None or who.account_id is None:
        return _login("/settings/moving")
    data = await _form(request)
    target = text(data, "target", limit=2048).strip()
    password = text(data, "password", limit=1024)
    account_id = who.account_id
    try:
        await read(request, lambda work: migration.confirm_password(work, account_id, password))
        remote = await _find_remote(request, target)

        def run(work: Work) -> tuple[int, Account]:
            found = work.store.accounts.get(remote.id) if remote is not None else None
            found = found or migration.find_account(work, target)
            if found is None:
                raise Invalid("Validation failed: target: no such account was found")
            return migration.move_to(work, account_id, found.id), found

        moved, new = await write(request, run)
    except DomainError as exc:
        return await _moving_page(
            request, who, code=exc.status, error=error_message(exc), target=target
        )
    return await _moving_page(request, who, moved_count=moved, moved_now=new)


routes: list[BaseRoute] = [
    Route("/settings/import", import_page, methods=["GET"]),
    Route("/settings/import", import_csv, methods=["POST"]),
    Route("/settings/import/archive", import_archive, methods=["POST"]),
    Route("/settings/moving", moving_page, methods=["GET"]),
    Route("/settings/moving/aliases", add_alias, methods=["POST"]),
    Route("/settings/moving/aliases/remove", remove_alias, methods=["POST"]),
    Route("/settings/moving/move", move, methods=["POST"]),
]
