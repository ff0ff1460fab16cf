"""/api/v2/search and /api/v1/tags/{name}, through the HTTP API, on every backend."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.builders import User, make_user


def search(who: User | TestClient, q: str, **params: Any) -> dict[str, Any]:
    r = who.get("/api/v2/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    body = dict(r.json())
    assert set(body) == {"accounts", "statuses", "hashtags"}
    return body


def found(who: User | TestClient, q: str, **params: Any) -> list[str]:
    """Ids of the statuses a search finds."""
    return [s["id"] for s in search(who, q, type="statuses", **params)["statuses"]]


# --- full text -----------------------------------------------------------------------------


def test_accents_and_case_are_ignored(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    fr = alice.status("Un café au lait à Noël, près de la gare")["id"]
    en = alice.status("The coffee shop near the station opens at eight")["id"]
    plain = alice.status("Cafe NOEL without any accent")["id"]
    assert set(found(bob, "cafe")) == {fr, plain}
    assert set(found(bob, "café")) == {fr, plain}
    assert set(found(bob, "CAFÉ")) == {fr, plain}
    assert set(found(bob, "noel")) == {fr, plain}
    assert set(found(bob, "Noël")) == {fr, plain}
    assert found(bob, "pres gare") == [fr]
    assert found(bob, "coffee station") == [en]
    assert found(bob, "SHOP") == [en]
    assert found(bob, "croissant") == []


def test_every_word_must_match(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    one = alice.status("Bonjour tout le monde, il fait beau")["id"]
    two = alice.status("Bonjour, il pleut encore")["id"]
    assert found(bob, "bonjour") == [two, one]  # newest first
    assert found(bob, "bonjour beau") == [one]
    assert found(bob, "beau bonjour monde") == [one]
    assert found(bob, "bonjour soleil") == []
    assert found(bob, '"il fait beau"') == [one]
    assert found(bob, '"beau fait"') == []
    assert found(bob, "bonjour -pleut") == [one]
    assert found(bob, "-pleut") == []  # only exclusions: nothing to search for


def test_content_warning_is_searched(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    posted = alice.status("what happened next", spoiler_text="Spoilers: the finale")["id"]
    assert found(bob, "finale") == [posted]


def test_followers_only_post_is_not_found_by_a_stranger(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    private = alice.status("secret rendezvous at midnight", visibility="private")["id"]
    direct = alice.status(f"@{carol.username} rendezvous privately", visibility="direct")["id"]
    unlisted = alice.status("a quiet unlisted rendezvous", visibility="unlisted")["id"]
    assert found(carol, "rendezvous") == [unlisted]
    assert found(bob, "rendezvous") == [unlisted]
    assert found(alice, "rendezvous") == [unlisted, direct, private]  # own posts, all of them


def test_non_indexable_author_is_found_only_by_themself(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    early = alice.status("a hidden treasure map")["id"]
    r = alice.patch("/api/v1/accounts/update_credentials", data={"indexable": "false"})
    assert r.status_code == 200, r.text
    late = alice.status("another hidden treasure")["id"]
    mention = alice.status(f"@{bob.username} the treasure is hidden here")["id"]
    assert found(carol, "treasure") == []  # the flag is read at query time: old posts too
    assert found(bob, "treasure") == [mention]  # posts mentioning the searcher
    assert found(alice, "treasure") == [mention, late, early]
    alice.patch("/api/v1/accounts/update_credentials", data={"indexable": "true"})
    assert found(carol, "treasure") == [mention, late, early]


def test_deleted_post_is_not_found(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    kept = alice.status("ephemeral thoughts, kept")["id"]
    gone = alice.status("ephemeral thoughts, deleted")["id"]
    assert found(bob, "ephemeral") == [gone, kept]
    assert alice.delete(f"/api/v1/statuses/{gone}").status_code == 200
    assert found(bob, "ephemeral") == [kept]
    assert found(alice, "deleted") == []


def test_blocks_hide_posts_both_ways(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    posted = alice.status("a blockable marmalade")["id"]
    assert found(carol, "marmalade") == [posted]
    assert carol.post(f"/api/v1/accounts/{alice.id}/block").status_code == 200
    assert found(carol, "marmalade") == []
    assert alice.post(f"/api/v1/accounts/{bob.id}/block").status_code == 200
    assert found(bob, "marmalade") == []
    assert found(alice, "marmalade") == [posted]  # own posts, whatever the blocks


def test_boosts_are_not_results(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    posted = alice.status("a boostable marmalade")["id"]
    assert bob.post(f"/api/v1/statuses/{posted}/reblog").status_code == 200
    assert found(carol, "marmalade") == [posted]
    assert found(bob, "marmalade") == [posted]


def test_account_id_and_paging(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    ids = [alice.status(f"pagination sample number {i}")["id"] for i in range(5)]
    other = bob.status("pagination sample from bob")["id"]
    newest_first = [other, *reversed(ids)]
    assert found(bob, "pagination") == newest_first
    assert found(bob, "pagination", limit=2) == newest_first[:2]
    assert found(bob, "pagination", limit=2, offset=2) == newest_first[2:4]
    untyped = search(bob, "pagination", limit=2, offset=2)["statuses"]  # offset needs a type
    assert [s["id"] for s in untyped] == newest_first[:2]
    assert found(bob, "pagination", max_id=ids[3]) == [ids[2], ids[1], ids[0]]
    assert found(bob, "pagination", min_id=ids[1], limit=2) == [ids[3], ids[2]]
    assert found(bob, "pagination", account_id=alice.id) == list(reversed(ids))
    assert found(bob, "pagination", account_id=bob.id, limit=100) == [other]


# --- accounts and hashtags ---------------------------------------------------------------------


def test_accounts_by_username_prefix_and_display_name(client: TestClient) -> None:
    fred = make_user(client, "frederic")
    make_user(client, "fredrika")
    zoe = make_user(client, "zmartin")
    zoe.patch("/api/v1/accounts/update_credentials", data={"display_name": "Zoé Martin"})
    viewer = make_user(client)
    names = [a["username"] for a in search(viewer, "fred", type="accounts")["accounts"]]
    assert sorted(names) == ["frederic", "fredrika"]
    assert [a["id"] for a in search(viewer, "Zoé")["accounts"]] == [zoe.id]
    assert search(viewer, "@frederic")["accounts"][0]["id"] == fred.id
    exact = search(viewer, "@frederic@parvis.test")["accounts"]
    assert [a["id"] for a in exact] == [fred.id]
    assert exact[0]["acct"] == "frederic"
    assert search(viewer, "frederic@elsewhere.example")["accounts"] == []
    anonymous = search(client, "fred")
    assert len(anonymous["accounts"]) == 2
    assert anonymous["statuses"] == []


def test_following_only(client: TestClient) -> None:
    make_user(client, "walrus_one")
    two = make_user(client, "walrus_two")
    me = make_user(client)
    me.post(f"/api/v1/accounts/{two.id}/follow")
    assert len(search(me, "walrus")["accounts"]) == 2
    assert [a["id"] for a in search(me, "walrus", following="true")["accounts"]] == [two.id]


def test_hashtags_by_prefix(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    alice.status("Welcome to #ParvisTest and #parvisian friends, not #other")
    tags = search(bob, "#parvis", type="hashtags")["hashtags"]
    assert [t["name"] for t in tags] == ["parvisian", "ParvisTest"]  # shorter names first
    assert tags[1] == {
        "id": tags[1]["id"],
        "name": "ParvisTest",
        "url": "https://parvis.test/tags/parvistest",
        "history": [],
    }
    assert tags[1]["id"].isdigit() and tags[0]["id"] != tags[1]["id"]
    assert [t["name"] for t in search(bob, "parvist")["hashtags"]] == ["ParvisTest"]
    assert [t["name"] for t in search(client, "PARVISIAN")["hashtags"]] == ["parvisian"]
    assert search(bob, "parvis friends")["hashtags"] == []


def test_type_filter(client: TestClient) -> None:
    alice = make_user(client, "typefilter")
    alice.status("typefilter #typefilter")
    everything = search(alice, "typefilter")
    assert [len(everything[k]) for k in ("accounts", "statuses", "hashtags")] == [1, 1, 1]
    for kind in ("accounts", "statuses", "hashtags"):
        only = search(alice, "typefilter", type=kind)
        assert {k: len(v) for k, v in only.items() if v} == {kind: 1}


def test_hashtag_and_address_queries_the_mastodon_way(client: TestClient) -> None:
    # A lone `#word` finds hashtags only (not the posts that use them, nor accounts); a query
    # with `@` finds no hashtags; one word with `@` finds no posts.
    alice = make_user(client, "hashword")
    alice.status("#hashword_x and @hashword too")
    assert {k: len(v) for k, v in search(alice, "#hashword").items() if v} == {"hashtags": 1}
    assert {k: len(v) for k, v in search(alice, "hashword").items()} == {
        "accounts": 1,
        "statuses": 1,
        "hashtags": 1,
    }
    assert {k: len(v) for k, v in search(alice, "@hashword").items() if v} == {"accounts": 1}
    assert search(alice, "#hashword_x and")["statuses"]  # with a space: text again


@pytest.mark.parametrize("parvis", [{"domain": "localhost:3000"}], indirect=True)
def test_local_address_with_a_port(client: TestClient) -> None:
    alice, bob = make_user(client, "porty"), make_user(client)
    for q in ("porty@localhost:3000", "@porty@localhost:3000", "@porty", "porty"):
        assert [a["id"] for a in search(bob, q, type="accounts")["accounts"]] == [alice.id], q
    assert search(bob, "porty@localhost:3001", type="accounts")["accounts"] == []


def test_urls_and_lookups(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    posted = alice.status("a post to find by #linking its url")
    private = alice.status("private words", visibility="private")
    account = alice.get("/api/v1/accounts/verify_credentials").json()
    by_url = search(bob, posted["url"])
    assert [s["id"] for s in by_url["statuses"]] == [posted["id"]]
    assert by_url["accounts"] == []
    assert [s["id"] for s in search(bob, posted["uri"])["statuses"]] == [posted["id"]]
    assert search(bob, private["url"])["statuses"] == []
    assert [s["id"] for s in search(alice, private["url"])["statuses"]] == [private["id"]]
    assert [a["id"] for a in search(bob, account["url"])["accounts"]] == [alice.id]
    assert [a["id"] for a in search(client, account["uri"])["accounts"]] == [alice.id]
    assert [t["name"] for t in search(bob, "https://parvis.test/tags/linking")["hashtags"]] == [
        "linking"
    ]
    assert search(bob, "https://unknown.example/@nobody/1") == {
        "accounts": [],
        "statuses": [],
        "hashtags": [],
    }


# --- parameters, auth, errors --------------------------------------------------------------------


def test_empty_query_gives_empty_results(client: TestClient) -> None:
    alice = make_user(client)
    for q in ("", "   ", "\t\n", "#", "@"):
        body = search(alice, q)
        assert body["statuses"] == [] and body["hashtags"] == []


def test_auth_rules(client: TestClient) -> None:
    assert client.get("/api/v2/search", params={"q": "x", "offset": 1}).status_code == 401
    assert client.get("/api/v2/search", params={"q": "x", "resolve": "true"}).status_code == 401
    assert client.get("/api/v2/search", params={"q": "x", "offset": 0}).status_code == 200
    alice = make_user(client)
    assert (
        alice.get("/api/v2/search", params={"q": "x", "offset": 1, "resolve": "true"}).status_code
        == 200
    )
    narrow = make_user(client, scopes="read:accounts write:accounts")
    r = narrow.get("/api/v2/search", params={"q": "x"})
    assert r.status_code == 403 and "read:search" in r.json()["error"]
    searcher = make_user(client, scopes="read:accounts read:search write:accounts")
    assert searcher.get("/api/v2/search", params={"q": "x"}).status_code == 200
    bad = client.get("/api/v2/search", params={"q": "x"}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "limit": "0"},
        {"q": "x", "limit": "abc"},
        {"q": "x", "limit": "-3"},
        {"q": "x", "offset": "-1"},
        {"q": "x", "offset": "many"},
        {"q": "x", "type": "nonsense"},
        {"q": "x", "resolve": "perhaps"},
        {"q": "x", "following": "2x"},
        {"q": "x", "max_id": "abc"},
        {"q": "x", "min_id": "-"},
        {"q": "x", "account_id": "alice"},
        {"q": "x" * 5000},
        {},
    ],
)
def test_malformed_parameters_are_4xx_with_a_message(
    client: TestClient, params: dict[str, str]
) -> None:
    alice = make_user(client)
    r = alice.get("/api/v2/search", params=params)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]


def test_limit_is_capped(client: TestClient) -> None:
    alice = make_user(client)
    for i in range(42):
        alice.status(f"plentiful item {i}")
    assert len(found(alice, "plentiful", limit=1000)) == 40
    assert len(found(alice, "plentiful")) == 20


NASTY = [
    '"',
    '""',
    '"""',
    "*",
    "cafe*",
    "AND OR NOT",
    "AND",
    "NOT cafe",
    "cafe OR",
    "NEAR(",
    "NEAR(cafe noel, 2)",
    "col:foo",
    "body:cafe",
    "{body}: cafe",
    "-",
    "--",
    "- -",
    "-cafe",
    "^cafe",
    "+cafe",
    "cafe + noel",
    "(",
    ")",
    "())((",
    "'); DROP TABLE statuses;--",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "cafe\\",
    "\x00",
    "cafe\x00noel",
    "!!",
    "&&",
    "||",
    "<->",
    "cafe:*",
    "'cafe':*",
    "a & !b",
    "\u200b",
    "\ufeff",
    "\u0301",
    "e\u0301",
    "🙂",
    "👩‍👩‍👧",
    "ﷺ",
    "Ⅻ",
    "ǅ",
    "ß",
    "İstanbul",
    "日本語",
    "한국어",
    "العربية",
    "עִבְרִית",
    "हिन्दी",
    "\U0010ffff",
    "\x7f\x1b[31m",
    "a" * 300,
    " ".join(["w"] * 200),
    "#",
    "@",
    "@@",
    "@a@b@c",
    "http://",
    "https://",
    "https://x",
    "https://[::1",
    "https://parvis.test/tags/",
    "https://parvis.test/tags/%ZZ",
    "javascript:alert(1)",
]


