"""Endorsements and familiar followers through the real HTTP API."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import error_of, follow, ids, links, make_user, ok


def test_endorse_and_list(client: TestClient) -> None:
    me, a, b, stranger = (make_user(client) for _ in range(4))
    follow(me, a)
    follow(me, b)
    rel = ok(me.post(f"/api/v1/accounts/{a.id}/pin"))
    assert (rel["id"], rel["endorsed"], rel["following"]) == (a.id, True, True)
    assert ok(me.post(f"/api/v1/accounts/{b.id}/endorse"))["endorsed"] is True
    ok(me.post(f"/api/v1/accounts/{b.id}/endorse"))  # again: once
    assert ids(ok(me.get("/api/v1/endorsements"))) == [b.id, a.id]
    r = me.get("/api/v1/endorsements", params={"limit": 1})
    assert ids(ok(r)) == [b.id]
    assert ids(ok(client.get(links(r)["next"], headers=me.headers))) == [a.id]
    assert ids(ok(client.get(f"/api/v1/accounts/{me.id}/endorsements"))) == [b.id, a.id]
    rel = ok(me.get("/api/v1/accounts/relationships", params={"id[]": a.id}))[0]
    assert rel["endorsed"] is True

    assert ok(me.post(f"/api/v1/accounts/{a.id}/unpin"))["endorsed"] is False
    assert ok(me.post(f"/api/v1/accounts/{b.id}/unendorse"))["endorsed"] is False
    assert ok(me.get("/api/v1/endorsements")) == []

    # Only followed accounts; unknown ones are not found; an unfollow ends the endorsement.
    error_of(me.post(f"/api/v1/accounts/{stranger.id}/pin"), 422)
    error_of(me.post(f"/api/v1/accounts/{me.id}/pin"), 422)
    error_of(me.post("/api/v1/accounts/99999999/pin"), 404)
    error_of(me.post("/api/v1/accounts/nope/endorse"), 404)
    ok(me.post(f"/api/v1/accounts/{a.id}/pin"))
    ok(me.post(f"/api/v1/accounts/{a.id}/unfollow"))
    assert ok(me.get("/api/v1/endorsements")) == []
    error_of(client.get("/api/v1/endorsements"), 401)
    error_of(client.get("/api/v1/accounts/99999999/endorsements"), 404)


def test_familiar_followers(client: TestClient) -> None:
    me, target, f1, f2, f3, lone = (make_user(client) for _ in range(6))
    for f in (f1, f2, f3):
        follow(me, f)
        follow(f, target)
    follow(lone, target)  # follows the target, but I don't follow them
    ok(f3.patch("/api/v1/accounts/update_credentials", data={"hide_collections": "true"}))
    got = ok(me.get("/api/v1/accounts/familiar_followers", params={"id[]": [target.id, lone.id]}))
    assert [g["id"] for g in got] == [target.id, lone.id]
    assert set(ids(got[0]["accounts"])) == {f1.id, f2.id}
    assert got[1]["accounts"] == []
    assert (
        ok(me.get("/api/v1/accounts/familiar_followers", params={"id": target.id}))[0]["id"]
        == target.id
    )
    assert ok(me.get("/api/v1/accounts/familiar_followers")) == []
    error_of(me.get("/api/v1/accounts/familiar_followers", params={"id[]": "abc"}), 422)
    error_of(client.get("/api/v1/accounts/familiar_followers"), 401)
