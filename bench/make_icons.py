"""Draw the web app's PNG icons (192 and 512 px, for the PWA manifest) from the shapes of
`src/parvis/web/static/icon.svg`, with Pillow. Run once after changing the icon; the PNGs are
committed (Pillow cannot read SVG, and nothing is drawn at run time).

    .venv/bin/python bench/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

STATIC = Path(__file__).resolve().parent.parent / "src" / "parvis" / "web" / "static"
BLUE, WHITE = (31, 95, 191, 255), (255, 255, 255, 255)


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    scale = 4  # drawn large, then downsampled: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), BLUE if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    unit = big / 64  # the SVG's viewBox is 64 x 64
    if maskable:  # the safe zone is the inner 80%: shrink the letter into it
        unit *= 0.8
        offset = big * 0.1
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=14 * unit, fill=BLUE)
        offset = 0.0

    def at(x: float, y: float) -> tuple[float, float]:
        return offset + x * unit, offset + y * unit

    # The "P": a stem (14..22 x 16..48) and a bowl (a 10-radius half disc right of x=32).
    pen.rectangle((*at(14, 16), *at(22, 48)), fill=WHITE)
    pen.rectangle((*at(14, 16), *at(32, 36)), fill=WHITE)
    pen.pieslice((*at(22, 16), *at(42, 36)), -90, 90, fill=WHITE)
    pen.rounded_rectangle((*at(22, 22), *at(32, 30)), radius=3 * unit, fill=BLUE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    for size in (192, 512):
        draw(size).save(STATIC / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(STATIC / "icon-maskable-512.png", optimize=True)
    print("icons written to", STATIC)


if __name__ == "__main__":
    main()
