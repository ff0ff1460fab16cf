"""/api/parvis/v1/e2e: end-to-end encrypted messages (issue 9; the protocol: docs/messaging.md).

Devices: `POST /devices` (publish a signed record), `GET /devices` (mine, labels and revoked
ones included), `DELETE /devices/{id}` (revoke), `GET /accounts/{id}/devices` (an account's
active devices). Conversations: `POST /conversations`, `GET /conversations`,
`GET /conversations/{id}`, `GET /conversations/{id}/devices` (what a message must be sealed
to). Messages: `POST /conversations/{id}/messages`, `GET /conversations/{id}/messages`
(history, Mastodon paging; `device_id`: the reading device, for its `history_key`s),
`GET /devices/{id}/inbox` and `POST /devices/{id}/inbox/ack`. History on a new device:
`POST /devices/{id}/history` (message keys re-sealed to it by another device of yours).

Reads need `read:statuses`, writes `write:conversations`, like Mastodon's conversations.
JSON bodies; binary values in standard base64, ids as decimal strings. The web app's pages call
these routes with the session cookie instead of a token (same-origin only, with the page's CSRF
token for writes: `auth.session_or_token`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import SessionOrTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.pagination import PageDep, link_header
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import account_json, ts
from parvis.config import Settings
from parvis.domain import messaging as e2e
from parvis.domain.ids import parse_id
from parvis.services import e2e_federation, messaging
from parvis.services.context import Work
from parvis.services.e2e_json import device_json, message_json
from parvis.services.messaging import ConversationView, MessagePage

router = APIRouter(tags=["e2e messages"], responses=ERRORS)
BASE = "/api/parvis/v1/e2e"
READ = "read:statuses"
WRITE = "write:conversations"
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Identity key already published", "model": schemas.Error}
}
Id = str | int  # ids are strings; a number is read too


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class DeviceOut(_Open):
    id: str
    account_id: str
    identity_key: str
    agreement_key: str
    created_at: int = Field(description="When the device signed its record (epoch seconds)")
    signature: str
    revoked_at: str | None


class ConversationOut(_Open):
    id: str
    created_at: str
    last_message_id: str | None
    participants: list[schemas.Account]


class ParticipantDevices(_Open):
    account: schemas.Account
    devices: list[DeviceOut]


class UnreachableDevice(_Open):
    account_id: str
    device_id: str
    error: str


class ConversationDevices(_Open):
    participants: list[ParticipantDevices]
    unreachable_devices: list[UnreachableDevice] = Field(
        default_factory=list,
        description="Devices of remote participants refused here (ask them to re-create them)",
    )


class SealedKey(_Open):
    device_id: str
    sealed_key: str


class MessageOut(_Open):
    id: str
    conversation_id: str
    sender_account_id: str
    sender_device_id: str
    created_at: str
    nonce: str
    ciphertext: str
    keys: list[SealedKey]
    signature: str
    sender_device: DeviceOut | None
    history_key: str | None = Field(
        None,
        description="The message key re-sealed to the reading device by another device of the "
        "account (History on a new device); open it when `keys` has none for this device",
    )


class Acknowledged(_Open):
    acknowledged: int


class HistoryGiven(_Open):
    stored: int


class DeviceForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    identity_key: str = Field(..., max_length=100, description="Ed25519 public key, base64")
    agreement_key: str = Field(..., max_length=100, description="X25519 public key, base64")
    created_at: int = Field(..., description="Seconds since the epoch, as signed")
    signature: str = Field(..., max_length=200, description="Ed25519 over the device record")
    label: str = Field("", max_length=200, description="Shown to you only")


class ConversationForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    participant_ids: list[Id] = Field(..., min_length=1, max_length=2 * e2e.MAX_PARTICIPANTS)


class KeyForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    device_id: Id
    sealed_key: str = Field(..., max_length=200)


class MessageForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sender_device_id: Id
    nonce: str = Field(..., max_length=100)
    ciphertext: str = Field(..., max_length=(e2e.MAX_CIPHERTEXT + 2) // 3 * 4)
    keys: list[KeyForm] = Field(..., max_length=e2e.MAX_KEYS)
    signature: str = Field(..., max_length=200)


class AckForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    up_to_id: Id


class HistoryKeyForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message_id: Id
    sealed_key: str = Field(..., max_length=200, description="The message key, sealed to it")


class HistoryForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    from_device_id: Id = Field(..., description="Your device that opened these messages")
    keys: list[HistoryKeyForm] = Field(..., max_length=e2e.MAX_HISTORY_KEYS)


# -- JSON --------------------------------------------------------------------------------------


def conversation_json(view: ConversationView, settings: Settings) -> dict[str, Any]:
    c = view.conversation
    return {
        "id": str(c.id),
        "created_at": ts(c.created_at),
        "last_message_id": str(c.activity_id) if c.activity_id != c.id else None,
        "participants": [account_json(a, settings) for a in view.participants],
    }


def _messages(page: MessagePage) -> list[dict[str, Any]]:
    return [
        message_json(m, page.devices.get(m.sender_device_id), page.history_keys.get(m.id))
        for m in page.messages
    ]


async def _form(request: Request) -> dict[str, Any]:
    return await read_params(request, include_query=False)


# -- devices -----------------------------------------------------------------------------------


@router.post(
    f"{BASE}/devices",
    response_model=DeviceOut,
    responses=CONFLICT,
    openapi_extra=body_schema(DeviceForm),
)
async def publish_device(request: Request, rt: RuntimeDep, token: SessionOrTokenDep) -> Response:
    """Publish this device's signed record (its public keys only); again: the same device."""
    form = validate(DeviceForm, await _form(request))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, WRITE)
        device = messaging.publish_device(
            work,
            me.account_id,
            identity_key=form.identity_key,
            agreement_key=form.agreement_key,
            created_at=form.created_at,
            signature=form.signature,
            label=form.label,
        )
        return device_json(device, own=True)

    return json_response(await in_thread(rt.write, run))


