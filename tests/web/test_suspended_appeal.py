"""A suspended author cannot sign in, yet must be able to read the statement of reasons and
contest the suspension (DSA arts. 17 and 20): signing in with the right password shows the
statement with an appeal form that carries an hour-long ticket instead of a session."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import accounts, appeals, moderation
from tests.builders import make_user
from tests.web.browser import browser, csrf

PASSWORD = "correct horse battery"


def suspend(parvis: Parvis, moderator_id: int, account_id: int) -> int:
    verdict = moderation.Verdict(
        action="suspend",
        duration=timedelta(days=30),
        ground="rule",
        rule_id="2",
        explanation="Threats against another member.",
    )
    decision = parvis.runtime.write(
        lambda w: moderation.own_initiative(w, moderator_id, "account", account_id, verdict)
    )
    return decision.id


def test_a_suspended_author_reads_the_statement_and_appeals(
    client: TestClient, parvis: Parvis
) -> None:
    author, mod = make_user(client), make_user(client)
    parvis.runtime.write(lambda w: accounts.set_role(w, int(mod.id), "moderator"))
    decision_id = suspend(parvis, int(mod.id), int(author.id))
    web = browser(client)
    login = f"{author.username}@example.org"
    wrong = web.post(
        "/login", data={"csrf": csrf(web.get("/login").text), "login": login, "password": "x"}
    )
    assert wrong.status_code == 401 and "ticket" not in wrong.text  # the password still counts
    page = web.post(
        "/login", data={"csrf": csrf(web.get("/login").text), "login": login, "password": PASSWORD}
    )
    assert page.status_code == 200
    assert "Statement of reasons" in page.text and "Threats against another member." in page.text
    assert "parvis_session" not in web.cookies  # no session: the account stays suspended
    ticket = page.text.split('name="ticket" value="', 1)[1].split('"', 1)[0]
    sent = web.post(
        f"/decisions/{decision_id}/appeal",
        data={"csrf": csrf(page.text), "ticket": ticket, "text": "I never threatened anyone."},
    )
    assert sent.status_code == 200 and "Your appeal was received" in sent.text
    [appeal] = parvis.runtime.read(lambda w: w.store.decisions.appeals_of(decision_id))
    assert (appeal.appellant_role, appeal.appellant_account_id) == ("author", int(author.id))
    # A forged or altered ticket files nothing.
    forged = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
    refused = web.post(
        f"/decisions/{decision_id}/appeal",
        data={"csrf": csrf(page.text), "ticket": forged, "text": "Again."},
    )
    assert refused.status_code == 404
    assert len(parvis.runtime.read(lambda w: w.store.decisions.appeals_of(decision_id))) == 1


def test_a_ticket_expires_after_an_hour(client: TestClient, parvis: Parvis) -> None:
    author, mod = make_user(client), make_user(client)
    parvis.runtime.write(lambda w: accounts.set_role(w, int(mod.id), "moderator"))
    suspend(parvis, int(mod.id), int(author.id))
    login = f"{author.username}@example.org"
    found = parvis.runtime.write(lambda w: appeals.suspended_ticket(w, login, PASSWORD))
    assert found is not None
    ticket = found[0]
    assert parvis.runtime.read(lambda w: appeals.ticket_account(w, ticket)) == int(author.id)
    later = parvis.runtime.clock() + timedelta(hours=1, minutes=1)
    saved = parvis.runtime.clock
    parvis.runtime.clock = lambda: later
    try:
        assert parvis.runtime.read(lambda w: appeals.ticket_account(w, ticket)) is None
    finally:
        parvis.runtime.clock = saved
    # An account that is not suspended gets no ticket.
    other = make_user(client)
    login = f"{other.username}@example.org"
    assert parvis.runtime.write(lambda w: appeals.suspended_ticket(w, login, PASSWORD)) is None
