"""The inbox, end to end: the real app on a real database receives activities signed (with keys
made here) by remote actors that a fake fediverse serves (an httpx2 MockTransport given to the
real HttpClient as `runtime.http`, the only fake: the outbound network). Each effect is read
back through the client API, as a person's app would see it, or from what was delivered out.

The fake fediverse also holds the helpers the fuzz tests use (test_inbox_fuzz.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from parvis.app import Parvis, create_app
from parvis.domain import httpsig
from parvis.federation import inbox as inbox_routes
from parvis.jobs.http import HttpClient
from parvis.storage.tables import accounts, federation_deliveries, federation_inbox, statuses
from tests.builders import make_user, ok

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_IP = "93.184.216.34"  # what every fake host resolves to: never contacted
KEYS = [httpsig.generate_key_pair() for _ in range(3)]  # RSA is slow to make: made once
BASE = "https://parvis.test"


@dataclass
class Remote:
    """A remote actor: its document is served by the fake fediverse, its key signs."""

    world: Fediverse
    username: str
    host: str
    private_pem: str
    public_pem: str
    locked: bool = False
    also_known_as: list[str] = field(default_factory=list)
    seq: int = 0

    @property
    def uri(self) -> str:
        return f"https://{self.host}/users/{self.username}"

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    @property
    def followers(self) -> str:
        return f"{self.uri}/followers"

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.host}"

    def document(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.username,
            "name": self.username.title(),
            "summary": "<p>remote</p>",
            "url": f"https://{self.host}/@{self.username}",
            "inbox": self.inbox,
            "outbox": f"{self.uri}/outbox",
            "followers": self.followers,
            "following": f"{self.uri}/following",
            "endpoints": {"sharedInbox": f"https://{self.host}/inbox"},
            "manuallyApprovesFollowers": self.locked,
            "alsoKnownAs": self.also_known_as,
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": self.public_pem},
        }

    def publish(self) -> None:
        self.world.docs[self.uri] = self.document()

    def next_id(self, kind: str) -> str:
        self.seq += 1
        return f"{self.uri}/{kind}/{self.seq}-{time.monotonic_ns()}"

    def note(self, content: str, **extra: Any) -> dict[str, Any]:
        uri = self.next_id("statuses")
        doc = {
            "id": uri,
            "type": "Note",
            "attributedTo": self.uri,
            "content": content,
            "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "to": [PUBLIC],
            "cc": [self.followers],
            "url": uri,
        }
        doc.update(extra)
        return doc

    def activity(self, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
        doc = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.next_id("activities"),
            "type": kind,
            "actor": self.uri,
            "object": obj,
        }
        doc.update(extra)
        return doc

    def create(self, note: dict[str, Any] | str) -> dict[str, Any]:
        """Create of a note (embedded, or given by its URI only)."""
        if isinstance(note, str):
            return self.activity("Create", note, to=[PUBLIC])
        return self.activity("Create", note, to=note.get("to", []), cc=note.get("cc", []))

    def signed(
        self, path: str, body: bytes, *, now: datetime | None = None, key_id: str | None = None
    ) -> dict[str, str]:
        headers = {"Content-Type": "application/activity+json"}
        headers.update(
            httpsig.sign_request(
                "POST",
                f"{BASE}{path}",
                headers,
                body,
                key_id or self.key_id,
                self.private_pem,
                now=now or datetime.now(UTC),
            )
        )
        return headers


class Fediverse:
    """Remote servers behind one MockTransport: documents served by URL (WebFinger too),
    every inbox accepting POSTs; every request recorded."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx2.Request] = []
        self.delivered: list[tuple[str, dict[str, Any]]] = []
        self.broken: dict[str, int] = {}  # URL -> the HTTP status it answers instead
        self._keys = iter(KEYS * 10)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        url = str(request.url)
        if url in self.broken:
            return httpx2.Response(self.broken[url])
        if request.method == "POST":
            self.delivered.append((url, json.loads(request.content)))
            return httpx2.Response(202)
        if url.split("?")[0].endswith("/.well-known/webfinger"):
            resource = parse_qs(urlsplit(url).query).get("resource", [""])[0]
            for doc in self.docs.values():
                host = urlsplit(doc["id"]).hostname
                if f"acct:{doc.get('preferredUsername')}@{host}" == resource:
                    links = [
                        {"rel": "self", "type": "application/activity+json", "href": doc["id"]}
                    ]
                    return httpx2.Response(200, json={"subject": resource, "links": links})
            return httpx2.Response(404)
        doc = self.docs.get(url.split("#", 1)[0])
        if doc is None:
            return httpx2.Response(404)
        return httpx2.Response(200, json=doc, headers={"Content-Type": "application/activity+json"})

    def remote(self, username: str, host: str = "mastodon.example", **kw: Any) -> Remote:
        private, public = next(self._keys)
        person = Remote(self, username, host, private, public, **kw)
        person.publish()
        return person

    def fetched(self) -> list[str]:
        return [str(r.url) for r in self.requests if r.method == "GET"]

    def sent(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(url, doc) for url, doc in self.delivered if doc.get("type") == kind]


