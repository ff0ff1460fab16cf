"""E-mail to notifiers (DSA art. 16(4) and 16(5)), through the real services, jobs and database,
with a recording mailer in place of SMTP (the outbound transport: the one fake allowed): the
receipt carries a follow-up link that works, the decision mail its ground and the out-of-court
bodies; no address, a child-abuse notice (no address kept) or no mail configured: nothing sent;
and no text anyone writes can add a header or a recipient."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.config import Settings
from parvis.domain import statements as sor
from parvis.domain.errors import Invalid
from parvis.services import accounts, mail, moderation, notices
from parvis.storage.moderation import DecisionRow
from parvis.storage.notices import NoticeRow
from tests.builders import User, make_user

# Mail is "configured" (PARVIS_SMTP_URL set); the tests then swap the SMTP mailer for a recorder.
WITH_MAIL = pytest.mark.parametrize("parvis", [{"smtp_url": "smtp://127.0.0.1:9"}], indirect=True)
ADDRESS = "ann@example.test"


class Recorder:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


@pytest.fixture
def mailbox(parvis: Parvis) -> Iterator[Recorder]:
    recorder = Recorder()
    parvis.runtime.mailer = recorder
    yield recorder


def text_of(message: EmailMessage) -> str:
    """The body decoded, its whitespace (line wrapping, no-break spaces) made single spaces."""
    return " ".join(str(message.get_content()).split())


def post(user: User, text: str = "Something") -> str:
    r = user.post("/api/v1/statuses", data={"status": text})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def report(
    parvis: Parvis, status_id: str, category: str = "racial_hatred", **extra: Any
) -> notices.Receipt:
    notice = notices.NewNotice(
        category=category,
        explanation="It insults a group of people.",
        items=(notices.Item(status_id=int(status_id)),),
        good_faith=True,
        **extra,
    )
    return parvis.runtime.write(lambda w: notices.submit(w, None, notice))


def decide(parvis: Parvis, client: TestClient, status_id: str, **verdict: Any) -> DecisionRow:
    mod = make_user(client)
    parvis.runtime.write(lambda w: accounts.set_role(w, int(mod.id), "moderator"))
    case = parvis.runtime.read(lambda w: w.store.cases.for_subject("status", int(status_id)))
    assert case is not None
    v = moderation.Verdict(**verdict)
    return parvis.runtime.write(lambda w: moderation.decide(w, int(mod.id), case.id, v))


@WITH_MAIL
def test_a_visitor_gets_the_receipt_with_a_working_follow_up_link(
    client: TestClient, parvis: Parvis, mailbox: Recorder
) -> None:
    author = make_user(client)
    sid = post(author, "Something to report")
    receipt = report(parvis, sid, reporter_email=ADDRESS, reporter_name="Ann")
    [message] = mailbox.sent
    assert message["To"] == ADDRESS
    assert str(receipt.notice.id) in message["Subject"]
    body = text_of(message)
    assert f"nº {receipt.notice.id}" in body and f"no. {receipt.notice.id}" in body
    assert f"@{author.username}" in body and f"/{sid}" in body  # what was reported, linked
    assert body.index("Bonjour") < body.index("Hello")  # French first, then English
    link = re.search(r"https://parvis\.test(/notices/\S+)", body)
    assert link is not None
    assert link.group(1) == f"/notices/{receipt.key}"
    page = client.get(link.group(1))
    assert page.status_code == 200
    assert "It insults a group of people." in page.text and "Being reviewed" in page.text
    # The key is only in the mail: the database keeps its hash.
    row = parvis.runtime.read(lambda w: w.store.notices.get(receipt.notice.id))
    assert row is not None and receipt.key not in repr(row)
    assert row.receipt_hash == notices.receipt_hash(receipt.key)


@WITH_MAIL
def test_the_decision_mail_states_the_ground_and_the_ways_to_contest(
    client: TestClient, parvis: Parvis, mailbox: Recorder
) -> None:
    sid = post(make_user(client))
    receipt = report(parvis, sid, reporter_email=ADDRESS)
    decide(
        parvis,
        client,
        sid,
        action="remove",
        ground="rule",
        rule_id="2",
        explanation="A threat against a named person.",
    )
    [_, message] = mailbox.sent
    assert message["To"] == ADDRESS
    body = text_of(message)
    assert str(receipt.notice.id) in message["Subject"]
    assert "Post removed" in body and "Message retiré" in body
    rule = parvis.settings.rules[1]  # rule 2, its text in the version in force
    assert rule in body and "A threat against a named person." in body
    ods = parvis.settings.dispute_bodies[0].split(" — ")[1]
    assert ods in body  # the out-of-court bodies (DSA art. 21)
    assert "tribunal judiciaire" in body  # and the courts
    assert receipt.key not in body  # never stored, so never in this mail
    assert "follow-up link of the acknowledgement of receipt" in body  # it points back there
    deadline = (datetime.now(UTC) + timedelta(days=183)).year
    assert str(deadline) in body


@WITH_MAIL
def test_a_rejected_notice_is_told_so_with_the_law_unneeded(
    client: TestClient, parvis: Parvis, mailbox: Recorder
) -> None:
    sid = post(make_user(client))
    report(parvis, sid, reporter_email=ADDRESS)
    decide(parvis, client, sid, action="none", explanation="Satire, not hatred.")
    [_, message] = mailbox.sent
    body = text_of(message)
    assert "No action: the content stays as it is" in body
    assert "Satire, not hatred." in body
    assert "neither illegal nor against the rules" in body


@WITH_MAIL
def test_a_law_ground_is_quoted(client: TestClient, parvis: Parvis, mailbox: Recorder) -> None:
    sid = post(make_user(client))
    report(parvis, sid, reporter_email=ADDRESS)
    decide(
        parvis,
        client,
        sid,
        action="disable",
        ground="law",
        legal_ground="Loi du 29 juillet 1881, art. 24",
        explanation="Incitement to hatred.",
    )
    body = text_of(mailbox.sent[-1])
    assert "Loi du 29 juillet 1881, art. 24" in body and "Incitement to hatred." in body


@WITH_MAIL
def test_no_address_no_mail(client: TestClient, parvis: Parvis, mailbox: Recorder) -> None:
    sid = post(make_user(client))
    report(parvis, sid)
    decide(parvis, client, sid, action="remove", ground="rule", rule_id="2", explanation="x")
    assert mailbox.sent == []


@WITH_MAIL
def test_a_child_abuse_notice_keeps_no_address_and_sends_nothing(
    client: TestClient, parvis: Parvis, mailbox: Recorder
) -> None:
    sid = post(make_user(client))
    receipt = report(parvis, sid, "child_abuse", reporter_email=ADDRESS, reporter_name="Ann")
    assert receipt.notice.reporter_email == ""
    decide(
        parvis,
        client,
        sid,
        action="remove",
        ground="law",
        legal_ground="Code pénal, art. 227-23",
        explanation="Child sexual abuse material.",
    )
    assert mailbox.sent == []


def test_without_smtp_url_nothing_is_queued_or_sent(
    client: TestClient, parvis: Parvis, mailbox: Recorder
) -> None:
    assert parvis.settings.smtp_url == ""
    sid = post(make_user(client))
    notice = notices.NewNotice(
        category="spam",
        explanation="Spam.",
        items=(notices.Item(status_id=int(sid)),),
        good_faith=True,
        reporter_email=ADDRESS,
    )

    def submit(work: Any) -> list[tuple[str, dict[str, Any]]]:
        notices.submit(work, None, notice)
        return list(work.jobs)

    queued = parvis.runtime.write(submit)
    assert not [kind for kind, _ in queued if kind.startswith("mail_")]
    assert mailbox.sent == []


@WITH_MAIL
@pytest.mark.parametrize(
    "address",
    [
        "root,ann@example.test",  # a second, local recipient
        "ann@example.test\r\nBcc: eve@example.test",
        "Ann <ann@example.test>",
        '"a b"@example.test',
        "ann@example",
    ],
)
def test_an_address_that_could_add_recipients_is_refused(
    client: TestClient, parvis: Parvis, mailbox: Recorder, address: str
) -> None:
    sid = post(make_user(client))
    with pytest.raises(Invalid, match="email"):
        report(parvis, sid, reporter_email=address)
    assert mailbox.sent == []


# -- no header from any text ---------------------------------------------------------------------

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
anything = st.text(max_size=300)
injection = st.sampled_from(
    ["\r\nBcc: eve@example.test", "\nTo: eve@example.test", "\r\n\r\nbody", "\x00", "\u2028X: y"]
)
display = st.one_of(anything, st.tuples(anything, injection, anything).map("".join))


def _notice(name: str, explanation: str, legal: str) -> NoticeRow:
    return NoticeRow(
        id=123,
        reporter_account_id=None,
        category="racial_hatred",
        dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        legal_ground=legal,
        rule_ids="",
        explanation=explanation,
        reporter_name=name,
        reporter_email=ADDRESS,
        channel="web",
        trusted_flagger_id=None,
        remote_actor="",
        receipt_hash="",
        language="",
        priority=3,
        automated=False,
        created_at=NOW,
        acknowledged_at=NOW,
        due_at=NOW + timedelta(hours=24),
        decided_at=NOW,
        outcome="actioned",
    )


def _reparsed(message: EmailMessage) -> Any:
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def _plain(data_dir: Path) -> tuple[list[str], list[str]]:
    """The header names of both messages composed from plain words only."""
    config = Settings(domain="parvis.test", scheme="https", data_dir=data_dir)
    notice = _notice("Ann", "Hateful.", "")
    item = mail.Reported("status", "bob", "https://parvis.test/@bob/1")
    fields = sor.DecisionFields(
        puid="p",
        action="remove",
        ground="rule",
        dsa_category=notice.dsa_category,
        content_date=NOW,
        starts_at=NOW,
        source_type="SOURCE_ARTICLE_16",
        rule_id="2",
        explanation="Hateful.",
    )
    outcome = mail.Outcome(item, sor.explain(fields), NOW, NOW + timedelta(days=183))
    found = (
        _reparsed(mail.receipt(config, notice, [item], "KEY", NOW)),
        _reparsed(mail.decision(config, notice, [outcome], NOW)),
    )
    names = tuple(sorted(k.lower() for k in m) for m in found)
    assert {"from", "to", "subject", "date", "message-id"} <= set(names[0])
    return names[0], names[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=display,
    name=display,
    acct=display,
    url=display,
    explanation=display,
    legal=display,
    rule_text=display,
    body=display,
    action=st.sampled_from([*sorted(sor.EFFECTS), "none", "warn"]),
)
def test_no_text_anyone_writes_adds_a_header_or_a_recipient(
    tmp_path_factory: pytest.TempPathFactory,
    title: str,
    name: str,
    acct: str,
    url: str,
    explanation: str,
    legal: str,
    rule_text: str,
    body: str,
    action: str,
) -> None:
    config = Settings(
        domain="parvis.test",
        scheme="https",
        title=title,
        dispute_bodies=[body],
        data_dir=tmp_path_factory.getbasetemp() / "mail",
    )
    notice = _notice(name, explanation, legal)
    items = [mail.Reported("status", acct, url), mail.Reported("account", acct, url)]
    statement = sor.explain(
        sor.DecisionFields(
            puid="p",
            action=action,
            ground="rule" if action != "none" else "",
            dsa_category=notice.dsa_category,
            content_date=NOW,
            starts_at=NOW,
            source_type="SOURCE_ARTICLE_16",
            legal_ground=legal,
            rule_id="2",
            rule_text=rule_text,
            explanation=explanation,
        ),
        out_of_court_bodies=[body],
    )
    outcomes = [mail.Outcome(item, statement, NOW, NOW + timedelta(days=183)) for item in items]
    plain = _plain(config.data_dir)
    for message, expected in (
        (mail.receipt(config, notice, items, "KEY", NOW), plain[0]),
        (mail.decision(config, notice, outcomes, NOW), plain[1]),
    ):
        parsed = _reparsed(message)
        assert sorted(k.lower() for k in parsed) == expected  # the same, none twice
        assert parsed["To"] == ADDRESS
        assert [a.addr_spec for a in parsed["To"].addresses] == [ADDRESS]
        assert [a.addr_spec for a in parsed["From"].addresses] == ["noreply@parvis.test"]
