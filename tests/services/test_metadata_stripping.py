"""No metadata survives an upload, shown on camera files as phones write them
(tests/data/media/make.py: EXIF with GPS, serials, a MakerNote and an embedded thumbnail; XMP;
IPTC; ICC; comments; PNG text chunks; WebP EXIF/XMP chunks; HEIC items). Each stored file and
thumbnail is checked with Pillow, by its structure and by scanning its bytes
(tests/data/media/clean.py)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, PngImagePlugin

from parvis.domain.errors import InvalidMedia
from parvis.services.imaging import NO_VIDEO, UNSUPPORTED, process_image, sniff_mime
from tests.data.media import make
from tests.data.media.clean import assert_clean, jpeg_segments, leaked_markers

EXIF_TEXT = [make.MAKE, make.MODEL, make.SOFTWARE, make.BODY_SERIAL, make.LENS_SERIAL]
EVERYWHERE = [make.MAKERNOTE_SERIAL, make.AUTHOR, make.CITY, make.XMP_GPS]

# Each camera file, what it must carry (so that a clean result means something), and what
# Parvis stores it as.
CASES: dict[str, tuple[Callable[[], bytes], list[str], bool, str]] = {
    # name: (maker, markers it carries, carries the ICC profile, stored format)
    "jpeg": (make.camera_jpeg, [*EXIF_TEXT, *EVERYWHERE, make.COMMENT], True, "JPEG"),
    "png": (make.camera_png, [*EXIF_TEXT, *EVERYWHERE, make.PNG_TIME_TEXT], True, "PNG"),
    "webp": (make.camera_webp, [*EXIF_TEXT, *EVERYWHERE], True, "WEBP"),
    "heic": (make.camera_heic, [*EXIF_TEXT, *EVERYWHERE], False, "JPEG"),
    "gif": (make.camera_gif, [make.COMMENT], False, "PNG"),
}


def _carries(source: bytes, expected: list[str], icc: bool) -> None:
    """The fixture really is dirty: its markers are in the bytes and Pillow sees them."""
    missing = [m for m in expected if m.encode() not in source]
    assert missing == []
    if expected != [make.COMMENT]:  # everything but the GIF has EXIF with a GPS IFD
        assert any(p in source for p in make.gps_patterns())
        with Image.open(io.BytesIO(source)) as im:
            exif = im.getexif()
            assert exif[ExifTags.Base.Make] == make.MAKE
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
            assert gps[ExifTags.GPS.GPSLatitude] == (48.0, 51.0, 29.53)
            assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] == (
                make.BODY_SERIAL
            )
    if icc:  # (compressed in PNG's iCCP, so looked for by Pillow only)
        with Image.open(io.BytesIO(source)) as im:
            assert im.info["icc_profile"][128:200] == make.icc_profile()[128:200]


@pytest.mark.parametrize("case", list(CASES))
def test_camera_file_comes_out_clean(case: str) -> None:
    maker, expected, icc, stored_as = CASES[case]
    source = maker()
    _carries(source, expected, icc)

    result = process_image(source)

    assert_clean(result.data)
    assert_clean(result.thumbnail)
    with Image.open(io.BytesIO(result.data)) as im:
        assert im.format == stored_as
        assert im.size == (result.width, result.height)


def test_camera_jpeg_carries_every_segment_a_phone_writes() -> None:
    """The JPEG fixture as exiftool would list it: EXIF (with IFD1 and its thumbnail), XMP,
    ICC, IPTC and a comment, each in its own segment; Pillow reads them all."""
    source = make.camera_jpeg()
    assert jpeg_segments(source)[:5] == [
        "APP1:Exif",
        "APP1:http://ns.adobe.com/xap/1.0/",
        "APP2:ICC_PROFILE",
        "APP13:Photoshop 3.0",
        "COM",
    ]
    assert source.count(b"\xff\xd8\xff") == 2  # the picture and its EXIF thumbnail
    with Image.open(io.BytesIO(source)) as im:
        assert {"exif", "xmp", "icc_profile", "photoshop", "comment"} <= set(im.info)
        exif = im.getexif()
        assert exif.get_ifd(ExifTags.IFD.IFD1)[0x0202] > 0  # JPEGInterchangeFormatLength
        assert make.MAKERNOTE_SERIAL.encode() in exif.get_ifd(ExifTags.IFD.Exif)[0x927C]
        assert make.CITY.encode() in im.info["xmp"]


# --- orientation: the tag is dropped, so the pixels must be turned -----------------------

# Where the raw top-left corner lands for each EXIF orientation (its meaning in the spec),
# and whether width and height swap.
CORNER = {
    1: ("top", "left", False),
    2: ("top", "right", False),
    3: ("bottom", "right", False),
    4: ("bottom", "left", False),
    5: ("top", "left", True),
    6: ("top", "right", True),
    7: ("bottom", "right", True),
    8: ("bottom", "left", True),
}


def _red_corner(data: bytes) -> tuple[str, str]:
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
        w, h = rgb.size
        for vertical, y in (("top", 4), ("bottom", h - 5)):
            for horizontal, x in (("left", 4), ("right", w - 5)):
                pixel = rgb.getpixel((x, y))
                assert isinstance(pixel, tuple)
                if pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60:
                    return vertical, horizontal
    raise AssertionError("the red corner is gone")


@pytest.mark.parametrize("orientation", list(CORNER))
def test_exif_orientation_is_applied_to_the_pixels(orientation: int) -> None:
    vertical, horizontal, swapped = CORNER[orientation]
    result = process_image(make.camera_jpeg((480, 320), orientation=orientation))
    assert (result.width, result.height) == ((320, 480) if swapped else (480, 320))
    assert _red_corner(result.data) == (vertical, horizontal)
    assert _red_corner(result.thumbnail) == (vertical, horizontal)
    assert_clean(result.data)


def test_heic_rotation_is_applied_and_it_becomes_a_jpeg() -> None:
    source = make.camera_heic((480, 320), orientation=6)
    assert sniff_mime(source) == "image/heic"
    result = process_image(source)
    assert (result.mime, result.extension) == ("image/jpeg", "jpg")
    assert (result.width, result.height) == (320, 480)
    assert _red_corner(result.data) == ("top", "right")


def test_heic_with_transparency_becomes_a_png() -> None:
    im = Image.new("RGBA", (64, 48), (0, 128, 255, 0))
    im.paste((255, 0, 0, 255), (0, 0, 32, 48))
    out = io.BytesIO()
    im.save(out, "HEIF", exif=make.exif_block(1), quality=-1)  # -1: lossless
    result = process_image(out.getvalue())
    assert (result.mime, result.thumb_mime) == ("image/png", "image/webp")
    assert_clean(result.data)
    with Image.open(io.BytesIO(result.data)) as back:
        assert back.mode == "RGBA"
        alpha = back.getpixel((60, 24))
        assert isinstance(alpha, tuple) and alpha[3] < 16


# --- videos and other files: a clear refusal --------------------------------------------


@pytest.mark.parametrize("brand", [b"isom", b"qt  ", b"mp42"])
def test_videos_are_refused_with_their_own_message(brand: bytes) -> None:
    source = make.video(brand)
    assert str(sniff_mime(source)).startswith("video/")
    with pytest.raises(InvalidMedia) as caught:
        process_image(source)
    assert caught.value.message == NO_VIDEO


def test_other_files_are_refused_naming_the_accepted_types() -> None:
    with pytest.raises(InvalidMedia) as caught:
        process_image(b"%PDF-1.7\n" + b"\x00" * 64)
    assert caught.value.message == UNSUPPORTED
    assert "HEIC" in UNSUPPORTED


# --- property: whatever text is put in the metadata, none of it survives -----------------

# A distinctive envelope around the generated text: the scan looks for the whole, so a short
# value ("a") cannot match compressed pixels by chance.
OPEN, CLOSE = "<<PARVIS-PROP:", ":PROP-PARVIS>>"
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1)
any_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=200)
keywords = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=79
).filter(lambda k: k != "icc_profile")


def _scanned(data: bytes, values: list[str]) -> list[bytes]:
    needles = tuple(v.encode("utf-8") for v in values) + tuple(
        v.encode("latin-1") for v in values if all(ord(c) < 256 for c in v)
    )
    return leaked_markers(data, needles)


@PROPS
@given(
    st.lists(ascii_text, min_size=1, max_size=6),
    st.sampled_from(["JPEG", "PNG", "WEBP"]),
    st.sampled_from([1, 3, 6, 8]),
)
def test_any_exif_text_never_survives(values: list[str], fmt: str, orientation: int) -> None:
    wrapped = [OPEN + v + CLOSE for v in values]
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    tags = [
        (exif, ExifTags.Base.Make),
        (exif, ExifTags.Base.Artist),
        (exif, ExifTags.Base.ImageDescription),
        (exif.get_ifd(ExifTags.IFD.Exif), ExifTags.Base.BodySerialNumber),
        (exif.get_ifd(ExifTags.IFD.GPSInfo), ExifTags.GPS.GPSAreaInformation),
        (exif.get_ifd(ExifTags.IFD.Exif), ExifTags.Base.UserComment),
    ]
    for (ifd, tag), value in zip(tags, wrapped, strict=False):
        ifd[tag] = value
    out = io.BytesIO()
    make.scene((64, 48)).save(out, fmt, exif=exif)
    source = out.getvalue()
    assert OPEN.encode() in source

    result = process_image(source)

    for blob in (result.data, result.thumbnail):
        assert _scanned(blob, wrapped) == []
        assert_clean(blob)


@PROPS
@given(st.lists(st.tuples(keywords, any_text, st.sampled_from(["tEXt", "zTXt", "iTXt"]))))
def test_any_png_text_chunk_never_survives(chunks: list[tuple[str, str, str]]) -> None:
    info = PngImagePlugin.PngInfo()
    values = []
    for key, text, kind in chunks:
        value = OPEN + text + CLOSE
        values.append(value)
        if kind == "iTXt" or any(ord(c) > 255 for c in value):
            info.add_itxt(key, value, lang="fr", tkey=value)
        else:
            info.add_text(key, value, zip=kind == "zTXt")
    out = io.BytesIO()
    make.scene((64, 48)).save(out, "PNG", pnginfo=info)

    result = process_image(out.getvalue())

    for blob in (result.data, result.thumbnail):
        assert _scanned(blob, values) == []
        assert_clean(blob)


# --- HEIC is parsed by libheif: hostile HEIC gives a clear refusal, never a crash --------

HEIC = make.camera_heic((64, 48), orientation=6)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    st.floats(min_value=0.0, max_value=1.0),
    st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=8),
)
def test_broken_heic_is_refused_or_processed(keep: float, flips: list[tuple[float, int]]) -> None:
    data = bytearray(HEIC[: max(32, int(len(HEIC) * keep))])  # keep the ftyp box: still HEIC
    for where, value in flips:
        data[min(len(data) - 1, 32 + int(where * (len(data) - 32)))] = value
    try:
        result = process_image(bytes(data))
    except InvalidMedia as exc:
        assert exc.message
    else:
        assert result.width > 0 and result.height > 0
        assert_clean(result.data)
