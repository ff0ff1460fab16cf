"""Faithful camera files, built in memory: what a phone or a camera really writes, metadata and
all, each piece carrying a marker that must never be found in what Parvis stores.

No camera file with GPS and a redistributable licence was found on the build machine, so the
files are made here instead: pixels are encoded by Pillow, and the metadata is written the way
cameras write it. The EXIF block is a hand-built big-endian TIFF structure (as iPhones and
Canon bodies write it) with IFD0, the Exif sub-IFD (serials, dates, a MakerNote), the GPS IFD
(latitude, longitude, altitude and time as rationals) and IFD1 (an embedded JPEG thumbnail);
Pillow cannot write IFD1, so the segments are spliced into the JPEG byte stream by hand. XMP,
IPTC (Photoshop APP13), an ICC profile (APP2) and a COM comment go in the same way.

`python -m tests.data.media.make DIR` writes the files into DIR, to look at them with exiftool.
"""

from __future__ import annotations

import io
import random
import struct
import sys
from pathlib import Path
from typing import Final

import pillow_heif
from PIL import Image, ImageCms, ImageDraw, PngImagePlugin

# --- the markers -----------------------------------------------------------------------------
# Each is unique and long enough that it cannot appear by chance in compressed pixels.
MAKE: Final = "PARVIS-MAKE Phonecorp"
MODEL: Final = "PARVIS-MODEL Pocket 15 Pro"
SOFTWARE: Final = "PARVIS-SOFTWARE CamOS 17.4.1"
BODY_SERIAL: Final = "PARVIS-BODYSERIAL-7F3A91C2"
LENS_SERIAL: Final = "PARVIS-LENSSERIAL-0042B9"
DATE_ORIGINAL: Final = "2024:05:01 14:32:07"
MAKERNOTE_SERIAL: Final = "PARVIS-MAKERNOTE-SN-88D1E0"
CITY: Final = "PARVIS-CITY Montreuil"
AUTHOR: Final = "PARVIS-AUTHOR Camille Martin"
COMMENT: Final = "PARVIS-COMMENT taken at 12 rue des Lilas"
XMP_GPS: Final = "48,51.4922N"
PNG_TIME_TEXT: Final = "PARVIS-PNGTEXT home wifi: Freebox-8C2A"

# GPS rationals, all irreducible so that every writer stores them exactly as given.
LATITUDE: Final = ((48, 1), (51, 1), (2953, 100))
LONGITUDE: Final = ((2, 1), (17, 1), (4021, 100))
ALTITUDE: Final = ((35127, 1000),)
GPS_TIME: Final = ((14, 1), (32, 1), (7, 1))

TEXT_MARKERS: Final = (
    MAKE,
    MODEL,
    SOFTWARE,
    BODY_SERIAL,
    LENS_SERIAL,
    DATE_ORIGINAL,
    MAKERNOTE_SERIAL,
    CITY,
    AUTHOR,
    COMMENT,
    XMP_GPS,
    PNG_TIME_TEXT,
)
# Container-level signatures of metadata blocks: EXIF in JPEG, XMP's namespace (JPEG APP1 and
# elsewhere), Photoshop's IRB header (APP13), the ICC segment name in JPEG.
SIGNATURES: Final = (b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"ICC_PROFILE")


def _rationals(values: tuple[tuple[int, int], ...], order: str) -> bytes:
    return b"".join(struct.pack(order + "II", n, d) for n, d in values)


def gps_patterns() -> list[bytes]:
    """The GPS rationals as they lie in the file, in both byte orders a TIFF block can use."""
    return [
        _rationals(values, order)
        for values in (LATITUDE, LONGITUDE, ALTITUDE, GPS_TIME)
        for order in (">", "<")
    ]


def markers() -> list[bytes]:
    """Every byte string that must not survive an upload."""
    found = [m.encode() for m in TEXT_MARKERS]
    # The ICC profile's header fields and tag table (128 bytes on), as it is embedded.
    return [
        *found,
        *gps_patterns(),
        *SIGNATURES,
        icc_profile()[36:40] + icc_profile()[40:80],
        icc_profile()[128:200],
    ]


# --- TIFF (EXIF) writer ----------------------------------------------------------------------

ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 2, 3, 4, 5, 7
_SIZES: Final = {ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1}
Entry = tuple[int, int, object]  # tag, type, value (str, int, rationals, bytes)


def _encode_value(kind: int, value: object) -> tuple[int, bytes]:
    if kind == ASCII:
        assert isinstance(value, str)
        raw = value.encode() + b"\x00"
        return len(raw), raw
    if kind == UNDEFINED:
        assert isinstance(value, bytes)
        return len(value), value
    if kind == RATIONAL:
        assert isinstance(value, tuple)
        return len(value), _rationals(value, ">")
    assert isinstance(value, int)
    return 1, struct.pack(">H" if kind == SHORT else ">I", value) + (
        b"\x00\x00" if kind == SHORT else b""
    )


