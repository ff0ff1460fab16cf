"""End-to-end encrypted messages in real browsers (docs/messaging.md): two Chromium profiles, two
people, write to each other one-to-one; with a third person, the reference Python client
(tests/clients/e2e_client.py, PyNaCl, over HTTP against the same live server), in a group: each
reads the others. Then the plaintext, distinctive and non-ASCII, is looked for byte for byte
where the server could have kept it: the SQLite file and its WAL, the server's log output, a
`parvis backup`, and every HTTP request and response body the server saw. It is nowhere, while
a public post's text, the control, is found in each.

Then one of them adds a second browser: the other's conversation warns that their devices
changed and shows a new safety number, the same in every browser and in the Python client;
"I have checked" takes the warning away. The second browser cannot read older messages until
the first gives it the history (Settings → Devices), after which it reads them. A message
altered on the server is shown as altered, never decrypted. The decrypted export and "Forget
this device" work from Settings."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select, update
from typer.testing import CliRunner

import parvis.cli.backup  # noqa: F401  (registers `parvis backup`)
from parvis.cli import app as cli
from parvis.storage.tables import e2e_messages
from tests.browser.conftest import DESKTOP, PHONE, WAIT_MS
from tests.browser.test_scenario import PASSWORD, post, sign_up
from tests.builders import make_user
from tests.clients.conftest import LiveServer
from tests.clients.e2e_client import E2E, E2EClient, safety_number, verify_record

pytestmark = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True, scope="module")

# Distinctive, non-ASCII; none of them may ever reach the server in clear.
SECRETS = {
    "one": "Rendez-vous sous l’horloge à 18 h — mot de passe «\u00a0Ciboulette-7F3A\u00a0» 🌿",
    "reply": "Ça marche : j’apporte le thé au jasmin, réponse n°2 ✊ Zürich-Ωμέγα",
    "group_a": "Groupe : réunion déplacée à la Médiathèque, salle Ørsted-4412 ☂",
    "group_b": "Bien reçu, je préviens Chloé — code Ψ-9931-kiwi 🍵",
    "group_c": "Message du client Python : Łódź-Příliš-žluťoučký-5519 🐍",
    "after": "Pour ton nouvel appareil : Grüße-Ñandú-6620 🎒",
}
TAMPERED = "Ce texte sera altéré sur le serveur : Quetzalcóatl-8812"
PUBLIC = "Un message public, lisible par tous : Parvis-Contrôle-4471"
WORDS = [*SECRETS.values(), TAMPERED, "Ciboulette-7F3A", "Ørsted-4412", "Quetzalcóatl-8812"]


class Tap:
    """ASGI wrapper: keeps every HTTP request and response body the server sees (gzip undone),
    between the client and the whole app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = bytearray()
        response = bytearray()
        gzipped = False

        async def tapped_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                request.extend(message.get("body", b""))
            return message

        async def tapped_send(message: Any) -> None:
            nonlocal gzipped
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                gzipped = headers.get(b"content-encoding") == b"gzip"
            elif message["type"] == "http.response.body":
                response.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, tapped_receive, tapped_send)
        finally:
            self.bodies.append(bytes(request))
            self.bodies.append(gzip.decompress(bytes(response)) if gzipped else bytes(response))

    def holds(self, needle: bytes) -> bool:
        return any(needle in body for body in self.bodies)


class LogTap(logging.Handler):
    """Every log record of the server process, formatted, at every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class World:
    browser: Browser
    url: str
    live: LiveServer
    tap: Tap
    logs: LogTap
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    http: list[httpx2.Client] = field(default_factory=list)

    def client(self) -> httpx2.Client:
        """An HTTP client for the Python side (closed with the module's server)."""
        made = httpx2.Client(base_url=self.url)
        self.http.append(made)
        return made

    def page(self, viewport: Any = DESKTOP) -> Page:
        context = self.browser.new_context(viewport=viewport, locale="en-GB")
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        page.on(
            "console",
            lambda m: self.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None,
        )
        return page


@pytest.fixture(scope="module")
def world(browser: Browser, live_server: LiveServer) -> Iterator[World]:
    tap = Tap(live_server.recorder.app)
    live_server.recorder.app = tap
    # What the server logs, at the levels a deployment logs at (INFO, access lines included);
    # SQLAlchemy's statement echo stays off, as in production.
    logs = LogTap()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "sqlalchemy", "uvicorn.access")}
    root.addHandler(logs)
    root.setLevel(logging.INFO)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    w = World(browser, live_server.url, live_server, tap, logs)
    try:
        yield w
    finally:
        for c in w.contexts:
            c.close()
        for h in w.http:
            h.close()
        root.removeHandler(logs)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        live_server.recorder.app = tap.app


