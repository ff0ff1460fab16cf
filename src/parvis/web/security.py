"""What every page carries: the security headers (a Content-Security-Policy without inline
script, no framing) and the CSRF token that every state-changing form must send back.

CSRF: each browser gets a random `parvis_csrf` cookie (HttpOnly, SameSite=Lax); a form carries
HMAC(server secret, cookie), masked by a random pad, in its `csrf` field. Another site can
neither read the cookie nor compute the field, so it cannot forge a form post."""

from __future__ import annotations

import secrets

from starlette.requests import Request

from parvis.services import sessions

CSRF_COOKIE = sessions.CSRF_COOKIE
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

# The end-to-end messages pages (and the export page, which decrypts) run libsodium, compiled to
# WebAssembly: compiling it needs 'wasm-unsafe-eval', which allows WebAssembly and nothing else
# (never eval() or new Function(): that would be 'unsafe-eval'). Only those pages get it.
CSP_WASM = CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
assert CSP_WASM != CSP

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


def csrf_token(key: bytes, browser: str) -> str:
    """The token for this browser's forms (see services/sessions.py, which the API shares)."""
    return sessions.csrf_token(key, browser)


def csrf_ok(key: bytes, request: Request, submitted: str | None) -> bool:
    return sessions.csrf_matches(key, request.cookies.get(CSRF_COOKIE, ""), submitted)
