"""The one place where domain errors become HTTP answers for the client API."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from parvis.domain.errors import DomainError, RateLimited, Unauthorized

log = logging.getLogger("parvis.api")


def error_response(
    status: int, message: str, description: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, str] = {"error": message}
    if description:
        body["error_description"] = description
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


class ApiError(Exception):
    """An HTTP error raised by the API edge itself (bad parameters, missing auth)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> Response:
        headers = None
        if isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": "60"}
        return error_response(exc.status, exc.message, headers=headers)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(
                str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")
            )
            parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        return error_response(422, "Validation failed: " + "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "Error"
        if exc.status_code == 404 and message == "Not Found":
            message = "Record not found"
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))
