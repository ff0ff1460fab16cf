"""The export holds everything the account holds: a person who used every feature (filters,
tags, endorsements, notes, mutes of threads, domain blocks, lists, polls and votes, scheduled
posts, community notes and ratings, label and feed settings, markers, devices and encrypted
messages, pictures) finds each in its file, listed in README.txt; every table that refers to
an account is either exported or says why not; and the encrypted messages of the archive are
decrypted offline by the reference client (tests/clients/e2e_client.py) with the device's keys
— the same envelopes the API gives, byte for byte."""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any

import orjson
from PIL import Image
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import export
from parvis.storage.export import SECTIONS
from parvis.storage.tables import metadata
from tests.builders import User, make_user, ok
from tests.clients.e2e_client import E2EClient
from tests.services.test_notes import age, note, rate
from tests.web.browser import browser, log_in

SECRET = "Le code du local est 4417, garde-le pour toi"
REPLY = "Bien reçu : 4417. À jeudi !"


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(out, "PNG")
    return out.getvalue()


def exported(parvis: Parvis, user: User) -> zipfile.ZipFile:
    files = parvis.runtime.files
    blob = parvis.runtime.read(lambda w: export.build(w, int(user.id), files))
    return zipfile.ZipFile(io.BytesIO(blob))


def load(archive: zipfile.ZipFile, name: str) -> Any:
    return orjson.loads(archive.read(name))


