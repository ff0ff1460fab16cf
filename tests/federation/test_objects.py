"""Actors, posts and collections as other servers fetch them, through the real app: shapes as
Mastodon's, content negotiation, what anonymous and signed fetches may see, and authorized
fetch (signatures checked with parvis.domain.httpsig)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import httpx2
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from PIL import Image
from starlette.testclient import TestClient

from parvis.app import Parvis, build, create_app
from parvis.domain import httpsig
from parvis.domain.activitypub import render
from parvis.domain.activitypub.vocabulary import AS_PUBLIC
from parvis.domain.ids import new_id
from parvis.federation import discovery, objects
from parvis.jobs.http import HttpClient
from parvis.services import actors
from parvis.services.context import Work
from parvis.storage.tables import account_aliases, instance_domain_blocks
from tests.builders import User, follow, make_user, ok

BASE = "https://parvis.test"
AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def client(parvis: Parvis) -> Iterator[TestClient]:
    """The real app, with the federation routes first (as federation_routes() mounts them)."""
    app = create_app(parvis, embedded_worker=False)
    for route in reversed([*discovery.routes, *objects.routes]):
        app.router.routes.insert(0, route)
    with TestClient(app, base_url=BASE) as c:
        yield c


def fetch(client: TestClient, path: str, **headers: str) -> Any:
    r = client.get(path.removeprefix(BASE), headers={**AP, **headers})
    assert r.status_code == 200, (path, r.status_code, r.text)
    assert r.headers["content-type"] == "application/activity+json; charset=utf-8"
    return r.json()


def status_path(user: User, status: dict[str, Any]) -> str:
    return f"/users/{user.username}/statuses/{status['id']}"


# -- actors ------------------------------------------------------------------------------------


def test_actor_document(client: TestClient) -> None:
    alice = make_user(client, "alice")
    ok(alice.patch("/api/v1/accounts/update_credentials", data={"display_name": "Alice A."}))
    doc = fetch(client, "/users/alice")
    me = f"{BASE}/users/alice"
    assert doc["@context"][:2] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
    ]
    terms = doc["@context"][2]
    assert terms["toot"] == "http://joinmastodon.org/ns#"
    assert terms["schema"] == "http://schema.org#"
    for term in ("discoverable", "indexable", "memorial", "suspended", "featured", "alsoKnownAs"):
        assert term in terms, term
    assert doc["id"] == me and doc["type"] == "Person"
    assert doc["preferredUsername"] == "alice" and doc["name"] == "Alice A."
    assert doc["inbox"] == f"{me}/inbox"
    assert doc["outbox"] == f"{me}/outbox"
    assert doc["followers"] == f"{me}/followers"
    assert doc["following"] == f"{me}/following"
    assert doc["featured"] == f"{me}/collections/featured"
    assert doc["featuredTags"] == f"{me}/collections/tags"
    assert doc["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert doc["url"] == f"{BASE}/@alice"
    assert doc["webfinger"] == "alice@parvis.test"
    assert doc["manuallyApprovesFollowers"] is False
    assert doc["discoverable"] is True and doc["indexable"] is True
    assert doc["published"].endswith("T00:00:00Z")
    key = doc["publicKey"]
    assert key["id"] == f"{me}#main-key" and key["owner"] == me
    public = load_pem_public_key(key["publicKeyPem"].encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    # Made once: the next fetch shows the same key, and deliveries sign with its pair.
    assert fetch(client, "/users/alice")["publicKey"] == key


def test_signing_key_matches_the_published_key(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client, "alice")
    aid = int(alice.id)
    signing = parvis.runtime.write(lambda work: actors.ensure_keys(work, aid))
    assert signing.key_id == f"{BASE}/users/alice#main-key"
    again = parvis.runtime.write(lambda work: actors.ensure_keys(work, aid))
    assert again == signing
    published = fetch(client, "/users/alice")["publicKey"]["publicKeyPem"]
    headers = httpsig.sign_request(
        "GET", f"{BASE}/x", {}, None, signing.key_id, signing.private_key_pem, now=datetime.now(UTC)
    )
    info = httpsig.verify_request(
        "GET", f"{BASE}/x", headers, None, published, now=datetime.now(UTC)
    )
    assert info.key_id == signing.key_id


def test_bots_locked_accounts_and_profile_fields(client: TestClient) -> None:
    robot = make_user(client, "robot", locked=True)
    ok(
        robot.patch(
            "/api/v1/accounts/update_credentials",
            data={
                "bot": "true",
                "discoverable": "false",
                "fields_attributes[0][name]": "site",
                "fields_attributes[0][value]": "https://example.org",
            },
        )
    )
    doc = fetch(client, "/users/robot")
    assert doc["type"] == "Service"
    assert doc["manuallyApprovesFollowers"] is True
    assert doc["discoverable"] is False
    [field] = doc["attachment"]
    assert field["type"] == "PropertyValue" and field["name"] == "site"
    assert "https://example.org" in field["value"]


def test_usernames_are_case_insensitive_and_unknown_ones_404(client: TestClient) -> None:
    make_user(client, "alice")
    assert fetch(client, "/users/ALICE")["id"] == f"{BASE}/users/alice"
    for path in ("/users/nobody", "/users/nobody/outbox", "/users/a%20b", "/users/x/followers"):
        r = client.get(path, headers=AP)
        assert r.status_code == 404, path
        assert r.json()["error"]


def test_content_negotiation(client: TestClient) -> None:
    alice = make_user(client, "alice")
    post = alice.status("hello")
    assert fetch(client, "/users/alice", **LD)["id"] == f"{BASE}/users/alice"
    browser = client.get("/users/alice", headers=BROWSER, follow_redirects=False)
    assert browser.status_code == 302 and browser.headers["location"] == "/@alice"
    page = client.get(status_path(alice, post), headers=BROWSER, follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == f"/@alice/{post['id']}"
    no_accept = client.get("/users/alice/followers", follow_redirects=False)
    assert no_accept.headers["location"] == "/@alice/followers"
    # The web addresses answer JSON to ActivityPub requests, and HTML to browsers.
    assert fetch(client, "/@alice")["id"] == f"{BASE}/users/alice"
    assert fetch(client, f"/@alice/{post['id']}")["id"] == post["uri"]
    html = client.get("/@alice", headers=BROWSER)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    html = client.get(f"/@alice/{post['id']}", headers=BROWSER)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")


def test_suspended_actor(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client, "alice")
    post = alice.status("hello")
    fetch(client, "/users/alice")
    suspend(parvis, int(alice.id))
    doc = fetch(client, "/users/alice")
    assert doc["suspended"] is True
    assert doc["summary"] == "" and doc["attachment"] == []
    assert doc["publicKey"]["owner"] == f"{BASE}/users/alice"
    for path in (status_path(alice, post), "/users/alice/outbox", "/users/alice/followers"):
        assert client.get(path, headers=AP).status_code == 404, path


def suspend(parvis: Parvis, account_id: int) -> None:
    def run(work: Work) -> None:
        work.store.accounts.update(account_id, {"suspended_at": work.now()})

    parvis.runtime.write(run)


def test_moved_account_and_aliases(client: TestClient, parvis: Parvis) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")

    def run(work: Work) -> None:
        work.store.accounts.update(int(alice.id), {"moved_to_account_id": int(bob.id)})
        work.store.conn.execute(
            account_aliases.insert().values(
                id=new_id(),
                account_id=int(bob.id),
                uri=f"{BASE}/users/alice",
                created_at=work.now(),
            )
        )

    parvis.runtime.write(run)
    assert fetch(client, "/users/alice")["movedTo"] == f"{BASE}/users/bob"
    assert fetch(client, "/users/bob")["alsoKnownAs"] == [f"{BASE}/users/alice"]


# -- the instance actor ------------------------------------------------------------------------


def test_instance_actor_and_its_key_file(client: TestClient, parvis: Parvis) -> None:
    doc = fetch(client, "/actor")
    assert doc["id"] == f"{BASE}/actor"
    assert doc["type"] == "Application"
    assert doc["preferredUsername"] == "parvis.test"
    assert doc["manuallyApprovesFollowers"] is True
    assert doc["inbox"] == f"{BASE}/inbox"
    assert doc["publicKey"]["id"] == f"{BASE}/actor#main-key"
    path = parvis.settings.data_dir / actors.INSTANCE_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = actors.instance_key(parvis.settings)
    assert key.key_id == f"{BASE}/actor#main-key"
    headers = httpsig.sign_request(
        "GET", f"{BASE}/x", {}, None, key.key_id, key.private_key_pem, now=datetime.now(UTC)
    )
    httpsig.verify_request(
        "GET", f"{BASE}/x", headers, None, doc["publicKey"]["publicKeyPem"], now=datetime.now(UTC)
    )
    # Another process on the same data directory uses the same key.
    other = build(parvis.settings)
    try:
        assert actors.instance_key(other.settings) == key
    finally:
        other.close()
    assert fetch(client, "/actor/outbox")["totalItems"] == 0
    browser = client.get("/actor", headers=BROWSER, follow_redirects=False)
    assert browser.headers["location"] == "/about"


# -- posts -------------------------------------------------------------------------------------


def test_public_note(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    parent = bob.status("first")
    post = alice.status(
        "@bob hello #Fediverse",
        in_reply_to_id=parent["id"],
        spoiler_text="greetings",
        language="en",
    )
    doc = fetch(client, status_path(alice, post))
    assert doc["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert doc["id"] == post["uri"] == f"{BASE}/users/alice/statuses/{post['id']}"
    assert doc["type"] == "Note"
    assert doc["url"] == post["url"]
    assert doc["attributedTo"] == f"{BASE}/users/alice"
    assert doc["inReplyTo"] == parent["uri"]
    assert doc["to"] == [AS_PUBLIC]
    assert doc["cc"] == [f"{BASE}/users/alice/followers", f"{BASE}/users/bob"]
    assert doc["summary"] == "greetings" and doc["sensitive"] is True
    assert doc["content"] == post["content"]
    assert doc["contentMap"] == {"en": post["content"]}
    assert {"type": "Mention", "href": f"{BASE}/users/bob", "name": "@bob@parvis.test"} in doc[
        "tag"
    ]
    assert {"type": "Hashtag", "href": f"{BASE}/tags/fediverse", "name": "#fediverse"} in doc["tag"]
    assert doc["published"].endswith("Z") and "updated" not in doc
    assert doc["replies"]["id"] == f"{post['uri']}/replies"
    create = fetch(client, f"{status_path(alice, post)}/activity")
    assert create["type"] == "Create" and create["id"] == f"{post['uri']}/activity"
    assert create["object"] == {k: v for k, v in doc.items() if k != "@context"}


def test_edited_note_says_when(client: TestClient) -> None:
    alice = make_user(client, "alice")
    post = alice.status("draft")
    ok(alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "final"}))
    doc = fetch(client, status_path(alice, post))
    assert "final" in doc["content"]
    assert doc["updated"] >= doc["published"]


@pytest.mark.parametrize(
    ("visibility", "served"),
    [("public", True), ("unlisted", True), ("private", False), ("direct", False)],
)
def test_only_public_and_unlisted_posts_are_served(
    client: TestClient, visibility: str, served: bool
) -> None:
    alice = make_user(client, "alice")
    make_user(client, "bob")
    post = alice.status("@bob hi", visibility=visibility)
    for suffix in ("", "/activity", "/replies", "/likes"):
        r = client.get(status_path(alice, post) + suffix, headers=AP)
        assert r.status_code == (200 if served else 404), (visibility, suffix)
    if visibility == "unlisted":
        doc = fetch(client, status_path(alice, post))
        assert doc["to"] == [f"{BASE}/users/alice/followers"]
        assert doc["cc"] == [AS_PUBLIC, f"{BASE}/users/bob"]


def test_deleted_withheld_and_foreign_posts_are_not_served(
    client: TestClient, parvis: Parvis
) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    gone, removed, disabled = alice.status("a"), alice.status("b"), alice.status("c")
    ok(alice.delete(f"/api/v1/statuses/{gone['id']}"))

    def restrict(work: Work) -> None:
        work.store.statuses.update(int(removed["id"]), {"restriction": "remove"})
        work.store.statuses.update(int(disabled["id"]), {"restriction": "disable"})

    parvis.runtime.write(restrict)
    for post in (gone, removed, disabled):
        assert client.get(status_path(alice, post), headers=AP).status_code == 404
    # Someone else's post under alice's name, and ids that are no ids.
    theirs = bob.status("mine")
    for path in (
        f"/users/alice/statuses/{theirs['id']}",
        "/users/alice/statuses/abc",
        "/users/alice/statuses/99999999999999999999",
    ):
        assert client.get(path, headers=AP).status_code == 404, path
    outbox = fetch(client, "/users/alice/outbox?page=true")
    assert outbox["orderedItems"] == []
    assert fetch(client, "/users/alice/outbox")["totalItems"] == 0


def test_boost_is_an_announce(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    post = bob.status("boost me")
    boost = ok(alice.post(f"/api/v1/statuses/{post['id']}/reblog"))
    assert boost["uri"].endswith("/activity")
    doc = fetch(client, boost["uri"])
    assert doc["type"] == "Announce"
    assert doc["id"] == boost["uri"]
    assert doc["actor"] == f"{BASE}/users/alice"
    assert doc["object"] == post["uri"]
    assert doc["to"] == [AS_PUBLIC]
    assert doc["cc"] == [f"{BASE}/users/bob", f"{BASE}/users/alice/followers"]
    # A boost has no Note of its own.
    path = boost["uri"].removeprefix(BASE).removesuffix("/activity")
    assert client.get(path, headers=AP).status_code == 404
    assert fetch(client, post["uri"] + "/shares")["totalItems"] == 1


def test_attachments_with_alt_text(client: TestClient) -> None:
    alice = make_user(client, "alice")
    png = BytesIO()
    Image.new("RGB", (64, 32), (10, 200, 10)).save(png, "PNG")
    media = alice.post(
        "/api/v2/media",
        files={"file": ("g.png", png.getvalue(), "image/png")},
        data={"description": "A green rectangle", "focus": "0.5,-0.25"},
    )
    assert media.status_code in (200, 202), media.text
    post = alice.status("look", media_ids=[media.json()["id"]], sensitive=True)
    [att] = fetch(client, status_path(alice, post))["attachment"]
    assert att["type"] == "Document"
    assert att["name"] == "A green rectangle"
    assert att["url"] == post["media_attachments"][0]["url"]
    assert att["mediaType"].startswith("image/")
    assert (att["width"], att["height"]) == (64, 32)
    assert att["focalPoint"] == [0.5, -0.25]
    assert att["blurhash"] == post["media_attachments"][0]["blurhash"]
    assert client.get(att["url"].removeprefix(BASE)).status_code == 200


def test_poll_is_a_question(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    post = alice.status(
        "which?", poll={"options": ["tea", "coffee"], "expires_in": 3600, "multiple": False}
    )
    ok(bob.post(f"/api/v1/polls/{post['poll']['id']}/votes", json={"choices": ["1"]}))
    doc = fetch(client, status_path(alice, post))
    assert doc["type"] == "Question"
    assert [(o["name"], o["replies"]["totalItems"]) for o in doc["oneOf"]] == [
        ("tea", 0),
        ("coffee", 1),
    ]
    assert doc["votersCount"] == 1
    assert doc["endTime"] == post["poll"]["expires_at"][:19] + "Z"
    assert "closed" not in doc


def test_quote_and_its_authorization(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    original = alice.status("quotable")
    quoting = bob.status("so true", quoted_status_id=original["id"])
    doc = fetch(client, status_path(bob, quoting))
    assert doc["quote"] == doc["_misskey_quote"] == doc["quoteUri"] == original["uri"]
    approval = doc["quoteAuthorization"]
    assert approval == f"{BASE}/users/alice/quote_authorizations/{quoting['id']}"
    stamp = fetch(client, approval)
    assert stamp["type"] == "QuoteAuthorization"
    assert stamp["id"] == approval
    assert stamp["attributedTo"] == f"{BASE}/users/alice"
    assert stamp["interactingObject"] == quoting["uri"]
    assert stamp["interactionTarget"] == original["uri"]
    assert doc["interactionPolicy"] == {"canQuote": {"automaticApproval": [AS_PUBLIC]}}
    # Revoked: the quote stays, the approval goes.
    ok(alice.post(f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke"))
    assert client.get(approval.removeprefix(BASE), headers=AP).status_code == 404
    doc = fetch(client, status_path(bob, quoting))
    assert doc["quote"] == original["uri"] and "quoteAuthorization" not in doc


# -- collections -------------------------------------------------------------------------------


def test_outbox_pages(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    posts = [alice.status(f"post {i}") for i in range(22)]
    alice.status("hidden", visibility="private")
    alice.status("@bob hidden", visibility="direct")
    unlisted = alice.status("quiet", visibility="unlisted")
    theirs = bob.status("boost me")
    boost = ok(alice.post(f"/api/v1/statuses/{theirs['id']}/reblog"))
    outbox = fetch(client, "/users/alice/outbox")
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 24  # 22 public, 1 unlisted, 1 boost
    assert outbox["first"] == f"{BASE}/users/alice/outbox?page=true"
    assert outbox["last"] == f"{BASE}/users/alice/outbox?min_id=0&page=true"
    first = fetch(client, outbox["first"])
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == f"{BASE}/users/alice/outbox"
    items = first["orderedItems"]
    assert len(items) == 20
    assert items[0]["type"] == "Announce" and items[0]["id"] == boost["uri"]
    assert items[1]["type"] == "Create" and items[1]["object"]["id"] == unlisted["uri"]
    assert all("@context" not in item for item in items)
    second = fetch(client, first["next"])
    ids = [i["object"]["id"] for i in items[1:]] + [
        i["object"]["id"] for i in second["orderedItems"]
    ]
    assert ids == [unlisted["uri"]] + [p["uri"] for p in reversed(posts)]
    assert "next" not in second
    back = fetch(client, second["prev"])
    assert [i["id"] for i in back["orderedItems"]] == [i["id"] for i in items]
    oldest = fetch(client, outbox["last"])
    assert oldest["orderedItems"][-1]["object"]["id"] == posts[0]["uri"]


def test_followers_and_following(client: TestClient) -> None:
    alice = make_user(client, "alice")
    fans = [make_user(client, f"fan{i}") for i in range(3)]
    for fan in fans:
        follow(fan, alice)
    follow(alice, fans[0])
    followers = fetch(client, "/users/alice/followers")
    assert followers == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{BASE}/users/alice/followers",
        "type": "OrderedCollection",
        "totalItems": 3,
        "first": f"{BASE}/users/alice/followers?page=true",
    }
    page = fetch(client, followers["first"])
    assert page["orderedItems"] == [f"{BASE}/users/{f.username}" for f in reversed(fans)]
    assert page["partOf"] == followers["id"] and page["totalItems"] == 3
    following = fetch(client, fetch(client, "/users/alice/following")["first"])
    assert following["orderedItems"] == [f"{BASE}/users/fan0"]


def test_hidden_collections_show_counts_only(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    follow(bob, alice)
    ok(alice.patch("/api/v1/accounts/update_credentials", data={"hide_collections": "true"}))
    for kind in ("followers", "following"):
        doc = fetch(client, f"/users/alice/{kind}")
        assert doc["totalItems"] == (1 if kind == "followers" else 0)
        assert "first" not in doc and "orderedItems" not in doc
        r = client.get(f"/users/alice/{kind}?page=true", headers=AP)
        assert r.status_code == 403


def test_featured_posts_and_tags(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client, "alice")
    pinned, withheld = alice.status("pin me"), alice.status("pinned, then removed")
    for post in (pinned, withheld):
        ok(alice.post(f"/api/v1/statuses/{post['id']}/pin"))
    parvis.runtime.write(
        lambda work: work.store.statuses.update(int(withheld["id"]), {"restriction": "remove"})
    )
    ok(alice.post("/api/v1/featured_tags", data={"name": "Cats"}))
    featured = fetch(client, "/users/alice/collections/featured")
    assert featured["type"] == "OrderedCollection"
    assert featured["totalItems"] == 1
    [note] = featured["orderedItems"]
    assert note["id"] == pinned["uri"] and note["type"] == "Note"
    tags = fetch(client, "/users/alice/collections/tags")
    assert tags["totalItems"] == 1
    assert tags["items"] == [{"type": "Hashtag", "href": f"{BASE}/tags/cats", "name": "#Cats"}]


def test_replies_collection(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    post = alice.status("thread")
    answers = [bob.status("re", in_reply_to_id=post["id"]) for _ in range(2)]
    bob.status("secret re", in_reply_to_id=post["id"], visibility="private")
    replies = fetch(client, f"{status_path(alice, post)}/replies")
    assert replies["type"] == "Collection"
    page = fetch(client, replies["first"])
    assert page["type"] == "CollectionPage"
    assert page["items"] == [a["uri"] for a in answers]
    ok(bob.post(f"/api/v1/statuses/{post['id']}/favourite"))
    assert fetch(client, f"{status_path(alice, post)}/likes")["totalItems"] == 1


# -- signed fetches ----------------------------------------------------------------------------


def remote_account(parvis: Parvis, name: str, domain: str) -> tuple[int, str, str]:
    """A remote account as intake stores one (with its public key): (id, key id, private)."""
    private, public = httpsig.generate_key_pair()
    uri = f"https://{domain}/users/{name}"
    account_id = new_id()

    def run(work: Work) -> None:
        now = work.now()
        work.store.accounts.insert(
            {
                "id": account_id,
                "username": name,
                "domain": domain,
                "display_name": "",
                "note": "",
                "note_html": "",
                "fields_json": "[]",
                "uri": uri,
                "url": f"https://{domain}/@{name}",
                "inbox_uri": f"{uri}/inbox",
                "public_key_pem": public,
                "key_uri": f"{uri}#main-key",
                "created_at": now,
                "updated_at": now,
            }
        )

    parvis.runtime.write(run)
    return account_id, f"{uri}#main-key", private


def signed(client: TestClient, path: str, key_id: str, private: str) -> Any:
    headers = httpsig.sign_request(
        "GET", f"{BASE}{path}", dict(AP), None, key_id, private, now=datetime.now(UTC)
    )
    return client.get(path, headers={**AP, **headers})


def test_followers_fetch_followers_only_posts_with_a_signature(
    client: TestClient, parvis: Parvis
) -> None:
    alice = make_user(client, "alice")
    fan_id, fan_key, fan_private = remote_account(parvis, "fan", "remote.example")
    _, stranger_key, stranger_private = remote_account(parvis, "stranger", "remote.example")
    parvis.runtime.write(
        lambda work: work.store.social.add("follows", fan_id, int(alice.id), work.now())
    )
    post = alice.status("for followers", visibility="private")
    path = status_path(alice, post)
    assert client.get(path, headers=AP).status_code == 404
    r = signed(client, path, fan_key, fan_private)
    assert r.status_code == 200, r.text
    assert r.json()["to"] == [f"{BASE}/users/alice/followers"]
    assert "private" in r.headers["cache-control"]
    assert signed(client, path, stranger_key, stranger_private).status_code == 404
    # A signature that does not verify is no one's: anonymous, so 404 here.
    assert signed(client, path, fan_key, stranger_private).status_code == 404


@pytest.mark.parametrize("parvis", [{"authorized_fetch": True}], indirect=True)
def test_authorized_fetch(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client, "alice")
    post = alice.status("hello")
    path = status_path(alice, post)
    _, key_id, private = remote_account(parvis, "peer", "remote.example")
    refused = client.get(path, headers=AP)
    assert refused.status_code == 401 and refused.json()["error"]
    for p in ("/users/alice/outbox", "/users/alice/followers", f"{path}/activity"):
        assert client.get(p, headers=AP).status_code == 401, p
    # Unsigned actor fetches get the bare actor, enough to check signatures.
    bare = fetch(client, "/users/alice")
    assert set(bare) == {"@context", "id", "type", "inbox", "publicKey", "endpoints"}
    assert fetch(client, "/actor")["type"] == "Application"
    r = signed(client, path, key_id, private)
    assert r.status_code == 200 and r.json()["id"] == post["uri"]
    full = signed(client, "/users/alice", key_id, private)
    assert full.json()["preferredUsername"] == "alice"
    _, _, other_private = remote_account(parvis, "other", "remote.example")
    assert signed(client, path, key_id, other_private).status_code == 401
    assert signed(client, path, "https://unknown.example/u#k", other_private).status_code == 401


@pytest.mark.parametrize("parvis", [{"authorized_fetch": True}], indirect=True)
def test_authorized_fetch_refuses_suspended_servers(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client, "alice")
    post = alice.status("hello")
    _, key_id, private = remote_account(parvis, "peer", "bad.example")

    def block(work: Work) -> None:
        work.store.conn.execute(
            instance_domain_blocks.insert().values(
                id=new_id(), domain="bad.example", severity="suspend", created_at=work.now()
            )
        )

    parvis.runtime.write(block)
    r = signed(client, status_path(alice, post), key_id, private)
    assert r.status_code == 403


@pytest.mark.parametrize("parvis", [{"authorized_fetch": True}], indirect=True)
def test_authorized_fetch_fetches_an_unknown_signer(client: TestClient, parvis: Parvis) -> None:
    """First contact: the signer's actor is fetched (signed by our instance actor, through the
    real HTTP client over a mock transport), stored, and the signature then verifies."""
    alice = make_user(client, "alice")
    post = alice.status("hello")
    private, public = httpsig.generate_key_pair()
    peer = "https://newpeer.example/users/peer"
    asked: list[httpx2.Request] = []

    def serve(request: httpx2.Request) -> httpx2.Response:
        asked.append(request)
        if str(request.url) != peer:
            return httpx2.Response(404)
        doc = render.actor(
            render.ActorDoc(
                uri=peer,
                type="Person",
                username="peer",
                key_id=f"{peer}#main-key",
                public_key_pem=public,
                inbox=f"{peer}/inbox",
            )
        )
        return httpx2.Response(
            200, content=orjson.dumps(doc), headers={"Content-Type": "application/activity+json"}
        )

    parvis.runtime.http = HttpClient(
        parvis.settings,
        transport=httpx2.MockTransport(serve),
        resolver=lambda host, port: ["93.184.216.34"],
    )
    r = signed(client, status_path(alice, post), f"{peer}#main-key", private)
    assert r.status_code == 200, r.text
    assert [str(a.url) for a in asked] == [peer]
    assert "signature" in asked[0].headers  # fetched as the instance actor
    # Known now: no second fetch.
    assert signed(client, status_path(alice, post), f"{peer}#main-key", private).status_code == 200
    assert len(asked) == 1
    # A key its actor does not publish is no one's.
    other_private, _ = httpsig.generate_key_pair()
    bad = signed(client, status_path(alice, post), f"{peer}#other-key", other_private)
    assert bad.status_code == 401
