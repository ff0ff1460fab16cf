"""Suggestions: friends of friends first, explained; then the most followed."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import make_user


def test_friends_of_friends(client: TestClient) -> None:
    me, f1, f2, popular, niche, blocked = (make_user(client) for _ in range(6))
    for friend in (f1, f2):
        assert me.post(f"/api/v1/accounts/{friend.id}/follow").status_code == 200
        assert friend.post(f"/api/v1/accounts/{popular.id}/follow").status_code == 200
        assert friend.post(f"/api/v1/accounts/{blocked.id}/follow").status_code == 200
    assert f1.post(f"/api/v1/accounts/{niche.id}/follow").status_code == 200
    assert f1.post(f"/api/v1/accounts/{me.id}/follow").status_code == 200
    assert me.post(f"/api/v1/accounts/{blocked.id}/block").status_code == 200

    r = me.get("/api/v2/suggestions")
    assert r.status_code == 200, r.text
    found = r.json()
    assert [s["account"]["id"] for s in found[:2]] == [popular.id, niche.id]
    assert found[0]["sources"] == ["friends_of_friends"]
    assert found[0]["source"] == "past_interactions"
    assert sorted(found[0]["parvis_reason"]["followed_by"]) == sorted([f1.id, f2.id])
    ids = [s["account"]["id"] for s in found]
    assert me.id not in ids and f1.id not in ids and blocked.id not in ids

    assert me.delete(f"/api/v1/suggestions/{popular.id}").status_code == 200
    assert popular.id not in [a["id"] for a in me.get("/api/v1/suggestions").json()]
    assert me.delete("/api/v1/suggestions/123").status_code == 404
    assert me.get("/api/v2/suggestions?limit=1").json()[0]["account"]["id"] == niche.id
    assert me.get("/api/v2/suggestions?limit=x").status_code == 422
    assert client.get("/api/v2/suggestions").status_code == 401


def test_most_followed_fallback(client: TestClient) -> None:
    newcomer, star, fan = make_user(client), make_user(client), make_user(client)
    assert fan.post(f"/api/v1/accounts/{star.id}/follow").status_code == 200
    found = newcomer.get("/api/v2/suggestions").json()
    assert [s["account"]["id"] for s in found] == [star.id]
    assert found[0]["sources"] == ["most_followed"]
    assert found[0]["parvis_reason"] == {"followed_by": []}
