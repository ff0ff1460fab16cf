"""The report form (a DSA art. 16 notice): a visitor (not signed in) reports a post or an
account, with the offences as plain-language choices grouped by urgency, optionally more posts of
the same author, and gets the receipt: its number and the private follow-up link."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain import moderation as vocab
from parvis.web.views import reports
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


def items(parvis: Parvis, notice_id: int) -> list:  # type: ignore[type-arg]
    return parvis.runtime.read(lambda work: work.store.notices.items(notice_id))


def test_visitor_reports_a_post(client: TestClient, parvis: Parvis) -> None:
    _, sid = a_post(client)
    visitor = browser(client)
    page = visitor.get(f"/report?status={sid}")
    assert page.status_code == 200
    assert "Something to report" in page.text
    for category in vocab.OFFENCES:
        assert f'value="{category}"' in page.text
    r = visitor.post(
        f"/report?status={sid}",
        data={
            "csrf": csrf(page.text),
            "category": "racial_hatred",
            "legal_ground": "Loi de 1881, art. 24",
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
    [item] = items(parvis, row.id)
    assert str(item.status_id) == sid
    assert row.reporter_account_id is None
    assert row.category == "racial_hatred" and row.channel == "web"
    assert row.legal_ground == "Loi de 1881, art. 24"
    assert row.reporter_email == "ann@example.test"
    # The receipt: the private follow-up link, which shows the notice.
    link = re.search(r'href="(/notices/[^"]+)"', r.text)
    assert link, r.text
    followed = visitor.get(link.group(1))
    assert followed.status_code == 200
    assert "Insults a group of people." in followed.text
    assert "Being reviewed" in followed.text


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
    [item] = items(parvis, row.id)
    assert str(item.account_id) == account_id and item.status_id is None
    assert row.reporter_account_id is not None and me
    # Signed in: the report is listed in the settings, and its page opens from there.
    listed = client.get("/settings/reports")
    assert f'href="/settings/reports/{row.id}"' in listed.text
    assert "Adverts." in client.get(f"/settings/reports/{row.id}").text
    assert (
        browser(client).get(f"/settings/reports/{row.id}", follow_redirects=False).status_code
        == 303
    )


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


def test_every_offence_is_offered_once_in_a_group() -> None:
    offered = [key for _, keys in reports.GROUPS for key in keys]
    assert sorted(offered) == sorted(vocab.OFFENCES)
    assert reports.GROUPS[0][1] == ("threat_to_life", "self_harm")


def test_child_abuse_reports_keep_no_name_or_address(client: TestClient, parvis: Parvis) -> None:
    _, sid = a_post(client)
    visitor = browser(client)
    page = visitor.get(f"/report?status={sid}").text
    assert "anonymously" in page
    r = visitor.post(
        f"/report?status={sid}",
        data={
            "csrf": csrf(page),
            "category": "child_abuse",
            "explanation": "An image of a child.",
            "reporter_name": "Ann",
            "reporter_email": "ann@example.test",
            "good_faith": "on",
        },
    )
    assert r.status_code == 200
    [row] = notices(parvis)
    assert (row.reporter_name, row.reporter_email) == ("", "")


def test_more_posts_of_the_author_in_one_notice(client: TestClient, parvis: Parvis) -> None:
    author = browser(client)
    sign_up(author)
    sids = []
    for n in range(3):
        token = csrf(author.get("/home").text)
        r = author.post(
            "/statuses", data={"csrf": token, "status": f"post {n}"}, follow_redirects=False
        )
        sids.append(r.headers["location"].rsplit("/", 1)[1])
    _, stranger = a_post(client, "someone else's post")
    visitor = browser(client)
    page = visitor.get(f"/report?status={sids[0]}").text
    assert f'name="more" value="{sids[1]}"' in page and f'value="{stranger}"' not in page
    data = {
        "csrf": csrf(page),
        "category": "spam",
        "explanation": "The same advert three times.",
        "good_faith": "on",
    }
    r = visitor.post(f"/report?status={sids[0]}", data={**data, "more": [sids[1], sids[2]]})
    assert r.status_code == 200, r.text
    [row] = notices(parvis)
    assert sorted(str(i.status_id) for i in items(parvis, row.id)) == sorted(sids)
    # A post of another author cannot ride along.
    r = visitor.post(f"/report?status={sids[0]}", data={**data, "more": [stranger]})
    assert r.status_code == 404
    assert len(notices(parvis)) == 1


def test_rules_offence_offers_the_server_rules(client: TestClient, parvis: Parvis) -> None:
    _, sid = a_post(client)
    visitor = browser(client)
    page = visitor.get(f"/report?status={sid}").text
    assert 'name="rule_ids" value="1"' in page
    r = visitor.post(
        f"/report?status={sid}",
        data={
            "csrf": csrf(page),
            "category": "rules",
            "rule_ids": ["1", "2"],
            "explanation": "Breaks the first two rules.",
            "good_faith": "on",
        },
    )
    assert r.status_code == 200
    [row] = notices(parvis)
    assert row.rule_ids == "1,2"


def test_a_remote_account_can_be_reported_to_its_own_server_too(
    client: TestClient, parvis: Parvis
) -> None:
    from tests.services.test_federate import activities, body_of, remote, remote_status

    parvis.runtime.http = None  # the Flag stays queued: nothing leaves the test
    spammer = remote(parvis, "spam.example")
    status_id = remote_status(parvis, spammer)
    local_name, _ = a_post(client)
    local_id = client.get(f"/api/v1/accounts/lookup?acct={local_name}").json()["id"]
    sign_up(client)
    # Offered only for an account of another server.
    assert 'name="forward"' not in client.get(f"/report?account={local_id}").text
    page = client.get(f"/report?status={status_id}")
    assert 'name="forward"' in page.text and "spam.example" in page.text
    r = client.post(
        f"/report?status={status_id}",
        data={
            "csrf": csrf(page.text),
            "category": "spam",
            "explanation": "Adverts again.",
            "good_faith": "on",
            "forward": "on",
        },
    )
    assert r.status_code == 200
    assert activities(parvis) == {"Flag": ["https://spam.example/inbox"]}
    flag = body_of(parvis, "Flag")
    assert flag["content"] == "Adverts again." and flag["actor"].endswith("/actor")
    assert flag["object"][1].endswith(f"/statuses/{status_id}")