class _Tiff:
    """A big-endian TIFF block built front to back: IFDs are laid out with their out-of-line
    values right after them; pointers to sub-IFDs are patched once those are placed."""

    def __init__(self) -> None:
        self.out = bytearray(b"MM\x00\x2a\x00\x00\x00\x08")

    def ifd(self, entries: list[Entry], next_ifd: bool = False) -> dict[int, int]:
        """Write one IFD at the end; returns tag -> offset of its 4-byte value field."""
        start = len(self.out)
        entries = sorted(entries, key=lambda e: e[0])
        data_at = start + 2 + 12 * len(entries) + 4
        table, extra = bytearray(struct.pack(">H", len(entries))), bytearray()
        fields: dict[int, int] = {}
        for tag, kind, value in entries:
            count, raw = _encode_value(kind, value)
            fields[tag] = start + 2 + 12 * len(fields) + 8
            if len(raw) <= 4:
                table += struct.pack(">HHI", tag, kind, count) + raw.ljust(4, b"\x00")
            else:
                table += struct.pack(">HHII", tag, kind, count, data_at + len(extra))
                extra += raw + (b"\x00" if len(raw) % 2 else b"")
        table += b"\x00\x00\x00\x00"  # next IFD: patched by link_next when there is one
        self.out += table + extra
        if next_ifd:
            fields[-1] = start + 2 + 12 * len(entries)
        return fields

    def here(self) -> int:
        return len(self.out)

    def patch(self, at: int, value: int) -> None:
        self.out[at : at + 4] = struct.pack(">I", value)


def exif_block(orientation: int = 6, thumbnail: bytes | None = None) -> bytes:
    """A camera's EXIF (TIFF) block: IFD0, Exif IFD, GPS IFD, and IFD1 with a thumbnail."""
    maker_note = b"Apple iOS\x00\x00\x01MM" + b"\x00\x01" + MAKERNOTE_SERIAL.encode() + b"\x00" * 6
    tiff = _Tiff()
    ifd0 = tiff.ifd(
        [
            (0x010F, ASCII, MAKE),
            (0x0110, ASCII, MODEL),
            (0x0112, SHORT, orientation),
            (0x0131, ASCII, SOFTWARE),
            (0x0132, ASCII, DATE_ORIGINAL),
            (0x013B, ASCII, AUTHOR),  # Artist
            (0x8769, LONG, 0),  # Exif IFD pointer, patched below
            (0x8825, LONG, 0),  # GPS IFD pointer, patched below
        ],
        next_ifd=thumbnail is not None,
    )
    tiff.patch(ifd0[0x8769], tiff.here())
    tiff.ifd(
        [
            (0x9003, ASCII, DATE_ORIGINAL),
            (0x9004, ASCII, DATE_ORIGINAL),
            (0x927C, UNDEFINED, maker_note),
            (0xA431, ASCII, BODY_SERIAL),
            (0xA435, ASCII, LENS_SERIAL),
        ]
    )
    tiff.patch(ifd0[0x8825], tiff.here())
    tiff.ifd(
        [
            (0x0000, UNDEFINED, b"\x02\x03\x00\x00"),  # GPSVersionID
            (0x0001, ASCII, "N"),
            (0x0002, RATIONAL, LATITUDE),
            (0x0003, ASCII, "E"),
            (0x0004, RATIONAL, LONGITUDE),
            (0x0005, UNDEFINED, b"\x00"),
            (0x0006, RATIONAL, ALTITUDE),
            (0x0007, RATIONAL, GPS_TIME),
            (0x001D, ASCII, "2024:05:01"),
        ]
    )
    if thumbnail is not None:
        tiff.patch(ifd0[-1], tiff.here())
        ifd1 = tiff.ifd(
            [
                (0x0103, SHORT, 6),  # compression: JPEG
                (0x0201, LONG, 0),  # JPEGInterchangeFormat, patched below
                (0x0202, LONG, len(thumbnail)),
            ]
        )
        tiff.patch(ifd1[0x0201], tiff.here())
        tiff.out += thumbnail
    return bytes(tiff.out)


# --- other metadata blocks ------------------------------------------------------------------


def xmp_packet() -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmp:CreatorTool="{SOFTWARE}" exif:GPSLatitude="{XMP_GPS}" '
        f'exif:GPSLongitude="2,17.6702E" photoshop:City="{CITY}">'
        f"<dc:creator><rdf:Seq><rdf:li>{AUTHOR}</rdf:li></rdf:Seq></dc:creator>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def iptc_irb() -> bytes:
    """Photoshop image resources (APP13 payload) holding IPTC-IIM: by-line, city, copyright."""

    def dataset(number: int, value: bytes) -> bytes:
        return b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(value)) + value

    iim = (
        dataset(0, b"\x00\x04")
        + dataset(80, AUTHOR.encode())
        + dataset(90, CITY.encode())
        + dataset(116, f"(c) {AUTHOR}".encode())
    )
    padded = iim + (b"\x00" if len(iim) % 2 else b"")
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim))
    return b"Photoshop 3.0\x00" + resource + padded


