"""ActivityPub rendering, pure: addressing by visibility, tags, content warnings, attachments,
polls, quotes, actors, and the ids of activities (stable, so retries deduplicate)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parvis.domain.activitypub import render
from parvis.domain.activitypub.vocabulary import (
    ACTOR_CONTEXT,
    AS_PUBLIC,
    NOTE_CONTEXT,
    wants_activity_json,
)
from parvis.domain.visibility import Visibility

ALICE = "https://a.example/users/alice"
FOLLOWERS = f"{ALICE}/followers"
BOB = "https://b.example/users/bob"
CAROL = "https://c.example/users/carol"
WHEN = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
NOTE_URI = f"{ALICE}/statuses/1"


def note(**changes: object) -> render.NoteDoc:
    base = render.NoteDoc(
        uri=NOTE_URI,
        attributed_to=ALICE,
        followers=FOLLOWERS,
        visibility=Visibility.PUBLIC,
        content="<p>hello</p>",
        published=WHEN,
        url="https://a.example/@alice/1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


MENTIONS = (
    render.MentionTag(href=BOB, name="@bob@b.example"),
    render.MentionTag(href=CAROL, name="@carol@c.example"),
)


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        (Visibility.PUBLIC, [AS_PUBLIC], [FOLLOWERS, BOB, CAROL]),
        (Visibility.UNLISTED, [FOLLOWERS], [AS_PUBLIC, BOB, CAROL]),
        (Visibility.PRIVATE, [FOLLOWERS], [BOB, CAROL]),
        (Visibility.DIRECT, [BOB, CAROL], []),
    ],
)
def test_addressing_follows_visibility(
    visibility: Visibility, to: list[str], cc: list[str]
) -> None:
    doc = render.note(note(visibility=visibility, mentions=MENTIONS))
    assert doc["to"] == to
    assert doc["cc"] == cc
    # Nothing but a public or unlisted post names the Public collection anywhere.
    public = AS_PUBLIC in doc["to"] + doc["cc"]
    assert public == (visibility in (Visibility.PUBLIC, Visibility.UNLISTED))


def test_mentions_and_hashtags_become_tags() -> None:
    doc = render.note(
        note(mentions=MENTIONS[:1], hashtags=(render.HashtagTag("https://a.example/tags/x", "x"),))
    )
    assert doc["tag"] == [
        {"type": "Mention", "href": BOB, "name": "@bob@b.example"},
        {"type": "Hashtag", "href": "https://a.example/tags/x", "name": "#x"},
    ]


def test_note_shape_and_context() -> None:
    doc = render.note(note(language="fr", in_reply_to=f"{BOB}/statuses/9"))
    assert doc["@context"] == NOTE_CONTEXT
    assert doc["type"] == "Note"
    assert doc["id"] == NOTE_URI
    assert doc["attributedTo"] == ALICE
    assert doc["published"] == "2026-03-01T12:30:05Z"
    assert doc["inReplyTo"] == f"{BOB}/statuses/9"
    assert doc["contentMap"] == {"fr": "<p>hello</p>"}
    assert doc["summary"] is None and doc["sensitive"] is False
    assert "updated" not in doc
    edited = render.note(note(updated=WHEN + timedelta(hours=1)))
    assert edited["updated"] == "2026-03-01T13:30:05Z"


def test_content_warning_is_summary_and_sensitive() -> None:
    doc = render.note(note(summary="spoilers", sensitive=True))
    assert doc["summary"] == "spoilers"
    assert doc["sensitive"] is True


def test_attachments_carry_alt_text_as_name() -> None:
    pic = render.Attachment(
        url="https://a.example/media/1.png",
        media_type="image/png",
        name="A red square",
        blurhash="LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
        width=64,
        height=32,
        focal_point=(0.5, -0.25),
    )
    doc = render.note(note(attachments=(pic, replace(pic, name=None))))
    first, second = doc["attachment"]
    assert first == {
        "type": "Document",
        "mediaType": "image/png",
        "url": "https://a.example/media/1.png",
        "name": "A red square",
        "blurhash": "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
        "focalPoint": [0.5, -0.25],
        "width": 64,
        "height": 32,
    }
    assert "name" not in second


def test_poll_is_a_question() -> None:
    poll = render.PollDoc(
        options=("yes", "no"),
        votes=(3, 1),
        multiple=False,
        end_time=WHEN,
        closed=False,
        voters_count=4,
    )
    doc = render.note(note(poll=poll))
    assert doc["type"] == "Question"
    assert doc["oneOf"] == [
        {"type": "Note", "name": "yes", "replies": {"type": "Collection", "totalItems": 3}},
        {"type": "Note", "name": "no", "replies": {"type": "Collection", "totalItems": 1}},
    ]
    assert "anyOf" not in doc and "closed" not in doc
    assert doc["endTime"] == "2026-03-01T12:30:05Z"
    assert doc["votersCount"] == 4
    ended = render.note(note(poll=replace(poll, multiple=True, closed=True, votes=None)))
    assert [o["name"] for o in ended["anyOf"]] == ["yes", "no"]
    assert ended["closed"] == ended["endTime"]
    assert all("replies" not in o for o in ended["anyOf"])  # hidden totals stay hidden


def test_quote_fields_and_authorization() -> None:
    quoted = f"{BOB}/statuses/7"
    approval = f"{BOB}/quote_authorizations/1"
    doc = render.note(note(quote=render.QuoteDoc(uri=quoted, authorization=approval)))
    assert doc["quote"] == doc["_misskey_quote"] == doc["quoteUri"] == quoted
    assert doc["quoteAuthorization"] == approval
    # Servers without quotes see an inline link, marked so that others can drop it.
    assert doc["content"].endswith(
        f'<p class="quote-inline">RE: <a href="{quoted}">{quoted}</a></p>'
    )
    assert doc["content"].count(quoted) == 2
    # Already linked in the text: no second fallback.
    linked = render.note(
        note(content=f'<p><a href="{quoted}">x</a></p>', quote=render.QuoteDoc(quoted))
    )
    assert "quote-inline" not in linked["content"]
    assert "quoteAuthorization" not in linked
    gone = render.note(note(quote=render.QuoteDoc(uri=None)))
    assert gone["quote"] == {"type": "Tombstone"}
    assert "_misskey_quote" not in gone and "quote-inline" not in gone["content"]


@pytest.mark.parametrize(
    ("visibility", "policy", "approved"),
    [
        (Visibility.PUBLIC, "public", [AS_PUBLIC]),
        (Visibility.UNLISTED, "followers", [FOLLOWERS]),
        (Visibility.PUBLIC, "nobody", [ALICE]),
        (Visibility.PRIVATE, "public", [ALICE]),  # followers-only: only the author quotes it
        (Visibility.DIRECT, "public", [ALICE]),
    ],
)
def test_quote_policy(visibility: Visibility, policy: str, approved: list[str]) -> None:
    doc = render.note(note(visibility=visibility, quote_policy=policy))
    assert doc["interactionPolicy"] == {"canQuote": {"automaticApproval": approved}}


def test_create_wraps_the_note_with_its_audience() -> None:
    obj = render.note(note(visibility=Visibility.UNLISTED, mentions=MENTIONS[:1]))
    activity = render.create(obj, ALICE)
    assert activity["@context"] == obj["@context"]
    assert activity["id"] == f"{NOTE_URI}/activity"
    assert activity["type"] == "Create"
    assert activity["actor"] == ALICE
    assert (activity["to"], activity["cc"]) == (obj["to"], obj["cc"])
    assert activity["published"] == obj["published"]
    assert "@context" not in activity["object"]
    assert activity["object"]["id"] == NOTE_URI


def test_activity_ids_are_stable_and_distinct() -> None:
    obj = render.note(note())
    made = [
        render.create(obj, ALICE),
        render.update(obj, ALICE, updated=WHEN),
        render.update(obj, ALICE, updated=WHEN + timedelta(seconds=1)),
        render.delete(NOTE_URI, ALICE),
        render.like(ALICE, f"{BOB}/statuses/3", 5),
        render.follow(ALICE, BOB, 5),
        render.block(ALICE, BOB, 5),
        render.accept(render.follow(BOB, ALICE, 1, uri=f"{BOB}#f/1"), ALICE, 5),
        render.reject(render.follow(BOB, ALICE, 1, uri=f"{BOB}#f/1"), ALICE, 5),
        render.flag(ALICE, [BOB], "spam", 5),
        render.move(ALICE, BOB),
        render.announce(
            f"{ALICE}/statuses/2/activity",
            ALICE,
            f"{BOB}/statuses/3",
            published=WHEN,
            visibility=Visibility.PUBLIC,
            followers=FOLLOWERS,
            object_author=BOB,
        ),
    ]
    ids = [a["id"] for a in made]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(ALICE) for i in ids)
    assert render.like(ALICE, f"{BOB}/statuses/3", 5)["id"] == f"{ALICE}#likes/5"
    assert render.update(obj, ALICE, updated=WHEN)["id"] == (
        f"{NOTE_URI}#updates/{round(WHEN.timestamp() * 1_000_000)}"
    )
    # Same inputs, same document: a retried delivery is the same activity.
    assert render.move(ALICE, BOB) == render.move(ALICE, BOB)
    assert render.move(ALICE, BOB)["id"] != render.move(ALICE, CAROL)["id"]


def test_undo_repeats_the_activity() -> None:
    like = render.like(ALICE, f"{BOB}/statuses/3", 5)
    undo = render.undo(like)
    assert undo["id"] == f"{ALICE}#likes/5/undo"
    assert undo["type"] == "Undo"
    assert undo["actor"] == ALICE
    assert undo["object"] == {k: v for k, v in like.items() if k != "@context"}
    boost = render.announce(
        f"{ALICE}/statuses/2/activity",
        ALICE,
        f"{BOB}/statuses/3",
        published=WHEN,
        visibility=Visibility.UNLISTED,
        followers=FOLLOWERS,
        object_author=BOB,
    )
    assert (boost["to"], boost["cc"]) == ([FOLLOWERS], [AS_PUBLIC, BOB])
    undone = render.undo(boost)
    assert (undone["to"], undone["cc"]) == (boost["to"], boost["cc"])


def test_accept_names_the_follow_it_accepts() -> None:
    theirs = render.follow(BOB, ALICE, 0, uri="https://b.example/follows/42")
    accept = render.accept(theirs, ALICE, 9)
    assert accept["id"] == f"{ALICE}#accepts/follows/9"
    assert accept["object"] == {
        "id": "https://b.example/follows/42",
        "type": "Follow",
        "actor": BOB,
        "object": ALICE,
    }


def test_delete_and_move_and_flag_shapes() -> None:
    gone = render.delete(NOTE_URI, ALICE, to=[AS_PUBLIC], cc=[FOLLOWERS])
    assert gone["object"] == {"id": NOTE_URI, "type": "Tombstone"}
    assert gone["id"] == f"{NOTE_URI}#delete"
    assert (gone["to"], gone["cc"]) == ([AS_PUBLIC], [FOLLOWERS])
    account_gone = render.delete(ALICE, ALICE)
    assert account_gone["object"] == ALICE
    moved = render.move(ALICE, BOB, 3)
    assert (moved["object"], moved["target"], moved["id"]) == (ALICE, BOB, f"{ALICE}#moves/3")
    report = render.flag("https://a.example/actor", [BOB, f"{BOB}/statuses/1", BOB], "why", 4)
    assert report["object"] == [BOB, f"{BOB}/statuses/1"]
    assert report["content"] == "why"


def actor_doc(**changes: object) -> render.ActorDoc:
    base = render.ActorDoc(
        uri=ALICE,
        type="Person",
        username="alice",
        key_id=f"{ALICE}#main-key",
        public_key_pem="-----BEGIN PUBLIC KEY-----\n...",
        inbox=f"{ALICE}/inbox",
        shared_inbox="https://a.example/inbox",
        outbox=f"{ALICE}/outbox",
        followers=FOLLOWERS,
        following=f"{ALICE}/following",
        featured=f"{ALICE}/collections/featured",
        url="https://a.example/@alice",
        name="Alice",
        summary="<p>bio</p>",
        discoverable=True,
        indexable=True,
        published=WHEN,
        icon=render.Image("https://a.example/media/a.png", "image/png"),
        fields=(render.PropertyValue("site", '<a href="https://x">x</a>'),),
        also_known_as=(BOB,),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_actor_shape() -> None:
    doc = render.actor(actor_doc())
    assert doc["@context"] == ACTOR_CONTEXT
    assert doc["type"] == "Person"
    assert doc["preferredUsername"] == "alice"
    assert doc["publicKey"] == {
        "id": f"{ALICE}#main-key",
        "owner": ALICE,
        "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n...",
    }
    assert doc["endpoints"] == {"sharedInbox": "https://a.example/inbox"}
    assert doc["attachment"] == [
        {"type": "PropertyValue", "name": "site", "value": '<a href="https://x">x</a>'}
    ]
    assert doc["icon"] == {
        "type": "Image",
        "url": "https://a.example/media/a.png",
        "mediaType": "image/png",
    }
    assert doc["alsoKnownAs"] == [BOB]
    assert doc["discoverable"] is True and doc["memorial"] is False
    assert "suspended" not in doc and "movedTo" not in doc


def test_suspended_actor_tells_nothing_but_its_key() -> None:
    doc = render.actor(actor_doc(suspended=True, moved_to=CAROL))
    assert doc["suspended"] is True
    assert doc["name"] == "alice" and doc["summary"] == ""
    assert doc["attachment"] == [] and "icon" not in doc and "movedTo" not in doc
    assert doc["discoverable"] is False and doc["indexable"] is False
    assert doc["publicKey"]["id"] == f"{ALICE}#main-key"


def test_bare_actor_has_only_what_signatures_need() -> None:
    doc = render.bare_actor(actor_doc())
    assert set(doc) == {"@context", "id", "type", "inbox", "publicKey", "endpoints"}


def test_collections() -> None:
    coll = render.ordered_collection(f"{ALICE}/outbox", total=3, first=f"{ALICE}/outbox?page=true")
    assert coll == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ALICE}/outbox",
        "type": "OrderedCollection",
        "totalItems": 3,
        "first": f"{ALICE}/outbox?page=true",
    }
    page = render.ordered_collection_page(
        render.Page(id="p", part_of=f"{ALICE}/outbox", items=["a"], next="n")
    )
    assert page["type"] == "OrderedCollectionPage"
    assert (page["partOf"], page["orderedItems"], page["next"]) == (f"{ALICE}/outbox", ["a"], "n")
    assert "prev" not in page


def test_timestamps_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        render.iso(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("application/json", True),
        ("application/json, text/html;q=0.5", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("text/html, application/activity+json;q=0.9", False),
        ("application/activity+json;q=0", False),
        ("*/*", False),
        ("", False),
        (None, False),
    ],
)
def test_content_negotiation(accept: str | None, wanted: bool) -> None:
    assert wants_activity_json(accept) is wanted


@given(st.text(max_size=300))
def test_content_negotiation_never_fails(accept: str) -> None:
    assert wants_activity_json(accept) in (True, False)
