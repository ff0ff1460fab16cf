"""The moderation pages through the TestClient, as people use them: a visitor reports a post; a
moderator finds it in the queue (most urgent first, with its clock), works on the case (assign,
note, escalate), decides with a stated ground; the author reads the statement of reasons and
appeals; another moderator reverses; the notifier follows it all on their receipt link. Also:
the role checks, CSRF on every form, and a refused decision that restricts nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.ids import parse_id
from parvis.services import accounts
from tests.web.browser import browser, csrf, sign_up

ROUTES_POSTED = (
    "/moderation/cases/{case}/assign",
    "/moderation/cases/{case}/escalate",
    "/moderation/cases/{case}/note",
    "/moderation/cases/{case}/decide",
    "/moderation/cases/new?status={post}",
    "/moderation/appeals/{case}",
    "/decisions/{case}/appeal",
)


@contextmanager
def clock_at(parvis: Parvis, moment: datetime) -> Iterator[None]:
    saved = parvis.runtime.clock
    parvis.runtime.clock = lambda: moment
    try:
        yield
    finally:
        parvis.runtime.clock = saved


def account_id(client: TestClient, name: str) -> int:
    found = parse_id(client.get(f"/api/v1/accounts/lookup?acct={name}").json()["id"])
    assert found is not None
    return found


def moderator(client: TestClient, parvis: Parvis) -> TestClient:
    """A browser signed in as a new moderator."""
    web = browser(client)
    name = sign_up(web)
    target = account_id(client, name)
    parvis.runtime.write(lambda work: accounts.set_role(work, target, "moderator"))
    return web


def author_with_post(
    client: TestClient, text: str = "A post to moderate"
) -> tuple[TestClient, str]:
    web = browser(client)
    sign_up(web)
    r = web.post(
        "/statuses",
        data={"csrf": csrf(web.get("/home").text), "status": text},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return web, r.headers["location"].rsplit("/", 1)[1]


def report(visitor: TestClient, sid: str, category: str = "racial_hatred") -> str:
    """Reports the post as a visitor; returns the receipt's follow-up path."""
    page = visitor.get(f"/report?status={sid}").text
    r = visitor.post(
        f"/report?status={sid}",
        data={
            "csrf": csrf(page),
            "category": category,
            "explanation": "It insults people for their origin.",
            "good_faith": "on",
        },
    )
    assert r.status_code == 200, r.text
    found = re.search(r'href="(/notices/[^"]+)"', r.text)
    assert found
    return found.group(1)


def case_of(parvis: Parvis, sid: str) -> int:
    found = parvis.runtime.read(lambda work: work.store.cases.for_subject("status", int(sid)))
    assert found is not None
    return found.id


def restriction(parvis: Parvis, sid: str) -> str | None:
    found = parvis.runtime.read(lambda work: work.store.statuses.get(int(sid)))
    assert found is not None
    return found.restriction


def decide(web: TestClient, case: int, **fields: str) -> Any:
    page = web.get(f"/moderation/cases/{case}").text
    return web.post(
        f"/moderation/cases/{case}/decide",
        data={"csrf": csrf(page), **fields},
        follow_redirects=False,
    )


def test_only_moderators_see_the_moderation_pages(client: TestClient, parvis: Parvis) -> None:
    _, sid = author_with_post(client)
    report(browser(client), sid)
    case = case_of(parvis, sid)
    user = browser(client)
    sign_up(user)
    for path in ("/moderation", f"/moderation/cases/{case}", "/moderation/appeals"):
        r = user.get(path)
        assert r.status_code == 403, path
        assert "for the moderators" in r.text
        assert browser(client).get(path, follow_redirects=False).status_code == 303
    # A user's form, with a valid token, changes nothing.
    token = csrf(user.get("/home").text)
    r = user.post(
        f"/moderation/cases/{case}/decide",
        data={"csrf": token, "action": "remove", "ground": "rule", "rule_id": "1"},
    )
    assert r.status_code == 403
    assert restriction(parvis, sid) is None
    assert 'href="/moderation"' not in user.get("/home").text
    assert 'href="/moderation"' in moderator(client, parvis).get("/home").text


def test_every_moderation_form_needs_its_csrf_token(client: TestClient, parvis: Parvis) -> None:
    _, sid = author_with_post(client)
    report(browser(client), sid)
    case = case_of(parvis, sid)
    mod = moderator(client, parvis)
    for route in ROUTES_POSTED:
        path = route.format(case=case, post=sid)
        fields = {"action": "remove", "ground": "rule", "rule_id": "1", "explanation": "x"}
        for data in ({}, {"csrf": "0" * 64}):
            r = mod.post(path, data={**fields, **data}, follow_redirects=False)
            assert r.status_code == 403, path
    assert restriction(parvis, sid) is None
    events = parvis.runtime.read(lambda work: work.store.cases.events(case))
    assert [e.kind for e in events] == ["opened", "notice"]


