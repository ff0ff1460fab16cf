"""No third-party requests from the web app: a real Chromium visits every page a visitor, a
user and a moderator can reach, signed out and signed in, recording every request the pages
make (documents, styles, scripts, images, fonts, fetches, WebSockets) and every resource the
Content-Security-Policy had to refuse; every one must go to the server's own origin.

Among them, pages that show a remote account's post whose avatar and image are on the remote
server and not cached here: the web app must show a placeholder (or, once cached, its own
copy), never hot-link the remote file, which would tell that server who reads what.

The cheap static half (templates, scripts and styles name no other host) is in
tests/web/test_no_third_party_static.py."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    WebSocket,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from parvis.domain.activitypub import parse
from parvis.domain.ids import parse_id
from parvis.services import accounts, domain_policy, inbound_notes, remote_actors
from tests.browser.conftest import DESKTOP, WAIT_MS
from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True, scope="module")

PASSWORD = "correct horse battery staple"
REMOTE = "far.example"
FILES = "files.far.example"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass
class Recorder:
    """Every request a page made, and every resource the CSP refused, for one browser."""

    origin: str
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def request(self, request: Request) -> None:
        self.requests.append(request.url)

    def websocket(self, socket: WebSocket) -> None:
        self.requests.append(socket.url)

    def console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def foreign(self) -> list[str]:
        """The requests that went anywhere but the server itself (data: and blob: URLs are
        made in the page; ws:// to the same host and port is the server's own)."""
        own = urlsplit(self.origin)
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.scheme in ("ws", "wss") and parts.netloc == own.netloc:
                continue
            if (parts.scheme, parts.netloc) != (own.scheme, own.netloc):
                out.append(url)
        return out


@dataclass
class Site:
    url: str
    server: LiveServer
    visitor: Page
    user: Page
    moderator: Page
    recorders: dict[str, Recorder]
    contexts: list[BrowserContext]
    paths: dict[str, str] = field(default_factory=dict)  # named pages found on the way


def _watch(context: BrowserContext, origin: str) -> tuple[Page, Recorder]:
    recorder = Recorder(origin)
    context.on("request", recorder.request)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("websocket", recorder.websocket)
    page.on("console", recorder.console)
    return page, recorder


@pytest.fixture(scope="module")
def site(browser: Browser, live_server: LiveServer) -> Iterator[Site]:
    contexts = [browser.new_context(viewport=DESKTOP, locale="en-GB") for _ in range(3)]
    (visitor, seen_v), (user, seen_u), (moderator, seen_m) = (
        _watch(c, live_server.url) for c in contexts
    )
    yield Site(
        live_server.url,
        live_server,
        visitor,
        user,
        moderator,
        {"visitor": seen_v, "user": seen_u, "moderator": seen_m},
        contexts,
    )
    for c in contexts:
        c.close()


def sign_up(page: Page, url: str, username: str) -> int:
    page.goto(url + "/signup")
    page.fill("#username", username)
    page.fill("#email", f"{username}@example.org")
    page.fill("#password", PASSWORD)
    page.check("#agreement")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/home$"))
    found = page.request.get(f"{url}/api/v1/accounts/lookup?acct={username}").json()
    account_id = parse_id(found["id"])
    assert account_id is not None
    return account_id


def remote_post(server: LiveServer) -> str:
    """A remote account (avatar and header on its server) and its public post with an image
    attachment, stored as the inbox stores them; nothing is cached (the test server reaches
    no network). Returns the account's acct."""
    uri = f"https://{REMOTE}/users/faraway"
    actor = parse.actor(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": uri,
            "type": "Person",
            "preferredUsername": "faraway",
            "name": "Far Away",
            "summary": '<p>remote <img src="https://tracker.example/pixel.gif"></p>',
            "url": f"https://{REMOTE}/@faraway",
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "icon": {"type": "Image", "url": f"https://{FILES}/avatar.png"},
            "image": {"type": "Image", "url": f"https://{FILES}/header.png"},
        }
    )
    note = parse.note(
        {
            "id": f"{uri}/statuses/1",
            "type": "Note",
            "attributedTo": uri,
            "content": '<p>Hello from far away <img src="https://tracker.example/in-post.gif"></p>',
            "published": "2026-11-30T10:00:00Z",
            "to": [PUBLIC],
            "cc": [f"{uri}/followers"],
            "url": f"https://{REMOTE}/@faraway/1",
            "attachment": [
                {
                    "type": "Document",
                    "mediaType": "image/png",
                    "url": f"https://{FILES}/cat.png",
                    "name": "A cat",
                },
                {
                    "type": "Document",
                    "mediaType": "video/mp4",
                    "url": f"https://{FILES}/clip.mp4",
                },
            ],
        }
    )

    def store(work: object) -> None:
        from parvis.services.context import Work

        assert isinstance(work, Work)
        author = remote_actors.store_actor(work, actor)
        policy = domain_policy.policy_for(work, REMOTE)
        inbound_notes.create_note(work, note, author, policy)

    server.parvis.runtime.write(store)
    return f"faraway@{REMOTE}"


