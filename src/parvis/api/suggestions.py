"""/api/v1|v2/suggestions: accounts to follow, and why."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response, path_id
from parvis.api.serializers import account_json, suggestion_json
from parvis.services import suggestions
from parvis.services.context import Work

router = APIRouter(tags=["suggestions"], responses=ERRORS)
READ = "read"
WRITE = "read"  # Mastodon asks only `read` to dismiss a suggestion

Limit = Annotated[int | None, Query(ge=1, le=10_000, description="40 by default, at most 80.")]


def _size(limit: int | None) -> int:
    return 40 if limit is None else min(limit, suggestions.MAX)


@router.get("/api/v2/suggestions", response_model=list[schemas.Suggestion])
def suggestions_v2(rt: RuntimeDep, token: RequiredTokenDep, limit: Limit = None) -> Response:
    """Accounts followed by the people you follow, the most followed among them first
    (`parvis_reason.followed_by` names up to 3 of them); then the most followed local accounts."""
    size = _size(limit)

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, READ)
        return [
            suggestion_json(s, work.settings)
            for s in suggestions.suggest(work, me.account_id, size)
        ]

    return json_response(rt.read(run))


@router.get("/api/v1/suggestions", response_model=list[schemas.Account])
def suggestions_v1(rt: RuntimeDep, token: RequiredTokenDep, limit: Limit = None) -> Response:
    """The same suggestions, as plain accounts (Mastodon's v1 shape)."""
    size = _size(limit)

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, READ)
        found = suggestions.suggest(work, me.account_id, size)
        return [account_json(s.account, work.settings) for s in found]

    return json_response(rt.read(run))


@router.delete("/api/v1/suggestions/{account_id}", response_model=schemas.Empty)
def dismiss(account_id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Never suggest this account again."""

    def run(work: Work) -> None:
        me = auth.user(work, token, WRITE)
        suggestions.dismiss(work, me.account_id, path_id(account_id))

    rt.write(run)
    return json_response({})
