"""User domain blocks through the real HTTP API: validation, the paged list, and statuses from
the blocked server hidden from the blocker (remote accounts are stored like federation will)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.ids import new_id
from parvis.services.context import Work
from tests.builders import error_of, ids, links, make_user, ok


def remote_post(parvis: Parvis, username: str, domain: str, text: str) -> tuple[str, str]:
    """A remote account and one public status of it, straight into the stores."""
    now = datetime.now(UTC)
    aid, sid = new_id(), new_id()

    def run(work: Work) -> None:
        work.store.accounts.insert(
            {
                "id": aid,
                "username": username,
                "domain": domain,
                "display_name": "",
                "note": "",
                "note_html": "",
                "fields_json": "[]",
                "uri": f"https://{domain}/users/{username}",
                "url": f"https://{domain}/@{username}",
                "created_at": now,
                "updated_at": now,
            }
        )
        work.store.statuses.insert(
            {
                "id": sid,
                "account_id": aid,
                "uri": f"https://{domain}/statuses/{sid}",
                "url": f"https://{domain}/@{username}/{sid}",
                "local": False,
                "text": text,
                "content": f"<p>{text}</p>",
                "visibility": "public",
                "created_at": now,
            }
        )

    parvis.runtime.write(run)
    return str(aid), str(sid)


def test_block_list_and_unblock(client: TestClient) -> None:
    me = make_user(client)
    assert ok(me.post("/api/v1/domain_blocks", data={"domain": "Spam.Example"})) == {}
    ok(me.post("/api/v1/domain_blocks", json={"domain": "spam.example"}))  # again: once
    ok(me.post("/api/v1/domain_blocks", json={"domain": "https://bad.example/about"}))
    ok(me.post("/api/v1/domain_blocks", json={"domain": "bücher.example"}))
    assert ok(me.get("/api/v1/domain_blocks")) == [
        "xn--bcher-kva.example",
        "bad.example",
        "spam.example",
    ]
    r = me.get("/api/v1/domain_blocks", params={"limit": 2})
    assert ok(r) == ["xn--bcher-kva.example", "bad.example"]
    assert ok(client.get(links(r)["next"], headers=me.headers)) == ["spam.example"]
    assert ok(me.delete_with("/api/v1/domain_blocks", json={"domain": "SPAM.example"})) == {}
    assert ok(me.delete_with("/api/v1/domain_blocks", params={"domain": "bad.example"})) == {}
    assert ok(me.get("/api/v1/domain_blocks")) == ["xn--bcher-kva.example"]
    assert ok(make_user(client).get("/api/v1/domain_blocks")) == []


def test_domain_validation(client: TestClient) -> None:
    me = make_user(client)
    for bad in (
        "",
        "   ",
        "not a domain",
        "localhost",
        "-bad.example",
        "a..b",
        "x" * 300,
        "exa_mple.com",
        "parvis.test",
    ):
        error_of(me.post("/api/v1/domain_blocks", json={"domain": bad}), 422)
    error_of(me.post("/api/v1/domain_blocks", json={}), 422)
    error_of(me.post("/api/v1/domain_blocks", json={"domain": ["a.example"]}), 422)
    error_of(client.get("/api/v1/domain_blocks"), 401)
    assert ok(me.get("/api/v1/domain_blocks")) == []


def test_blocked_domain_statuses_are_hidden(client: TestClient, parvis: Parvis) -> None:
    me, other = make_user(client), make_user(client)
    remote_id, remote_status = remote_post(parvis, "troll", "spam.example", "buy now")
    _, fine_status = remote_post(parvis, "friend", "nice.example", "hello")
    local = other.status("local words")
    assert {remote_status, fine_status, local["id"]} <= set(
        ids(ok(me.get("/api/v1/timelines/public")))
    )
    rel = ok(me.get("/api/v1/accounts/relationships", params={"id[]": remote_id}))[0]
    assert rel["domain_blocking"] is False

    ok(me.post("/api/v1/domain_blocks", json={"domain": "spam.example"}))
    public = ids(ok(me.get("/api/v1/timelines/public")))
    assert remote_status not in public and {fine_status, local["id"]} <= set(public)
    assert ids(ok(me.get(f"/api/v1/accounts/{remote_id}/statuses"))) == []
    assert remote_status in ids(ok(other.get("/api/v1/timelines/public")))  # only the blocker
    rel = ok(me.get("/api/v1/accounts/relationships", params={"id[]": remote_id}))[0]
    assert rel["domain_blocking"] is True
    rel = ok(me.get("/api/v1/accounts/relationships", params={"id[]": other.id}))[0]
    assert rel["domain_blocking"] is False  # local accounts never match
