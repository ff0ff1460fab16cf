"""Remote media cached here: a remote post's photo (carrying EXIF with GPS) is downloaded by
the real HttpClient, re-encoded by the upload pipeline and served from this server with no
byte of its metadata; the size cap, the SSRF guard and the operator's `reject_media` all stop a
download before it happens; transient failures are left to the queue's retries; avatars and
headers of remote accounts are cached the same way.

The real app on a real database; the only fake is the outbound network: the fake fediverse of
tests/federation/test_inbox.py (an httpx2 MockTransport behind the real HttpClient) also
serving files here, and a resolver saying which address each host has."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.activitypub import parse
from parvis.domain.ids import new_id
from parvis.jobs.http import HttpClient
from parvis.jobs.registry import OUTBOUND, RETRIES
from parvis.jobs.runtime import Runtime, run_job
from parvis.services import domain_policy, remote_actors, remote_media
from parvis.services.fetching import FetchError
from tests.builders import ok
from tests.federation.test_inbox import (
    BASE,
    PUBLIC_IP,
    Fediverse,
    Remote,
    accepted,
    account_id,
    status_id,
)

GPS_IFD = 0x8825
PHOTO = "https://files.mastodon.example/photos/beach.jpg"


class MediaWorld(Fediverse):
    """The fake fediverse, also serving files by URL; `addresses` says where a host is."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.addresses: dict[str, str] = {}

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        url = str(request.url)
        if url in self.files and url not in self.broken:
            self.requests.append(request)
            data, content_type = self.files[url]
            return httpx2.Response(200, content=data, headers={"Content-Type": content_type})
        return super().__call__(request)

    def got(self, url: str) -> int:
        return sum(1 for r in self.requests if str(r.url) == url)


@pytest.fixture
def world(parvis: Parvis) -> Iterator[MediaWorld]:
    fake = MediaWorld()
    client = HttpClient(
        parvis.settings,
        transport=httpx2.MockTransport(fake),
        resolver=lambda host, port: [fake.addresses.get(host, PUBLIC_IP)],
    )
    parvis.runtime.http = client
    yield fake
    client.close()


