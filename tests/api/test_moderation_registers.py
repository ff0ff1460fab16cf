"""The moderation registers over HTTP: the public rules with every version, /api/v1/instance
rules served from the versioned table, and the staff endpoints (admin scopes and the moderator
or admin role) for trusted flaggers, the authority register, the roster and misuse."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import accounts, rules
from tests.builders import User, error_of, make_app, make_user, ok

ADMIN = "/api/parvis/v1/admin"
STAFF_SCOPES = "read write admin:read admin:write"


def staff(client: TestClient, parvis: Parvis, role: str, scopes: str = STAFF_SCOPES) -> User:
    """A user with `role`, holding a token with the admin scopes (password grant)."""
    person = make_user(client)
    parvis.runtime.write(lambda w: accounts.set_role(w, int(person.id), role))
    app = make_app(client, STAFF_SCOPES)
    r = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": f"{person.username}@example.org",
            "password": "correct horse battery",
            "scope": scopes,
        },
    )
    assert r.status_code == 200, r.text
    return User(client, r.json()["access_token"], person.id, person.username)


def test_rules_are_public_with_every_version(client: TestClient, parvis: Parvis) -> None:
    first = ok(client.get("/api/parvis/v1/rules"))
    assert [(r["id"], r["version"], r["in_force"]) for r in first] == [
        (str(i), 1, True) for i in range(1, len(parvis.settings.rules) + 1)
    ]
    parvis.runtime.write(lambda w: rules.change(w, "2", "No harassment, threats or doxxing."))
    after = ok(client.get("/api/parvis/v1/rules"))
    two = [r for r in after if r["id"] == "2"]
    assert [(r["version"], r["in_force"]) for r in two] == [(1, False), (2, True)]
    assert two[0]["valid_to"] == two[1]["valid_from"]
    mastodon = ok(client.get("/api/v1/instance/rules"))
    assert [r["text"] for r in mastodon if r["id"] == "2"] == ["No harassment, threats or doxxing."]
    assert len(mastodon) == len(parvis.settings.rules)
    assert ok(client.get("/api/v2/instance"))["rules"] == mastodon
    assert ok(client.get("/api/v1/instance"))["rules"] == mastodon


def test_staff_only(client: TestClient, parvis: Parvis) -> None:
    plain = staff(client, parvis, "user")
    mod = staff(client, parvis, "moderator")
    narrow = staff(client, parvis, "admin", scopes="read write")
    assert client.get(f"{ADMIN}/trusted_flaggers").status_code == 401
    error_of(plain.get(f"{ADMIN}/trusted_flaggers"), 403)
    error_of(narrow.get(f"{ADMIN}/trusted_flaggers"), 403)  # no admin:read scope
    assert ok(mod.get(f"{ADMIN}/trusted_flaggers")) == []
    assert ok(mod.get(f"{ADMIN}/authority_orders")) == []
    body = {"name": "X", "coordinator": "Arcom", "member_state": "FR"}
    error_of(mod.post(f"{ADMIN}/trusted_flaggers", json=body), 403)  # administrators only
    error_of(mod.get(f"{ADMIN}/moderators"), 403)


def test_trusted_flaggers(client: TestClient, parvis: Parvis) -> None:
    admin = staff(client, parvis, "admin")
    reporter = make_user(client)
    made = ok(
        admin.post(
            f"{ADMIN}/trusted_flaggers",
            json={
                "name": "Point de Contact",
                "coordinator": "Arcom",
                "member_state": "FR",
                "areas": ["racial_hatred", "terrorism"],
                "account_id": reporter.id,
            },
        )
    )
    assert made["account_id"] == reporter.id and made["areas"] == ["racial_hatred", "terrorism"]
    assert made["accuracy"] == {
        "notices": 0,
        "restricted": 0,
        "rejected": 0,
        "pending": 0,
        "precision": None,
        "review": False,
    }
    assert ok(admin.get(f"{ADMIN}/trusted_flaggers/{made['id']}"))["name"] == "Point de Contact"
    assert [f["id"] for f in ok(admin.get(f"{ADMIN}/trusted_flaggers"))] == [made["id"]]
    revoked = ok(admin.post(f"{ADMIN}/trusted_flaggers/{made['id']}/revoke"))
    assert revoked["revoked_at"] is not None
    assert ok(admin.get(f"{ADMIN}/trusted_flaggers")) == []
    assert len(ok(admin.get(f"{ADMIN}/trusted_flaggers", params={"with_revoked": "true"}))) == 1
    error_of(admin.post(f"{ADMIN}/trusted_flaggers/{made['id']}/revoke"), 409)
    error_of(admin.get(f"{ADMIN}/trusted_flaggers/123"), 404)
    error_of(admin.get(f"{ADMIN}/trusted_flaggers/nope"), 404)
    bad = {"name": "X", "coordinator": "Arcom", "member_state": "US"}
    assert "member_state" in error_of(admin.post(f"{ADMIN}/trusted_flaggers", json=bad), 422)
    bad = {"name": "X", "coordinator": "Arcom", "member_state": "FR", "account_id": "x"}
    assert "account_id" in error_of(admin.post(f"{ADMIN}/trusted_flaggers", json=bad), 422)
    assert "name" in error_of(admin.post(f"{ADMIN}/trusted_flaggers", json={}), 422)


def test_the_authority_register(client: TestClient, parvis: Parvis) -> None:
    mod = staff(client, parvis, "moderator")
    author = make_user(client)
    post = author.status("Something")
    order: dict[str, Any] = {
        "kind": "info",
        "authority": "Parquet de Paris",
        "member_state": "FR",
        "dsa_category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "legal_basis": "Code de procédure pénale, art. 60-1",
        "reference": "PQ-2026-1",
        "items[]": [post["url"]],
        "received_at": "2020-01-01T10:00:00+01:00",
    }
    made = ok(mod.post(f"{ADMIN}/authority_orders", data=order))
    assert made["items"] == [post["url"]] and made["received_at"] == "2020-01-01T09:00:00.000Z"
    assert "end-to-end encrypted" in made["not_held"]
    assert made["acknowledged_at"] is None
    acked = ok(mod.post(f"{ADMIN}/authority_orders/{made['id']}/acknowledge", json={}))
    assert acked["acknowledged_at"] is not None
    error_of(mod.post(f"{ADMIN}/authority_orders/{made['id']}/acknowledge"), 409)
    assert ok(mod.get(f"{ADMIN}/authority_orders", params={"open": "true"}))[0]["id"] == made["id"]
    message = error_of(mod.post(f"{ADMIN}/authority_orders/{made['id']}/carry_out", json={}), 422)
    assert "provided" in message
    done = ok(
        mod.post(
            f"{ADMIN}/authority_orders/{made['id']}/carry_out",
            json={"provided": "The account's e-mail address and sign-up date"},
        )
    )
    assert done["carried_out_at"] is not None
    assert ok(mod.get(f"{ADMIN}/authority_orders", params={"open": "true"})) == []
    assert ok(mod.get(f"{ADMIN}/authority_orders", params={"kind": "info"}))[0]["id"] == made["id"]
    assert ok(mod.get(f"{ADMIN}/authority_orders/{made['id']}"))["provided"].startswith("The")
    error_of(mod.get(f"{ADMIN}/authority_orders", params={"kind": "other"}), 422)
    error_of(mod.get(f"{ADMIN}/authority_orders/1"), 404)
    bad = {**order, "received_at": "yesterday"}
    assert "received_at" in error_of(mod.post(f"{ADMIN}/authority_orders", data=bad), 422)
    bad = {**order, "items[]": ["https://elsewhere.example/x"]}
    assert "items" in error_of(mod.post(f"{ADMIN}/authority_orders", data=bad), 422)
    bad = {**order, "received_at": "2999-01-01T00:00:00Z"}
    assert "future" in error_of(mod.post(f"{ADMIN}/authority_orders", data=bad), 422)


def test_the_roster(client: TestClient, parvis: Parvis) -> None:
    admin = staff(client, parvis, "admin")
    mod = staff(client, parvis, "moderator")
    entry = ok(
        admin.put(
            f"{ADMIN}/moderators/{mod.id}",
            json={"languages": ["fr", "ar"], "country": "FR", "training": "DSA", "paid": True},
        )
    )
    assert entry["languages"] == ["fr", "ar"] and entry["until"] is None
    listed = ok(admin.get(f"{ADMIN}/moderators"))
    assert listed["aggregate"]["total"] == 1
    assert listed["aggregate"]["by_language"] == {"ar": 1, "fr": 1}
    assert listed["entries"][0]["account_id"] == mod.id
    error_of(admin.put(f"{ADMIN}/moderators/{mod.id}", json={"languages": ["fr"]}), 422)
    bad = {"languages": ["fr"], "country": "XX"}
    assert "country" in error_of(admin.put(f"{ADMIN}/moderators/{mod.id}", json=bad), 422)
    left = ok(admin.delete(f"{ADMIN}/moderators/{mod.id}"))
    assert left["until"] is not None
    error_of(admin.delete(f"{ADMIN}/moderators/{mod.id}"), 404)
    assert ok(admin.get(f"{ADMIN}/moderators"))["aggregate"]["total"] == 0


def test_misuse_assessment(client: TestClient, parvis: Parvis) -> None:
    mod = staff(client, parvis, "moderator")
    someone = make_user(client)
    found = ok(mod.get(f"{ADMIN}/accounts/{someone.id}/misuse"))
    assert found["content"]["count"] == 0 and found["notices"]["total"] == 0
    assert [r["action"] for r in found["recommendations"]] == ["none", "none"]
    error_of(mod.get(f"{ADMIN}/accounts/1/misuse"), 404)


@pytest.mark.parametrize("path", ["/api/parvis/v1/rules"])
def test_public_paths_need_no_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200
