"""The moderation queue and decisions.

Every subject (a post or an account) has one case, with an append-only event log
(services/cases.py). The queue is ordered by urgency: escalations, then threats to life or
safety, then trusted flaggers, then severity, then the earliest deadline.

A decision states its action, its ground (a law, or a numbered rule of this server) and its
explanation before anything is restricted; it carries every field of the DSA statement of
reasons, is applied (services/restrictions.py), appended to the public transparency log without
personal data, and announced to the author (a `moderation_warning` notification) and to the
notifiers (on their receipt page).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from parvis.domain import moderation as vocab
from parvis.domain import statement_schema
from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.domain.models import Account, Status
from parvis.services import restrictions, roster, rules, transparency_log
from parvis.services.cases import case_for, record
from parvis.services.context import Work
from parvis.storage.moderation import CaseRow, DecisionRow, EventRow
from parvis.storage.notices import NoticeRow

MAX_TEXT = 5000
MAX_LABEL = 200
MAX_DURATION = timedelta(days=3650)
MODERATOR_ROLES = ("moderator", "admin")


def require_moderator(work: Work, account_id: int | None) -> int:
    user = work.store.accounts.user(account_id) if account_id is not None else None
    if user is None or user.role not in MODERATOR_ROLES:
        raise Forbidden("This action is for the moderators of this server")
    return user.account_id


# -- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """A case's deadline as moderators see it: the target, and the 48-hour line."""

    opened_at: datetime
    due_at: datetime | None
    now: datetime

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.now > self.due_at

    @property
    def past_legal_line(self) -> bool:
        return self.now > self.opened_at + vocab.LEGAL_LINE

    @property
    def remaining(self) -> timedelta | None:
        return self.due_at - self.now if self.due_at is not None else None


@dataclass(frozen=True)
class CaseView:
    case: CaseRow
    account: Account | None
    status: Status | None
    notices: tuple[NoticeRow, ...]
    clock: Clock

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n.category for n in self.notices))

    @property
    def trusted(self) -> bool:
        return any(n.trusted_flagger_id is not None for n in self.notices)


@dataclass(frozen=True)
class CaseDetail:
    view: CaseView
    events: tuple[EventRow, ...]
    decisions: tuple[DecisionRow, ...]
    other_cases: tuple[CaseRow, ...]  # the author's other cases: the subject's history
    actors: dict[int, Account] = field(default_factory=dict)


def _moderator_languages(work: Work, moderator_id: int) -> tuple[str, ...]:
    """The languages a moderator reads (the roster), else their interface language."""
    found = roster.languages_of(work, moderator_id)
    if found:
        return found
    user = work.store.accounts.user(moderator_id)
    return (user.locale.split("-")[0],) if user is not None and user.locale else ()


def _views(work: Work, cases: list[CaseRow]) -> list[CaseView]:
    """The cases as the queue shows them, in a fixed number of queries whatever their number."""
    statuses = work.store.statuses.load(c.subject_id for c in cases if c.subject_type == "status")
    accounts = work.store.accounts.get_many(c.account_id for c in cases if c.account_id)
    notices = work.store.notices.of_cases([c.id for c in cases])
    now = work.now()
    views = []
    for case in cases:
        found = notices[case.id]
        pending = [n for n, undecided in found if undecided]
        shown = pending or [n for n, _ in found][-5:]
        opened = min((n.created_at for n in pending), default=case.opened_at)
        views.append(
            CaseView(
                case,
                accounts.get(case.account_id) if case.account_id is not None else None,
                statuses.get(case.subject_id) if case.subject_type == "status" else None,
                tuple(shown),
                Clock(opened_at=opened, due_at=case.due_at, now=now),
            )
        )
    return views


def _pending_notices(work: Work, case_id: int) -> list[NoticeRow]:
    """The notices with an item in this case not yet decided (a notice about several posts may
    be answered here and still wait elsewhere)."""
    return [n for n, undecided in work.store.notices.of_cases([case_id])[case_id] if undecided]