def test_the_queue_puts_the_most_urgent_first(client: TestClient, parvis: Parvis) -> None:
    _, spam = author_with_post(client, "Buy cheap watches")
    _, threat = author_with_post(client, "I know where you live")
    visitor = browser(client)
    report(visitor, spam, "spam")
    report(visitor, threat, "threat_to_life")
    mod = moderator(client, parvis)
    page = mod.get("/moderation").text
    assert page.index("I know where you live") < page.index("Buy cheap watches")
    assert "A threat to someone's life or safety" in page
    assert "1 report" in page
    assert "left" in page and "past 48 h" not in page
    # Two days later, both are overdue and past the line the law's bailiffs checked.
    with clock_at(parvis, datetime.now().astimezone() + timedelta(hours=49)):
        late = mod.get("/moderation").text
    assert "overdue by" in late and "past 48 h" in late
    # Filters: nothing is assigned to this moderator yet.
    assert "Nothing to review" in mod.get("/moderation?mine=1").text


def test_a_decision_without_a_ground_is_refused_and_restricts_nothing(
    client: TestClient, parvis: Parvis
) -> None:
    _, sid = author_with_post(client)
    report(browser(client), sid)
    case = case_of(parvis, sid)
    mod = moderator(client, parvis)
    r = decide(mod, case, action="remove", ground="", explanation="Hateful words.")
    assert r.status_code == 422
    html = r.text
    assert 'role="alert"' in html and "ground:" in html
    assert "Nothing was decided or restricted" in html
    assert "Hateful words." in html  # the values are kept
    assert 'id="action-remove" name="action" value="remove" required checked' in html
    assert restriction(parvis, sid) is None
    assert parvis.runtime.read(lambda work: work.store.decisions.of_case(case)) == []
    # A law ground without the law named, a suspension without a duration: refused too.
    r = decide(mod, case, action="remove", ground="law", legal_ground="", explanation="x")
    assert r.status_code == 422 and "legal_ground:" in r.text
    r = decide(mod, case, action="suspend", ground="rule", rule_id="2", explanation="x")
    assert r.status_code == 422 and "duration:" in r.text
    assert restriction(parvis, sid) is None


def test_the_case_page_works_the_case(client: TestClient, parvis: Parvis) -> None:
    _, sid = author_with_post(client)
    report(browser(client), sid)
    case = case_of(parvis, sid)
    mod = moderator(client, parvis)
    page = mod.get(f"/moderation/cases/{case}").text
    assert "It insults people for their origin." in page
    # The law is pre-filled from the offence reported.
    assert "Loi du 29 juillet 1881 sur la libert" in page
    for path, data in (
        ("assign", {}),
        ("note", {"text": "Looks like a quote from a novel."}),
        ("escalate", {"reason": "Needs a lawyer's eye."}),
        ("assign", {"release": "1"}),
    ):
        token = csrf(mod.get(f"/moderation/cases/{case}").text)
        r = mod.post(
            f"/moderation/cases/{case}/{path}", data={"csrf": token, **data}, follow_redirects=False
        )
        assert r.status_code == 303, (path, r.text)
    page = mod.get(f"/moderation/cases/{case}").text
    history = page[page.index('id="history"') :]
    for words in ("Assigned", "Looks like a quote from a novel.", "Needs a lawyer", "Released"):
        assert words in history
    assert "Escalated" in page
    # An empty note is refused with its message.
    token = csrf(page)
    r = mod.post(f"/moderation/cases/{case}/note", data={"csrf": token, "text": " "})
    assert r.status_code == 422 and "text:" in r.text


