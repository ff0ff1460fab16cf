"""The moderation log service on the real database: appends signed in the same transaction,
constant work per append, proofs for every size, no personal data, and the signing key."""

from __future__ import annotations

import base64
import itertools
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.config import Settings
from parvis.domain import merkle
from parvis.domain.errors import Invalid
from parvis.services import accounts, moderation, notices
from parvis.services import transparency_log as log
from parvis.services.context import Work
from tests.builders import make_user
from tests.conftest import make_settings


def entry(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "decision",
        "puid": f"parvis-{n}",
        "action": "remove",
        "ground": "rule",
        "rule_id": "2",
        "rule_version": 1,
        "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "keywords": ["KEYWORD_HATE_SPEECH"],
        "territorial_scope": ["FR", "BE"],
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": False,
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "subject_type": "status",
        "starts_at": "2026-11-23T10:00:00+00:00",
        "ends_at": None,
        "created_at": "2026-11-23T10:00:00+00:00",
        **extra,
    }


def appending(n: int) -> Callable[[Work], int]:
    return lambda work: log.append(work, entry(n))


def append(parvis: Parvis, n: int) -> list[int]:
    return [parvis.runtime.write(appending(i)) for i in range(n)]


def key_of(parvis: Parvis) -> bytes:
    head = parvis.runtime.read(log.head)
    return merkle.parse_verifier_key(head.public_key)[1]


def test_appends_are_numbered_signed_and_published(parvis: Parvis) -> None:
    assert append(parvis, 5) == [0, 1, 2, 3, 4]
    head = parvis.runtime.read(log.head)
    key = key_of(parvis)
    signed = merkle.open_checkpoint(head.checkpoint, key)
    assert (signed.origin, signed.size) == ("parvis.test/transparency-log", 5)
    assert head.origin == signed.origin and head.tree_size == 5
    size, found = parvis.runtime.read(lambda w: log.entries(w, 0, None))
    assert size == 5 and [e["index"] for e in found] == [0, 1, 2, 3, 4]
    assert found[3]["entry"] == entry(3)
    leaves = [merkle.leaf_hash(merkle.canonical(e["entry"])) for e in found]
    assert [merkle.b64(h) for h in leaves] == [e["leaf_hash"] for e in found]
    assert merkle.root(leaves) == signed.root == head.root_hash
    # one signed checkpoint per append, each extending the one before
    views = parvis.runtime.read(lambda w: log.checkpoints(w, 0, 100))
    assert [c.tree_size for c in views] == [1, 2, 3, 4, 5]
    assert [c.previous for c in views] == [0, 1, 2, 3, 4]
    for before, after in itertools.pairwise(views):
        assert merkle.open_checkpoint(after.checkpoint, key).root == after.root_hash
        merkle.verify_consistency(
            before.tree_size, after.tree_size, before.root_hash, after.root_hash, after.consistency
        )


def test_an_empty_log_has_a_signed_head(parvis: Parvis) -> None:
    head = parvis.runtime.read(log.head)
    assert head.tree_size == 0 and head.root_hash == merkle.EMPTY_ROOT
    assert merkle.open_checkpoint(head.checkpoint, key_of(parvis)).size == 0
    assert parvis.runtime.read(lambda w: log.checkpoints(w, 0, 10)) == []


