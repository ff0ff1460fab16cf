"""Rate limits as Mastodon applies them, with its headers on every API answer:
`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (ISO 8601, the end of the
window), and a 429 `{"error": "Too many requests"}` past the limit.

Fixed windows (the counters are in storage/counters.py: memory, or Redis with REDIS_URL):
every request per address; API requests per access token (or per address without one); and
stricter ones for sign-up (API and web), sign-in (token grants, the authorize form, the web
sign-in form) and media uploads. The
headers describe the tightest rule that applied. WebSocket connections are not counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parvis.api.errors import error_response
from parvis.config import Settings
from parvis.storage.counters import Counters, MemoryCounters

FIVE_MINUTES = 300
HALF_HOUR = 1800


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    period: int
    key: str


@dataclass(frozen=True)
class Verdict:
    limit: int
    remaining: int
    reset: datetime
    exceeded: bool


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        counters: Counters | None = None,
        clock: Callable[[], datetime] | None = None,
        blocking: bool = False,
    ) -> None:
        self.app = app
        self.settings = settings
        self.counters = counters or MemoryCounters()
        self.clock = clock or (lambda: datetime.now(UTC))
        # Counters doing network I/O (Redis) run in a worker thread, off the event loop.
        self.blocking = blocking

    def rules(self, scope: Scope) -> list[Rule]:
        s = self.settings
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        ip = client_address(scope) or "unknown"
        rules = [Rule("ip", s.rate_limit_per_ip, FIVE_MINUTES, f"ip:{ip}")]
        api = path.startswith("/api/")
        if api:
            token = _token(scope)
            if token:
                digest = hashlib.sha256(token.encode()).hexdigest()[:32]
                rules.append(Rule("token", s.rate_limit_per_token, FIVE_MINUTES, f"t:{digest}"))
                if method == "POST" and path in ("/api/v1/media", "/api/v2/media"):
                    rules.append(Rule("media", s.rate_limit_media, HALF_HOUR, f"m:{digest}"))
            else:
                rules.append(Rule("anon", s.rate_limit_anonymous, FIVE_MINUTES, f"a:{ip}"))
        if method == "POST" and path in ("/api/v1/accounts", "/signup"):
            rules.append(Rule("sign_up", s.rate_limit_sign_up, HALF_HOUR, f"su:{ip}"))
        if method == "POST" and path in ("/oauth/token", "/oauth/authorize", "/login"):
            rules.append(Rule("sign_in", s.rate_limit_sign_in, FIVE_MINUTES, f"si:{ip}"))
        return rules

    def check(self, rules: list[Rule]) -> Verdict | None:
        now = self.clock()
        stamp = int(now.timestamp())
        worst: Verdict | None = None
        for rule in rules:
            window = stamp // rule.period
            count = self.counters.hit(rule.key, window, rule.period)
            reset = datetime.fromtimestamp((window + 1) * rule.period, UTC)
            verdict = Verdict(rule.limit, max(rule.limit - count, 0), reset, count > rule.limit)
            if (
                worst is None
                or verdict.exceeded > worst.exceeded
                or (verdict.exceeded == worst.exceeded and verdict.remaining < worst.remaining)
            ):
                worst = verdict
        return worst

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.settings.rate_limits_enabled:
            await self.app(scope, receive, send)
            return
        rules = self.rules(scope)
        if self.blocking:
            verdict = await anyio.to_thread.run_sync(self.check, rules)
        else:
            verdict = self.check(rules)
        if verdict is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"x-ratelimit-limit", str(verdict.limit).encode()),
            (b"x-ratelimit-remaining", str(verdict.remaining).encode()),
            (b"x-ratelimit-reset", _ts(verdict.reset).encode()),
        ]
        if verdict.exceeded:
            wait = max(int((verdict.reset - self.clock()).total_seconds()), 1)
            response = error_response(
                429,
                "Too many requests",
                headers={
                    "X-RateLimit-Limit": str(verdict.limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": _ts(verdict.reset),
                    "Retry-After": str(wait),
                },
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_address(scope: Scope) -> str | None:
    """The client's address as the server sees it: the TCP peer, or, behind a proxy whose
    address is in uvicorn's `--forwarded-allow-ips`, the one it put in X-Forwarded-For
    (`--proxy-headers`, on by default in `parvis serve`). Rate limits count per address here,
    for at most 30 minutes; sign-ups and sign-ins keep it `ip_retention_days`
    (services/network_addresses.py)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def _token(scope: Scope) -> str | None:
    auth = Headers(scope=scope).get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    if b"access_token=" in scope.get("query_string", b""):
        return QueryParams(scope["query_string"]).get("access_token") or None
    return None
