"""Moving an account, with the real app and database: aliases, the checks before a move, local
followers following the new account at once (options kept, blocks respected), blocks and mutes
carried over, a Move queued for remote followers, and an inbound-style `apply_move` towards a
remote account (a Follow request)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.errors import DomainError, Forbidden, Invalid, NotFound
from parvis.services import migration
from parvis.services.context import Work
from tests.builders import User, follow, make_user, ok
from tests.services.test_federate import remote, remote_follows, rows

PASSWORD = "correct horse battery"


def write(parvis: Parvis, use_case: Any) -> Any:
    return parvis.runtime.write(use_case)


def refused(parvis: Parvis, use_case: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        write(parvis, use_case)
    return caught.value


def following_ids(user: User) -> set[str]:
    return {a["id"] for a in ok(user.get(f"/api/v1/accounts/{user.id}/following"))}


def relationship(user: User, other: User | int) -> dict[str, Any]:
    other_id = other.id if isinstance(other, User) else str(other)
    found = ok(user.get("/api/v1/accounts/relationships", params={"id[]": other_id}))
    return dict(found[0])


def account(user: User, other: User) -> dict[str, Any]:
    return dict(ok(user.get(f"/api/v1/accounts/{other.id}")))


def test_aliases_by_address_or_uri_with_their_checks(client: TestClient, parvis: Parvis) -> None:
    old, new = make_user(client, "oldname"), make_user(client, "newname")
    me = int(new.id)
    made = write(parvis, lambda w: migration.add_alias(w, me, "@oldname"))
    assert made.uri == "https://parvis.test/users/oldname"
    write(parvis, lambda w: migration.add_alias(w, me, "https://elsewhere.example/users/me"))
    uris = [a.uri for a in write(parvis, lambda w: migration.aliases(w, me))]
    assert uris == ["https://parvis.test/users/oldname", "https://elsewhere.example/users/me"]

    assert (
        "already there" in refused(parvis, lambda w: migration.add_alias(w, me, "oldname")).message
    )
    assert "itself" in refused(parvis, lambda w: migration.add_alias(w, me, "newname")).message
    unknown = refused(parvis, lambda w: migration.add_alias(w, me, "ghost@nowhere.example"))
    assert isinstance(unknown, Invalid) and "no such account" in unknown.message
    # A resolver (the edge's WebFinger look-up) finds accounts of other servers.
    far = remote(parvis, "far.example", username="far")
    write(parvis, lambda w: migration.add_alias(w, me, "far@far.example", resolve=lambda _a: far))
    assert "https://far.example/users/far" in {
        a.uri for a in write(parvis, lambda w: migration.aliases(w, me))
    }

    write(parvis, lambda w: migration.remove_alias(w, me, "oldname"))
    write(parvis, lambda w: migration.remove_alias(w, me, "https://elsewhere.example/users/me"))
    assert isinstance(refused(parvis, lambda w: migration.remove_alias(w, me, "oldname")), NotFound)
    for n in range(migration.MAX_ALIASES - 1):
        write(parvis, lambda w, n=n: migration.add_alias(w, me, f"https://x.example/u/{n}"))
    over = refused(parvis, lambda w: migration.add_alias(w, me, "https://x.example/u/last"))
    assert f"at most {migration.MAX_ALIASES}" in over.message
    assert int(old.id) != me


def test_a_move_needs_the_alias_first(client: TestClient, parvis: Parvis) -> None:
    old, new = make_user(client), make_user(client)
    o, n = int(old.id), int(new.id)
    assert "alias" in refused(parvis, lambda w: migration.move_to(w, o, n)).message
    assert "same account" in refused(parvis, lambda w: migration.move_to(w, o, o)).message
    assert isinstance(refused(parvis, lambda w: migration.move_to(w, o, 1)), NotFound)
    far = remote(parvis)
    assert isinstance(refused(parvis, lambda w: migration.move_to(w, far, n)), Forbidden)
    write(parvis, lambda w: migration.add_alias(w, n, old.username))
    write(parvis, lambda w: migration.move_to(w, o, n))
    again = refused(parvis, lambda w: migration.move_to(w, o, n))
    assert "already moved" in again.message
    # A third account aliasing `new` cannot move into an account that has moved away... and
    # nobody can move to `old`, which has itself moved.
    third = make_user(client)
    t = int(third.id)
    write(parvis, lambda w: migration.add_alias(w, o, third.username))
    assert "itself moved" in refused(parvis, lambda w: migration.move_to(w, t, o)).message


def test_password_confirmation(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client)
    a = int(alice.id)
    write(parvis, lambda w: migration.confirm_password(w, a, PASSWORD))
    wrong = refused(parvis, lambda w: migration.confirm_password(w, a, "not it"))
    assert isinstance(wrong, Invalid) and "not your password" in wrong.message


def test_local_followers_follow_the_new_account_at_once(client: TestClient, parvis: Parvis) -> None:
    old, new = make_user(client, "before"), make_user(client, "after", locked=True)
    quiet, loud, stubborn, blocked_by_new = (make_user(client) for _ in range(4))
    follow(stubborn, old)
    follow(blocked_by_new, old)
    ok(quiet.post(f"/api/v1/accounts/{old.id}/follow", json={"reblogs": False}))
    ok(loud.post(f"/api/v1/accounts/{old.id}/follow", json={"notify": True, "languages": ["fr"]}))
    ok(stubborn.post(f"/api/v1/accounts/{new.id}/block"))  # blocks the new account: stays put
    ok(new.post(f"/api/v1/accounts/{blocked_by_new.id}/block"))
    blocker, muter = make_user(client), make_user(client)
    ok(blocker.post(f"/api/v1/accounts/{old.id}/block"))
    ok(muter.post(f"/api/v1/accounts/{old.id}/mute", json={"notifications": False}))
    old_post = old.status("my last post here")
    o, n = int(old.id), int(new.id)
    write(parvis, lambda w: migration.add_alias(w, n, "before"))

    moved = write(parvis, lambda w: migration.move_to(w, o, n))

    assert moved == 2
    for user in (quiet, loud):
        assert following_ids(user) == {new.id}  # the new account is locked: no request needed
    assert relationship(quiet, new)["showing_reblogs"] is False
    loud_rel = relationship(loud, new)
    assert loud_rel["notifying"] is True and loud_rel["languages"] == ["fr"]
    assert following_ids(stubborn) == {old.id}
    assert following_ids(blocked_by_new) == {old.id}
    assert relationship(blocker, new)["blocking"] is True
    muted = relationship(muter, new)
    assert muted["muting"] is True and muted["muting_notifications"] is False
    assert account(quiet, new)["followers_count"] == 2
    assert account(quiet, old)["followers_count"] == 2  # stubborn and blocked_by_new
    # The old account's posts stay in the moved followers' home timelines (as Mastodon does).
    home = [s["id"] for s in ok(quiet.get("/api/v1/timelines/home"))]
    assert old_post["id"] in home
    notified = {x["type"] for x in ok(new.get("/api/v1/notifications"))}
    assert "follow" in notified
    assert write(parvis, lambda w: migration.moved_to(w, o)).id == n


def test_remote_followers_are_sent_a_move(client: TestClient, parvis: Parvis) -> None:
    old, new = make_user(client, "leaving"), make_user(client, "arriving")
    remote_follows(parvis, remote(parvis, "fans.example"), old)
    o, n = int(old.id), int(new.id)
    write(parvis, lambda w: migration.add_alias(w, n, "leaving"))
    write(parvis, lambda w: migration.move_to(w, o, n))
    queued = [orjson.loads(r.body) for r in rows(parvis)]
    assert {b["type"] for b in queued} == {"Update", "Move"}  # the actor with movedTo, then Move
    moves = [b for b in queued if b["type"] == "Move"]
    assert [r.inbox_uri for r in rows(parvis) if b'"Move"' in r.body.encode()] == [
        "https://fans.example/inbox"
    ]
    assert moves[0]["object"] == moves[0]["actor"] == "https://parvis.test/users/leaving"
    assert moves[0]["target"] == "https://parvis.test/users/arriving"


def test_apply_move_to_a_remote_account_sends_follow_requests(
    client: TestClient, parvis: Parvis
) -> None:
    """What an inbound Move does when the new account lives elsewhere: a Follow is sent for
    each local follower, who stops following the old account."""
    fan = make_user(client)
    old = remote(parvis, "old.example", username="me")
    new = remote(parvis, "new.example", username="me")
    ok(fan.post(f"/api/v1/accounts/{old}/follow"))

    def accept(work: Work) -> None:  # the old server had accepted the follow long ago
        work.store.social.remove("follow_requests", int(fan.id), old)
        work.store.social.add("follows", int(fan.id), old, work.now())

    write(parvis, accept)
    assert write(parvis, lambda w: migration.apply_move(w, old, new)) == 1
    rel = relationship(fan, new)
    assert rel["requested"] is True and rel["following"] is False
    assert relationship(fan, old)["following"] is False
    sent = sorted((orjson.loads(r.body)["type"], r.inbox_uri) for r in rows(parvis))
    assert sent == [  # the first Follow is the fan's own, before the move
        ("Follow", "https://new.example/inbox"),
        ("Follow", "https://old.example/inbox"),
        ("Undo", "https://old.example/inbox"),
    ]
    assert write(parvis, lambda w: migration.moved_to(w, old)).id == new
    # Applying the same move again changes nothing.
    assert write(parvis, lambda w: migration.apply_move(w, old, new)) == 0


def test_the_api_shows_where_an_account_moved(client: TestClient, parvis: Parvis) -> None:
    old, new = make_user(client), make_user(client)
    o, n = int(old.id), int(new.id)
    write(parvis, lambda w: migration.add_alias(w, n, old.username))
    write(parvis, lambda w: migration.move_to(w, o, n))
    shown = account(new, old)
    assert shown["moved"]["id"] == new.id
    assert "moved" not in account(old, new)
