"""The report form (a notice under DSA art. 16): anyone, visitors included, may report a post
(`/report?status=ID`) or an account (`/report?account=ID`), and add more posts of the same
account to the same notice. The choices are the offences of `parvis.domain.moderation` in plain
words, grouped by urgency; the notifier's name and e-mail address are optional, and never asked
for child sexual abuse material. The answer is the acknowledgement of receipt: the notice's
number and its private follow-up link (`/notices/{key}`, views/decisions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain import moderation as vocab
from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.models import Account, Status
from parvis.services import federate, notices, posting, timelines
from parvis.services import rules as server_rules
from parvis.services.context import Work
from parvis.web.pages import (
    Visitor,
    error_message,
    form,
    read,
    render,
    runtime,
    text,
    visitor,
    write,
)

# The report form's choices, grouped: what cannot wait, what French law forbids, and what only
# the server's rules forbid. Every offence is in exactly one group (tests/web/test_report.py).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("urgent", ("threat_to_life", "self_harm")),
    (
        "illegal",
        (
            "child_abuse",
            "terrorism",
            "crimes_against_humanity",
            "racial_hatred",
            "hatred_identity",
            "incitement_to_violence",
            "harassment",
            "non_consensual_images",
            "human_dignity",
            "defamation",
            "privacy",
            "scam",
            "impersonation",
            "copyright",
        ),
    ),
    ("rules", ("spam", "rules", "other")),
)
MORE_POSTS = 10  # the author's recent posts offered as further items of the same notice


@dataclass(frozen=True)
class Subject:
    """What the form reports, and what else of the same author may be added to it."""

    status: Status | None
    account: Account
    others: tuple[Status, ...]
    rules: tuple[server_rules.Rule, ...]


def _target(request: Request) -> tuple[int | None, int | None]:
    params = request.query_params
    return parse_id(params.get("status", "")), parse_id(params.get("account", ""))


def _subject(
    work: Work, viewer: int | None, status_id: int | None, account_id: int | None
) -> Subject:
    reported = notices.target(work, viewer, status_id, account_id)
    account = work.store.accounts.get(reported)
    if account is None:
        raise NotFound("Record not found")
    status = posting.visible_status(work, viewer, status_id) if status_id else None
    status = (status.reblog or status) if status else None
    recent = timelines.account_statuses(
        work,
        viewer,
        account.id,
        timelines.Paging(limit=MORE_POSTS + 1),
        exclude_reblogs=True,
    ).statuses
    others = tuple(s for s in recent if status is None or s.id != status.id)[:MORE_POSTS]
    return Subject(status, account, others, tuple(server_rules.current(work)))


async def _load(
    request: Request, who: Visitor, status_id: int | None, account_id: int | None
) -> Subject:
    viewer = who.account_id
    return await read(request, lambda work: _subject(work, viewer, status_id, account_id))


def _page(
    request: Request,
    who: Visitor,
    subject: Subject,
    *,
    values: dict[str, object],
    error: str | None = None,
    code: int = 200,
) -> Response:
    return render(
        request,
        who,
        "report.html",
        code=code,
        status=subject.status,
        account=subject.account,
        others=subject.others,
        rules=subject.rules,
        groups=GROUPS,
        offences=vocab.OFFENCES,
        error=error,
        values=values,
    )


async def report_page(request: Request) -> Response:
    who = await visitor(request)
    status_id, account_id = _target(request)
    try:
        subject = await _load(request, who, status_id, account_id)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return _page(request, who, subject, values={"more": [], "rule_ids": []})


def _ids(data: FormData, name: str) -> list[int]:
    found = (parse_id(v) for v in data.getlist(name)[: notices.MAX_ITEMS] if isinstance(v, str))
    return [i for i in found if i is not None]


def _rule_ids(data: FormData) -> list[str]:
    return [v[:16] for v in data.getlist("rule_ids")[:20] if isinstance(v, str) and v]


async def report(request: Request) -> Response:
    who = await visitor(request)
    data = await form(request)
    status_id, account_id = _target(request)
    more = _ids(data, "more")
    values: dict[str, object] = {
        "category": text(data, "category", limit=32),
        "legal_ground": text(data, "legal_ground", limit=notices.MAX_LEGAL_GROUND + 1),
        "explanation": text(data, "explanation", limit=notices.MAX_EXPLANATION + 1),
        "reporter_name": text(data, "reporter_name", limit=notices.MAX_NAME + 1),
        "reporter_email": text(data, "reporter_email", limit=notices.MAX_EMAIL + 1),
        "more": more,
        "rule_ids": _rule_ids(data),
        "forward": data.get("forward") == "on",
    }
    category = str(values["category"])
    items = [notices.Item(status_id=status_id, account_id=account_id)]
    items += [notices.Item(status_id=i) for i in more if i != status_id]
    notice = notices.NewNotice(
        category=category,
        explanation=str(values["explanation"]),
        items=tuple(items),
        legal_ground=str(values["legal_ground"]),
        rule_ids=tuple(_rule_ids(data)) if category == "rules" else (),
        reporter_name=str(values["reporter_name"]),
        reporter_email=str(values["reporter_email"]),
        good_faith=data.get("good_faith") == "on",
        channel="web",
    )
    reporter = who.account_id

    def submit(work: Work) -> notices.Receipt:
        # The extra posts must be the reported author's: one notice, one author.
        author = notices.target(work, reporter, status_id, account_id)
        for item in items[1:]:
            if notices.target(work, reporter, item.status_id, None) != author:
                raise NotFound("Record not found")
        receipt = notices.submit(work, reporter, notice)
        if values["forward"] and reporter is not None:  # to its server's moderators, unnamed
            statuses = [i.status_id for i in items if i.status_id is not None]
            federate.report_forwarded(
                work, reporter, author, statuses, notice.explanation, receipt.notice.id
            )
        return receipt

    try:
        receipt = await write(request, submit)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    except DomainError as exc:
        try:
            subject = await _load(request, who, status_id, account_id)
        except NotFound:
            return render(request, who, "not_found.html", code=404)
        return _page(
            request, who, subject, values=values, error=error_message(exc), code=exc.status
        )
    base = runtime(request).settings.base_url
    return render(
        request,
        who,
        "report_sent.html",
        notice=receipt.notice,
        key=receipt.key,
        link=f"{base}/notices/{receipt.key}",
        items=len(items),
    )


routes = [
    Route("/report", report_page, methods=["GET"]),
    Route("/report", report, methods=["POST"]),
]
