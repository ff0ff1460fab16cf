"""Import of Mastodon's CSV files, with the real app and database: an export imported on another
account gives the same follows, blocks, mutes, blocked domains, bookmarks and lists; merge and
overwrite; a report that names every skipped row and why; a malformed file refused whole,
nothing applied; and any text at all gives either Invalid or a report (hypothesis)."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.errors import Invalid
from parvis.services import export, imports
from tests.builders import User, follow, make_user, ok
from tests.services.test_federate import remote

CSV_FILES = {
    "following": "following_accounts.csv",
    "blocking": "blocked_accounts.csv",
    "muting": "muted_accounts.csv",
    "domain_blocking": "blocked_domains.csv",
    "bookmarks": "bookmarks.csv",
    "lists": "lists.csv",
}


def exported(parvis: Parvis, user: User) -> dict[str, bytes]:
    blob = parvis.runtime.read(lambda w: export.build(w, int(user.id)))
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return {name: z.read(name) for name in z.namelist() if name.endswith(".csv")}


def rows(data: bytes) -> list[tuple[str, ...]]:
    """The CSV's rows, header kept first, the others sorted (edge order is not kept)."""
    found = [tuple(r) for r in csv.reader(io.StringIO(data.decode()))]
    header = [r for r in found[:1] if r and r[0] in imports.FIRST_HEADERS]
    return header + sorted(found[len(header) :])


def run(
    parvis: Parvis, user: User, kind: str, data: bytes, mode: str = "merge", **kw: Any
) -> imports.Report:
    return parvis.runtime.write(lambda w: imports.run(w, int(user.id), kind, data, mode, **kw))


def following(user: User) -> list[str]:
    return sorted(a["acct"] for a in ok(user.get(f"/api/v1/accounts/{user.id}/following")))


def test_an_export_imported_elsewhere_gives_the_same_relations(
    client: TestClient, parvis: Parvis
) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    friends = [make_user(client, f"friend{i}") for i in range(4)]
    pest, bore = make_user(client, "pest"), make_user(client, "bore")
    for friend in friends:
        follow(alice, friend)
    ok(alice.post(f"/api/v1/accounts/{friends[0].id}/follow", json={"reblogs": False}))
    ok(alice.post(f"/api/v1/accounts/{friends[1].id}/follow", json={"notify": True}))
    ok(alice.post(f"/api/v1/accounts/{friends[2].id}/follow", json={"languages": ["fr", "en"]}))
    ok(alice.post(f"/api/v1/accounts/{pest.id}/block"))
    ok(alice.post(f"/api/v1/accounts/{bore.id}/mute", json={"notifications": False}))
    ok(alice.post(f"/api/v1/accounts/{friends[3].id}/mute"))
    ok(alice.post("/api/v1/domain_blocks", data={"domain": "spam.example"}))
    for friend in friends[:2]:
        post = friend.status(f"worth keeping, by {friend.username}")
        ok(alice.post(f"/api/v1/statuses/{post['id']}/bookmark"))
    for title, members in (("Close", friends[:2]), ("Work", friends[1:4])):
        made = ok(alice.post("/api/v1/lists", json={"title": title}))
        ok(
            alice.post(
                f"/api/v1/lists/{made['id']}/accounts",
                json={"account_ids": [m.id for m in members]},
            )
        )

    original = exported(parvis, alice)
    assert set(original) == set(CSV_FILES.values())
    for kind in ("following", "blocking", "muting", "domain_blocking", "bookmarks", "lists"):
        report = run(parvis, bob, kind, original[CSV_FILES[kind]])
        assert report.skipped == [], (kind, report.skipped)
        assert report.removed == [] and report.requested == []
    copied = exported(parvis, bob)
    for name in CSV_FILES.values():
        assert rows(copied[name]) == rows(original[name]), name
    assert rows(copied["following_accounts.csv"])[0] == imports.HEADERS["following"]

    # Imported again: everything is already there, nothing changes.
    again = run(parvis, bob, "following", original["following_accounts.csv"])
    assert again.already == len(again.imported) == 4
    assert exported(parvis, bob) == copied