def test_query_syntax_is_never_an_error(client: TestClient) -> None:
    alice = make_user(client)
    posted = alice.status("Un café au lait à Noël")["id"]
    for q in NASTY:
        for kind in (None, "statuses"):
            params = {"q": q, **({"type": kind} if kind else {})}
            r = alice.get("/api/v2/search", params=params)
            # NUL is refused for every URL, with a message (PostgreSQL cannot store it).
            expected = 400 if "\x00" in q else 200
            assert r.status_code == expected, (q, r.text)
            assert expected == 200 or r.json()["error"]
    assert found(alice, "cafe*") == [posted]  # `*` is not syntax: just a separator
    assert found(alice, "NEAR(cafe noel, 2)") == []  # "near" is a word we never wrote
    assert found(alice, "cafe '); -- \" *") == [posted]  # punctuation alone is no word
    assert found(alice, "'); DROP TABLE statuses;-- cafe") == []  # "drop", "table" required
    assert alice.get(f"/api/v1/statuses/{posted}").status_code == 200


FTS_BITS = st.sampled_from(
    [
        '"',
        "*",
        "AND",
        "OR",
        "NOT",
        "NEAR(",
        ")",
        "(",
        ":",
        "col:",
        "-",
        "^",
        "+",
        "'",
        ";",
        "--",
        "%",
        "_",
        "\\",
        "!!",
        "&",
        "|",
        "<->",
        ":*",
        "café",
        "noël",
        "@",
        "#",
        "https://",
        "\x00",
        " ",
    ]
)
CHARS = st.characters(codec="utf-8")  # any code point an URL can carry (no lone surrogates)
QUERIES = st.one_of(
    st.text(alphabet=CHARS, max_size=60),
    st.lists(st.one_of(FTS_BITS, st.text(alphabet=CHARS, max_size=4)), max_size=12).map("".join),
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=QUERIES, kind=st.sampled_from([None, "statuses", "accounts", "hashtags"]))
def test_arbitrary_queries_never_fail(client: TestClient, q: str, kind: str | None) -> None:
    params = {"q": q, **({"type": kind} if kind else {})}
    anonymous = client.get("/api/v2/search", params=params)
    assert anonymous.status_code < 500, anonymous.text
    token = getattr(client, "_search_token", None)
    if token is None:
        user = make_user(client)
        user.status("Un café au lait à Noël, and a #hashtag")
        token = user.token
        client._search_token = token  # type: ignore[attr-defined]
    signed_in = client.get(
        "/api/v2/search", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    if "\x00" in q:  # refused for every URL, with a message
        assert signed_in.status_code == 400 and signed_in.json()["error"], signed_in.text
    else:
        assert signed_in.status_code == 200, signed_in.text


# --- /api/v1/tags ---------------------------------------------------------------------------------


def test_tag_endpoint(client: TestClient) -> None:
    alice = make_user(client)
    alice.status("about #Jardinage today")
    tag = alice.get("/api/v1/tags/jardinage").json()
    assert tag == {
        "id": tag["id"],
        "name": "Jardinage",
        "url": "https://parvis.test/tags/jardinage",
        "history": [],
        "following": False,
        "featuring": False,
    }
    assert [t["id"] for t in search(alice, "jardin")["hashtags"]] == [tag["id"]]
    assert client.get("/api/v1/tags/JARDINAGE").json()["name"] == "Jardinage"
    unused = client.get("/api/v1/tags/neverused")
    assert unused.status_code == 200 and unused.json()["name"] == "neverused"
    for bad in ("not a tag", "2024", "%23"):
        r = client.get(f"/api/v1/tags/{bad}")
        assert r.status_code == 404 and r.json()["error"], bad
    r = client.get("/api/v1/tags/a%00b")  # NUL is refused for every URL
    assert r.status_code == 400 and r.json()["error"]