def open_messages(page: Page, url: str) -> None:
    """/messages, once this browser's keys are made and published."""
    page.goto(url + "/messages")
    expect(page.get_by_role("button", name="Start")).to_be_visible()


def start_conversation(page: Page, url: str, people: str) -> str:
    open_messages(page, url)
    page.fill("#people", people)
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(r"/messages/\d+$"))
    loaded(page)
    found = re.search(r"/messages/(\d+)$", page.url)
    assert found
    return found.group(1)


def loaded(page: Page) -> None:
    expect(page.locator("[data-e2e-loaded=true]")).to_have_count(1)


def send(page: Page, text: str) -> None:
    page.fill("#e2e-text", text)
    page.get_by_role("button", name="Send").click()
    expect(message(page, text)).to_be_visible()
    expect(page.locator("#e2e-text")).to_have_value("")


def message(page: Page, text: str) -> Any:
    return page.locator("li.e2e-message[data-status=ok] .e2e-text", has_text=text)


def safety(page: Page, name: str) -> str:
    details = page.locator("details.safety", has_text=name)
    details.locator("summary").click()
    number = details.locator("[data-safety-number]")
    expect(number).to_have_attribute("data-digits", re.compile(r"^(\d{5} ){11}\d{5}$"))
    digits = number.get_attribute("data-digits")
    assert digits is not None
    shown = " ".join(number.locator("span").all_inner_texts())
    assert shown == digits  # what the person sees: 12 groups of 5
    return digits


def python_safety(client: E2EClient, a: str, b: str) -> str:
    """The safety number of accounts a and b, as the reference client computes it."""
    keys = {}
    for account in (a, b):
        uri = client.uri_of(account)
        devices = client.call("GET", f"{E2E}/accounts/{account}/devices")
        keys[account] = (uri, [client_b64(verify_record(uri, d)) for d in devices])
    return safety_number(*keys[a], *keys[b])


