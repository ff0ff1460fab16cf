"""Notices (EU Digital Services Act, art. 16 "notice and action"): anyone, signed in or not,
may report a post or an account as illegal or against the rules. A notice is stored as sent and
acknowledged with its number; the moderation queue decides on it later."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parvis.domain.errors import Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.services.context import Work
from parvis.services.posting import visible_status
from parvis.storage.notices import NoticeRow

CATEGORIES = (
    "illegal",
    "harassment",
    "hate",
    "violence",
    "terrorism",
    "child_abuse",
    "spam",
    "other",
)
MAX_EXPLANATION = 5000
MAX_NAME = 200
MAX_EMAIL = 320
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewNotice:
    category: str
    explanation: str
    status_id: int | None = None
    account_id: int | None = None
    reporter_name: str = ""
    reporter_email: str = ""
    good_faith: bool = False


def target(work: Work, viewer_id: int | None, status_id: int | None, account_id: int | None) -> int:
    """The reported account: the author of the status (which the reporter must be able to see),
    or the account itself. NotFound otherwise."""
    if status_id is not None:
        status = visible_status(work, viewer_id, status_id)
        return (status.reblog or status).account.id
    if account_id is not None and work.store.accounts.get(account_id) is not None:
        return account_id
    raise NotFound("Record not found")


def submit(work: Work, reporter_id: int | None, notice: NewNotice) -> NoticeRow:
    account_id = target(work, reporter_id, notice.status_id, notice.account_id)
    explanation = notice.explanation.strip()
    name, email = notice.reporter_name.strip(), notice.reporter_email.strip()
    errors = []
    if notice.category not in CATEGORIES:
        errors.append("category: choose what is wrong")
    if not explanation:
        errors.append("explanation: say why this is illegal or against the rules")
    if len(explanation) > MAX_EXPLANATION:
        errors.append(f"explanation: at most {MAX_EXPLANATION} characters")
    if len(name) > MAX_NAME:
        errors.append(f"name: at most {MAX_NAME} characters")
    if email and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        errors.append("email: not a valid e-mail address")
    if not notice.good_faith:
        errors.append("good_faith: confirm that this notice is accurate and sent in good faith")
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    status_id = notice.status_id
    if status_id is not None:
        found = work.store.statuses.get(status_id)
        if found is not None and found.reblog is not None:
            status_id = found.reblog.id  # a boost is reported as the boosted post
    row = NoticeRow(
        id=new_id(),
        status_id=status_id,
        account_id=account_id,
        reporter_account_id=reporter_id,
        category=notice.category,
        explanation=explanation,
        reporter_name=name,
        reporter_email=email,
        created_at=work.now(),
    )
    work.store.notices.insert(row)
    return row


def received(work: Work) -> dict[str, int]:
    """Notices received so far, per category (every category listed, zeros included)."""
    counts = work.store.notices.count_by_category()
    return {category: counts.get(category, 0) for category in CATEGORIES}
