"""Tests for parvis.services.imaging: every fixture is built in memory with Pillow."""

from __future__ import annotations

import io
import random
import struct
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from parvis.domain.errors import InvalidMedia
from parvis.services.imaging import (
    MAX_PIXELS,
    ProcessedImage,
    parse_focus,
    process_image,
    sniff_mime,
)

MAKE = "SpyCam Industries"
MODEL = "Tracker 3000"
COMMENT = b"shot at my home address"
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Spy"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
FORBIDDEN = (b"GPS", b"Exif", b"xmp", b"http://ns.adobe.com/xap", MAKE.encode(), MODEL.encode())
# Container-level names of metadata chunks: PNG eXIf/iCCP/iTXt/tEXt, WebP EXIF/XMP /ICCP.
CHUNKS = (b"eXIf", b"iCCP", b"iTXt", b"tEXt", b"zTXt", b"EXIF", b"XMP ", b"ICCP")


def _noise(size: tuple[int, int], mode: str = "RGB", seed: int = 0) -> Image.Image:
    n = size[0] * size[1] * len(mode)
    return Image.frombytes(mode, size, random.Random(seed).randbytes(n))


def _exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.2)
    gps[ExifTags.GPS.GPSMapDatum] = "WGS-84 GPS"
    return exif


def _icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _encode(im: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def _spy_jpeg(size: tuple[int, int] = (400, 200)) -> bytes:
    im = _noise(size)
    im.paste((255, 0, 0), (0, 0, 40, 40))  # red block in the raw top-left corner
    return _encode(
        im, "JPEG", exif=_exif(6), xmp=XMP, comment=COMMENT, icc_profile=_icc(), quality=95
    )


def _assert_clean(result: ProcessedImage) -> None:
    for blob in (result.data, result.thumbnail):
        for marker in FORBIDDEN + CHUNKS:
            assert marker not in blob, marker
        assert COMMENT not in blob
        with Image.open(io.BytesIO(blob)) as im:
            assert not im.getexif()
            assert not (
                {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(im.info)
            )


# --- metadata stripping -------------------------------------------------------------


def test_jpeg_metadata_is_stripped_and_orientation_applied() -> None:
    source = _spy_jpeg()
    with Image.open(io.BytesIO(source)) as original:  # sanity: the fixture really is dirty
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert {"exif", "xmp", "icc_profile", "comment"} <= set(original.info)
    assert all(m in source for m in FORBIDDEN)

    result = process_image(source)

    _assert_clean(result)
    assert (result.mime, result.extension) == ("image/jpeg", "jpg")
    assert (result.width, result.height) == (200, 400)  # orientation 6: swapped
    assert result.aspect == pytest.approx(0.5)
    with Image.open(io.BytesIO(result.data)) as im:
        assert im.format == "JPEG"
        assert im.size == (200, 400)
        red = im.convert("RGB").getpixel((190, 10))  # raw top-left -> displayed top-right
        assert isinstance(red, tuple)
        assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_png_metadata_is_stripped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Comment", COMMENT.decode())
    info.add_text("Make", MAKE)
    source = _encode(_noise((64, 48)), "PNG", exif=_exif(1), pnginfo=info, icc_profile=_icc())
    assert all(m in source for m in FORBIDDEN if m != b"Exif")  # eXIf holds bare TIFF
    assert all(m in source for m in (b"eXIf", b"iCCP", b"iTXt", b"tEXt"))

    result = process_image(source)

    _assert_clean(result)
    assert (result.mime, result.extension, result.width, result.height) == (
        "image/png",
        "png",
        64,
        48,
    )


def test_webp_metadata_is_stripped() -> None:
    source = _encode(_noise((64, 48)), "WEBP", exif=_exif(1), xmp=XMP, icc_profile=_icc())
    assert all(m in source for m in FORBIDDEN if m != b"Exif")  # EXIF chunk holds bare TIFF
    assert all(m in source for m in (b"EXIF", b"XMP ", b"ICCP"))

    result = process_image(source)

    _assert_clean(result)
    assert (result.mime, result.extension) == ("image/webp", "webp")


def test_corrupt_exif_is_tolerated_and_dropped() -> None:
    broken = _exif(6).tobytes()[:40]  # IFD entries point past the end of the block
    result = process_image(_encode(_noise((40, 20)), "JPEG", exif=broken))
    _assert_clean(result)
    assert max(result.width, result.height) == 40


# --- modes and formats --------------------------------------------------------------


def test_png_with_alpha_keeps_alpha() -> None:
    im = Image.new("RGBA", (100, 50), (0, 128, 255, 0))
    im.paste((255, 0, 0, 255), (0, 0, 50, 50))
    result = process_image(_encode(im, "PNG"))
    assert result.mime == "image/png"
    with Image.open(io.BytesIO(result.data)) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((75, 25)) == (0, 128, 255, 0)
        assert out.getpixel((25, 25)) == (255, 0, 0, 255)
    assert result.thumb_mime == "image/webp"
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.mode == "RGBA"


def test_palette_png_with_transparency_becomes_rgba() -> None:
    im = Image.new("P", (20, 20), 0)
    im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    result = process_image(_encode(im, "PNG", transparency=0))
    with Image.open(io.BytesIO(result.data)) as out:
        assert out.mode == "RGBA"
        pixel = out.getpixel((0, 0))
        assert isinstance(pixel, tuple)
        assert pixel[3] == 0


def test_gif_first_frame_becomes_png() -> None:
    frames = [Image.new("P", (30, 20), i) for i in (1, 2)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    source = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], comment=COMMENT)
    assert sniff_mime(source) == "image/gif"
    result = process_image(source)
    assert (result.mime, result.extension, result.width, result.height) == (
        "image/png",
        "png",
        30,
        20,
    )
    _assert_clean(result)
    with Image.open(io.BytesIO(result.data)) as out:
        assert out.convert("RGB").getpixel((0, 0)) == (255, 0, 0)  # frame 1, not frame 2


def test_cmyk_jpeg_becomes_rgb() -> None:
    result = process_image(_encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG"))
    with Image.open(io.BytesIO(result.data)) as out:
        assert out.mode == "RGB"


def test_sixteen_bit_greyscale_png_is_scaled_to_eight_bits() -> None:
    im = Image.new("I;16", (16, 16), 65535)
    result = process_image(_encode(im, "PNG"))
    with Image.open(io.BytesIO(result.data)) as out:
        assert out.mode == "L"
        assert out.getpixel((0, 0)) == 255


# --- sizes, thumbnail, blurhash -----------------------------------------------------


def test_thumbnail_and_blurhash() -> None:
    result = process_image(_encode(_noise((1280, 960)), "JPEG"))
    assert (result.width, result.height) == (1280, 960)
    assert (result.thumb_width, result.thumb_height) == (640, 480)
    assert result.thumb_mime == "image/jpeg"
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (640, 480)
    assert len(result.blurhash) == 1 + 1 + 4 + 2 * (4 * 3 - 1) == 28
    charset = set(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
    )
    assert set(result.blurhash) <= charset


def test_small_image_thumbnail_is_not_upscaled() -> None:
    result = process_image(_encode(Image.new("RGB", (10, 5), "green"), "PNG"))
    assert (result.thumb_width, result.thumb_height) == (10, 5)
    assert len(result.blurhash) == 28


@pytest.mark.parametrize(("fmt", "size"), [("PNG", (5000, 100)), ("JPEG", (7700, 1000))])
def test_large_image_is_downscaled_to_3840(fmt: str, size: tuple[int, int]) -> None:
    result = process_image(_encode(Image.new("RGB", size, "navy"), fmt))
    assert max(result.width, result.height) == 3840
    with Image.open(io.BytesIO(result.data)) as out:
        assert out.size == (result.width, result.height)
    assert max(result.thumb_width, result.thumb_height) == 640


def _png_with_header_size(width: int, height: int) -> bytes:
    png = bytearray(_encode(Image.new("RGB", (1, 1)), "PNG"))
    assert png[12:16] == b"IHDR"
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


@pytest.mark.parametrize(
    "size",
    [(50_000, 50_000), (10_000, 10_000), (9_000, 9_000), (20_000, 10), (10, 12_001)],
)
def test_huge_dimensions_rejected_before_decoding(size: tuple[int, int]) -> None:
    # The file is ~70 bytes: had the pixels been decoded it would fail as truncated
    # instead, so the "too large" message shows the header alone was looked at.
    with pytest.raises(InvalidMedia, match="image is too large") as caught:
        process_image(_png_with_header_size(*size))
    assert "limit" in caught.value.message


def test_pixel_limit_message_names_the_numbers() -> None:
    with pytest.raises(InvalidMedia) as caught:
        process_image(_png_with_header_size(9_000, 9_000))
    assert caught.value.message == f"image is too large: 81000000 pixels, the limit is {MAX_PIXELS}"


def test_over_max_bytes_rejected() -> None:
    with pytest.raises(InvalidMedia, match="too large"):
        process_image(_encode(_noise((64, 64)), "PNG"), max_bytes=1000)


# --- rejection of non-images and broken images -------------------------------------


UNSUPPORTED = [
    b"hello, this is plainly a text file\n",
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    _encode(Image.new("RGB", (8, 8)), "BMP"),
    _encode(Image.new("RGB", (8, 8)), "TIFF"),
]


@pytest.mark.parametrize("data", UNSUPPORTED)
def test_unsupported_types_rejected(data: bytes) -> None:
    with pytest.raises(InvalidMedia) as caught:
        process_image(data)
    assert caught.value.message == "file is not a supported image (JPEG, PNG, WebP, GIF or HEIC)"


def test_empty_file_rejected() -> None:
    with pytest.raises(InvalidMedia, match="empty"):
        process_image(b"")


def test_truncated_jpeg_rejected() -> None:
    source = _spy_jpeg()
    with pytest.raises(InvalidMedia, match="image could not be decoded"):
        process_image(source[: len(source) // 2])


def test_magic_bytes_followed_by_garbage_rejected() -> None:
    with pytest.raises(InvalidMedia, match="image could not be decoded"):
        process_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)


def test_sniff_mime_by_content() -> None:
    assert sniff_mime(_encode(Image.new("RGB", (4, 4)), "JPEG")) == "image/jpeg"
    assert sniff_mime(_encode(Image.new("RGB", (4, 4)), "PNG")) == "image/png"
    assert sniff_mime(_encode(Image.new("RGB", (4, 4)), "WEBP")) == "image/webp"
    assert sniff_mime(_encode(Image.new("P", (4, 4)), "GIF")) == "image/gif"
    assert sniff_mime(b"") is None
    assert sniff_mime(b"just text") is None


# --- focus ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (0.0, 0.0)),
        ("", (0.0, 0.0)),
        ("0,0", (0.0, 0.0)),
        ("0.5,-0.25", (0.5, -0.25)),
        ("-1,1", (-1.0, 1.0)),
        (" 1.0 , -1.0 ", (1.0, -1.0)),
        ("-0.0,0", (0.0, 0.0)),
    ],
)
def test_parse_focus_valid(value: str | None, expected: tuple[float, float]) -> None:
    assert parse_focus(value) == expected


@pytest.mark.parametrize(
    "value", ["0.5", "1.5,0", "0,-1.01", "a,b", "0.1,0.2,0.3", ",", "nan,0", "inf,0", "1e400,0"]
)
def test_parse_focus_invalid(value: str) -> None:
    with pytest.raises(InvalidMedia):
        parse_focus(value)


# --- robustness: anything in, ProcessedImage or InvalidMedia out ---------------------


def _process_or_invalid(data: bytes) -> None:
    try:
        result = process_image(data)
    except InvalidMedia as exc:
        assert exc.message
    else:
        assert isinstance(result, ProcessedImage)
        assert result.width > 0 and result.height > 0


VALID = [
    _spy_jpeg((48, 32)),
    _encode(_noise((24, 16), "RGBA"), "PNG", exif=_exif(3)),
    _encode(_noise((24, 16)), "WEBP", exif=_exif(8)),
    _encode(Image.new("P", (24, 16), 3), "GIF"),
]
MAGIC = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 "]
FUZZ = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=512))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _process_or_invalid(data)


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=512))
def test_fuzz_magic_then_garbage(magic: bytes, tail: bytes) -> None:
    _process_or_invalid(magic + tail)


@FUZZ
@given(
    st.sampled_from(VALID),
    st.floats(min_value=0.0, max_value=1.0),
    st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=8),
)
def test_fuzz_truncated_and_flipped(
    source: bytes, keep: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(source[: int(len(source) * keep)])
    for where, value in flips:
        if data:
            data[min(len(data) - 1, int(where * len(data)))] = value
    _process_or_invalid(bytes(data))
