"""/api/v1/domain_blocks: a user's blocked remote servers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response
from parvis.api.pagination import AccountPageDep, link_header
from parvis.api.params import body_schema, read_params, validate
from parvis.services import domain_blocks
from parvis.services.context import Work

router = APIRouter(tags=["domain_blocks"], responses=ERRORS)


class DomainForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    domain: str = Field(..., min_length=1, max_length=300)


@router.get("/api/v1/domain_blocks", response_model=list[str])
def index(
    request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: AccountPageDep
) -> Response:
    def run(work: Work) -> tuple[list[str], dict[str, str]]:
        me = auth.user(work, token, "read:blocks")
        rows = work.store.social.domain_block_page(me.account_id, **page.kw())
        if page.min_id is not None:
            rows.reverse()
        first, last = (rows[0][0], rows[-1][0]) if rows else (None, None)
        return [d for _, d in rows], link_header(request, first, last)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


def _change(blocking: bool) -> Any:
    async def endpoint(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
        form = validate(DomainForm, await read_params(request))

        def run(work: Work) -> dict[str, Any]:
            me = auth.user(work, token, "write:blocks")
            if blocking:
                domain_blocks.block(work, me.account_id, form.domain)
            else:
                domain_blocks.unblock(work, me.account_id, form.domain)
            return {}

        return json_response(await in_thread(rt.write, run))

    return endpoint


for _method, _blocking in (("POST", True), ("DELETE", False)):
    router.add_api_route(
        "/api/v1/domain_blocks",
        _change(_blocking),
        methods=[_method],
        response_model=schemas.Empty,
        name=f"domain_blocks_{_method.lower()}",
        openapi_extra=body_schema(DomainForm),
    )
