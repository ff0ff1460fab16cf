"""Grouped notifications (v2), the notification policy and its requests, unread counts."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import make_user


def test_grouped_notifications(client: TestClient) -> None:
    alice = make_user(client)
    fans = [make_user(client) for _ in range(3)]
    post = alice.status("likeable")
    for fan in fans:
        assert fan.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
        assert fan.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    fans[0].status(f"hey @{alice.username}")

    r = alice.get("/api/v2/notifications")
    assert r.status_code == 200, r.text
    body = r.json()
    groups = body["notification_groups"]
    assert [g["type"] for g in groups] == ["mention", "favourite", "follow"]
    fav = groups[1]
    assert fav["group_key"] == f"favourite-{post['id']}"
    assert fav["notifications_count"] == 3
    assert fav["sample_account_ids"] == [f.id for f in reversed(fans)]
    assert fav["status_id"] == post["id"]
    assert isinstance(fav["most_recent_notification_id"], int)
    assert int(fav["page_min_id"]) <= int(fav["page_max_id"])
    assert groups[2]["notifications_count"] == 3
    assert groups[0]["group_key"].startswith("ungrouped-")
    assert {a["id"] for a in body["accounts"]} == {f.id for f in fans}
    assert {s["id"] for s in body["statuses"]} >= {post["id"]}

    # v1 gives the same group keys
    v1 = {n["type"]: n["group_key"] for n in alice.get("/api/v1/notifications").json()}
    assert v1["favourite"] == fav["group_key"]

    # not grouped when asked so; limit counts groups
    flat = alice.get("/api/v2/notifications?grouped_types[]=follow").json()
    assert [g["type"] for g in flat["notification_groups"]].count("favourite") == 3
    one = alice.get("/api/v2/notifications?limit=1").json()["notification_groups"]
    assert len(one) == 1
    only = alice.get("/api/v2/notifications?types[]=follow").json()["notification_groups"]
    assert [g["type"] for g in only] == ["follow"]

    key = fav["group_key"]
    whole = alice.get(f"/api/v2/notifications/{key}").json()
    assert whole["notification_groups"][0]["notifications_count"] == 3
    people = alice.get(f"/api/v2/notifications/{key}/accounts").json()
    assert [a["id"] for a in people] == [f.id for f in reversed(fans)]
    assert alice.post(f"/api/v2/notifications/{key}/dismiss").status_code == 200
    assert alice.get(f"/api/v2/notifications/{key}").status_code == 404
    assert alice.get("/api/v2/notifications/nonsense").status_code == 404
    assert alice.post("/api/v2/notifications/favourite-1/dismiss").status_code == 404

    partial = alice.get("/api/v2/notifications?expand_accounts=partial_avatars").json()
    assert "partial_accounts" in partial
    assert alice.get("/api/v2/notifications?expand_accounts=bogus").status_code == 422
    assert alice.get("/api/v2/notifications?types[]=bogus").status_code == 422
    assert alice.get("/api/v2/notifications?include_filtered=maybe").status_code == 422


def test_unread_counts_follow_the_marker(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    post = alice.status("hi")
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    bob.post(f"/api/v1/statuses/{post['id']}/favourite")
    bob.post(f"/api/v1/statuses/{post['id']}/reblog")
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 3}
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 3}
    newest = alice.get("/api/v1/notifications").json()
    # reading up to the second newest leaves one unread
    r = alice.post("/api/v1/markers", data={"notifications[last_read_id]": newest[1]["id"]})
    assert r.status_code == 200, r.text
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 1}
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 1}
    assert alice.get("/api/v2/notifications/unread_count?types[]=zzz").status_code == 422


def test_policy_filters_and_drops(client: TestClient) -> None:
    alice, stranger, friend = make_user(client), make_user(client), make_user(client)
    assert alice.post(f"/api/v1/accounts/{friend.id}/follow").status_code == 200
    policy = alice.get("/api/v2/notifications/policy").json()
    assert policy["for_not_following"] == "accept"
    assert policy["summary"] == {"pending_requests_count": 0, "pending_notifications_count": 0}

    r = alice.patch("/api/v2/notifications/policy", json={"for_not_following": "filter"})
    assert r.status_code == 200 and r.json()["for_not_following"] == "filter"
    assert (
        alice.patch(
            "/api/v2/notifications/policy", json={"for_not_following": "sometimes"}
        ).status_code
        == 422
    )

    stranger.status(f"@{alice.username} buy my stuff")
    friend.status(f"@{alice.username} hello friend")
    assert [n["account"]["id"] for n in alice.get("/api/v1/notifications").json()] == [friend.id]
    requests = alice.get("/api/v1/notifications/requests").json()
    assert [(q["id"], q["notifications_count"]) for q in requests] == [(stranger.id, "1")]
    assert requests[0]["last_status"]["content"].startswith("<p>")
    summary = alice.get("/api/v2/notifications/policy").json()["summary"]
    assert summary == {"pending_requests_count": 1, "pending_notifications_count": 1}
    assert alice.get(f"/api/v1/notifications/requests/{stranger.id}").status_code == 200
    included = alice.get("/api/v2/notifications?include_filtered=true").json()
    assert len(included["notification_groups"]) == 2

    assert alice.post(f"/api/v1/notifications/requests/{stranger.id}/accept").status_code == 200
    assert alice.get("/api/v1/notifications/requests").json() == []
    assert len(alice.get("/api/v1/notifications").json()) == 2
    assert alice.post(f"/api/v1/notifications/requests/{stranger.id}/accept").status_code == 404

    alice.patch("/api/v2/notifications/policy", json={"for_not_following": "drop"})
    stranger.status(f"@{alice.username} again")
    assert len(alice.get("/api/v1/notifications").json()) == 2
    assert alice.get("/api/v1/notifications/requests").json() == []

    alice.patch("/api/v2/notifications/policy", data={"for_not_following": "filter"})
    stranger.status(f"@{alice.username} once more")
    assert (
        alice.post(
            "/api/v1/notifications/requests/dismiss", data={"id[]": [stranger.id]}
        ).status_code
        == 200
    )
    assert alice.get("/api/v1/notifications/requests").json() == []
    assert (
        alice.get("/api/v2/notifications/policy").json()["summary"]["pending_notifications_count"]
        == 0
    )
    assert alice.get("/api/v1/notifications/requests/merged").json() == {"merged": True}
    assert (
        alice.post("/api/v1/notifications/requests/accept", data={"id[]": ["x"]}).status_code == 422
    )


def test_policy_v1_shape(client: TestClient) -> None:
    alice = make_user(client)
    body = alice.get("/api/v1/notifications/policy").json()
    assert body["filter_not_following"] is False
    r = alice.patch("/api/v1/notifications/policy", json={"filter_new_accounts": True})
    assert r.status_code == 200 and r.json()["filter_new_accounts"] is True
    assert alice.get("/api/v2/notifications/policy").json()["for_new_accounts"] == "filter"
    assert (
        alice.patch(
            "/api/v1/notifications/policy", json={"filter_new_accounts": "perhaps"}
        ).status_code
        == 422
    )
    one = alice.status("x")
    assert client.get("/api/v1/notifications/policy").status_code == 401
    n = alice.get(f"/api/v1/notifications/{one['id']}")
    assert n.status_code == 404
