"""What a clean stored image is: checked with Pillow, by walking the file's own structure
(JPEG segments, PNG chunks, RIFF chunks) and by scanning its bytes for every marker of the
camera files in make.py."""

from __future__ import annotations

import io
import struct
from typing import Final

from PIL import ExifTags, Image
from tests.data.media import make

# Keys Pillow puts in `info` for a file with no metadata at all, per format: JFIF's header
# (version, units, pixel aspect: nothing identifying) and WebP's decoder defaults (Pillow
# sets them on every WebP, still or animated). Anything else is a leak.
ALLOWED_INFO: Final[dict[str, frozenset[str]]] = {
    "JPEG": frozenset({"jfif", "jfif_version", "jfif_unit", "jfif_density"}),
    "PNG": frozenset(),
    "WEBP": frozenset({"loop", "background", "timestamp", "duration"}),
}
# The structure a re-encoded file may have, nothing more.
JPEG_SEGMENTS: Final = {"APP0:JFIF", "DQT", "SOF0", "SOF2", "DHT", "DRI", "SOS"}
PNG_CHUNKS: Final = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
WEBP_CHUNKS: Final = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
_SOF: Final = {0xC0: "SOF0", 0xC2: "SOF2"}
_NAMES: Final = {0xDB: "DQT", 0xC4: "DHT", 0xDD: "DRI", 0xDA: "SOS"}


def jpeg_segments(data: bytes) -> list[str]:
    """The segments before the scan data, by name (APPn with their identifier)."""
    assert data[:2] == b"\xff\xd8"
    names, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF, f"not a marker at {at}"
        marker = data[at + 1]
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        payload = data[at + 4 : at + 2 + length]
        if 0xE0 <= marker <= 0xEF:
            ident = payload.split(b"\x00")[0].decode("latin-1")
            names.append(f"APP{marker - 0xE0}:{ident}")
        elif marker == 0xFE:
            names.append("COM")
        else:
            names.append(_SOF.get(marker) or _NAMES.get(marker) or f"0x{marker:02X}")
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        at += 2 + length
    return names


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        chunks.append(data[at + 4 : at + 8])
        at += 12 + length
    return chunks


def riff_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, at = [], 12
    while at < len(data):
        length = struct.unpack("<I", data[at + 4 : at + 8])[0]
        chunks.append(data[at : at + 4])
        at += 8 + length + (length & 1)
    return chunks


def leaked_markers(data: bytes, extra: tuple[bytes, ...] = ()) -> list[bytes]:
    return [m for m in (*make.markers(), *extra) if m in data]


def assert_clean(data: bytes, extra: tuple[bytes, ...] = ()) -> None:
    """Fails, saying what, unless `data` is an image with no metadata of any kind."""
    assert leaked_markers(data, extra) == []
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        fmt = str(im.format)
        assert fmt in ALLOWED_INFO, fmt
        assert set(im.info) <= ALLOWED_INFO[fmt], set(im.info) - ALLOWED_INFO[fmt]
        exif = im.getexif()
        assert dict(exif) == {}
        assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert getattr(im, "text", {}) == {}  # PNG tEXt/zTXt/iTXt
    if fmt == "JPEG":
        assert set(jpeg_segments(data)) <= JPEG_SEGMENTS, jpeg_segments(data)
        assert data.count(b"\xff\xd8\xff") == 1, "an embedded JPEG (a thumbnail?) is inside"
    elif fmt == "PNG":
        assert set(png_chunks(data)) <= PNG_CHUNKS, png_chunks(data)
    else:
        assert set(riff_chunks(data)) <= WEBP_CHUNKS, riff_chunks(data)