def queue(
    work: Work,
    moderator_id: int | None,
    *,
    mine: bool = False,
    my_languages: bool = False,
    appeals: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[CaseView]:
    """Open cases, most urgent first (see the module docstring)."""
    me = require_moderator(work, moderator_id)
    cases = work.store.cases.queue(
        states=("appealed",) if appeals else ("open", "appealed"),
        assignee_id=me if mine else None,
        languages=_moderator_languages(work, me) if my_languages else (),
        limit=max(1, min(limit, 200)),
        offset=max(0, offset),
    )
    return _views(work, cases)


def detail(work: Work, moderator_id: int | None, case_id: int) -> CaseDetail:
    require_moderator(work, moderator_id)
    case = work.store.cases.get(case_id)
    if case is None:
        raise NotFound("No such case")
    [view] = _views(work, [case])
    events = tuple(work.store.cases.events(case_id))
    others = (
        tuple(c for c in work.store.cases.of_account(case.account_id) if c.id != case.id)
        if case.account_id is not None
        else ()
    )
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    return CaseDetail(
        view=view,
        events=events,
        decisions=tuple(work.store.decisions.of_case(case_id)),
        other_cases=others,
        actors=work.store.accounts.get_many(actor_ids),
    )


def _case(work: Work, case_id: int) -> CaseRow:
    case = work.store.cases.get(case_id)
    if case is None:
        raise NotFound("No such case")
    return case


def assign(work: Work, moderator_id: int | None, case_id: int, assignee_id: int | None) -> CaseRow:
    """Assigns the case (to oneself or another moderator), or releases it (None)."""
    me = require_moderator(work, moderator_id)
    case = _case(work, case_id)
    if assignee_id is None:
        return record(work, case, "unassigned", me, {})
    require_moderator(work, assignee_id)
    return record(work, case, "assigned", me, {"assignee_id": assignee_id})


def escalate(work: Work, moderator_id: int | None, case_id: int, reason: str) -> CaseRow:
    """Moves the case to the top of the queue (a senior moderator, an imminent threat)."""
    me = require_moderator(work, moderator_id)
    reason = reason.strip()
    if not reason or len(reason) > MAX_TEXT:
        raise Invalid(f"Validation failed: reason: say why (at most {MAX_TEXT} characters)")
    return record(work, _case(work, case_id), "escalated", me, {"reason": reason})


def note(work: Work, moderator_id: int | None, case_id: int, text: str) -> CaseRow:
    """An internal note, seen by moderators only."""
    me = require_moderator(work, moderator_id)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise Invalid(f"Validation failed: text: between 1 and {MAX_TEXT} characters")
    return record(work, _case(work, case_id), "note", me, {"text": text})


# -- decisions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a moderator decides: the action and, for any restriction, its stated ground."""

    action: str
    explanation: str = ""
    ground: str = ""  # law | rule
    rule_id: str = ""
    legal_ground: str = ""
    dsa_category: str = ""  # default: from the notices
    keywords: tuple[str, ...] = ()
    territorial_scope: tuple[str, ...] = ()
    duration: timedelta | None = None
    label: str = ""
    misuse: str = ""  # DSA art. 23 reason for a warning or suspension
    facts: str = ""  # default: a standard sentence from the case
    automated_detection: bool = False  # an automated detector found it (a label signal)


def _current_rule_version(work: Work, rule_id: str) -> int | None:
    """The version in force of a numbered rule of this server, or None when there is none.
    The rules table is seeded first, so that the text a decision cites is kept for good."""
    rules.seed(work)
    try:
        return rules.in_force(work, rule_id).version
    except Invalid:
        return None


def _verdict_errors(work: Work, case: CaseRow, verdict: Verdict) -> list[str]:
    errors: list[str] = []
    action = vocab.ACTIONS.get(verdict.action)
    if action is None:
        return [f"action: one of {', '.join(vocab.ACTIONS)}"]
    if action.on_content and case.subject_type != "status":
        errors.append(f"action: {verdict.action} applies to a post, not an account")
    if verdict.action != "none":
        if verdict.ground not in vocab.GROUNDS:
            errors.append("ground: a law or a rule of this server (no restriction without one)")
        elif verdict.ground == "law" and not verdict.legal_ground.strip():
            errors.append("legal_ground: name the law relied on")
        elif verdict.ground == "rule" and _current_rule_version(work, verdict.rule_id) is None:
            errors.append("rule_id: not a rule in force on this server")
        if not verdict.explanation.strip():
            errors.append("explanation: say why the content breaks that law or rule")
    for name, value, limit in (
        ("explanation", verdict.explanation, MAX_TEXT),
        ("facts", verdict.facts, MAX_TEXT),
        ("legal_ground", verdict.legal_ground, 500),
        ("label", verdict.label, MAX_LABEL),
    ):
        if len(value) > limit:
            errors.append(f"{name}: at most {limit} characters")
    if verdict.dsa_category and verdict.dsa_category not in vocab.DSA_CATEGORIES:
        errors.append("dsa_category: not a DSA category")
    if action.duration == "required" and verdict.duration is None:
        errors.append(f"duration: {verdict.action} needs a duration")
    if action.duration == "none" and verdict.duration is not None:
        errors.append(f"duration: {verdict.action} has no duration")
    if verdict.duration is not None and not timedelta(hours=1) <= verdict.duration <= MAX_DURATION:
        errors.append("duration: between one hour and ten years")
    if verdict.action == "territorial_restrict":
        bad = [c for c in verdict.territorial_scope if c not in vocab.EEA_STATES]
        if not verdict.territorial_scope or bad:
            errors.append("territorial_scope: one or more EU/EEA country codes (e.g. FR, DE)")
    if verdict.action == "label" and not verdict.label.strip():
        errors.append("label: the words shown over the post")
    if verdict.action == "label_account" and verdict.label not in vocab.ACCOUNT_LABELS:
        errors.append(f"label: one of {', '.join(vocab.ACCOUNT_LABELS)}")
    if verdict.misuse and verdict.misuse not in vocab.MISUSE:
        errors.append(f"misuse: one of {', '.join(vocab.MISUSE)}")
    return errors


def _source(notices: list[NoticeRow]) -> str:
    if any(n.trusted_flagger_id is not None for n in notices):
        return "SOURCE_TRUSTED_FLAGGER"
    if any(n.channel in ("web", "api") for n in notices):  # with the good-faith statement
        return "SOURCE_ARTICLE_16"
    if notices:
        return "SOURCE_TYPE_OTHER_NOTIFICATION"
    return "SOURCE_VOLUNTARY"


def _content_type(status: Status | None) -> tuple[str, ...]:
    if status is None:
        return ("CONTENT_TYPE_TEXT",)  # an account: its name, bio and fields
    kinds = {"image": "CONTENT_TYPE_IMAGE", "gifv": "CONTENT_TYPE_VIDEO"}
    kinds |= {"video": "CONTENT_TYPE_VIDEO", "audio": "CONTENT_TYPE_AUDIO"}
    found = ["CONTENT_TYPE_TEXT"] if status.text.strip() else []
    found += [kinds.get(m.type, "CONTENT_TYPE_OTHER") for m in status.media]
    return tuple(dict.fromkeys(found)) or ("CONTENT_TYPE_TEXT",)


def _facts(source: str, notices: list[NoticeRow], subject_type: str) -> str:
    what = "a post" if subject_type == "status" else "an account"
    if source == "SOURCE_VOLUNTARY":
        return f"The moderators found {what} on their own initiative and reviewed it."
    kind = "trusted flagger" if source == "SOURCE_TRUSTED_FLAGGER" else "notice"
    count = len(notices)
    plural = "s" if count != 1 else ""
    return f"{what.capitalize()} was reported in {count} {kind}{plural} and reviewed by a human."


def decide(work: Work, moderator_id: int | None, case_id: int, verdict: Verdict) -> DecisionRow:
    """Takes a decision on the case: validates the ground, applies the action, writes the
    statement of reasons, logs it publicly and tells the author and the notifiers."""
    me = require_moderator(work, moderator_id)
    case = _case(work, case_id)
    errors = _verdict_errors(work, case, verdict)
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    now = work.now()
    status = work.store.statuses.get(case.subject_id) if case.subject_type == "status" else None
    account = work.store.accounts.get(case.account_id) if case.account_id is not None else None
    if account is None:
        raise NotFound("The reported account no longer exists")
    if status is None and case.subject_type == "status":
        raise NotFound("The reported post no longer exists")
    notices = _pending_notices(work, case.id)
    source = _source(notices)
    offence = vocab.offence(notices[0].category) if notices else None
    category = verdict.dsa_category or (
        offence.category if offence else "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    )
    inherited = offence is not None and offence.keyword and offence.category == category
    keywords = verdict.keywords or ((offence.keyword,) if offence and inherited else ())
    allowed = {*statement_schema.KEYWORDS.get(category, ()), statement_schema.KEYWORD_OTHER}
    if any(k not in allowed for k in keywords):
        raise Invalid(f"Validation failed: keywords: not keywords of {category}")
    action = vocab.ACTIONS[verdict.action]
    decision = DecisionRow(
        id=new_id(),
        puid=f"parvis-{uuid.uuid4()}",
        case_id=case.id,
        subject_type=case.subject_type,
        subject_id=case.subject_id,
        account_id=account.id,
        status_id=status.id if status else None,
        action=verdict.action,
        ground=verdict.ground if verdict.action != "none" else "",
        rule_id=verdict.rule_id if verdict.ground == "rule" else "",
        rule_version=(
            _current_rule_version(work, verdict.rule_id) if verdict.ground == "rule" else None
        ),
        legal_ground=verdict.legal_ground.strip() if verdict.ground == "law" else "",
        explanation=verdict.explanation.strip(),
        facts=verdict.facts.strip() or _facts(source, notices, case.subject_type),
        dsa_category=category,
        keywords=keywords,
        territorial_scope=verdict.territorial_scope,
        content_type=_content_type(status),
        content_language=((status.language or "") if status else "").upper()[:2],
        content_date=status.created_at if status else account.created_at,
        label=verdict.label.strip(),
        starts_at=now,
        ends_at=now + verdict.duration if verdict.duration is not None else None,
        source_type=source,
        source_identity="",
        automated_detection=verdict.automated_detection,
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        moderator_id=me,
        misuse=verdict.misuse,
        created_at=now,
        notified_at=now if action.key != "none" else None,
    )
    work.store.decisions.insert(decision)
    restrictions.apply(work, decision)
    index = transparency_log.append(work, log_entry(decision))
    work.store.decisions.update(decision.id, {"log_index": index})
    for notice_id in work.store.notices.decide_items(case.id, decision.id, now):
        _close_notice(work, notice_id, now)
    record(work, case, "decided", me, {"decision_id": decision.id, "action": decision.action})
    if decision.action != "none":
        _warn_author(work, decision)
    return replace(decision, log_index=index)


def own_initiative(
    work: Work, moderator_id: int | None, subject_type: str, subject_id: int, verdict: Verdict
) -> DecisionRow:
    """A decision no notice asked for (the moderators found it): source SOURCE_VOLUNTARY."""
    require_moderator(work, moderator_id)
    if subject_type == "status":
        status = work.store.statuses.get(subject_id)
        if status is None:
            raise NotFound("Record not found")
        author = (status.reblog or status).account.id
        subject_id = (status.reblog or status).id
    elif subject_type == "account":
        if work.store.accounts.get(subject_id) is None:
            raise NotFound("Record not found")
        author = subject_id
    else:
        raise Invalid("Validation failed: subject_type: status or account")
    case = case_for(work, subject_type, subject_id, author, source="own_initiative")
    return decide(work, moderator_id, case.id, verdict)


def _close_notice(work: Work, notice_id: int, now: datetime) -> None:
    """A notice is decided once every item of it is; its outcome says whether any was acted
    on. The notifier reads the decision on their receipt page (and in the web app), and gets it
    by e-mail when they gave an address and mail is configured."""
    if work.store.notices.undecided_items(notice_id):
        return
    acted = any(
        (d := work.store.decisions.get(item.decision_id)) is not None and d.action != "none"
        for item in work.store.notices.items(notice_id)
        if item.decision_id is not None
    )
    work.store.notices.update(
        notice_id,
        {"decided_at": now, "outcome": "actioned" if acted else "no_action", "notified_at": now},
    )
    notice = work.store.notices.get(notice_id)
    if notice is not None and notice.reporter_email and work.settings.smtp_url:
        work.later("mail_notice_decision", notice_id=notice_id)


def _warn_author(work: Work, decision: DecisionRow) -> None:
    """A moderation_warning notification (Mastodon 4.3) to a local author: it links to the
    statement of reasons, in their language, with the appeal button."""
    if decision.account_id is None or work.store.accounts.user(decision.account_id) is None:
        return
    work.store.notifications.add(
        decision.account_id,
        decision.account_id,
        "moderation_warning",
        None,
        work.now(),
        decision_id=decision.id,
    )


def log_entry(decision: DecisionRow) -> dict[str, object]:
    """What the public transparency log keeps of a decision: no names, no ids of people, no
    free text a moderator wrote (the legal ground is published with the statement of reasons)
    — only the facts a regulator counts."""
    entry: dict[str, object] = {
        "type": "decision",
        "puid": decision.puid,
        "action": decision.action,
        "category": decision.dsa_category,
        "keywords": list(decision.keywords),
        "territorial_scope": list(decision.territorial_scope),
        "source_type": decision.source_type,
        "automated_detection": decision.automated_detection,
        "automated_decision": decision.automated_decision,
        "subject_type": decision.subject_type,
        "misuse": decision.misuse,
        "starts_at": decision.starts_at.isoformat(),
        "ends_at": decision.ends_at.isoformat() if decision.ends_at else None,
        "created_at": decision.created_at.isoformat(),
    }
    if decision.ground:  # "no action" has none
        entry["ground"] = decision.ground
    if decision.ground == "rule":
        entry |= {"rule_id": decision.rule_id, "rule_version": decision.rule_version}
    return entry


def decisions_about(work: Work, account_id: int) -> list[DecisionRow]:
    """The decisions about an account's posts and the account itself (what its owner sees)."""
    return work.store.decisions.of_account(account_id)


def decision(work: Work, decision_id: int) -> DecisionRow:
    found = work.store.decisions.get(decision_id)
    if found is None:
        raise NotFound("No such decision")
    return found
