"""Notices (EU Digital Services Act, art. 16 "notice and action"): anyone, signed in or not,
through the web app, a client app or another server, may report posts or accounts as illegal or
against the rules. A notice holds one or more items; each item is filed under the moderation
case of its subject, so duplicate notices on one post are handled together. The notifier gets a
receipt at once (their acknowledgement, with a private link to follow the notice) and is told
the decision and how to contest it on that link."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from parvis.domain import moderation as vocab
from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.domain.models import Status
from parvis.services import cases, mail, trusted_flaggers
from parvis.services.context import Work
from parvis.services.posting import visible_status
from parvis.storage.notices import NoticeItemRow, NoticeRow

# The plain-language choices of the report form, in the order the form shows them.
CATEGORIES = tuple(vocab.OFFENCES)
MAX_EXPLANATION = 5000
MAX_LEGAL_GROUND = 500
MAX_NAME = 200
MAX_EMAIL = 320
MAX_ITEMS = 20
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Item:
    """One reported item: a post, or an account (when status_id is None)."""

    status_id: int | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class NewNotice:
    category: str  # an offence key (vocab.OFFENCES)
    explanation: str
    items: tuple[Item, ...] = ()
    legal_ground: str = ""
    rule_ids: tuple[str, ...] = ()
    reporter_name: str = ""
    reporter_email: str = ""
    good_faith: bool = False
    channel: str = "web"
    remote_actor: str = ""


@dataclass(frozen=True)
class Receipt:
    """The acknowledgement of receipt: the notice and the secret of its follow-up link (shown
    once; only its hash is stored)."""

    notice: NoticeRow
    key: str


def receipt_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class _Subject:
    type: str  # status | account
    id: int
    account_id: int
    status: Status | None


def target(work: Work, viewer_id: int | None, status_id: int | None, account_id: int | None) -> int:
    """The reported account: the author of the status (which the reporter must be able to see),
    or the account itself. NotFound otherwise."""
    return _subject(work, viewer_id, Item(status_id, account_id)).account_id


def _subject(work: Work, viewer_id: int | None, item: Item) -> _Subject:
    if item.status_id is not None:
        status = visible_status(work, viewer_id, item.status_id)
        original = status.reblog or status  # a boost is reported as the boosted post
        return _Subject("status", original.id, original.account.id, original)
    if item.account_id is not None and work.store.accounts.get(item.account_id) is not None:
        return _Subject("account", item.account_id, item.account_id, None)
    raise NotFound("Record not found")


def _errors(notice: NewNotice, explanation: str, name: str, email: str) -> list[str]:
    errors = []
    if notice.category not in vocab.OFFENCES:
        errors.append("category: choose what is wrong")
    if not explanation and notice.channel != "app":
        errors.append("explanation: say why this is illegal or against the rules")
    if len(explanation) > MAX_EXPLANATION:
        errors.append(f"explanation: at most {MAX_EXPLANATION} characters")
    if len(notice.legal_ground) > MAX_LEGAL_GROUND:
        errors.append(f"legal_ground: at most {MAX_LEGAL_GROUND} characters")
    if len(name) > MAX_NAME:
        errors.append(f"name: at most {MAX_NAME} characters")
    valid = len(email) <= MAX_EMAIL and EMAIL.match(email) and mail.valid_address(email)
    if email and not valid:
        errors.append("email: not a valid e-mail address")
    if not notice.good_faith and notice.channel != "app":
        errors.append("good_faith: confirm that this notice is accurate and sent in good faith")
    if not notice.items:
        errors.append("items: report at least one post or account")
    if len(notice.items) > MAX_ITEMS:
        errors.append(f"items: at most {MAX_ITEMS} posts or accounts in one notice")
    if notice.channel not in vocab.CHANNELS:
        errors.append("channel: unknown")
    if len(notice.rule_ids) > 20 or any(not r.isalnum() or len(r) > 16 for r in notice.rule_ids):
        errors.append("rule_ids: at most 20 rule ids")
    return errors


def submit(work: Work, reporter_id: int | None, notice: NewNotice) -> Receipt:
    """Stores the notice, files each item under its subject's case, and acknowledges it. A
    notice sent from a trusted flagger's account, within its areas of expertise, takes the
    priority lane (DSA art. 22)."""
    now = work.now()
    flagger = trusted_flaggers.for_account(work, reporter_id)
    trusted_flagger_id = flagger.id if flagger and flagger.covers(notice.category) else None
    if reporter_id is not None:
        account = work.store.accounts.get(reporter_id)
        until = account.notices_suspended_until if account else None
        if until is not None and until > now:
            raise Forbidden(
                "Your notices are not being processed until "
                f"{until:%Y-%m-%d}: too many of them were manifestly unfounded"
            )
    explanation = notice.explanation.strip()
    name, email = notice.reporter_name.strip(), notice.reporter_email.strip()
    if vocab.offence(notice.category).anonymous_only:
        name, email = "", ""  # never asked, never kept (DSA art. 16(2)(c))
    errors = _errors(notice, explanation, name, email)
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    subjects: dict[tuple[str, int], _Subject] = {}
    for item in notice.items:
        found = _subject(work, reporter_id, item)
        subjects.setdefault((found.type, found.id), found)
    offence = vocab.offence(notice.category)
    trusted = trusted_flagger_id is not None
    first = next(iter(subjects.values()))
    language = (first.status.language or "") if first.status else ""
    key = secrets.token_urlsafe(24)
    row = NoticeRow(
        id=new_id(),
        reporter_account_id=reporter_id,
        category=offence.key,
        dsa_category=offence.category,
        legal_ground=notice.legal_ground.strip(),
        rule_ids=",".join(notice.rule_ids),
        explanation=explanation,
        reporter_name=name,
        reporter_email=email,
        channel="trusted_flagger" if trusted else notice.channel,
        trusted_flagger_id=trusted_flagger_id,
        remote_actor=notice.remote_actor,
        receipt_hash=receipt_hash(key),
        language=language,
        priority=vocab.priority(offence.key, trusted),
        automated=False,
        created_at=now,
        acknowledged_at=now,
        due_at=vocab.due(now, offence.key, timedelta(hours=work.settings.moderation_target_hours)),
    )
    items = []
    for subject in subjects.values():
        case = cases.file_notice(
            work,
            subject.type,
            subject.id,
            subject.account_id,
            notice=row,
            language=(subject.status.language or "") if subject.status else "",
        )
        items.append(
            NoticeItemRow(
                id=new_id(),
                notice_id=row.id,
                case_id=case.id,
                status_id=subject.id if subject.type == "status" else None,
                account_id=subject.account_id,
            )
        )
    work.store.notices.insert(row, items)
    if email and work.settings.smtp_url:  # the key travels in the job's payload, never stored
        work.later("mail_notice_receipt", notice_id=row.id, key=key)
    return Receipt(notice=row, key=key)


def by_receipt(work: Work, key: str) -> NoticeRow:
    """The notice behind a receipt link (the notifier's way back, without an account)."""
    found = work.store.notices.by_receipt(receipt_hash(key)) if key else None
    if found is None:
        raise NotFound("No notice has this receipt")
    return found


def received(work: Work) -> dict[str, int]:
    """Notices received so far, per category (every category listed, zeros included)."""
    counts = work.store.notices.count_by_category()
    return {category: counts.get(category, 0) for category in CATEGORIES}