def upload(user: User, data: bytes, description: str) -> dict[str, Any]:
    r = user.post(
        "/api/v2/media",
        files={"file": ("a.png", data, "image/png")},
        data={"description": description},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_every_table_that_refers_to_an_account_is_exported_or_explained() -> None:
    exported_tables = {table for table, _ in SECTIONS.values()}
    refers = {
        t.name
        for t in metadata.sorted_tables
        if t.name == "accounts"
        or any(fk.column.table.name == "accounts" for c in t.columns for fk in c.foreign_keys)
    }
    forgotten = refers - exported_tables - set(export.LEFT_OUT)
    assert not forgotten, f"tables neither exported nor explained in export.LEFT_OUT: {forgotten}"
    assert set(export.LEFT_OUT) <= set(metadata.tables), "LEFT_OUT names a table that is gone"
    assert not exported_tables & set(export.LEFT_OUT)


def test_the_archive_holds_everything_the_account_holds(client: TestClient, parvis: Parvis) -> None:
    alice, bob, carol = (make_user(client, n) for n in ("alice", "bob", "carol"))
    age(parvis, alice, bob)
    # profile pictures and a post with a picture
    avatar = png((200, 10, 10))
    r = alice.patch(
        "/api/v1/accounts/update_credentials", files={"avatar": ("me.png", avatar, "image/png")}
    )
    assert r.status_code == 200, r.text
    picture = upload(alice, png((10, 200, 10)), "a green square")
    post = alice.status("Look #garden", media_ids=[picture["id"]])
    # relations and preferences
    ok(alice.post(f"/api/v1/accounts/{bob.id}/follow"))
    ok(alice.post(f"/api/v1/accounts/{bob.id}/pin"))
    ok(alice.post(f"/api/v1/accounts/{carol.id}/note", data={"comment": "met at the market"}))
    ok(alice.post("/api/v1/tags/jardinage/follow"))
    ok(alice.post("/api/v1/featured_tags", data={"name": "garden"}))
    ok(alice.post("/api/v1/domain_blocks", data={"domain": "spam.example"}))
    listed = ok(alice.post("/api/v1/lists", data={"title": "Neighbours"}))
    ok(alice.post(f"/api/v1/lists/{listed['id']}/accounts", data={"account_ids[]": [bob.id]}))
    ok(
        alice.post(
            "/api/v2/filters",
            json={
                "title": "Spoilers",
                "context": ["home"],
                "keywords_attributes": [{"keyword": "finale", "whole_word": True}],
            },
        )
    )
    thread = bob.status("A long thread, @alice")
    ok(alice.post(f"/api/v1/statuses/{thread['id']}/mute"))
    ok(alice.post("/api/v1/markers", data={"home[last_read_id]": thread["id"]}))
    ok(alice.put("/api/parvis/v1/labels/preferences", json={"automated": "hide"}))
    # polls and votes, a scheduled post
    alice.status("Tea or coffee?", poll={"options": ["tea", "coffee"], "expires_in": 3600})
    bobs_poll = bob.status("Cats or dogs?", poll={"options": ["cats", "dogs"], "expires_in": 3600})
    ok(alice.post(f"/api/v1/polls/{bobs_poll['poll']['id']}/votes", data={"choices[]": ["1"]}))
    ok(alice.post("/api/v1/statuses", data={"status": "For later", "scheduled_at": "2099-01-01"}))
    # a community note and a rating
    written = note(parvis, alice, int(thread["id"]))
    by_bob = note(parvis, bob, int(carol.status("A claim")["id"]))
    rate(parvis, alice, by_bob, "helpful", ["good_sources"])

    archive = exported(parvis, alice)
    names = set(archive.namelist())
    readme = archive.read("README.txt").decode()
    for name in names:
        listed_as = "media/" if name.startswith("media/") else name
        assert listed_as in readme, f"{name} is not in README.txt"
    account = load(archive, "account.json")
    assert account["acct"] == "alice@parvis.test" and account["role"] == "user"
    media = sorted(n for n in names if n.startswith("media/"))
    assert len(media) == 2  # the avatar and the post's picture
    assert f"media/{picture['url'].split('/media/', 1)[1]}" in media
    posted = {p["uri"]: p for p in load(archive, "posts.json")}[post["uri"]]
    assert posted["media"][0]["description"] == "a green square"
    assert load(archive, "endorsements.json")[0]["account"] == "bob@parvis.test"
    assert load(archive, "account_notes.json")[0]["comment"] == "met at the market"
    assert [t["name"] for t in load(archive, "followed_tags.json")] == ["jardinage"]
    assert [t["name"] for t in load(archive, "featured_tags.json")] == ["garden"]
    assert [d["domain"] for d in load(archive, "domain_blocks.json")] == ["spam.example"]
    assert load(archive, "lists.json")[0]["members"] == ["bob@parvis.test"]
    filters = load(archive, "filters.json")
    assert filters[0]["title"] == "Spoilers"
    assert filters[0]["keywords"] == [{"keyword": "finale", "whole_word": True}]
    assert load(archive, "muted_conversations.json")[0]["thread_uri"] == thread["uri"]
    assert load(archive, "markers.json")[0]["last_read_id"] == int(thread["id"])
    assert load(archive, "label_preferences.json") == [{"label": "automated", "action": "hide"}]
    polls = load(archive, "polls.json")
    assert polls[0]["options"] and "tea" in orjson.dumps(polls[0]["options"]).decode()
    assert load(archive, "poll_votes.json")[0]["post_uri"] == bobs_poll["uri"]
    scheduled = load(archive, "scheduled_posts.json")
    assert scheduled[0]["params"]["text"] == "For later"
    notes_written = load(archive, "community_notes.json")
    assert [n["post_uri"] for n in notes_written] == [thread["uri"]]
    assert written and load(archive, "community_note_ratings.json")[0]["helpfulness"] == "HELPFUL"
    assert load(archive, "sessions.json")[0]["application"]
    assert "token" not in archive.read("sessions.json").decode().replace("tokens", "")


class Offline:
    """The HTTP of a device with no network: it only knows who it is (from the archive)."""

    def __init__(self, me: dict[str, Any]) -> None:
        self.me = me

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        assert (method, url) == ("GET", "/api/v1/accounts/verify_credentials"), (
            f"the archive must be readable offline, yet {method} {url} was asked"
        )
        me = self.me

        class Answer:
            status_code = 200

            def json(self) -> dict[str, Any]:
                return {"id": me["id"], "uri": me["uri"]}

        return Answer()


def test_a_device_decrypts_the_exported_messages_offline(
    client: TestClient, parvis: Parvis
) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    phone = E2EClient(alice.client, alice.token, label="alice's phone")
    phone.publish()
    laptop = E2EClient(bob.client, bob.token, label="bob's laptop")
    laptop.publish()
    convo = phone.start(bob.id)
    phone.send(convo["id"], SECRET)
    assert [m.text for m in laptop.inbox()] == [SECRET]
    laptop.send(convo["id"], REPLY)
    api = {m["id"]: m for m in phone.history(convo["id"])}

    archive = exported(parvis, alice)
    conversations = load(archive, "messages/conversations.json")
    assert len(conversations) == 1
    held = conversations[0]
    assert held["id"] == convo["id"]
    assert {(p["acct"], p["uri"]) for p in held["participants"]} == {
        ("alice@parvis.test", "https://parvis.test/users/alice"),
        ("bob@parvis.test", "https://parvis.test/users/bob"),
    }
    # each envelope exactly as the API gives it, oldest first
    assert [m["id"] for m in held["messages"]] == sorted(api, key=int)
    assert {m["id"]: m for m in held["messages"]} == api
    devices = load(archive, "messages/devices.json")
    assert [(d["id"], d["label"]) for d in devices] == [(phone.device_id, "alice's phone")]
    # the server never wrote the plaintext into the archive
    blob = b"".join(archive.read(n) for n in archive.namelist())
    assert SECRET.encode() not in blob and REPLY.encode() not in blob

    offline = E2EClient(
        Offline(load(archive, "account.json")),
        "",
        signing=phone.signing,
        agreement=phone.agreement,
        device_id=phone.device_id,
    )
    offline.ever = copy.deepcopy(phone.ever)  # the identity keys this device had seen
    offline.uris.update({p["id"]: p["uri"] for p in held["participants"]})
    opened = [offline.open(m) for m in held["messages"]]
    assert [m.text for m in opened] == [SECRET, REPLY]


def test_the_web_download_is_the_same_archive(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client, "alice")
    alice.status("Into the archive")
    web = browser(client)
    log_in(web, "alice@example.org", "correct horse battery")
    r = web.get("/settings/export/archive")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert int(r.headers["content-length"]) == len(r.content)
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert [p["text"] for p in load(archive, "posts.json")] == ["Into the archive"]
    assert archive.testzip() is None