def client_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def wait_for(received: Any, text: str) -> None:
    """The Python client's inbox, polled until `text` arrives (it polls like the browsers)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen += [r.text for r in received()]
        if text in seen:
            return
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never arrived; got {seen}")


def shoot(page: Page, shots: Path, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays where it belongs
    page.screenshot(path=str(shots / f"e2e-{name}.png"), full_page=True)


def test_two_browsers_and_the_python_client_exchange_both_ways(
    world: World, screenshots: Path
) -> None:
    url = world.url
    alice, bob = world.page(), world.page(PHONE)
    sign_up(alice, url, "alice")
    sign_up(bob, url, "bob")
    carol_user = make_user(world.client(), "carol")
    carol = E2EClient(carol_user.client, carol_user.token, label="carol's Python client")
    carol.publish()
    open_messages(alice, url)
    open_messages(bob, url)
    shoot(bob, screenshots, "list-phone")

    # One-to-one, both ways (bob hears alice live: his page polls his device's queue).
    pair = start_conversation(alice, url, "@bob")
    bob.goto(f"{url}/messages/{pair}")
    loaded(bob)
    send(alice, SECRETS["one"])
    expect(message(bob, SECRETS["one"])).to_be_visible()
    expect(bob.locator("[data-e2e-announce]")).to_contain_text(SECRETS["one"])
    send(bob, SECRETS["reply"])
    expect(message(alice, SECRETS["reply"])).to_be_visible()
    bob.reload()  # the history, decrypted again from what the server keeps
    loaded(bob)
    expect(message(bob, SECRETS["one"])).to_be_visible()
    expect(message(bob, SECRETS["reply"])).to_be_visible()

    # A group of three: the third member is the Python client.
    group = start_conversation(alice, url, "@bob @carol")
    bob.goto(f"{url}/messages/{group}")
    loaded(bob)
    send(alice, SECRETS["group_a"])
    expect(message(bob, SECRETS["group_a"])).to_be_visible()
    wait_for(carol.inbox, SECRETS["group_a"])
    carol.send(group, SECRETS["group_c"])
    expect(message(alice, SECRETS["group_c"])).to_be_visible()
    expect(message(bob, SECRETS["group_c"])).to_be_visible()
    send(bob, SECRETS["group_b"])
    wait_for(carol.inbox, SECRETS["group_b"])
    expect(message(alice, SECRETS["group_b"])).to_be_visible()
    assert carol.warnings == []
    shoot(bob, screenshots, "group-phone")
    shoot(alice, screenshots, "group-desktop")

    # Safety numbers: the same in both browsers and in the Python client.
    alice.goto(f"{url}/messages/{pair}")
    loaded(alice)
    bob.goto(f"{url}/messages/{pair}")
    loaded(bob)
    ab = safety(alice, "bob")
    assert safety(bob, "alice") == ab
    alice_id, bob_id = _ids(carol, "alice", "bob")
    assert python_safety(carol, alice_id, bob_id) == ab
    alice.goto(f"{url}/messages/{group}")
    loaded(alice)
    assert safety(alice, "carol") == carol.safety_number(alice_id)
    world.ids.update(pair=pair, group=group, alice=alice_id, bob=bob_id, ab=ab)
    world.pages.update(alice=alice, bob=bob)
    # A public post, the control: the scans at the end do find text that was sent in clear.
    alice.goto(url + "/home")
    post(alice, PUBLIC)
    assert world.errors == [], world.errors


def _ids(client: E2EClient, *names: str) -> tuple[str, ...]:
    return tuple(
        client.call("GET", "/api/v1/accounts/lookup", params={"acct": n})["id"] for n in names
    )


def test_a_second_device_changes_the_safety_number_and_warns(
    world: World, screenshots: Path
) -> None:
    url, ids = world.url, world.ids
    alice, bob = world.pages["alice"], world.pages["bob"]
    alice.goto(f"{url}/messages/{ids['pair']}")
    loaded(alice)
    expect(alice.locator(".e2e-banner")).to_have_count(0)  # the same keys as before: no warning

    # bob signs in on another browser: a new device, with its own keys.
    bob2 = world.page()
    log_in(bob2, url, "bob")
    open_messages(bob2, url)

    alice.reload()
    loaded(alice)
    banner = alice.locator(".e2e-banner")
    expect(banner).to_have_count(1)
    expect(banner).to_contain_text("bob’s devices changed: compare the safety number again.")
    expect(banner).to_have_attribute("role", "alert")
    changed = safety(alice, "bob")
    assert changed != ids["ab"]
    dave = make_user(world.client(), "dave")
    checker = E2EClient(dave.client, dave.token)
    assert python_safety(checker, ids["alice"], ids["bob"]) == changed
    for page in (bob, bob2):
        page.goto(f"{url}/messages/{ids['pair']}")
        loaded(page)
        assert safety(page, "alice") == changed
    shoot(alice, screenshots, "key-change-desktop")
    alice.set_viewport_size(PHONE)
    shoot(alice, screenshots, "key-change-phone")
    alice.set_viewport_size(DESKTOP)

    banner.get_by_role("button", name="I have checked").click()
    expect(banner).to_have_count(0)
    expect(alice.locator("#e2e-text")).to_be_focused()
    alice.reload()
    loaded(alice)
    expect(alice.locator(".e2e-banner")).to_have_count(0)  # remembered

    # The new device reads what is sent from now on (not what came before it).
    send(alice, SECRETS["after"])
    expect(message(bob2, SECRETS["after"])).to_be_visible()
    expect(message(bob, SECRETS["after"])).to_be_visible()
    expect(bob2.locator("li.e2e-message[data-status=unreadable]").first).to_be_visible()

    # On bob's request, his first browser gives the new one the history it could not read.
    bob.goto(url + "/settings/devices")
    give = bob.get_by_role("button", name=re.compile("^Give my message history to this device"))
    expect(give).to_have_count(1)  # bob2's row only: not this browser's own
    bob.once("dialog", lambda d: d.accept())
    give.click()
    expect(bob.locator("[data-e2e-status]")).to_have_text(
        "6 messages given: the other device can read them now."
    )
    bob2.reload()
    loaded(bob2)
    expect(message(bob2, SECRETS["one"])).to_be_visible()  # alice's signature, checked again
    expect(message(bob2, SECRETS["reply"])).to_be_visible()
    expect(bob2.locator("li.e2e-message[data-status=unreadable]")).to_have_count(0)
    bob2.goto(f"{url}/messages/{ids['group']}")
    loaded(bob2)
    expect(message(bob2, SECRETS["group_c"])).to_be_visible()  # from the Python client
    world.pages["bob2"] = bob2
    assert world.errors == [], world.errors


def test_a_message_altered_on_the_server_is_shown_as_altered(world: World) -> None:
    url, ids = world.url, world.ids
    alice, bob = world.pages["alice"], world.pages["bob"]
    bob.goto(f"{url}/messages/{ids['pair']}")
    loaded(bob)
    alice.goto(f"{url}/messages/{ids['pair']}")
    loaded(alice)
    send(alice, TAMPERED)
    expect(message(bob, TAMPERED)).to_be_visible()
    last = alice.locator("li.e2e-message").last.get_attribute("data-message-id")
    assert last
    with world.live.parvis.db.engine.begin() as conn:  # a malicious server flips one byte
        blob = bytearray(
            conn.execute(
                select(e2e_messages.c.envelope).where(e2e_messages.c.id == int(last))
            ).scalar_one()
        )
        blob[-1] ^= 0x01
        conn.execute(
            update(e2e_messages).where(e2e_messages.c.id == int(last)).values(envelope=bytes(blob))
        )
    bob.reload()
    loaded(bob)
    altered = bob.locator(f"li#message-{last}")
    expect(altered).to_have_attribute("data-status", "tampered")
    expect(altered).to_contain_text("This message was altered: its signature does not verify")
    assert TAMPERED not in bob.content()
    expect(message(bob, SECRETS["one"])).to_be_visible()  # the others still read
    assert world.errors == [], world.errors


def test_export_and_forget_this_device(world: World) -> None:
    url, ids = world.url, world.ids
    alice = world.page()
    log_in(alice, url, "alice")
    open_messages(alice, url)
    alice.goto(url + "/settings/export")
    button = alice.get_by_role(
        "button", name="Download my messages as readable text (decrypted on this device)"
    )
    with alice.expect_download() as info:
        button.click()
    exported = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    texts = [m.get("text") for c in exported["conversations"] for m in c["messages"]]
    # This is a new browser for alice: it reads nothing sent before it existed.
    assert not any(t in texts for t in SECRETS.values())
    assert exported["account"]["acct"] == "alice"
    statuses = {m["status"] for c in exported["conversations"] for m in c["messages"]}
    assert statuses == {"unreadable", "tampered"}

    # Her first browser still has its keys (signing out keeps them): its export reads all.
    first = world.pages["alice"]
    first.goto(url + "/home")
    first.get_by_role("button", name="Log out").click()
    expect(
        first.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")
    ).to_be_visible()
    log_in(first, url, "alice")
    first.goto(url + "/settings/export")
    with first.expect_download() as info:
        first.get_by_role("button", name=re.compile("^Download my messages")).click()
    exported = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    by_id = {c["id"]: c for c in exported["conversations"]}
    pair_texts = [m.get("text") for m in by_id[ids["pair"]]["messages"]]
    assert SECRETS["one"] in pair_texts and SECRETS["reply"] in pair_texts
    assert "tampered" in {m["status"] for m in by_id[ids["pair"]]["messages"]}
    assert SECRETS["group_c"] in [m.get("text") for m in by_id[ids["group"]]["messages"]]

    # Forget this (new) device: revoked on the server, keys gone from the browser.
    alice.goto(url + "/settings/devices")
    expect(alice.locator("[data-this-device]:visible")).to_have_count(1)
    row = alice.locator("li[data-device-id]", has=alice.locator("[data-this-device]:visible"))
    device_id = row.get_attribute("data-device-id")
    alice.once("dialog", lambda d: d.accept())
    alice.get_by_role("button", name="Forget this device").click()
    expect(alice.locator(f'li[data-device-id="{device_id}"].revoked')).to_have_count(1)
    expect(alice.locator("[data-this-device]:visible")).to_have_count(0)
    kept = alice.evaluate(
        """() => new Promise((resolve) => {
             const r = indexedDB.open("parvis-e2e");
             r.onsuccess = () => {
               const q = r.result.transaction("kv").objectStore("kv").getAllKeys();
               q.onsuccess = () => resolve(q.result.map(String));
             };
           })"""
    )
    assert not [k for k in kept if k.split(":")[1] == ids["alice"]], kept
    assert world.errors == [], world.errors


def test_the_server_never_saw_the_plaintext(world: World, tmp_path: Path) -> None:
    """Every secret above, looked for where the server could have kept or shown it."""
    assert world.ids, "runs after the exchanges above"
    data_dir = Path(world.live.parvis.settings.data_dir)
    db = data_dir / "parvis.sqlite3"
    wal = data_dir / "parvis.sqlite3-wal"
    on_disk = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    backup_dir = tmp_path / "backup"
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "backup", str(backup_dir)])
    assert result.exit_code == 0, result.output
    backed_up = b"".join(p.read_bytes() for p in sorted(backup_dir.rglob("*")) if p.is_file())
    logged = "\n".join(world.logs.lines).encode()
    places = {"database and WAL": on_disk, "backup": backed_up}
    for where, blob in places.items():
        assert PUBLIC.encode() in blob, f"the control is missing from the {where}"
    assert world.tap.holds(PUBLIC.encode()), "the control is missing from the HTTP bodies"
    for word in WORDS:
        raw = word.encode()
        for where, blob in {**places, "log output": logged}.items():
            assert raw not in blob, f"{word!r} found in the {where}"
        assert not world.tap.holds(raw), f"{word!r} crossed HTTP in clear"
        # Nor as JSON escapes a careless client would send (\u00e9…).
        assert not world.tap.holds(json.dumps(word).encode()), word
    assert world.tap.holds(b'"ciphertext"')  # the tap did see the envelopes
    assert world.errors == [], world.errors


def log_in(page: Page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.fill("#login", f"{name}@example.org")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/home$"))
