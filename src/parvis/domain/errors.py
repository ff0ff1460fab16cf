"""Domain errors. Each edge maps these to its protocol in exactly one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: carries a human-readable message meant for the person who caused it."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """The input is not acceptable (validation failed)."""

    status = 422


class InvalidMedia(Invalid):
    """An uploaded file is not an image we accept, or could not be decoded."""


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Unauthorized(DomainError):
    status = 401


class Conflict(DomainError):
    status = 409


class RateLimited(DomainError):
    status = 429


class Gone(DomainError):
    status = 410