def test_overwrite_undoes_what_the_file_does_not_hold(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    keep, drop, extra = make_user(client), make_user(client), make_user(client)
    follow(me, keep)
    follow(me, drop)
    ok(me.post(f"/api/v1/accounts/{drop.id}/mute"))
    data = (
        f"Account address,Show boosts\n{keep.username}@parvis.test,true\n{extra.username},false\n"
    )
    merged = run(parvis, me, "following", data.encode())
    assert following(me) == sorted([keep.username, drop.username, extra.username])
    assert merged.already == 1
    report = run(parvis, me, "following", data.encode(), "overwrite")
    assert following(me) == sorted([keep.username, extra.username])
    assert report.removed == [f"{drop.username}@parvis.test"]
    muted = run(parvis, me, "muting", b"Account address,Hide notifications\n", "overwrite")
    assert muted.removed == [f"{drop.username}@parvis.test"] and muted.rows == 0


def test_lists_overwrite_and_follows_the_members(client: TestClient, parvis: Parvis) -> None:
    me, a, b = make_user(client), make_user(client), make_user(client)
    old = ok(me.post("/api/v1/lists", json={"title": "Old"}))
    report = run(parvis, me, "lists", f"Friends,{a.username}\nFriends,{b.username}\n".encode())
    assert sorted(report.imported) == sorted([f"Friends: {a.username}", f"Friends: {b.username}"])
    assert following(me) == sorted([a.username, b.username])  # members must be followed
    report = run(parvis, me, "lists", f"Friends,{a.username}\n".encode(), "overwrite")
    titles = [x["title"] for x in ok(me.get("/api/v1/lists"))]
    assert titles == ["Friends"] and "Old" in report.removed
    friends = next(x for x in ok(me.get("/api/v1/lists")) if x["title"] == "Friends")
    members = ok(me.get(f"/api/v1/lists/{friends['id']}/accounts"))
    assert [m["id"] for m in members] == [a.id]
    assert old["id"] != friends["id"]


def test_the_report_names_every_skipped_row(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client, "me")
    make_user(client, "shy", locked=True)
    known = make_user(client, "known")
    ok(known.post(f"/api/v1/accounts/{me.id}/block"))
    far = remote(parvis, "far.example", username="found")
    asked: list[str] = []

    def resolve(address: str) -> int | None:
        asked.append(address)
        return far if address == "found@far.example" else None

    data = (
        b"Account address,Show boosts,Notify on new posts,Languages\n"
        b"shy,true,false,\n"  # 2: locked: a request
        b"not an address!,true,false,\n"  # 3
        b"nobody@parvis.test,true,false,\n"  # 4: no such local account
        b"ghost@far.example,true,false,\n"  # 5: the network does not know it either
        b"found@far.example,true,false,\n"  # 6: found through the resolver (a request: remote)
        b"me,true,false,\n"  # 7: oneself
        b"SHY,true,false,\n"  # 8: a duplicate
        b"known,true,false,\n"  # 9: blocks me
        b"later@other.example,true,false,\n"  # 10: not looked up this time
        b"\n"
    )
    parsed = imports.parse("following", data)
    assert parvis.runtime.read(lambda w: imports.unknown_addresses(w, parsed)) == [
        "ghost@far.example",
        "later@other.example",
    ]  # found@far.example is known here: the edge looks up only the others
    report = parvis.runtime.write(
        lambda w: imports.apply(
            w, int(me.id), parsed, resolve=resolve, not_looked_up=["later@other.example"]
        )
    )
    assert report.rows == 9
    assert report.requested == ["shy", "found@far.example"]
    assert [(s.line, s.reason) for s in report.skipped] == [
        (3, "invalid_address"),
        (4, "unknown_account"),
        (5, "unknown_account"),
        (7, "self"),
        (8, "duplicate"),
        (9, "blocked"),
        (10, "not_looked_up"),
    ]
    assert asked == ["ghost@far.example", "later@other.example"]
    assert report.skipped[0].value == "not an address!"
    assert report.skipped[0].message == "not an account address"
    assert "2 follow requests sent" in report.summary()
    unknown = run(parvis, me, "bookmarks", b"https://parvis.test/users/x/statuses/1\nnope\n")
    assert [(s.line, s.reason) for s in unknown.skipped] == [
        (1, "unknown_post"),
        (2, "invalid_uri"),
    ]
    domains = run(
        parvis, me, "domain_blocking", b"#domain\nparvis.test\nnot a domain\nok.example\n"
    )
    assert domains.imported == ["ok.example"]
    assert [s.reason for s in domains.skipped] == ["own_domain", "invalid_domain"]


def test_headerless_files_of_older_exports(client: TestClient, parvis: Parvis) -> None:
    me, other = make_user(client), make_user(client)
    report = run(parvis, me, "blocking", f"@{other.username}\n".encode())
    assert report.imported == [other.username]
    assert ok(me.get("/api/v1/blocks"))[0]["id"] == other.id


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("following", b"\xff\xfe not text", "not a CSV text file"),
        ("following", b"", "the file is empty"),
        ("following", b" \n\n", "the file is empty"),
        ("following", b'a,b\nc,"d\n', "malformed CSV"),
        ("following", b'alice,"x"y\n', "malformed CSV"),
        ("lists", b"Account address,Show boosts\nalice,true\n", "another kind of import"),
        ("bookmarks", b"List name,Account address\nx,alice\n", "another kind of import"),
        ("following", b"x" * (imports.MAX_BYTES + 1), "too large"),
        ("following", b"a\n" * (imports.MAX_ROWS + 2), f"more than {imports.MAX_ROWS} rows"),
        ("following", b'"' + b"x" * 5000 + b'"\n', "longer than"),
        ("nonsense", b"alice\n", "type: one of"),
    ],
)
def test_a_malformed_file_is_refused_whole(
    client: TestClient, parvis: Parvis, kind: str, data: bytes, message: str
) -> None:
    me, friend = make_user(client), make_user(client)
    # Valid rows first: nothing of them may be applied when the file is refused.
    valid = kind == "following" and message != "the file is empty"
    prefix = f"{friend.username}\n".encode() if valid else b""
    with pytest.raises(Invalid) as caught:
        run(parvis, me, kind, prefix + data)
    assert message in caught.value.message
    assert following(me) == []
    with pytest.raises(Invalid):
        run(parvis, me, "following", f"{friend.username}\n".encode(), "sideways")
    assert following(me) == []


