"""Community notes on the real database (both backends): who may take part, writing and rating
with every refusal, and the scorer run over the stored ratings — two sides of raters, notes
helpful across them shown, one-sided notes not, a flood of new raters moving nothing, the
status history, warm starts, and a run skipped when nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.errors import Forbidden, Invalid, NotFound, RateLimited
from parvis.services import notes
from parvis.services.context import Work
from parvis.storage.tables import accounts, community_note_runs, statuses
from tests.builders import User, make_user, ok

T = TypeVar("T")
MISLEADING = notes.Draft(
    "misleading", ["factual_error"], "The photo is from 2015.", ["https://example.org/a"]
)


def write(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def age(parvis: Parvis, *users: User, days: int = 400) -> None:
    """Accounts created `days` ago."""

    def backdate(work: Work) -> None:
        for u in users:
            work.store.conn.execute(
                update(accounts)
                .where(accounts.c.id == int(u.id))
                .values(created_at=work.now() - timedelta(days=days))
            )

    write(parvis, backdate)


def users(parvis: Parvis, client: TestClient, n: int, days: int = 400) -> list[User]:
    made = [make_user(client) for _ in range(n)]
    age(parvis, *made, days=days)
    return made


def post(user: User, text: str = "A claim", **fields: object) -> int:
    return int(user.status(text, **fields)["id"])


def note(parvis: Parvis, author: User, status_id: int, draft: notes.Draft = MISLEADING) -> int:
    return write(parvis, lambda w: notes.write(w, int(author.id), status_id, draft)).id


def rate(parvis: Parvis, rater: User, note_id: int, answer: str, tags: list[str] | None = None):  # type: ignore[no-untyped-def]
    return write(parvis, lambda w: notes.rate(w, int(rater.id), note_id, answer, tags or []))


def test_eligibility_needs_age_and_standing(parvis: Parvis, client: TestClient) -> None:
    fresh = make_user(client)
    found = write(parvis, lambda w: notes.eligibility(w, int(fresh.id)))
    assert found.codes == ("too_new",) and found.eligible_at is not None
    assert "14 days" in found.problems[0][1]
    age(parvis, fresh)
    assert write(parvis, lambda w: notes.eligibility(w, int(fresh.id))).allowed
    assert write(parvis, lambda w: notes.eligibility(w, None)).codes == ("signed_out",)

    def suspend(work: Work) -> None:
        work.store.conn.execute(
            update(accounts).where(accounts.c.id == int(fresh.id)).values(suspended_at=work.now())
        )

    write(parvis, suspend)
    assert write(parvis, lambda w: notes.eligibility(w, int(fresh.id))).codes == ("suspended",)


def test_a_recent_moderation_decision_bars_taking_part(parvis: Parvis, client: TestClient) -> None:
    from parvis.services import accounts as account_service
    from parvis.services import moderation

    admin, author = users(parvis, client, 2)
    write(parvis, lambda w: account_service.set_role(w, int(admin.id), "admin"))
    status_id = post(author)
    write(
        parvis,
        lambda w: moderation.own_initiative(
            w,
            int(admin.id),
            "status",
            status_id,
            moderation.Verdict(
                "label", "Misleading.", ground="rule", rule_id="2", label="Disputed"
            ),
        ),
    )
    found = write(parvis, lambda w: notes.eligibility(w, int(author.id)))
    assert found.codes == ("standing",)
    with pytest.raises(Forbidden, match="90 days"):
        note(parvis, author, post(admin))


def test_writing_a_note_refuses_what_it_must(parvis: Parvis, client: TestClient) -> None:
    author, writer, stranger = users(parvis, client, 3)
    status_id = post(author)
    with pytest.raises(Invalid) as bad:
        note(parvis, writer, status_id, notes.Draft("maybe", [], " ", ["javascript:alert(1)"] * 6))
    message = bad.value.message
    for field in ("classification:", "summary:", "sources: at most 5", "sources: not a web link"):
        assert field in message, message
    with pytest.raises(Invalid, match="reasons: unknown 'satire!'"):
        note(
            parvis,
            writer,
            status_id,
            notes.Draft("misleading", ["satire!"], "x", ["https://a.org"]),
        )
    with pytest.raises(Invalid, match="at least one source"):
        note(parvis, writer, status_id, notes.Draft("misleading", ["satire"], "x"))
    with pytest.raises(Forbidden, match="your own post"):
        note(parvis, author, status_id)
    private = post(author, "followers only", visibility="private")
    with pytest.raises(NotFound):  # the writer does not follow: existence is not revealed
        note(parvis, writer, private)
    ok(writer.post(f"/api/v1/accounts/{author.id}/follow"))
    with pytest.raises(Invalid, match="public posts only"):
        note(parvis, writer, private)

    boost = int(ok(stranger.post(f"/api/v1/statuses/{status_id}/reblog"))["id"])
    first = note(parvis, writer, boost)  # a boost: the note goes on the original
    found = write(parvis, lambda w: w.store.notes.get(first))
    assert found is not None and found.status_id == status_id
    assert found.uri == f"https://parvis.test/notes/{first}"
    with pytest.raises(Invalid, match="already wrote"):
        note(parvis, writer, status_id)

    gone = post(author, "deleted soon")
    ok(author.delete(f"/api/v1/statuses/{gone}"))
    with pytest.raises(NotFound):
        note(parvis, writer, gone)


def test_a_deleted_post_takes_its_notes_and_ratings(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = users(parvis, client, 3)
    status_id = post(author)
    note_id = note(parvis, writer, status_id)
    rate(parvis, rater, note_id, "helpful", ["good_sources"])
    ok(author.delete(f"/api/v1/statuses/{status_id}"))
    assert write(parvis, lambda w: w.store.notes.get(note_id)) is None
    with pytest.raises(NotFound):
        rate(parvis, rater, note_id, "helpful")


def test_daily_caps(parvis: Parvis, client: TestClient) -> None:
    author, writer = users(parvis, client, 2)
    parvis.settings.notes_per_day = 2
    for _ in range(2):
        note(parvis, writer, post(author))
    with pytest.raises(RateLimited, match="2 notes a day"):
        note(parvis, writer, post(author))


def test_rating_rules(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = users(parvis, client, 3)
    note_id = note(parvis, writer, post(author))
    with pytest.raises(Forbidden, match="your own note"):
        rate(parvis, writer, note_id, "helpful")
    with pytest.raises(Invalid, match="helpfulness: helpful, somewhat_helpful or not_helpful"):
        rate(parvis, rater, note_id, "great")
    with pytest.raises(Invalid, match="tags: unknown 'incorrect'"):
        rate(parvis, rater, note_id, "helpful", ["incorrect"])
    assert rate(parvis, rater, note_id, "somewhat_helpful", ["clear", "outdated"]).tags == (
        "clear",
        "outdated",
    )
    again = rate(parvis, rater, note_id, "not_helpful", ["incorrect"])
    assert (again.helpfulness, again.tags) == ("NOT_HELPFUL", ("incorrect",))
    write(parvis, lambda w: notes.unrate(w, int(rater.id), note_id))
    with pytest.raises(NotFound, match="not rated"):
        write(parvis, lambda w: notes.unrate(w, int(rater.id), note_id))
    newcomer = make_user(client)
    with pytest.raises(Forbidden, match="days after"):
        rate(parvis, newcomer, note_id, "helpful")
    with pytest.raises(Forbidden, match="Only the note's author"):
        write(parvis, lambda w: notes.delete(w, int(rater.id), note_id))
    write(parvis, lambda w: notes.delete(w, int(writer.id), note_id))
    assert write(parvis, lambda w: w.store.notes.get(note_id)) is None


def test_the_scorer_shows_notes_helpful_across_sides_only(
    parvis: Parvis, client: TestClient
) -> None:
    """Two sides of 8 raters; 4 notes both sides find helpful, 4 found helpful by side A only,
    4 by side B only; every rater rates every note (12 ratings each)."""
    parvis.settings.notes_per_day = 100
    side_a, side_b = users(parvis, client, 8), users(parvis, client, 8)
    author, writer = users(parvis, client, 2)
    kinds = ["bridge"] * 4 + ["a"] * 4 + ["b"] * 4
    made = [note(parvis, writer, post(author, f"claim {i}")) for i in range(len(kinds))]
    for note_id, kind in zip(made, kinds, strict=True):
        for side, members in (("a", side_a), ("b", side_b)):
            helpful = kind in ("bridge", side)
            for rater in members:
                rate(parvis, rater, note_id, "helpful" if helpful else "not_helpful")

    scored = write(parvis, lambda w: notes.score(w, "command"))
    assert scored.run is not None and scored.run.converged
    assert (scored.run.ratings, scored.run.notes, scored.run.raters) == (192, 12, 16)
    found = {n: write(parvis, lambda w, n=n: w.store.notes.get(n)) for n in made}
    status = {n: found[n].rating_status for n in made}  # type: ignore[union-attr]
    assert [status[n] for n in made[:4]] == ["CURRENTLY_RATED_HELPFUL"] * 4
    assert all(status[n] != "CURRENTLY_RATED_HELPFUL" for n in made[4:])

    # Why, in numbers: the helpful note's fit and its ratings from both sides.
    view = write(parvis, lambda w: notes.view(w, None, made[0]))
    assert view.why.code == "helpful_across" and view.why.intercept >= 0.40  # type: ignore[operator]
    assert sorted(view.sides.helpful[:2]) == [8, 8] and view.sides.helpful[2] == 0
    one_sided = write(parvis, lambda w: notes.view(w, None, made[4]))
    assert one_sided.why.code in ("one_sided", "not_helpful", "low_intercept")
    assert sorted(one_sided.sides.helpful[:2]) == [0, 8]
    # Shown on the post: only the helpful note.
    shown = write(parvis, lambda w: notes.shown_on(w, [found[n].status_id for n in made]))  # type: ignore[union-attr]
    assert set(shown) == {found[n].status_id for n in made[:4]}  # type: ignore[union-attr]

    # History: one entry per status reached; the first status is kept.
    history = write(parvis, lambda w: notes.history(w, None, made[0]))
    assert [h.status for h in history] == ["CURRENTLY_RATED_HELPFUL"]
    assert found[made[0]].first_status == "CURRENTLY_RATED_HELPFUL"  # type: ignore[union-attr]

    # Nothing changed: no new run. A new rating: a warm-started run.
    assert write(parvis, lambda w: notes.score(w)).run is None
    late = users(parvis, client, 1)[0]
    rate(parvis, late, made[0], "helpful")
    again = write(parvis, lambda w: notes.score(w))
    assert again.run is not None and again.run.warm_started and again.changed == 0
    assert again.run.epochs < scored.run.epochs
    runs = write(parvis, lambda w: notes.runs(w))
    assert [r.id for r in runs] == [again.run.id, scored.run.id]
    kept = write(
        parvis,
        lambda w: w.store.conn.execute(
            select(func.count()).where(community_note_runs.c.state.is_not(None))
        ).scalar_one(),
    )
    assert kept == 1  # the state lives on the latest run only


def test_a_flood_of_new_raters_cannot_show_a_one_sided_note(
    parvis: Parvis, client: TestClient
) -> None:
    parvis.settings.notes_per_day = 100
    side_a, side_b = users(parvis, client, 6), users(parvis, client, 6)
    author, writer = users(parvis, client, 2)
    made = [note(parvis, writer, post(author, f"claim {i}")) for i in range(10)]
    for i, note_id in enumerate(made):
        for rater in side_a:
            rate(parvis, rater, note_id, "helpful")
        for rater in side_b:
            rate(parvis, rater, note_id, "helpful" if i < 5 else "not_helpful")
    target = made[-1]
    # 30 accounts old enough to rate, each rating the one-sided note only.
    for sock in users(parvis, client, 30):
        rate(parvis, sock, target, "helpful")
    write(parvis, lambda w: notes.score(w))
    found = write(parvis, lambda w: w.store.notes.get(target))
    assert found is not None and found.rating_status != "CURRENTLY_RATED_HELPFUL"
    assert write(parvis, lambda w: notes.view(w, None, target)).sides.helpful[2] == 30


def test_participant_ids_are_stable_pseudonyms(parvis: Parvis, client: TestClient) -> None:
    a, b = users(parvis, client, 2)
    first = write(parvis, lambda w: notes.participant_id(w, int(a.id)))
    assert first == write(parvis, lambda w: notes.participant_id(w, int(a.id)))
    assert first != write(parvis, lambda w: notes.participant_id(w, int(b.id)))
    assert len(first) == 64 and a.id not in first


def test_notes_on_a_post_the_viewer_cannot_see_are_not_found(
    parvis: Parvis, client: TestClient
) -> None:
    author, writer, follower = users(parvis, client, 3)
    ok(writer.post(f"/api/v1/accounts/{author.id}/follow"))
    public = post(author)
    note_id = note(parvis, writer, public)
    assert [v.note.id for v in write(parvis, lambda w: notes.on_status(w, None, public))] == [
        note_id
    ]

    def hide(work: Work) -> None:
        work.store.conn.execute(
            update(statuses).where(statuses.c.id == public).values(visibility="private")
        )

    write(parvis, hide)
    with pytest.raises(NotFound):
        write(parvis, lambda w: notes.view(w, int(follower.id), note_id))
    assert write(parvis, lambda w: notes.view(w, int(writer.id), note_id)).mine
