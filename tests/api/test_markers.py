"""Timeline markers through the real HTTP API: saved per timeline, versioned, validated."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import error_of, make_user, ok


def test_markers_round_trip(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    assert ok(me.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]})) == {}
    saved = ok(me.post("/api/v1/markers", json={"home": {"last_read_id": "103"}}))
    assert list(saved) == ["home"]
    assert saved["home"]["last_read_id"] == "103" and saved["home"]["version"] == 0
    assert saved["home"]["updated_at"].endswith("Z")
    again = ok(
        me.post(
            "/api/v1/markers",
            data={"home[last_read_id]": "105", "notifications[last_read_id]": "7"},
        )
    )
    assert again["home"]["version"] == 1 and again["home"]["last_read_id"] == "105"
    assert again["notifications"] == {**again["notifications"], "last_read_id": "7", "version": 0}
    got = ok(me.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]}))
    assert got == again
    assert list(ok(me.get("/api/v1/markers", params={"timeline[]": "home"}))) == ["home"]
    assert ok(me.get("/api/v1/markers")) == {}
    assert ok(me.get("/api/v1/markers", params={"timeline[]": "bogus"})) == {}
    assert ok(other.get("/api/v1/markers", params={"timeline[]": "home"})) == {}


def test_markers_bad_input(client: TestClient) -> None:
    me = make_user(client)
    error_of(me.post("/api/v1/markers", json={}), 422)
    error_of(me.post("/api/v1/markers", json={"home": {"last_read_id": "abc"}}), 422)
    error_of(me.post("/api/v1/markers", json={"home": {}}), 422)
    error_of(me.post("/api/v1/markers", json={"home": "12"}), 422)
    error_of(client.get("/api/v1/markers"), 401)
    assert ok(me.get("/api/v1/markers", params={"timeline[]": "home"})) == {}
