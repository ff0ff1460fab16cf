"""The blur tool of the compose box, in a real browser: a person marks an area of their image
(with the mouse, then with the keyboard alone), posts, and the image the server stores has that
area destroyed (no checkerboard left: the pixels there are all but flat) while the rest of the
picture is unchanged. Every request body the browser sent is recorded: the original file's
bytes are in none of them. Screenshots of the tool at phone and desktop widths."""

from __future__ import annotations

import io
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, PngImagePlugin
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import DESKTOP, PHONE, WAIT_MS
from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True, scope="module")

SIZE = (400, 300)
CHECKER = (170, 120, 230, 180)  # the secret: a high-contrast checkerboard, 6 px squares
INSIDE = (174, 124, 226, 176)  # where the checkerboard must be gone (a margin for JPEG)
UNMARKED = (270, 10, 390, 290)  # a distinct pattern that must come through unchanged
NEVER_SENT = b"PARVIS-ORIGINAL-NEVER-SENT"


def picture() -> Image.Image:
    im = Image.new("RGB", SIZE, (128, 128, 128))
    draw = ImageDraw.Draw(im)
    x0, y0, x1, y1 = CHECKER
    for y in range(y0, y1, 6):
        for x in range(x0, x1, 6):
            dark = ((x - x0) // 6 + (y - y0) // 6) % 2 == 0
            draw.rectangle((x, y, x + 5, y + 5), fill=(0, 0, 0) if dark else (255, 255, 255))
    # The distinct pattern: smooth colour bands and two discs (JPEG keeps them well).
    for x in range(250, SIZE[0]):
        draw.line((x, 0, x, SIZE[1]), fill=(40 + (x - 250) // 2, 90, 200 - (x - 250) // 2))
    draw.ellipse((280, 40, 360, 120), fill=(240, 200, 30))
    draw.ellipse((290, 170, 380, 260), fill=(20, 150, 60))
    return im


def original_file(tmp_path: Path, fmt: str) -> Path:
    """The picture as a file whose bytes carry a marker (a JPEG comment, a PNG text chunk)."""
    out = io.BytesIO()
    if fmt == "JPEG":
        picture().save(out, "JPEG", quality=95, comment=NEVER_SENT)
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", NEVER_SENT.decode())
        picture().save(out, "PNG", pnginfo=info)
    path = tmp_path / ("secret.jpg" if fmt == "JPEG" else "secret.png")
    path.write_bytes(out.getvalue())
    return path


@dataclass
class Session:
    url: str
    page: Page
    sent: list[tuple[str, str, bytes]] = field(default_factory=list)  # method, url, body

    def record(self, route: Route) -> None:
        request = route.request
        self.sent.append((request.method, request.url, request.post_data_buffer or b""))
        route.continue_()


@pytest.fixture(scope="module")
def session(browser: Browser, live_server: LiveServer) -> Iterator[Session]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    found = Session(live_server.url, page)
    # Every request goes through a route that records it and lets it go on unchanged: a routed
    # request carries its whole body (files included), which page.on("request") alone does not
    # show for multipart forms in Chromium.
    page.route("**/*", found.record)
    page.goto(live_server.url + "/signup")
    page.fill("#username", "blurry")
    page.fill("#email", "blurry@example.org")
    page.fill("#password", "correct horse battery staple")
    page.check("#agreement")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    yield found
    context.close()


def choose(page: Page, path: Path) -> None:
    page.locator("details.images summary").click()
    page.set_input_files("#media-1", str(path))
    page.locator("fieldset[data-slot='1']").get_by_role("button", name="Blur areas").click()
    expect(page.get_by_role("dialog", name="Blur parts of this image")).to_be_visible()


def canvas_point(page: Page, x: float, y: float) -> tuple[float, float]:
    box = page.locator("canvas.blur-canvas").bounding_box()
    assert box is not None
    return box["x"] + x * box["width"] / SIZE[0], box["y"] + y * box["height"] / SIZE[1]


def drag(page: Page, start: tuple[int, int], end: tuple[int, int]) -> None:
    page.mouse.move(*canvas_point(page, *start))
    page.mouse.down()
    page.mouse.move(*canvas_point(page, *end), steps=8)
    page.mouse.up()


def post_and_fetch(session: Session, text: str) -> bytes:
    """Posts the form, then fetches the stored original over HTTP (the public API)."""
    page = session.page
    page.fill("#alt-1", "A grey wall with a blurred area and coloured discs")
    page.fill("#status-text", text)
    page.locator("form.compose button[type=submit]").last.click()
    expect(page.locator("article.status", has_text=text).first).to_be_visible()
    api = page.request
    account = api.get(session.url + "/api/v1/accounts/lookup?acct=blurry").json()
    statuses = api.get(session.url + f"/api/v1/accounts/{account['id']}/statuses").json()
    [status] = [s for s in statuses if text in s["content"]]
    [media] = status["media_attachments"]
    stored = api.get(media["url"])
    assert stored.ok
    return stored.body()


def crop(im: Image.Image, box: tuple[int, int, int, int]) -> list[int]:
    return list(im.convert("L").crop(box).tobytes())


def assert_destroyed_and_rest_unchanged(stored: bytes, tolerance: float) -> None:
    with Image.open(io.BytesIO(stored)) as im:
        assert im.size == SIZE
        inside = crop(im, INSIDE)
        before = crop(picture(), INSIDE)
        assert statistics.pstdev(before) > 100  # the checkerboard, as uploaded
        assert statistics.pstdev(inside) < 12, statistics.pstdev(inside)
        kept, expected = crop(im, UNMARKED), crop(picture(), UNMARKED)
        diff = sum(abs(a - b) for a, b in zip(kept, expected, strict=True)) / len(kept)
        assert diff <= tolerance, diff


def assert_original_never_sent(session: Session, original: Path) -> None:
    data = original.read_bytes()
    uploads = [body for method, url, body in session.sent if url.endswith("/statuses")]
    assert uploads, "the post was not recorded"
    assert any(b"filename=" in body and len(body) > 1000 for body in uploads), (
        "the recorded post has no file: the check below would prove nothing"
    )
    for _method, url, body in session.sent:
        assert NEVER_SENT not in body, url
        assert data[len(data) // 2 : len(data) // 2 + 64] not in body, url


def test_an_area_marked_with_the_mouse_is_destroyed(session: Session, tmp_path: Path) -> None:
    page = session.page
    page.goto(session.url + "/compose")
    original = original_file(tmp_path, "JPEG")
    choose(page, original)
    drag(page, (162, 112), (238, 188))
    expect(page.get_by_role("status").filter(has_text="area")).to_have_text(
        "1 area will be blurred."
    )
    # A second area, removed again: undo works.
    drag(page, (20, 20), (80, 80))
    expect(page.locator(".blur-status")).to_have_text("2 areas will be blurred.")
    page.get_by_role("button", name="Remove area 2").click()
    expect(page.locator(".blur-status")).to_have_text("1 area will be blurred.")
    page.get_by_role("button", name="Blur and use this image").click()
    expect(page.locator(".blur-done")).to_be_visible()
    chosen = page.evaluate(
        "() => { const f = document.querySelector('#media-1').files[0];"
        " return [f.name, f.type, f.size]; }"
    )
    assert chosen[:2] == ["secret.jpg", "image/jpeg"]
    assert chosen[2] != original.stat().st_size

    stored = post_and_fetch(session, "Blurred with the mouse")

    assert_destroyed_and_rest_unchanged(stored, tolerance=6)
    assert_original_never_sent(session, original)


def test_an_area_added_with_the_keyboard_is_destroyed(session: Session, tmp_path: Path) -> None:
    page = session.page
    page.goto(session.url + "/compose")
    original = original_file(tmp_path, "PNG")
    choose(page, original)
    page.keyboard.press("Tab")  # from the canvas (focused on opening) to "Add an area"...
    add = page.get_by_role("button", name="Add an area")
    add.focus()
    page.keyboard.press("Enter")  # a box in the middle: 75 px square at (163, 113)
    expect(page.locator(".blur-status")).to_have_text("1 area will be blurred.")
    expect(page.locator("canvas.blur-canvas")).to_be_focused()
    page.keyboard.press("Shift+ArrowRight")  # 8 px wider
    page.keyboard.press("ArrowLeft")  # 8 px to the left: 155..238 x 113..188
    expect(page.locator(".blur-status")).to_have_text(
        "Area 1: 39% from the left, 38% from the top, 21% by 25% in size"
    )
    page.get_by_role("button", name="Blur and use this image").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".blur-done")).to_be_visible()

    stored = post_and_fetch(session, "Blurred with the keyboard")

    with Image.open(io.BytesIO(stored)) as im:
        assert im.format == "PNG"  # a PNG stays a PNG: the unmarked part is exact
    assert_destroyed_and_rest_unchanged(stored, tolerance=1)
    assert_original_never_sent(session, original)


def test_without_an_image_there_is_no_button(session: Session) -> None:
    page = session.page
    page.goto(session.url + "/compose")
    page.locator("details.images summary").click()
    expect(page.locator("fieldset[data-slot='1'] button.blur-open")).to_be_hidden()
    # The template is inert: no dialog is shown until the tool opens.
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_screenshots_of_the_tool(
    session: Session, browser: Browser, tmp_path: Path, screenshots: Path
) -> None:
    state = session.page.context.storage_state()
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, storage_state=state, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        try:
            page.goto(session.url + "/compose")
            choose(page, original_file(tmp_path, "JPEG"))
            drag(page, (162, 112), (238, 188))
            expect(page.locator(".blur-status")).to_have_text("1 area will be blurred.")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{overflow}px too wide at {viewport['width']}px"
            dialog = page.get_by_role("dialog", name="Blur parts of this image")
            box = dialog.bounding_box()
            assert box is not None and box["width"] <= viewport["width"]
            page.screenshot(path=str(screenshots / f"blur-{viewport['width']}.png"))
        finally:
            context.close()
