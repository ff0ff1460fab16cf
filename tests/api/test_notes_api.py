"""Community notes through the API (issue 8): writing, reading and rating with every refusal
(422 naming each field, 403 saying why, 404 for a deleted or invisible post, 429 at the daily
cap, scopes), the shown note on Mastodon statuses (one query for a page, boosts too), the
user's own eligibility and notes to rate, the public runs, and the public files — which,
scored again by `parvis notes score --input`, give every note the status it has on the server
and, from a cold run, the same intercepts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.app import Parvis
from parvis.cli import app as cli
from parvis.domain.notes.model import (
    HELPFUL_TAGS,
    MISLEADING_REASONS,
    NOT_HELPFUL_TAGS,
    NOT_MISLEADING_REASONS,
    column,
)
from parvis.domain.notes.tsv_export import COLUMNS
from parvis.services import notes
from parvis.storage.tables import community_note_ratings, community_notes
from tests.api.test_bad_input import JSON_VALUES, TEXT, assert_error
from tests.builders import User, error_of, links, make_user, ok
from tests.services.test_notes import MISLEADING, note, post, rate, users, write

API = "/api/parvis/v1"
HELPFUL = "CURRENTLY_RATED_HELPFUL"
SOURCE = "https://example.org/source"
runner = CliRunner()


def body(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "classification": "misleading",
        "reasons": ["factual_error"],
        "summary": "The photo is from 2015, not from this week.",
        "sources": [SOURCE],
        "language": "en",
    }
    values.update(fields)
    return values


def count(parvis: Parvis, table: Any) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def stored(parvis: Parvis) -> tuple[int, int]:
    """(notes, ratings) stored."""
    return count(parvis, community_notes), count(parvis, community_note_ratings)


@dataclass
class World:
    """Two sides of 8 raters; notes 0-3 found helpful by both sides, 4-7 by side A only, 8-11
    by side B only (every rater rates these 12), and note 12, not misleading, unrated."""

    side_a: list[User]
    side_b: list[User]
    author: User
    writer: User
    posts: list[int]
    notes: list[int]


def bridged(parvis: Parvis, client: TestClient) -> World:
    parvis.settings.notes_per_day = 100
    side_a, side_b = users(parvis, client, 8), users(parvis, client, 8)
    author, writer = users(parvis, client, 2)
    kinds = ["bridge"] * 4 + ["a"] * 4 + ["b"] * 4
    posts = [post(author, f"claim {i}") for i in range(len(kinds) + 1)]
    made = [note(parvis, writer, p) for p in posts[:-1]]
    made.append(
        note(
            parvis,
            writer,
            posts[-1],
            notes.Draft("not_misleading", ["personal_opinion", "clearly_satire"], "Satire."),
        )
    )
    for note_id, kind in zip(made, kinds, strict=False):
        for side, members in (("a", side_a), ("b", side_b)):
            for rater in members:
                if kind in ("bridge", side):
                    rate(parvis, rater, note_id, "helpful", ["good_sources", "clear"])
                else:
                    rate(parvis, rater, note_id, "not_helpful", ["incorrect"])
    return World(side_a, side_b, author, writer, posts, made)


def score(parvis: Parvis) -> notes.Scored:
    return write(parvis, lambda w: notes.score(w, "command"))


# -- writing, reading, rating ------------------------------------------------------------------


def test_write_read_rate_and_unrate(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = users(parvis, client, 3)
    status_id = post(author)
    made = ok(writer.post(f"{API}/statuses/{status_id}/notes", json=body()))
    assert made["status_id"] == str(status_id) and made["classification"] == "misleading"
    assert made["reasons"] == ["factual_error"] and made["sources"] == [SOURCE]
    assert made["rating_status"] == "NEEDS_MORE_RATINGS" and made["shown"] is False
    assert made["mine"] is True and made["own_rating"] is None
    assert made["url"] == f"https://parvis.test/notes/{made['id']}"
    assert made["explanation"]["code"] == "too_few_ratings"
    assert made["explanation"]["ratings"]["helpful"] == {"side_a": 0, "side_b": 0, "unscored": 0}
    assert not {"account", "author", "author_id", "account_id"} & set(made)  # anonymous

    # A form, with reasons[] and sources[], on another post.
    other = post(author, "another claim")
    form = ok(
        writer.post(
            f"{API}/statuses/{other}/notes",
            data={
                "classification": "misleading",
                "reasons[]": ["outdated_information", "missing_important_context"],
                "summary": "Old figures.",
                "sources[]": [SOURCE, "https://example.org/b"],
            },
        )
    )
    assert form["reasons"] == ["outdated_information", "missing_important_context"]
    assert len(form["sources"]) == 2

    listed = ok(client.get(f"{API}/statuses/{status_id}/notes"))  # no token
    assert [n["id"] for n in listed] == [made["id"]]
    assert listed[0]["mine"] is False and writer.id not in str(listed)

    rated = ok(
        rater.put(
            f"{API}/notes/{made['id']}/rating",
            json={"helpfulness": "somewhat_helpful", "tags": ["clear", "outdated"]},
        )
    )
    assert rated["own_rating"]["helpfulness"] == "somewhat_helpful"
    assert rated["own_rating"]["tags"] == ["clear", "outdated"]
    assert rated["explanation"]["ratings"]["somewhat_helpful"]["unscored"] == 1
    again = ok(rater.put(f"{API}/notes/{made['id']}/rating", data={"helpfulness": "not_helpful"}))
    assert again["own_rating"]["helpfulness"] == "not_helpful" and stored(parvis)[1] == 1
    assert ok(rater.get(f"{API}/notes/{made['id']}"))["own_rating"]["tags"] == []
    assert ok(rater.delete(f"{API}/notes/{made['id']}/rating"))["own_rating"] is None
    assert "not rated" in error_of(rater.delete(f"{API}/notes/{made['id']}/rating"), 404)
    assert ok(client.get(f"{API}/notes/{made['id']}/history")) == []  # never scored

    assert "Only the note's author" in error_of(rater.delete(f"{API}/notes/{made['id']}"), 403)
    assert ok(writer.delete(f"{API}/notes/{made['id']}")) == {}
    assert "Note not found" in error_of(client.get(f"{API}/notes/{made['id']}"), 404)
    assert stored(parvis) == (1, 0)


def test_a_bad_note_is_refused_naming_every_field(parvis: Parvis, client: TestClient) -> None:
    author, writer = users(parvis, client, 2)
    status_id = post(author)
    message = error_of(
        writer.post(
            f"{API}/statuses/{status_id}/notes",
            json={"classification": "maybe", "summary": " ", "sources": ["javascript:x"] * 6},
        ),
        422,
    )
    for field in ("classification:", "summary:", "sources: at most 5", "sources: not a web link"):
        assert field in message, message
    message = error_of(
        writer.post(
            f"{API}/statuses/{status_id}/notes", json=body(reasons=["satire!"], sources=[])
        ),
        422,
    )
    assert "reasons: unknown 'satire!'" in message and "at least one source" in message
    message = error_of(
        writer.post(f"{API}/statuses/{status_id}/notes", json=body(reasons=7, summary=[1])), 422
    )
    assert "reasons" in message and "summary" in message
    broken = {**writer.headers, "Content-Type": "application/json"}
    error_of(client.post(f"{API}/statuses/{status_id}/notes", content=b"{", headers=broken), 400)
    error_of(writer.post(f"{API}/statuses/{status_id}/notes", json=[1, 2]), 422)
    assert stored(parvis) == (0, 0)


def test_who_may_not_write_is_told_why(parvis: Parvis, client: TestClient) -> None:
    author, writer = users(parvis, client, 2)
    status_id = post(author)
    newcomer = make_user(client)
    assert "14 days" in error_of(
        newcomer.post(f"{API}/statuses/{status_id}/notes", json=body()), 403
    )
    found = ok(newcomer.get(f"{API}/notes/eligibility"))
    assert found["eligible"] is False and found["eligible_at"]
    assert [p["code"] for p in found["problems"]] == ["too_new"]
    assert found["problems"][0]["message"].startswith("Accounts can take part 14 days")
    assert ok(writer.get(f"{API}/notes/eligibility"))["eligible"] is True
    assert "your own post" in error_of(
        author.post(f"{API}/statuses/{status_id}/notes", json=body()), 403
    )
    error_of(client.post(f"{API}/statuses/{status_id}/notes", json=body()), 401)
    error_of(client.get(f"{API}/notes/eligibility"), 401)
    assert stored(parvis) == (0, 0)


def test_scopes(parvis: Parvis, client: TestClient) -> None:
    author = users(parvis, client, 1)[0]
    reader = make_user(client, scopes="read")
    writer_only = make_user(client, scopes="write")
    parvis.settings.notes_min_account_days = 0
    status_id = post(author)
    assert "needs write" in error_of(
        reader.post(f"{API}/statuses/{status_id}/notes", json=body()), 403
    )
    assert "needs read" in error_of(writer_only.get(f"{API}/notes/eligibility"), 403)
    made = ok(writer_only.post(f"{API}/statuses/{status_id}/notes", json=body()))
    assert "needs write" in error_of(
        reader.put(f"{API}/notes/{made['id']}/rating", json={"helpfulness": "helpful"}), 403
    )
    assert ok(reader.get(f"{API}/notes/{made['id']}"))["mine"] is False
    assert stored(parvis) == (1, 0)


def test_a_note_on_a_deleted_or_invisible_post_is_not_found(
    parvis: Parvis, client: TestClient
) -> None:
    author, writer = users(parvis, client, 2)
    gone = post(author, "deleted soon")
    ok(author.delete(f"/api/v1/statuses/{gone}"))
    message = error_of(writer.post(f"{API}/statuses/{gone}/notes", json=body()), 404)
    assert message == "Post not found: it does not exist, was deleted, or you cannot see it"
    error_of(writer.get(f"{API}/statuses/{gone}/notes"), 404)
    private = post(author, "followers only", visibility="private")
    error_of(writer.post(f"{API}/statuses/{private}/notes", json=body()), 404)
    for bad in ("123", "abc", "²"):
        error_of(writer.post(f"{API}/statuses/{bad}/notes", json=body()), 404)
        error_of(writer.get(f"{API}/notes/{bad}"), 404)
        error_of(writer.put(f"{API}/notes/{bad}/rating", json={"helpfulness": "helpful"}), 404)
    ok(writer.post(f"/api/v1/accounts/{author.id}/follow"))
    assert "public posts only" in error_of(
        writer.post(f"{API}/statuses/{private}/notes", json=body()), 422
    )
    assert stored(parvis) == (0, 0)


def test_the_daily_caps_answer_429(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = users(parvis, client, 3)
    parvis.settings.notes_per_day = 1
    parvis.settings.note_ratings_per_day = 1
    first = ok(writer.post(f"{API}/statuses/{post(author)}/notes", json=body()))
    r = writer.post(f"{API}/statuses/{post(author, 'two')}/notes", json=body())
    assert "1 notes a day" in error_of(r, 429) and r.headers["retry-after"]
    parvis.settings.notes_per_day = 5
    second = ok(writer.post(f"{API}/statuses/{post(author, 'three')}/notes", json=body()))
    ok(rater.put(f"{API}/notes/{first['id']}/rating", json={"helpfulness": "helpful"}))
    assert "1 ratings a day" in error_of(
        rater.put(f"{API}/notes/{second['id']}/rating", json={"helpfulness": "helpful"}), 429
    )
    # Changing one's rating is not a new rating.
    ok(rater.put(f"{API}/notes/{first['id']}/rating", json={"helpfulness": "not_helpful"}))
    assert stored(parvis) == (2, 1)


def test_a_rating_flood_from_new_accounts_is_refused_and_stores_nothing(
    parvis: Parvis, client: TestClient
) -> None:
    author, writer = users(parvis, client, 2)
    made = ok(writer.post(f"{API}/statuses/{post(author)}/notes", json=body()))
    for _ in range(25):
        sock = make_user(client)
        message = error_of(
            sock.put(f"{API}/notes/{made['id']}/rating", json={"helpfulness": "helpful"}), 403
        )
        assert "days after they are created" in message
        error_of(sock.post(f"{API}/statuses/{post(author, 'x')}/notes", json=body()), 403)
    assert stored(parvis) == (1, 0)
    assert ok(client.get(f"{API}/notes/{made['id']}"))["explanation"]["counted_ratings"] == 0


# -- the user's notes to rate ------------------------------------------------------------------


def test_notes_to_rate_page_with_the_link_header(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = users(parvis, client, 3)
    made = [
        ok(writer.post(f"{API}/statuses/{post(author, f'c{i}')}/notes", json=body()))["id"]
        for i in range(3)
    ]
    ok(rater.put(f"{API}/notes/{made[1]}/rating", json={"helpfulness": "helpful"}))
    r = rater.get(f"{API}/notes/to_rate", params={"limit": 1})
    assert [n["id"] for n in ok(r)] == [made[2]]
    nxt = links(r)["next"]
    assert f"max_id={made[2]}" in nxt and "limit=1" in nxt
    r = rater.get(nxt.removeprefix("https://parvis.test"))
    assert [n["id"] for n in ok(r)] == [made[0]]  # made[1] is rated already
    assert ok(writer.get(f"{API}/notes/to_rate")) == []  # one's own notes are not offered
    assert "days after" in error_of(make_user(client).get(f"{API}/notes/to_rate"), 403)
    error_of(rater.get(f"{API}/notes/to_rate", params={"max_id": "x"}), 422)


# -- scored: shown on posts, history, runs -----------------------------------------------------


@contextmanager
def notes_queries(parvis: Parvis) -> Iterator[list[str]]:
    """The SQL statements that read community_notes while the block runs."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "community_notes" in statement:
            seen.append(statement)

    event.listen(parvis.db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(parvis.db.engine, "before_cursor_execute", listen)


def test_the_shown_note_is_on_every_status_read_in_one_query(
    parvis: Parvis, client: TestClient
) -> None:
    world = bridged(parvis, client)
    scored = score(parvis)
    assert scored.run is not None and scored.run.helpful == 4
    booster = world.side_a[0]
    boost = ok(booster.post(f"/api/v1/statuses/{world.posts[0]}/reblog"))
    assert boost["community_note"]["id"] == str(world.notes[0])  # a boost: the original's

    with notes_queries(parvis) as seen:
        page = ok(client.get("/api/v1/timelines/public", params={"limit": 40}))
    assert len(seen) == 1, seen  # one query for the whole page
    by_id = {s["id"]: s for s in page}
    for i, status_id in enumerate(world.posts):
        shown = by_id[str(status_id)]["community_note"]
        if i < 4:
            assert shown == {
                "id": str(world.notes[i]),
                "summary": MISLEADING.summary,
                "sources": list(MISLEADING.sources),
                "url": f"https://parvis.test/notes/{world.notes[i]}",
                "rating_status": HELPFUL,
            }
        else:
            assert shown is None
    with notes_queries(parvis) as seen:
        home = ok(booster.get("/api/v1/timelines/home", params={"limit": 40}))
    assert len(seen) == 1, seen
    in_home = next(s for s in home if s["id"] == boost["id"])
    assert in_home["community_note"]["id"] == str(world.notes[0])
    assert in_home["reblog"]["community_note"]["id"] == str(world.notes[0])
    single = ok(client.get(f"/api/v1/statuses/{world.posts[1]}"))
    assert single["community_note"]["id"] == str(world.notes[1])

    listed = ok(client.get(f"{API}/statuses/{world.posts[0]}/notes"))
    assert listed[0]["shown"] is True and listed[0]["explanation"]["code"] == "helpful_across"
    sides = listed[0]["explanation"]["ratings"]["helpful"]
    assert sorted([sides["side_a"], sides["side_b"]]) == [8, 8] and sides["unscored"] == 0
    assert "raters who usually disagree" in listed[0]["explanation"]["text"]
    one_sided = ok(client.get(f"{API}/notes/{world.notes[5]}"))
    assert one_sided["shown"] is False and one_sided["rating_status"] != HELPFUL
    assert ok(client.get(f"{API}/notes/{world.notes[0]}/history"))[0]["status"] == HELPFUL

    runs = ok(client.get(f"{API}/notes/runs"))
    assert [r["id"] for r in runs] == [str(scored.run.id)]
    assert runs[0]["ratings"] == 192 and runs[0]["helpful"] == 4 and "state" not in runs[0]
    assert runs[0]["trigger"] == "command" and runs[0]["converged"] is True
    error_of(client.get(f"{API}/notes/runs", params={"limit": 0}), 422)


# -- the public files --------------------------------------------------------------------------


def download(client: TestClient, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in COLUMNS:
        r = client.get(f"{API}/notes/data/{name}.tsv")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/tab-separated-values")
        (directory / f"{name}.tsv").write_bytes(r.content)
    return directory


def table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def scored_file(path: Path) -> dict[int, tuple[str, float | None, float | None]]:
    return {
        int(r["noteId"]): (
            r["finalRatingStatus"],
            float(r["coreNoteIntercept"]) if r["coreNoteIntercept"] else None,
            float(r["coreNoteFactor1"]) if r["coreNoteFactor1"] else None,
        )
        for r in table(path / "scored_notes.tsv")
    }


def on_server(parvis: Parvis, ids: list[int]) -> dict[int, tuple[str, float | None, float | None]]:
    def read(work: Any) -> dict[int, tuple[str, float | None, float | None]]:
        found = {n: work.store.notes.get(n) for n in ids}
        return {n: (f.rating_status, f.intercept, f.factor) for n, f in found.items()}

    return parvis.runtime.read(read)


def rescore_with_the_cli(
    source: Path, out: Path
) -> dict[int, tuple[str, float | None, float | None]]:
    result = runner.invoke(cli, ["notes", "score", "--input", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    return scored_file(out)


def close(a: float | None, b: float | None, tolerance: float = 1e-6) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and abs(a - b) <= tolerance
    )


def test_the_public_files_rescore_to_the_servers_statuses(
    parvis: Parvis, client: TestClient, tmp_path: Path
) -> None:
    world = bridged(parvis, client)
    cold = score(parvis)
    assert cold.run is not None and not cold.run.warm_started
    files = download(client, tmp_path / "export")

    # The layout: the public columns, participants by pseudonym, 0/1 reason and tag columns.
    for name, columns in COLUMNS.items():
        assert (files / f"{name}.tsv").read_text().splitlines()[0].split("\t") == columns
    text = "".join((files / f"{name}.tsv").read_text() for name in COLUMNS)
    for user in [*world.side_a, *world.side_b, world.author, world.writer]:
        assert f"\t{user.id}\t" not in text  # accounts are never named
    note_rows = {int(r["noteId"]): r for r in table(files / "notes.tsv")}
    assert sorted(note_rows) == sorted(world.notes)
    first = note_rows[world.notes[0]]
    writer_pid = parvis.runtime.read(lambda w: notes.participant_id(w, int(world.writer.id)))
    assert first["noteAuthorParticipantId"] == writer_pid
    assert first["tweetId"] == str(world.posts[0])
    assert first["classification"] == "MISINFORMED_OR_POTENTIALLY_MISLEADING"
    assert first["misleadingFactualError"] == "1" and first["misleadingSatire"] == "0"
    assert first["summary"] == f"{MISLEADING.summary} {MISLEADING.sources[0]}"
    assert int(first["createdAtMillis"]) > 1_600_000_000_000
    assert sum(first[column("misleading", k)] == "1" for k in MISLEADING_REASONS) == 1
    last = note_rows[world.notes[-1]]
    assert last["classification"] == "NOT_MISLEADING"
    assert last["notMisleadingPersonalOpinion"] == last["notMisleadingClearlySatire"] == "1"
    ratings = table(files / "ratings.tsv")
    assert len(ratings) == 192
    not_helpful = next(r for r in ratings if r["helpfulnessLevel"] == "NOT_HELPFUL")
    assert not_helpful["notHelpfulIncorrect"] == "1" and not_helpful["notHelpful"] == "1"
    assert sum(not_helpful[column("notHelpful", k)] == "1" for k in NOT_HELPFUL_TAGS) == 1
    helpful = next(r for r in ratings if r["helpfulnessLevel"] == "HELPFUL")
    assert helpful["helpfulGoodSources"] == helpful["helpfulClear"] == "1"
    assert len(table(files / "userEnrollment.tsv")) == 17  # 16 raters and the writer
    history = {int(r["noteId"]): r for r in table(files / "noteStatusHistory.tsv")}
    assert history[world.notes[0]]["currentStatus"] == HELPFUL
    assert history[world.notes[0]]["firstNonNMRStatus"] == HELPFUL
    assert len(table(files / "helpfulness_scores.tsv")) == 16

    # Scored again, cold, by anyone: the same status for every note, the same numbers.
    server = on_server(parvis, world.notes)
    again = rescore_with_the_cli(files, tmp_path / "out")
    assert sorted(again) == sorted(server)
    for note_id, (status, intercept, factor) in server.items():
        assert again[note_id][0] == status, note_id
        assert close(again[note_id][1], intercept), (again[note_id], intercept)
        assert close(again[note_id][2], factor), (again[note_id], factor)
    published = scored_file(files)
    assert all(published[n][0] == server[n][0] for n in server)
    assert all(close(published[n][1], server[n][1]) for n in server)
    raters_out = {
        r["raterParticipantId"]: r for r in table(tmp_path / "out" / "helpfulness_scores.tsv")
    }
    for r in table(files / "helpfulness_scores.tsv"):
        assert close(
            float(r["coreRaterIntercept"]),
            float(raters_out[r["raterParticipantId"]]["coreRaterIntercept"]),
        )

    # After a warm rescore on the server, the statuses still agree.
    late = users(parvis, client, 1)[0]
    rate(parvis, late, world.notes[4], "helpful")
    warm = score(parvis)
    assert warm.run is not None and warm.run.warm_started
    files = download(client, tmp_path / "export2")
    server = on_server(parvis, world.notes)
    again = rescore_with_the_cli(files, tmp_path / "out2")
    assert {n: again[n][0] for n in server} == {n: s[0] for n, s in server.items()}


def test_the_public_files_need_no_token_and_stream_an_empty_server(client: TestClient) -> None:
    for name, columns in COLUMNS.items():
        r = client.get(f"{API}/notes/data/{name}.tsv")
        assert r.status_code == 200 and r.text == "\t".join(columns) + "\n"
        assert r.headers["content-disposition"] == f'attachment; filename="{name}.tsv"'
    error_of(client.get(f"{API}/notes/data/accounts.tsv"), 404)


def test_text_with_tabs_and_newlines_round_trips(parvis: Parvis, client: TestClient) -> None:
    author, writer = users(parvis, client, 2)
    summary = 'Tab\there, a "quote", and\na new line.'
    ok(writer.post(f"{API}/statuses/{post(author)}/notes", json=body(summary=summary)))
    text = client.get(f"{API}/notes/data/notes.tsv").text
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    assert rows[0]["summary"] == f"{summary} {SOURCE}"


# -- property tests: arbitrary bodies never give a 500 and never store what they refuse --------

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _plausible(
    fields: dict[str, st.SearchStrategy[Any]], valid: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid bodies with at most one field changed to anything (to reach past validation),
    bodies close to valid ones, and anything at all."""
    mutated = st.tuples(valid, st.sampled_from([None, *fields]), JSON_VALUES).map(
        lambda t: t[0] if t[1] is None else {**t[0], t[1]: t[2]}
    )
    loose = {k: st.one_of(v, JSON_VALUES) for k, v in fields.items()}
    keys = st.one_of(st.sampled_from([*fields, *(f"{k}[]" for k in fields)]), TEXT)
    as_json = st.one_of(
        st.fixed_dictionaries({}, optional=loose),
        st.dictionaries(keys, JSON_VALUES, max_size=6),
    ).map(lambda d: {"json": d})
    as_form = st.dictionaries(keys, st.one_of(TEXT, st.lists(TEXT, max_size=3)), max_size=6).map(
        lambda d: {"data": d}
    )
    raw = st.one_of(
        JSON_VALUES.map(lambda v: {"json": v}),
        st.binary(max_size=60).map(
            lambda b: {"content": b, "headers": {"Content-Type": "application/json"}}
        ),
    )
    return st.one_of(mutated.map(lambda d: {"json": d}), as_json, as_form, raw)


REASONS = st.sampled_from(MISLEADING_REASONS + NOT_MISLEADING_REASONS)
NOTE_BODIES = _plausible(
    {
        "classification": st.sampled_from(["misleading", "not_misleading", "MISLEADING", ""]),
        "reasons": st.lists(st.one_of(REASONS, TEXT), max_size=4),
        "summary": TEXT,
        "sources": st.lists(
            st.one_of(st.sampled_from([SOURCE, "http://a.b/c", "ftp://a.b", "https://x"]), TEXT),
            max_size=6,
        ),
        "language": TEXT,
    },
    st.fixed_dictionaries(
        {
            "classification": st.just("misleading"),
            "reasons": st.lists(st.sampled_from(MISLEADING_REASONS), min_size=1, max_size=3),
            "summary": st.text(min_size=1, max_size=60),
            "sources": st.lists(st.sampled_from([SOURCE, "https://a.org/b"]), min_size=1),
        },
        optional={"language": st.sampled_from(["fr", "en", ""])},
    ),
)
RATING_BODIES = _plausible(
    {
        "helpfulness": st.sampled_from(["helpful", "somewhat_helpful", "not_helpful", "HELPFUL"]),
        "tags": st.lists(
            st.one_of(st.sampled_from(HELPFUL_TAGS + NOT_HELPFUL_TAGS), TEXT), max_size=4
        ),
    },
    st.fixed_dictionaries(
        {"helpfulness": st.just("helpful")},
        optional={"tags": st.lists(st.sampled_from(HELPFUL_TAGS), max_size=3)},
    ),
)


@dataclass
class Fuzzed:
    writer: User
    rater: User
    status_id: int
    note_id: str


def _fuzzed(parvis: Parvis, client: TestClient) -> Fuzzed:
    cached = getattr(client, "_notes_fuzz", None)
    if cached is None:
        parvis.settings.notes_per_day = 1000
        author, writer, rater, other = users(parvis, client, 4)
        rated = ok(other.post(f"{API}/statuses/{post(author, 'rated')}/notes", json=body()))
        ok(rater.put(f"{API}/notes/{rated['id']}/rating", json={"helpfulness": "helpful"}))
        cached = Fuzzed(writer, rater, post(author, "fuzzed"), rated["id"])
        client._notes_fuzz = cached  # type: ignore[attr-defined]
    return cached


def _rows(parvis: Parvis) -> tuple[Any, ...]:
    with parvis.db.engine.connect() as conn:
        found = conn.execute(
            select(
                community_note_ratings.c.helpfulness,
                community_note_ratings.c.tags,
                community_note_ratings.c.updated_at,
            )
        ).all()
    return (*stored(parvis), tuple(tuple(r) for r in found))


def _send(client: TestClient, method: str, path: str, request: dict[str, Any], user: User) -> Any:
    extra = request.get("headers", {})
    kw = {k: v for k, v in request.items() if k != "headers"}
    return client.request(method, path, headers={**user.headers, **extra}, **kw)


@FUZZ
@given(request=NOTE_BODIES)
def test_fuzz_writing_a_note(parvis: Parvis, client: TestClient, request: dict[str, Any]) -> None:
    world = _fuzzed(parvis, client)
    before = _rows(parvis)
    r = _send(client, "POST", f"{API}/statuses/{world.status_id}/notes", request, world.writer)
    assert r.status_code < 500, (request, r.text)
    if r.status_code >= 400:
        assert_error(r)
        assert _rows(parvis) == before, (request, r.text)
        return
    made = r.json()
    assert made["mine"] is True and made["summary"].strip() == made["summary"]
    assert stored(parvis)[0] == before[0] + 1
    ok(world.writer.delete(f"{API}/notes/{made['id']}"))  # the next example writes again


@FUZZ
@given(request=RATING_BODIES)
def test_fuzz_rating_a_note(parvis: Parvis, client: TestClient, request: dict[str, Any]) -> None:
    world = _fuzzed(parvis, client)
    before = _rows(parvis)
    r = _send(client, "PUT", f"{API}/notes/{world.note_id}/rating", request, world.rater)
    assert r.status_code < 500, (request, r.text)
    if r.status_code >= 400:
        assert_error(r)
        assert _rows(parvis) == before, (request, r.text)
    else:
        assert r.json()["own_rating"]["helpfulness"] in notes.HELPFULNESS
        assert stored(parvis) == before[:2]