@pytest.fixture
def client(parvis: Parvis) -> Iterator[TestClient]:
    """The app, with the inbox routes (added here until federation_routes() lists them)."""
    app = create_app(parvis, embedded_worker=False)
    if not any(getattr(r, "path", None) == "/inbox" for r in app.router.routes):
        for route in reversed(inbox_routes.routes):
            app.router.routes.insert(0, route)
    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture
def world(parvis: Parvis) -> Iterator[Fediverse]:
    fake = Fediverse()
    client = HttpClient(
        parvis.settings,
        transport=httpx2.MockTransport(fake),
        resolver=lambda host, port: [PUBLIC_IP],
    )
    parvis.runtime.http = client
    yield fake
    client.close()


def deliver(
    client: TestClient, who: Remote, doc: dict[str, Any], path: str = "/inbox"
) -> httpx2.Response:
    body = json.dumps(doc).encode()
    return client.post(path, content=body, headers=who.signed(path, body))


def accepted(client: TestClient, who: Remote, doc: dict[str, Any], path: str = "/inbox") -> None:
    r = deliver(client, who, doc, path)
    assert r.status_code == 202, r.text


def count(parvis: Parvis, table: Any, *where: Any) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def inbox_state(parvis: Parvis, activity_id: str) -> tuple[str, str]:
    with parvis.db.engine.connect() as conn:
        row = conn.execute(
            select(federation_inbox.c.state, federation_inbox.c.error).where(
                federation_inbox.c.activity_uri == activity_id
            )
        ).one()
        return str(row[0]), str(row[1])


def status_id(parvis: Parvis, uri: str) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(statuses.c.id).where(statuses.c.uri == uri)).scalar_one())


def account_id(parvis: Parvis, uri: str) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(accounts.c.id).where(accounts.c.uri == uri)).scalar_one())


# --- posts ----------------------------------------------------------------------------------


