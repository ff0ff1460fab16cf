"""GET /api/parvis/v1/transparency/statements[/{puid}]: every restriction's statement of reasons,
public, schema-valid, without personal data, paged by period and cursor; clear 4xx on bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.statements import validate
from parvis.services import accounts, moderation, notices
from tests.builders import make_user
from tests.services.test_statements_submit import NOW, add_decision

PATH = "/api/parvis/v1/transparency/statements"


def listing(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get(PATH, params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_restrictions_are_listed_schema_valid(client: TestClient, parvis: Parvis) -> None:
    removed = add_decision(parvis)
    suspended = add_decision(parvis, action="suspend")
    add_decision(parvis, action="none", ground="")
    add_decision(parvis, action="warn")
    reversed_ = add_decision(parvis, action="label", label="CW", reversed_at=NOW)
    page = listing(client)
    puids = [s["puid"] for s in page["statements"]]
    assert puids == [removed.puid, suspended.puid, reversed_.puid]  # oldest first
    assert page["reversed"] == [reversed_.puid]
    assert page["next"] is None
    for statement in page["statements"]:
        assert validate(statement) == []
    assert page["statements"][1]["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert page["statements"][1]["end_date_account_restriction"] == "2026-11-30"
    # One by one, the same JSON.
    r = client.get(f"{PATH}/{removed.puid}")
    assert r.status_code == 200
    assert r.json() == page["statements"][0]


def test_statements_carry_no_personal_data(client: TestClient, parvis: Parvis) -> None:
    row = add_decision(
        parvis,
        facts="Reported by jean.dupont@example.fr about @victim@social.example",
        explanation="See https://social.example/@victim and @someone",
    )
    text = json.dumps(client.get(f"{PATH}/{row.puid}").json())
    for leak in ("jean.dupont", "victim", "someone", "social.example"):
        assert leak not in text


def test_period_and_pages(client: TestClient, parvis: Parvis) -> None:
    days = [add_decision(parvis, created_at=NOW + timedelta(days=d)) for d in range(5)]
    page = listing(client, since="2026-11-24", until="2026-11-26")
    assert [s["puid"] for s in page["statements"]] == [d.puid for d in days[1:4]]
    assert listing(client, until="2026-11-22")["statements"] == []
    assert len(listing(client, since="0001-01-01", until="9999-12-31")["statements"]) == 5
    # Two at a time, following `next` (and the Link header) to the end.
    seen: list[str] = []
    r = client.get(PATH, params={"limit": 2, "since": "2026-11-23"})
    while True:
        assert r.status_code == 200
        body = r.json()
        seen += [s["puid"] for s in body["statements"]]
        if body["next"] is None:
            break
        assert r.headers["link"] == f'<{body["next"]}>; rel="next"'
        assert "since=2026-11-23" in body["next"]
        r = client.get(body["next"])
    assert seen == [d.puid for d in days]


def test_bad_parameters_are_refused(client: TestClient, parvis: Parvis) -> None:
    for params, message in [
        ({"since": "2026-13-01"}, "since must be a date written YYYY-MM-DD"),
        ({"until": "yesterday"}, "until must be a date written YYYY-MM-DD"),
        ({"since": "2026-1-1"}, "since must be a date written YYYY-MM-DD"),
        ({"since": "2026-W47-1"}, "since must be a date written YYYY-MM-DD"),
        ({"since": "2026-11-24", "until": "2026-11-23"}, "until must not be before since"),
        ({"cursor": "no/such"}, "cursor is not a statement identifier"),
        ({"cursor": "parvis-unknown"}, "unknown cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
    ]:
        r = client.get(PATH, params=params)
        assert r.status_code == 422, (params, r.text)
        assert message in r.json()["error"], (params, r.text)
    warned = add_decision(parvis, action="warn")
    for puid in ("parvis-nope", warned.puid, "bad%20id", "x" * 501):
        r = client.get(f"{PATH}/{puid}")
        assert r.status_code == 404, puid
        assert r.json()["error"]


def test_a_decision_taken_in_the_app_is_published(client: TestClient, parvis: Parvis) -> None:
    """End to end: a notice, a moderator's decision on a rule, its statement in the export."""
    author, mod = make_user(client), make_user(client)
    parvis.runtime.write(lambda w: accounts.set_role(w, int(mod.id), "moderator"))
    status = author.status("Something that breaks rule 2, says @someone")
    notice = notices.NewNotice(
        category="harassment",
        explanation="Harassment. Contact me at reporter@example.org",
        items=(notices.Item(status_id=int(status["id"])),),
        reporter_email="reporter@example.org",
        good_faith=True,
    )
    parvis.runtime.write(lambda w: notices.submit(w, None, notice))
    case = parvis.runtime.read(lambda w: w.store.cases.for_subject("status", int(status["id"])))
    assert case is not None
    verdict = moderation.Verdict(
        action="demote", ground="rule", rule_id="2", explanation="Repeated insults."
    )
    decided = parvis.runtime.write(lambda w: moderation.decide(w, int(mod.id), case.id, verdict))
    page = listing(client)
    assert [s["puid"] for s in page["statements"]] == [decided.puid]
    sor = page["statements"][0]
    assert validate(sor) == []
    assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DEMOTED"]
    assert sor["source_type"] == "SOURCE_ARTICLE_16"
    assert str(sor["incompatible_content_ground"]).startswith("Server rule 2, version 1: ")
    assert "reporter@example.org" not in json.dumps(sor)
