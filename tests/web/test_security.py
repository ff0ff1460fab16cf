"""The web app's defences, tested from outside: CSRF on every state-changing route (enumerated
from the app, so a new route is covered the day it is added), the security headers on every
page, hostile input (script in a post, a display name, a profile field, an image's alt text)
rendered inert, the session cookie's flags, and the streams' cookie sign-in refused to pages of
other sites (cross-site WebSocket hijacking)."""

from __future__ import annotations

import io
import itertools
import re
import weakref
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient, WebSocketDenialResponse

from parvis.api import streaming
from parvis.app import Parvis
from parvis.storage.tables import metadata
from parvis.web import security
from tests.builders import User, make_user

PASSWORD = "correct horse battery staple"


# --- helpers ---------------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_up(client: TestClient, username: str) -> str:
    """Sign up through the real pages; returns the session cookie."""
    page = client.get("/signup")
    r = client.post(
        "/signup",
        data={
            "csrf": csrf_of(page.text),
            "username": username,
            "email": f"{username}@example.org",
            "password": PASSWORD,
            "agreement": "on",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    cookie = client.cookies.get("parvis_session")
    assert cookie
    return cookie


def session_user(client: TestClient, username: str) -> User:
    """A user signed in through the pages; its session token also works on the API."""
    token = sign_up(client, username)
    user = User(client, token, "", username)
    user.id = user.get("/api/v1/accounts/verify_credentials").json()["id"]
    return user


def row_counts(parvis: Parvis) -> dict[str, int]:
    with parvis.db.engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def web_routes(client: TestClient) -> list[Route]:
    app: Any = client.app
    return [
        r
        for r in app.routes
        if isinstance(r, Route) and getattr(r.endpoint, "__module__", "").startswith("parvis.web")
    ]


def fill(path: str, values: dict[str, str]) -> str:
    """A route's path with plausible values in its parameters."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def png(size: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


class Inert(HTMLParser):
    """Collects what would make a page run code: script elements (other than the app's own
    scripts under /assets/), event-handler attributes, javascript: URLs, frames."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/assets/"):
            self.problems.append(f"script element {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            cleaned = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and (
                cleaned.startswith(("javascript:", "vbscript:", "data:text"))
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in ("iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}>")


def problems(html: str) -> list[str]:
    parser = Inert()
    parser.feed(html)
    parser.close()
    return parser.problems


# --- CSRF --------------------------------------------------------------------------------------


def test_every_post_route_refuses_a_form_without_its_csrf_token(
    client: TestClient, parvis: Parvis
) -> None:
    alice = session_user(client, "alice")
    post = alice.status("a post to act on")
    values = {
        "id": post["id"],
        "status_id": post["id"],
        "account_id": alice.id,
        "username": "alice",
        "acct": "alice",
        "action": "favourite",
        "name": "cats",
        "tag": "cats",
    }
    routes = [r for r in web_routes(client) if "POST" in (r.methods or set())]
    assert len(routes) >= 5, [r.path for r in routes]
    checked = []
    for route in routes:
        path = fill(route.path, values)
        before = row_counts(parvis)
        # The OAuth page answers a form without its token with its sign-in form (here: the
        # error page of an unknown app); tests/web/test_oauth_consent.py checks it with an app.
        refused = (400, 401) if path == "/oauth/authorize" else (403,)
        for data in ({}, {"csrf": "0" * 64}, {"csrf": ""}):
            r = client.post(path, data={"status": "forged", **data}, follow_redirects=False)
            assert r.status_code in refused, f"POST {path} without a valid token: {r.status_code}"
        # Another browser: the right token of some other browser's cookie does not pass either.
        token = security.csrf_token(parvis.settings.signing_key(), "x" * 43)
        r = client.post(path, data={"csrf": token}, follow_redirects=False)
        assert r.status_code in refused, f"POST {path} with another browser's token"
        assert row_counts(parvis) == before, f"POST {path} without a token changed something"
        checked.append(path)
    assert "/statuses" in checked and "/logout" in checked, checked
    # Still signed in: the refused log-out did nothing.
    assert client.get("/home", follow_redirects=False).status_code == 200


def test_a_form_with_its_token_passes(client: TestClient) -> None:
    session_user(client, "bob")
    home = client.get("/home")
    r = client.post(
        "/statuses?next=/home",
        data={"csrf": csrf_of(home.text), "status": "hello with a token"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "hello with a token" in client.get("/home").text


# --- headers ----------------------------------------------------------------------------------


# The pages that run libsodium (end-to-end messages) compile WebAssembly: 'wasm-unsafe-eval'.
WASM_PAGES = ("/messages", "/settings/devices", "/settings/export")


def test_security_headers_on_every_page(client: TestClient) -> None:
    alice = session_user(client, "carol")
    post = alice.status("#cats are here")
    values = {
        "id": post["id"],
        "status_id": post["id"],
        "account_id": alice.id,
        "username": "carol",
        "acct": "carol",
        "name": "cats",
        "tag": "cats",
    }
    paths = {"/", "/login", "/signup", "/home", "/nowhere-at-all", f"/@carol/{post['id']}"}
    for route in web_routes(client):
        if "GET" in (route.methods or set()):
            paths.add(fill(route.path, values))
    seen = 0
    for signed_in in (True, False):
        if not signed_in:
            client.cookies.delete("parvis_session")
        for path in sorted(paths):
            r = client.get(path, follow_redirects=False)
            assert r.status_code < 500, f"GET {path}: {r.status_code}"
            if not r.headers.get("content-type", "").startswith("text/html"):
                continue
            seen += 1
            for name, value in security.HEADERS.items():
                if (
                    name == "Content-Security-Policy"
                    and r.status_code == 200
                    and path.startswith(WASM_PAGES)
                ):
                    value = security.CSP_WASM  # libsodium: WebAssembly, and still no eval
                assert r.headers.get(name) == value, f"GET {path}: {name}"
            csp = r.headers["content-security-policy"]
            assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
            assert "frame-ancestors 'none'" in csp
            assert problems(r.text) == [], f"GET {path}"
            assert not re.search(r"\sstyle=", r.text), f"GET {path}: a style attribute"
            assert not re.search(r"<script(?![^>]*\ssrc=)", r.text), f"GET {path}: inline script"
    assert seen >= 8


def test_manifest_and_service_worker(client: TestClient) -> None:
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/manifest+json")
    manifest = r.json()
    assert manifest["name"] and manifest["start_url"] == "/home"
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            w, h = Image.open(io.BytesIO(got.content)).size
            assert f"{w}x{h}" == icon["sizes"]
    sw = client.get("/sw.js")
    assert sw.status_code == 200
    assert sw.headers["content-type"].startswith("text/javascript")
    # The app shell only: every URL it precaches is a static asset, never a page or the API.
    cached = re.findall(r'"(/[^"]*)"', sw.text.split("const SHELL = ", 1)[1].split(";", 1)[0])
    assert cached and all(u.startswith("/assets/") for u in cached), cached
    for url in cached:
        assert client.get(url).status_code == 200, url
    assert 'startsWith("/assets/")' in sw.text


# --- hostile input ----------------------------------------------------------------------------

HOSTILE = (
    '<script>alert("x")</script><img src=x onerror=alert(1)><a href="javascript:alert(2)">j</a>'
)


def test_hostile_post_display_name_field_and_alt_text_are_inert(client: TestClient) -> None:
    mallory = make_user(client, "mallory")
    r = mallory.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "display_name": '<script>alert(1)</script>"><b',
            "note": HOSTILE,
            "fields_attributes[0][name]": '<script>alert("f")</script>',
            "fields_attributes[0][value]": "javascript:alert(3)",
            "fields_attributes[1][name]": "site",
            "fields_attributes[1][value]": HOSTILE,
        },
    )
    assert r.status_code == 200, r.text
    media = mallory.post(
        "/api/v2/media",
        files={"file": ("x.png", png(), "image/png")},
        data={"description": '"><script>alert("alt")</script><img src=x onerror=alert(4)>'},
    )
    assert media.status_code in (200, 202), media.text
    post = mallory.status(
        HOSTILE + " javascript:alert(5) [x](javascript:alert(6))",
        media_ids=[media.json()["id"]],
    )
    reader = session_user(client, "reader")
    assert reader.post(f"/api/v1/accounts/{mallory.id}/follow").status_code == 200
    pages = ["/home", "/local", f"/@mallory/{post['id']}", "/@mallory"]
    rendered = 0
    for path in pages:
        r = client.get(path)
        if r.status_code == 404 and path == "/@mallory":
            continue  # the profile page (another part of the web app) may not be there yet
        assert r.status_code == 200, path
        rendered += 1
        assert problems(r.text) == [], path
        assert "<script>alert" not in r.text, path
    assert rendered >= 3
    thread = client.get(f"/@mallory/{post['id']}").text
    # The alt text is kept, as text: escaped inside the attribute.
    assert 'alt="&#34;&gt;&lt;script&gt;alert(&#34;alt&#34;)' in thread or (
        'alt="&quot;&gt;&lt;script&gt;' in thread
    )


def test_the_profile_page_renders_hostile_fields_inert(client: TestClient) -> None:
    mallory = make_user(client, "mallory2")
    r = mallory.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "display_name": "<script>alert(1)</script>",
            "fields_attributes[0][name]": "<img src=x onerror=alert(1)>",
            "fields_attributes[0][value]": "javascript:alert(1)",
        },
    )
    assert r.status_code == 200, r.text
    page = client.get("/@mallory2")
    assert page.status_code == 200, "the profile page /@username is missing"
    assert problems(page.text) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


