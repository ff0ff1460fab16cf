"""/api/v1/media and /api/v2/media: upload images, poll their processing, describe them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, take_files, validate
from parvis.api.serializers import media_json
from parvis.domain.models import Media
from parvis.jobs.runtime import Runtime
from parvis.services import media
from parvis.services.context import Work

router = APIRouter(
    tags=["media"],
    responses={**ERRORS, 400: {"model": schemas.Error, "description": "Malformed body"}},
)
SCOPE = "write:media"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif")


_NUMBER = r"\s*[-+]?(?:0(?:\.[0-9]*)?|1(?:\.0*)?|\.[0-9]+)\s*"
FOCUS_PATTERN = f"^(?:\\s*|{_NUMBER},{_NUMBER})$"
FOCUS_HELP = "Focal point: two numbers between -1 and 1, as 'x,y'."


class MediaFields(BaseModel):
    """What an upload or an update may say about the image (validated)."""

    model_config = ConfigDict(extra="ignore")
    description: str | None = Field(None, max_length=media.MAX_DESCRIPTION)
    focus: str | None = Field(None, max_length=64)  # the service checks it, with a clear message


class MediaUpdateBody(BaseModel):
    """The body of PUT /api/v1/media/{id} (documentation)."""

    description: str = Field(
        None,
        max_length=media.MAX_DESCRIPTION,  # type: ignore[assignment]
        description="Alternative text, for accessibility.",
    )
    focus: str = Field(
        None,
        max_length=64,
        pattern=FOCUS_PATTERN,  # type: ignore[assignment]
        description=FOCUS_HELP,
    )


class MediaUploadBody(MediaUpdateBody):
    """The multipart body of an upload (documentation: the file is read separately)."""

    file: bytes = Field(
        ...,
        description="The image (JPEG, PNG, WebP, GIF or HEIC; no video). Every byte of "
        "metadata is removed: EXIF, GPS, XMP, IPTC, ICC profile, comments, text chunks.",
    )


def _upload_body() -> dict[str, Any]:
    """openapi_extra for uploads: a required multipart body whose `file` is an image."""
    extra = body_schema(MediaUploadBody, multipart=True)
    extra["requestBody"]["required"] = True
    extra["requestBody"]["content"]["multipart/form-data"]["encoding"] = {
        "file": {"contentType": ", ".join(IMAGE_TYPES)}
    }
    return extra


async def _read_upload(request: Request) -> tuple[bytes, MediaFields]:
    data = await read_params(request, include_query=False)  # files arrive read and closed
    if "file" not in data:
        raise ApiError(422, "Validation failed: file: an uploaded file is required")
    blob = take_files(data, ("file",))["file"]
    data.pop("thumbnail", None)  # custom thumbnails are not supported; ignored
    return blob, validate(MediaFields, data)


async def _authenticated_first(rt: Runtime, token: auth.Token, refused: ApiError) -> ApiError:
    """A request refused before its unit of work: answer 401/403 rather than 4xx when the
    token is also bad, as Mastodon (which authenticates first) does."""
    await in_thread(rt.read, lambda work: auth.user(work, token, SCOPE))
    return refused


async def _upload(request: Request, rt: Runtime, token: auth.Token, *, allow_async: bool) -> Media:
    try:
        blob, form = await _read_upload(request)
    except ApiError as exc:
        raise await _authenticated_first(rt, token, exc) from None

    def run(work: Work) -> Media:
        me = auth.user(work, token, SCOPE)
        return media.upload(
            work,
            rt.files,
            me.account_id,
            media.Upload(data=blob, description=form.description, focus=form.focus),
            allow_async=allow_async,
        )

    return await in_thread(rt.write, run)


@router.post(
    "/api/v2/media",
    response_model=schemas.MediaAttachment,
    responses={
        202: {
            "model": schemas.MediaAttachment,
            "description": "Accepted: processing; poll GET /api/v1/media/{id}",
        }
    },
    openapi_extra=_upload_body(),
)
async def upload_v2(request: Request, rt: RuntimeDep, token: TokenDep) -> Response:
    """Upload an image; small ones are processed at once (200), large ones later (202)."""
    up = await _upload(request, rt, token, allow_async=True)
    return json_response(media_json(up, rt.settings), status=202 if up.state == "pending" else 200)


@router.post(
    "/api/v1/media",
    response_model=schemas.MediaAttachment,
    deprecated=True,
    openapi_extra=_upload_body(),
)
async def upload_v1(request: Request, rt: RuntimeDep, token: TokenDep) -> Response:
    """Upload an image and wait for it to be processed."""
    up = await _upload(request, rt, token, allow_async=False)
    return json_response(media_json(up, rt.settings))


@router.get(
    "/api/v1/media/{id}",
    response_model=schemas.MediaAttachment,
    responses={
        206: {"model": schemas.MediaAttachment, "description": "Still processing"},
        422: {"model": schemas.Error, "description": "Processing failed"},
    },
)
def get_media(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> Media:
        me = auth.user(work, token, SCOPE)
        return media.own_media(work, me.account_id, path_id(id))

    found = rt.read(run)
    if found.state == "failed":
        raise ApiError(422, found.error or "Error processing the uploaded media")
    return json_response(
        media_json(found, rt.settings), status=206 if found.state == "pending" else 200
    )


@router.put(
    "/api/v1/media/{id}",
    response_model=schemas.MediaAttachment,
    openapi_extra=body_schema(MediaUpdateBody),
)
async def update_media(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    try:
        data = await read_params(request, include_query=False)
        data.pop("thumbnail", None)  # custom thumbnails are not supported; ignored
        form = validate(MediaFields, data)
    except ApiError as exc:
        raise await _authenticated_first(rt, token, exc) from None

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, SCOPE)
        updated = media.update_media(work, me.account_id, path_id(id), form.description, form.focus)
        return media_json(updated, work.settings)

    return json_response(await in_thread(rt.write, run))