TOKENS = st.sampled_from(
    [
        "Account address",
        "Show boosts",
        "List name",
        "#uri",
        "#domain",
        "true",
        "false",
        "bob",
        "@bob@parvis.test",
        "bob@far.example",
        "https://parvis.test/users/alice",
        "x.example",
        "",
        " ",
        '"',
        '""',
        ",",
        "\n",
        "\r\n",
        "@",
        "é",
        "\x00",
        "\ufeff",
    ]
)
CSVISH = st.lists(st.one_of(TOKENS, st.text(max_size=12)), max_size=40).map("".join)


_alice: dict[int, int] = {}


def alice_of(client: TestClient) -> int:
    """One importing account per app (hypothesis runs every example on the same one)."""
    if id(client) not in _alice:
        _alice[id(client)] = int(make_user(client).id)
        make_user(client, "bob")
    return _alice[id(client)]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from([*imports.KINDS, "bogus"]),
    mode=st.sampled_from(imports.MODES),
    data=st.one_of(CSVISH.map(str.encode), st.binary(max_size=200)),
)
def test_any_file_gives_invalid_or_a_report(
    client: TestClient, parvis: Parvis, kind: str, mode: str, data: bytes
) -> None:
    me = alice_of(client)
    try:
        report = parvis.runtime.write(lambda w: imports.run(w, me, kind, data, mode))
    except Invalid as exc:
        assert exc.message.startswith("Validation failed: ")
        event("refused")
        return
    event("report with imported rows" if report.imported else "report")
    assert report.kind == kind and report.mode == mode
    assert report.rows == len(report.imported) + len(report.requested) + len(report.skipped)
