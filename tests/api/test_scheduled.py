"""Scheduled posts: scheduling, listing, moving, cancelling, and publication by `publish_due`."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.jobs.runtime import run_job
from tests.api.test_polls import clock_at
from tests.builders import User, make_user


def _at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def _schedule(user: User, when: str, **fields: Any) -> Any:
    return user.post("/api/v1/statuses", json={"status": "later", "scheduled_at": when, **fields})


def _image(user: User) -> str:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(out, "PNG")
    r = user.post("/api/v2/media", files={"file": ("a.png", out.getvalue(), "image/png")})
    assert r.status_code in (200, 202), r.text
    return str(r.json()["id"])


def test_schedule_list_get_move_cancel(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    r = _schedule(alice, _at(timedelta(hours=1)), visibility="unlisted", spoiler_text="cw")
    assert r.status_code == 200, r.text
    item = r.json()
    assert set(item) == {"id", "scheduled_at", "params", "media_attachments"}
    assert item["params"]["text"] == "later" and item["params"]["visibility"] == "unlisted"
    assert item["params"]["spoiler_text"] == "cw"
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []  # not posted yet
    second = _schedule(alice, _at(timedelta(hours=2))).json()
    listed = alice.get("/api/v1/scheduled_statuses").json()
    assert [s["id"] for s in listed] == [second["id"], item["id"]]
    assert bob.get("/api/v1/scheduled_statuses").json() == []
    assert alice.get(f"/api/v1/scheduled_statuses/{item['id']}").json()["id"] == item["id"]
    assert bob.get(f"/api/v1/scheduled_statuses/{item['id']}").status_code == 404
    url = f"/api/v1/scheduled_statuses/{item['id']}"
    later = datetime.now(UTC) + timedelta(days=1)
    r = client.put(url, headers=alice.headers, json={"scheduled_at": later.isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["scheduled_at"].startswith(later.strftime("%Y-%m-%dT%H:%M"))
    soon = _at(timedelta(minutes=1))
    assert client.put(url, headers=alice.headers, json={"scheduled_at": soon}).status_code == 422
    assert client.put(url, headers=alice.headers, json={"scheduled_at": "soon"}).status_code == 422
    assert alice.delete(url).status_code == 200
    assert alice.get(url).status_code == 404
    assert alice.delete(url).status_code == 404
    assert client.get("/api/v1/scheduled_statuses").status_code == 401


def test_scheduling_validation(client: TestClient) -> None:
    alice = make_user(client)
    assert _schedule(alice, _at(timedelta(minutes=2))).status_code == 422
    assert _schedule(alice, _at(-timedelta(hours=1))).status_code == 422
    assert _schedule(alice, "tomorrow-ish").status_code == 422
    r = alice.post("/api/v1/statuses", json={"status": "", "scheduled_at": _at(timedelta(hours=1))})
    assert r.status_code == 422  # the same checks as posting now
    assert alice.get("/api/v1/scheduled_statuses").json() == []


def test_media_stay_reserved(client: TestClient) -> None:
    alice = make_user(client)
    media_id = _image(alice)
    r = _schedule(alice, _at(timedelta(hours=1)), media_ids=[media_id])
    assert r.status_code == 200, r.text
    assert [m["id"] for m in r.json()["media_attachments"]] == [media_id]
    now = alice.post("/api/v1/statuses", json={"status": "now", "media_ids": [media_id]})
    assert now.status_code == 422 and "reserved" in now.json()["error"]
    assert _schedule(alice, _at(timedelta(hours=2)), media_ids=[media_id]).status_code == 422
    # cancelling frees them
    assert alice.delete(f"/api/v1/scheduled_statuses/{r.json()['id']}").status_code == 200
    now = alice.post("/api/v1/statuses", json={"status": "now", "media_ids": [media_id]})
    assert now.status_code == 200, now.text


def test_publish_due(client: TestClient, parvis: Parvis) -> None:
    alice, bob = make_user(client), make_user(client)
    media_id = _image(alice)
    real = datetime.now(UTC)
    with clock_at(parvis, real - timedelta(hours=1)):
        due = _schedule(
            alice,
            (real - timedelta(minutes=30)).isoformat(),
            media_ids=[media_id],
            poll=None,
            language="en",
        ).json()
        poll = _schedule(
            alice,
            (real - timedelta(minutes=20)).isoformat(),
            poll={"options": ["yes", "no"], "expires_in": 86400},
        ).json()
    assert poll["params"]["poll"] == {
        "options": ["yes", "no"],
        "expires_in": 86400,
        "multiple": False,
        "hide_totals": False,
    }
    future = _schedule(alice, _at(timedelta(hours=3))).json()
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    assert run_job(parvis.runtime, "publish_due", {}) == 2
    posted = alice.get(f"/api/v1/accounts/{alice.id}/statuses").json()
    assert len(posted) == 2
    by_media = [s for s in posted if s["media_attachments"]]
    assert [m["id"] for m in by_media[0]["media_attachments"]] == [media_id]
    assert any(s["poll"] and s["poll"]["options"][0]["title"] == "yes" for s in posted)
    assert {s["id"] for s in bob.get("/api/v1/timelines/home").json()} == {s["id"] for s in posted}
    listed = [s["id"] for s in alice.get("/api/v1/scheduled_statuses").json()]
    assert listed == [future["id"]]
    assert due["id"] not in listed and poll["id"] not in listed
    assert run_job(parvis.runtime, "publish_due", {}) == 0


def test_reply_controls_apply_at_publication(client: TestClient, parvis: Parvis) -> None:
    alice, bob = make_user(client), make_user(client)
    post = alice.status("replies welcome, for now")
    real = datetime.now(UTC)
    with clock_at(parvis, real - timedelta(hours=1)):
        r = _schedule(bob, (real - timedelta(minutes=30)).isoformat(), in_reply_to_id=post["id"])
        assert r.status_code == 200, r.text
    r = client.put(
        f"/api/v1/statuses/{post['id']}",
        headers=alice.headers,
        json={"status": "closed now", "reply_policy": "mentioned"},
    )
    assert r.status_code == 200
    assert run_job(parvis.runtime, "publish_due", {}) == 0  # dropped: no longer allowed
    assert bob.get(f"/api/v1/accounts/{bob.id}/statuses").json() == []
    assert bob.get("/api/v1/scheduled_statuses").json() == []
