"""Every federation route, gathered for the composition root."""

from __future__ import annotations

from starlette.routing import BaseRoute


def federation_routes() -> list[BaseRoute]:
    return []
