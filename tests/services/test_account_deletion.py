"""Account deletion (services/deletion.py), on the real app and database, with a fake
fediverse at the outbound HTTP seam (tests/federation/test_inbox.py) and a fake clock.

The main story: a user with everything a user can have asks for deletion; during the grace
nothing is erased, the account is closed, and cancelling restores it; asked again, once the
grace has passed the job runs until it is done, and then a scan of every column of every row
of the database (reflected, so tables made by hand are scanned too) and of every file of the
media directory finds nothing of it, other people's things are intact, and each remote server
that knew it got a Delete of the actor, signed with its key. The schema test keeps future
tables from being forgotten; remote deletions coming in are erased too.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import BigInteger, Integer, MetaData, func, select, update
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain import httpsig
from parvis.domain.errors import NotFound
from parvis.jobs.runtime import run_job
from parvis.services import accounts, deletion, moderation, notes, notices
from parvis.services.context import Work
from parvis.storage import erasure
from parvis.storage.tables import (
    account_tombstones,
    erased_usernames,
    follows,
    metadata,
    statuses,
)
from parvis.storage.tables import (
    accounts as accounts_table,
)
from tests.builders import User, error_of, make_app, make_user, ok
from tests.clients.e2e_client import E2EClient
from tests.federation.test_inbox import BASE, Fediverse, Remote, accepted
from tests.federation.test_inbox import client as client
from tests.federation.test_inbox import world as world

T = TypeVar("T")
PASSWORD = "correct horse battery"
NAME = "zelda_erasable"
EMAIL = f"{NAME}@example.org"


class Clock:
    """The runtime's clock, moved forward by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(parvis: Parvis) -> Iterator[Clock]:
    fake = Clock()
    saved = parvis.runtime.clock
    parvis.runtime.clock = fake
    yield fake
    parvis.runtime.clock = saved


def write(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def count(parvis: Parvis, table: Any, *where: Any) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def run_until_done(parvis: Parvis) -> int:
    """Run the periodic job until no erasure is left (each run is one unit of work)."""
    for runs in range(1, 20):
        run_job(parvis.runtime, "erase_accounts", {})
        if count(parvis, account_tombstones) == 0:
            return runs
    raise AssertionError("the erasure never finished")


# -- the schema: nothing that refers to an account is forgotten --------------------------------

LOOKS_LIKE_AN_ACCOUNT = (
    "account_id",
    "author_id",
    "actor_id",
    "rater_id",
    "moderator_id",
    "reviewer_id",
    "assignee_id",
    "created_by",
    "decided_by",
    "subject_id",
    "target_id",
    "pair_key",
)


def test_every_reference_to_an_account_is_erased_or_deidentified() -> None:
    """A new table that refers to accounts must cascade (its rows are then deleted with the
    account's), or be listed with what is kept of it; so must a column that holds an account
    id without a foreign key."""
    fks = erasure.account_foreign_keys()
    named = {f"{t.name}.{c.name}" for t, c, _ in fks}
    for table, column, rule in fks:
        where = f"{table.name}.{column.name}"
        assert rule in ("CASCADE", "SET NULL"), f"{where}: ON DELETE {rule or 'nothing'}"
        if rule == "SET NULL":
            assert where in erasure.DEIDENTIFIED, f"{where}: say what is kept (DEIDENTIFIED)"
    assert set(erasure.DEIDENTIFIED) <= named, "DEIDENTIFIED names a column that is gone"
    for table in metadata.sorted_tables:
        for column in table.columns:
            where = f"{table.name}.{column.name}"
            integer = isinstance(column.type, (BigInteger, Integer))
            looks = column.name.endswith(LOOKS_LIKE_AN_ACCOUNT) or column.name.startswith(
                "account_"
            )
            if (integer or column.name == "pair_key") and looks and not column.primary_key:
                assert where in named or where in erasure.UNLINKED, (
                    f"{where} looks like an account id: give it a foreign key to accounts or "
                    "list it in storage/erasure.py UNLINKED (and erase it there)"
                )
    for where in erasure.UNLINKED:
        table_name, column_name = where.split(".")
        assert column_name in metadata.tables[table_name].c, f"UNLINKED names {where}: gone"


# -- the whole story ---------------------------------------------------------------------------


def scan(parvis: Parvis, needles: dict[str, str], *, index_segments: bool = True) -> list[str]:
    """Every value of every column of every row of the database (reflected: tables the
    metadata does not declare, such as the full-text index, too), and every file under the
    media directory (its path and its bytes): where any needle is found. Without
    `index_segments`, the SQLite full-text index's own storage (words of deleted posts stay
    there, unreachable, until its segments merge) is left out."""
    found = []
    reflected = MetaData()
    reflected.reflect(parvis.db.engine)
    with parvis.db.engine.connect() as conn:
        for table in reflected.sorted_tables:
            if not index_segments and table.name == "status_search_data":
                continue
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    text = (
                        value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    )
                    for label, needle in needles.items():
                        if needle.lower() in text.lower():
                            found.append(f"{label} in {table.name}.{column}: {text[:120]!r}")
    media = Path(parvis.settings.media_dir)
    for path in media.rglob("*"):
        if path.is_file():
            data = path.read_bytes().decode("latin-1")
            for label, needle in needles.items():
                if needle in str(path.relative_to(media)) or needle in data:
                    found.append(f"{label} in the media file {path.relative_to(media)}")
    return found


def media_files(parvis: Parvis) -> set[str]:
    media = Path(parvis.settings.media_dir)
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


def _age(parvis: Parvis, *users: User) -> None:
    def backdate(work: Work) -> None:
        for u in users:
            work.store.conn.execute(
                update(accounts_table)
                .where(accounts_table.c.id == int(u.id))
                .values(created_at=work.now() - timedelta(days=400))
            )

    write(parvis, backdate)


def other_token(client: TestClient, user: User) -> User:
    """Another app's token for the same person (the password grant)."""
    app = make_app(client)
    r = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": f"{user.username}@example.org",
            "password": PASSWORD,
            "scope": "read write",
        },
    )
    return User(client, ok(r)["access_token"], user.id, user.username)