@router.get(f"{BASE}/devices", response_model=list[DeviceOut])
def my_devices(rt: RuntimeDep, token: SessionOrTokenDep) -> Response:
    """Your devices, oldest first, with their labels; revoked ones too."""

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, READ)
        return [device_json(d, own=True) for d in messaging.my_devices(work, me.account_id)]

    return json_response(rt.read(run))


@router.delete(f"{BASE}/devices/{{id}}", response_model=DeviceOut)
def revoke_device(id: str, rt: RuntimeDep, token: SessionOrTokenDep) -> Response:
    """Revoke one of your devices: it receives nothing more and its queue is dropped."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, WRITE)
        return device_json(messaging.revoke_device(work, me.account_id, path_id(id)), own=True)

    return json_response(rt.write(run))


@router.get(f"{BASE}/accounts/{{id}}/devices", response_model=list[DeviceOut])
def account_devices(id: str, rt: RuntimeDep, token: SessionOrTokenDep) -> Response:
    """An account's active devices: verify each record with the account's `uri`."""

    rt.read(lambda work: auth.user(work, token, READ))
    e2e_federation.refresh(rt, [path_id(id)])  # a remote account's: read again from its server

    def run(work: Work) -> list[dict[str, Any]]:
        auth.user(work, token, READ)
        _account, devices = messaging.account_devices(work, path_id(id))
        return [device_json(d) for d in devices]

    return json_response(rt.read(run))


# -- conversations -----------------------------------------------------------------------------


@router.post(
    f"{BASE}/conversations",
    response_model=ConversationOut,
    openapi_extra=body_schema(ConversationForm),
)
async def start_conversation(
    request: Request, rt: RuntimeDep, token: SessionOrTokenDep
) -> Response:
    """A conversation with these accounts (you are added); one-to-one: always the same one."""
    form = validate(ConversationForm, await _form(request))
    ids = []
    for value in form.participant_ids:
        parsed = parse_id(value if isinstance(value, int) else str(value))
        if parsed is None:
            raise ApiError(422, "Validation failed: participant_ids: must hold numeric ids")
        ids.append(parsed)

    await in_thread(rt.read, lambda work: auth.user(work, token, WRITE))
    remote_ok = await run_in_threadpool(e2e_federation.speakers, rt, ids)  # Parvis servers

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, WRITE)
        view = messaging.start(work, me.account_id, ids, remote_ok=remote_ok)
        return conversation_json(view, work.settings)

    return json_response(await in_thread(rt.write, run))


@router.get(f"{BASE}/conversations", response_model=list[ConversationOut])
def list_conversations(
    request: Request, rt: RuntimeDep, token: SessionOrTokenDep, page: PageDep
) -> Response:
    """Your conversations, the latest active first (cursors: `last_message_id`, or the
    conversation's id before its first message)."""

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, READ)
        found = messaging.conversations(work, me.account_id, page)
        body = [conversation_json(v, work.settings) for v in found]
        cursors = [v.conversation.activity_id for v in found]
        return body, link_header(
            request, cursors[0] if cursors else None, cursors[-1] if cursors else None
        )

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.get(f"{BASE}/conversations/{{id}}", response_model=ConversationOut)
def get_conversation(id: str, rt: RuntimeDep, token: SessionOrTokenDep) -> Response:
    """One of your conversations (404 for anyone else's)."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, READ)
        return conversation_json(
            messaging.conversation(work, me.account_id, path_id(id)), work.settings
        )

    return json_response(rt.read(run))


@router.get(f"{BASE}/conversations/{{id}}/devices", response_model=ConversationDevices)
def conversation_devices(id: str, rt: RuntimeDep, token: SessionOrTokenDep) -> Response:
    """Every active device of every participant (yours included): seal each message to all."""

    viewer = rt.read(lambda work: auth.user(work, token, READ)).account_id
    e2e_federation.refresh_conversation(rt, viewer, path_id(id))  # remote participants' devices

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, READ)
        accounts, devices = messaging.conversation_devices(work, me.account_id, path_id(id))
        refused = e2e_federation.unreachable(work, [a.id for a in accounts])
        return {
            "participants": [
                {
                    "account": account_json(a, work.settings),
                    "devices": [device_json(d) for d in devices if d.account_id == a.id],
                }
                for a in accounts
            ],
            "unreachable_devices": [
                {
                    "account_id": str(a),
                    "device_id": str(d),
                    "error": f"This device cannot be told apart from another one here: "
                    f"{e2e_federation.RECREATE}",
                }
                for a, d in refused
            ],
        }

    return json_response(rt.read(run))


# -- messages ----------------------------------------------------------------------------------


@router.post(
    f"{BASE}/conversations/{{id}}/messages",
    response_model=MessageOut,
    openapi_extra=body_schema(MessageForm),
)
async def send_message(
    id: str, request: Request, rt: RuntimeDep, token: SessionOrTokenDep
) -> Response:
    """Send an envelope. A 422 when it does not seal the key to every active device of the
    conversation lists `missing_device_ids` and `unknown_device_ids`."""
    conversation_id = path_id(id)
    form = validate(MessageForm, await _form(request))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, WRITE)
        message = messaging.send(
            work,
            me.account_id,
            conversation_id,
            sender_device_id=str(form.sender_device_id),
            nonce=form.nonce,
            ciphertext=form.ciphertext,
            keys=[(str(k.device_id), k.sealed_key) for k in form.keys],
            signature=form.signature,
        )
        return message_json(message, work.store.messaging.device(message.sender_device_id))

    try:
        return json_response(await in_thread(rt.write, run))
    except e2e.DevicesNotCovered as exc:  # the lists tell the client what to fetch again
        body = {
            "error": exc.message,
            "missing_device_ids": [str(d) for d in exc.missing],
            "unknown_device_ids": [str(d) for d in exc.unknown],
        }
        return json_response(body, 422)


@router.get(f"{BASE}/conversations/{{id}}/messages", response_model=list[MessageOut])
def conversation_messages(
    id: str,
    request: Request,
    rt: RuntimeDep,
    token: SessionOrTokenDep,
    page: PageDep,
    device_id: Annotated[
        str | None, Query(description="Your device reading: gives its `history_key`s")
    ] = None,
) -> Response:
    """A conversation's messages, newest first (Mastodon paging by message id)."""
    reader = None
    if device_id is not None:
        reader = parse_id(device_id)
        if reader is None:
            raise ApiError(422, "Validation failed: device_id: must be a numeric id")

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, READ)
        found = messaging.history(work, me.account_id, path_id(id), page, reader)
        ids = [m.id for m in found.messages]
        return _messages(found), link_header(
            request, ids[0] if ids else None, ids[-1] if ids else None
        )

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.get(f"{BASE}/devices/{{id}}/inbox", response_model=list[MessageOut])
def device_inbox(
    id: str,
    rt: RuntimeDep,
    token: SessionOrTokenDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 40,
) -> Response:
    """Messages sealed to one of your devices and not yet acknowledged, oldest first (40 by
    default, at most 100)."""

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, READ)
        return _messages(messaging.inbox(work, me.account_id, path_id(id), min(limit, 100)))

    return json_response(rt.read(run))


