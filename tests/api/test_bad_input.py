"""Bad input through the real HTTP API: malformed bodies, invalid values, unknown ids, bad paging
parameters, bad tokens and bad media. Every answer is a 4xx with a JSON `error` message, never
a 5xx, and nothing is created by a refused request. Random bodies are fuzzed with Hypothesis."""

from __future__ import annotations

import gc
import io
import random
import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import accounts as account_service
from parvis.services.oauth import digest
from parvis.storage.tables import media_attachments, oauth_tokens, statuses
from tests.builders import User, make_app, make_user

PASSWORD = "correct horse battery"


def assert_error(r: Any, status: int | None = None) -> str:
    """A client error with a JSON body carrying a non-empty `error` message."""
    assert r.status_code < 500, r.text
    if status is not None:
        assert r.status_code == status, r.text
    else:
        assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    message = r.json()["error"]
    assert isinstance(message, str) and message.strip()
    return message


def statuses_count(client: TestClient, user: User) -> int:
    return int(client.get(f"/api/v1/accounts/{user.id}").json()["statuses_count"])


def status_rows(parvis: Parvis) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(statuses)).scalar_one())


def media_rows(parvis: Parvis) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(media_attachments)).scalar_one())


def media_files(parvis: Parvis) -> list[str]:
    root = parvis.settings.media_dir
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def user_token(client: TestClient, user: User, scope: str) -> str:
    """A password-grant token for `user` with exactly `scope`."""
    app = make_app(client, "read write follow")
    r = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": user.username,
            "password": PASSWORD,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scope,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- malformed bodies -------------------------------------------------------------------------