def photo(size: tuple[int, int] = (64, 48), *, noise: bool = False, secret: str = "") -> bytes:
    """A JPEG whose EXIF names the camera and says where it was taken (GPS IFD)."""
    if noise:
        rng = random.Random(7)
        im = Image.frombytes(
            "RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3))
        )
    else:
        im = Image.linear_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x010E] = secret or "holiday"  # ImageDescription
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, comment=(secret or "a comment").encode())
    return out.getvalue()


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every JPEG segment before the image data."""
    assert data[:2] == b"\xff\xd8"
    found, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF
        marker = data[at + 1]
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        found.append((marker, data[at + 4 : at + 2 + length]))
        at += 2 + length
    return found


def assert_no_metadata(data: bytes, *secrets: str) -> None:
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    assert len(exif) == 0 and len(exif.get_ifd(GPS_IFD)) == 0
    assert not any(k in image.info for k in ("exif", "xmp", "icc_profile", "comment"))
    assert b"Exif\x00\x00" not in data and b"SecretCam" not in data
    for secret in secrets:
        assert secret.encode() not in data
    if data[:2] == b"\xff\xd8":
        markers = {marker for marker, _ in jpeg_segments(data)}
        assert not markers & {0xE1, 0xE2, 0xED, 0xFE}  # APP1 (EXIF/XMP), APP2, APP13, COM


def attachment(url: str, media_type: str = "image/jpeg", **extra: Any) -> dict[str, Any]:
    return {
        "type": "Document",
        "mediaType": media_type,
        "url": url,
        "name": "The beach",
        "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
        "width": 64,
        "height": 48,
        **extra,
    }


def remote_post(
    client: TestClient, parvis: Parvis, who: Remote, *attachments: dict[str, Any]
) -> dict[str, Any]:
    note = who.note("<p>look</p>", attachment=list(attachments))
    accepted(client, who, who.create(note))
    return dict(ok(client.get(f"/api/v1/statuses/{status_id(parvis, note['id'])}")))


def served(client: TestClient, url: str) -> bytes:
    assert url.startswith(f"{BASE}/media/"), url
    r = client.get(url.removeprefix(BASE))
    assert r.status_code == 200
    return r.content


def stored_files(parvis: Parvis) -> list[Path]:
    root = parvis.settings.media_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def media_row(parvis: Parvis, media_id: int) -> Any:
    return parvis.runtime.read(lambda w: w.store.media.get(media_id))


def remote_row(parvis: Parvis, world: MediaWorld, url: str) -> int:
    """An attachment row of alice@mastodon.example for `url`, as inbound posts store them
    (for the property tests, which run many examples on one app)."""
    uri = "https://mastodon.example/users/alice"
    if uri not in world.docs:
        world.remote("alice")
    alice = remote_actors.fetch_actor(parvis.runtime, uri)
    media_id = new_id()
    parvis.runtime.write(
        lambda w: w.store.media.insert(
            {
                "id": media_id,
                "account_id": alice.id,
                "type": "image",
                "state": "ready",
                "remote_url": url,
                "created_at": w.now(),
            }
        )
    )
    return media_id


# --- attachments ----------------------------------------------------------------------------


def test_a_remote_photo_is_cached_without_its_metadata(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    original = photo()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(GPS_IFD)[1] == "N" and b"Exif\x00\x00" in original
    world.files[PHOTO] = (original, "image/jpeg")
    alice = world.remote("alice")

    status = remote_post(client, parvis, alice, attachment(PHOTO))

    (media,) = status["media_attachments"]
    assert media["type"] == "image" and media["remote_url"] == PHOTO
    assert media["description"] == "The beach"
    assert media["blurhash"] and media["blurhash"] != "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH"
    assert media["meta"]["original"]["size"] == "64x48" and "small" in media["meta"]
    cached = served(client, media["url"])
    assert_no_metadata(cached)
    assert Image.open(io.BytesIO(cached)).size == (64, 48)
    assert_no_metadata(served(client, media["preview_url"]))
    assert world.got(PHOTO) == 1
    row = media_row(parvis, int(media["id"]))
    assert row.error is None and row.mime == "image/jpeg"


def test_video_and_audio_stay_links_to_their_server(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    alice = world.remote("alice")
    clip = "https://files.mastodon.example/clip.mp4"
    song = "https://files.mastodon.example/song.ogg"
    world.files[clip] = (b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    status = remote_post(
        client, parvis, alice, attachment(clip, "video/mp4"), attachment(song, "audio/ogg")
    )
    video, audio = status["media_attachments"]
    assert (video["type"], video["url"], video["preview_url"]) == ("video", clip, clip)
    assert (audio["type"], audio["url"]) == ("audio", song)
    assert world.got(clip) == world.got(song) == 0 and stored_files(parvis) == []


def test_a_file_that_is_no_image_stays_a_link(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    world.files[PHOTO] = (b"<html>surprise</html>", "image/jpeg")
    status = remote_post(client, parvis, world.remote("alice"), attachment(PHOTO))
    (media,) = status["media_attachments"]
    assert media["url"] == media["preview_url"] == PHOTO
    assert "not a supported image" in media_row(parvis, int(media["id"])).error
    assert stored_files(parvis) == []


@pytest.mark.parametrize("parvis", [{"federation_max_media": 8192}], indirect=True)
def test_an_oversized_remote_file_is_refused(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    big = photo((200, 200), noise=True)
    assert len(big) > 8192
    world.files[PHOTO] = (big, "image/jpeg")
    status = remote_post(client, parvis, world.remote("alice"), attachment(PHOTO))
    (media,) = status["media_attachments"]
    assert media["url"] == media["preview_url"] == media["remote_url"] == PHOTO
    assert media["blurhash"] == "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH"  # the sender's, kept
    assert "over 8192 bytes" in media_row(parvis, int(media["id"])).error
    assert stored_files(parvis) == []


def test_a_host_resolving_to_a_private_address_is_never_fetched(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    inside = "https://intranet.example/admin/secret.jpg"
    world.addresses["intranet.example"] = "10.0.0.5"
    world.files[inside] = (photo(), "image/jpeg")
    status = remote_post(client, parvis, world.remote("alice"), attachment(inside))
    (media,) = status["media_attachments"]
    assert media["url"] == inside  # kept as the link it was: this server never went there
    assert world.got(inside) == 0
    assert "non-public address" in media_row(parvis, int(media["id"])).error
    assert stored_files(parvis) == []


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    address=st.one_of(
        st.ip_addresses(network="10.0.0.0/8"),
        st.ip_addresses(network="127.0.0.0/8"),
        st.ip_addresses(network="169.254.0.0/16"),
        st.ip_addresses(network="172.16.0.0/12"),
        st.ip_addresses(network="192.168.0.0/16"),
        st.ip_addresses(network="::1/128"),
        st.ip_addresses(network="fc00::/7"),
        st.ip_addresses(network="fe80::/10"),
    )
)
def test_no_private_address_is_fetched_whatever_it_is(
    parvis: Parvis, world: MediaWorld, address: Any
) -> None:
    world.addresses["internal.example"] = str(address)
    url = f"https://internal.example/{new_id()}.jpg"
    world.files[url] = (photo(), "image/jpeg")
    media_id = remote_row(parvis, world, url)
    outcome = run_job(parvis.runtime, "cache_remote_media", {"media_id": media_id})
    assert outcome.startswith("failed:") and "non-public" in outcome
    assert world.got(url) == 0 and media_row(parvis, media_id).file_key is None


def test_reject_media_means_nothing_downloaded(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    world.files[PHOTO] = (photo(), "image/jpeg")
    parvis.runtime.write(
        lambda w: domain_policy.block(w, "mastodon.example", "noop", reject_media=True)
    )
    status = remote_post(client, parvis, world.remote("alice"), attachment(PHOTO))
    assert status["media_attachments"] == []  # no attachment kept at all

    # Files on a host whose domain rejects media, for an account of an open domain.
    cdn = "https://media.cdn.example/beach.jpg"
    world.files[cdn] = (photo(), "image/jpeg")
    parvis.runtime.write(lambda w: domain_policy.block(w, "cdn.example", "noop", reject_media=True))
    status = remote_post(
        client, parvis, world.remote("bob", host="pleroma.example"), attachment(cdn)
    )
    (media,) = status["media_attachments"]
    assert media["url"] == cdn
    assert world.got(PHOTO) == world.got(cdn) == 0 and stored_files(parvis) == []
    outcome = run_job(parvis.runtime, "cache_remote_media", {"media_id": int(media["id"])})
    assert outcome == "skipped: media from cdn.example are rejected"


def test_a_block_made_before_the_download_stops_it(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    world.broken[PHOTO] = 404  # the first try fails for good
    status = remote_post(client, parvis, world.remote("alice"), attachment(PHOTO))
    media_id = int(status["media_attachments"][0]["id"])
    assert world.got(PHOTO) == 1
    del world.broken[PHOTO]
    world.requests.clear()
    world.files[PHOTO] = (photo(), "image/jpeg")
    parvis.runtime.write(
        lambda w: domain_policy.block(w, "mastodon.example", "limit", reject_media=True)
    )
    outcome = run_job(parvis.runtime, "cache_remote_media", {"media_id": media_id})
    assert outcome == "skipped: media from mastodon.example are rejected"
    assert world.got(PHOTO) == 0 and stored_files(parvis) == []


def test_transient_failures_are_retried_by_the_queue_and_only_there(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    world.files[PHOTO] = (photo(), "image/jpeg")
    world.broken[PHOTO] = 503
    status = remote_post(client, parvis, world.remote("alice"), attachment(PHOTO))
    (media,) = status["media_attachments"]
    media_id = int(media["id"])
    assert media["url"] == PHOTO and "503" in media_row(parvis, media_id).error
    assert "cache_remote_media" in OUTBOUND and 0 < RETRIES["cache_remote_media"] <= 5

    # A queue that retries (Huey): the job raises a transient failure for it to retry...
    rt = parvis.runtime
    queued = Runtime(
        stores=rt.stores,
        settings=parvis.settings.model_copy(update={"jobs_immediate": False}),
        files=rt.files,
        queue=rt.queue,
        http=rt.http,
    )
    with pytest.raises(FetchError, match="503") as raised:
        run_job(queued, "cache_remote_media", {"media_id": media_id})
    assert not raised.value.permanent
    # ...but not a permanent one,
    world.broken[PHOTO] = 410
    assert run_job(queued, "cache_remote_media", {"media_id": media_id}).startswith("failed:")
    # and a retry once the server is back caches the file.
    del world.broken[PHOTO]
    assert run_job(queued, "cache_remote_media", {"media_id": media_id}) == "cached"
    assert run_job(queued, "cache_remote_media", {"media_id": media_id}) == (
        "skipped: nothing to download"
    )
    again = ok(client.get(f"/api/v1/statuses/{status['id']}"))["media_attachments"][0]
    assert_no_metadata(served(client, again["url"]))
    assert media_row(parvis, media_id).error is None


def test_an_edit_keeps_cached_files_and_drops_replaced_ones(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    world.files[PHOTO] = (photo(), "image/jpeg")
    alice = world.remote("alice")
    note = alice.note("<p>look</p>", attachment=[attachment(PHOTO)])
    accepted(client, alice, alice.create(note))
    sid = status_id(parvis, note["id"])
    (first,) = ok(client.get(f"/api/v1/statuses/{sid}"))["media_attachments"]
    old_files = stored_files(parvis)
    assert len(old_files) == 2  # the file and its thumbnail

    # Text and alt text edited, same file: kept as cached, not downloaded again.
    note.update(content="<p>look again</p>", attachment=[attachment(PHOTO, name="Sand")])
    accepted(client, alice, alice.activity("Update", note))
    (same,) = ok(client.get(f"/api/v1/statuses/{sid}"))["media_attachments"]
    assert (same["id"], same["url"], same["description"]) == (first["id"], first["url"], "Sand")
    assert world.got(PHOTO) == 1 and stored_files(parvis) == old_files

    # Another file: cached in turn, the old files gone.
    other = "https://files.mastodon.example/photos/dunes.jpg"
    world.files[other] = (photo((32, 32)), "image/jpeg")
    note.update(attachment=[attachment(other)])
    accepted(client, alice, alice.activity("Update", note))
    (new,) = ok(client.get(f"/api/v1/statuses/{sid}"))["media_attachments"]
    assert new["remote_url"] == other and new["url"].startswith(f"{BASE}/media/")
    assert_no_metadata(served(client, new["url"]))
    remaining = stored_files(parvis)
    assert len(remaining) == 2 and not set(remaining) & set(old_files)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=12, max_size=40),
    kind=st.sampled_from(["jpeg", "png"]),
)
def test_no_metadata_survives_whatever_it_says(
    parvis: Parvis, world: MediaWorld, secret: str, kind: str
) -> None:
    """EXIF (with GPS), comments, XMP and PNG text chunks carrying a secret: none of it in the
    cached file."""
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:li>{secret}</rdf:li></x:xmpmeta>'
    if kind == "jpeg":
        data = photo(secret=secret)
        out = io.BytesIO()
        Image.open(io.BytesIO(data)).save(
            out,
            "JPEG",
            exif=Image.open(io.BytesIO(data)).getexif(),
            xmp=xmp.encode(),
            comment=secret.encode(),
        )
        data = out.getvalue()
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", secret)
        info.add_itxt("XML:com.adobe.xmp", xmp)
        exif = Image.Exif()
        exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 30.0)}
        exif[0x010E] = secret
        out = io.BytesIO()
        Image.linear_gradient("L").resize((40, 30)).save(out, "PNG", pnginfo=info, exif=exif)
        data = out.getvalue()
    assert secret.encode() in data
    url = f"https://files.mastodon.example/{new_id()}.{kind}"
    world.files[url] = (data, f"image/{kind}")
    media_id = remote_row(parvis, world, url)
    assert run_job(parvis.runtime, "cache_remote_media", {"media_id": media_id}) == "cached"
    row = media_row(parvis, media_id)
    for key in (row.file_key, row.thumb_key):
        assert_no_metadata(parvis.runtime.files.get(key), secret)


# --- avatars and headers ------------------------------------------------------------------


def store_with_images(parvis: Parvis, who: Remote, avatar: str | None, header: str | None) -> int:
    """Publish the actor with this icon and image, fetch it, and store its images (what
    `remote_actors.store_actor` asks for)."""
    doc = who.document()
    if avatar:
        doc["icon"] = {"type": "Image", "mediaType": "image/jpeg", "url": avatar}
    if header:
        doc["image"] = {"type": "Image", "mediaType": "image/jpeg", "url": header}
    who.world.docs[who.uri] = doc
    account = remote_actors.fetch_actor(parvis.runtime, who.uri, refresh=True)
    actor = parse.actor(doc)
    parvis.runtime.write(
        lambda w: remote_media.profile_images(w, account.id, actor.avatar_url, actor.header_url)
    )
    return account.id


def test_remote_avatars_and_headers_are_cached_like_uploads(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    face = "https://files.mastodon.example/avatars/alice.jpg"
    banner = "https://files.mastodon.example/headers/alice.jpg"
    world.files[face] = (photo((96, 96)), "image/jpeg")
    world.files[banner] = (photo((300, 100)), "image/jpeg")
    alice = world.remote("alice")
    aid = store_with_images(parvis, alice, face, banner)
    assert aid == account_id(parvis, alice.uri)

    account = ok(client.get(f"/api/v1/accounts/{aid}"))
    assert_no_metadata(served(client, account["avatar"]))
    assert_no_metadata(served(client, account["header"]))
    assert account["avatar_static"] == account["avatar"]
    first_avatar = parvis.settings.media_dir / account["avatar"].removeprefix(f"{BASE}/media/")
    assert first_avatar.exists()

    # Stored again unchanged: nothing downloaded again.
    store_with_images(parvis, alice, face, banner)
    assert world.got(face) == world.got(banner) == 1

    # A new avatar replaces the old one (whose file goes); a removed header goes.
    face2 = "https://files.mastodon.example/avatars/alice-2.jpg"
    world.files[face2] = (photo((50, 50)), "image/jpeg")
    store_with_images(parvis, alice, face2, None)
    account = ok(client.get(f"/api/v1/accounts/{aid}"))
    assert Image.open(io.BytesIO(served(client, account["avatar"]))).size == (50, 50)
    assert not first_avatar.exists()
    assert "/media/" not in account["header"]  # the default header
    assert len(stored_files(parvis)) == 2  # the new avatar and its thumbnail


def test_remote_avatars_follow_the_domain_policy(
    client: TestClient, parvis: Parvis, world: MediaWorld
) -> None:
    face = "https://files.mastodon.example/avatars/alice.jpg"
    world.files[face] = (photo(), "image/jpeg")
    alice = world.remote("alice")
    aid = store_with_images(parvis, alice, face, None)
    assert "/media/" in ok(client.get(f"/api/v1/accounts/{aid}"))["avatar"]

    parvis.runtime.write(
        lambda w: domain_policy.block(w, "mastodon.example", "noop", reject_media=True)
    )
    store_with_images(parvis, alice, face, None)
    assert "/media/" not in ok(client.get(f"/api/v1/accounts/{aid}"))["avatar"]
    assert stored_files(parvis) == []

    eve = world.remote("eve")
    eve_face = "https://files.mastodon.example/avatars/eve.jpg"
    world.files[eve_face] = (photo(), "image/jpeg")
    store_with_images(parvis, eve, eve_face, None)
    assert world.got(eve_face) == 0 and stored_files(parvis) == []
