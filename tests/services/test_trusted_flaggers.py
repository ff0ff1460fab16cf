"""Trusted flaggers (DSA art. 22): the register, the priority lane it gives at intake, and each
flagger's accuracy from what became of its notices, with the art. 22(6) review mark."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parvis.domain.errors import Conflict, Invalid, NotFound
from parvis.services import appeals, trusted_flaggers
from parvis.storage.registers import NoticeOutcome
from tests.services.registers_world import World, world

NEW = trusted_flaggers.NewFlagger(
    name="Point de Contact", coordinator="Arcom", member_state="FR", areas=("racial_hatred",)
)


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(tmp_path, flagger_review_min_rejected=2, flagger_review_ratio=0.5) as made:
        yield made


def test_register_list_and_revoke(w: World) -> None:
    reporter = w.user()
    made = w.write(
        lambda x: trusted_flaggers.register(
            x,
            trusted_flaggers.NewFlagger(
                name="  Point   de Contact ",
                coordinator="Arcom",
                member_state="fr",
                areas=("racial_hatred", "terrorism", "racial_hatred", ""),
                account_id=int(reporter.id),
            ),
        )
    )
    assert (made.name, made.member_state) == ("Point de Contact", "FR")
    assert made.areas == ("racial_hatred", "terrorism") and made.active
    assert made.covers("terrorism") and not made.covers("spam")
    found = w.read(lambda x: trusted_flaggers.for_account(x, int(reporter.id)))
    assert found == made
    with pytest.raises(Conflict):
        w.write(
            lambda x: trusted_flaggers.register(
                x, NEW.__class__(**{**NEW.__dict__, "account_id": int(reporter.id)})
            )
        )
    gone = w.write(lambda x: trusted_flaggers.revoke(x, made.id))
    assert gone.revoked_at == w.clock.now and not gone.active
    assert w.read(lambda x: trusted_flaggers.for_account(x, int(reporter.id))) is None
    assert w.read(trusted_flaggers.every) == []
    assert [f.id for f in w.read(lambda x: trusted_flaggers.every(x, with_revoked=True))] == [
        made.id
    ]
    with pytest.raises(Conflict):
        w.write(lambda x: trusted_flaggers.revoke(x, made.id))
    assert w.read(lambda x: trusted_flaggers.for_account(x, None)) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"coordinator": ""}, "coordinator"),
        ({"member_state": "CH"}, "member_state"),
        ({"areas": ("gossip",)}, "areas"),
    ],
)
def test_bad_flaggers_are_refused(w: World, changes: dict[str, object], message: str) -> None:
    new = trusted_flaggers.NewFlagger(**{**NEW.__dict__, **changes})
    with pytest.raises(Invalid, match=message):
        w.write(lambda x: trusted_flaggers.register(x, new))


def test_unknown_account_or_flagger(w: World) -> None:
    new = trusted_flaggers.NewFlagger(**{**NEW.__dict__, "account_id": 4242})
    with pytest.raises(NotFound):
        w.write(lambda x: trusted_flaggers.register(x, new))
    with pytest.raises(NotFound):
        w.read(lambda x: trusted_flaggers.accuracy(x, 4242))


def test_accuracy_counts_restricted_rejected_and_pending(w: World) -> None:
    mod, other_mod, author = w.user("moderator"), w.user("moderator"), w.user()
    flagger_account = w.user()
    flagger = w.write(
        lambda x: trusted_flaggers.register(
            x,
            trusted_flaggers.NewFlagger(**{**NEW.__dict__, "account_id": int(flagger_account.id)}),
        )
    )
    posts = [w.post(author, f"post {i}") for i in range(5)]
    for p in posts:
        w.report(flagger_account, p)
    w.report(w.user(), posts[0])  # an ordinary notice: not the flagger's
    w.remove(mod, posts[0])
    w.reject(mod, posts[1])
    w.reject(mod, posts[2])
    score = w.read(lambda x: trusted_flaggers.accuracy(x, flagger.id))
    assert (score.notices, score.restricted, score.rejected, score.pending) == (5, 1, 2, 2)
    assert score.precision == pytest.approx(1 / 3)
    assert score.review  # 2 rejected (>= 2), 67 % of the decided (>= 50 %)

    # the author wins an appeal against the removal: the notice was unfounded after all
    removal = w.read(lambda x: x.store.decisions.of_case(w.case_of(posts[0])))[0]
    appeal = w.write(lambda x: appeals.file(x, int(author.id), removal.id, "It was satire."))
    w.write(lambda x: appeals.decide(x, int(other_mod.id), appeal.id, "reversed", "Satire."))
    after = w.read(lambda x: trusted_flaggers.accuracy(x, flagger.id))
    assert (after.restricted, after.rejected, after.pending) == (0, 3, 2)
    assert w.read(trusted_flaggers.accuracies) == {flagger.id: after}


def test_accuracy_has_a_window(w: World) -> None:
    mod, author, account = w.user("moderator"), w.user(), w.user()
    flagger = w.write(
        lambda x: trusted_flaggers.register(
            x, trusted_flaggers.NewFlagger(**{**NEW.__dict__, "account_id": int(account.id)})
        )
    )
    old = w.post(author)
    w.report(account, old)
    w.remove(mod, old)
    w.clock.now += timedelta(days=w.parvis.settings.misuse_window_days + 1)
    assert w.read(lambda x: trusted_flaggers.accuracy(x, flagger.id)).notices == 0
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert w.read(lambda x: trusted_flaggers.accuracy(x, flagger.id, since=since)).restricted == 1


_decided = st.tuples(
    st.sampled_from(["none", "remove", "label", "warn"]), st.booleans(), st.just("")
)


@given(st.lists(st.tuples(st.lists(_decided, max_size=3), st.integers(0, 2)), max_size=30))
def test_the_tally_adds_up(notices: list[tuple[list[tuple[str, bool, str]], int]]) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        NoticeOutcome(i, None, 1, at, tuple(decided), pending)
        for i, (decided, pending) in enumerate(notices)
    ]
    score = trusted_flaggers.tally(1, rows, min_rejected=1, ratio=0.5)
    assert score.notices == len(rows) == score.restricted + score.rejected + score.pending
    assert score.review == (score.rejected >= 1 and score.rejected / max(score.decided, 1) >= 0.5)
    if score.precision is not None:
        assert 0 <= score.precision <= 1