def verify_signature(request: Any, public_pem: str) -> str:
    """The keyId of a delivered request whose signature verifies with `public_pem`."""
    headers = dict(request.headers.items())
    signed_at = parsedate_to_datetime(headers["date"])
    httpsig.verify_request(
        "POST", str(request.url), headers, request.content, public_pem, now=signed_at
    )
    return httpsig.signature_key_id("POST", str(request.url), headers).key_id


def test_deletion_erases_everything_after_the_grace_and_tells_other_servers(
    client: TestClient, parvis: Parvis, world: Fediverse, clock: Clock
) -> None:
    zelda = make_user(client, NAME)
    bob, carol, mod = make_user(client, "bob_stays"), make_user(client, "carol_stays"), None
    mod = make_user(client, "mod_stays")
    write(parvis, lambda w: accounts.set_role(w, int(mod.id), "moderator"))
    _age(parvis, zelda, bob, carol)
    mia = world.remote("mia", host="mastodon.example")  # follows zelda
    rex = world.remote("rex", host="other.example")  # followed by zelda
    una = world.remote("una", host="third.example")  # likes zelda's post
    accepted(client, mia, mia.activity("Follow", f"{BASE}/users/{NAME}"))

    # Everything a user has: posts with media, a reply, a boost, a poll, votes, favourites,
    # bookmarks, follows both ways, a list, a filter, a note, devices and messages, tokens,
    # notifications, a report and a decision about a post.
    media = ok(zelda.post("/api/v2/media", files={"file": ("z.png", png(), "image/png")}))
    avatar = ok(
        zelda.patch(
            "/api/v1/accounts/update_credentials",
            files={"avatar": ("a.png", png(), "image/png")},
            data={"display_name": "Zelda Display", "note": "zeldabio words"},
        )
    )
    assert avatar["avatar"]
    secret = zelda.status("zeldasecret alpha with a photo", media_ids=[media["id"]])
    bob_post = bob.status("Bob talks about gardens")
    zelda.status("zeldareply beta", in_reply_to_id=bob_post["id"])
    ok(zelda.post(f"/api/v1/statuses/{bob_post['id']}/reblog"))
    ok(zelda.post(f"/api/v1/statuses/{bob_post['id']}/favourite"))
    ok(zelda.post(f"/api/v1/statuses/{bob_post['id']}/bookmark"))
    poll = zelda.status(
        "zeldapoll gamma", poll={"options": ["zeldaopt1", "zeldaopt2"], "expires_in": 3600}
    )
    bob_poll = bob.status("Bob asks", poll={"options": ["yes", "no"], "expires_in": 3600})
    ok(zelda.post(f"/api/v1/polls/{bob_poll['poll']['id']}/votes", json={"choices": [0]}))
    ok(bob.post(f"/api/v1/polls/{poll['poll']['id']}/votes", json={"choices": [1]}))
    ok(bob.post(f"/api/v1/statuses/{secret['id']}/favourite"))
    ok(bob.post(f"/api/v1/statuses/{secret['id']}/bookmark"))
    ok(zelda.post(f"/api/v1/accounts/{bob.id}/follow"))
    ok(bob.post(f"/api/v1/accounts/{zelda.id}/follow"))
    ok(carol.post(f"/api/v1/accounts/{bob.id}/follow"))
    ok(bob.post(f"/api/v1/accounts/{carol.id}/follow"))
    ok(zelda.post(f"/api/v1/accounts/{carol.id}/block"))
    lst = ok(zelda.post("/api/v1/lists", json={"title": "zeldalist"}))
    ok(zelda.post(f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [bob.id]}))
    bob_list = ok(bob.post("/api/v1/lists", json={"title": "Friends"}))
    ok(bob.post(f"/api/v1/lists/{bob_list['id']}/accounts", json={"account_ids": [zelda.id]}))
    ok(
        zelda.post(
            "/api/v2/filters",
            json={
                "title": "zeldafilter",
                "context": ["home"],
                "keywords_attributes": [{"keyword": "zeldakeyword"}],
            },
        )
    )
    remote_rex = ok(
        zelda.get("/api/v2/search", params={"q": rex.acct, "resolve": "true", "type": "accounts"})
    )["accounts"][0]
    ok(zelda.post(f"/api/v1/accounts/{remote_rex['id']}/follow"))
    like = una.activity("Like", secret["uri"])
    accepted(client, una, like)
    note = write(
        parvis,
        lambda w: notes.write(
            w,
            int(zelda.id),
            int(bob_post["id"]),
            notes.Draft("misleading", ["factual_error"], "zeldanote delta", ["https://e.org/z"]),
        ),
    )
    bob_note = write(
        parvis,
        lambda w: notes.write(
            w,
            int(bob.id),
            int(secret["id"]),
            notes.Draft("misleading", ["factual_error"], "Bob's context", ["https://e.org/b"]),
        ),
    )
    write(parvis, lambda w: notes.rate(w, int(zelda.id), bob_note.id, "helpful", []))
    write(parvis, lambda w: notes.rate(w, int(carol.id), note.id, "helpful", []))
    z1 = E2EClient(client, zelda.token, label="zelda phone")
    z1.publish()
    b1 = E2EClient(client, bob.token, label="bob phone")
    b1.publish()
    convo = z1.start(bob.id)
    z1.send(convo["id"], "zeldamessage epsilon")
    b1.send(convo["id"], "bob answers")
    second_app = other_token(client, zelda)
    receipt = write(
        parvis,
        lambda w: notices.submit(
            w,
            int(bob.id),
            notices.NewNotice(
                category="racial_hatred",
                explanation=f"The post {secret['url']} insults people.",
                items=(notices.Item(status_id=int(secret["id"])),),
                good_faith=True,
            ),
        ),
    )
    assert receipt.key
    case = parvis.runtime.read(lambda w: w.store.cases.for_subject("status", int(secret["id"])))
    assert case is not None
    decision = write(
        parvis,
        lambda w: moderation.decide(
            w,
            int(mod.id),
            case.id,
            moderation.Verdict(
                action="label",
                label="Disputed",
                ground="rule",
                rule_id="2",
                explanation="It quotes zeldasecret alpha and insults.",
            ),
        ),
    )
    zelda_report = write(
        parvis,
        lambda w: notices.submit(
            w,
            int(zelda.id),
            notices.NewNotice(
                category="racial_hatred",
                explanation="zeldareport zeta: Bob is rude.",
                items=(notices.Item(status_id=int(bob_post["id"])),),
                good_faith=True,
            ),
        ),
    )
    assert zelda_report.key
    bob_home_before = ok(bob.get("/api/v1/timelines/home"))
    assert any(s["account"]["id"] == zelda.id for s in bob_home_before)
    keys_before = media_files(parvis)
    mine = {k for k in keys_before}  # every file so far is zelda's (bob uploaded nothing)
    assert len(mine) >= 4  # the photo and its thumbnail, the avatar and its thumbnail
    public_pem = parvis.runtime.read(lambda w: w.store.actors.key_pair(int(zelda.id)))
    assert public_pem is not None
    public = public_pem.public_pem
    statuses_before = count(parvis, statuses)

    # Asked with a wrong password: refused, with a message; nothing changes.
    r = zelda.post("/api/parvis/v1/account/deletion", json={"password": "wrong one"})
    assert "not your password" in error_of(r, 422)
    assert ok(bob.get(f"/api/v1/accounts/{zelda.id}"))["username"] == NAME

    # Asked: the account is closed at once, nothing is erased yet.
    state = ok(zelda.post("/api/parvis/v1/account/deletion", json={"password": PASSWORD}))
    assert state["pending"] is True and state["grace_days"] == 30
    assert state["delete_after"].startswith((clock.now + timedelta(days=30)).strftime("%Y-%m-%d"))
    assert ok(zelda.get("/api/parvis/v1/account/deletion"))["pending"] is True
    assert zelda.post("/api/v1/statuses", json={"status": "still here?"}).status_code == 403
    assert second_app.get("/api/v1/accounts/verify_credentials").status_code in (401, 403)
    assert bob.get(f"/api/v1/accounts/{zelda.id}").status_code == 404
    assert bob.get(f"/api/v1/statuses/{secret['id']}").status_code == 404
    assert not any(s["account"]["id"] == zelda.id for s in ok(bob.get("/api/v1/timelines/home")))
    assert count(parvis, statuses) == statuses_before
    assert media_files(parvis) == keys_before
    clock.now += timedelta(days=10)
    run_until_done(parvis)  # the grace is not over: nothing to do
    assert count(parvis, statuses) == statuses_before
    delivered_before = len(world.delivered)

    # Cancelled: everything is back.
    assert ok(zelda.delete("/api/parvis/v1/account/deletion"))["pending"] is False
    assert ok(bob.get(f"/api/v1/accounts/{zelda.id}"))["username"] == NAME
    assert ok(bob.get(f"/api/v1/statuses/{secret['id']}"))["content"]
    assert zelda.status("back again")["content"]
    assert zelda.get("/api/parvis/v1/account/deletion").json()["pending"] is False
    assert zelda.delete("/api/parvis/v1/account/deletion").status_code == 404

    # Asked again, then the grace passes and the job runs until it is done.
    ok(zelda.post("/api/parvis/v1/account/deletion", json={"password": PASSWORD}))
    clock.now += timedelta(days=31)
    runs = run_until_done(parvis)
    assert runs >= 2  # the tombstone outlives the erasure until its Delete is delivered

    # Nothing of the account is left: no row, no file.
    needles = {
        "username": NAME,
        "e-mail": EMAIL,
        "account id": zelda.id,
        "display name": "Zelda Display",
        "bio": "zeldabio",
        "post": "zeldasecret",
        "reply": "zeldareply",
        "poll": "zeldapoll",
        "poll option": "zeldaopt",
        "list": "zeldalist",
        "filter": "zeldafilter",
        "keyword": "zeldakeyword",
        "note": "zeldanote",
        "message device": "zelda phone",
        "report": "zeldareport",
    }
    for key in mine:
        needles[f"media key {key}"] = key.rsplit("/", 1)[-1].split(".")[0]
    assert scan(parvis, needles) == []
    assert media_files(parvis) == set()
    assert count(parvis, erased_usernames) == 1  # a keyed hash, nothing else

    # Other people's things are intact.
    assert ok(carol.get(f"/api/v1/statuses/{bob_post['id']}"))["content"]
    assert count(parvis, follows, follows.c.account_id == int(carol.id)) == 1
    assert count(parvis, follows, follows.c.account_id == int(bob.id)) == 1
    bob_me = ok(bob.get("/api/v1/accounts/verify_credentials"))
    assert bob_me["followers_count"] == 1 and bob_me["following_count"] == 1
    assert ok(bob.get(f"/api/v1/statuses/{bob_post['id']}"))["favourites_count"] == 0
    assert ok(bob.get(f"/api/v1/lists/{bob_list['id']}/accounts")) == []
    assert ok(bob.get(f"/api/v1/statuses/{bob_post['id']}"))["content"]
    # The decision is kept for the transparency report, de-identified.
    kept = parvis.runtime.read(lambda w: w.store.decisions.get(decision.id))
    assert kept is not None and kept.action == "label" and kept.account_id is None
    assert kept.status_id is None and kept.explanation == erasure.ERASED
    # The name is never given again; the old actor is gone for good.
    with pytest.raises(Exception, match="taken"):
        write(
            parvis,
            lambda w: accounts.register(
                w, accounts.Registration(NAME.upper(), "new@example.org", PASSWORD, True)
            ),
        )
    gone = client.get(f"/users/{NAME}", headers={"Accept": "application/activity+json"})
    assert gone.status_code == 410
    finger = client.get("/.well-known/webfinger", params={"resource": f"acct:{NAME}@parvis.test"})
    assert finger.status_code == 410

    # Every remote server that knew it got one Delete of the actor, signed with its key.
    deletes = [
        (url, doc) for url, doc in world.delivered[delivered_before:] if doc["type"] == "Delete"
    ]
    inboxes = {url for url, _ in deletes}
    assert inboxes == {
        "https://mastodon.example/inbox",  # a follower
        "https://other.example/inbox",  # followed
        "https://third.example/inbox",  # liked its post
    }
    actor = f"{BASE}/users/{NAME}"
    for _, doc in deletes:
        assert doc["actor"] == actor and doc["object"] == actor
    posts = [r for r in world.requests if r.method == "POST" and b'"type":"Delete"' in r.content]
    assert len(posts) == 3
    for request in posts:
        assert verify_signature(request, public) == f"{actor}#main-key"