def test_proofs_for_every_size(parvis: Parvis) -> None:
    n = 21
    append(parvis, n)
    _, found = parvis.runtime.read(lambda w: log.entries(w, 0, None))
    leaves = [merkle.leaf_hash(merkle.canonical(e["entry"])) for e in found]

    def check(work: Work) -> None:
        for size in range(1, n + 1):
            assert log.root_at(work, size) == merkle.root(leaves[:size])
            for index in range(size):
                leaf, proof, root = log.inclusion(work, index, size)
                assert leaf == leaves[index]
                merkle.verify_inclusion(index, size, leaf, proof, root)
            for first in range(1, size + 1):
                r1, r2, proof = log.consistency(work, first, size)
                merkle.verify_consistency(first, size, r1, r2, proof)

    parvis.runtime.read(check)
    # pages of checkpoints start with the proof from the checkpoint before the page
    page = parvis.runtime.read(lambda w: log.checkpoints(w, 7, 3))
    assert [(c.previous, c.tree_size) for c in page] == [(7, 8), (8, 9), (9, 10)]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w: log.entries(w, -1, None), "start must be 0 or more"),
        (lambda w: log.entries(w, 5, 5), "end must be greater than start"),
        (lambda w: log.entries(w, 0, 1001), "at most 1000 entries"),
        (lambda w: log.checkpoints(w, 0, 0), "limit must be between 1 and 1000"),
        (lambda w: log.checkpoints(w, -1, 10), "after must be 0 or more"),
        (lambda w: log.inclusion(w, 0, 4), "tree_size must be between 1 and 3"),
        (lambda w: log.inclusion(w, 3, 3), "index must be at least 0 and below tree_size"),
        (lambda w: log.consistency(w, 0, 3), "first must be at least 1"),
        (lambda w: log.consistency(w, 3, 2), "first must be at least 1 and at most second"),
        (lambda w: log.consistency(w, 1, 4), "second must be between 1 and 3"),
    ],
)
def test_bad_ranges_are_refused(parvis: Parvis, call: Any, message: str) -> None:
    append(parvis, 3)
    with pytest.raises(Invalid, match=message):
        parvis.runtime.read(call)


def test_entries_past_the_end_are_simply_not_there(parvis: Parvis) -> None:
    append(parvis, 3)
    assert parvis.runtime.read(lambda w: log.entries(w, 2, 50))[1][0]["index"] == 2
    assert parvis.runtime.read(lambda w: log.entries(w, 3, 50)) == (3, [])


def test_append_does_constant_work_whatever_the_size(parvis: Parvis) -> None:
    """No append reads or rewrites the tree: the same statements at size 3 as at size 300,
    and about one stored subtree per leaf."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = parvis.db.engine
    append(parvis, 3)
    event.listen(engine, "before_cursor_execute", count)
    try:
        parvis.runtime.write(lambda w: log.append(w, entry(3)))  # size 3 -> 4: 2 subtrees made
        small = list(statements)
        append(parvis, 299 - 4)
        statements.clear()
        parvis.runtime.write(lambda w: log.append(w, entry(300)))  # 299 -> 300: 2 made, too
        assert len(statements) == len(small)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with parvis.db.engine.connect() as conn:
        nodes = conn.execute(text("SELECT count(*) FROM transparency_log_nodes")).scalar()
    assert nodes == 300 - (300).bit_count()


def test_a_rolled_back_decision_leaves_no_trace_in_the_log(parvis: Parvis) -> None:
    append(parvis, 2)

    def fails(work: Work) -> None:
        log.append(work, entry(9))
        raise Invalid("the decision failed after logging")

    with pytest.raises(Invalid):
        parvis.runtime.write(fails)
    assert parvis.runtime.read(log.head).tree_size == 2
    assert append(parvis, 1) == [2]


PERSONAL_KEYS = sorted(log.PERSONAL)


@pytest.mark.parametrize("key", PERSONAL_KEYS)
def test_personal_data_is_refused(key: str) -> None:
    with pytest.raises(Invalid, match=f"{key}: personal data or free text"):
        log.check_entry(entry(0, **{key: "Alice"}))


def test_a_refused_entry_is_not_appended(parvis: Parvis) -> None:
    with pytest.raises(Invalid, match="email: personal data or free text"):
        parvis.runtime.write(lambda w: log.append(w, entry(0, email="alice@example.org")))
    assert parvis.runtime.read(log.head).tree_size == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"action": "removed for being rude to Alice"}, "action: must be one of"),
        ({"rule_id": "2 (see Bob's post)"}, "rule_id: must be a rule id"),
        ({"rule_version": "1"}, "rule_version: must be a positive integer"),
        ({"rule_version": True}, "rule_version: must be a positive integer"),
        ({"keywords": ["hate from @carol@example.org"]}, "keywords: must be a list of KEYWORD_"),
        ({"territorial_scope": "FR"}, "territorial_scope: must be a list"),
        ({"territorial_scope": ["US"]}, "territorial_scope: must be a list"),
        ({"automated_detection": "No"}, "automated_detection: must be true or false"),
        ({"created_at": "yesterday"}, "created_at: must be an ISO 8601 time"),
        ({"created_at": "2026-11-23T10:00:00"}, "created_at: must be an ISO 8601 time"),
        ({"puid": "dave@example.org"}, "puid: must be a platform unique identifier"),
        ({"comment": "anything"}, "comment: not a field of the log"),
        ({"type": "note"}, "type: must be"),
    ],
)
def test_values_outside_the_allow_list_are_refused(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid, match=message):
        log.check_entry(entry(0, **extra))


def test_required_keys() -> None:
    with pytest.raises(Invalid) as exc:
        log.check_entry({"action": "remove"})
    assert all(f"{k}: required" in exc.value.message for k in log.REQUIRED)


SAFE_VALUES: dict[str, object] = entry(0)
SAFE_VALUES["appellant_role"] = "author"
SAFE_VALUES["misuse"] = ""


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(set(log.FIELDS) - {"ends_at", "rule_version", "misuse", "rule_id"})),
    st.tuples(st.text(max_size=20), st.sampled_from(" @"), st.text(max_size=20)).map("".join),
)
def test_no_free_text_gets_into_any_field(key: str, free_text: str) -> None:
    """Whatever a person's name or sentence, no field takes it (lists included)."""
    for value in (free_text, [free_text]):
        with pytest.raises(Invalid):
            log.check_entry({**SAFE_VALUES, key: value})


