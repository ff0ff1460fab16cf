"""POST /api/v1/reports: Mastodon's report, filed as a notice (services/notices.py).

Mastodon's categories map onto Parvis's offences (spam, legal -> other illegal content,
violation -> the server's rules, other); a Parvis offence key (`racial_hatred`, `terrorism`, …)
is accepted too. Parvis extensions: `legal_ground`, and `good_faith=true` for the DSA art. 16
statement; a report without it is still taken, counted as a report that is not an art. 16
notice (what Mastodon apps send)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import account_json, ts
from parvis.domain import moderation as vocab
from parvis.domain.ids import parse_id
from parvis.services import federate, notices
from parvis.services.context import Work

router = APIRouter(tags=["reports"], responses=ERRORS)


class Report(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str
    status_ids: list[str] | None
    rule_ids: list[str] | None
    target_account: schemas.Account


class ReportForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    account_id: str = Field(..., max_length=32)
    status_ids: list[str] = Field(default_factory=list, max_length=20)
    comment: str = Field("", max_length=5000)
    forward: bool = False
    category: str = Field("", max_length=48)
    rule_ids: list[str] = Field(default_factory=list, max_length=20)
    legal_ground: str = Field("", max_length=500)
    good_faith: bool = False


def _offence(form: ReportForm) -> tuple[str, str]:
    """(offence key, the category Mastodon clients expect back)."""
    category = form.category or ("violation" if form.rule_ids else "other")
    if category in vocab.MASTODON_CATEGORIES:
        return vocab.MASTODON_CATEGORIES[category], category
    if category in vocab.OFFENCES:
        mastodon = {"spam": "spam", "rules": "violation", "other": "other"}
        return category, mastodon.get(category, "legal")
    raise ApiError(
        422,
        "Validation failed: category: one of spam, legal, violation, other, "
        + ", ".join(vocab.OFFENCES),
    )


@router.post("/api/v1/reports", response_model=Report, openapi_extra=body_schema(ReportForm))
async def create(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(ReportForm, await read_params(request))
    account_id = parse_id(form.account_id)
    status_ids = [parse_id(s) for s in form.status_ids]
    if account_id is None or None in status_ids:
        raise ApiError(404, "Record not found")
    offence, category = _offence(form)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:reports")
        items = tuple(notices.Item(status_id=s) for s in status_ids if s is not None)
        for item in items:
            assert item.status_id is not None
            if notices.target(work, me.account_id, item.status_id, None) != account_id:
                raise ApiError(422, "Validation failed: status_ids: not posts of that account")
        notice = notices.NewNotice(
            category=offence,
            explanation=form.comment,
            items=items or (notices.Item(account_id=account_id),),
            legal_ground=form.legal_ground,
            rule_ids=tuple(form.rule_ids),
            good_faith=form.good_faith,
            channel="api" if form.good_faith else "app",
        )
        receipt = notices.submit(work, me.account_id, notice)
        target = work.store.accounts.get(account_id)
        assert target is not None  # notices.target found it
        row = receipt.notice
        forwarded = form.forward and federate.report_forwarded(
            work,
            me.account_id,
            account_id,
            [s for s in status_ids if s is not None],
            form.comment,
            row.id,
        )
        return {
            "id": str(row.id),
            "action_taken": False,
            "action_taken_at": None,
            "category": category,
            "comment": row.explanation,
            "forwarded": forwarded,
            "created_at": ts(row.created_at),
            "status_ids": [str(s) for s in status_ids],
            "rule_ids": list(form.rule_ids),
            "target_account": account_json(target, work.settings),
        }

    return json_response(await in_thread(rt.write, run))
