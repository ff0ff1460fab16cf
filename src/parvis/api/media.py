"""/api/v1/media and /api/v2/media: upload images, poll their processing, describe them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import media_json
from parvis.domain.models import Media
from parvis.jobs.runtime import Runtime
from parvis.services import media
from parvis.services.context import Work

router = APIRouter(tags=["media"], responses=ERRORS)
SCOPE = "write:media"


class MediaFields(BaseModel):
    model_config = ConfigDict(extra="ignore")
    description: str | None = Field(None, max_length=media.MAX_DESCRIPTION,
                                    description="Alternative text, for accessibility.")
    focus: str | None = Field(None, max_length=64,
                              description="Focal point: two numbers in [-1, 1], as 'x,y'.")


class MediaUpload(MediaFields):
    """The multipart body of an upload (documentation only: the file is read separately)."""

    file: bytes = Field(..., description="The image (JPEG, PNG, WebP or GIF).")


async def _read_upload(request: Request, rt: Runtime) -> tuple[bytes, MediaFields]:
    data = await read_params(request, include_query=False)
    file = data.pop("file", None)
    if file is None:
        raise ApiError(422, "Validation failed: file: an uploaded file is required")
    if not isinstance(file, UploadFile):
        raise ApiError(422, "Validation failed: file: must be an uploaded file, sent as "
                            "multipart/form-data")
    form = validate(MediaFields, data)
    try:
        # One byte over the limit is enough for the service to refuse it as too large.
        blob = await file.read(rt.settings.max_upload_bytes + 1)
    finally:
        await file.close()
    return blob, form


async def _upload(request: Request, rt: Runtime, token: auth.Token, *, allow_async: bool
                  ) -> Media:
    blob, form = await _read_upload(request, rt)

    def run(work: Work) -> Media:
        me = auth.user(work, token, SCOPE)
        return media.upload(work, rt.files, me.account_id,
                            media.Upload(data=blob, description=form.description,
                                         focus=form.focus),
                            allow_async=allow_async)

    return await in_thread(rt.write, run)


@router.post("/api/v2/media", response_model=schemas.MediaAttachment,
             responses={202: {"model": schemas.MediaAttachment,
                              "description": "Accepted: processing; poll GET /api/v1/media/{id}"}},
             openapi_extra=body_schema(MediaUpload, multipart=True))
async def upload_v2(request: Request, rt: RuntimeDep, token: TokenDep) -> Response:
    """Upload an image; small ones are processed at once (200), large ones later (202)."""
    up = await _upload(request, rt, token, allow_async=True)
    return json_response(media_json(up, rt.settings), status=202 if up.state == "pending" else 200)


@router.post("/api/v1/media", response_model=schemas.MediaAttachment, deprecated=True,
             openapi_extra=body_schema(MediaUpload, multipart=True))
async def upload_v1(request: Request, rt: RuntimeDep, token: TokenDep) -> Response:
    """Upload an image and wait for it to be processed."""
    up = await _upload(request, rt, token, allow_async=False)
    return json_response(media_json(up, rt.settings))


@router.get("/api/v1/media/{id}", response_model=schemas.MediaAttachment,
            responses={206: {"model": schemas.MediaAttachment,
                             "description": "Still processing"},
                       422: {"model": schemas.Error, "description": "Processing failed"}})
def get_media(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> Media:
        me = auth.user(work, token, SCOPE)
        return media.own_media(work, me.account_id, path_id(id))

    found = rt.read(run)
    if found.state == "failed":
        raise ApiError(422, found.error or "Error processing the uploaded media")
    return json_response(media_json(found, rt.settings),
                         status=206 if found.state == "pending" else 200)


@router.put("/api/v1/media/{id}", response_model=schemas.MediaAttachment,
            openapi_extra=body_schema(MediaFields, multipart=False))
async def update_media(id: str, request: Request, rt: RuntimeDep, token: TokenDep) -> Response:
    data = await read_params(request, include_query=False)
    data.pop("thumbnail", None)  # custom thumbnails are not supported; ignored
    form = validate(MediaFields, data)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, SCOPE)
        updated = media.update_media(work, me.account_id, path_id(id), form.description,
                                     form.focus)
        return media_json(updated, work.settings)

    return json_response(await in_thread(rt.write, run))
