"""The report entry point: a visitor (not signed in) reports a post or an account; the notice
is stored and acknowledged with its number."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from parvis.app import Parvis
from tests.web.browser import browser, csrf, sign_up


def a_post(client: TestClient, text: str = "Something to report") -> tuple[str, str]:
    author = browser(client)
    name = sign_up(author)
    page = author.get("/home").text
    r = author.post("/statuses", data={"csrf": csrf(page), "status": text}, follow_redirects=False)
    assert r.status_code == 303
    return name, r.headers["location"].rsplit("/", 1)[1]


def notices(parvis: Parvis) -> list:  # type: ignore[type-arg]
    return parvis.runtime.read(lambda work: work.store.notices.newest())


def test_visitor_reports_a_post(client: TestClient, parvis: Parvis) -> None:
    _, sid = a_post(client)
    visitor = browser(client)
    page = visitor.get(f"/report?status={sid}")
    assert page.status_code == 200
    assert "Something to report" in page.text
    for category in (
        "illegal",
        "harassment",
        "hate",
        "violence",
        "terrorism",
        "child_abuse",
        "spam",
        "other",
    ):
        assert f'value="{category}"' in page.text
    r = visitor.post(
        f"/report?status={sid}",
        data={
            "csrf": csrf(page.text),
            "category": "hate",
            "explanation": "Insults a group of people.",
            "reporter_name": "Ann",
            "reporter_email": "ann@example.test",
            "good_faith": "on",
        },
    )
    assert r.status_code == 200
    assert "Report received" in r.text
    [row] = notices(parvis)
    assert str(row.id) in r.text
    assert str(row.status_id) == sid
    assert row.reporter_account_id is None
    assert row.category == "hate"
    assert row.reporter_email == "ann@example.test"


def test_signed_in_user_reports_an_account(client: TestClient, parvis: Parvis) -> None:
    name, _ = a_post(client)
    account_id = client.get(f"/api/v1/accounts/lookup?acct={name}").json()["id"]
    me = sign_up(client)
    page = client.get(f"/report?account={account_id}")
    assert page.status_code == 200
    assert f"@{name}" in page.text
    r = client.post(
        f"/report?account={account_id}",
        data={
            "csrf": csrf(page.text),
            "category": "spam",
            "explanation": "Adverts.",
            "good_faith": "on",
        },
    )
    assert r.status_code == 200
    [row] = notices(parvis)
    assert str(row.account_id) == account_id and row.status_id is None
    assert row.reporter_account_id is not None and me


def test_bad_report_is_shown_again_with_a_message(client: TestClient, parvis: Parvis) -> None:
    _, sid = a_post(client)
    visitor = browser(client)
    page = visitor.get(f"/report?status={sid}").text
    r = visitor.post(
        f"/report?status={sid}",
        data={
            "csrf": csrf(page),
            "category": "nonsense",
            "explanation": "",
            "reporter_email": "not-an-address",
        },
    )
    assert r.status_code == 422
    assert 'role="alert"' in r.text
    assert "good faith" in r.text
    assert notices(parvis) == []


def test_report_of_nothing_is_not_found(client: TestClient) -> None:
    assert client.get("/report?status=123").status_code == 404
    assert client.get("/report").status_code == 404


def test_report_without_csrf_token_is_refused(client: TestClient, parvis: Parvis) -> None:
    _, sid = a_post(client)
    r = browser(client).post(
        f"/report?status={sid}", data={"category": "spam", "explanation": "x", "good_faith": "on"}
    )
    assert r.status_code == 403
    assert notices(parvis) == []


def test_every_post_has_a_report_link(client: TestClient) -> None:
    name, sid = a_post(client)
    page = browser(client).get(f"/@{name}/{sid}").text
    assert re.search(rf'href="/report\?status={sid}"', page)