def test_a_real_decision_and_its_reversal_are_logged(client: TestClient, parvis: Parvis) -> None:
    """The moderation service's entry passes the allow-list, and carries no names."""
    author, mod = make_user(client), make_user(client)
    parvis.runtime.write(lambda w: accounts.set_role(w, int(mod.id), "moderator"))
    r = author.post("/api/v1/statuses", data={"status": "something unlawful"})
    sid = int(r.json()["id"])
    notice = notices.NewNotice(
        category="harassment",
        explanation="It harasses me.",
        items=(notices.Item(status_id=sid),),
        reporter_name="Alice Martin",
        reporter_email="alice@example.org",
        good_faith=True,
    )
    parvis.runtime.write(lambda w: notices.submit(w, None, notice))
    case = parvis.runtime.read(lambda w: w.store.cases.for_subject("status", sid))
    assert case is not None
    verdict = moderation.Verdict(
        action="remove", ground="rule", rule_id="2", explanation="Harassment of Alice Martin."
    )
    decided = parvis.runtime.write(lambda w: moderation.decide(w, int(mod.id), case.id, verdict))
    assert decided.log_index == 0
    _, found = parvis.runtime.read(lambda w: log.entries(w, 0, None))
    published = found[0]["entry"]
    assert published["puid"] == decided.puid and published["action"] == "remove"
    raw = merkle.canonical(published).decode()
    for secret in ("Alice", "alice@", author.username, str(sid), str(author.id), str(mod.id)):
        assert secret not in raw


def test_the_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    settings_ = make_settings(tmp_path)
    seed = settings_.log_key_seed()
    path = settings_.data_dir / "log_signing_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings_.log_key_seed() == seed == make_settings(tmp_path).log_key_seed()
    assert len(seed) == 32
    assert [p.name for p in settings_.data_dir.iterdir()] == ["log_signing_key"]


def test_the_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = bytes(range(32))
    monkeypatch.setenv("PARVIS_LOG_SIGNING_KEY", base64.b64encode(seed).decode())
    settings_ = Settings(data_dir=tmp_path / "data")
    assert settings_.log_key_seed() == seed
    assert not (tmp_path / "data" / "log_signing_key").exists()
    monkeypatch.setenv("PARVIS_LOG_SIGNING_KEY", "too short")
    with pytest.raises(ValueError, match="32 bytes in base64"):
        Settings(data_dir=tmp_path / "data").log_key_seed()
