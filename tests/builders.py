"""Plain builders for tests: register apps and users through the real API."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

_seq = itertools.count(1)
ALL_SCOPES = "read write follow push"


@dataclass
class User:
    client: TestClient
    token: str
    id: str
    username: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.client.patch(path, headers=self.headers, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.client.put(path, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers, **kw)

    def delete_with(self, path: str, **kw: Any) -> Any:
        """DELETE with a body (JSON or form), as Mastodon clients send for list members."""
        return self.client.request("DELETE", path, headers=self.headers, **kw)

    def status(self, text: str, **fields: Any) -> dict[str, Any]:
        r = self.post("/api/v1/statuses", json={"status": text, **fields})
        assert r.status_code == 200, r.text
        return dict(r.json())


def make_app(client: TestClient, scopes: str = ALL_SCOPES) -> dict[str, Any]:
    r = client.post(
        "/api/v1/apps",
        data={
            "client_name": "tests",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": scopes,
        },
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def app_token(client: TestClient, app: dict[str, Any], scopes: str = ALL_SCOPES) -> str:
    r = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def make_user(
    client: TestClient,
    username: str | None = None,
    *,
    scopes: str = ALL_SCOPES,
    locked: bool = False,
) -> User:
    """Sign up through the API; with `scopes`, the returned token holds only those."""
    username = username or f"user{next(_seq)}"
    app = make_app(client, ALL_SCOPES)
    token = app_token(client, app, "read write")
    r = client.post(
        "/api/v1/accounts",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "username": username,
            "email": f"{username}@example.org",
            "password": "correct horse battery",
            "agreement": "true",
        },
    )
    assert r.status_code == 200, r.text
    full = User(client, r.json()["access_token"], "", username)
    full.id = full.get("/api/v1/accounts/verify_credentials").json()["id"]
    if locked:
        r = full.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
        assert r.status_code == 200, r.text
    if scopes == ALL_SCOPES:
        return full
    r = client.post(  # a narrower token for the same person, through the password grant
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": f"{username}@example.org",
            "password": "correct horse battery",
            "scope": scopes,
        },
    )
    assert r.status_code == 200, r.text
    return User(client, r.json()["access_token"], full.id, username)


# -- reading answers ---------------------------------------------------------------------------


def ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def error_of(r: Any, status: int) -> str:
    """The error message of a refused request, which must be a non-empty string."""
    assert r.status_code == status, r.text
    message = r.json()["error"]
    assert isinstance(message, str) and message
    return message


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [x["id"] for x in items]


def links(response: Any) -> dict[str, str]:
    """The Link header as {rel: url}."""
    found = re.findall(r'<([^>]+)>;\s*rel="(\w+)"', response.headers.get("link", ""))
    return {rel: url for url, rel in found}


def follow(who: User, whom: User) -> None:
    ok(who.post(f"/api/v1/accounts/{whom.id}/follow"))


def home_ids(user: User) -> list[str]:
    return ids(ok(user.get("/api/v1/timelines/home", params={"limit": 40})))