# What a page could load by itself: the resource attributes of its elements (a link to
# follow is no request; a lazy image below the fold may not be requested yet, so the DOM is
# checked too).
SELECTORS = ", ".join(
    (
        "img",
        "script[src]",
        'link[href]:not([rel~="alternate"]):not([rel~="me"])',
        "source",
        "video",
        "audio",
        "iframe",
        "object",
        "embed",
        "input[type=image]",
    )
)
LOADED = (
    "(selectors) => Array.from(document.querySelectorAll(selectors))"
    ".flatMap(e => [e.src, e.href, e.data, e.poster, e.srcset, e.currentSrc])"
    ".filter(v => typeof v === 'string' && v)"
)


def visit(page: Page, recorder: Recorder, url: str) -> None:
    answer = page.goto(url, wait_until="load")
    # 403: a page refused by rule, rendered all the same (new accounts may not write notes).
    assert answer is not None and answer.status in (200, 403), (url, answer and answer.status)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    # Pages with a live stream (home, notifications) never fall idle: for them, load it is.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=3000)
    for value in page.evaluate(LOADED, SELECTORS):
        for part in str(value).split(","):
            recorder.requests.append(urljoin(url, part.strip().split(" ")[0]))


def test_1_people_and_content(site: Site) -> None:
    user_id = sign_up(site.user, site.url, "nina")
    mod_id = sign_up(site.moderator, site.url, "mona")
    runtime = site.server.parvis.runtime
    runtime.write(lambda w: accounts.set_role(w, mod_id, "moderator"))
    site.user.goto(site.url + "/home")
    site.user.fill("#status-text", "A local post with #privacy")
    site.user.locator("form.compose button[type=submit]").last.click()
    card = site.user.locator("article.status", has_text="A local post").first
    card.wait_for()
    link = card.locator("a[href*='/@nina/']").first.get_attribute("href")
    assert link
    site.paths["thread"] = link
    site.paths["remote"] = remote_post(site.server)
    site.paths["case"] = f"/moderation/cases/new?account={user_id}"
    # The remote post, as stored: its files are still on the remote server.
    stored = runtime.read(
        lambda w: w.store.remote.status_id(f"https://{REMOTE}/users/faraway/statuses/1")
    )
    assert stored is not None
    site.paths["remote_thread"] = f"/@{site.paths['remote']}/{stored}"


SIGNED_OUT = (
    "/",
    "/login",
    "/signup",
    "/about",
    "/privacy",
    "/transparency",
    "/local",
    "/federated",
    "/@nina",
    "/@nina/followers",
    "/@nina/media",
    "{thread}",
    "/@{remote}",
    "{remote_thread}",
    "/tags/privacy",
    "/search?q=far",
    "/feeds/for_you/about",
    "/notes",
)
SIGNED_IN = (
    "/home",
    "/local",
    "/federated",
    "/compose",
    "/notifications",
    "/search?q=faraway",
    "/bookmarks",
    "/favourites",
    "/lists",
    "/filters",
    "/follow_requests",
    "/feeds/for_you",
    "/feeds/bridging",
    "/notes",
    "/@nina",
    "{thread}",
    "/@{remote}",
    "/@{remote}/media",
    "{remote_thread}",
    "/settings",
    "/settings/profile",
    "/settings/preferences",
    "/settings/account",
    "/settings/privacy",
    "/settings/sessions",
    "/settings/feeds",
    "/settings/labels",
    "/settings/export",
    "/settings/import",
    "/settings/moving",
    "/settings/reports",
    "/settings/moderation",
    "/transparency",
    "/about",
    "/privacy",
)
MODERATOR = (
    "/moderation",
    "/moderation/appeals",
    "/moderation/signals",
    "{case}",
    "{remote_thread}",
    "/@{remote}",
)


def paths(site: Site, templates: tuple[str, ...]) -> list[str]:
    return [t.format(**site.paths) for t in templates]


def test_2_signed_out(site: Site) -> None:
    for path in paths(site, SIGNED_OUT):
        visit(site.visitor, site.recorders["visitor"], site.url + path)
    seen = site.recorders["visitor"]
    assert len(seen.requests) > len(SIGNED_OUT)  # the recorder did record
    assert seen.foreign() == []
    assert seen.refused == []


def test_3_signed_in(site: Site) -> None:
    for path in paths(site, SIGNED_IN):
        visit(site.user, site.recorders["user"], site.url + path)
    seen = site.recorders["user"]
    assert seen.foreign() == []
    assert seen.refused == []


def test_4_moderator(site: Site) -> None:
    for path in paths(site, MODERATOR):
        visit(site.moderator, site.recorders["moderator"], site.url + path)
    seen = site.recorders["moderator"]
    assert seen.foreign() == []
    assert seen.refused == []


def test_5_the_remote_post_shows_placeholders_not_remote_files(site: Site) -> None:
    page = site.visitor
    visit(page, site.recorders["visitor"], site.url + site.paths["remote_thread"])
    html = page.content()
    assert "Hello from far away" in html
    for host in (FILES, "tracker.example"):
        assert f'src="https://{host}' not in html, host
    card = page.locator("article.status", has_text="Hello from far away").first
    assert card.locator(".processing").count() >= 1  # the image waits for its cached copy
    avatars = card.locator("img").evaluate_all("els => els.map(e => e.src)")
    assert avatars and all(src.startswith(site.url) for src in avatars), avatars
    # Every request of the whole suite, visitors', users' and moderators', stayed home.
    everything = [u for r in site.recorders.values() for u in r.requests]
    assert not [u for u in everything if FILES in u or "tracker.example" in u]
