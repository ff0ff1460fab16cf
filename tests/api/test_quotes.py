"""Quote posts (Mastodon 4.5): quoting, policies, listing, revoking, deletion."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.builders import User, make_user


def _quote(user: User, quoted_id: str, **fields: Any) -> Any:
    return user.post(
        "/api/v1/statuses", json={"status": "look at this", "quoted_status_id": quoted_id, **fields}
    )


def test_quote_a_public_post(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    original = alice.status("quotable")
    assert original["quote"] is None and original["quotes_count"] == 0
    assert original["quote_approval"] == {
        "automatic": ["public"],
        "manual": [],
        "current_user": "automatic",
    }
    r = _quote(bob, original["id"])
    assert r.status_code == 200, r.text
    quote = r.json()["quote"]
    assert quote["state"] == "accepted"
    assert quote["quoted_status"]["id"] == original["id"]
    assert quote["quoted_status"]["account"]["id"] == alice.id
    assert alice.get(f"/api/v1/statuses/{original['id']}").json()["quotes_count"] == 1
    notes = alice.get("/api/v1/notifications").json()
    assert [(n["type"], n["account"]["id"], n["status"]["id"]) for n in notes] == [
        ("quote", bob.id, r.json()["id"])
    ]
    # a quote of a quote: the inner one is shallow
    carol = make_user(client)
    r2 = _quote(carol, r.json()["id"])
    inner = r2.json()["quote"]["quoted_status"]["quote"]
    assert inner == {"state": "accepted", "quoted_status_id": original["id"]}


def test_quotes_list_and_revoke(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    original = alice.status("popular")
    q1 = _quote(bob, original["id"]).json()
    q2 = _quote(carol, original["id"]).json()
    r = alice.get(f"/api/v1/statuses/{original['id']}/quotes")
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()] == [q2["id"], q1["id"]]
    r = alice.get(f"/api/v1/statuses/{original['id']}/quotes", params={"limit": 1})
    assert [s["id"] for s in r.json()] == [q2["id"]] and "next" in r.headers["Link"]
    # only the quoted author lists and revokes
    assert bob.get(f"/api/v1/statuses/{original['id']}/quotes").status_code == 404
    url = f"/api/v1/statuses/{original['id']}/quotes/{q1['id']}/revoke"
    assert bob.post(url).status_code == 404
    r = alice.post(url)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == q1["id"]
    assert r.json()["quote"] == {"state": "revoked", "quoted_status": None}
    assert alice.post(url).status_code == 200  # idempotent
    assert alice.get(f"/api/v1/statuses/{original['id']}").json()["quotes_count"] == 1
    assert [s["id"] for s in alice.get(f"/api/v1/statuses/{original['id']}/quotes").json()] == [
        q2["id"]
    ]
    bad = f"/api/v1/statuses/{original['id']}/quotes/{original['id']}/revoke"
    assert alice.post(bad).status_code == 404


def test_quote_policies(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    followers_only = alice.status("followers may quote", quote_approval_policy="followers")
    assert followers_only["quote_approval"]["automatic"] == ["followers"]
    assert _quote(bob, followers_only["id"]).status_code == 200
    r = _quote(carol, followers_only["id"])
    assert r.status_code == 403 and "not allow" in r.json()["error"]
    nobody = alice.status("nobody may quote", quote_approval_policy="nobody")
    seen = carol.get(f"/api/v1/statuses/{nobody['id']}").json()
    assert seen["quote_approval"] == {"automatic": [], "manual": [], "current_user": "denied"}
    assert _quote(carol, nobody["id"]).status_code == 403
    assert _quote(alice, nobody["id"]).status_code == 200  # the author always may
    # changing the policy
    url = f"/api/v1/statuses/{nobody['id']}/interaction_policy"
    r = client.put(url, headers=alice.headers, json={"quote_approval_policy": "public"})
    assert r.status_code == 200, r.text
    assert r.json()["quote_approval"]["automatic"] == ["public"]
    assert _quote(carol, nobody["id"]).status_code == 200
    r = client.put(url, headers=alice.headers, json={"quote_approval_policy": "everybody"})
    assert r.status_code == 422
    r = client.put(url, headers=carol.headers, json={"quote_approval_policy": "nobody"})
    assert r.status_code == 404
    r = alice.post("/api/v1/statuses", json={"status": "x", "quote_approval_policy": "all"})
    assert r.status_code == 422


def test_private_and_direct_posts(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    private = alice.status("followers only", visibility="private")
    assert private["quote_approval"]["automatic"] == []
    assert _quote(bob, private["id"]).status_code == 403  # others may not quote it
    own = _quote(alice, private["id"], visibility="public")
    assert own.status_code == 200, own.text
    assert own.json()["visibility"] == "private"  # a quote of a private post stays private
    assert _quote(alice, private["id"], visibility="direct").status_code == 422
    direct = alice.status(f"@{bob.username} secret", visibility="direct")
    assert _quote(bob, direct["id"]).status_code == 403
    stranger = make_user(client)
    assert _quote(stranger, private["id"]).status_code == 404  # cannot see it: not found
    assert _quote(stranger, "999999").status_code == 404
    assert _quote(stranger, "abc").status_code == 422


def test_deleted_quoted_status(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    original = alice.status("soon gone")
    quote = _quote(bob, original["id"]).json()
    assert alice.delete(f"/api/v1/statuses/{original['id']}").status_code == 200
    seen = bob.get(f"/api/v1/statuses/{quote['id']}").json()
    assert seen["quote"] == {"state": "deleted", "quoted_status": None}
    # deleting a quote gives back the count
    other = alice.status("again")
    q = _quote(bob, other["id"]).json()
    assert bob.delete(f"/api/v1/statuses/{q['id']}").status_code == 200
    assert alice.get(f"/api/v1/statuses/{other['id']}").json()["quotes_count"] == 0
