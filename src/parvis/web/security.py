"""What every page carries: the security headers (a Content-Security-Policy without inline
script, no framing) and the CSRF token that every state-changing form must send back.

CSRF: each browser gets a random `parvis_csrf` cookie (HttpOnly, SameSite=Lax); a form carries
HMAC(server secret, cookie), masked by a random pad, in its `csrf` field. Another site can
neither read the cookie nor compute the field, so it cannot forge a form post."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

CSRF_COOKIE = "parvis_csrf"
CSRF_FIELD = "csrf"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "manifest-src 'self'",
        "worker-src 'self'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def browser_secret(request: Request) -> tuple[str, bool]:
    """This browser's CSRF cookie, and whether it is new (then the response must set it)."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(value) <= 100 and value.isascii():
        return value, False
    return secrets.token_urlsafe(32), True


def _browser_token(key: bytes, browser: str) -> bytes:
    return hmac.new(key, b"csrf:" + browser.encode(), hashlib.sha256).digest()


def csrf_token(key: bytes, browser: str) -> str:
    """The token for this browser's forms, masked with a fresh random pad on every page, so
    that compressed pages never repeat the same secret bytes (BREACH)."""
    pad = secrets.token_bytes(32)
    masked = bytes(a ^ b for a, b in zip(pad, _browser_token(key, browser), strict=True))
    return (pad + masked).hex()


def csrf_ok(key: bytes, request: Request, submitted: str | None) -> bool:
    browser = request.cookies.get(CSRF_COOKIE, "")
    if not browser or not submitted or len(submitted) != 128:
        return False
    try:
        raw = bytes.fromhex(submitted)
    except ValueError:
        return False
    unmasked = bytes(a ^ b for a, b in zip(raw[:32], raw[32:], strict=True))
    return hmac.compare_digest(_browser_token(key, browser), unmasked)
