"""Labels over HTTP (issue 8).

- `GET|PUT /api/parvis/v1/labels/preferences`: the user's choice per label (`bot`,
  `automated`, `coordinated`): `show`, `warn` or `hide` (scopes read:filters / write:filters:
  they act like filters). Mastodon apps see the choices applied as `filtered` results of
  filters with ids like "label-automated".
- For the moderators (admin:read / admin:write and the moderator or admin role, like the
  moderation registers): `GET /api/parvis/v1/admin/label_signals` (open signals, strongest or
  newest first), `GET …/{id}` (with the full evidence), `POST …/{id}/confirm` (a moderation
  decision labelling each account) and `POST …/{id}/dismiss` (with the reason).

Accounts carry their labels in the Mastodon Account JSON as `parvis_labels` (api/serializers.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import account_json, ts
from parvis.config import Settings
from parvis.domain.labels import vocabulary as vocab
from parvis.services import label_signals, labels
from parvis.services.context import Work
from parvis.services.label_signals import SignalView
from parvis.storage.moderation import DecisionRow

router = APIRouter(tags=["labels"], responses=ERRORS)
PREFERENCES = "/api/parvis/v1/labels/preferences"
SIGNALS = "/api/parvis/v1/admin/label_signals"
MAX_DURATION = 10 * 365 * 86400


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class LabelPreferences(_Open):
    bot: str = Field(description="show, warn or hide")
    automated: str = Field(description="show, warn or hide")
    coordinated: str = Field(description="show, warn or hide")


class Signal(_Open):
    id: str
    kind: str
    label: str
    state: str
    score: float
    detected_at: str
    updated_at: str
    decided_at: str | None
    accounts: list[dict[str, Any]]
    summary: dict[str, Any]


class Confirmed(_Open):
    signal: Signal
    decisions: list[dict[str, Any]]


class ConfirmForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    explanation: str = Field("", max_length=10_000)
    rule_id: str = Field("", max_length=16)
    duration: int | None = Field(
        None, description="Seconds the label lasts (at least 3600); none: until reversed"
    )


class DismissForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: str = Field(..., max_length=10_000)


PREFERENCES_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Labels and the choice for each: show, warn or hide (the others keep "
        "theirs).",
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "properties": {
                        label: {"type": "string", "enum": list(vocab.CHOICES)}
                        for label in vocab.LABELS
                    },
                }
            }
            for media in ("application/json", "application/x-www-form-urlencoded")
        },
    }
}


# -- the user's choices ----------------------------------------------------------------------


@router.get(PREFERENCES, response_model=LabelPreferences)
def get_preferences(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """The choice for every label (the defaults: bot show, automated warn, coordinated warn)."""

    def run(work: Work) -> dict[str, str]:
        me = auth.user(work, token, "read:filters")
        return labels.preferences(work, me.account_id)

    return json_response(rt.read(run))


@router.put(PREFERENCES, response_model=LabelPreferences, openapi_extra=PREFERENCES_BODY)
async def put_preferences(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Change some or all choices; an unknown label or choice is a 422 naming it."""
    params = await read_params(request, include_query=False)
    choices = params.get("preferences", params)
    if not isinstance(choices, dict) or not choices:
        raise ApiError(422, "Validation failed: body: give at least one label and its choice")

    def run(work: Work) -> dict[str, str]:
        me = auth.user(work, token, "write:filters")
        return labels.set_preferences(work, me.account_id, choices)

    return json_response(await in_thread(rt.write, run))


# -- the moderators' signals -----------------------------------------------------------------


def signal_json(view: SignalView, settings: Settings, *, full: bool) -> dict[str, Any]:
    s = view.signal
    out: dict[str, Any] = {
        "id": str(s.id),
        "kind": s.kind,
        "label": view.label,
        "state": s.state,
        "score": s.score,
        "detected_at": ts(s.detected_at),
        "updated_at": ts(s.updated_at),
        "decided_at": ts(s.decided_at),
        "decided_by": str(s.decided_by) if s.decided_by is not None else None,
        "decision_note": s.decision_note,
        "accounts": [account_json(a, settings) for a in view.accounts],
        "summary": label_signals.summary(s),
    }
    if full:
        out["evidence"] = s.evidence
    return out


def decision_json(d: DecisionRow, settings: Settings) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "puid": d.puid,
        "account_id": str(d.account_id) if d.account_id is not None else None,
        "action": d.action,
        "label": d.label,
        "ground": d.ground,
        "rule_id": d.rule_id,
        "rule_version": d.rule_version,
        "starts_at": ts(d.starts_at),
        "ends_at": ts(d.ends_at),
        "statement": f"{settings.base_url}/api/parvis/v1/transparency/statements/{d.puid}",
    }


@router.get(SIGNALS, response_model=list[Signal])
def signal_list(
    rt: RuntimeDep,
    token: RequiredTokenDep,
    kind: Annotated[str, Query(max_length=16, description="automation or coordination")] = "",
    order: Annotated[str, Query(max_length=16, description="score (default) or newest")] = "score",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """Open signals, strongest (or newest) first, with a summary of their evidence."""

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "admin:read")
        found = label_signals.open_signals(
            work, me.account_id, kind=kind, order=order, limit=limit, offset=offset
        )
        return [signal_json(v, rt.settings, full=False) for v in found]

    return json_response(rt.read(run))


@router.get(SIGNALS + "/{id}", response_model=Signal)
def signal_show(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """One signal with its full evidence (components with values and thresholds; members'
    posts, times and pairwise similarities)."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "admin:read")
        return signal_json(
            label_signals.detail(work, me.account_id, path_id(id)), rt.settings, full=True
        )

    return json_response(rt.read(run))


@router.post(
    SIGNALS + "/{id}/confirm", response_model=Confirmed, openapi_extra=body_schema(ConfirmForm)
)
async def signal_confirm(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    """Confirm: a moderation decision (`label_account`) on each account of the signal, on the
    ground of a rule of this server (`rule_id`, default: the rule about bots or about
    coordinated behaviour), with a statement of reasons to each account."""
    form = validate(ConfirmForm, await read_params(request))
    if form.duration is not None and not 3600 <= form.duration <= MAX_DURATION:
        raise ApiError(422, "Validation failed: duration: between 3600 seconds and ten years")
    duration = timedelta(seconds=form.duration) if form.duration is not None else None
    signal_id = path_id(id)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "admin:write")
        taken = label_signals.confirm(
            work,
            me.account_id,
            signal_id,
            explanation=form.explanation,
            rule_id=form.rule_id,
            duration=duration,
        )
        view = label_signals.detail(work, me.account_id, signal_id)
        return {
            "signal": signal_json(view, rt.settings, full=False),
            "decisions": [decision_json(d, rt.settings) for d in taken],
        }

    return json_response(await in_thread(rt.write, run))


@router.post(
    SIGNALS + "/{id}/dismiss", response_model=Signal, openapi_extra=body_schema(DismissForm)
)
async def signal_dismiss(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    """Dismiss: nothing changes for anyone; who and why are kept, and the same finding is not
    raised again for 30 days."""
    form = validate(DismissForm, await read_params(request))
    signal_id = path_id(id)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "admin:write")
        label_signals.dismiss(work, me.account_id, signal_id, form.reason)
        return signal_json(
            label_signals.detail(work, me.account_id, signal_id), rt.settings, full=True
        )

    return json_response(await in_thread(rt.write, run))
