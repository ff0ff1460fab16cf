"""The visibility rule, end to end: random small worlds built through the real HTTP API on the
real database, then every read path checked, for every reader, against `may_see` computed in
the test from the generated world.

A world is 3-4 fresh accounts, random follows, then posts, replies and boosts; then random
blocks; then more posts, replies and boosts. Each write is also predicted (a reply to a post the
author cannot see is a 404, a boost of someone else's followers-only post a 403...). The read
paths: GET /api/v1/statuses/:id, GET /api/v1/statuses?id[]=, the home, public and hashtag
timelines, account statuses, thread context and notifications, signed in and anonymous.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from parvis.domain.visibility import PostFacts, Viewer, Visibility, may_boost, may_see
from tests.builders import User, make_user

VISIBILITIES = list(Visibility)


# --- the generated plan -----------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    kind: str  # post | reply | boost
    author: int  # account index
    visibility: Visibility
    mentions: frozenset[int]
    target: int  # for replies and boosts: picks an earlier item (modulo their number)


@dataclass(frozen=True)
class Plan:
    n: int
    follows: tuple[tuple[int, int], ...]
    blocks: tuple[tuple[int, int], ...]
    actions: tuple[Action, ...]
    cut: int  # actions[:cut] happen before the blocks, the rest after


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    n = draw(st.integers(min_value=3, max_value=4))
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    follows = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=9))
    blocks = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=2))
    action = st.builds(
        Action,
        kind=st.sampled_from(["post", "post", "reply", "boost"]),
        author=st.integers(0, n - 1),
        visibility=st.sampled_from(VISIBILITIES),
        mentions=st.frozensets(st.integers(0, n - 1), max_size=2),
        target=st.integers(0, 50),
    )
    actions = draw(st.lists(action, min_size=2, max_size=8))
    cut = draw(st.integers(0, len(actions)))
    return Plan(n, tuple(follows), tuple(blocks), tuple(actions), cut)


# --- the world as the test knows it ----------------------------------------------------------


@dataclass
class Item:
    index: int
    author: int
    facts: PostFacts
    original: Item | None = None  # for boosts
    parent: Item | None = None  # for replies
    id: str = ""


@dataclass
class World:
    users: list[User]
    tag: str
    follows: set[tuple[int, int]] = field(default_factory=set)
    blocks: set[tuple[int, int]] = field(default_factory=set)
    items: list[Item] = field(default_factory=list)
    boosted: dict[tuple[int, int], Item] = field(default_factory=dict)  # (booster, original)
    homes: dict[int, set[int]] = field(default_factory=dict)  # account -> item indices
    follow_events: list[tuple[int, int]] = field(default_factory=list)
    reblog_events: list[tuple[int, Item]] = field(default_factory=list)  # (booster, original)

    def viewer(self, who: int | None) -> Viewer:
        if who is None:
            return Viewer(account_id=None)
        return Viewer(
            account_id=who,
            following=frozenset(b for a, b in self.follows if a == who),
            blocking=frozenset(b for a, b in self.blocks if a == who),
            blocked_by=frozenset(a for a, b in self.blocks if b == who),
        )

    def visible(self, who: int | None, item: Item) -> bool:
        v = self.viewer(who)
        return may_see(v, item.facts) and (item.original is None or may_see(v, item.original.facts))

    def blocked_pair(self, a: int, b: int) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    def by_id(self) -> dict[str, Item]:
        return {i.id: i for i in self.items}

    def name(self, who: int | None) -> str:
        return "anonymous" if who is None else f"user{who}"


def build(client: TestClient, plan: Plan) -> World:
    suffix = uuid.uuid4().hex[:10]
    users = [make_user(client, f"u{i}_{suffix}") for i in range(plan.n)]
    world = World(users=users, tag=f"t{suffix}", homes={i: set() for i in range(plan.n)})
    for a, b in plan.follows:
        r = users[a].post(f"/api/v1/accounts/{users[b].id}/follow")
        assert r.status_code == 200 and r.json()["following"] is True, r.text
        world.follows.add((a, b))
        world.follow_events.append((a, b))
    for action in plan.actions[: plan.cut]:
        act(world, action)
    for a, b in plan.blocks:
        r = users[a].post(f"/api/v1/accounts/{users[b].id}/block")
        assert r.status_code == 200 and r.json()["blocking"] is True, r.text
        world.blocks.add((a, b))
        for x, y in ((a, b), (b, a)):  # a dropped follow takes the followee's posts out of home
            if (x, y) in world.follows:
                world.homes[x] -= {i.index for i in world.items if i.author == y}
        world.follows -= {(a, b), (b, a)}
    for action in plan.actions[plan.cut :]:
        act(world, action)
    return world


def act(world: World, action: Action) -> None:
    users, me = world.users, action.author
    kind = action.kind if world.items else "post"
    target = world.items[action.target % len(world.items)] if world.items else None

    if kind == "boost":
        assert target is not None
        r = users[me].post(f"/api/v1/statuses/{target.id}/reblog")
        if not world.visible(me, target):
            assert r.status_code == 404, r.text
            return
        original = target.original or target
        if not may_boost(me, original.facts):
            assert r.status_code == 403, r.text
            return
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["reblog"]["id"] == original.id
        if (me, original.index) in world.boosted:  # boosting again returns the same boost
            assert body["id"] == world.boosted[(me, original.index)].id
            return
        vis = (
            Visibility.PRIVATE
            if original.facts.visibility is Visibility.PRIVATE
            else (Visibility.PUBLIC)
        )
        assert body["visibility"] == vis.value
        item = Item(
            len(world.items),
            me,
            PostFacts(author_id=me, visibility=vis),
            original=original,
            id=body["id"],
        )
        world.items.append(item)
        world.boosted[(me, original.index)] = item
        world.reblog_events.append((me, original))
        deliver(world, item)
        return

    mentioned = set(action.mentions)
    text = f"#{world.tag} item {len(world.items)} " + " ".join(
        f"@{users[m].username}" for m in sorted(mentioned)
    )
    payload: dict[str, Any] = {"status": text, "visibility": action.visibility.value}
    parent = None
    if kind == "reply":
        assert target is not None
        payload["in_reply_to_id"] = target.id
        parent = target
    r = users[me].post("/api/v1/statuses", json=payload)
    if parent is not None and not world.visible(me, parent):
        assert r.status_code == 404, r.text
        return
    if parent is not None and parent.original is not None:
        assert r.status_code == 422, r.text  # one cannot reply to a boost
        return
    assert r.status_code == 200, r.text
    if parent is not None and parent.author != me:
        mentioned.add(parent.author)  # the replied-to author is addressed
    body = r.json()
    assert {m["id"] for m in body["mentions"]} == {users[m].id for m in mentioned}
    facts = PostFacts(
        author_id=me, visibility=action.visibility, mentioned_ids=frozenset(mentioned)
    )
    item = Item(len(world.items), me, facts, parent=parent, id=body["id"])
    world.items.append(item)
    deliver(world, item)


def deliver(world: World, item: Item) -> None:
    """Which homes a new item reaches, at the moment it is written: its author's, and those of
    the author's followers who may see it (and its original). A post shows once in a home: a
    boost skips homes already holding the original or another boost of it, and nobody gets
    boosts of their own posts."""
    reached = {item.author} | {
        f for f, a in world.follows if a == item.author and world.visible(f, item)
    }
    if item.original is not None:
        same = {item.original.index} | {
            i.index for i in world.items if i.original is item.original and i is not item
        }
        reached = {
            r
            for r in reached
            if not world.homes[r] & same and (r == item.author or r != item.original.author)
        }
    for r in reached:
        world.homes[r].add(item.index)


# --- what each read path should return ----------------------------------------------------------


def newest_first(items: list[Item]) -> list[str]:
    return [i.id for i in sorted(items, key=lambda i: int(i.id), reverse=True)]


def expected_home(world: World, who: int) -> list[str]:
    """What reached the reader's home and is still there, less what they may no longer see."""
    return newest_first(
        [i for i in world.items if i.index in world.homes[who] and world.visible(who, i)]
    )


