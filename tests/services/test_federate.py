"""Local changes federate, with the real app and database: one delivery row per distinct inbox,
written in the same transaction as the change (a rolled-back change leaves none), audiences as
Mastodon's (direct messages to the mentioned only), and nothing at all for all-local audiences.

The HTTP client is taken away (`runtime.http` is None), so rows stay pending: delivery itself is
tests/jobs/test_deliver.py's business. Remote accounts are rows as the intake writes them."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.ids import new_id
from parvis.services import moderation, notices, posting
from parvis.services.context import Work
from parvis.storage.deliveries import DeliveryRow
from tests.builders import User, follow, make_user, ok

_n = itertools.count(1)


@pytest.fixture(autouse=True)
def offline(parvis: Parvis) -> None:
    """No HTTP client: the rows stay pending, and nothing asks DNS about *.example."""
    parvis.runtime.http = None


def remote(
    parvis: Parvis,
    domain: str = "remote.example",
    *,
    shared: bool = True,
    inbox: bool = True,
    username: str | None = None,
) -> int:
    """A remote account row as the intake stores it."""
    name = username or f"r{next(_n)}"
    base = f"https://{domain}"

    def run(work: Work) -> int:
        account_id = new_id()
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
                "uri": f"{base}/users/{name}",
                "url": f"{base}/@{name}",
                "inbox_uri": f"{base}/users/{name}/inbox" if inbox else None,
                "shared_inbox_uri": f"{base}/inbox" if shared else None,
                "created_at": now,
                "updated_at": now,
            }
        )
        return account_id

    return parvis.runtime.write(run)


def remote_follows(parvis: Parvis, follower_id: int, user: User) -> None:
    def run(work: Work) -> None:
        uri = f"https://remote.example/follows/{new_id()}"
        work.store.social.add("follows", follower_id, int(user.id), work.now(), uri=uri)
        work.store.accounts.adjust_counts(int(user.id), followers_count=1)

    parvis.runtime.write(run)


def remote_status(parvis: Parvis, author_id: int) -> int:
    def run(work: Work) -> int:
        account = work.store.accounts.get(author_id)
        assert account is not None
        status_id = new_id()
        work.store.statuses.insert(
            {
                "id": status_id,
                "account_id": author_id,
                "uri": f"{account.uri}/statuses/{status_id}",
                "url": f"{account.url}/{status_id}",
                "local": False,
                "text": "",
                "content": "<p>hello from afar</p>",
                "visibility": "public",
                "created_at": work.now(),
            }
        )
        return status_id

    return parvis.runtime.write(run)


def rows(parvis: Parvis) -> list[DeliveryRow]:
    return parvis.runtime.read(lambda w: w.store.deliveries.latest(1000))


def activities(parvis: Parvis) -> dict[str, list[str]]:
    """Activity type -> inboxes it is queued for."""
    out: dict[str, list[str]] = {}
    for row in rows(parvis):
        out.setdefault(orjson.loads(row.body)["type"], []).append(row.inbox_uri)
    return {k: sorted(v) for k, v in out.items()}


def body_of(parvis: Parvis, kind: str) -> dict[str, Any]:
    found = [orjson.loads(r.body) for r in rows(parvis) if orjson.loads(r.body)["type"] == kind]
    assert found, f"no {kind} queued"
    return dict(found[0])


def test_a_post_goes_once_to_each_distinct_inbox(client: TestClient, parvis: Parvis) -> None:
    alice, local_fan = make_user(client), make_user(client)
    follow(local_fan, alice)
    for _ in range(3):  # three followers behind one shared inbox
        remote_follows(parvis, remote(parvis, "remote.example"), alice)
    remote_follows(parvis, remote(parvis, "solo.example", shared=False, username="solo"), alice)
    status = alice.status("Hello, fediverse")
    queued = rows(parvis)
    assert sorted(r.inbox_uri for r in queued) == [
        "https://remote.example/inbox",
        "https://solo.example/users/solo/inbox",
    ]
    assert {r.state for r in queued} == {"pending"}
    assert {r.host for r in queued} == {"remote.example", "solo.example"}
    create = orjson.loads(queued[0].body)
    assert create["type"] == "Create"
    assert create["actor"] == "https://parvis.test/users/" + alice.username
    assert create["object"]["id"] == status["uri"]
    assert create["id"] == queued[0].activity_uri
    assert "https://www.w3.org/ns/activitystreams#Public" in create["to"]


def test_the_outbox_commits_or_rolls_back_with_the_post(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client)
    remote_follows(parvis, remote(parvis), alice)
    written: list[int] = []

    def post_then_fail(work: Work) -> None:
        status = posting.create_status(work, int(alice.id), posting.NewStatus(text="oops"))
        written.append(len(work.store.deliveries.for_activity(status.uri + "/activity")))
        raise RuntimeError("the request failed after the post")

    with pytest.raises(RuntimeError):
        parvis.runtime.write(post_then_fail)
    assert written == [1]  # the row was there, in the transaction
    assert rows(parvis) == []  # and went with it
    assert ok(alice.get(f"/api/v1/accounts/{alice.id}/statuses")) == []


def test_a_direct_message_goes_only_to_the_mentioned(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client)
    remote_follows(parvis, remote(parvis, "followers.example"), alice)
    remote(parvis, "friend.example", username="bob")
    alice.status("@bob@friend.example just for you", visibility="direct")
    assert activities(parvis) == {"Create": ["https://friend.example/inbox"]}
    create = body_of(parvis, "Create")
    assert create["to"] == ["https://friend.example/users/bob"]
    assert "https://www.w3.org/ns/activitystreams#Public" not in str(create)


def test_followers_only_posts_reach_followers_and_mentions(
    client: TestClient, parvis: Parvis
) -> None:
    alice = make_user(client)
    remote_follows(parvis, remote(parvis, "followers.example"), alice)
    remote(parvis, "friend.example", username="carol")
    alice.status("@carol@friend.example hi", visibility="private")
    assert activities(parvis) == {
        "Create": ["https://followers.example/inbox", "https://friend.example/inbox"]
    }


def test_all_local_audiences_write_nothing(client: TestClient, parvis: Parvis) -> None:
    alice, bob = make_user(client), make_user(client, locked=True)
    follow(alice, bob)  # a local request
    ok(bob.post(f"/api/v1/follow_requests/{alice.id}/authorize"))
    status = bob.status(f"@{alice.username} a local mention")
    ok(alice.post(f"/api/v1/statuses/{status['id']}/favourite"))
    ok(alice.post(f"/api/v1/statuses/{status['id']}/reblog"))
    ok(alice.post(f"/api/v1/statuses/{status['id']}/unreblog"))
    ok(bob.put(f"/api/v1/statuses/{status['id']}", data={"status": "edited"}))
    ok(bob.patch("/api/v1/accounts/update_credentials", data={"display_name": "Bob"}))
    ok(bob.delete(f"/api/v1/statuses/{status['id']}"))
    ok(alice.post(f"/api/v1/accounts/{bob.id}/block"))
    # A remote account without any inbox cannot be reached: nothing either.
    remote_follows(parvis, remote(parvis, "mute.example", inbox=False, shared=False), bob)
    bob.status("nobody out there can hear this")
    assert rows(parvis) == []


def test_following_a_remote_account_waits_for_its_accept(
    client: TestClient, parvis: Parvis
) -> None:
    alice = make_user(client)
    bob = remote(parvis, "remote.example", username="bob")
    relationship = ok(alice.post(f"/api/v1/accounts/{bob}/follow"))
    assert relationship["requested"] is True and relationship["following"] is False
    request = parvis.runtime.read(
        lambda w: w.store.social.get("follow_requests", int(alice.id), bob)
    )
    assert request is not None and request["uri"]
    follow_activity = body_of(parvis, "Follow")
    assert follow_activity["id"] == request["uri"]
    assert follow_activity["object"] == "https://remote.example/users/bob"
    assert activities(parvis) == {"Follow": ["https://remote.example/inbox"]}

    ok(alice.post(f"/api/v1/accounts/{bob}/unfollow"))
    undo = body_of(parvis, "Undo")
    assert undo["object"]["type"] == "Follow" and undo["object"]["id"] == request["uri"]
    assert (
        parvis.runtime.read(lambda w: w.store.social.get("follow_requests", int(alice.id), bob))
        is None
    )


def test_likes_boosts_and_their_undoing(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client)
    author = remote(parvis, "author.example", username="dave")
    remote_follows(parvis, remote(parvis, "fans.example"), alice)
    status_id = remote_status(parvis, author)
    ok(alice.post(f"/api/v1/statuses/{status_id}/favourite"))
    ok(alice.post(f"/api/v1/statuses/{status_id}/unfavourite"))
    ok(alice.post(f"/api/v1/statuses/{status_id}/reblog"))
    ok(alice.post(f"/api/v1/statuses/{status_id}/unreblog"))
    assert activities(parvis) == {
        "Like": ["https://author.example/inbox"],
        "Announce": ["https://author.example/inbox", "https://fans.example/inbox"],
        "Undo": [
            "https://author.example/inbox",
            "https://author.example/inbox",
            "https://fans.example/inbox",
        ],
    }
    like = body_of(parvis, "Like")
    undos = [orjson.loads(r.body) for r in rows(parvis) if '"type":"Undo"' in r.body]
    assert like["id"] in {u["object"]["id"] for u in undos}


def test_edits_and_deletions_follow_the_post(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client)
    remote_follows(parvis, remote(parvis, "fans.example"), alice)
    booster = remote(parvis, "boosts.example")
    status = alice.status("first words")
    ok(alice.put(f"/api/v1/statuses/{status['id']}", data={"status": "better words"}))
    update = body_of(parvis, "Update")
    assert update["object"]["id"] == status["uri"]
    assert "better words" in update["object"]["content"]

    def boost(work: Work) -> None:  # a remote boost, as the intake records it
        work.store.statuses.insert(
            {
                "id": new_id(),
                "account_id": booster,
                "uri": f"https://boosts.example/activities/{new_id()}",
                "local": False,
                "reblog_of_id": int(status["id"]),
                "visibility": "public",
                "created_at": work.now(),
            }
        )

    parvis.runtime.write(boost)
    ok(alice.delete(f"/api/v1/statuses/{status['id']}"))
    delete = body_of(parvis, "Delete")
    assert delete["object"] == {"id": status["uri"], "type": "Tombstone"}
    assert activities(parvis)["Delete"] == [
        "https://boosts.example/inbox",
        "https://fans.example/inbox",
    ]


def test_answering_remote_follow_requests(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client, locked=True)
    asker, refused = remote(parvis, "a.example"), remote(parvis, "b.example")

    def requests(work: Work) -> None:
        for who in (asker, refused):
            uri = f"https://x.example/follows/{who}"
            work.store.social.add("follow_requests", who, int(alice.id), work.now(), uri=uri)

    parvis.runtime.write(requests)
    ok(alice.post(f"/api/v1/follow_requests/{asker}/authorize"))
    ok(alice.post(f"/api/v1/follow_requests/{refused}/reject"))
    accept, reject = body_of(parvis, "Accept"), body_of(parvis, "Reject")
    assert accept["object"]["id"] == f"https://x.example/follows/{asker}"
    asker_uri = parvis.runtime.read(lambda w: w.store.accounts.get(asker))
    assert asker_uri is not None and accept["object"]["actor"] == asker_uri.uri
    assert reject["object"]["id"] == f"https://x.example/follows/{refused}"
    assert activities(parvis) == {
        "Accept": ["https://a.example/inbox"],
        "Reject": ["https://b.example/inbox"],
    }
    # Removing the follower later rejects the same Follow.
    ok(alice.post(f"/api/v1/accounts/{asker}/remove_from_followers"))
    rejects = [orjson.loads(r.body) for r in rows(parvis) if '"type":"Reject"' in r.body]
    assert {r["object"]["id"] for r in rejects} == {
        f"https://x.example/follows/{asker}",
        f"https://x.example/follows/{refused}",
    }


def test_blocks_and_profile_updates(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client)
    remote_follows(parvis, remote(parvis, "fans.example"), alice)
    troll = remote(parvis, "trolls.example")
    ok(alice.post(f"/api/v1/accounts/{troll}/block"))
    ok(alice.post(f"/api/v1/accounts/{troll}/unblock"))
    block, undo = body_of(parvis, "Block"), body_of(parvis, "Undo")
    assert undo["object"]["id"] == block["id"]
    ok(alice.patch("/api/v1/accounts/update_credentials", data={"display_name": "Alice A."}))
    update = body_of(parvis, "Update")
    assert update["object"]["type"] == "Person" and update["object"]["name"] == "Alice A."
    assert activities(parvis) == {
        "Block": ["https://trolls.example/inbox"],
        "Undo": ["https://trolls.example/inbox"],
        "Update": ["https://fans.example/inbox"],
    }


def test_a_moderators_removal_deletes_remote_copies(client: TestClient, parvis: Parvis) -> None:
    author, reader = make_user(client), make_user(client)
    mod = make_user(client)
    parvis.runtime.write(lambda w: w.store.accounts.update_user(int(mod.id), {"role": "moderator"}))
    remote_follows(parvis, remote(parvis, "fans.example"), author)
    status = author.status("to be removed")
    notice = notices.NewNotice(
        category="racial_hatred",
        explanation="It insults a group of people.",
        items=(notices.Item(status_id=int(status["id"])),),
        good_faith=True,
    )
    parvis.runtime.write(lambda w: notices.submit(w, int(reader.id), notice))
    case = parvis.runtime.read(lambda w: w.store.cases.for_subject("status", int(status["id"])))
    assert case is not None
    verdict = moderation.Verdict(
        action="remove", ground="rule", rule_id="2", explanation="A threat against a person."
    )
    parvis.runtime.write(lambda w: moderation.decide(w, int(mod.id), case.id, verdict))
    assert activities(parvis) == {
        "Create": ["https://fans.example/inbox"],
        "Delete": ["https://fans.example/inbox"],
    }
    assert body_of(parvis, "Delete")["object"]["id"] == status["uri"]


def test_a_forwarded_report_is_a_flag_from_the_instance_actor(
    client: TestClient, parvis: Parvis
) -> None:
    from parvis.services import federate

    reporter = make_user(client)
    spammer = remote(parvis, "spam.example")
    status_id = remote_status(parvis, spammer)
    sent = parvis.runtime.write(
        lambda w: federate.report_forwarded(
            w, int(reporter.id), spammer, [status_id], "spam, again", 42
        )
    )
    assert sent
    flag = body_of(parvis, "Flag")
    assert flag["actor"] == "https://parvis.test/actor"
    assert flag["object"][0] == "https://spam.example/users/" + flag["object"][0].rsplit("/")[-1]
    assert len(flag["object"]) == 2 and reporter.username not in orjson.dumps(flag).decode()


def test_publishing_skips_our_own_and_refused_inboxes(parvis: Parvis) -> None:
    from parvis.services import outbox

    account_id = remote(parvis)  # any account row will do as the signer here

    def run(work: Work) -> int:
        return outbox.publish(
            work,
            account_id,
            {"id": "https://parvis.test/x", "type": "Like"},
            [
                "https://parvis.test/inbox",
                "http://127.0.0.1/inbox",  # refused later anyway; written, then failed
                "ftp://remote.example/inbox",
                "https://user@remote.example/inbox",
                "https://ok.example/inbox",
                "https://ok.example/inbox",
            ],
        )

    assert parvis.runtime.write(run) == 2
    assert sorted(r.inbox_uri for r in rows(parvis)) == [
        "http://127.0.0.1/inbox",
        "https://ok.example/inbox",
    ]
