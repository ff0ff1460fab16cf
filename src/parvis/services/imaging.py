"""Image uploads: sniff, bound, decode, strip every byte of metadata, re-encode.

Privacy promise: nothing from the uploaded file except its pixels survives. Each
image is rebuilt from raw pixel bytes into a brand-new ``Image`` (empty ``info``:
no EXIF, GPS, XMP, maker notes, comments, text chunks or ICC profile) and saved
without ``exif=``/``icc_profile=``/``xmp=``. Pure functions on bytes.

HEIC/HEIF (what iPhones upload by default) is decoded with pillow-heif and comes
out as a JPEG (a PNG when it has transparency): few browsers can show HEIC.
Videos are refused with their own message: Parvis accepts images only.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from typing import Final

import blurhash
import filetype
import pillow_heif
from PIL import Image, ImageOps

from parvis.domain.errors import InvalidMedia

MAX_PIXELS: int = 40_000_000
MAX_SIDE: int = 12_000
MAX_OUTPUT_SIDE: Final = 3840
THUMB_SIDE: Final = 640
BLURHASH_SIDE: Final = 64
BLURHASH_COMPONENTS: Final = (4, 3)
JPEG_QUALITY: Final = 85
WEBP_QUALITY: Final = 85

# Sniffed MIME -> Pillow format. APNG is a PNG (we keep its first frame).
_PIL_FORMATS: Final[dict[str, str]] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/apng": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
ACCEPTED: Final = tuple(_PIL_FORMATS)
UNSUPPORTED: Final = "file is not a supported image (JPEG, PNG, WebP, GIF or HEIC)"
NO_VIDEO: Final = "videos are not accepted: only images (JPEG, PNG, WebP, GIF or HEIC)"

# Decode HEIF with pillow-heif; its embedded thumbnails are never loaded (only the
# primary image's pixels are used). Registration is idempotent.
pillow_heif.register_heif_opener(thumbnails=False)
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    mime: str
    extension: str
    width: int
    height: int
    thumbnail: bytes
    thumb_mime: str
    thumb_width: int
    thumb_height: int
    blurhash: str

    @property
    def aspect(self) -> float:
        return self.width / self.height


def sniff_mime(data: bytes) -> str | None:
    """MIME type from the content's magic bytes (never a filename or a declared type)."""
    head = bytes(data[:8192])  # always bytes: filetype treats a str as a path
    if not head:
        return None
    kind = filetype.guess(head)
    return None if kind is None else str(kind.mime)


def parse_focus(value: str | None) -> tuple[float, float]:
    """Mastodon's focal point ``"x,y"``, each in [-1, 1]; None or "" is the centre."""
    if value is None or not value.strip():
        return (0.0, 0.0)
    parts = value.split(",")
    if len(parts) != 2:
        raise InvalidMedia("focus must be two numbers between -1 and 1, as 'x,y'")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidMedia("focus must be two numbers between -1 and 1, as 'x,y'") from None
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (x, y)):
        raise InvalidMedia("focus coordinates must each be between -1 and 1")
    return (x + 0.0, y + 0.0)  # + 0.0 turns -0.0 into 0.0


def check_accepted(mime: str | None) -> None:
    """Raise ``InvalidMedia`` unless a sniffed MIME type is an image we re-encode."""
    if mime in _PIL_FORMATS:
        return
    if mime is not None and mime.startswith("video/"):
        raise InvalidMedia(NO_VIDEO)
    raise InvalidMedia(UNSUPPORTED)