@router.post(
    f"{BASE}/devices/{{id}}/inbox/ack",
    response_model=Acknowledged,
    openapi_extra=body_schema(AckForm),
)
async def acknowledge(
    id: str, request: Request, rt: RuntimeDep, token: SessionOrTokenDep
) -> Response:
    """Take the device's queued messages up to `up_to_id` (included) off its queue."""
    device_id = path_id(id)
    form = validate(AckForm, await _form(request))
    up_to = parse_id(form.up_to_id if isinstance(form.up_to_id, int) else str(form.up_to_id))
    if up_to is None:
        raise ApiError(422, "Validation failed: up_to_id: must be a numeric id")

    def run(work: Work) -> dict[str, int]:
        me = auth.user(work, token, WRITE)
        return {"acknowledged": messaging.acknowledge(work, me.account_id, device_id, up_to)}

    return json_response(await in_thread(rt.write, run))


@router.post(
    f"{BASE}/devices/{{id}}/history",
    response_model=HistoryGiven,
    openapi_extra=body_schema(HistoryForm),
)
async def give_history(
    id: str, request: Request, rt: RuntimeDep, token: SessionOrTokenDep
) -> Response:
    """Give one of your devices the history it could not read: the keys of messages that
    `from_device_id` (another device of yours) opened, each re-sealed to this device (at most
    500 a request; all or nothing). The messages then carry them as `history_key`."""
    device_id = path_id(id)
    form = validate(HistoryForm, await _form(request))

    def run(work: Work) -> dict[str, int]:
        me = auth.user(work, token, WRITE)
        stored = messaging.give_history(
            work,
            me.account_id,
            device_id,
            from_device_id=str(form.from_device_id),
            keys=[(str(k.message_id), k.sealed_key) for k in form.keys],
        )
        return {"stored": stored}

    return json_response(await in_thread(rt.write, run))