pieces = st.sampled_from(
    [
        "<script>",
        "</script>",
        "<script src=//evil.example/x.js>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "javascript:alert(1)",
        "<iframe src=//evil.example>",
        '" onfocus="alert(1)" autofocus x="',
        "' onclick='alert(1)",
        "<style>*{}</style>",
        "<b>",
        "&lt;",
        "&",
        "<",
        ">",
        '"',
        "'",
        "`",
        " ",
        "\n",
        "onload=",
        "é",
        "#tag",
        "@someone",
        "https://example.org/?a=<b>",
    ]
)
hostile_text = st.lists(pieces, min_size=1, max_size=12).map("".join)
_authors: weakref.WeakKeyDictionary[TestClient, User] = weakref.WeakKeyDictionary()
_seq = itertools.count(1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=hostile_text, body=hostile_text)
def test_random_hostile_names_and_posts_never_run(client: TestClient, name: str, body: str) -> None:
    author = _authors.get(client)
    if author is None:  # once per test (hypothesis reuses the fixture across examples)
        session_user(client, f"viewer{next(_seq)}")  # the pages are seen signed in
        author = _authors[client] = make_user(client)
    r = author.patch("/api/v1/accounts/update_credentials", data={"display_name": name[:30]})
    assert r.status_code in (200, 422), r.text
    r = author.post("/api/v1/statuses", json={"status": body or "x"})
    assert r.status_code in (200, 422), r.text
    for path in ("/local", f"/@{author.username}/{r.json()['id']}" if r.status_code == 200 else ""):
        if not path:
            continue
        page = client.get(path)
        assert page.status_code == 200, path
        assert problems(page.text) == [], (path, name, body)
        scripts = re.findall(r"<script", page.text, re.IGNORECASE)
        assert len(scripts) == page.text.count('<script src="/assets/'), path


