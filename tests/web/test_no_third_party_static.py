"""No third-party requests, the cheap static half: no template, script or style of the web app
names another host in anything a browser loads by itself (`src=`, `srcset=`, `<link href>`,
`url()`, `@import`, `fetch(`, WebSocket, EventSource, workers, `importScripts`), and the
Content-Security-Policy allows only the server's own origin. A link a person follows (`<a
href>`) is no request and stays allowed. The browser half, which visits every page, is
tests/browser/test_no_third_party.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parvis.web import security

WEB = Path(__file__).resolve().parents[2] / "src" / "parvis" / "web"
ABSOLUTE = r"""(?:https?:|wss?:)?//"""
LOADS = [
    re.compile(rf"""\bsrc\s*=\s*["'`]?\s*{ABSOLUTE}""", re.I),
    re.compile(rf"""\bsrcset\s*=\s*["'`][^"'`]*{ABSOLUTE}""", re.I),
    re.compile(rf"""<link\b[^>]*\bhref\s*=\s*["']?\s*{ABSOLUTE}""", re.I),
    re.compile(rf"""\burl\(\s*["']?\s*{ABSOLUTE}""", re.I),
    re.compile(r"""@import\b""", re.I),
    re.compile(rf"""\bfetch\(\s*["'`]\s*{ABSOLUTE}""", re.I),
    re.compile(
        rf"""\bnew\s+(?:WebSocket|EventSource|Worker|SharedWorker)\(\s*["'`]\s*{ABSOLUTE}""",
        re.I,
    ),
    re.compile(rf"""\bimportScripts\(\s*["'`]\s*{ABSOLUTE}""", re.I),
    re.compile(rf"""\.open\(\s*["'`][A-Z]+["'`]\s*,\s*["'`]\s*{ABSOLUTE}""", re.I),  # XHR
]


def loads_elsewhere(text: str) -> list[str]:
    """The places in `text` where a browser would load something from another host."""
    return [m.group(0) for pattern in LOADS for m in pattern.finditer(text)]


@pytest.mark.parametrize(
    "bad",
    [
        '<img src="https://cdn.example/a.png">',
        "<script src='//cdn.example/x.js'></script>",
        '<img srcset="/a.png 1x, https://cdn.example/a2.png 2x">',
        '<link rel="stylesheet" href="https://fonts.example/css">',
        '<link rel="preconnect" href="https://fonts.example">',
        "body { background: url( 'https://cdn.example/bg.png') }",
        '@import "theme.css";',
        "fetch(`https://api.example/track`)",
        'new WebSocket("wss://push.example/")',
        'new EventSource("https://push.example/")',
        "importScripts('https://cdn.example/sw-lib.js')",
        "img.src = 'https://tracker.example/p.gif'",
        'xhr.open("GET", "https://api.example/x")',
    ],
)
def test_the_check_finds_a_load_from_another_host(bad: str) -> None:
    assert loads_elsewhere(bad)


@pytest.mark.parametrize(
    "fine",
    [
        '<a href="https://joinmastodon.example/">a link a person follows</a>',
        '<img src="/static/avatar.png" alt="">',
        '<img src="{{ media_url(m.thumb_key) }}">',
        '<link rel="stylesheet" href="/static/parvis.css">',
        "fetch('/api/v1/timelines/home')",
        'const base = new URL(path, "http://x")',  # htmx: parsing, not loading
        "background: url(data:image/svg+xml;base64,AAAA)",
        "new WebSocket(`${scheme}://${location.host}/api/v1/streaming`)",
    ],
)
def test_the_check_leaves_links_and_own_resources_alone(fine: str) -> None:
    assert loads_elsewhere(fine) == []


def web_files() -> list[Path]:
    found = [
        *sorted((WEB / "templates").rglob("*.html")),
        *sorted((WEB / "static").rglob("*.js")),
        *sorted((WEB / "static").rglob("*.css")),
    ]
    assert len(found) > 50, "the web app's files were not found"
    return found


def test_no_template_script_or_style_loads_from_another_host() -> None:
    offending = {
        str(path.relative_to(WEB)): hits
        for path in web_files()
        if (hits := loads_elsewhere(path.read_text(encoding="utf-8")))
    }
    assert offending == {}


def test_the_content_security_policy_allows_only_this_server() -> None:
    allowed = {"'self'", "'none'", "data:", "blob:"}
    directives = [d.split() for d in security.CSP.split(";")]
    assert {d[0] for d in directives} >= {"default-src", "script-src", "img-src", "connect-src"}
    strays = [(d[0], s) for d in directives for s in d[1:] if s not in allowed]
    assert strays == []
