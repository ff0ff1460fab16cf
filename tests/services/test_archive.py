"""The ActivityStreams archive in the export (actor.json, outbox.json, the media files) and its
import on another account: posts come back with their date, text, content warning, language,
hashtags, pictures and threads, in their place in time; importing twice adds nothing; boosts
and direct messages stay out; a file that is not an archive is refused."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.errors import Invalid
from parvis.services import archive, export
from tests.builders import User, make_user, ok


def png(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(out, "PNG")
    return out.getvalue()


def exported(parvis: Parvis, user: User, *, with_files: bool = True) -> bytes:
    files = parvis.runtime.files if with_files else None
    return parvis.runtime.read(lambda w: export.build(w, int(user.id), files))


def statuses(user: User, of: User | None = None) -> list[dict[str, Any]]:
    who = of or user
    return list(ok(user.get(f"/api/v1/accounts/{who.id}/statuses", params={"limit": 40})))


def import_into(parvis: Parvis, user: User, blob: bytes) -> archive.ArchiveReport:
    files = parvis.runtime.files
    return parvis.runtime.write(
        lambda w: archive.import_archive(w, files, int(user.id), io.BytesIO(blob))
    )


def upload(user: User, data: bytes, description: str) -> str:
    r = user.post(
        "/api/v2/media",
        files={"file": ("a.png", data, "image/png")},
        data={"description": description},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def test_the_export_holds_the_activitystreams_archive(client: TestClient, parvis: Parvis) -> None:
    alice, friend = make_user(client, "alice"), make_user(client, "friend")
    media_id = upload(alice, png(), "a blue square")
    post = alice.status("Hello #world", media_ids=[media_id], spoiler_text="colours")
    alice.status("a reply", in_reply_to_id=post["id"])
    ok(alice.post(f"/api/v1/statuses/{friend.status('boost me')['id']}/reblog"))
    with zipfile.ZipFile(io.BytesIO(exported(parvis, alice))) as z:
        actor = orjson.loads(z.read("actor.json"))
        outbox = orjson.loads(z.read("outbox.json"))
        names = set(z.namelist())
        assert actor["id"] == "https://parvis.test/users/alice"
        assert actor["type"] == "Person" and actor["outbox"] == "outbox.json"
        assert "privateKey" not in actor and "publicKey" not in actor
        assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 3
        kinds = [item["type"] for item in outbox["orderedItems"]]
        assert kinds == ["Create", "Create", "Announce"]  # oldest first
        note = outbox["orderedItems"][0]["object"]
        assert note["summary"] == "colours" and note["sensitive"] is True
        assert note["source"]["content"] == "Hello #world"
        assert {"type": "Hashtag", "href": "https://parvis.test/tags/world", "name": "#world"} in (
            note["tag"]
        )
        picture = note["attachment"][0]
        assert picture["name"] == "a blue square" and picture["url"].startswith("media/")
        assert picture["url"] in names
        reply = outbox["orderedItems"][1]["object"]
        assert reply["inReplyTo"] == post["uri"]
    # Without the media files (the web page before it passes them), the URLs stay public.
    with zipfile.ZipFile(io.BytesIO(exported(parvis, alice, with_files=False))) as z:
        outbox = orjson.loads(z.read("outbox.json"))
        url = outbox["orderedItems"][0]["object"]["attachment"][0]["url"]
        assert url.startswith("https://parvis.test/media/")
        assert not any(n.startswith("media/") for n in z.namelist())


def test_posts_come_back_on_another_account(client: TestClient, parvis: Parvis) -> None:
    alice, bob, friend = make_user(client, "alice"), make_user(client, "bob"), make_user(client)
    media_id = upload(alice, png(), "a blue square")
    first = alice.status(
        "Bonjour tout le monde #bonjour", media_ids=[media_id], language="fr", spoiler_text="cw"
    )
    reply = alice.status("and a reply to myself", in_reply_to_id=first["id"])
    alice.status("followers only", visibility="private")
    alice.status(f"just for you @{friend.username}", visibility="direct")
    ok(alice.post(f"/api/v1/statuses/{friend.status('boosted')['id']}/reblog"))
    bob.status("bob's own newer post")
    fan = make_user(client)
    ok(fan.post(f"/api/v1/accounts/{bob.id}/follow"))
    home_before = [s["id"] for s in ok(fan.get("/api/v1/timelines/home"))]
    notified_before = ok(friend.get("/api/v1/notifications"))

    report = import_into(parvis, bob, exported(parvis, alice))

    assert (report.posts, report.media, report.already) == (3, 1, 0)
    assert report.skipped == {"direct": 1, "boost": 1}
    mine = {s["content"]: s for s in statuses(bob)}
    again = mine[first["content"]]
    assert again["created_at"] == first["created_at"]
    assert again["spoiler_text"] == "cw" and again["sensitive"] is True
    assert again["language"] == "fr"
    assert [t["name"] for t in again["tags"]] == ["bonjour"]
    assert again["account"]["id"] == bob.id and again["uri"].startswith(
        "https://parvis.test/users/bob/"
    )
    picture = again["media_attachments"][0]
    assert picture["description"] == "a blue square" and picture["type"] == "image"
    assert client.get(picture["url"].removeprefix("https://parvis.test")).status_code == 200
    threaded = mine[reply["content"]]
    assert threaded["in_reply_to_id"] == again["id"]
    assert mine["<p>followers only</p>"]["visibility"] == "private"
    # In their place in time: bob's own newer post stays first.
    assert next(s["content"] for s in statuses(bob)) == "<p>bob&#39;s own newer post</p>"
    profile = ok(bob.get(f"/api/v1/accounts/{bob.id}"))
    assert profile["statuses_count"] == 4
    # Imported posts are not news: nothing reached bob's followers or anyone's notifications.
    assert ok(friend.get("/api/v1/notifications")) == notified_before
    assert [s["id"] for s in ok(fan.get("/api/v1/timelines/home"))] == home_before

    twice = import_into(parvis, bob, exported(parvis, alice))
    assert (twice.posts, twice.already) == (0, 3)
    assert len(statuses(bob)) == 4


def test_a_mastodon_style_archive(client: TestClient, parvis: Parvis) -> None:
    """Mastodon's layout: attachments under /media_attachments/..., no `source`, HTML only."""
    bob = make_user(client)
    outbox = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "outbox.json",
        "type": "OrderedCollection",
        "orderedItems": [
            {
                "id": "https://old.example/users/bob/statuses/1/activity",
                "type": "Create",
                "actor": "https://old.example/users/bob",
                "published": "2021-03-04T05:06:07Z",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": ["https://old.example/users/bob/followers"],
                "object": {
                    "id": "https://old.example/users/bob/statuses/1",
                    "type": "Note",
                    "published": "2021-03-04T05:06:07Z",
                    "content": '<p>Old <script>alert(1)</script><a href="https://x.example">news</a></p>',
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                    "cc": [],
                    "attachment": [
                        {
                            "type": "Document",
                            "mediaType": "image/png",
                            "url": "/media_attachments/files/1/original/a.png",
                            "name": None,
                        },
                        {"type": "Document", "url": "/media_attachments/missing.png"},
                    ],
                },
            },
            {"type": "Create", "object": {"type": "Note", "id": "x", "published": "never"}},
            {"type": "Like", "object": "https://elsewhere.example/1"},
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("outbox.json", orjson.dumps(outbox))
        z.writestr("media_attachments/files/1/original/a.png", png((200, 0, 0)))
    report = import_into(parvis, bob, buffer.getvalue())
    assert (report.posts, report.media, report.media_missing) == (1, 1, 1)
    assert report.skipped == {"invalid": 1, "unsupported": 1}
    [post] = statuses(bob)
    assert post["created_at"] == "2021-03-04T05:06:07.000Z" and post["visibility"] == "public"
    assert "<script>" not in post["content"] and "news</a>" in post["content"]


@pytest.mark.parametrize(
    "blob",
    [
        b"not a zip",
        b"PK\x03\x04 broken",
        b"",
    ],
)
def test_what_is_not_an_archive_is_refused(client: TestClient, parvis: Parvis, blob: bytes) -> None:
    bob = make_user(client)
    with pytest.raises(Invalid) as caught:
        import_into(parvis, bob, blob)
    assert "not a ZIP archive" in caught.value.message


def test_an_archive_without_an_outbox_is_refused(client: TestClient, parvis: Parvis) -> None:
    bob = make_user(client)
    for members in ({"other.json": b"{}"}, {"outbox.json": b"[1, 2"}, {"outbox.json": b"[]"}):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
        with pytest.raises(Invalid) as caught:
            import_into(parvis, bob, buffer.getvalue())
        assert "outbox.json" in caught.value.message
    assert statuses(bob) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = {
    "id": st.one_of(st.just("https://old.example/s/1"), st.text(max_size=30), JSON),
    "type": st.sampled_from(["Note", "Question", "Article", "Video", ""]),
    "published": st.one_of(
        st.sampled_from(["2020-01-02T03:04:05Z", "1969-01-01T00:00:00Z", "9999-12-31T00:00:00Z"]),
        st.text(max_size=30),
        JSON,
    ),
    "content": st.one_of(st.text(max_size=60), JSON),
    "source": st.one_of(st.fixed_dictionaries({"content": st.text(max_size=40)}), JSON),
    "summary": st.one_of(st.text(max_size=20), JSON),
    "to": st.one_of(st.just(["https://www.w3.org/ns/activitystreams#Public"]), JSON),
    "inReplyTo": st.one_of(st.just("https://old.example/s/1"), st.text(max_size=30), JSON),
    "attachment": st.one_of(
        st.just([{"url": "media/a.png", "name": "x"}]), st.just({"url": {"href": "/b"}}), JSON
    ),
    "tag": st.one_of(st.just([{"type": "Hashtag", "name": "#ok"}]), JSON),
    "contentMap": st.one_of(st.just({"fr": "x"}), JSON),
}
BASE = {
    "type": "Note",
    "published": "2020-01-02T03:04:05Z",
    "content": "<p>hello</p>",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
}
# A plausible note with some of its fields replaced by anything at all.
NOTES = st.builds(
    lambda n, changed: {**BASE, "id": f"https://old.example/s/{n}", **changed},
    st.integers(0, 10**12),
    st.fixed_dictionaries({}, optional=FIELDS),
)
ITEMS = st.one_of(
    st.builds(lambda note: {"type": "Create", "object": note}, NOTES),
    st.builds(lambda o: {"type": "Announce", "object": o}, JSON),
    JSON,
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    outbox=st.one_of(
        st.builds(lambda items: {"orderedItems": items}, st.lists(ITEMS, max_size=6)), JSON
    ),
    extra=st.sampled_from([None, b"not a png", b"\x89PNG broken"]),
)
def test_any_outbox_gives_invalid_or_a_report(
    client: TestClient, parvis: Parvis, outbox: Any, extra: bytes | None
) -> None:
    """Archives are uploaded by anyone: whatever outbox.json holds, the import answers Invalid
    or a report, never another error, and the posts it makes can be read back."""
    bob = bob_of(client)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("outbox.json", orjson.dumps(outbox))
        if extra is not None:
            z.writestr("media/a.png", extra)
    try:
        report = import_into(parvis, bob, buffer.getvalue())
    except Invalid as exc:
        assert exc.message.startswith("Validation failed: file: ")
        event("refused")
        return
    event("posts made" if report.posts else "report")
    assert report.media == 0
    assert bob.get(f"/api/v1/accounts/{bob.id}/statuses").status_code == 200


_bobs: dict[int, User] = {}


def bob_of(client: TestClient) -> User:
    if id(client) not in _bobs:
        _bobs[id(client)] = make_user(client)
    return _bobs[id(client)]
