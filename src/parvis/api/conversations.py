"""/api/v1/conversations: the user's direct-message threads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response, path_id
from parvis.api.pagination import PageDep, link_header
from parvis.api.serializers import conversation_json
from parvis.services import conversations
from parvis.services.context import Work

router = APIRouter(tags=["conversations"], responses=ERRORS)
READ = "read:statuses"
WRITE = "write:conversations"


@router.get("/api/v1/conversations", response_model=list[schemas.Conversation])
def list_conversations(
    request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: PageDep
) -> Response:
    """Direct-message threads, the most recently active first; the cursors (`max_id`,
    `min_id`, `since_id`) are last-status ids, as in Mastodon. 20 by default, at most 40."""

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, READ)
        result = conversations.list_conversations(work, me.account_id, page)
        body = [
            conversation_json(c, result.flags, work.settings, me.account_id)
            for c in result.conversations
        ]
        return body, link_header(request, result.first_id, result.last_id)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.post("/api/v1/conversations/{id}/read", response_model=schemas.Conversation)
def mark_read(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Mark a conversation as read."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, WRITE)
        convo, flags = conversations.mark_read(work, me.account_id, path_id(id))
        return conversation_json(convo, flags, work.settings, me.account_id)

    return json_response(rt.write(run))


@router.delete("/api/v1/conversations/{id}", response_model=schemas.Empty)
def remove(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Remove a conversation from the list (its statuses stay; a new message brings it back)."""

    def run(work: Work) -> None:
        me = auth.user(work, token, WRITE)
        conversations.remove(work, me.account_id, path_id(id))

    rt.write(run)
    return json_response({})