# --- cookies ----------------------------------------------------------------------------------


def cookie_header(response: Any, name: str) -> str:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith(f"{name}="):
            return str(value).lower()
    raise AssertionError(f"no {name} cookie set")


def test_session_cookie_flags_on_https(client: TestClient) -> None:
    page = client.get("/signup")
    csrf_cookie = cookie_header(page, security.CSRF_COOKIE)
    for flag in ("httponly", "samesite=lax", "secure"):
        assert flag in csrf_cookie
    r = client.post(
        "/signup",
        data={
            "csrf": csrf_of(page.text),
            "username": "dora",
            "email": "dora@example.org",
            "password": PASSWORD,
            "agreement": "on",
        },
        follow_redirects=False,
    )
    session = cookie_header(r, "parvis_session")
    for flag in ("httponly", "samesite=lax", "secure", "path=/"):
        assert flag in session, session


@pytest.mark.parametrize("parvis", [{"scheme": "http", "domain": "localhost:8000"}], indirect=True)
def test_session_cookie_on_plain_http_is_not_secure(parvis: Parvis) -> None:
    from parvis.app import create_app

    with TestClient(
        create_app(parvis, embedded_worker=False), base_url="http://localhost:8000"
    ) as c:
        page = c.get("/signup")
        r = c.post(
            "/signup",
            data={
                "csrf": csrf_of(page.text),
                "username": "erin",
                "email": "erin@example.org",
                "password": PASSWORD,
                "agreement": "on",
            },
            follow_redirects=False,
        )
        session = cookie_header(r, "parvis_session")
        assert "httponly" in session and "samesite=lax" in session
        assert "secure" not in session