def test_the_api_says_what_is_wrong(client: TestClient, parvis: Parvis, clock: Clock) -> None:
    user = make_user(client)
    assert "password" in error_of(user.post("/api/parvis/v1/account/deletion", json={}), 422)
    r = user.post("/api/parvis/v1/account/deletion", json={"password": "nope nope"})
    assert "not your password" in error_of(r, 422)
    assert user.delete("/api/parvis/v1/account/deletion").status_code == 404
    assert ok(user.get("/api/parvis/v1/account/deletion")) == {
        "pending": False,
        "delete_after": None,
        "grace_days": 30,
    }
    reader = make_user(client, scopes="read")
    r = reader.post("/api/parvis/v1/account/deletion", json={"password": PASSWORD})
    assert r.status_code == 403  # needs write:accounts
    assert client.get("/api/parvis/v1/account/deletion").status_code == 401


def test_a_moderators_suspension_outlives_a_cancelled_deletion(
    client: TestClient, parvis: Parvis, clock: Clock
) -> None:
    user = make_user(client)
    ok(user.post("/api/parvis/v1/account/deletion", json={"password": PASSWORD}))
    write(parvis, lambda w: accounts.set_suspended(w, int(user.id), True))  # the operator
    assert user.get("/api/parvis/v1/account/deletion").status_code == 401  # tokens revoked
    write(parvis, lambda w: deletion.cancel(w, int(user.id)))  # as the web's cancel does
    other = make_user(client)
    assert other.get(f"/api/v1/accounts/{user.id}").status_code == 404  # still suspended
    write(parvis, lambda w: accounts.set_suspended(w, int(user.id), False))
    assert other.get(f"/api/v1/accounts/{user.id}").status_code == 200


