"""Community notes between Parvis servers (issue 8, item 4; FEDERATION.md "Community notes").

Three levels: the documents alone (built and read back; what is malformed); the real app on a
real database with a fake fediverse at the outbound HTTP seam (test_inbox.py's), where a
Mastodon server and a Parvis server follow a local author and only the Parvis one ever hears
of notes, and where remote notes and ratings arrive signed, are stored or refused with the
right status; and two real Parvis servers on loopback (loopback.py) whose people write and rate
notes that travel with the post, each server scoring the union of what it knows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from parvis.app import Parvis, build
from parvis.config import Settings
from parvis.domain import httpsig
from parvis.domain.activitypub import notes as notes_ap
from parvis.domain.activitypub import parse
from parvis.jobs import inbound as inbound_jobs
from parvis.jobs.runtime import run_job
from parvis.services import inbound, nodeinfo, notes
from parvis.services.context import Work
from parvis.storage.notes import NoteRow
from parvis.storage.tables import (
    accounts,
    community_note_ratings,
    community_notes,
    federation_hosts,
    federation_inbox,
    statuses,
)
from tests.builders import User, make_user
from tests.federation import loopback
from tests.federation.loopback import Server, eventually, resolve, servers
from tests.federation.test_inbox import (
    BASE,
    PUBLIC,
    Fediverse,
    Remote,
    accepted,
    account_id,
    count,
    deliver,
    inbox_state,
    status_id,
)
from tests.federation.test_inbox import client as client
from tests.federation.test_inbox import world as world

T = TypeVar("T")
MISLEADING = notes.Draft(
    "misleading", ["factual_error"], "The photo is from 2015.", ["https://example.org/a"]
)
LONG_AGO = "2020-01-01T00:00:00Z"


# -- the documents -----------------------------------------------------------------------------


def _doc(**over: Any) -> notes_ap.NoteDoc:
    values: dict[str, Any] = {
        "uri": "https://a.example/notes/1",
        "about": "https://a.example/users/al/statuses/2",
        "summary": "The photo is from 2015.",
        "classification": "misleading",
        "reasons": ("factual_error", "manipulated_media"),
        "sources": ("https://example.org/a",),
        "language": "en",
        "published": datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        "attributed_to": "https://a.example/users/wanda",
    }
    values.update(over)
    return notes_ap.NoteDoc(**values)


def test_a_note_reads_back_as_it_was_written() -> None:
    create = notes_ap.create(_doc())
    assert create["id"] == "https://a.example/notes/1/activity"
    assert create["actor"] == "https://a.example/users/wanda"
    assert create["@context"][1]["about"] == {"@id": "parvis:about", "@type": "@id"}
    obj = create["object"]
    assert obj["type"] == "CommunityNote" and "inReplyTo" not in obj  # never shown as a reply
    assert obj["contentMap"] == {"en": "The photo is from 2015."}
    back = notes_ap.community_note(obj)
    assert (back.uri, back.about, back.attributed_to) == (
        "https://a.example/notes/1",
        "https://a.example/users/al/statuses/2",
        "https://a.example/users/wanda",
    )
    assert (back.summary, back.classification, back.language) == (
        "The photo is from 2015.",
        "misleading",
        "en",
    )
    assert back.reasons == ("factual_error", "manipulated_media")
    assert back.sources == ("https://example.org/a",)
    assert back.published == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    # Prefixed and full-IRI spellings read the same; a post reader refuses the type.
    spelled = {
        ("parvis:" + k if k in ("about", "classification") else k): v for k, v in obj.items()
    }
    spelled["type"] = "https://parvis.social/ns#CommunityNote"
    assert notes_ap.community_note(spelled).about == back.about
    with pytest.raises(parse.Malformed, match="not a post"):
        parse.note(obj)


def test_a_rating_and_its_undo_read_back() -> None:
    moment = datetime(2025, 3, 2, 8, 30, 0, 123456, tzinfo=UTC)
    rater = "https://b.example/users/rita"
    rid = notes_ap.rating_id(rater, 42, moment)
    assert rid == f"{rater}#note_ratings/42/{round(moment.timestamp() * 1_000_000)}"
    doc = notes_ap.rating(rid, rater, "https://a.example/notes/1", "helpful", ["clear"], moment)
    read = notes_ap.note_rating(parse.activity(doc))
    assert (read.id, read.actor, read.note, read.helpfulness, read.tags) == (
        rid,
        rater,
        "https://a.example/notes/1",
        "helpful",
        ("clear",),
    )
    undo = parse.activity(notes_ap.undo_rating(rid, rater, "https://a.example/notes/1"))
    inner = parse.inner(undo)
    assert undo.id == f"{rid}/undo" and inner is not None
    assert notes_ap.is_rating(inner.type) and inner.id == rid
    delete = parse.activity(notes_ap.delete("https://a.example/notes/1", _doc().attributed_to))
    assert delete.object_id == "https://a.example/notes/1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "Note"}, "is not CommunityNote"),
        ({"about": None}, "about: missing"),
        ({"about": "http://127.0.0.1/x"}, "non-public address"),
        ({"attributedTo": "https://elsewhere.example/users/x"}, "different hosts"),
        ({"classification": ["misleading", "not_misleading"]}, "classification: not a string"),
        ({"reasons": [{"x": 1}]}, "reasons: a list of strings"),
        ({"sources": [f"https://e.org/{i}" for i in range(30)]}, "more than 20"),
        ({"content": 12}, "content: not a string"),
    ],
)
def test_malformed_notes_say_what_is_wrong(change: dict[str, Any], message: str) -> None:
    obj = notes_ap.note(_doc())
    obj.update(change)
    obj = {k: v for k, v in obj.items() if v is not None}
    with pytest.raises(parse.Malformed, match=message):
        notes_ap.community_note(obj)


def test_reading_nodeinfo_keeps_to_the_host_and_to_plausible_names() -> None:
    schema = nodeinfo.SCHEMA
    links = {
        "links": [
            {"rel": f"{schema}1.0", "href": "https://a.example/nodeinfo/1.0"},
            {"rel": f"{schema}2.0", "href": "https://a.example/nodeinfo/2.0"},
            {"rel": f"{schema}2.1", "href": "https://a.example/nodeinfo/2.1"},
            {"rel": f"{schema}2.2", "href": "https://elsewhere.example/nodeinfo/2.2"},
            {"rel": "something else", "href": "https://a.example/x"},
            "not a link",
        ]
    }
    assert nodeinfo.document_link(links, "https://a.example") == "https://a.example/nodeinfo/2.1"
    assert nodeinfo.document_link({"links": "nope"}, "https://a.example") is None
    assert nodeinfo.software_name({"software": {"name": " Parvis "}}) == "parvis"
    assert nodeinfo.software_name({"software": {"name": "<script>"}}) is None
    assert nodeinfo.software_name({"software": "parvis"}) is None
    assert nodeinfo.base_of("http://b.test:8001/inbox") == "http://b.test:8001"
    assert nodeinfo.host_key("https://B.example:443/inbox") == "b.example"


# -- one server, a fake fediverse --------------------------------------------------------------


def _write(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def _age(parvis: Parvis, *users: User, days: int = 400) -> None:
    def backdate(work: Work) -> None:
        for u in users:
            work.store.conn.execute(
                update(accounts)
                .where(accounts.c.id == int(u.id))
                .values(created_at=work.now() - timedelta(days=days))
            )

    _write(parvis, backdate)


def _users(parvis: Parvis, client: TestClient, *names: str) -> list[User]:
    made = [make_user(client, name) for name in names]
    _age(parvis, *made)
    return made


def _serve_nodeinfo(world: Fediverse, host: str, software: str) -> None:
    schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
    world.docs[f"https://{host}/.well-known/nodeinfo"] = {
        "links": [{"rel": schema, "href": f"https://{host}/nodeinfo/2.0"}]
    }
    world.docs[f"https://{host}/nodeinfo/2.0"] = {
        "version": "2.0",
        "software": {"name": software, "version": "1.0"},
        "protocols": ["activitypub"],
    }


def _remote(world: Fediverse, name: str, host: str, published: str | None = LONG_AGO) -> Remote:
    person = world.remote(name, host=host)
    if published is not None:
        world.docs[person.uri]["published"] = published
    return person


def _follow(client: TestClient, who: Remote, username: str) -> None:
    accepted(client, who, who.activity("Follow", f"{BASE}/users/{username}"))


def _notes_sent(world: Fediverse) -> list[tuple[str, dict[str, Any]]]:
    """Every delivery of the notes extension (notes, ratings, their Delete and Undo)."""
    found = []
    for url, doc in world.delivered:
        obj = doc.get("object")
        kinds = {doc.get("type")}
        if isinstance(obj, dict):
            kinds |= {obj.get("type"), obj.get("formerType")}
        if kinds & {"CommunityNote", "NoteRating"}:
            found.append((url, doc))
    return found


def _probes(world: Fediverse) -> list[str]:
    return [u for u in world.fetched() if u.endswith("/.well-known/nodeinfo")]


def test_notes_and_ratings_go_to_parvis_servers_only(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    author, writer, rater = _users(parvis, client, "author", "writer", "rater")
    mastodon = _remote(world, "mia", "mastodon.example")
    parvis_peer = _remote(world, "paul", "parvis.example")
    silent = _remote(world, "una", "unknown.example")  # no NodeInfo: unknown, never sent notes
    _serve_nodeinfo(world, "mastodon.example", "mastodon")
    _serve_nodeinfo(world, "parvis.example", "Parvis")
    for who in (mastodon, parvis_peer, silent):
        _follow(client, who, "author")
    post = author.status("A claim about a photo")
    creates = {url for url, doc in world.sent("Create") if doc["object"]["id"] == post["uri"]}
    hosts = ("mastodon.example", "parvis.example", "unknown.example")
    assert creates == {f"https://{h}/inbox" for h in hosts}  # the post itself goes everywhere

    note = _write(parvis, lambda w: notes.write(w, int(writer.id), int(post["id"]), MISLEADING))
    sent = _notes_sent(world)
    assert [url for url, _ in sent] == ["https://parvis.example/inbox"]
    create = sent[0][1]
    assert (create["type"], create["id"]) == ("Create", f"{note.uri}/activity")
    assert create["actor"] == f"{BASE}/users/writer"
    assert create["object"]["about"] == post["uri"]
    assert create["object"]["classification"] == "misleading"
    assert create["object"]["sources"] == ["https://example.org/a"]
    with parvis.db.engine.connect() as conn:
        rows = conn.execute(select(federation_hosts.c.host, federation_hosts.c.software))
        known = {str(h): str(s) for h, s in rows}
    assert known["mastodon.example"] == "mastodon" and known["parvis.example"] == "parvis"
    assert known.get("unknown.example", "") == ""
    assert sorted(_probes(world)) == sorted(
        f"https://{h}/.well-known/nodeinfo"
        for h in ("mastodon.example", "parvis.example", "unknown.example")
    )

    # A rating, a change of mind (a new activity id), and its withdrawal.
    _write(parvis, lambda w: notes.rate(w, int(rater.id), note.id, "helpful", ["good_sources"]))
    _write(parvis, lambda w: notes.rate(w, int(rater.id), note.id, "not_helpful", ["incorrect"]))
    _write(parvis, lambda w: notes.unrate(w, int(rater.id), note.id))
    _write(parvis, lambda w: notes.delete(w, int(writer.id), note.id))
    sent = _notes_sent(world)
    assert {url for url, _ in sent} == {"https://parvis.example/inbox"}
    kinds = [doc["type"] for _, doc in sent]
    assert kinds == ["Create", "NoteRating", "NoteRating", "Undo", "Delete"]
    first, second, undo, delete = (doc for _, doc in sent[1:])
    assert first["actor"] == second["actor"] == f"{BASE}/users/rater"
    assert first["object"] == note.uri and first["helpfulness"] == "helpful"
    assert (second["helpfulness"], second["tags"]) == ("not_helpful", ["incorrect"])
    assert first["id"] != second["id"]
    assert undo["object"]["id"] == second["id"] and undo["object"]["object"] == note.uri
    assert delete["object"] == {"id": note.uri, "type": "Tombstone", "formerType": "CommunityNote"}
    # Known hosts are not asked again; the unknown one is, each time it matters.
    assert _probes(world).count("https://parvis.example/.well-known/nodeinfo") == 1
    assert _probes(world).count("https://mastodon.example/.well-known/nodeinfo") == 1
    assert _probes(world).count("https://unknown.example/.well-known/nodeinfo") == 5
    mastodon_got = [doc["type"] for url, doc in world.delivered if "mastodon" in url]
    assert set(mastodon_got) == {"Accept", "Create"}


def test_a_host_is_asked_again_what_it_runs_after_a_week(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    """A server may move to Parvis (or away): what it runs is asked again once a week, not at
    every delivery; a known server that cannot answer keeps what it was known to run."""
    author, writer = _users(parvis, client, "wanda", "walt")
    mover, quiet = _remote(world, "moe", "moving.example"), _remote(world, "gil", "quiet.example")
    _serve_nodeinfo(world, "moving.example", "mastodon")
    _serve_nodeinfo(world, "quiet.example", "parvis")
    for who in (mover, quiet):
        _follow(client, who, "wanda")

    def note_sent_to() -> set[str]:
        post = author.status(f"A claim {len(world.delivered)}")
        before = len(_notes_sent(world))
        _write(parvis, lambda w: notes.write(w, int(writer.id), int(post["id"]), MISLEADING))
        return {url for url, _ in _notes_sent(world)[before:]}

    assert note_sent_to() == {"https://quiet.example/inbox"}
    _serve_nodeinfo(world, "moving.example", "parvis")  # it moves to Parvis
    for path in ("/.well-known/nodeinfo", "/nodeinfo/2.0"):  # and the other stops answering
        del world.docs[f"https://quiet.example{path}"]
    assert note_sent_to() == {"https://quiet.example/inbox"}  # within the week: as known

    later = datetime.now(UTC) + timedelta(days=8)
    parvis.runtime.clock = lambda: later
    assert note_sent_to() == {"https://moving.example/inbox", "https://quiet.example/inbox"}
    for host in ("moving.example", "quiet.example"):
        assert _probes(world).count(f"https://{host}/.well-known/nodeinfo") == 2


def test_a_note_about_a_remote_post_goes_to_its_server(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    """A note on a post from another Parvis server goes to that server (the post's home), and
    a rating of a note written there goes back to it too."""
    (writer,) = _users(parvis, client, "writer")
    peer = _remote(world, "paula", "parvis.example")
    _serve_nodeinfo(world, "parvis.example", "parvis")
    remote_post = peer.note("<p>a claim from there</p>")
    accepted(client, peer, peer.create(remote_post))
    sid = status_id(parvis, remote_post["id"])
    note = _write(parvis, lambda w: notes.write(w, int(writer.id), sid, MISLEADING))
    [(url, create)] = _notes_sent(world)
    assert url == "https://parvis.example/inbox"
    assert create["object"]["about"] == remote_post["id"]
    assert note.uri == f"{BASE}/notes/{note.id}"


def _community_note(who: Remote, post_uri: str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": who.next_id("notes"),
        "type": "CommunityNote",
        "attributedTo": who.uri,
        "about": post_uri,
        "published": "2025-03-01T12:00:00Z",
        "to": [PUBLIC],
        "mediaType": "text/plain",
        "content": "The photo is from 2015.",
        "contentMap": {"en": "The photo is from 2015."},
        "classification": "misleading",
        "reasons": ["factual_error"],
        "sources": ["https://example.org/a"],
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not None}


def _create(who: Remote, note: dict[str, Any]) -> dict[str, Any]:
    return who.activity("Create", note, **{"@context": notes_ap.NOTES_CONTEXT, "to": [PUBLIC]})


def _rating(
    who: Remote, note_uri: str, helpfulness: str = "helpful", tags: Any = None
) -> dict[str, Any]:
    return who.activity(
        "NoteRating",
        note_uri,
        **{
            "@context": notes_ap.NOTES_CONTEXT,
            "helpfulness": helpfulness,
            "tags": ["clear"] if tags is None else tags,
        },
    )


def _stored_notes(parvis: Parvis) -> list[tuple[Any, ...]]:
    with parvis.db.engine.connect() as conn:
        rows = conn.execute(
            select(
                community_notes.c.uri,
                community_notes.c.author_id,
                community_notes.c.status_id,
                community_notes.c.summary,
                community_notes.c.classification,
            )
        )
        return [tuple(r) for r in rows]


def _ratings(parvis: Parvis) -> list[tuple[Any, ...]]:
    with parvis.db.engine.connect() as conn:
        rows = conn.execute(
            select(
                community_note_ratings.c.rater_id,
                community_note_ratings.c.helpfulness,
                community_note_ratings.c.tags,
                community_note_ratings.c.uri,
            )
        )
        return [tuple(r) for r in rows]


def _refuser(client: TestClient, parvis: Parvis) -> Callable[[Remote, dict[str, Any], int], str]:
    """Deliver, expect `status`, and check nothing was stored, not even the activity."""

    def refused(who: Remote, doc: dict[str, Any], status: int) -> str:
        r = deliver(client, who, doc)
        assert r.status_code == status, r.text
        where = federation_inbox.c.activity_uri == doc["id"]
        assert count(parvis, federation_inbox, where) == 0
        return str(r.json()["error"])

    return refused


@pytest.fixture
def peer(world: Fediverse) -> Remote:
    _serve_nodeinfo(world, "parvis.example", "parvis")
    return _remote(world, "paul", "parvis.example")


def test_a_remote_note_is_stored_once(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    (author,) = _users(parvis, client, "author")
    post = author.status("A claim")
    note = _community_note(peer, post["uri"])
    create = _create(peer, note)
    accepted(client, peer, create)
    assert inbox_state(parvis, create["id"]) == ("done", "")
    [(uri, author_id, sid, summary, classification)] = _stored_notes(parvis)
    assert (uri, sid, summary) == (note["id"], int(post["id"]), "The photo is from 2015.")
    assert author_id == account_id(parvis, peer.uri)
    assert classification == "MISINFORMED_OR_POTENTIALLY_MISLEADING"
    # Shown to readers as any note (anonymous), needing ratings.
    [view] = _write(parvis, lambda w: notes.on_status(w, None, int(post["id"])))
    assert view.note.rating_status == "NEEDS_MORE_RATINGS" and not view.mine

    accepted(client, peer, create)  # a re-delivery
    again = _create(peer, note)  # the same note in another Create
    accepted(client, peer, again)
    assert inbox_state(parvis, again["id"]) == ("done", "ignored: the note is already here")
    assert len(_stored_notes(parvis)) == 1
    # It is a note, not a post: nothing in the timelines.
    assert count(parvis, statuses, statuses.c.uri == note["id"]) == 0


def test_forged_malformed_and_invalid_notes_are_refused(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    refused = _refuser(client, parvis)
    (author,) = _users(parvis, client, "author")
    about = author.status("A claim")["uri"]
    other = _remote(world, "olga", "parvis.example")
    # Forged: someone else's note (403); a note from another host (400, before the signature).
    message = refused(peer, _create(peer, _community_note(other, about)), 403)
    assert "author is not the actor" in message
    stranger = _community_note(peer, about, attributedTo="https://evil.example/users/x")
    assert "different hosts" in refused(peer, _create(peer, stranger), 400)
    # Malformed (400): what it is about, the shape of its fields.
    assert "about: missing" in refused(
        peer, _create(peer, _community_note(peer, about, about=None)), 400
    )
    assert "reasons: a list of strings" in refused(
        peer, _create(peer, _community_note(peer, about, reasons=[{"a": 1}])), 400
    )
    # Invalid under the rules of local drafts (422), every field named.
    bad = _community_note(
        peer,
        about,
        classification="maybe",
        reasons=[],
        content=" ",
        contentMap=None,
        sources=["javascript:alert(1)"],
    )
    message = refused(peer, _create(peer, bad), 422)
    for field in ("classification:", "content: write the note", "sources: not a web link"):
        assert field in message, message
    no_source = _community_note(peer, about, sources=[])
    assert "needs at least one source" in refused(peer, _create(peer, no_source), 422)
    # About a post this server does not have, or one that is not public (422).
    unknown = _community_note(peer, f"{BASE}/users/author/statuses/1")
    assert "about: no such post" in refused(peer, _create(peer, unknown), 422)
    private = author.status("for my followers", visibility="private")["uri"]
    private_note = _community_note(peer, private)
    assert "public posts only" in refused(peer, _create(peer, private_note), 422)
    assert _stored_notes(parvis) == []

    # What only processing can tell: a note on the author's own post is kept out.
    own = peer.note("<p>my own claim</p>")
    accepted(client, peer, peer.create(own))
    on_own = _create(peer, _community_note(peer, own["id"]))
    accepted(client, peer, on_own)
    assert inbox_state(parvis, on_own["id"]) == (
        "done",
        "ignored: a note on the author's own post",
    )
    # Authors take part under the local rules: an account younger than 14 days is kept out.
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    young = _remote(world, "yves", "parvis.example", published=yesterday)
    by_young = _create(young, _community_note(young, about))
    accepted(client, young, by_young)
    assert inbox_state(parvis, by_young["id"]) == (
        "done",
        "ignored: the author's account is not 14 days old",
    )
    assert _stored_notes(parvis) == []


def test_an_unknown_activity_type_is_accepted_and_ignored(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    """What servers do with extensions they do not know, Parvis does too: 202, nothing kept
    but the inbox row that guards against a second delivery."""
    (author,) = _users(parvis, client, "author")
    post = author.status("A claim")
    other_extension = peer.activity("Bite", f"{BASE}/users/author")
    accepted(client, peer, other_extension)
    assert inbox_state(parvis, other_extension["id"]) == ("done", "ignored: Bite is not handled")
    # A Create of an unknown object type is not a post either.
    odd = peer.activity("Create", {"id": peer.next_id("x"), "type": "Recipe", "about": post["uri"]})
    accepted(client, peer, odd)
    assert inbox_state(parvis, odd["id"]) == ("done", "ignored: not a post")
    assert _stored_notes(parvis) == []
    assert count(parvis, statuses) == 1


def _local_note(parvis: Parvis, client: TestClient) -> NoteRow:
    author, writer = _users(parvis, client, "author", "writer")
    post = author.status("A claim")
    return _write(parvis, lambda w: notes.write(w, int(writer.id), int(post["id"]), MISLEADING))


def test_remote_ratings_are_stored_replaced_and_withdrawn(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    note = _local_note(parvis, client)
    first = _rating(peer, note.uri, "helpful", ["clear", "good_sources"])
    accepted(client, peer, first)
    rater_id = account_id(parvis, peer.uri)
    assert _ratings(parvis) == [(rater_id, "HELPFUL", '["clear","good_sources"]', first["id"])]
    second = _rating(peer, note.uri, "not_helpful", ["incorrect"])
    accepted(client, peer, second)
    assert _ratings(parvis) == [(rater_id, "NOT_HELPFUL", '["incorrect"]', second["id"])]
    view = _write(parvis, lambda w: notes.view(w, None, note.id))
    assert view.sides.not_helpful[2] == 1  # counted with the local ones (outside the fit yet)

    # An Undo of the replaced rating changes nothing; someone else's Undo neither.
    stale = peer.activity("Undo", {k: v for k, v in first.items() if k != "@context"})
    accepted(client, peer, stale)
    assert inbox_state(parvis, stale["id"])[1] == "ignored: the rating was replaced since"
    other = _remote(world, "olga", "parvis.example")
    foreign = other.activity("Undo", {k: v for k, v in second.items() if k != "@context"})
    accepted(client, other, foreign)
    assert len(_ratings(parvis)) == 1
    undo = peer.activity("Undo", {k: v for k, v in second.items() if k != "@context"})
    accepted(client, peer, undo)
    assert inbox_state(parvis, undo["id"]) == ("done", "")
    assert _ratings(parvis) == []


def test_remote_raters_take_part_under_the_local_rules(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    note = _local_note(parvis, client)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    young = _remote(world, "yann", "parvis.example", published=yesterday)
    unknown_age = _remote(world, "una", "parvis.example", published=None)
    for who in (young, unknown_age):
        rating = _rating(who, note.uri)
        accepted(client, who, rating)
        assert inbox_state(parvis, rating["id"]) == (
            "done",
            "ignored: the rater's account is not 14 days old",
        )
    assert _ratings(parvis) == []
    # The day it is old enough (since first seen here), it counts.
    later = datetime.now(UTC) + timedelta(days=15)
    parvis.runtime.clock = lambda: later
    rating = _rating(unknown_age, note.uri)
    body = json.dumps(rating).encode()
    r = client.post("/inbox", content=body, headers=unknown_age.signed("/inbox", body, now=later))
    assert r.status_code == 202, r.text
    assert inbox_state(parvis, rating["id"]) == ("done", "")
    assert len(_ratings(parvis)) == 1


def test_malformed_invalid_and_unknown_ratings_are_refused(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    refused = _refuser(client, parvis)
    note = _local_note(parvis, client)
    message = refused(peer, _rating(peer, note.uri, "great"), 422)
    assert "helpfulness: helpful, somewhat_helpful or not_helpful" in message
    message = refused(peer, _rating(peer, note.uri, "helpful", ["incorrect"]), 422)
    assert "tags: unknown 'incorrect'" in message
    assert "tags: a list of strings" in refused(
        peer, _rating(peer, note.uri, "helpful", [1, 2]), 400
    )
    no_object = _rating(peer, note.uri)
    del no_object["object"]
    assert "object" in refused(peer, no_object, 400)
    unknown = _rating(peer, f"{BASE}/notes/1")
    assert "no such note" in refused(peer, unknown, 422)
    assert _ratings(parvis) == []


def test_a_note_is_deleted_by_its_author_only(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    (author,) = _users(parvis, client, "author")
    post = author.status("A claim")
    note = _community_note(peer, post["uri"])
    accepted(client, peer, _create(peer, note))
    other = _remote(world, "olga", "parvis.example")
    forged = other.activity("Delete", {"id": note["id"], "type": "Tombstone"})
    accepted(client, other, forged)
    assert inbox_state(parvis, forged["id"])[1] == "ignored: only a note's author deletes it"
    assert len(_stored_notes(parvis)) == 1
    gone = peer.activity("Delete", {"id": note["id"], "type": "Tombstone"})
    accepted(client, peer, gone)
    assert inbox_state(parvis, gone["id"]) == ("done", "")
    assert _stored_notes(parvis) == []


def test_a_note_waits_for_its_post_still_in_the_inbox(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    """Deliveries may overtake each other: a note about a post whose Create is received but not
    processed yet is let in, and stored once the post has landed."""
    post = peer.note("<p>a claim from there</p>")
    create_post = peer.create(post)
    create_post["id"] = f"{post['id']}/activity"  # as Parvis and Mastodon name it
    post_row, _ = _write(
        parvis,
        lambda w: w.store.inbox.add(
            create_post["id"], peer.uri, "Create", json.dumps(create_post), w.now()
        ),
    )
    other = _remote(world, "olga", "parvis.example")
    note_create = _create(other, _community_note(other, post["id"]))
    accepted(client, other, note_create)
    state, error = inbox_state(parvis, note_create["id"])
    assert state == "retry" and "not here yet" in error
    assert inbound.process(parvis.runtime, post_row) == "created"
    later = datetime.now(UTC) + inbound_jobs.RETRY_AFTER + timedelta(minutes=1)
    parvis.runtime.clock = lambda: later
    assert run_job(parvis.runtime, "retry_inbound", {}) == 1
    assert inbox_state(parvis, note_create["id"]) == ("done", "")
    assert len(_stored_notes(parvis)) == 1


def _signed_get(who: Remote, path: str) -> dict[str, str]:
    headers = {"Accept": "application/activity+json"}
    headers.update(
        httpsig.sign_request(
            "GET",
            f"{BASE}{path}",
            headers,
            None,
            who.key_id,
            who.private_pem,
            now=datetime.now(UTC),
        )
    )
    return headers


def test_a_note_is_served_at_its_uri_to_servers(
    client: TestClient, parvis: Parvis, world: Fediverse, peer: Remote
) -> None:
    note = _local_note(parvis, client)
    path = f"/notes/{note.id}"
    r = client.get(path, headers={"Accept": "application/activity+json"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/activity+json")
    doc = r.json()
    assert (doc["id"], doc["type"], doc["content"]) == (
        note.uri,
        "CommunityNote",
        "The photo is from 2015.",
    )
    assert "attributedTo" not in doc  # anonymous to readers
    read = client.get(path, headers={"Accept": "application/ld+json"}).json()
    assert read["about"] == doc["about"]
    # A server (signed fetch) is told who wrote it, as it was in the Create.
    accepted(client, peer, peer.activity("Follow", f"{BASE}/users/writer"))  # known here now
    signed = client.get(path, headers=_signed_get(peer, path))
    assert signed.status_code == 200, signed.text
    assert signed.json()["attributedTo"] == f"{BASE}/users/writer"
    # A browser is not answered JSON; unknown ids and notes from elsewhere are not found.
    page = client.get(path, headers={"Accept": "text/html"})
    assert not page.headers.get("content-type", "").startswith("application/activity+json")
    missing = client.get("/notes/123", headers={"Accept": "application/activity+json"})
    assert missing.status_code == 404
    (author,) = _users(parvis, client, "other_author")
    remote_note = _community_note(peer, author.status("another claim")["uri"])
    accepted(client, peer, _create(peer, remote_note))
    with parvis.db.engine.connect() as conn:
        remote_id = conn.execute(
            select(community_notes.c.id).where(community_notes.c.uri == remote_note["id"])
        ).scalar_one()
    there = client.get(f"/notes/{remote_id}", headers={"Accept": "application/activity+json"})
    assert there.status_code == 404


# -- two real Parvis servers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    with servers(tmp_path_factory.mktemp("notes"), "a", "b") as started:
        yield started


@contextmanager
def _services(server: Server, names: list[str]) -> Iterator[Parvis]:
    """This server's own use cases on its own database, as `parvis` commands run them beside
    `parvis serve`: the jobs they ask for go to the server's queue and its worker runs them
    (the community notes API and pages are other parts of the work)."""
    settings = Settings(
        domain=server.domain,
        scheme="http",
        data_dir=server.data_dir,
        federation_allow_private=True,
        federation_resolve={f"{n}.test": "127.0.0.1" for n in names},
        rate_limits_enabled=False,
        embedded_worker=False,
        jobs_immediate=False,
    )
    handle = build(settings)
    try:
        yield handle
    finally:
        handle.close()


def _account_id(server: Server, username: str) -> int:
    [(found,)] = server.query(
        "SELECT id FROM accounts WHERE username = ? AND domain IS NULL", username
    )
    return int(found)


def _backdate(handle: Parvis, *ids: int) -> None:
    """Old enough to take part (before any other server has seen these accounts)."""

    def backdate(work: Work) -> None:
        work.store.conn.execute(
            update(accounts)
            .where(accounts.c.id.in_(ids))
            .values(created_at=work.now() - timedelta(days=400))
        )

    handle.runtime.write(backdate)


def _note_ids(server: Server, uris: list[str]) -> dict[str, int]:
    rows = server.query("SELECT uri, id FROM community_notes")
    return {str(u): int(i) for u, i in rows if u in uris}


def _rating_count(server: Server) -> int:
    return int(server.query("SELECT count(*) FROM community_note_ratings")[0][0])


@pytest.mark.slow
def test_notes_travel_with_the_post_and_each_server_scores_the_union(
    net: dict[str, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice posts on A; Bob follows her from B. Notes written on A reach B; three raters on
    A and three on B, who disagree on most notes, rate them where they are: every rating
    travels to the other server (neither server's own raters are enough: a note needs five),
    and each, scoring the union of what it knows, shows the same notes — those both sides
    found helpful. A note deleted on A goes from B; a rating withdrawn on B goes from A."""
    monkeypatch.setattr(loopback, "SETTLE_SECONDS", 120.0)  # 10 notes and 60 ratings each way
    a, b = net["a"], net["b"]
    alice, bob = a.user("alice"), b.user("bob")
    remote_alice = resolve(bob, f"alice@{a.domain}")
    assert bob.post(f"/api/v1/accounts/{remote_alice['id']}/follow").status_code == 200

    def following() -> bool:
        r = bob.get("/api/v1/accounts/relationships", params={"id[]": remote_alice["id"]})
        return bool(r.json()[0]["following"])

    eventually(following, "Accept", a, b)
    writers = [a.user("wanda"), a.user("walt")]
    raters_a = [a.user(f"ra{i}") for i in range(3)]
    raters_b = [b.user(f"rb{i}") for i in range(3)]
    posts = [alice.status(f"Claim number {i}") for i in range(10)]
    uris = [p["uri"] for p in posts]
    marks = ",".join("?" * len(uris))
    eventually(
        lambda: len(b.query(f"SELECT id FROM statuses WHERE uri IN ({marks})", *uris)) == 10,
        "the posts on B",
        a,
        b,
    )

    names = ["a", "b"]
    with _services(a, names) as on_a, _services(b, names) as on_b:
        _backdate(on_a, *(_account_id(a, u.username) for u in writers + raters_a))
        _backdate(on_b, *(_account_id(b, u.username) for u in raters_b))
        written = []
        for i, post in enumerate(posts):
            writer = writers[i % 2]
            draft = notes.Draft(
                "misleading", ["factual_error"], f"Context {i}.", [f"https://e.org/{i}"]
            )
            row = on_a.runtime.write(
                lambda w, p=post, u=writer, d=draft: notes.write(  # type: ignore[misc]
                    w, _account_id(a, u.username), int(p["id"]), d
                )
            )
            written.append(row.uri)
        on_b_ids = eventually(
            lambda: (found := _note_ids(b, written)) and len(found) == 10 and found,
            "the notes on B",
            a,
            b,
        )
        on_a_ids = _note_ids(a, written)
        # Two notes both sides find helpful; four helpful to A's raters only, four to B's.
        kinds = ["both", "both"] + ["a"] * 4 + ["b"] * 4
        for side, server, handle, raters, ids in (
            ("a", a, on_a, raters_a, on_a_ids),
            ("b", b, on_b, raters_b, on_b_ids),
        ):
            for rater in raters:
                rater_id = _account_id(server, rater.username)
                for uri, kind in zip(written, kinds, strict=True):
                    answer = "helpful" if kind in ("both", side) else "not_helpful"
                    handle.runtime.write(
                        lambda w, r=rater_id, n=ids[uri], x=answer: notes.rate(w, r, n, x)  # type: ignore[misc]
                    )
        eventually(lambda: _rating_count(a) == _rating_count(b) == 60, "60 ratings each", a, b)
        remote_raters = a.query(
            "SELECT count(DISTINCT r.rater_id) FROM community_note_ratings r "
            "JOIN accounts ac ON ac.id = r.rater_id WHERE ac.domain = ?",
            b.domain,
        )
        assert remote_raters == [(3,)]  # B's raters, stored on A as themselves

        # Each server scores the union of what it knows, and shows the same notes.
        for handle in (on_a, on_b):
            scored = handle.runtime.write(lambda w: notes.score(w, "command"))
            assert scored.run is not None and scored.run.ratings == 60
        statuses_on = {
            s.name: dict(s.query("SELECT uri, rating_status FROM community_notes")) for s in (a, b)
        }
        assert statuses_on["a"] == statuses_on["b"]
        helpful = [u for u in written if statuses_on["b"][u] == "CURRENTLY_RATED_HELPFUL"]
        assert helpful == written[:2]
        post_ids_b = [
            int(i) for (i,) in b.query(f"SELECT id FROM statuses WHERE uri IN ({marks})", *uris)
        ]
        shown = on_b.runtime.read(lambda w: notes.shown_on(w, post_ids_b))
        assert sorted(n.uri for n in shown.values()) == sorted(written[:2])

        # A note deleted on A goes from B; a rating withdrawn on B goes from A.
        gone = written[5]
        author = writers[5 % 2]
        on_a.runtime.write(
            lambda w: notes.delete(w, _account_id(a, author.username), on_a_ids[gone])
        )
        eventually(lambda: gone not in _note_ids(b, written), "Delete of the note", a, b)
        rater_b = _account_id(b, raters_b[0].username)
        on_b.runtime.write(lambda w: notes.unrate(w, rater_b, on_b_ids[written[0]]))
        eventually(lambda: _rating_count(a) == 60 - 6 - 1, "Undo of the rating", a, b)
        assert _rating_count(b) == 60 - 6 - 1
