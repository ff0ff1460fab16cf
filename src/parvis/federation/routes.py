"""Every federation route, gathered for the composition root (mounted before the web routes:
`/@name` answers ActivityPub requests with JSON and browsers with the web page)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from parvis.federation import discovery, inbox, objects


def federation_routes() -> list[BaseRoute]:
    return [*discovery.routes, *inbox.routes, *objects.routes]
