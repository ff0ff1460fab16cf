"""The moderation registers over HTTP: the public, machine-readable rules with every version
(`GET /api/parvis/v1/rules`, DSA art. 14), and for the staff, like Mastodon's admin API (token
scopes `admin:read` / `admin:write`, and the moderator or admin role): trusted flaggers, the
authority register, the moderator roster and the misuse assessment of an account."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth
from parvis.api.auth import RequiredTokenDep, Token
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import ts
from parvis.domain.ids import parse_id
from parvis.services import (
    authority,
    authority_response,
    misuse,
    roster,
    rules,
    trusted_flaggers,
)
from parvis.services.context import Work
from parvis.services.trusted_flaggers import Accuracy, Flagger
from parvis.storage.registers import AuthorityRow, ModeratorRow, RuleRow

router = APIRouter(tags=["moderation registers"], responses=ERRORS)
ADMIN = "/api/parvis/v1/admin"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- response shapes -------------------------------------------------------------------------


class RuleOut(_Open):
    id: str
    version: int
    text: str
    hint: str
    valid_from: str
    valid_to: str | None
    in_force: bool


class AccuracyOut(_Open):
    notices: int
    restricted: int
    rejected: int
    pending: int
    precision: float | None
    review: bool


class FlaggerOut(_Open):
    id: str
    name: str
    account_id: str | None
    coordinator: str
    member_state: str
    areas: list[str]
    created_at: str
    revoked_at: str | None
    accuracy: AccuracyOut


class OrderOut(_Open):
    id: str
    kind: str
    authority: str
    member_state: str
    legal_basis: str
    dsa_category: str
    reference: str
    items: list[str]
    received_at: str
    acknowledged_at: str | None
    carried_out_at: str | None
    effect: str
    provided: str
    not_held: str
    case_id: str | None


class ModeratorOut(_Open):
    account_id: str
    languages: list[str]
    country: str
    training: str
    paid: bool
    since: str
    until: str | None


class AggregateOut(_Open):
    at: str
    total: int
    by_language: dict[str, int]
    by_country: dict[str, int]
    paid: int
    volunteer: int
    trained: int


class RosterOut(_Open):
    aggregate: AggregateOut
    entries: list[ModeratorOut]


class EvidenceOut(_Open):
    misuse: str
    count: int
    total: int
    ratio: float
    items: list[str]
    warned_at: str | None
    since_warning: int
    suspended: bool


class RecommendationOut(_Open):
    misuse: str
    action: str
    reason: str
    days: int | None


class MisuseOut(_Open):
    account_id: str
    at: str
    since: str
    content: EvidenceOut
    notices: EvidenceOut
    recommendations: list[RecommendationOut]


# -- request bodies --------------------------------------------------------------------------


class FlaggerForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(..., max_length=1000)
    coordinator: str = Field(..., max_length=1000)
    member_state: str = Field(..., max_length=8)
    areas: list[str] = Field(default_factory=list, max_length=50)
    account_id: str | None = Field(None, max_length=30)


class OrderForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: str = Field(..., max_length=16)
    authority: str = Field(..., max_length=1000)
    member_state: str = Field(..., max_length=8)
    dsa_category: str = Field(..., max_length=100)
    legal_basis: str = Field("", max_length=10_000)
    reference: str = Field("", max_length=1000)
    items: list[str] = Field(default_factory=list, max_length=200)
    received_at: str | None = Field(None, max_length=64)
    provided: str = Field("", max_length=10_000)
    case_id: str | None = Field(None, max_length=30)


class AckForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    at: str | None = Field(None, max_length=64)


class CarryOutForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    effect: str = Field("", max_length=10_000)
    provided: str = Field("", max_length=10_000)
    at: str | None = Field(None, max_length=64)


class ModeratorForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    languages: list[str] = Field(..., max_length=50)
    country: str = Field(..., max_length=8)
    training: str = Field("", max_length=10_000)
    paid: bool = False


# -- helpers ---------------------------------------------------------------------------------


def _staff(work: Work, token: Token, scope: str, *, admin: bool = False) -> int:
    me = auth.user(work, token, scope)
    roster.staff(work, me.account_id, admin=admin)
    return me.account_id


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(422, f"Validation failed: {name}: an ISO 8601 date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _optional_id(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    parsed = parse_id(value)
    if parsed is None:
        raise ApiError(422, f"Validation failed: {name}: a numeric id")
    return parsed


def rule_json(rule: RuleRow) -> dict[str, Any]:
    return {
        "id": rule.id,
        "version": rule.version,
        "text": rule.text,
        "hint": rule.hint,
        "valid_from": ts(rule.valid_from),
        "valid_to": ts(rule.valid_to),
        "in_force": rule.valid_to is None,
    }


def flagger_json(flagger: Flagger, accuracy: Accuracy) -> dict[str, Any]:
    return {
        "id": str(flagger.id),
        "name": flagger.name,
        "account_id": str(flagger.account_id) if flagger.account_id is not None else None,
        "coordinator": flagger.coordinator,
        "member_state": flagger.member_state,
        "areas": list(flagger.areas),
        "created_at": ts(flagger.created_at),
        "revoked_at": ts(flagger.revoked_at),
        "accuracy": {
            "notices": accuracy.notices,
            "restricted": accuracy.restricted,
            "rejected": accuracy.rejected,
            "pending": accuracy.pending,
            "precision": accuracy.precision,
            "review": accuracy.review,
        },
    }


def order_json(order: AuthorityRow) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "kind": order.kind,
        "authority": order.authority,
        "member_state": order.member_state,
        "legal_basis": order.legal_basis,
        "dsa_category": order.dsa_category,
        "reference": order.reference,
        "items": list(order.items),
        "received_at": ts(order.received_at),
        "acknowledged_at": ts(order.acknowledged_at),
        "carried_out_at": ts(order.carried_out_at),
        "effect": order.effect,
        "provided": order.provided,
        "not_held": order.not_held,
        "case_id": str(order.case_id) if order.case_id is not None else None,
    }


def moderator_json(entry: ModeratorRow) -> dict[str, Any]:
    return {
        "account_id": str(entry.account_id),
        "languages": list(entry.languages),
        "country": entry.country,
        "training": entry.training,
        "paid": entry.paid,
        "since": ts(entry.since),
        "until": ts(entry.until),
    }


def _evidence(e: misuse.Evidence) -> dict[str, Any]:
    return {
        "misuse": e.misuse,
        "count": e.count,
        "total": e.total,
        "ratio": e.ratio,
        "items": list(e.items),
        "warned_at": ts(e.warned_at),
        "since_warning": e.since_warning,
        "suspended": e.suspended,
    }


# -- the rules (public) ----------------------------------------------------------------------


@router.get("/api/parvis/v1/rules", response_model=list[RuleOut])
def rule_versions(rt: RuntimeDep) -> Response:
    """Every version of every rule, with when it was in force; the current ones have
    `in_force` true. Decisions on a rule ground cite (id, version)."""
    return json_response(rt.read(lambda work: [rule_json(r) for r in rules.history(work)]))


# -- trusted flaggers ------------------------------------------------------------------------


@router.get(f"{ADMIN}/trusted_flaggers", response_model=list[FlaggerOut])
def flagger_list(
    rt: RuntimeDep,
    token: RequiredTokenDep,
    with_revoked: Annotated[bool, Query(description="Include revoked flaggers")] = False,
) -> Response:
    """The trusted flaggers (DSA art. 22), each with its accuracy over the misuse window."""

    def run(work: Work) -> list[dict[str, Any]]:
        _staff(work, token, "admin:read")
        scores = trusted_flaggers.accuracies(work)
        return [
            flagger_json(f, scores[f.id])
            for f in trusted_flaggers.every(work, with_revoked=with_revoked)
        ]

    return json_response(rt.read(run))


@router.post(
    f"{ADMIN}/trusted_flaggers", response_model=FlaggerOut, openapi_extra=body_schema(FlaggerForm)
)
async def flagger_create(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Register a trusted flagger (administrators)."""
    form = validate(FlaggerForm, await read_params(request))
    account_id = _optional_id(form.account_id, "account_id")

    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:write", admin=True)
        made = trusted_flaggers.register(
            work,
            trusted_flaggers.NewFlagger(
                name=form.name,
                coordinator=form.coordinator,
                member_state=form.member_state,
                areas=tuple(form.areas),
                account_id=account_id,
            ),
        )
        return flagger_json(made, trusted_flaggers.accuracy(work, made.id))

    return json_response(await in_thread(rt.write, run))


