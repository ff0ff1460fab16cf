"""The browser suite: Debian's Chromium driven by Playwright (`executable_path`: nothing
downloads a browser) against a real Parvis served by uvicorn on loopback (the client suites'
`live_server`, SQLite only here).

Without /usr/bin/chromium the suite skips, saying why; with PARVIS_REQUIRE_SERVICES=1 (CI) it
fails instead. Screenshots land in tests/browser/screenshots/ (ignored by git)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import Browser, ViewportSize, expect, sync_playwright

from tests.clients.conftest import _server_errors, live_server  # noqa: F401
from tests.conftest import REQUIRE_SERVICES

CHROMIUM = os.environ.get("PARVIS_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).with_name("screenshots")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous waits: the CI machine has two cores shared with the rest of the suite's servers.
# A wait only ends early when what it waits for happens; nothing here measures speed.
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)


def browser_missing(message: str) -> NoReturn:
    if REQUIRE_SERVICES:
        pytest.fail(message + " (PARVIS_REQUIRE_SERVICES=1: the browser suite is required here)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an asyncio
    loop running in the main thread while it is open, and later tests call asyncio.run()."""
    if not Path(CHROMIUM).exists():
        browser_missing(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
