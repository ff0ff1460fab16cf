"""Media uploads through the real API: privacy (no metadata served), sync and async processing,
refusals that leave nothing behind, descriptions, ownership."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.storage.tables import media_attachments
from tests.builders import User, make_app, make_user

MAKE = "SpyCam Industries"


def jpeg_with_gps(size: tuple[int, int] = (320, 240)) -> bytes:
    im = Image.new("RGB", size, (200, 40, 40))
    for x in range(0, size[0], 8):  # some structure, so the blurhash is not flat
        for y in range(size[1]):
            im.putpixel((x, y), (20, 180, 60))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.2)
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert b"GPS" in data or MAKE.encode() in data  # the fixture really carries metadata
    return data


def noisy_png(side: int = 1400, seed: int = 1) -> bytes:
    """Incompressible pixels: the PNG is larger than the 4 MiB processed in the request."""
    im = Image.frombytes("RGB", (side, side), random.Random(seed).randbytes(side * side * 3))
    out = io.BytesIO()
    im.save(out, "PNG", compress_level=1)
    data = out.getvalue()
    assert len(data) > 4 * 1024 * 1024
    return data


def upload(
    user: User,
    data: bytes,
    *,
    version: int = 2,
    name: str = "photo.jpg",
    mime: str = "image/jpeg",
    **fields: str,
) -> Any:
    return user.post(f"/api/v{version}/media", files={"file": (name, data, mime)}, data=fields)


def media_rows(parvis: Parvis) -> int:
    with parvis.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(media_attachments)).scalar_one())


def stored_files(parvis: Parvis) -> list[str]:
    root = parvis.settings.media_dir
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def with_scopes(user: User, scopes: str) -> User:
    """The same person, through a token limited to `scopes` (password grant)."""
    app = make_app(user.client, scopes)
    r = user.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
            "username": f"{user.username}@example.org",
            "password": "correct horse battery",
        },
    )
    assert r.status_code == 200, r.text
    return User(user.client, r.json()["access_token"], user.id, user.username)


def local_path(url: str) -> str:
    assert url.startswith("https://parvis.test/media/"), url
    return url.removeprefix("https://parvis.test")


def test_upload_strips_metadata_and_attaches_to_a_status(client: TestClient) -> None:
    alice = make_user(client)
    r = upload(alice, jpeg_with_gps(), description="A red wall", focus="0.5,-0.25")
    assert r.status_code == 200, r.text
    media = r.json()
    assert media["type"] == "image"
    assert media["description"] == "A red wall"
    assert media["blurhash"]
    assert media["meta"]["original"]["width"] == 320
    assert media["meta"]["original"]["height"] == 240
    assert media["meta"]["small"]["width"] > 0
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25}

    served = client.get(local_path(media["url"]))
    assert served.status_code == 200
    assert b"GPS" not in served.content
    assert b"Exif" not in served.content
    assert MAKE.encode() not in served.content
    with Image.open(io.BytesIO(served.content)) as im:
        assert im.format == "JPEG"
        assert dict(im.getexif()) == {}
        assert im.size == (320, 240)
    preview = client.get(local_path(media["preview_url"]))
    assert preview.status_code == 200
    assert b"GPS" not in preview.content

    status = alice.status("Look at this", media_ids=[media["id"]])
    [attached] = status["media_attachments"]
    assert attached["id"] == media["id"]
    assert attached["description"] == "A red wall"
    assert attached["blurhash"] == media["blurhash"]
    assert attached["meta"]["original"]["size"] == "320x240"
    assert attached["url"] == media["url"]
    # Already attached: it cannot be used twice.
    again = alice.post("/api/v1/statuses", json={"status": "again", "media_ids": [media["id"]]})
    assert again.status_code == 422


def test_v1_upload_is_processed_at_once(client: TestClient) -> None:
    alice = make_user(client)
    r = upload(alice, noisy_png(), version=1, name="noise.png", mime="image/png")
    assert r.status_code == 200, r.text
    assert r.json()["url"]
    assert r.json()["meta"]["original"]["width"] == 1400


def test_large_upload_is_processed_later(client: TestClient) -> None:
    alice = make_user(client)
    r = upload(alice, noisy_png(), name="noise.png", mime="image/png")
    assert r.status_code == 202, r.text
    pending = r.json()
    assert pending["url"] is None
    assert pending["type"] == "image"
    # Jobs run inline in tests: by now it is processed.
    got = alice.get(f"/api/v1/media/{pending['id']}")
    assert got.status_code == 200, got.text
    ready = got.json()
    assert ready["url"] and ready["preview_url"] and ready["blurhash"]
    assert ready["meta"]["original"] == {
        "width": 1400,
        "height": 1400,
        "size": "1400x1400",
        "aspect": 1.0,
    }
    served = client.get(local_path(ready["url"]))
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.content)) as im:
        assert im.format == "PNG"
    status = alice.status("noise", media_ids=[ready["id"]])
    assert status["media_attachments"][0]["id"] == ready["id"]


def test_large_upload_that_fails_later_reports_the_error(client: TestClient) -> None:
    alice = make_user(client)
    data = noisy_png()
    r = upload(alice, data[: len(data) - 200_000], name="cut.png", mime="image/png")
    assert r.status_code == 202, r.text
    got = alice.get(f"/api/v1/media/{r.json()['id']}")
    assert got.status_code == 422
    assert "decoded" in got.json()["error"]
    refused = alice.post("/api/v1/statuses", json={"status": "x", "media_ids": [r.json()["id"]]})
    assert refused.status_code == 422


@pytest.mark.parametrize(
    "name,data,mime",
    [
        ("cut.jpg", jpeg_with_gps()[:600], "image/jpeg"),
        ("notes.txt", b"just some text, not an image\n" * 20, "text/plain"),
        ("empty.jpg", b"", "image/jpeg"),
        ("fake.jpg", b"GIF89a" + b"\x00" * 10, "image/jpeg"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_kept(
    client: TestClient, parvis: Parvis, name: str, data: bytes, mime: str
) -> None:
    alice = make_user(client)
    for version in (1, 2):
        r = upload(alice, data, version=version, name=name, mime=mime)
        assert r.status_code == 422, r.text
        assert r.json()["error"]
    assert media_rows(parvis) == 0
    assert stored_files(parvis) == []


def test_missing_or_non_file_field_is_refused(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client)
    r = alice.post("/api/v2/media", data={"description": "no file"})
    assert r.status_code == 422
    assert "file" in r.json()["error"]
    r = alice.post("/api/v2/media", data={"file": "not-a-file"})
    assert r.status_code == 422
    assert "file" in r.json()["error"]
    r = alice.post("/api/v2/media", json={"file": "aGVsbG8="})
    assert r.status_code == 422
    r = alice.post("/api/v1/media")
    assert r.status_code == 422
    r = upload(alice, jpeg_with_gps(), focus="2,0")
    assert r.status_code == 422
    assert "focus" in r.json()["error"]
    r = upload(alice, jpeg_with_gps(), description="x" * 1501)
    assert r.status_code == 422
    assert media_rows(parvis) == 0
    made_up = alice.post("/api/v1/statuses", json={"status": "x", "media_ids": ["123456789"]})
    assert made_up.status_code == 422


def test_update_description_and_focus(client: TestClient) -> None:
    alice = make_user(client)
    media = upload(alice, jpeg_with_gps()).json()
    r = alice.client.put(
        f"/api/v1/media/{media['id']}",
        headers=alice.headers,
        data={"description": "Now described", "focus": "-1,1"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "Now described"
    assert r.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    r = alice.client.put(
        f"/api/v1/media/{media['id']}", headers=alice.headers, json={"description": "As JSON"}
    )
    assert r.status_code == 200
    assert r.json()["description"] == "As JSON"
    assert r.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    got = alice.get(f"/api/v1/media/{media['id']}").json()
    assert got["description"] == "As JSON"
    bad = alice.client.put(
        f"/api/v1/media/{media['id']}", headers=alice.headers, json={"focus": "middle"}
    )
    assert bad.status_code == 422
    status = alice.status("described", media_ids=[media["id"]])
    assert status["media_attachments"][0]["description"] == "As JSON"


def test_someone_elses_media_is_not_found(client: TestClient) -> None:
    alice = make_user(client)
    bob = make_user(client)
    media = upload(alice, jpeg_with_gps()).json()
    assert bob.get(f"/api/v1/media/{media['id']}").status_code == 404
    r = bob.client.put(
        f"/api/v1/media/{media['id']}", headers=bob.headers, json={"description": "mine now"}
    )
    assert r.status_code == 404
    assert r.json()["error"]
    stolen = bob.post("/api/v1/statuses", json={"status": "x", "media_ids": [media["id"]]})
    assert stolen.status_code == 422
    assert bob.get("/api/v1/media/nonsense").status_code == 404
    assert bob.get("/api/v1/media/99999999999").status_code == 404


def test_scopes_and_authentication(client: TestClient) -> None:
    reader = with_scopes(make_user(client), "read")
    r = upload(reader, jpeg_with_gps())
    assert r.status_code == 403
    assert "write:media" in r.json()["error"]
    anonymous = client.post(
        "/api/v2/media", files={"file": ("a.jpg", jpeg_with_gps(), "image/jpeg")}
    )
    assert anonymous.status_code == 401
    assert client.get("/api/v1/media/1").status_code == 401


def test_openapi_documents_the_multipart_body(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    op = doc["paths"]["/api/v2/media"]["post"]
    schema = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"]["type"] == "string"
    assert schema["properties"]["file"]["format"] == "binary"
    assert "file" in schema["required"]
    assert "202" in op["responses"]
    assert "206" in doc["paths"]["/api/v1/media/{id}"]["get"]["responses"]


def test_authentication_comes_before_validation(client: TestClient) -> None:
    for path in ("/api/v2/media", "/api/v1/media"):
        assert client.post(path, data={"description": "no file"}).status_code == 401
        assert (
            client.post(
                path, content=b"\x00", headers={"Content-Type": "application/json"}
            ).status_code
            == 401
        )
    r = client.put("/api/v1/media/1", json={"focus": "nowhere"})
    assert r.status_code == 401
    reader = with_scopes(make_user(client), "read")
    assert reader.post("/api/v2/media", data={"description": "no file"}).status_code == 403