@router.get(f"{ADMIN}/trusted_flaggers/{{id}}", response_model=FlaggerOut)
def flagger_show(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:read")
        found = trusted_flaggers.get(work, path_id(id))
        return flagger_json(found, trusted_flaggers.accuracy(work, found.id))

    return json_response(rt.read(run))


@router.post(f"{ADMIN}/trusted_flaggers/{{id}}/revoke", response_model=FlaggerOut)
def flagger_revoke(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """End a flagger's status (administrators); its past notices keep it."""

    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:write", admin=True)
        found = trusted_flaggers.revoke(work, path_id(id))
        return flagger_json(found, trusted_flaggers.accuracy(work, found.id))

    return json_response(rt.write(run))


# -- the authority register ------------------------------------------------------------------


@router.get(f"{ADMIN}/authority_orders", response_model=list[OrderOut])
def order_list(
    rt: RuntimeDep,
    token: RequiredTokenDep,
    kind: Annotated[str | None, Query(max_length=16, description="act, info or escalation")] = None,
    open_only: Annotated[
        bool, Query(alias="open", description="Only those not carried out yet")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """The authority register, the most recently received first."""

    def run(work: Work) -> list[dict[str, Any]]:
        _staff(work, token, "admin:read")
        found = authority.every(work, kind=kind or None, open_only=open_only, limit=limit)
        return [order_json(o) for o in found]

    return json_response(rt.read(run))


@router.post(
    f"{ADMIN}/authority_orders", response_model=OrderOut, openapi_extra=body_schema(OrderForm)
)
async def order_create(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Record an order to act (art. 9), to provide information (art. 10), or an escalation of
    a threat to life or safety sent to law enforcement (art. 18)."""
    form = validate(OrderForm, await read_params(request))
    received_at = _moment(form.received_at, "received_at")
    case_id = _optional_id(form.case_id, "case_id")

    def run(work: Work) -> dict[str, Any]:
        me = _staff(work, token, "admin:write")
        made = authority.record(
            work,
            me,
            authority.NewOrder(
                kind=form.kind,
                authority=form.authority,
                member_state=form.member_state,
                dsa_category=form.dsa_category,
                legal_basis=form.legal_basis,
                reference=form.reference,
                items=tuple(form.items),
                received_at=received_at,
                provided=form.provided,
                case_id=case_id,
            ),
        )
        return order_json(made)

    return json_response(await in_thread(rt.write, run))


@router.get(f"{ADMIN}/authority_orders/{{id}}", response_model=OrderOut)
def order_show(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:read")
        return order_json(authority.get(work, path_id(id)))

    return json_response(rt.read(run))


@router.post(
    f"{ADMIN}/authority_orders/{{id}}/acknowledge",
    response_model=OrderOut,
    openapi_extra=body_schema(AckForm),
)
async def order_acknowledge(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    """The issuing authority was told the order was received (`at`, default now)."""
    form = validate(AckForm, await read_params(request))
    at = _moment(form.at, "at")

    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:write")
        return order_json(authority.acknowledge(work, path_id(id), at))

    return json_response(await in_thread(rt.write, run))


@router.post(
    f"{ADMIN}/authority_orders/{{id}}/carry_out",
    response_model=OrderOut,
    openapi_extra=body_schema(CarryOutForm),
)
async def order_carry_out(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    """The order was given effect: `effect` (what was done) for an order to act, `provided`
    (what was handed over) for an order to provide information."""
    form = validate(CarryOutForm, await read_params(request))
    at = _moment(form.at, "at")

    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:write")
        done = authority.carry_out(
            work, path_id(id), effect=form.effect, provided=form.provided, at=at
        )
        return order_json(done)

    return json_response(await in_thread(rt.write, run))


@router.post(
    f"{ADMIN}/authority_orders/{{id}}/response",
    response_class=Response,
    responses={
        200: {
            "description": "The response to the order, as a ZIP archive (docs/moderation.md)",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def order_response(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Assemble the response to an order to provide information from what this server holds
    (never message contents, never deleted data) and record the order as carried out, with
    what was handed over."""

    def run(work: Work) -> authority_response.Handed:
        _staff(work, token, "admin:write")
        return authority_response.hand_over(work, path_id(id))

    handed = rt.write(run)
    return Response(
        handed.archive,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{handed.filename}"',
            "Cache-Control": "no-store",
        },
    )


# -- the moderator roster --------------------------------------------------------------------


def _aggregate(work: Work) -> dict[str, Any]:
    found = roster.aggregate(work)
    return {
        "at": ts(found.at),
        "total": found.total,
        "by_language": found.by_language,
        "by_country": found.by_country,
        "paid": found.paid,
        "volunteer": found.volunteer,
        "trained": found.trained,
    }


@router.get(f"{ADMIN}/moderators", response_model=RosterOut)
def moderator_list(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """The roster (administrators): every entry, and the aggregate that is published."""

    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:read", admin=True)
        return {
            "aggregate": _aggregate(work),
            "entries": [moderator_json(m) for m in roster.entries(work)],
        }

    return json_response(rt.read(run))


@router.put(
    f"{ADMIN}/moderators/{{account_id}}",
    response_model=ModeratorOut,
    openapi_extra=body_schema(ModeratorForm),
)
async def moderator_set(
    account_id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    """Put a moderator on the roster or update their entry (administrators)."""
    form = validate(ModeratorForm, await read_params(request))

    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:write", admin=True)
        entry = roster.set_entry(
            work,
            path_id(account_id),
            languages=form.languages,
            country=form.country,
            training=form.training,
            paid=form.paid,
        )
        return moderator_json(entry)

    return json_response(await in_thread(rt.write, run))


@router.delete(f"{ADMIN}/moderators/{{account_id}}", response_model=ModeratorOut)
def moderator_leave(account_id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Take a moderator off the roster from now on (administrators)."""

    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:write", admin=True)
        return moderator_json(roster.leave(work, path_id(account_id)))

    return json_response(rt.write(run))


# -- misuse (art. 23) ------------------------------------------------------------------------


@router.get(f"{ADMIN}/accounts/{{id}}/misuse", response_model=MisuseOut)
def misuse_assessment(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """The art. 23 evidence about an account (manifestly illegal items, manifestly unfounded
    notices: numbers and ratios over the window) and what the policy recommends."""

    def run(work: Work) -> dict[str, Any]:
        _staff(work, token, "admin:read")
        found = misuse.assess(work, path_id(id))
        return {
            "account_id": str(found.account_id),
            "at": ts(found.at),
            "since": ts(found.since),
            "content": _evidence(found.content),
            "notices": _evidence(found.notices),
            "recommendations": [
                {"misuse": r.misuse, "action": r.action, "reason": r.reason, "days": r.days}
                for r in found.recommendations
            ],
        }

    return json_response(rt.read(run))
