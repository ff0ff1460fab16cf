"""Misuse (DSA art. 23): counters over a rolling window, absolute numbers and ratios, and a
policy that warns first and recommends a suspension only after a warning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parvis.domain.errors import NotFound
from parvis.services import misuse
from tests.services.registers_world import World, world

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    settings = {
        "misuse_content_items": 2,
        "misuse_content_ratio": 0.5,
        "misuse_notices": 2,
        "misuse_notices_ratio": 0.5,
        "misuse_window_days": 30,
    }
    with world(tmp_path, **settings) as made:
        yield made


def _kinds(assessment: misuse.Assessment) -> dict[str, str]:
    return {r.misuse: r.action for r in assessment.recommendations}


def test_manifestly_illegal_content_warn_then_suspend(w: World) -> None:
    mod, author = w.user("moderator"), w.user()
    posts = [w.post(author, f"post {i}") for i in range(4)]
    for p in posts[:3]:
        w.report(None, p)
    w.remove(mod, posts[0], misuse=misuse.CONTENT)
    w.remove(mod, posts[1])  # illegal, but not manifestly: not counted
    first = w.read(lambda x: misuse.assess(x, int(author.id)))
    assert (first.content.count, first.content.total) == (1, 4)
    assert _kinds(first)[misuse.CONTENT] == "none"

    w.remove(mod, posts[2], misuse=misuse.CONTENT)
    second = w.read(lambda x: misuse.assess(x, int(author.id)))
    assert (second.content.count, second.content.ratio) == (2, 0.5)
    assert len(second.content.items) == 2 and all(
        i.startswith("parvis-") for i in second.content.items
    )
    assert _kinds(second)[misuse.CONTENT] == "warn"  # never a suspension first

    w.clock.now += timedelta(hours=1)
    w.warn(mod, int(author.id), misuse.CONTENT)
    assert w.read(lambda x: misuse.warned(x, int(author.id), misuse.CONTENT))
    warned = w.read(lambda x: misuse.assess(x, int(author.id)))
    assert warned.content.warned and warned.content.since_warning == 0
    assert _kinds(warned)[misuse.CONTENT] == "none"  # nothing new since the warning

    w.clock.now += timedelta(hours=1)
    w.report(None, posts[3])
    w.remove(mod, posts[3], misuse=misuse.CONTENT)
    last = w.read(lambda x: misuse.assess(x, int(author.id)))
    rec = last.recommendations[0]
    assert (rec.action, rec.days, last.content.since_warning) == ("suspend", 30, 1)

    w.clock.now += timedelta(days=31)  # the window rolls on
    later = w.read(lambda x: misuse.assess(x, int(author.id)))
    assert later.content.count == 0 and _kinds(later)[misuse.CONTENT] == "none"


def test_manifestly_unfounded_notices(w: World) -> None:
    mod, author, notifier = w.user("moderator"), w.user(), w.user()
    posts = [w.post(author, f"post {i}") for i in range(3)]
    for p in posts:
        w.report(notifier, p)
    w.reject(mod, posts[0], misuse=misuse.NOTICES)
    w.reject(mod, posts[1])  # unfounded, but not manifestly
    found = w.read(lambda x: misuse.assess(x, int(notifier.id)))
    assert (found.notices.count, found.notices.total) == (1, 3)
    w.reject(mod, posts[2], misuse=misuse.NOTICES)
    found = w.read(lambda x: misuse.assess(x, int(notifier.id)))
    assert (found.notices.count, found.notices.total) == (2, 3)
    assert _kinds(found)[misuse.NOTICES] == "warn"
    assert _kinds(found)[misuse.CONTENT] == "none"
    assert not w.read(lambda x: misuse.notices_suspended(x, int(notifier.id)))
    w.write(
        lambda x: x.store.accounts.update(
            int(notifier.id), {"notices_suspended_until": w.clock.now + timedelta(days=1)}
        )
    )
    assert w.read(lambda x: misuse.notices_suspended(x, int(notifier.id)))
    assert _kinds(w.read(lambda x: misuse.assess(x, int(notifier.id))))[misuse.NOTICES] == "none"
    assert not w.read(lambda x: misuse.notices_suspended(x, None))


def test_unknown_accounts(w: World) -> None:
    with pytest.raises(NotFound):
        w.read(lambda x: misuse.assess(x, 4242))


_evidence = st.builds(
    misuse.Evidence,
    misuse=st.sampled_from([misuse.CONTENT, misuse.NOTICES]),
    count=st.integers(0, 50),
    total=st.integers(0, 100),
    items=st.just(()),
    warned_at=st.none() | st.just(T0),
    since_warning=st.integers(0, 50),
    suspended=st.booleans(),
)
_limits = st.builds(
    misuse.Thresholds,
    count=st.integers(1, 20),
    ratio=st.floats(0.01, 1.0),
    suspension_days=st.integers(1, 365),
)


@given(_evidence, _limits)
def test_the_policy_never_suspends_without_a_prior_warning(
    evidence: misuse.Evidence, limits: misuse.Thresholds
) -> None:
    rec = misuse.recommend(evidence, limits)
    assert rec.action in ("none", "warn", "suspend") and rec.misuse == evidence.misuse
    if rec.action == "suspend":
        assert evidence.warned and evidence.since_warning > 0
        assert rec.days == limits.suspension_days
    if rec.action != "none":  # both the number and the ratio are reached (art. 23(3)(a), (b))
        assert evidence.count >= limits.count and evidence.ratio >= limits.ratio
        assert not evidence.suspended
    if rec.action == "warn":
        assert not evidence.warned
    assert rec.reason