def process_image(data: bytes, *, max_bytes: int = 16 * 1024 * 1024) -> ProcessedImage:
    """Validate an upload and return a metadata-free re-encoding plus thumbnail and blurhash.

    Raises ``InvalidMedia`` (and nothing else) for anything that is not an acceptable image.
    GIFs (animated or not) come back as a still PNG of their first frame.
    """
    if not data:
        raise InvalidMedia("file is empty")
    if len(data) > max_bytes:
        raise InvalidMedia(f"file is too large: {len(data)} bytes, the limit is {max_bytes}")
    sniffed = sniff_mime(data)
    check_accepted(sniffed)
    pil_format = _PIL_FORMATS[sniffed or ""]

    with warnings.catch_warnings():
        # Corrupt EXIF only warns (and the metadata is discarded anyway): the outcome
        # must not depend on the process's warning filters. Bomb warnings are errors.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        pixels = _decode(data, pil_format)

    if max(pixels.size) > MAX_OUTPUT_SIDE:
        pixels.thumbnail((MAX_OUTPUT_SIDE, MAX_OUTPUT_SIDE), Image.Resampling.LANCZOS)
    alpha = pixels.mode == "RGBA"  # _normalise_mode leaves only L, RGB or RGBA
    if pil_format == "JPEG" or (pil_format == "HEIF" and not alpha):
        mime, ext, body = "image/jpeg", "jpg", _save(pixels, "JPEG")
    elif pil_format == "WEBP":
        mime, ext, body = "image/webp", "webp", _save(pixels, "WEBP")
    else:  # PNG, GIF's first frame, HEIF with transparency
        mime, ext, body = "image/png", "png", _save(pixels, "PNG")

    thumb = pixels.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumb_format = "WEBP" if alpha else "JPEG"
    return ProcessedImage(
        data=body,
        mime=mime,
        extension=ext,
        width=pixels.width,
        height=pixels.height,
        thumbnail=_save(thumb, thumb_format),
        thumb_mime="image/webp" if alpha else "image/jpeg",
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        blurhash=_blurhash(pixels),
    )


def _decode(data: bytes, pil_format: str) -> Image.Image:
    """Open, bound, load, orient and copy the pixels into a fresh, info-less image."""
    try:
        im = Image.open(io.BytesIO(data), formats=[pil_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = _BOMB_PIXELS.search(str(exc))
        count = found.group(1) if found else f"more than {Image.MAX_IMAGE_PIXELS}"
        msg = f"image is too large: {count} pixels, the limit is {MAX_PIXELS}"
        raise InvalidMedia(msg) from None
    except Exception as exc:  # Pillow raises many types on hostile headers
        raise InvalidMedia(f"image could not be decoded: {exc}") from None
    with im:
        width, height = im.size  # header only: nothing decoded yet
        if width < 1 or height < 1:
            raise InvalidMedia("image could not be decoded: it has no pixels")
        if width > MAX_SIDE or height > MAX_SIDE:
            raise InvalidMedia(
                f"image is too large: {width}x{height} pixels, "
                f"the limit is {MAX_SIDE} pixels per side"
            )
        if width * height > MAX_PIXELS:
            raise InvalidMedia(
                f"image is too large: {width * height} pixels, the limit is {MAX_PIXELS}"
            )
        try:
            if pil_format == "JPEG":  # let libjpeg decode at 1/2, 1/4 or 1/8 scale
                scale = min(1.0, MAX_OUTPUT_SIDE / max(width, height))
                im.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
            im.load()
            oriented = ImageOps.exif_transpose(im)
            pixels = _normalise_mode(oriented)
            # Rebuild from raw bytes: the new image has an empty ``info`` dict.
            return Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
        except Exception as exc:  # truncated/corrupt data: OSError, SyntaxError, ...
            raise InvalidMedia(f"image could not be decoded: {exc}") from None


def _normalise_mode(im: Image.Image) -> Image.Image:
    """Reduce every mode to L, RGB or RGBA (alpha kept when the source has any)."""
    if im.mode.startswith("I"):  # 16/32-bit greyscale PNG: scale down to 8 bits
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.has_transparency_data:
        return im.convert("RGBA")
    if im.mode in ("L", "RGB"):
        return im
    return im.convert("RGB")  # CMYK, YCbCr, 1, P, LA without alpha...


def _save(im: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        im = im if im.mode in ("L", "RGB") else _flatten(im)
        im.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif fmt == "WEBP":
        im.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        im.save(out, "PNG")
    return out.getvalue()


def _flatten(im: Image.Image) -> Image.Image:
    """Composite over white and drop alpha."""
    rgba = im.convert("RGBA")
    base = Image.new("RGB", rgba.size, (255, 255, 255))
    base.paste(rgba, mask=rgba.getchannel("A"))
    return base


def _blurhash(im: Image.Image) -> str:
    small = im.copy()
    small.thumbnail((BLURHASH_SIDE, BLURHASH_SIDE), Image.Resampling.BILINEAR)
    small = _flatten(small) if small.mode == "RGBA" else small.convert("RGB")
    with warnings.catch_warnings():
        # blurhash-python 1.2.2 calls Image.getdata(), deprecated in Pillow 13.
        warnings.filterwarnings("ignore", "Image.Image.getdata", DeprecationWarning)
        return str(blurhash.encode(small, *BLURHASH_COMPONENTS))
