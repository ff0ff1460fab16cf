"""/api/parvis/v1/transparency/log: public (no token), JSON, hashes in base64, 4xx on bad
ranges, and everything it publishes verifies."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain import merkle
from parvis.services import transparency_log as log
from tests.services.test_transparency_log import append

PATH = "/api/parvis/v1/transparency/log"


def get(client: TestClient, path: str = "", **params: Any) -> Any:
    r = client.get(PATH + path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return r.json()


def test_the_log_is_public_and_verifies(client: TestClient, parvis: Parvis) -> None:
    append(parvis, 11)
    head = get(client)
    assert set(head) == {"origin", "tree_size", "root_hash", "checkpoint", "public_key"}
    assert head["origin"] == "parvis.test/transparency-log" and head["tree_size"] == 11
    _, key = merkle.parse_verifier_key(head["public_key"])
    signed = merkle.open_checkpoint(head["checkpoint"], key)
    assert merkle.b64(signed.root) == head["root_hash"]

    found = get(client, "/entries", start=0, end=11)
    assert found["tree_size"] == 11
    leaves = [merkle.leaf_hash(merkle.canonical(e["entry"])) for e in found["entries"]]
    assert [merkle.b64(h) for h in leaves] == [e["leaf_hash"] for e in found["entries"]]
    assert merkle.root(leaves) == signed.root

    proof = get(client, "/proof/inclusion", index=4, tree_size=9)
    merkle.verify_inclusion(
        4,
        9,
        leaves[4],
        [merkle.unb64(h, "h") for h in proof["proof"]],
        merkle.unb64(proof["root_hash"], "root"),
    )
    assert proof["leaf_hash"] == found["entries"][4]["leaf_hash"]

    proof = get(client, "/proof/consistency", first=3, second=11)
    merkle.verify_consistency(
        3,
        11,
        merkle.root(leaves[:3]),
        signed.root,
        [merkle.unb64(h, "h") for h in proof["proof"]],
    )
    assert proof["first_root"] == merkle.b64(merkle.root(leaves[:3]))


def test_checkpoints_are_paged(client: TestClient, parvis: Parvis) -> None:
    append(parvis, 5)
    r = client.get(PATH + "/checkpoints", params={"limit": 2})
    page = r.json()
    assert [c["tree_size"] for c in page["checkpoints"]] == [1, 2]
    assert page["next"] == f"https://parvis.test{PATH}/checkpoints?after=2&limit=2"
    assert r.headers["link"] == f'<{page["next"]}>; rel="next"'
    page = get(client, "/checkpoints", after=2, limit=2)
    assert [(c["previous"], c["tree_size"]) for c in page["checkpoints"]] == [(2, 3), (3, 4)]
    last = get(client, "/checkpoints", after=4, limit=2)
    assert [c["tree_size"] for c in last["checkpoints"]] == [5] and last["next"] is None
    c = last["checkpoints"][0]
    _, key = merkle.parse_verifier_key(get(client)["public_key"])
    assert merkle.b64(merkle.open_checkpoint(c["checkpoint"], key).root) == c["root_hash"]
    before = page["checkpoints"][-1]
    merkle.verify_consistency(
        4,
        5,
        merkle.unb64(before["root_hash"], "r"),
        merkle.unb64(c["root_hash"], "r"),
        [merkle.unb64(h, "h") for h in c["consistency"]],
    )
    assert c["created_at"].endswith("+00:00")


def test_an_empty_log(client: TestClient) -> None:
    head = get(client)
    assert head["tree_size"] == 0
    assert head["root_hash"] == merkle.b64(merkle.EMPTY_ROOT)
    assert get(client, "/entries") == {"tree_size": 0, "entries": []}
    assert get(client, "/checkpoints") == {"checkpoints": [], "next": None}


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/entries", {"start": -1}, "start"),
        ("/entries", {"start": "x"}, "start"),
        ("/entries", {"start": 5, "end": 5}, "end must be greater than start"),
        ("/entries", {"start": 0, "end": 1001}, "at most 1000 entries per page"),
        ("/entries", {"start": 2**70}, "start"),
        ("/checkpoints", {"limit": 0}, "limit"),
        ("/checkpoints", {"limit": 1001}, "limit"),
        ("/checkpoints", {"after": -3}, "after"),
        ("/proof/inclusion", {}, "index"),
        ("/proof/inclusion", {"index": 0, "tree_size": 4}, "tree_size must be between 1 and 3"),
        ("/proof/inclusion", {"index": 3, "tree_size": 3}, "index must be at least 0"),
        ("/proof/inclusion", {"index": 0, "tree_size": 0}, "tree_size"),
        ("/proof/consistency", {"first": 2}, "second"),
        ("/proof/consistency", {"first": 3, "second": 2}, "first must be at least 1"),
        ("/proof/consistency", {"first": 1, "second": 9}, "second must be between 1 and 3"),
        ("/proof/consistency", {"first": 0, "second": 2}, "first"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    client: TestClient, parvis: Parvis, path: str, params: dict[str, Any], message: str
) -> None:
    append(parvis, 3)
    r = client.get(PATH + path, params=params)
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]


def test_no_token_is_needed_and_one_is_ignored(client: TestClient, parvis: Parvis) -> None:
    append(parvis, 1)
    r = client.get(PATH, headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 200
    assert r.json()["tree_size"] == 1
    assert parvis.runtime.read(log.head).tree_size == 1