def test_own_initiative_opens_a_case(client: TestClient, parvis: Parvis) -> None:
    _, sid = author_with_post(client, "Nobody reported this")
    mod = moderator(client, parvis)
    page = mod.get(f"/moderation/cases/new?status={sid}")
    assert page.status_code == 200 and "Nobody reported this" in page.text
    r = mod.post(
        f"/moderation/cases/new?status={sid}",
        data={
            "csrf": csrf(page.text),
            "action": "label",
            "ground": "rule",
            "rule_id": "3",
            "label": "Automated account",
            "explanation": "Posted by a script.",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    case = case_of(parvis, sid)
    assert r.headers["location"].startswith(f"/moderation/cases/{case}")
    assert restriction(parvis, sid) == "label"
    again = mod.get(f"/moderation/cases/new?status={sid}", follow_redirects=False)
    assert again.headers["location"] == f"/moderation/cases/{case}"
    [decision] = parvis.runtime.read(lambda work: work.store.decisions.of_case(case))
    assert decision.source_type == "SOURCE_VOLUNTARY"


def test_the_whole_flow(client: TestClient, parvis: Parvis) -> None:
    author, sid = author_with_post(client, "Words that break rule two")
    notifier = browser(client)
    receipt = report(notifier, sid)
    first, second = moderator(client, parvis), moderator(client, parvis)
    case = case_of(parvis, sid)

    # The moderator acts on a rule ground.
    r = decide(
        first,
        case,
        action="disable",
        ground="rule",
        rule_id="2",
        explanation="Insults aimed at people for their origin.",
        duration="30",
    )
    assert r.status_code == 303, r.text
    assert restriction(parvis, sid) == "disable"
    assert browser(client).get(f"/api/v1/statuses/{sid}").status_code == 404  # hidden
    assert "Access to the post disabled" in first.get(f"/moderation/cases/{case}").text
    [decision] = parvis.runtime.read(lambda work: work.store.decisions.of_case(case))

    # The author is notified, and reads the statement of reasons.
    notes = author.get("/notifications").text
    assert f'href="/decisions/{decision.id}"' in notes
    statement = author.get(f"/decisions/{decision.id}")
    assert statement.status_code == 200
    for words in (
        "Statement of reasons",
        "Access to the post disabled",
        "Rule 2 of this server",
        "No harassment, threats or incitement to violence.",
        "Insults aimed at people for their origin.",
        "No automated means were used",
        "It followed a report",
        "out-of-court",
        "Words that break rule two",  # the author still sees their post
    ):
        assert words in statement.text, words
    assert f'href="/decisions/{decision.id}"' in author.get("/settings/moderation").text
    # Nobody else sees it.
    assert notifier.get(f"/decisions/{decision.id}", follow_redirects=False).status_code == 303
    assert second.get(f"/decisions/{decision.id}").status_code == 404

    # The notifier sees the decision on the receipt link.
    followed = notifier.get(receipt).text
    assert "Access to the post disabled" in followed and "Rule 2 of this server" in followed

    # The author appeals.
    r = author.post(
        f"/decisions/{decision.id}/appeal",
        data={"csrf": csrf(statement.text), "text": "It was a quote, in context."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    after = author.get(r.headers["location"]).text
    assert "Your appeal was received" in after and "Being reviewed" in after
    assert 'name="text"' not in after  # one pending appeal at a time

    # The decider may not review it; the second moderator reverses.
    assert "another moderator must review" in first.get("/moderation/appeals").text
    appeals_page = second.get("/moderation/appeals").text
    assert "It was a quote, in context." in appeals_page
    appeal_id = re.search(r'action="/moderation/appeals/(\d+)"', appeals_page)
    assert appeal_id
    token = csrf(appeals_page)
    r = first.post(
        f"/moderation/appeals/{appeal_id.group(1)}",
        data={"csrf": csrf(first.get("/home").text), "outcome": "reversed", "reply": "x"},
    )
    assert r.status_code == 403
    r = second.post(
        f"/moderation/appeals/{appeal_id.group(1)}",
        data={"csrf": token, "outcome": "reversed", "reply": "Quoted to criticise it."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert restriction(parvis, sid) is None
    assert browser(client).get(f"/api/v1/statuses/{sid}").status_code == 200  # restored
    reversed_page = author.get(f"/decisions/{decision.id}").text
    assert "reversed on appeal" in reversed_page and "Quoted to criticise it." in reversed_page

    # The notifier is told, and may still contest the outcome in their turn.
    followed = notifier.get(receipt).text
    assert "reversed on appeal" in followed
    history = second.get(f"/moderation/cases/{case}").text
    assert "Decision reversed" in history and "Appeal decided" in history


def test_the_notifier_appeals_a_rejection_through_the_receipt(
    client: TestClient, parvis: Parvis
) -> None:
    _, sid = author_with_post(client)
    notifier = browser(client)
    receipt = report(notifier, sid)
    case = case_of(parvis, sid)
    mod = moderator(client, parvis)
    r = decide(mod, case, action="none", explanation="Satire, not hatred.")
    assert r.status_code == 303, r.text
    page = notifier.get(receipt).text
    assert "No action" in page and "Satire, not hatred." in page
    assert "out-of-court" in page and "tribunal judiciaire" in page
    key = receipt.rsplit("/", 1)[1]
    assert f'name="receipt" value="{key}"' in page
    decision_id = re.search(r'action="/decisions/(\d+)/appeal', page)
    assert decision_id
    r = notifier.post(
        f"/decisions/{decision_id.group(1)}/appeal",
        data={"csrf": csrf(page), "receipt": key, "text": "It is plainly hateful."},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"{receipt}?appealed=1"
    assert "It is plainly hateful." in notifier.get(receipt).text
    # Without the receipt, a visitor cannot appeal.
    r = browser(client).post(
        f"/decisions/{decision_id.group(1)}/appeal",
        data={"csrf": csrf(browser(client).get("/login").text), "text": "me too"},
    )
    assert r.status_code in (403, 404)


def test_unknown_receipts_and_decisions_are_not_found(client: TestClient) -> None:
    assert client.get("/notices/not-a-key").status_code == 404
    sign_up(client)
    assert client.get("/decisions/123").status_code == 404
    assert client.get("/settings/reports/123").status_code == 404
