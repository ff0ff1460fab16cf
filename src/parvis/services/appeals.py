"""Appeals (DSA art. 20): for six months after a decision, its author or a notifier may contest
it, free of charge, in plain words (no legal citation needed). A moderator other than the one
who decided reviews it; a reversal lifts the restriction and restores the content, is logged
publicly, and the appellant is told, with the out-of-court bodies they may still turn to."""

from __future__ import annotations

from datetime import datetime

from parvis.domain import moderation as vocab
from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.services import (
    accounts,
    cases,
    moderation,
    notices,
    restrictions,
    tickets,
    transparency_log,
)
from parvis.services.context import Work
from parvis.storage.moderation import AppealRow, DecisionRow

MAX_TEXT = 5000
OUTCOMES = ("upheld", "reversed")


def _decision(work: Work, decision_id: int) -> DecisionRow:
    found = work.store.decisions.get(decision_id)
    if found is None:
        raise NotFound("No such decision")
    return found


def appellant_role(
    work: Work, decision: DecisionRow, account_id: int | None, receipt_key: str = ""
) -> tuple[str, int | None] | None:
    """("author" | "notifier", notice id) when this person may contest the decision."""
    if account_id is not None and account_id == decision.account_id and decision.action != "none":
        return "author", None
    answered = {
        item.notice_id
        for item in work.store.notices.items_of_case(decision.case_id)
        if item.decision_id == decision.id
    }
    if receipt_key:
        notice = work.store.notices.by_receipt(notices.receipt_hash(receipt_key))
        if notice is not None and notice.id in answered:
            return "notifier", notice.id
    if account_id is not None:
        for notice_id in sorted(answered):
            notice = work.store.notices.get(notice_id)
            if notice is not None and notice.reporter_account_id == account_id:
                return "notifier", notice.id
    return None


def deadline(decision: DecisionRow) -> datetime:
    """The last moment to contest the decision (six months after the person was told)."""
    return (decision.notified_at or decision.created_at) + vocab.APPEAL_WINDOW


def file(
    work: Work,
    account_id: int | None,
    decision_id: int,
    text: str,
    *,
    receipt_key: str = "",
) -> AppealRow:
    decision = _decision(work, decision_id)
    role = appellant_role(work, decision, account_id, receipt_key)
    if role is None:
        raise Forbidden("Only the author of the content or a notifier may contest this decision")
    now = work.now()
    if now > deadline(decision):
        raise Forbidden("The six months to contest this decision are over")
    if decision.reversed_at is not None:
        raise Invalid("Validation failed: this decision was already reversed")
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise Invalid(f"Validation failed: text: say why, in at most {MAX_TEXT} characters")
    pending = [
        a
        for a in work.store.decisions.appeals_of(decision.id)
        if a.outcome == ""
        and a.appellant_role == role[0]
        and (a.appellant_account_id == account_id if account_id else a.notice_id == role[1])
    ]
    if pending:
        raise Invalid("Validation failed: your appeal against this decision is being reviewed")
    appeal = AppealRow(
        id=new_id(),
        decision_id=decision.id,
        appellant_role=role[0],
        appellant_account_id=account_id,
        notice_id=role[1],
        text=text,
        filed_at=now,
    )
    work.store.decisions.insert_appeal(appeal)
    case = work.store.cases.get(decision.case_id)
    assert case is not None
    cases.record(
        work, case, "appeal_filed", None, {"appeal_id": appeal.id, "role": appeal.appellant_role}
    )
    return appeal


def pending(work: Work, moderator_id: int | None, limit: int = 50) -> list[AppealRow]:
    moderation.require_moderator(work, moderator_id)
    return work.store.decisions.pending_appeals(limit)


def decide(
    work: Work, reviewer_id: int | None, appeal_id: int, outcome: str, reply: str
) -> AppealRow:
    """A human other than the decider upholds or reverses the decision."""
    me = moderation.require_moderator(work, reviewer_id)
    appeal = work.store.decisions.appeal(appeal_id)
    if appeal is None:
        raise NotFound("No such appeal")
    if appeal.outcome:
        raise Invalid("Validation failed: this appeal was already decided")
    decision = _decision(work, appeal.decision_id)
    if decision.moderator_id == me:
        raise Forbidden("Another moderator must review an appeal against your own decision")
    reply = reply.strip()
    errors = []
    if outcome not in OUTCOMES:
        errors.append("outcome: upheld or reversed")
    if not reply or len(reply) > MAX_TEXT:
        errors.append(f"reply: explain the outcome in at most {MAX_TEXT} characters")
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    now = work.now()
    work.store.decisions.update_appeal(
        appeal.id, {"outcome": outcome, "reply": reply, "reviewer_id": me, "decided_at": now}
    )
    case = work.store.cases.get(decision.case_id)
    assert case is not None
    if outcome == "reversed" and decision.reversed_at is None:
        work.store.decisions.update(
            decision.id, {"reversed_at": now, "reversed_by_appeal_id": appeal.id}
        )
        reversed_decision = work.store.decisions.get(decision.id)
        assert reversed_decision is not None
        restrictions.lift(work, reversed_decision)
        transparency_log.append(
            work,
            {
                "type": "reversal",
                "puid": decision.puid,
                "appellant_role": appeal.appellant_role,
                "created_at": now.isoformat(),
            },
        )
        case = cases.record(work, case, "reversed", me, {"decision_id": decision.id})
    cases.record(
        work,
        case,
        "appeal_decided",
        me,
        {"appeal_id": appeal.id, "outcome": outcome, "action": decision.action},
    )
    found = work.store.decisions.appeal(appeal.id)
    assert found is not None
    return found


# -- a suspended author's way in -------------------------------------------------------------
#
# A suspended account cannot sign in (its sessions are revoked), yet it must be able to read
# the statement of reasons and contest the suspension. Signing in with the right password
# gives, instead of a session, a ticket valid for an hour that only lets it read and appeal
# the decisions about it.


def suspended_ticket(work: Work, login: str, password: str) -> tuple[str, DecisionRow] | None:
    """For a suspended account's right credentials: a ticket and the suspension in force (the
    latest); None when the account is not suspended by a decision."""
    user = accounts.check_credentials(work, login, password)
    account = work.store.accounts.get(user.account_id)
    if account is None or not account.suspended:
        return None
    found = [
        d
        for d in work.store.decisions.account_actions_in_force(user.account_id)
        if d.action in restrictions.ACCOUNT_RESTRICTIONS
    ]
    if not found:
        return None
    return tickets.issue(work, "appeal", user.account_id), found[-1]


def ticket_account(work: Work, ticket: str) -> int | None:
    """The account a ticket was given to, while it is valid."""
    return tickets.account_of(work, "appeal", ticket)
