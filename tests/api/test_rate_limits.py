"""Rate limits: Mastodon's X-RateLimit-* headers, 429 past the limit, fixed windows (the clock
is the only fake), and the counters' contract in memory and in Redis."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.app import build, create_app
from parvis.storage.counters import Counters, MemoryCounters, RedisCounters
from tests.builders import make_user
from tests.conftest import REDIS_URL, make_settings, service_missing


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 10, 0, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limited_client(tmp_path: Path, clock: Clock, **limits: Any) -> Iterator[TestClient]:
    values: dict[str, Any] = {"rate_limits_enabled": True, "rate_limit_sign_up": 100, **limits}
    parvis = build(make_settings(tmp_path, **values), clock=clock, migrate=True)
    with TestClient(create_app(parvis, embedded_worker=False), base_url="https://parvis.test") as c:
        yield c
    parvis.close()


@pytest.fixture
def client(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    yield from limited_client(tmp_path, clock, rate_limit_per_token=4, rate_limit_anonymous=2)


def test_headers_count_down_then_429_until_the_window_ends(
    client: TestClient, clock: Clock
) -> None:
    user = make_user(client)
    seen = []
    for _ in range(3):
        r = user.get("/api/v1/accounts/verify_credentials")
        assert r.status_code == 200
        seen.append(r.headers["X-RateLimit-Remaining"])
        assert r.headers["X-RateLimit-Limit"] == "4"
    assert seen == ["2", "1", "0"]  # make_user called verify_credentials once already
    r = user.get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 429
    assert r.json() == {"error": "Too many requests"}
    assert r.headers["X-RateLimit-Remaining"] == "0"
    reset = datetime.fromisoformat(r.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert reset == datetime(2026, 3, 2, 10, 5, 0, tzinfo=UTC)
    assert int(r.headers["Retry-After"]) > 0
    # Browser clients on other origins can read the headers of a 429 too.
    r = client.get(
        "/api/v1/accounts/verify_credentials",
        headers={**user.headers, "Origin": "https://elk.zone"},
    )
    assert r.status_code == 429
    assert "X-RateLimit-Reset" in r.headers["Access-Control-Expose-Headers"]
    clock.now = reset + timedelta(seconds=1)
    r = user.get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 200
    assert r.headers["X-RateLimit-Remaining"] == "3"


def test_tokens_are_counted_apart(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    for _ in range(4):
        alice.get("/api/v1/accounts/verify_credentials")
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 429
    assert bob.get("/api/v1/accounts/verify_credentials").status_code == 200


def test_anonymous_callers_are_counted_by_address(client: TestClient) -> None:
    codes = [client.get("/api/v1/timelines/public").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_sign_up_has_its_own_stricter_limit(tmp_path: Path, clock: Clock) -> None:
    for client in limited_client(tmp_path, clock, rate_limit_sign_up=2):
        make_user(client)
        make_user(client)
        r = client.post("/api/v1/accounts", data={"username": "third"})
        assert r.status_code == 429
        assert r.headers["X-RateLimit-Limit"] == "2"


def test_the_web_sign_in_form_is_limited_like_token_grants(tmp_path: Path, clock: Clock) -> None:
    for client in limited_client(tmp_path, clock, rate_limit_sign_in=3):
        page = client.get("/login")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None
        form = {"csrf": found.group(1), "login": "nobody@example.org", "password": "wrong"}
        codes = [client.post("/login", data=form).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]


def test_off_when_disabled(tmp_path: Path) -> None:
    parvis = build(make_settings(tmp_path), migrate=True)  # the test settings turn them off
    with TestClient(create_app(parvis, embedded_worker=False)) as client:
        r = client.get("/api/v1/timelines/public")
        assert r.status_code == 200
        assert "X-RateLimit-Limit" not in r.headers
    parvis.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def counters(request: pytest.FixtureRequest) -> Iterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    if not REDIS_URL:
        service_missing("Redis", "PARVIS_TEST_REDIS_URL")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"parvis-test:{uuid.uuid4().hex}:"
    yield RedisCounters(client, prefix=prefix)
    keys = list(client.scan_iter(prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_counters_count_per_key_and_window(counters: Counters) -> None:
    assert [counters.hit("a", 10, 300) for _ in range(3)] == [1, 2, 3]
    assert counters.hit("b", 10, 300) == 1
    assert counters.hit("a", 10, 1800) == 1  # another period is another counter
    assert counters.hit("a", 11, 300) == 1  # a new window starts from zero