def icc_profile() -> bytes:
    """An ICC colour profile (sRGB, as littleCMS makes it)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _segment(marker: int, payload: bytes) -> bytes:
    assert len(payload) + 2 <= 0xFFFF
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _bare_jpeg(im: Image.Image, quality: int = 92) -> bytes:
    """Pillow's JPEG without its JFIF APP0 (phones write EXIF first, no JFIF)."""
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    data = out.getvalue()
    assert data[:4] == b"\xff\xd8\xff\xe0"
    app0_end = 4 + struct.unpack(">H", data[4:6])[0]
    return b"\xff\xd8" + data[app0_end:]


# --- pictures --------------------------------------------------------------------------------


def scene(size: tuple[int, int] = (480, 320)) -> Image.Image:
    """A picture with structure: gradient, shapes, and a red block in the raw top-left corner
    (where it lands after orientation tells which way the pixels were turned)."""
    w, h = size
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(im)
    draw.ellipse((w // 3, h // 4, w // 3 + h // 2, h // 4 + h // 2), fill=(30, 110, 220))
    draw.rectangle((0, 0, w // 8, h // 8), fill=(255, 0, 0))
    return im


def noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Incompressible pixels (a large file from a small picture)."""
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))


def camera_jpeg(
    size: tuple[int, int] = (480, 320), orientation: int = 6, pixels: Image.Image | None = None
) -> bytes:
    """A JPEG as a phone writes it: APP1 EXIF (with IFD1 thumbnail, GPS, MakerNote), APP1 XMP,
    APP2 ICC, APP13 IPTC, COM. Raw pixels are landscape; orientation 6 shows them portrait."""
    im = scene(size) if pixels is None else pixels
    thumb = im.copy()
    thumb.thumbnail((160, 120))
    exif = b"Exif\x00\x00" + exif_block(orientation, thumbnail=_bare_jpeg(thumb, 80))
    segments = (
        _segment(0xE1, exif)
        + _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp_packet())
        + _segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + icc_profile())
        + _segment(0xED, iptc_irb())
        + _segment(0xFE, COMMENT.encode())
    )
    return b"\xff\xd8" + segments + _bare_jpeg(im)[2:]


def camera_png(size: tuple[int, int] = (160, 120)) -> bytes:
    """A PNG with tEXt, zTXt, iTXt (XMP), eXIf (EXIF with GPS), iCCP and tIME chunks."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", AUTHOR)
    info.add_text("Comment", COMMENT, zip=True)  # zTXt
    info.add_text("Description", PNG_TIME_TEXT)
    info.add_itxt("XML:com.adobe.xmp", xmp_packet().decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2024, 5, 1, 14, 32, 7))
    out = io.BytesIO()
    scene(size).save(out, "PNG", pnginfo=info, exif=exif_block(1), icc_profile=icc_profile())
    return out.getvalue()


def camera_webp(size: tuple[int, int] = (160, 120)) -> bytes:
    """A WebP (RIFF, VP8X) with EXIF, XMP and ICCP chunks."""
    out = io.BytesIO()
    scene(size).save(
        out, "WEBP", exif=exif_block(1), xmp=xmp_packet(), icc_profile=icc_profile(), quality=90
    )
    return out.getvalue()


def camera_gif(size: tuple[int, int] = (160, 120)) -> bytes:
    """A GIF with a comment extension."""
    out = io.BytesIO()
    scene(size).convert("P").save(out, "GIF", comment=COMMENT.encode())
    return out.getvalue()


def camera_heic(size: tuple[int, int] = (480, 320), orientation: int = 6) -> bytes:
    """A HEIC as an iPhone writes it: EXIF (GPS, serials, MakerNote) and XMP items."""
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    scene(size).save(out, "HEIF", exif=exif_block(orientation), xmp=xmp_packet(), quality=90)
    return out.getvalue()


def video(brand: bytes = b"isom") -> bytes:
    """The start of an MP4 (brand isom) or a QuickTime MOV (brand `qt  `): ftyp, then mdat."""
    ftyp = b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"mp41"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", 24) + b"mdat" + b"\0" * 16


ALL: Final = {
    "camera.jpg": camera_jpeg,
    "camera.png": camera_png,
    "camera.webp": camera_webp,
    "camera.gif": camera_gif,
    "camera.heic": camera_heic,
}


def main(folder: str) -> None:
    where = Path(folder)
    where.mkdir(parents=True, exist_ok=True)
    for name, make in ALL.items():
        (where / name).write_bytes(make())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