def expected_public(world: World, who: int | None) -> list[str]:
    return newest_first(
        [
            i
            for i in world.items
            if i.original is None
            and i.facts.visibility is Visibility.PUBLIC
            and world.visible(who, i)
        ]
    )


def expected_account(world: World, who: int | None, author: int) -> list[str]:
    return newest_first([i for i in world.items if i.author == author and world.visible(who, i)])


def expected_context(world: World, who: int | None, item: Item) -> tuple[list[str], list[str]]:
    """The thread as far as the reader can follow it: up through visible parents, down
    through visible replies (depth first, oldest reply first)."""
    ancestors = []
    parent = item.parent
    while parent is not None and world.visible(who, parent):
        ancestors.append(parent.id)
        parent = parent.parent
    ancestors.reverse()

    def children(of: Item) -> list[Item]:
        return [i for i in world.items if i.parent is of and world.visible(who, i)]

    descendants: list[str] = []
    stack = list(reversed(children(item)))
    while stack:
        current = stack.pop()
        descendants.append(current.id)
        stack.extend(reversed(children(current)))
    return ancestors, descendants


def expected_notifications(world: World, who: int) -> set[tuple[str, int, str | None]]:
    """(type, sender, status id) of what the reader should be told about."""
    out: set[tuple[str, int, str | None]] = set()
    for item in world.items:
        if (
            item.original is None
            and who in item.facts.mentioned_ids
            and item.author != who
            and world.visible(who, item)
        ):
            out.add(("mention", item.author, item.id))
    for booster, original in world.reblog_events:
        if original.author == who and booster != who and not world.blocked_pair(who, booster):
            out.add(("reblog", booster, original.id))
    for follower, followee in world.follow_events:
        if followee == who and not world.blocked_pair(who, follower):
            out.add(("follow", follower, None))
    return out