def test_a_signed_create_lands_in_the_federated_timeline(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    alice = world.remote("alice")
    note = alice.note(
        '<p><span class="h-card"><a href="https://parvis.test/@bob" class="u-url mention">'
        '@<span>bob</span></a></span> I love <a href="https://mastodon.example/tags/cats" '
        'class="mention hashtag" rel="tag">#<span>Cats</span></a><script>x()</script></p>',
        summary="cats ahead",
        sensitive=True,
        cc=[alice.followers, f"{BASE}/users/bob"],
        tag=[
            {"type": "Mention", "href": f"{BASE}/users/bob", "name": "@bob@parvis.test"},
            {"type": "Hashtag", "href": "https://mastodon.example/tags/cats", "name": "#Cats"},
        ],
        attachment=[
            {
                "type": "Document",
                "mediaType": "image/png",
                "url": "https://files.mastodon.example/cats.png",
                "name": "Two cats on a sofa",
                "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
                "width": 640,
                "height": 480,
            }
        ],
    )
    accepted(client, alice, alice.create(note))

    timeline = ok(client.get("/api/v1/timelines/public"))
    (status,) = [s for s in timeline if s["uri"] == note["id"]]
    assert status["account"]["acct"] == "alice@mastodon.example"
    assert status["spoiler_text"] == "cats ahead" and status["sensitive"]
    assert status["visibility"] == "public"
    assert "<script>" not in status["content"] and "I love" in status["content"]
    assert [t["name"] for t in status["tags"]] == ["cats"]
    assert [m["acct"] for m in status["mentions"]] == ["bob"]
    (media,) = status["media_attachments"]
    assert media["description"] == "Two cats on a sofa"
    assert media["remote_url"] == "https://files.mastodon.example/cats.png"
    tagged = ok(client.get("/api/v1/timelines/tag/cats"))
    assert [s["uri"] for s in tagged] == [note["id"]]
    mentions = ok(bob.get("/api/v1/notifications", params={"types[]": "mention"}))
    assert [n["status"]["uri"] for n in mentions] == [note["id"]]
    # the signer's key (the actor, fetched once), then the photo (a 404 here: it stays a link)
    assert world.fetched() == [alice.uri, "https://files.mastodon.example/cats.png"]
    assert count(parvis, federation_inbox, federation_inbox.c.state == "done") == 1


def test_redelivery_is_idempotent(client: TestClient, parvis: Parvis, world: Fediverse) -> None:
    alice = world.remote("alice")
    create = alice.create(alice.note("<p>once</p>"))
    for _ in range(3):
        accepted(client, alice, create)
    assert count(parvis, statuses, statuses.c.uri == create["object"]["id"]) == 1
    assert count(parvis, federation_inbox) == 1
    assert inbox_state(parvis, create["id"]) == ("done", "")


def test_a_reply_to_a_local_post_and_a_fetched_thread(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    post = bob.status("What do you think?")
    alice = world.remote("alice")
    reply = alice.note(
        "<p>I agree</p>", inReplyTo=post["uri"], cc=[alice.followers, f"{BASE}/users/bob"]
    )
    accepted(client, alice, alice.create(reply))
    context = ok(bob.get(f"/api/v1/statuses/{post['id']}/context"))
    assert [s["uri"] for s in context["descendants"]] == [reply["id"]]
    assert ok(bob.get(f"/api/v1/statuses/{post['id']}"))["replies_count"] == 1

    # A reply to a post this server never saw: the thread above it is fetched.
    carol = world.remote("carol", host="other.example")
    root = carol.note("<p>root</p>")
    middle = carol.note("<p>middle</p>", inReplyTo=root["id"])
    world.docs[root["id"]] = root
    world.docs[middle["id"]] = middle
    answer = alice.note("<p>late answer</p>", inReplyTo=middle["id"])
    accepted(client, alice, alice.create(answer))
    leaf = status_id(parvis, answer["id"])
    context = ok(client.get(f"/api/v1/statuses/{leaf}/context"))
    assert [s["uri"] for s in context["ancestors"]] == [root["id"], middle["id"]]
    assert [s["account"]["acct"] for s in context["ancestors"]] == ["carol@other.example"] * 2


def test_a_reply_arriving_before_its_parent_is_attached_later(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    parent = alice.note("<p>first</p>")  # not served: cannot be fetched yet
    child = alice.note("<p>second</p>", inReplyTo=parent["id"])
    accepted(client, alice, alice.create(child))
    accepted(client, alice, alice.create(parent))
    context = ok(client.get(f"/api/v1/statuses/{status_id(parvis, parent['id'])}/context"))
    assert [s["uri"] for s in context["descendants"]] == [child["id"]]


def test_update_edits_with_history_and_delete_removes(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    note = alice.note("<p>tpyo</p>")
    accepted(client, alice, alice.create(note))
    sid = status_id(parvis, note["id"])
    edited = dict(note, content="<p>typo</p>", updated=datetime.now(UTC).isoformat())
    accepted(client, alice, alice.activity("Update", edited))
    status = ok(client.get(f"/api/v1/statuses/{sid}"))
    assert status["content"] == "<p>typo</p>" and status["edited_at"] is not None
    history = ok(client.get(f"/api/v1/statuses/{sid}/history"))
    assert [h["content"] for h in history] == ["<p>tpyo</p>", "<p>typo</p>"]

    # Someone else cannot edit or delete it.
    mallory = world.remote("mallory")
    forged = dict(note, content="<p>pwned</p>")
    update = mallory.activity("Update", forged)
    accepted(client, mallory, update)  # signed by its sender, on the same server, but...
    assert inbox_state(parvis, update["id"]) == (
        "done",
        "ignored: the post's author is not the actor",
    )
    assert ok(client.get(f"/api/v1/statuses/{sid}"))["content"] == "<p>typo</p>"

    tombstone = {"id": note["id"], "type": "Tombstone"}
    accepted(client, alice, alice.activity("Delete", tombstone))
    assert client.get(f"/api/v1/statuses/{sid}").status_code == 404
    assert count(parvis, statuses, statuses.c.uri == note["id"]) == 0


def test_a_question_becomes_a_poll(client: TestClient, parvis: Parvis, world: Fediverse) -> None:
    alice = world.remote("alice")
    question = alice.note(
        "<p>Tea or coffee?</p>",
        type="Question",
        endTime=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
        oneOf=[
            {"type": "Note", "name": "Tea", "replies": {"type": "Collection", "totalItems": 2}},
            {"type": "Note", "name": "Coffee", "replies": {"type": "Collection", "totalItems": 1}},
        ],
    )
    accepted(client, alice, alice.create(question))
    status = ok(client.get(f"/api/v1/statuses/{status_id(parvis, question['id'])}"))
    assert [o["title"] for o in status["poll"]["options"]] == ["Tea", "Coffee"]
    assert status["poll"]["multiple"] is False


# --- interactions -------------------------------------------------------------------------------


def test_like_favourites_and_notifies_then_undo(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    post = bob.status("like me")
    alice = world.remote("alice")
    like = alice.activity("Like", post["uri"])
    accepted(client, alice, like)
    assert ok(bob.get(f"/api/v1/statuses/{post['id']}"))["favourites_count"] == 1
    notes = ok(bob.get("/api/v1/notifications", params={"types[]": "favourite"}))
    assert [(n["account"]["acct"], n["status"]["id"]) for n in notes] == [
        ("alice@mastodon.example", post["id"])
    ]
    accepted(client, alice, alice.activity("Undo", like))
    assert ok(bob.get(f"/api/v1/statuses/{post['id']}"))["favourites_count"] == 0
    assert ok(bob.get("/api/v1/notifications", params={"types[]": "favourite"})) == []


def test_misskey_reaction_and_akkoma_emoji_react_are_favourites(
    client: TestClient, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    post = bob.status("react to me")
    syuilo = world.remote("syuilo", host="misskey.example")
    akko = world.remote("akko", host="akkoma.example")
    accepted(client, syuilo, syuilo.activity("Like", post["uri"], _misskey_reaction="👍"))
    accepted(client, akko, akko.activity("EmojiReact", post["uri"], content="🧡"))
    assert ok(bob.get(f"/api/v1/statuses/{post['id']}"))["favourites_count"] == 2


def test_announce_boosts_and_undo(client: TestClient, parvis: Parvis, world: Fediverse) -> None:
    bob = make_user(client, "bob")
    post = bob.status("boost me")
    alice = world.remote("alice")
    announce = alice.activity("Announce", post["uri"], to=[PUBLIC], cc=[alice.followers])
    accepted(client, alice, announce)
    assert ok(bob.get(f"/api/v1/statuses/{post['id']}"))["reblogs_count"] == 1
    notes = ok(bob.get("/api/v1/notifications", params={"types[]": "reblog"}))
    assert [n["account"]["acct"] for n in notes] == ["alice@mastodon.example"]
    alice_id = account_id(parvis, alice.uri)
    boosts = ok(client.get(f"/api/v1/accounts/{alice_id}/statuses"))
    assert [s["reblog"]["id"] for s in boosts] == [post["id"]]
    accepted(client, alice, alice.activity("Undo", announce))
    assert ok(bob.get(f"/api/v1/statuses/{post['id']}"))["reblogs_count"] == 0

    # A boost of a post this server does not know: the post is fetched first.
    carol = world.remote("carol", host="other.example")
    theirs = carol.note("<p>worth sharing</p>")
    world.docs[theirs["id"]] = theirs
    accepted(client, alice, alice.activity("Announce", theirs["id"], to=[PUBLIC]))
    boosts = ok(client.get(f"/api/v1/accounts/{alice_id}/statuses"))
    assert [s["reblog"]["uri"] for s in boosts] == [theirs["id"]]


# --- follows -------------------------------------------------------------------------------------


def test_follow_of_an_open_account_is_accepted(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    alice = world.remote("alice")
    follow = alice.activity("Follow", f"{BASE}/users/bob")
    accepted(client, alice, follow, path="/users/bob/inbox")
    followers = ok(bob.get(f"/api/v1/accounts/{bob.id}/followers"))
    assert [a["acct"] for a in followers] == ["alice@mastodon.example"]
    assert ok(bob.get(f"/api/v1/accounts/{bob.id}"))["followers_count"] == 1
    queued = count(parvis, federation_deliveries, federation_deliveries.c.host == alice.host)
    assert queued == 1
    ((inbox, sent),) = world.sent("Accept")
    assert inbox == f"https://{alice.host}/inbox"  # the shared inbox
    assert sent["actor"] == f"{BASE}/users/bob" and sent["object"]["id"] == follow["id"]
    notes = ok(bob.get("/api/v1/notifications", params={"types[]": "follow"}))
    assert [n["account"]["acct"] for n in notes] == ["alice@mastodon.example"]

    # Then bob's posts go to alice's server; her Undo ends the follow.
    bob.status("hello followers")
    assert [d["type"] for _, d in world.delivered] == ["Accept", "Create"]
    accepted(client, alice, alice.activity("Undo", follow))
    assert ok(bob.get(f"/api/v1/accounts/{bob.id}/followers")) == []
    assert ok(bob.get(f"/api/v1/accounts/{bob.id}"))["followers_count"] == 0


def test_follow_of_a_locked_account_is_a_request(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob", locked=True)
    alice = world.remote("alice")
    follow = alice.activity("Follow", f"{BASE}/users/bob")
    accepted(client, alice, follow)
    requests = ok(bob.get("/api/v1/follow_requests"))
    assert [a["acct"] for a in requests] == ["alice@mastodon.example"]
    assert ok(bob.get(f"/api/v1/accounts/{bob.id}/followers")) == []
    assert world.sent("Accept") == []
    ok(bob.post(f"/api/v1/follow_requests/{requests[0]['id']}/authorize"))
    ((_, sent),) = world.sent("Accept")
    assert sent["object"]["id"] == follow["id"]
    assert [a["acct"] for a in ok(bob.get(f"/api/v1/accounts/{bob.id}/followers"))] == [
        "alice@mastodon.example"
    ]


def test_our_follow_accepted_then_blocked(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    alice = world.remote("alice")
    accepted(client, alice, alice.create(alice.note("<p>hi</p>")))  # bob learns of her
    alice_id = account_id(parvis, alice.uri)
    ok(bob.post(f"/api/v1/accounts/{alice_id}/follow"))
    ((_, follow),) = world.sent("Follow")
    relation = ok(bob.get("/api/v1/accounts/relationships", params={"id[]": alice_id}))[0]
    assert relation["requested"] and not relation["following"]
    accepted(client, alice, alice.activity("Accept", follow))
    relation = ok(bob.get("/api/v1/accounts/relationships", params={"id[]": alice_id}))[0]
    assert relation["following"] and not relation["requested"]

    accepted(client, alice, alice.activity("Block", f"{BASE}/users/bob"))
    relation = ok(bob.get("/api/v1/accounts/relationships", params={"id[]": alice_id}))[0]
    assert relation["blocked_by"] and not relation["following"]
    assert ok(bob.get(f"/api/v1/accounts/{bob.id}"))["following_count"] == 0
    accepted(client, alice, alice.activity("Undo", alice.activity("Block", f"{BASE}/users/bob")))
    relation = ok(bob.get("/api/v1/accounts/relationships", params={"id[]": alice_id}))[0]
    assert not relation["blocked_by"]


def test_a_reject_ends_our_request(client: TestClient, parvis: Parvis, world: Fediverse) -> None:
    bob = make_user(client, "bob")
    alice = world.remote("alice", locked=True)
    accepted(client, alice, alice.create(alice.note("<p>hi</p>")))
    alice_id = account_id(parvis, alice.uri)
    ok(bob.post(f"/api/v1/accounts/{alice_id}/follow"))
    ((_, follow),) = world.sent("Follow")
    accepted(client, alice, alice.activity("Reject", follow["id"]))
    relation = ok(bob.get("/api/v1/accounts/relationships", params={"id[]": alice_id}))[0]
    assert not relation["requested"] and not relation["following"]


# --- reports and moves ------------------------------------------------------------------------


def test_flag_becomes_a_notice_in_the_moderation_queue(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    post = bob.status("reported post")
    instance = world.remote("mastodon.example")
    flag = instance.activity(
        "Flag", [f"{BASE}/users/bob", post["uri"]], content="Spam, please look"
    )
    accepted(client, instance, flag)
    with parvis.db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT channel, remote_actor, explanation, category FROM notices")
        ).all()
        items = conn.execute(text("SELECT status_id, account_id FROM notice_items")).all()
    assert [tuple(r) for r in rows] == [("federation", instance.uri, "Spam, please look", "other")]
    assert {(r[0], r[1]) for r in items} == {(int(post["id"]), int(bob.id)), (None, int(bob.id))}


def test_move_carries_local_followers(client: TestClient, parvis: Parvis, world: Fediverse) -> None:
    bob = make_user(client, "bob")
    alice = world.remote("alice")
    accepted(client, alice, alice.create(alice.note("<p>hi</p>")))
    old_id = account_id(parvis, alice.uri)
    ok(bob.post(f"/api/v1/accounts/{old_id}/follow"))
    ((_, follow),) = world.sent("Follow")
    accepted(client, alice, alice.activity("Accept", follow))
    new = world.remote("alice", host="new.example", also_known_as=[alice.uri])
    move = alice.activity("Move", alice.uri, target=new.uri)
    accepted(client, alice, move)
    new_id = account_id(parvis, new.uri)
    relations = ok(bob.get("/api/v1/accounts/relationships", params={"id[]": [old_id, new_id]}))
    by_id = {r["id"]: r for r in relations}
    assert not by_id[str(old_id)]["following"]
    assert by_id[str(new_id)]["requested"] or by_id[str(new_id)]["following"]
    assert [url for url, _ in world.sent("Follow")][-1] == "https://new.example/inbox"


def test_a_move_to_an_account_without_the_alias_is_ignored(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    accepted(client, alice, alice.create(alice.note("<p>hi</p>")))
    squatter = world.remote("alice", host="squat.example")
    move = alice.activity("Move", alice.uri, target=squatter.uri)
    accepted(client, alice, move)
    assert inbox_state(parvis, move["id"])[1].startswith("ignored: the target does not list")


# --- keys --------------------------------------------------------------------------------------


def test_a_rotated_key_is_fetched_again(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    accepted(client, alice, alice.create(alice.note("<p>old key</p>")))
    alice.private_pem, alice.public_pem = KEYS[2]
    alice.publish()
    note = alice.note("<p>new key</p>")
    # Fetched a moment ago: a failing signature is not worth a fetch yet.
    assert deliver(client, alice, alice.create(note)).status_code == 401
    aid = account_id(parvis, alice.uri)
    old = datetime.now(UTC) - timedelta(hours=2)
    parvis.runtime.write(lambda work: work.store.accounts.update(aid, {"fetched_at": old}))
    accepted(client, alice, alice.create(note))
    assert count(parvis, statuses, statuses.c.uri == note["id"]) == 1
    assert world.fetched() == [alice.uri, alice.uri]


def test_an_unknown_actor_deleting_itself_is_dropped(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    ghost = world.remote("ghost")
    del world.docs[ghost.uri]  # gone: 404
    r = deliver(client, ghost, ghost.activity("Delete", ghost.uri))
    assert r.status_code == 202
    assert count(parvis, federation_inbox) == 0 and count(parvis, accounts) == 0


def test_a_deleted_actor_is_suspended_and_unfollowed(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    alice = world.remote("alice")
    accepted(client, alice, alice.activity("Follow", f"{BASE}/users/bob"))
    note = alice.note("<p>soon gone</p>")
    accepted(client, alice, alice.create(note))
    del world.docs[alice.uri]
    accepted(client, alice, alice.activity("Delete", alice.uri))
    assert ok(bob.get(f"/api/v1/accounts/{bob.id}"))["followers_count"] == 0
    assert [s["uri"] for s in ok(client.get("/api/v1/timelines/public"))] == []