# --- streaming with the session cookie --------------------------------------------------------

OWN = "https://parvis.test"


def test_websocket_accepts_the_session_cookie_from_this_servers_pages(client: TestClient) -> None:
    alice = make_user(client, "wsalice")
    bob = session_user(client, "wsbob")
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    # (The test client's WebSockets go to ws://testserver: the cookie is given by hand.)
    headers = {"Origin": OWN, "Cookie": f"parvis_session={bob.token}"}
    with client.websocket_connect("/api/v1/streaming?stream=user", headers=headers) as ws:
        post = alice.status("live to bob")
        message = ws.receive_json()
        assert message["event"] == "update"
        assert post["id"] in message["payload"]


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "https://parvis.test.evil.example", None]
)
def test_websocket_refuses_the_cookie_from_another_origin(
    client: TestClient, origin: str | None
) -> None:
    victim = session_user(client, "victim")
    headers = {"Cookie": f"parvis_session={victim.token}"}
    if origin:
        headers["Origin"] = origin
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/api/v1/streaming?stream=user", headers=headers),
    ):
        pass
    assert denied.value.status_code == 401
    # Public streams stay open to anyone, signed out.
    with client.websocket_connect("/api/v1/streaming?stream=public", headers=headers):
        pass


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "https://evil.example"},
        {},
    ],
)
def test_event_stream_refuses_the_cookie_from_another_site(
    client: TestClient, headers: dict[str, str]
) -> None:
    session_user(client, "victim2")
    r = client.get("/api/v1/streaming/user", headers=headers)
    assert r.status_code == 401


def _request(headers: dict[str, str], cookie: str = "tok") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"cookie", f"parvis_session={cookie}".encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


def test_event_stream_takes_the_cookie_from_same_origin_requests(parvis: Parvis) -> None:
    s = parvis.settings
    assert streaming._sse_session(_request({"Sec-Fetch-Site": "same-origin"}), s) == "tok"
    assert streaming._sse_session(_request({"Origin": s.base_url}), s) == "tok"
    assert streaming._sse_session(_request({"Origin": s.base_url + "/"}), s) == "tok"
    assert (
        streaming._sse_session(_request({"Sec-Fetch-Site": "cross-site", "Origin": s.base_url}), s)
        is None
    )
    assert streaming._sse_session(_request({}), s) is None
