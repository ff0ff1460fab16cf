"""Reading request parameters the way Mastodon does: query string, form (urlencoded or
multipart) or JSON body, with `key[]` arrays and `a[b]` nesting; then validating them into a
pydantic model, with a 422 and a readable message on failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from parvis.api.errors import ApiError

M = TypeVar("M", bound=BaseModel)
MAX_BODY = 40 * 1024 * 1024
MAX_FILE = 40 * 1024 * 1024


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """`a[]` -> list, `a[b]` -> nested dict, `a[0][b]` -> dict keyed by index."""
    if "[" not in key or not key.endswith("]"):
        target[key] = value
        return
    head, _, rest = key.partition("[")
    inner, _, tail = rest.partition("]")
    if inner == "" and tail == "":
        current = target.setdefault(head, [])
        if not isinstance(current, list):
            current = target[head] = [current]
        current.append(value)
        return
    sub = target.setdefault(head, {})
    if not isinstance(sub, dict):
        sub = target[head] = {}
    _put(sub, inner + tail, value)


def _from_pairs(pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        _put(out, _clean(key), _clean(value))
    return out


def _clean(value: Any) -> Any:
    """NUL is never meaningful in text and PostgreSQL cannot store it: drop it everywhere."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


async def read_params(request: Request, *, include_query: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = _from_pairs(request.query_params.multi_items()) if include_query else {}
    if request.method in ("GET", "HEAD"):
        return data
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ApiError(413, "Request body is too large")
        if raw.strip():
            try:
                parsed = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise ApiError(400, f"Malformed JSON body: {exc}") from None
            if not isinstance(parsed, dict):
                raise ApiError(422, "Validation failed: the JSON body must be an object")
            data.update(_clean(parsed))
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form(max_files=8, max_fields=1000)
        except Exception as exc:  # multipart parser errors carry no common base class
            raise ApiError(400, f"Malformed form body: {exc}") from None
        try:
            pairs = [
                (k, await _slurp(v, _file_limit(request)) if isinstance(v, UploadFile) else v)
                for k, v in form.multi_items()
            ]
        finally:
            await form.close()  # every temporary file, whatever the endpoint does next
        data.update(_from_pairs(pairs))
    return data


@dataclass(frozen=True)
class UploadedFile:
    """An uploaded file, read into memory (at most the upload limit + 1 byte)."""

    filename: str | None
    content_type: str | None
    data: bytes


def _file_limit(request: Request) -> int:
    runtime = getattr(request.app.state, "runtime", None)
    return int(runtime.settings.max_upload_bytes) if runtime is not None else MAX_FILE


async def _slurp(upload: UploadFile, limit: int) -> UploadedFile:
    # One byte over the limit is kept so that the size check downstream can say "too large".
    return UploadedFile(upload.filename, upload.content_type, await upload.read(limit + 1))


def validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        raise ApiError(422, "Validation failed: " + "; ".join(parts)) from None


def body_schema(model: type[BaseModel], *, multipart: bool = False) -> dict[str, Any]:
    """openapi_extra documenting that an operation takes `model` as JSON or as a form."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    content = {"application/json": {"schema": schema}}
    if multipart:
        content = {"multipart/form-data": {"schema": schema}}
    else:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"requestBody": {"content": content, "required": False}}


def take_files(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, bytes]:
    """Pop the named uploaded files out of `data`; a 422 when a field holds something else."""
    out: dict[str, bytes] = {}
    for name in names:
        if name not in data:
            continue
        value = data.pop(name)
        if not isinstance(value, UploadedFile):
            raise ApiError(
                422, f"Validation failed: {name} must be an uploaded file (multipart/form-data)"
            )
        out[name] = value.data
    return out
