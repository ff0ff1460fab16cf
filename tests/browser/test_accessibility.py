"""axe-core, run in Chromium on the main pages: no `serious` or `critical` violation.

axe-core comes from the npm registry, fetched at test time with `npm pack` into .cache/axe/
(ignored by git), its tarball checked against the integrity pinned here (the `dist.integrity`
that `npm view axe-core@VERSION dist.integrity` shows). The page's Content-Security-Policy
allows scripts from 'self' only, so the axe run uses a context with `bypass_csp=True` (for
this check only; the scenario suite runs under the real policy)."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, WAIT_MS, browser_missing
from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True, scope="module")

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = (  # npm view axe-core@4.14.1 dist.integrity
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjC"
    "Kg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "axe"
PASSWORD = "correct horse battery staple"
BLOCKING = ("serious", "critical")


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    script = CACHE / f"axe-{AXE_VERSION}.min.js"
    tarball = CACHE / f"axe-core-{AXE_VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            browser_missing("npm not found: it fetches axe-core from the npm registry")
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(CACHE)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 or not tarball.exists():
            browser_missing(f"npm pack axe-core@{AXE_VERSION} failed: {done.stderr[-500:]}")
    data = tarball.read_bytes()
    if integrity_of(data) != AXE_INTEGRITY:
        tarball.unlink()
        pytest.fail(f"axe-core {AXE_VERSION} tarball does not match its pinned integrity")
    if not script.exists():
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            script.write_bytes(member.read())
    return script


@pytest.fixture(scope="module")
def pages(
    browser: Browser, live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A small network made through the pages: two users, a post with an image, a reply, a
    follow (so home, notifications, a thread and a profile have content)."""
    url = live_server.url
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    image = tmp_path_factory.mktemp("axe") / "picture.png"
    Image.new("RGB", (80, 60), (20, 120, 60)).save(image)
    for name in ("anna", "ben"):
        context.clear_cookies()
        page.goto(url + "/signup")
        page.fill("#username", name)
        page.fill("#email", f"{name}@example.org")
        page.fill("#password", PASSWORD)
        page.check("#agreement")
        page.get_by_role("button", name="Sign up").click()
        page.wait_for_url("**/home")
        page.fill("#status-text", f"Hello, I am {name}. #a11y")
        if name == "anna":
            page.locator("details.images summary").click()
            page.set_input_files("#media-1", str(image))
            page.fill("#alt-1", "A green rectangle")
        page.locator("form.compose button[type=submit]").last.click()
        expect(page.locator("article.status").first).to_be_visible()
    # ben (signed in now) follows anna and replies to her post.
    page.goto(url + "/@anna")
    page.locator("#relationship form button").first.click()
    page.goto(url + "/local")
    thread = page.locator("article.status", has_text="I am anna").locator("a.when").first
    thread_path = thread.get_attribute("href")
    state = context.storage_state()
    context.close()
    yield {"url": url, "state": state, "thread": thread_path}


def run_axe(page: Page, script: Path) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(script))
    result = page.evaluate(
        """async (version) => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            if (axe.version !== version || !r.passes.length) throw new Error("no axe run");
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary)
            }));
        }""",
        AXE_VERSION,
    )
    return list(result)


PAGES = [
    ("landing", "/", False),
    ("login", "/login", False),
    ("signup", "/signup", False),
    ("local (visitor)", "/local", False),
    ("home", "/home", True),
    ("local", "/local", True),
    ("thread", "{thread}", True),
    ("profile", "/@anna", True),
    ("settings", "/settings", True),
    ("notifications", "/notifications", True),
    ("search", "/search?q=anna", True),
    ("messages", "/messages", True),
    ("devices", "/settings/devices", True),
    ("account and its deletion", "/settings/account", True),
    ("privacy", "/privacy", False),
]


def test_no_serious_or_critical_violations(
    browser: Browser, pages: dict[str, Any], axe_script: Path
) -> None:
    blocking: list[str] = []
    checked = 0
    for viewport in (DESKTOP, PHONE):
        signed_in = browser.new_context(
            viewport=viewport, bypass_csp=True, storage_state=pages["state"]
        )
        visitor = browser.new_context(viewport=viewport, bypass_csp=True)
        try:
            for name, path, needs_session in PAGES:
                page = (signed_in if needs_session else visitor).new_page()
                target = path.format(thread=pages["thread"])
                response = page.goto(pages["url"] + target)
                assert response is not None and response.status == 200, (target, response)
                for v in run_axe(page, axe_script):
                    where = f"{name} {target} @{viewport['width']}px"
                    line = f"[{v['impact']}] {where}: {v['id']}: {v['help']}"
                    print(line)
                    for node in v["nodes"][:5]:
                        print("    " + node.replace("\n", " "))
                    if v["impact"] in BLOCKING:
                        blocking.append(line + "\n    " + "\n    ".join(v["nodes"][:3]))
                checked += 1
                page.close()
        finally:
            signed_in.close()
            visitor.close()
    print(f"axe-core {AXE_VERSION}: {checked} page views checked")
    assert not blocking, "\n".join(blocking)
