"""Through the real upload API (POST /api/v2/media), then over HTTP as any client fetches them:
the stored image and its preview carry no metadata from the camera files of
tests/data/media/make.py, whether processed in the request or later by the job; videos are
refused with a clear 422 and nothing is kept."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services.imaging import NO_VIDEO
from tests.api.test_media import local_path, media_rows, stored_files, upload
from tests.builders import make_user
from tests.data.media import make
from tests.data.media.clean import assert_clean, leaked_markers

FILES: dict[str, tuple[Callable[[], bytes], str, str, tuple[int, int]]] = {
    # name: (maker, declared type, stored type, displayed size)
    "photo.jpg": (make.camera_jpeg, "image/jpeg", "image/jpeg", (320, 480)),
    "photo.heic": (make.camera_heic, "image/heic", "image/jpeg", (320, 480)),
    "photo.png": (make.camera_png, "image/png", "image/png", (160, 120)),
    "photo.webp": (make.camera_webp, "image/webp", "image/webp", (160, 120)),
    "photo.gif": (make.camera_gif, "image/gif", "image/png", (160, 120)),
}


def fetched(client: TestClient, url: str) -> bytes:
    r = client.get(local_path(url))
    assert r.status_code == 200, url
    return r.content


@pytest.mark.parametrize("name", list(FILES))
def test_served_files_carry_no_metadata(client: TestClient, name: str) -> None:
    maker, declared, stored, size = FILES[name]
    alice = make_user(client)
    source = maker()
    assert leaked_markers(source)  # the upload really carries metadata

    r = upload(alice, source, name=name, mime=declared)

    assert r.status_code == 200, r.text
    media = r.json()
    assert (media["meta"]["original"]["width"], media["meta"]["original"]["height"]) == size
    original = fetched(client, media["url"])
    preview = fetched(client, media["preview_url"])
    assert_clean(original)
    assert_clean(preview)
    with Image.open(io.BytesIO(original)) as im:
        assert Image.MIME[str(im.format)] == stored
        assert im.size == size


def test_a_large_upload_processed_later_keeps_nothing_of_the_original(
    client: TestClient, parvis: Parvis
) -> None:
    """Over 4 MiB the raw upload waits on disk for the job; once processed it is deleted, and
    no file the server keeps holds any of its metadata."""
    alice = make_user(client)
    size = (2400, 2000)
    source = make.camera_jpeg(size, orientation=6, pixels=make.noise(size))
    assert len(source) > 4 * 1024 * 1024

    r = upload(alice, source)

    assert r.status_code == 202, r.text
    got = alice.get(f"/api/v1/media/{r.json()['id']}")  # jobs run inline in the tests
    assert got.status_code == 200, got.text
    media = got.json()
    assert (media["meta"]["original"]["width"], media["meta"]["original"]["height"]) == (
        2000,
        2400,
    )
    assert_clean(fetched(client, media["url"]))
    assert_clean(fetched(client, media["preview_url"]))
    kept = stored_files(parvis)
    assert len(kept) == 2  # the re-encoded image and its preview: the raw upload is gone
    for path in kept:
        with open(path, "rb") as f:
            assert leaked_markers(f.read()) == [], path


@pytest.mark.parametrize(
    ("name", "brand", "declared"),
    [("clip.mp4", b"isom", "video/mp4"), ("clip.mov", b"qt  ", "video/quicktime")],
)
def test_videos_are_refused_clearly(
    client: TestClient, parvis: Parvis, name: str, brand: bytes, declared: str
) -> None:
    alice = make_user(client)
    for version in (1, 2):
        r = upload(alice, make.video(brand), version=version, name=name, mime=declared)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == NO_VIDEO
    assert media_rows(parvis) == 0
    assert stored_files(parvis) == []