def test_the_operator_deletes_now_and_undeletes(
    client: TestClient, parvis: Parvis, clock: Clock
) -> None:
    user, other = make_user(client, "opdel"), make_user(client)
    user.status("opdel writes")
    write(parvis, lambda w: deletion.schedule(w, "opdel", now=False))
    assert other.get(f"/api/v1/accounts/{user.id}").status_code == 404
    write(parvis, lambda w: deletion.unschedule(w, "opdel"))
    assert other.get(f"/api/v1/accounts/{user.id}").status_code == 200
    with pytest.raises(NotFound):
        write(parvis, lambda w: deletion.unschedule(w, "opdel"))
    write(parvis, lambda w: deletion.schedule(w, "opdel", now=True))
    run_until_done(parvis)  # no remote server knew it: nothing to wait for
    assert count(parvis, accounts_table, accounts_table.c.id == int(user.id)) == 0
    with pytest.raises(NotFound):
        write(parvis, lambda w: deletion.schedule(w, "opdel", now=True))


# -- a remote account deleted by its server ----------------------------------------------------


def test_a_delete_of_a_remote_actor_erases_it_here(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    local = make_user(client)
    gone: Remote = world.remote("gone", host="leaving.example")
    accepted(client, gone, gone.activity("Follow", f"{BASE}/users/{local.username}"))
    note = gone.note("goneremote words", attachment=[])
    accepted(client, gone, gone.create(note))
    ok(local.post(f"/api/v1/accounts/{_id_of(parvis, gone.uri)}/follow"))
    local_post = local.status("A local post")
    accepted(client, gone, gone.activity("Like", local_post["uri"]))
    assert count(parvis, statuses, statuses.c.uri == note["id"]) == 1
    world.docs.pop(gone.uri)  # its server answers 410 now
    accepted(client, gone, gone.activity("Delete", gone.uri, to=[]))
    assert count(parvis, accounts_table, accounts_table.c.uri == gone.uri) == 0
    assert count(parvis, statuses, statuses.c.uri == note["id"]) == 0
    # A remote account's posts leave no row; the words of its posts may stay in the SQLite
    # full-text index's segments until they merge (an erasure of a local account merges them
    # at once: rewriting the index for every remote deletion would cost too much).
    assert scan(parvis, {"actor": gone.uri, "post": "goneremote"}, index_segments=False) == []
    assert ok(local.get(f"/api/v1/statuses/{local_post['id']}"))["favourites_count"] == 0
    assert ok(local.get("/api/v1/accounts/verify_credentials"))["followers_count"] == 0


def _id_of(parvis: Parvis, uri: str) -> int:
    with parvis.db.engine.connect() as conn:
        return int(
            conn.execute(
                select(accounts_table.c.id).where(accounts_table.c.uri == uri)
            ).scalar_one()
        )


# -- the web's cancel ticket ---------------------------------------------------------------------


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(forged=st.text(max_size=120), flip=st.integers(min_value=0, max_value=200))
def test_only_a_ticket_the_server_made_opens_the_way_back(
    parvis: Parvis, forged: str, flip: int
) -> None:
    """A ticket is HMAC-signed: anything else, and any change to a real one, is refused."""
    real = parvis.runtime.read(lambda w: deletion.ticket_for(w, 4242))
    assert parvis.runtime.read(lambda w: deletion.ticket_account(w, real)) == 4242
    assert parvis.runtime.read(lambda w: deletion.ticket_account(w, forged)) is None
    i = flip % len(real)
    changed = real[:i] + ("1" if real[i] != "1" else "2") + real[i + 1 :]
    assert parvis.runtime.read(lambda w: deletion.ticket_account(w, changed)) is None