def test_malformed_json_body(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    for raw in (b'{"status": ', b"{", b"nul", b'{"status": "x",}', b"\xff\xfe"):
        r = client.post(
            "/api/v1/statuses",
            content=raw,
            headers={**me.headers, "Content-Type": "application/json"},
        )
        assert_error(r, 400)
    assert status_rows(parvis) == 0


def test_json_body_that_is_not_an_object(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    for raw in (b'[{"status": "in a list"}]', b'"a string"', b"42", b"null", b"true"):
        r = client.post(
            "/api/v1/statuses",
            content=raw,
            headers={**me.headers, "Content-Type": "application/json"},
        )
        assert "object" in assert_error(r, 422)
    assert status_rows(parvis) == 0


def test_wrong_content_type(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    for ctype, raw in (
        ("text/plain", b"status=hello"),
        ("application/xml", b"<status>hi</status>"),
        ("application/octet-stream", b'{"status": "hi"}'),
    ):
        r = client.post(
            "/api/v1/statuses", content=raw, headers={**me.headers, "Content-Type": ctype}
        )
        assert_error(r)
    assert status_rows(parvis) == 0 and statuses_count(client, me) == 0


def test_form_with_invalid_booleans(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    other = make_user(client)
    for value in ("maybe", "yes please", "2"):
        assert "sensitive" in assert_error(
            me.post("/api/v1/statuses", data={"status": "hi", "sensitive": value}), 422
        )
        assert "reblogs" in assert_error(
            me.post(f"/api/v1/accounts/{other.id}/follow", data={"reblogs": value}), 422
        )
        assert "locked" in assert_error(
            me.patch("/api/v1/accounts/update_credentials", data={"locked": value}), 422
        )
    assert_error(me.post("/api/v1/statuses", json={"status": "hi", "sensitive": [True]}), 422)
    assert status_rows(parvis) == 0
    assert client.get(f"/api/v1/accounts/{other.id}").json()["followers_count"] == 0
    assert client.get(f"/api/v1/accounts/{me.id}").json()["locked"] is False


def test_malformed_multipart_body(client: TestClient) -> None:
    me = make_user(client)
    r = client.post(
        "/api/v1/statuses",
        content=b"--xyz\r\nContent-Disposition: form-data\r\n",
        headers={**me.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert_error(r)


# --- invalid statuses -------------------------------------------------------------------------


def test_oversized_status_is_refused_and_nothing_changes(
    client: TestClient, parvis: Parvis
) -> None:
    me, fan = make_user(client), make_user(client)
    fan.post(f"/api/v1/accounts/{me.id}/follow")
    kept = me.status("a short one")
    limit = parvis.settings.max_status_chars
    before_home = fan.get("/api/v1/timelines/home").json()
    before_own = client.get(f"/api/v1/accounts/{me.id}/statuses").json()

    for text, extra in (
        ("x" * (limit + 1), {}),
        ("é" * (limit + 1), {}),
        ("x" * (limit - 2), {"spoiler_text": "abc"}),
    ):
        message = assert_error(me.post("/api/v1/statuses", json={"status": text, **extra}), 422)
        assert str(limit) in message

    assert statuses_count(client, me) == 1
    assert fan.get("/api/v1/timelines/home").json() == before_home
    assert client.get(f"/api/v1/accounts/{me.id}/statuses").json() == before_own
    assert [s["id"] for s in before_own] == [kept["id"]]
    # Exactly at the limit is fine.
    assert me.post("/api/v1/statuses", json={"status": "y" * limit}).status_code == 200
    assert statuses_count(client, me) == 2


def test_empty_status_unknown_visibility_and_other_invalid_fields(
    client: TestClient, parvis: Parvis
) -> None:
    me = make_user(client)
    for body in ({"status": ""}, {"status": "   \n\t "}, {}, {"spoiler_text": "cw only"}):
        assert "blank" in assert_error(me.post("/api/v1/statuses", json=body), 422)
    for vis in ("everyone", "PUBLIC", "followers", "limited"):
        assert "visibility" in assert_error(
            me.post("/api/v1/statuses", json={"status": "x", "visibility": vis}), 422
        )
    assert "media_ids" in assert_error(
        me.post("/api/v1/statuses", json={"status": "x", "media_ids": ["123456789"]}), 422
    )
    assert "media_ids" in assert_error(
        me.post("/api/v1/statuses", json={"status": "x", "media_ids": ["not-an-id"]}), 422
    )
    assert_error(me.post("/api/v1/statuses", json={"status": "x", "media_ids": "12"}), 422)
    assert "scheduled_at" in assert_error(
        me.post("/api/v1/statuses", json={"status": "x", "scheduled_at": "2000-01-01T00:00:00Z"}),
        422,
    )  # in the past
    assert "scheduled_at" in assert_error(
        me.post("/api/v1/statuses", json={"status": "x", "scheduled_at": "next tuesday"}), 422
    )
    assert_error(me.post("/api/v1/statuses", json={"status": "x", "language": "english"}), 422)
    assert_error(me.post("/api/v1/statuses", json={"status": "x", "in_reply_to_id": "999999"}), 404)
    assert_error(me.post("/api/v1/statuses", json={"status": "x", "in_reply_to_id": "abc"}), 422)
    assert status_rows(parvis) == 0 and statuses_count(client, me) == 0


def test_someone_elses_media_cannot_be_attached(client: TestClient, parvis: Parvis) -> None:
    me, other = make_user(client), make_user(client)
    png = _png(8, 8)
    theirs = other.post("/api/v2/media", files={"file": ("a.png", png, "image/png")})
    assert theirs.status_code == 200, theirs.text
    assert_error(
        me.post("/api/v1/statuses", json={"status": "x", "media_ids": [theirs.json()["id"]]}), 422
    )
    assert_error(me.get(f"/api/v1/media/{theirs.json()['id']}"), 404)
    assert status_rows(parvis) == 0


# --- unknown and malformed ids ------------------------------------------------------------------

UNKNOWN = "123456789012345"
MALFORMED = ("abc", "-1", "0", "1.5", "1e5", "99999999999999999999", "%20", "١٢")


def test_unknown_ids_are_not_found(client: TestClient) -> None:
    me = make_user(client)
    for bad in (UNKNOWN, *MALFORMED):
        for method, path in (
            ("GET", f"/api/v1/statuses/{bad}"),
            ("GET", f"/api/v1/statuses/{bad}/context"),
            ("GET", f"/api/v1/statuses/{bad}/favourited_by"),
            ("DELETE", f"/api/v1/statuses/{bad}"),
            ("POST", f"/api/v1/statuses/{bad}/favourite"),
            ("POST", f"/api/v1/statuses/{bad}/reblog"),
            ("POST", f"/api/v1/statuses/{bad}/bookmark"),
            ("POST", f"/api/v1/statuses/{bad}/pin"),
            ("GET", f"/api/v1/accounts/{bad}"),
            ("GET", f"/api/v1/accounts/{bad}/statuses"),
            ("GET", f"/api/v1/accounts/{bad}/followers"),
            ("POST", f"/api/v1/accounts/{bad}/follow"),
            ("POST", f"/api/v1/accounts/{bad}/block"),
            ("GET", f"/api/v1/media/{bad}"),
            ("GET", f"/api/v1/notifications/{bad}"),
            ("POST", f"/api/v1/notifications/{bad}/dismiss"),
            ("POST", f"/api/v1/follow_requests/{bad}/authorize"),
        ):
            r = client.request(method, path, headers=me.headers)
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert_error(r, 404)


def test_bad_paging_parameters(client: TestClient) -> None:
    me = make_user(client)
    for path in (
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        f"/api/v1/accounts/{me.id}/statuses",
        f"/api/v1/accounts/{me.id}/followers",
        "/api/v1/timelines/tag/x",
        "/api/v1/bookmarks",
        "/api/v1/notifications",
    ):
        for params in (
            {"limit": "abc"},
            {"limit": "0"},
            {"limit": "-3"},
            {"limit": "1.5"},
            {"max_id": "xyz"},
            {"since_id": "1e5"},
            {"min_id": "-1"},
        ):
            r = me.get(path, params=params)
            assert r.status_code == 422, (path, params, r.text)
            assert_error(r, 422)
        assert me.get(path, params={"limit": "5", "max_id": UNKNOWN}).status_code == 200


def test_ids_made_of_non_ascii_digits(client: TestClient, parvis: Parvis) -> None:
    """`"²".isdigit()` is true but `int("²")` fails: such ids are malformed, not a crash."""
    me = make_user(client)
    for bad in ("²", "1²", "³³"):
        assert_error(client.get(f"/api/v1/statuses/{bad}"), 404)
        assert_error(client.get(f"/api/v1/accounts/{bad}"), 404)
        assert_error(me.get("/api/v1/timelines/home", params={"max_id": bad}), 422)
        assert_error(me.get("/api/v1/statuses", params={"id[]": bad}), 422)
        assert_error(me.post("/api/v1/statuses", json={"status": "x", "media_ids": [bad]}), 422)
    assert status_rows(parvis) == 0


# --- tokens -------------------------------------------------------------------------------------


def test_no_token_on_authenticated_endpoints(client: TestClient) -> None:
    other = make_user(client)
    for method, path in (
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("GET", "/api/v1/timelines/home"),
        ("POST", "/api/v1/statuses"),
        ("POST", f"/api/v1/accounts/{other.id}/follow"),
        ("PATCH", "/api/v1/accounts/update_credentials"),
        ("GET", "/api/v1/bookmarks"),
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v2/media"),
        ("GET", "/api/v1/blocks"),
    ):
        r = client.request(method, path)
        assert r.status_code == 401, (path, r.text)
        assert_error(r, 401)
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token abc"):
        r = client.get("/api/v1/accounts/verify_credentials", headers={"Authorization": header})
        assert_error(r, 401)


def test_expired_token(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    assert me.get("/api/v1/accounts/verify_credentials").status_code == 200
    with parvis.runtime.stores.write() as store:
        store.conn.execute(
            update(oauth_tokens)
            .where(oauth_tokens.c.token_hash == digest(me.token))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert "expired" in assert_error(me.get("/api/v1/accounts/verify_credentials"), 401)
    assert_error(me.post("/api/v1/statuses", json={"status": "x"}), 401)
    # Anonymous-capable endpoints refuse a bad token too, rather than ignore it.
    assert_error(me.get("/api/v1/timelines/public"), 401)
    assert statuses_count(client, me) == 0


def test_revoked_token(client: TestClient) -> None:
    user = make_user(client)
    app = make_app(client, "read write follow")
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": user.username,
            "password": PASSWORD,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    ).json()["access_token"]
    assert client.get("/api/v1/timelines/home", headers=bearer(token)).status_code == 200
    r = client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert r.status_code == 200
    assert_error(client.get("/api/v1/timelines/home", headers=bearer(token)), 401)
    assert user.get("/api/v1/timelines/home").status_code == 200  # other tokens still work


def test_wrong_scope_token(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    read_only = user_token(client, me, "read")
    r = client.post("/api/v1/statuses", json={"status": "x"}, headers=bearer(read_only))
    assert "write:statuses" in assert_error(r, 403)
    r = client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "x"}, headers=bearer(read_only)
    )
    assert "write:accounts" in assert_error(r, 403)
    assert client.get("/api/v1/timelines/home", headers=bearer(read_only)).status_code == 200
    write_only = user_token(client, me, "write")
    r = client.get("/api/v1/timelines/home", headers=bearer(write_only))
    assert "read:statuses" in assert_error(r, 403)
    assert status_rows(parvis) == 0


def test_token_of_a_suspended_or_disabled_user(client: TestClient, parvis: Parvis) -> None:
    suspended, disabled = make_user(client), make_user(client)
    with parvis.runtime.stores.write() as store:
        store.accounts.update(int(suspended.id), {"suspended_at": datetime.now(UTC)})
        store.accounts.update_user(int(disabled.id), {"disabled": True})
    for user in (suspended, disabled):
        assert_error(user.get("/api/v1/accounts/verify_credentials"), 403)
        assert_error(user.post("/api/v1/statuses", json={"status": "x"}), 403)
    assert status_rows(parvis) == 0


def test_suspension_through_the_service_revokes_tokens(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    parvis.runtime.write(lambda work: account_service.set_suspended(work, int(me.id), True))
    assert_error(me.get("/api/v1/accounts/verify_credentials"), 401)
    assert_error(client.get(f"/api/v1/accounts/{me.id}"), 404)


def test_client_credentials_token_on_a_user_endpoint(client: TestClient, parvis: Parvis) -> None:
    app = make_app(client)
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    ).json()["access_token"]
    for method, path in (
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("POST", "/api/v1/statuses"),
        ("GET", "/api/v1/timelines/home"),
    ):
        assert_error(client.request(method, path, headers=bearer(token)))
    assert status_rows(parvis) == 0


# --- bad media --------------------------------------------------------------------------------


def _encode(im: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


def _png(width: int, height: int) -> bytes:
    return _encode(Image.new("RGB", (width, height), "teal"), "PNG")


def _bomb_png() -> bytes:
    """A 1x1 PNG whose header claims 50000x50000 pixels (CRC fixed, so it parses)."""
    png = bytearray(_png(1, 1))
    assert png[12:16] == b"IHDR"
    png[16:24] = struct.pack(">II", 50_000, 50_000)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


def _truncated_jpeg() -> bytes:
    noise = Image.frombytes("RGB", (96, 64), random.Random(7).randbytes(96 * 64 * 3))
    data = _encode(noise, "JPEG")
    return data[: len(data) // 2]


BAD_MEDIA = [
    ("truncated.jpg", _truncated_jpeg(), "image/jpeg"),
    ("bomb.png", _bomb_png(), "image/png"),
    (
        "page.jpg",
        b"<!doctype html><html><body><script>alert(1)</script></body></html>",
        "image/jpeg",
    ),
    (
        "vector.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
        "image/svg+xml",
    ),
    ("empty.png", b"", "image/png"),
]


@pytest.mark.parametrize(("name", "data", "ctype"), BAD_MEDIA, ids=[m[0] for m in BAD_MEDIA])
def test_bad_media_is_refused_and_nothing_is_stored(
    client: TestClient, parvis: Parvis, name: str, data: bytes, ctype: str
) -> None:
    me = make_user(client)
    for path in ("/api/v2/media", "/api/v1/media"):
        assert_error(me.post(path, files={"file": (name, data, ctype)}), 422)
    assert media_rows(parvis) == 0
    assert media_files(parvis) == []
    # The same account can still upload a real image: the refusal was about the file.
    good = me.post("/api/v2/media", files={"file": ("ok.png", _png(16, 9), "image/png")})
    assert good.status_code == 200, good.text
    assert media_rows(parvis) == 1 and len(media_files(parvis)) == 2  # image and thumbnail


@pytest.mark.parametrize(("name", "data", "ctype"), BAD_MEDIA, ids=[m[0] for m in BAD_MEDIA])
def test_bad_avatar_or_header_is_refused_and_nothing_is_stored(
    client: TestClient, parvis: Parvis, name: str, data: bytes, ctype: str
) -> None:
    me = make_user(client)
    before = me.get("/api/v1/accounts/verify_credentials").json()
    for slot in ("avatar", "header"):
        assert_error(
            me.patch("/api/v1/accounts/update_credentials", files={slot: (name, data, ctype)}), 422
        )
    assert media_rows(parvis) == 0
    assert media_files(parvis) == []
    after = me.get("/api/v1/accounts/verify_credentials").json()
    assert (after["avatar"], after["header"]) == (before["avatar"], before["header"])
    gc.collect()  # an upload left open would warn here (and fail this test), not elsewhere


def test_uploaded_files_are_closed_after_the_request(client: TestClient) -> None:
    """Every uploaded file is closed once the request is answered, whatever the endpoint did
    with it (an open SpooledTemporaryFile leaks a descriptor until garbage collection)."""
    me = make_user(client)
    r = me.patch(
        "/api/v1/accounts/update_credentials", files={"avatar": ("a.png", _png(8, 8), "image/png")}
    )
    assert r.status_code == 200, r.text
    r = me.post(
        "/api/v1/statuses",
        data={"status": "with a stray file"},
        files={"stray": ("x.bin", b"stray bytes", "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    gc.collect()


def test_media_upload_without_a_file(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    assert_error(me.post("/api/v2/media", data={"description": "no file"}), 422)
    assert_error(me.post("/api/v2/media", data={"file": "not a file"}), 422)
    assert_error(me.post("/api/v2/media", json={"file": "aGVsbG8="}), 422)
    assert_error(me.patch("/api/v1/accounts/update_credentials", data={"avatar": "x"}), 422)
    assert media_rows(parvis) == 0


# --- fields that once broke the server --------------------------------------------------------


def test_unparseable_redirect_uri_or_website_is_refused(client: TestClient) -> None:
    for field, value in (
        ("redirect_uris", "http://["),
        ("redirect_uris", "https://[::1"),
        ("website", "http://["),
    ):
        data = {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", field: value}
        assert_error(client.post("/api/v1/apps", data=data), 422)


def test_profile_field_with_a_non_ascii_digit_index(client: TestClient) -> None:
    me = make_user(client)
    r = me.patch(
        "/api/v1/accounts/update_credentials",
        data={"fields_attributes[²][name]": "a", "fields_attributes[²][value]": "b"},
    )
    assert r.status_code < 500, r.text


def test_nul_characters_are_refused_or_stored_safely(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    for r in (
        me.post("/api/v1/statuses", json={"status": "nul \x00 inside"}),
        me.post("/api/v1/statuses", json={"status": "x", "spoiler_text": "\x00"}),
        me.patch("/api/v1/accounts/update_credentials", data={"display_name": "a\x00b"}),
        me.post(f"/api/v1/accounts/{other.id}/follow", json={"languages": ["e\x00"]}),
        client.post(
            "/api/v1/apps",
            data={"client_name": "a\x00b", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        ),
        client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "\x00", "client_secret": "x"},
        ),
        client.get("/api/v1/timelines/tag/a%00b"),
        client.get("/api/v1/accounts/lookup", params={"acct": "a\x00b"}),
        me.get(f"/api/v1/accounts/{me.id}/statuses", params={"tagged": "a\x00"}),
        me.get("/api/v1/notifications", params={"types[]": "mention\x00"}),
    ):
        assert r.status_code < 500, r.text
        if r.status_code >= 400:
            assert_error(r)


# --- fuzzing: random bodies never cause a server error ---------------------------------------

INTERESTING = [
    "",
    " ",
    "\x00",
    "²",
    "-1",
    "0",
    "1",
    "9" * 25,
    "true",
    "false",
    "null",
    "[]",
    "public",
    "direct",
    "read",
    "write",
    "read write follow",
    "http://[",
    "https://example.org/cb",
    "urn:ietf:wg:oauth:2.0:oob",
    "é" * 43,
    "authorization_code",
    "password",
    "client_credentials",
    "@someone",
    "#tag",
]
TEXT = st.one_of(
    st.sampled_from(INTERESTING), st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)

FIELDS = {
    "statuses": [
        "status",
        "media_ids",
        "media_ids[]",
        "in_reply_to_id",
        "sensitive",
        "spoiler_text",
        "visibility",
        "language",
        "scheduled_at",
    ],
    "follow": ["reblogs", "notify", "languages", "languages[]"],
    "credentials": [
        "display_name",
        "note",
        "locked",
        "bot",
        "discoverable",
        "indexable",
        "hide_collections",
        "fields_attributes[0][name]",
        "fields_attributes[0][value]",
        "fields_attributes[²][name]",
        "fields_attributes",
        "source[privacy]",
        "source[language]",
        "source[sensitive]",
        "source",
    ],
    "apps": ["client_name", "redirect_uris", "redirect_uris[]", "scopes", "website"],
    "token": [
        "grant_type",
        "client_id",
        "client_secret",
        "redirect_uri",
        "scope",
        "code",
        "code_verifier",
        "username",
        "password",
    ],
}


def _bodies(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.one_of(st.sampled_from(FIELDS[kind]), TEXT)
    as_json = st.dictionaries(keys, JSON_VALUES, max_size=6).map(lambda d: {"json": d})
    as_form = st.dictionaries(keys, st.one_of(TEXT, st.lists(TEXT, max_size=3)), max_size=6).map(
        lambda d: {"data": d}
    )
    raw_json = st.one_of(
        JSON_VALUES.map(lambda v: {"json": v}),
        st.binary(max_size=60).map(
            lambda b: {"content": b, "headers": {"Content-Type": "application/json"}}
        ),
    )
    return st.one_of(as_json, as_form, raw_json)


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _actors(client: TestClient) -> tuple[User, User]:
    cached = getattr(client, "_fuzz_actors", None)
    if cached is None:
        cached = client._fuzz_actors = (make_user(client), make_user(client))  # type: ignore[attr-defined]
    return cached


def _send(
    client: TestClient, method: str, path: str, request: dict[str, Any], headers: dict[str, str]
) -> Any:
    extra = request.get("headers", {})
    kw = {k: v for k, v in request.items() if k != "headers"}
    r = client.request(method, path, headers={**headers, **extra}, **kw)
    assert r.status_code < 500, (method, path, request, r.text)
    if r.status_code >= 400:
        assert_error(r)
    return r


@FUZZ
@given(request=_bodies("statuses"))
def test_fuzz_post_status(client: TestClient, request: dict[str, Any]) -> None:
    me, _ = _actors(client)
    _send(client, "POST", "/api/v1/statuses", request, me.headers)


@FUZZ
@given(request=_bodies("follow"))
def test_fuzz_follow(client: TestClient, request: dict[str, Any]) -> None:
    me, other = _actors(client)
    _send(client, "POST", f"/api/v1/accounts/{other.id}/follow", request, me.headers)


@FUZZ
@given(request=_bodies("credentials"))
def test_fuzz_update_credentials(client: TestClient, request: dict[str, Any]) -> None:
    me, _ = _actors(client)
    _send(client, "PATCH", "/api/v1/accounts/update_credentials", request, me.headers)


@FUZZ
@given(request=_bodies("apps"))
def test_fuzz_create_app(client: TestClient, request: dict[str, Any]) -> None:
    _send(client, "POST", "/api/v1/apps", request, {})


@FUZZ
@given(request=_bodies("token"))
def test_fuzz_token(client: TestClient, request: dict[str, Any]) -> None:
    _send(client, "POST", "/oauth/token", request, {})
