"""Endorsements (featured accounts): /api/v1/accounts/{id}/pin|unpin|endorse|unendorse,
/api/v1/endorsements and /api/v1/accounts/{id}/endorsements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response, path_id
from parvis.api.pagination import AccountPageDep, link_header
from parvis.api.serializers import account_json, relationship_json
from parvis.domain.models import Relationship
from parvis.services import accounts, endorsements
from parvis.services.context import Work
from parvis.services.timelines import Paging

router = APIRouter(tags=["accounts"], responses=ERRORS)


def _action(fn: Callable[[Work, int, int], Relationship]) -> Callable[..., Response]:
    def endpoint(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
        def run(work: Work) -> dict[str, Any]:
            me = auth.user(work, token, "write:accounts")
            return relationship_json(fn(work, me.account_id, path_id(id)))

        return json_response(rt.write(run))

    return endpoint


for _path, _fn in (
    ("/api/v1/accounts/{id}/pin", endorsements.endorse),
    ("/api/v1/accounts/{id}/unpin", endorsements.unendorse),
    ("/api/v1/accounts/{id}/endorse", endorsements.endorse),
    ("/api/v1/accounts/{id}/unendorse", endorsements.unendorse),
):
    router.add_api_route(
        _path, _action(_fn), methods=["POST"], response_model=schemas.Relationship, name=_path
    )


def _page(
    work: Work, request: Request, account_id: int, page: Paging
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    pairs = work.store.social.endorsement_page(account_id, **page.kw())
    if page.min_id is not None:
        pairs.reverse()
    found = work.store.accounts.get_many(a for _, a in pairs)
    body = [
        account_json(found[a], work.settings)
        for _, a in pairs
        if a in found and not found[a].suspended
    ]
    return body, link_header(
        request, pairs[0][0] if pairs else None, pairs[-1][0] if pairs else None
    )


@router.get("/api/v1/endorsements", response_model=list[schemas.Account])
def own(
    request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: AccountPageDep
) -> Response:
    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, "read:accounts")
        return _page(work, request, me.account_id, page)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.get("/api/v1/accounts/{id}/endorsements", response_model=list[schemas.Account])
def of_account(
    id: str, request: Request, rt: RuntimeDep, token: TokenDep, page: AccountPageDep
) -> Response:
    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.maybe_user(work, token, "read:accounts")
        account = accounts.get_account(work, path_id(id))
        if account.suspended or (
            account.hide_collections and (me is None or me.account_id != account.id)
        ):
            return [], {}
        return _page(work, request, account.id, page)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)
