"""Shared pieces of every client-API route: the runtime, JSON responses, id parsing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from parvis.api import schemas
from parvis.api.errors import ApiError
from parvis.domain.ids import parse_id
from parvis.jobs.runtime import Runtime
from parvis.services.context import Work

T = TypeVar("T")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


def path_id(value: str) -> int:
    """An id from the path; unknown-shaped ids are simply not found, as in Mastodon."""
    parsed = parse_id(value)
    if parsed is None:
        raise ApiError(404, "Record not found")
    return parsed


def ids_param(values: list[str] | None, name: str = "id", maximum: int = 40) -> list[int]:
    out = []
    for v in (values or [])[:maximum]:
        parsed = parse_id(v)
        if parsed is None:
            raise ApiError(422, f"Validation failed: {name}[] must hold numeric ids")
        out.append(parsed)
    return out


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request body", "model": schemas.Error},
    401: {"description": "Missing or invalid token", "model": schemas.Error},
    403: {"description": "Outside the token's scopes", "model": schemas.Error},
    404: {"description": "Record not found", "model": schemas.Error},
    413: {"description": "Request body too large", "model": schemas.Error},
    422: {"description": "Validation failed", "model": schemas.Error},
}


async def in_thread(fn: Callable[[Callable[[Work], T]], T], use_case: Callable[[Work], T]) -> T:
    """Run one unit of work (`rt.read` or `rt.write`) in the thread pool: one hop per request."""
    return await run_in_threadpool(fn, use_case)