# --- the check --------------------------------------------------------------------------------


def check(client: TestClient, world: World) -> list[str]:
    """Every read path for every reader; returns the discrepancies found."""
    problems: list[str] = []
    ours = world.by_id()
    index_of = {u.id: i for i, u in enumerate(world.users)}
    readers: list[int | None] = [None, *range(len(world.users))]

    def expect(path: str, who: int | None, got: Any, wanted: Any) -> None:
        if got != wanted:
            problems.append(f"{path} as {world.name(who)}: got {got}, expected {wanted}")

    def label(ids: list[str]) -> list[str]:
        return [f"item{ours[i].index}" if i in ours else f"foreign:{i}" for i in ids]

    for who in readers:
        headers = world.users[who].headers if who is not None else {}

        def get(path: str, headers: dict[str, str] = headers, **params: Any) -> Any:
            r = client.get(path, params=params, headers=headers)
            assert r.status_code < 500, r.text
            return r

        def mine(statuses: list[dict[str, Any]]) -> list[str]:
            return [s["id"] for s in statuses if s["id"] in ours]

        for item in world.items:
            r = get(f"/api/v1/statuses/{item.id}")
            wanted = 200 if world.visible(who, item) else 404
            expect(f"GET /statuses/item{item.index}", who, r.status_code, wanted)
            if r.status_code == 200 and r.json()["id"] != item.id:
                problems.append(f"GET /statuses/item{item.index}: wrong status returned")

        bulk = get("/api/v1/statuses", **{"id[]": [i.id for i in world.items]}).json()
        expect(
            "GET /statuses?id[]",
            who,
            sorted(label(mine(bulk))),
            sorted(label([i.id for i in world.items if world.visible(who, i)])),
        )

        for local in (None, "true") if who is None else (None,):
            params = {"limit": 40} | ({"local": local} if local else {})
            got = mine(get("/api/v1/timelines/public", **params).json())
            expect(f"public timeline {params}", who, label(got), label(expected_public(world, who)))

        got = get(f"/api/v1/timelines/tag/{world.tag}", limit=40).json()
        expect(
            "hashtag timeline",
            who,
            label([s["id"] for s in got]),
            label(expected_public(world, who)),
        )

        for author, user in enumerate(world.users):
            got = get(f"/api/v1/accounts/{user.id}/statuses", limit=40).json()
            expect(
                f"account statuses of user{author}",
                who,
                label([s["id"] for s in got]),
                label(expected_account(world, who, author)),
            )

        for item in world.items:
            if item.original is not None:
                continue
            r = get(f"/api/v1/statuses/{item.id}/context")
            if not world.visible(who, item):
                expect(f"context of item{item.index}", who, r.status_code, 404)
                continue
            expect(f"context of item{item.index} (status)", who, r.status_code, 200)
            if r.status_code != 200:
                continue
            ancestors, descendants = expected_context(world, who, item)
            expect(
                f"context of item{item.index} ancestors",
                who,
                label([s["id"] for s in r.json()["ancestors"]]),
                label(ancestors),
            )
            expect(
                f"context of item{item.index} descendants",
                who,
                label([s["id"] for s in r.json()["descendants"]]),
                label(descendants),
            )

        if who is None:
            continue
        got = get("/api/v1/timelines/home", limit=40).json()
        expect(
            "home timeline", who, label([s["id"] for s in got]), label(expected_home(world, who))
        )

        r = get("/api/v1/notifications", limit=80)
        expect("notifications (status)", who, r.status_code, 200)
        if r.status_code == 200:
            told = set()
            for n in r.json():
                status_id = n["status"]["id"] if n["status"] else None
                if (
                    status_id is not None
                    and status_id in ours
                    and not world.visible(who, ours[status_id])
                ):
                    problems.append(
                        f"notifications as {world.name(who)}: {n['type']} about "
                        f"item{ours[status_id].index}, which they may not see"
                    )
                told.add((n["type"], index_of.get(n["account"]["id"], -1), status_id))
            expect(
                "notifications",
                who,
                sorted(told, key=str),
                sorted(expected_notifications(world, who), key=str),
            )
    return problems


def describe(plan: Plan) -> str:
    lines = [
        f"{plan.n} accounts; follows {list(plan.follows)}; blocks {list(plan.blocks)} "
        f"after action {plan.cut}"
    ]
    for k, a in enumerate(plan.actions):
        lines.append(
            f"  action {k}: user{a.author} {a.kind} {a.visibility.value} "
            f"mentions={sorted(a.mentions)} target={a.target}"
        )
    return "\n".join(lines)


# No shrinking: each example builds a world over HTTP, so shrinking takes minutes; the report
# below lists the whole (small) world and every discrepancy instead.
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans())
def test_every_read_path_follows_the_visibility_rule(client: TestClient, plan: Plan) -> None:
    world = build(client, plan)
    problems = check(client, world)
    assert not problems, describe(plan) + "\n" + "\n".join(problems)
