"""Filters v2 through the real HTTP API: CRUD of filter groups, keywords and statuses, the v1
view, and filters applied on the read paths (hide drops, warn/blur annotate `filtered`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from parvis.app import Parvis
from tests.builders import User, error_of, follow, home_ids, ids, make_user, ok


def make_filter(user: User, **body: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"title": "No spoilers", "context": ["home", "public"]}
    payload.update(body)
    result = ok(user.post("/api/v2/filters", json=payload))
    assert isinstance(result, dict)
    return result


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {x["id"]: x for x in items}


def test_filter_crud(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    made = make_filter(
        me,
        filter_action="hide",
        keywords_attributes=[{"keyword": "Dune", "whole_word": True}, {"keyword": "arrakis"}],
    )
    assert made["title"] == "No spoilers"
    assert made["context"] == ["home", "public"]
    assert made["filter_action"] == "hide"
    assert made["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in made["keywords"]] == [
        ("Dune", True),
        ("arrakis", True),
    ]
    assert made["statuses"] == []
    assert ids(ok(me.get("/api/v2/filters"))) == [made["id"]]
    assert ok(me.get(f"/api/v2/filters/{made['id']}")) == made
    error_of(other.get(f"/api/v2/filters/{made['id']}"), 404)
    assert ok(other.get("/api/v2/filters")) == []

    dune, arrakis = made["keywords"]
    changed = ok(
        me.put(
            f"/api/v2/filters/{made['id']}",
            json={
                "title": "Spoilers",
                "context": ["thread"],
                "filter_action": "blur",
                "keywords_attributes": [
                    {"id": dune["id"], "keyword": "dune", "whole_word": False},
                    {"id": arrakis["id"], "_destroy": True},
                    {"keyword": "spice"},
                ],
            },
        )
    )
    assert (changed["title"], changed["context"], changed["filter_action"]) == (
        "Spoilers",
        ["thread"],
        "blur",
    )
    assert [(k["keyword"], k["whole_word"]) for k in changed["keywords"]] == [
        ("dune", False),
        ("spice", True),
    ]
    error_of(other.delete(f"/api/v2/filters/{made['id']}"), 404)
    assert ok(me.delete(f"/api/v2/filters/{made['id']}")) == {}
    error_of(me.get(f"/api/v2/filters/{made['id']}"), 404)


def test_filter_form_encoding_and_expiry(client: TestClient, parvis: Parvis) -> None:
    me = make_user(client)
    made = ok(
        me.post(
            "/api/v2/filters",
            data={
                "title": "Form",
                "context[]": ["home", "notifications"],
                "expires_in": "3600",
                "keywords_attributes[0][keyword]": "cats",
                "keywords_attributes[0][whole_word]": "false",
            },
        )
    )
    assert made["context"] == ["home", "notifications"]
    assert [(k["keyword"], k["whole_word"]) for k in made["keywords"]] == [("cats", False)]
    expires = datetime.fromisoformat(made["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    cleared = ok(me.put(f"/api/v2/filters/{made['id']}", json={"expires_in": ""}))
    assert cleared["expires_at"] is None


def test_filter_bad_input(client: TestClient) -> None:
    me = make_user(client)
    error_of(me.post("/api/v2/filters", json={"context": ["home"]}), 422)
    error_of(me.post("/api/v2/filters", json={"title": "x"}), 422)
    error_of(me.post("/api/v2/filters", json={"title": "x", "context": []}), 422)
    error_of(me.post("/api/v2/filters", json={"title": "x", "context": ["everywhere"]}), 422)
    error_of(
        me.post(
            "/api/v2/filters", json={"title": "x", "context": ["home"], "filter_action": "explode"}
        ),
        422,
    )
    error_of(
        me.post("/api/v2/filters", json={"title": "x", "context": ["home"], "expires_in": "soon"}),
        422,
    )
    error_of(
        me.post("/api/v2/filters", json={"title": "x", "context": ["home"], "expires_in": -5}), 422
    )
    error_of(
        me.post(
            "/api/v2/filters",
            json={"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": ""}]},
        ),
        422,
    )
    error_of(
        me.post(
            "/api/v2/filters",
            json={"title": "x", "context": ["home"], "keywords_attributes": "cats"},
        ),
        422,
    )
    error_of(me.post("/api/v2/filters", json={"title": "x" * 300, "context": ["home"]}), 422)
    made = make_filter(me)
    error_of(
        me.put(
            f"/api/v2/filters/{made['id']}",
            json={"keywords_attributes": [{"id": "123", "_destroy": True}]},
        ),
        404,
    )
    error_of(me.get("/api/v2/filters/abc"), 404)
    assert ok(me.get("/api/v2/filters")) == [made]  # nothing half-made by the refusals


def test_keywords_and_statuses_endpoints(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    made = make_filter(me)
    fid = made["id"]
    kw = ok(me.post(f"/api/v2/filters/{fid}/keywords", json={"keyword": "spoiler"}))
    assert (kw["keyword"], kw["whole_word"]) == ("spoiler", True)
    assert ok(me.get(f"/api/v2/filters/{fid}/keywords")) == [kw]
    assert ok(me.get(f"/api/v2/filters/keywords/{kw['id']}")) == kw
    kw2 = ok(me.put(f"/api/v2/filters/keywords/{kw['id']}", data={"whole_word": "false"}))
    assert (kw2["keyword"], kw2["whole_word"]) == ("spoiler", False)
    error_of(other.get(f"/api/v2/filters/keywords/{kw['id']}"), 404)
    error_of(me.post(f"/api/v2/filters/{fid}/keywords", json={}), 422)
    assert ok(me.delete(f"/api/v2/filters/keywords/{kw['id']}")) == {}
    error_of(me.get(f"/api/v2/filters/keywords/{kw['id']}"), 404)

    post = other.status("something")
    fs = ok(me.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": post["id"]}))
    assert fs["status_id"] == post["id"]
    assert ok(me.get(f"/api/v2/filters/{fid}/statuses")) == [fs]
    assert ok(me.get(f"/api/v2/filters/statuses/{fs['id']}")) == fs
    error_of(other.get(f"/api/v2/filters/statuses/{fs['id']}"), 404)
    error_of(me.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": "99999"}), 404)
    error_of(me.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": "x"}), 422)
    assert ok(me.delete(f"/api/v2/filters/statuses/{fs['id']}")) == {}
    assert ok(me.get(f"/api/v2/filters/{fid}/statuses")) == []


def test_v1_view(client: TestClient) -> None:
    me = make_user(client)
    made = make_filter(
        me, filter_action="hide", keywords_attributes=[{"keyword": "a"}, {"keyword": "b"}]
    )
    v1 = ok(me.get("/api/v1/filters"))
    assert [(f["phrase"], f["irreversible"], f["context"]) for f in v1] == [
        ("a", True, ["home", "public"]),
        ("b", True, ["home", "public"]),
    ]
    assert ok(me.get(f"/api/v1/filters/{made['keywords'][0]['id']}"))["phrase"] == "a"
    error_of(me.get("/api/v1/filters/12345"), 404)


def test_v1_write(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    made = ok(
        me.post(
            "/api/v1/filters",
            data={"phrase": "spoiler", "context[]": ["home"], "irreversible": "true"},
        )
    )
    assert (made["phrase"], made["context"], made["irreversible"], made["whole_word"]) == (
        "spoiler",
        ["home"],
        True,
        True,
    )
    (group,) = ok(me.get("/api/v2/filters"))
    assert (group["title"], group["filter_action"]) == ("spoiler", "hide")
    changed = ok(
        me.put(
            f"/api/v1/filters/{made['id']}",
            json={
                "phrase": "spoilers",
                "irreversible": False,
                "whole_word": False,
                "context": ["home", "thread"],
            },
        )
    )
    assert (
        changed["phrase"],
        changed["irreversible"],
        changed["whole_word"],
        changed["context"],
    ) == ("spoilers", False, False, ["home", "thread"])
    error_of(other.put(f"/api/v1/filters/{made['id']}", json={"phrase": "x"}), 404)
    error_of(other.delete(f"/api/v1/filters/{made['id']}"), 404)
    error_of(me.post("/api/v1/filters", json={"phrase": "x"}), 422)
    error_of(me.post("/api/v1/filters", json={"phrase": "", "context": ["home"]}), 422)
    assert ok(me.delete(f"/api/v1/filters/{made['id']}")) == {}
    assert ok(me.get("/api/v2/filters")) == []  # the group went with its last keyword


def test_hide_and_warn_on_home_and_public(client: TestClient) -> None:
    me, author = make_user(client), make_user(client)
    follow(me, author)
    plain = author.status("a quiet day")
    spoiler = author.status("The ending of <b>Dune</b> is great")
    cw = author.status("nothing here", spoiler_text="Dune talk")
    inside_word = author.status("Dunes of sand")
    mine = me.status("I loved Dune")
    hide = make_filter(
        me, filter_action="hide", keywords_attributes=[{"keyword": "dune", "whole_word": True}]
    )
    assert home_ids(me) == [mine["id"], inside_word["id"], plain["id"]]
    public = ids(ok(me.get("/api/v1/timelines/public")))
    assert spoiler["id"] not in public and cw["id"] not in public
    # Anonymous readers and other users are not affected.
    assert spoiler["id"] in ids(ok(client.get("/api/v1/timelines/public")))

    ok(me.put(f"/api/v2/filters/{hide['id']}", json={"filter_action": "warn"}))
    home = {s["id"]: s for s in ok(me.get("/api/v1/timelines/home"))}
    assert set(home) == {mine["id"], inside_word["id"], plain["id"], spoiler["id"], cw["id"]}
    (result,) = home[spoiler["id"]]["filtered"]
    assert result["filter"]["id"] == hide["id"]
    assert result["filter"]["filter_action"] == "warn"
    assert "keywords" not in result["filter"]
    assert result["keyword_matches"] == ["dune"]
    assert result["status_matches"] is None
    assert home[cw["id"]]["filtered"][0]["keyword_matches"] == ["dune"]
    assert home[plain["id"]]["filtered"] == []
    assert home[mine["id"]]["filtered"] == []  # one's own posts are never filtered


def test_context_expiry_and_status_filters(client: TestClient, parvis: Parvis) -> None:
    me, author = make_user(client), make_user(client)
    follow(me, author)
    post = author.status("cats and dogs")
    other = author.status("birds")
    # A filter for the public context only leaves home alone.
    make_filter(
        me, context=["public"], filter_action="hide", keywords_attributes=[{"keyword": "cats"}]
    )
    assert post["id"] in home_ids(me)
    assert post["id"] not in ids(ok(me.get("/api/v1/timelines/public")))
    # A status filter on home, expiring.
    f = make_filter(me, context=["home"], filter_action="hide", expires_in=60)
    ok(me.post(f"/api/v2/filters/{f['id']}/statuses", json={"status_id": other["id"]}))
    assert other["id"] not in home_ids(me)
    ok(me.put(f"/api/v2/filters/{f['id']}", json={"filter_action": "blur"}))
    got = {s["id"]: s for s in ok(me.get("/api/v1/timelines/home"))}
    assert got[other["id"]]["filtered"][0]["status_matches"] == [other["id"]]
    assert got[other["id"]]["filtered"][0]["filter"]["filter_action"] == "blur"

    later = datetime.now(UTC) + timedelta(minutes=5)
    parvis.runtime.clock = lambda: later  # type: ignore[method-assign]
    got = {s["id"]: s for s in ok(me.get("/api/v1/timelines/home"))}
    assert got[other["id"]]["filtered"] == []  # expired filters do nothing


def test_filters_on_boosts_account_thread_and_hashtag(client: TestClient) -> None:
    me, author, booster = make_user(client), make_user(client), make_user(client)
    follow(me, booster)
    original = author.status("talking about #Rust and crabs")
    boost = ok(booster.post(f"/api/v1/statuses/{original['id']}/reblog"))
    reply = booster.status("crabs everywhere", in_reply_to_id=original["id"])
    make_filter(
        me,
        context=["home", "account", "thread", "public"],
        filter_action="warn",
        keywords_attributes=[{"keyword": "crabs"}],
    )
    home = {s["id"]: s for s in ok(me.get("/api/v1/timelines/home"))}
    assert home[boost["id"]]["filtered"][0]["keyword_matches"] == ["crabs"]
    assert home[boost["id"]]["reblog"]["filtered"][0]["keyword_matches"] == ["crabs"]
    acct = ok(me.get(f"/api/v1/accounts/{author.id}/statuses"))
    assert acct[0]["filtered"][0]["keyword_matches"] == ["crabs"]
    tag = ok(me.get("/api/v1/timelines/tag/rust"))
    assert tag[0]["filtered"][0]["keyword_matches"] == ["crabs"]
    ctx = ok(me.get(f"/api/v1/statuses/{original['id']}/context"))
    assert ctx["descendants"][0]["id"] == reply["id"]
    assert ctx["descendants"][0]["filtered"][0]["keyword_matches"] == ["crabs"]

    hide = make_filter(
        me,
        title="hide",
        context=["thread"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "everywhere"}],
    )
    assert ok(me.get(f"/api/v1/statuses/{original['id']}/context"))["descendants"] == []
    assert hide["id"]


def test_filters_on_notifications_and_a_single_status(client: TestClient) -> None:
    me, author = make_user(client), make_user(client)
    make_filter(
        me,
        title="Hidden",
        context=["notifications"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "lottery"}],
    )
    warn = make_filter(
        me,
        title="Careful",
        context=["notifications", "thread"],
        filter_action="warn",
        keywords_attributes=[{"keyword": "giveaway"}],
    )
    hidden = author.status(f"@{me.username} you won the lottery")
    warned = author.status(f"@{me.username} a giveaway for you")
    plain = author.status(f"@{me.username} hello")

    for path in ("/api/v1/notifications", "/api/v2/notifications"):
        body = ok(me.get(path))
        notes = body if isinstance(body, list) else body["notification_groups"]
        statuses = (
            {n["status"]["id"]: n["status"] for n in notes}
            if isinstance(body, list)
            else {s["id"]: s for s in body["statuses"]}
        )
        assert set(statuses) == {warned["id"], plain["id"]}, path
        assert [r["filter"]["id"] for r in statuses[warned["id"]]["filtered"]] == [warn["id"]]
        assert statuses[plain["id"]]["filtered"] == []
    # Read on its own, a status is in the `thread` context.
    single = ok(me.get(f"/api/v1/statuses/{warned['id']}"))
    assert [r["filter"]["title"] for r in single["filtered"]] == ["Careful"]
    assert ok(me.get(f"/api/v1/statuses/{hidden['id']}"))["filtered"] == []
