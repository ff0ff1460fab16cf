"""Helpers for web page tests: a browser (a TestClient with its own cookies) that signs up and
submits forms with the CSRF token found in the page, as a person would."""

from __future__ import annotations

import itertools
import re
from typing import Any

from starlette.testclient import TestClient

_seq = itertools.count(1)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def browser(client: TestClient) -> TestClient:
    """Another browser on the same server (its own cookie jar)."""
    return TestClient(client.app, base_url=str(client.base_url))


def sign_up(web: TestClient, username: str | None = None, password: str = "correct horse 1") -> str:
    """Sign up through the real page and stay signed in; returns the username."""
    name = username or f"web{next(_seq)}"
    token = csrf(web.get("/signup").text)
    r = web.post(
        "/signup",
        data={
            "csrf": token,
            "username": name,
            "email": f"{name}@example.test",
            "password": password,
            "agreement": "on",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return name


def submit(web: TestClient, page: str, action: str, **fields: Any) -> Any:
    """POST a form of `page` (its CSRF token) to `action`, not following the redirect."""
    token = csrf(web.get(page).text)
    return web.post(action, data={"csrf": token, **fields}, follow_redirects=False)


def log_in(web: TestClient, login: str, password: str) -> None:
    """Sign in through the login page (users made by tests.builders use their e-mail address
    and the password "correct horse battery")."""
    token = csrf(web.get("/login").text)
    r = web.post(
        "/login",
        data={"csrf": token, "login": login, "password": password},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
