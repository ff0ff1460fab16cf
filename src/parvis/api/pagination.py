"""Mastodon paging: `max_id`, `since_id`, `min_id`, `limit`, and the `Link` header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request

from parvis.api.errors import ApiError
from parvis.domain.ids import parse_id
from parvis.services.timelines import Paging


def paging(
    max_id: str | None,
    since_id: str | None,
    min_id: str | None,
    limit: int | None,
    *,
    default: int = 20,
    maximum: int = 40,
) -> Paging:
    def cursor(name: str, value: str | None) -> int | None:
        if value is None or value == "":
            return None
        parsed = parse_id(value)
        if parsed is None:
            raise ApiError(422, f"Validation failed: {name} must be a numeric id")
        return parsed

    size = default if limit is None else max(1, min(limit, maximum))
    return Paging(
        cursor("max_id", max_id), cursor("since_id", since_id), cursor("min_id", min_id), size
    )


Cursor = Annotated[str | None, Query(pattern=r"^(?:[1-9][0-9]{0,17})?$", description="A status id")]
Limit = Annotated[int | None, Query(ge=1, le=10_000)]


def page_of(default: int, maximum: int) -> Callable[..., Paging]:
    """A dependency reading Mastodon's paging parameters, with this endpoint's page sizes."""

    def read(
        max_id: Cursor = None, since_id: Cursor = None, min_id: Cursor = None, limit: Limit = None
    ) -> Paging:
        return paging(max_id, since_id, min_id, limit, default=default, maximum=maximum)

    return read


PageDep = Annotated[Paging, Depends(page_of(20, 40))]  # statuses
AccountPageDep = Annotated[Paging, Depends(page_of(40, 80))]  # accounts, notifications


def link_header(request: Request, first_id: int | None, last_id: int | None) -> dict[str, str]:
    if first_id is None or last_id is None:
        return {}
    # Every other parameter carries over, repeated ones (any[]=a&any[]=b) included.
    params = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in ("max_id", "min_id", "since_id")
    ]
    base = str(request.url.replace(query=""))
    nxt = f"{base}?{urlencode([*params, ('max_id', str(last_id))])}"
    prev = f"{base}?{urlencode([*params, ('min_id', str(first_id))])}"
    return {"Link": f'<{nxt}>; rel="next", <{prev}>; rel="prev"'}
