"""Three Parvis servers on loopback federating through their real inboxes, outboxes, signatures
and job workers (see loopback.py): what a person on one server does reaches the others."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest

from tests.builders import User
from tests.federation.loopback import Server, eventually, resolve, servers
from tests.web.browser import log_in, submit


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    with servers(tmp_path_factory.mktemp("loopback"), "a", "b", "c") as started:
        yield started


def _relationship(user: User, account_id: str) -> dict[str, Any]:
    r = user.get("/api/v1/accounts/relationships", params={"id[]": account_id})
    assert r.status_code == 200, r.text
    return dict(r.json()[0])


def _home(user: User) -> list[dict[str, Any]]:
    r = user.get("/api/v1/timelines/home")
    assert r.status_code == 200, r.text
    return list(r.json())


def _notifications(user: User, kind: str) -> list[dict[str, Any]]:
    r = user.get("/api/v1/notifications", params={"types[]": kind})
    assert r.status_code == 200, r.text
    return list(r.json())


def _find(statuses: list[dict[str, Any]], needle: str) -> dict[str, Any] | None:
    return next((s for s in statuses if needle in s["content"]), None)


def test_follow_post_reply_like_boost_edit_delete(net: dict[str, Server]) -> None:
    a, b = net["a"], net["b"]
    alice, bob = a.user("alice"), b.user("bob")

    remote_bob = resolve(alice, f"bob@{b.domain}")
    assert remote_bob["url"].startswith(f"http://{b.domain}/")
    r = alice.post(f"/api/v1/accounts/{remote_bob['id']}/follow")
    assert r.status_code == 200, r.text
    eventually(lambda: _relationship(alice, remote_bob["id"])["following"], "Accept", a, b)
    assert bob.get(f"/api/v1/accounts/{bob.id}").json()["followers_count"] == 1

    # A post reaches the remote follower's home timeline, with its hashtag and content warning.
    post = bob.status("Bonjour d'en face #parvis", spoiler_text="salutations")
    seen = eventually(lambda: _find(_home(alice), "Bonjour d"), "Create in home", a, b)
    assert seen["account"]["acct"] == f"bob@{b.domain}"
    assert seen["spoiler_text"] == "salutations"
    assert [t["name"] for t in seen["tags"]] == ["parvis"]
    assert seen["uri"] == post["uri"]

    # A reply comes back into the thread on the author's server, with a mention notification.
    r = alice.post(
        "/api/v1/statuses",
        json={"status": f"@bob@{b.domain} merci !", "in_reply_to_id": seen["id"]},
    )
    assert r.status_code == 200, r.text

    def reply_at_b() -> list[dict[str, Any]]:
        return list(bob.get(f"/api/v1/statuses/{post['id']}/context").json()["descendants"])

    replies = eventually(reply_at_b, "reply in thread", a, b)
    assert "merci" in replies[0]["content"]
    assert eventually(lambda: _notifications(bob, "mention"), "mention", a, b)

    # Like and boost: counted and notified on the author's server.
    assert alice.post(f"/api/v1/statuses/{seen['id']}/favourite").status_code == 200
    assert alice.post(f"/api/v1/statuses/{seen['id']}/reblog").status_code == 200
    eventually(lambda: _notifications(bob, "favourite"), "Like", a, b)
    eventually(lambda: _notifications(bob, "reblog"), "Announce", a, b)
    counts = bob.get(f"/api/v1/statuses/{post['id']}").json()
    assert (counts["favourites_count"], counts["reblogs_count"]) == (1, 1)

    # Undo the like: the count comes back down.
    assert alice.post(f"/api/v1/statuses/{seen['id']}/unfavourite").status_code == 200
    eventually(
        lambda: bob.get(f"/api/v1/statuses/{post['id']}").json()["favourites_count"] == 0,
        "Undo Like",
        a,
        b,
    )

    # An edit propagates; a delete removes the copy.
    r = bob.put(f"/api/v1/statuses/{post['id']}", json={"status": "Bonsoir d'en face #parvis"})
    assert r.status_code == 200, r.text
    eventually(
        lambda: "Bonsoir" in alice.get(f"/api/v1/statuses/{seen['id']}").json().get("content", ""),
        "Update",
        a,
        b,
    )
    assert alice.get(f"/api/v1/statuses/{seen['id']}").json()["edited_at"] is not None
    assert bob.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    eventually(
        lambda: alice.get(f"/api/v1/statuses/{seen['id']}").status_code == 404, "Delete", a, b
    )


def test_locked_account_accepts_a_remote_follower(net: dict[str, Server]) -> None:
    a, b = net["a"], net["b"]
    anne, dana = a.user("anne"), b.user("dana", locked=True)
    remote = resolve(anne, f"dana@{b.domain}")
    assert remote["locked"] is True
    assert anne.post(f"/api/v1/accounts/{remote['id']}/follow").json()["requested"] is True

    def requests() -> list[dict[str, Any]]:
        return list(dana.get("/api/v1/follow_requests").json())

    pending = eventually(requests, "Follow request", a, b)
    assert pending[0]["acct"] == f"anne@{a.domain}"
    assert _relationship(anne, remote["id"])["following"] is False  # not before the Accept
    r = dana.post(f"/api/v1/follow_requests/{pending[0]['id']}/authorize")
    assert r.status_code == 200, r.text
    eventually(lambda: _relationship(anne, remote["id"])["following"], "Accept", a, b)

    # Followers-only posts now reach her, and only her.
    dana.status("Pour mes abonnés seulement", visibility="private")
    eventually(lambda: _find(_home(anne), "abonnés seulement"), "private Create", a, b)


def test_block_cuts_the_follow_and_a_report_reaches_the_other_moderators(
    net: dict[str, Server],
) -> None:
    a, b = net["a"], net["b"]
    ali, ben = a.user("ali"), b.user("ben")
    remote_ben = resolve(ali, f"ben@{b.domain}")
    ali.post(f"/api/v1/accounts/{remote_ben['id']}/follow")
    eventually(lambda: _relationship(ali, remote_ben["id"])["following"], "Accept", a, b)
    post = ben.status("Un message à signaler")
    seen = eventually(lambda: _find(_home(ali), "à signaler"), "Create", a, b)

    # A report forwarded to the author's server lands in its moderation queue.
    r = ali.post(
        "/api/v1/reports",
        json={
            "account_id": remote_ben["id"],
            "status_ids": [seen["id"]],
            "comment": "spam répété",
            "category": "spam",
            "forward": True,
        },
    )
    assert r.status_code == 200, r.text

    def flagged() -> list[tuple[Any, ...]]:
        return b.query("SELECT remote_actor FROM notices WHERE channel = 'federation'")

    [(actor,)] = eventually(flagged, "Flag", a, b)
    assert actor == f"http://{a.domain}/actor"
    assert b.query(
        "SELECT count(*) FROM notice_items i JOIN statuses s ON s.id = i.status_id WHERE s.uri = ?",
        post["uri"],
    ) == [(1,)]

    # Ben blocks Ali: the follow is gone on both sides.
    remote_ali = resolve(ben, f"ali@{a.domain}")
    assert ben.post(f"/api/v1/accounts/{remote_ali['id']}/block").status_code == 200
    eventually(lambda: not _relationship(ali, remote_ben["id"])["following"], "Block", a, b)
    assert ben.get(f"/api/v1/accounts/{ben.id}").json()["followers_count"] == 0


def test_webfinger_and_nodeinfo_between_servers(net: dict[str, Server]) -> None:
    c = net["c"]
    c.user("cyril")
    r = c.http.get("/.well-known/webfinger", params={"resource": f"acct:cyril@{c.domain}"})
    assert r.status_code == 200, r.text
    self_link = next(link for link in r.json()["links"] if link["rel"] == "self")
    assert self_link["href"] == f"http://{c.domain}/users/cyril"
    nodeinfo = c.http.get("/nodeinfo/2.1").json()
    assert nodeinfo["software"]["name"] == "parvis"
    assert nodeinfo["protocols"] == ["activitypub"]


@contextmanager
def _web(server: Server, user: User) -> Iterator[httpx2.Client]:
    """A browser signed in as `user` on `server` (its own cookie jar)."""
    with httpx2.Client(base_url=server.url, timeout=30.0) as web:
        log_in(web, f"{user.username}@example.org", "correct horse battery")  # type: ignore[arg-type]
        yield web


def test_move_carries_the_followers_to_the_new_account(net: dict[str, Server]) -> None:
    a, b, c = net["a"], net["b"], net["c"]
    amy, old, new = a.user("amy"), b.user("olga"), c.user("olga_new")
    remote_old = resolve(amy, f"olga@{b.domain}")
    amy.post(f"/api/v1/accounts/{remote_old['id']}/follow")
    eventually(lambda: _relationship(amy, remote_old["id"])["following"], "Accept", a, b)

    # On the new server, the new account says it is also the old one; then the old one moves.
    with _web(c, new) as web:
        r = submit(web, "/settings/moving", "/settings/moving/aliases", alias=f"olga@{b.domain}")
        assert r.status_code == 303, r.text
    with _web(b, old) as web:
        r = submit(
            web,
            "/settings/moving",
            "/settings/moving/move",
            username="olga",
            target=f"olga_new@{c.domain}",
            password="correct horse battery",
        )
        assert r.status_code == 200, r.text
        assert "Your account has moved to @olga_new@" in r.text

    # Amy, on a third server, now follows the new account, and no longer the old one.
    remote_new = resolve(amy, f"olga_new@{c.domain}")
    eventually(lambda: _relationship(amy, remote_new["id"])["following"], "Move", a, b, c)
    assert _relationship(amy, remote_old["id"])["following"] is False
    moved = amy.get(f"/api/v1/accounts/{remote_old['id']}").json()
    assert moved["moved"]["acct"] == f"olga_new@{c.domain}"
    assert new.get(f"/api/v1/accounts/{new.id}").json()["followers_count"] == 1
