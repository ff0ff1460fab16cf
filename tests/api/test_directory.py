"""The profile directory: GET /api/v1/directory."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.ids import new_id
from parvis.services.context import Work
from tests.builders import error_of, ids, make_user, ok


def _listed(client: TestClient, **params: Any) -> list[str]:
    return ids(ok(client.get("/api/v1/directory", params=params)))


def _remote(parvis: Parvis, username: str, domain: str) -> str:
    now = datetime.now(UTC)
    aid = new_id()

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

    parvis.runtime.write(run)
    return str(aid)


def test_orders_active_and_new(client: TestClient, parvis: Parvis) -> None:
    first, second, quiet = make_user(client), make_user(client), make_user(client)
    second.status("avant")
    first.status("après")
    # `active`, the default: the latest to post first, those who never posted last
    assert _listed(client) == [first.id, second.id, quiet.id]
    assert _listed(client, order="active") == [first.id, second.id, quiet.id]
    # `new`: the newest accounts first
    assert _listed(client, order="new") == [quiet.id, second.id, first.id]
    # offset and limit
    assert _listed(client, order="new", limit=2) == [quiet.id, second.id]
    assert _listed(client, order="new", offset=1, limit=1) == [second.id]
    assert _listed(client, offset=3) == []
    assert len(_listed(client, limit=500)) == 3  # more than 80 counts as 80
    # answers are full accounts
    body = ok(client.get("/api/v1/directory"))
    assert body[0]["username"] == first.username
    assert body[0]["last_status_at"] is not None


def test_only_discoverable_and_active_accounts(client: TestClient, parvis: Parvis) -> None:
    shown, hidden, suspended, disabled, unapproved, unconfirmed, locked = (
        make_user(client) for _ in range(7)
    )
    ok(hidden.patch("/api/v1/accounts/update_credentials", data={"discoverable": "false"}))
    ok(locked.patch("/api/v1/accounts/update_credentials", data={"locked": "true"}))
    with parvis.runtime.stores.write() as store:
        store.accounts.update(int(suspended.id), {"suspended_at": datetime.now(UTC)})
        store.accounts.update_user(int(disabled.id), {"disabled": True})
        store.accounts.update_user(int(unapproved.id), {"approved": False})
        store.accounts.update_user(int(unconfirmed.id), {"confirmed": False})
    # a locked account (it approves its followers) is listed; locked-out users are not
    assert set(_listed(client)) == {shown.id, locked.id}
    ok(hidden.patch("/api/v1/accounts/update_credentials", data={"discoverable": "true"}))
    assert set(_listed(client)) == {shown.id, locked.id, hidden.id}


def test_local_only(client: TestClient, parvis: Parvis) -> None:
    here = make_user(client)
    there = _remote(parvis, "far", "remote.example")
    assert set(_listed(client)) == {here.id, there}
    assert _listed(client, local="true") == [here.id]
    assert set(_listed(client, local="false")) == {here.id, there}


def test_viewer_does_not_see_whom_they_block_or_mute(client: TestClient, parvis: Parvis) -> None:
    me, blocked, muted, blocker, other = (make_user(client) for _ in range(5))
    remote = _remote(parvis, "far", "blocked.example")
    ok(me.post(f"/api/v1/accounts/{blocked.id}/block"))
    ok(me.post(f"/api/v1/accounts/{muted.id}/mute"))
    ok(blocker.post(f"/api/v1/accounts/{me.id}/block"))
    ok(me.post("/api/v1/domain_blocks", json={"domain": "blocked.example"}))
    everyone = {me.id, blocked.id, muted.id, blocker.id, other.id, remote}
    assert set(_listed(client)) == everyone
    assert set(ids(ok(me.get("/api/v1/directory")))) == {me.id, other.id}
    # a mute that has expired hides no more
    with parvis.runtime.stores.write() as store:
        store.social.add(
            "mutes", int(me.id), int(muted.id), datetime.now(UTC), expires_at=datetime.now(UTC)
        )
    assert muted.id in ids(ok(me.get("/api/v1/directory")))


def test_bad_parameters(client: TestClient) -> None:
    make_user(client)
    for params in (
        {"order": "popular"},
        {"local": "maybe"},
        {"limit": "0"},
        {"limit": "many"},
        {"offset": "-1"},
        {"offset": "10000000"},
    ):
        message = error_of(client.get("/api/v1/directory", params=params), 422)
        assert message.startswith("Validation failed")
