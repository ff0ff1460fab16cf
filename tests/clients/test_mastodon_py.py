"""Mastodon.py, the real client library, against a real Parvis served by uvicorn on loopback.

Each test is one scripted session, the path a user of a Mastodon app takes: register an app,
sign up, log in (password grant, and the authorization-code flow through the HTML sign-in and
consent pages), then post, reply, boost, follow, read timelines and notifications, search.
Every step asserts on what the server returned, as Mastodon.py parsed it.

Mastodon.py is constructed with `version_check_mode="none"` (its default since 2.0): the
version-gated features it uses (media upload through /api/v2/media, instance v2) still rely on
the version it detects from /api/v1/instance; `test_instance_and_version_detection` checks that
this detection works, and that the strict "created" mode does too.
"""

from __future__ import annotations

import io
import itertools
import re
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx2
import pytest
from mastodon import Mastodon, MastodonIllegalArgumentError, MastodonNotFoundError
from mastodon.versions import parse_version_string
from PIL import Image, ImageDraw

from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.slow

SCOPES = ["read", "write", "follow", "push"]
PASSWORD = "correct horse battery staple"
APP_NAME = "Parvis client tests"
_seq = itertools.count(1)


# -- helpers -----------------------------------------------------------------------------------


def new_app(server: LiveServer, redirect_uris: str | None = None) -> tuple[str, str]:
    client_id, client_secret = Mastodon.create_app(
        APP_NAME,
        scopes=SCOPES,
        redirect_uris=redirect_uris,
        website="https://example.org/app",
        api_base_url=server.url,
    )
    assert isinstance(client_id, str) and len(client_id) >= 16
    assert isinstance(client_secret, str) and len(client_secret) >= 16
    assert client_id != client_secret
    return client_id, client_secret


def client(
    server: LiveServer,
    client_id: str | None = None,
    client_secret: str | None = None,
    access_token: str | None = None,
) -> Mastodon:
    return Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        access_token=access_token,
        api_base_url=server.url,
        version_check_mode="none",
        request_timeout=30,
        ratelimit_method="throw",
    )


def sign_up(server: LiveServer, prefix: str = "user") -> tuple[Mastodon, dict[str, str]]:
    """Register an app, sign up through it (client-credentials token, done by Mastodon.py), then
    log in again with the password grant, as the app would on a fresh install."""
    username = f"{prefix}{next(_seq)}"
    email = f"{username}@example.org"
    client_id, client_secret = new_app(server)
    signup = client(server, client_id, client_secret)
    signup_token = signup.create_account(username, PASSWORD, email, agreement=True, locale="fr")
    assert isinstance(signup_token, str) and signup_token
    assert signup.access_token == signup_token

    api = client(server, client_id, client_secret)
    token = api.log_in(username=email, password=PASSWORD, scopes=SCOPES)
    assert isinstance(token, str) and token and token != signup_token
    me = api.account_verify_credentials()
    assert me.username == username
    info = {
        "username": username,
        "email": email,
        "id": str(me.id),
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return api, info


def jpeg(width: int = 64, height: int = 48) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 40))
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=(20, 90, 200))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


class Forms(HTMLParser):
    """The forms of an HTML page: action, method, inputs (hidden/text/password) and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.codes: dict[str, str] = {}
        self._code_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": a.get("method", "get"),
                    "inputs": {},
                    "buttons": [],
                }
            )
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"][a.get("name", "")] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "code" and a.get("id"):
            self._code_id = a["id"]
            self.codes[self._code_id] = ""

    def handle_data(self, data: str) -> None:
        if self._code_id is not None:
            self.codes[self._code_id] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._code_id = None


def parse(page: str) -> Forms:
    forms = Forms()
    forms.feed(page)
    return forms


def ids(items: Any) -> list[str]:
    return [str(x.id) for x in items]


# -- the sessions ------------------------------------------------------------------------------


def test_sign_up_log_in_and_edit_profile(live_server: LiveServer) -> None:
    api, me = sign_up(live_server, "alice")

    account = api.account_verify_credentials()
    assert str(account.id) == me["id"]
    assert account.acct == me["username"]
    assert account.display_name == ""
    assert account.locked is False and account.bot is False
    assert account.followers_count == 0 and account.statuses_count == 0
    assert account.url.startswith(live_server.url)
    assert account.source.privacy == "public"
    assert account.source.note == ""

    app = api.app_verify_credentials()
    assert app.name == APP_NAME
    assert app.website == "https://example.org/app"

    note = "Bonjour ! J’aime le café et les #communs."
    updated = api.account_update_credentials(
        display_name="Alice Liddell",
        note=note,
        fields=[("Site", "https://example.org/alice"), ("Langues", "français, English")],
    )
    assert updated.display_name == "Alice Liddell"
    assert updated.source.note == note
    assert "Bonjour" in updated.note and updated.note != note  # rendered as HTML
    assert [(f.name, f.value) for f in updated.source.fields] == [
        ("Site", "https://example.org/alice"),
        ("Langues", "français, English"),
    ]
    assert [f.name for f in updated.fields] == ["Site", "Langues"]
    assert "example.org/alice" in updated.fields[0].value

    again = api.account_verify_credentials()
    assert again.display_name == "Alice Liddell" and again.source.note == note
    public = client(live_server).account(me["id"])  # anonymous read of the public profile
    assert public.display_name == "Alice Liddell"
    assert [f.name for f in public.fields] == ["Site", "Langues"]
    assert public.source is None  # only on verify_credentials

    found = api.account_lookup(me["username"])
    assert str(found.id) == me["id"]


def test_authorization_code_flow_through_the_html_pages(live_server: LiveServer) -> None:
    _, user = sign_up(live_server, "oauth")
    client_id, client_secret = new_app(live_server)
    api = client(live_server, client_id, client_secret)
    url = api.auth_request_url(scopes=SCOPES, state="opaque-state-42")
    assert url.startswith(f"{live_server.url}/oauth/authorize?")

    with httpx2.Client(follow_redirects=False, timeout=30) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        login_form = parse(page.text).forms
        assert len(login_form) == 1
        form = login_form[0]
        assert form["method"].lower() == "post"
        assert form["inputs"]["client_id"] == client_id
        assert {"login", "password"} <= form["inputs"].keys()

        wrong = browser.post(
            urljoin(url, form["action"]),
            data={**form["inputs"], "login": user["email"], "password": "nope"},
        )
        assert wrong.status_code == 401
        assert "code" not in parse(wrong.text).codes

        consent = browser.post(
            urljoin(url, form["action"]),
            data={**form["inputs"], "login": user["email"], "password": PASSWORD},
        )
        assert consent.status_code == 200, consent.text
        assert APP_NAME in consent.text and f"@{user['username']}" in consent.text
        for scope in SCOPES:
            assert f"<code>{scope}</code>" in consent.text
        forms = parse(consent.text).forms
        assert len(forms) == 1
        assert ("decision", "allow") in forms[0]["buttons"]
        assert ("decision", "deny") in forms[0]["buttons"]

        granted = browser.post(
            urljoin(url, forms[0]["action"]), data={**forms[0]["inputs"], "decision": "allow"}
        )
        assert granted.status_code == 200, granted.text
        code = parse(granted.text).codes.get("code", "").strip()
        assert re.fullmatch(r"[A-Za-z0-9_\-]{16,}", code), granted.text

    token = api.log_in(code=code, scopes=SCOPES)
    assert isinstance(token, str) and token
    me = api.account_verify_credentials()
    assert str(me.id) == user["id"] and me.username == user["username"]

    # A code is single-use.
    replay = client(live_server, client_id, client_secret)
    with pytest.raises(MastodonIllegalArgumentError, match="invalid_grant"):
        replay.log_in(code=code, scopes=SCOPES)


def _consent_form(
    browser: httpx2.Client,
    server: LiveServer,
    client_id: str,
    client_secret: str,
    user: dict[str, str],
) -> tuple[str, dict[str, Any]]:
    """Sign in on the authorization page; return the URL and the consent form it shows."""
    url = client(server, client_id, client_secret).auth_request_url(scopes=SCOPES)
    form = parse(browser.get(url).text).forms[0]
    consent = browser.post(
        urljoin(url, form["action"]),
        data={**form["inputs"], "login": user["email"], "password": PASSWORD},
    )
    assert consent.status_code == 200, consent.text
    return url, parse(consent.text).forms[0]


def test_consent_form_refuses_forged_tickets_and_honours_deny(live_server: LiveServer) -> None:
    """The consent form carries a signed ticket instead of the password: a forged, foreign or
    malformed one must send the user back to the sign-in form (never grant a code, never 500)."""
    _, user = sign_up(live_server, "consent")
    client_id, client_secret = new_app(live_server)
    other_id, _ = new_app(live_server)

    with httpx2.Client(follow_redirects=False, timeout=30) as browser:
        url, form = _consent_form(browser, live_server, client_id, client_secret, user)
        ticket = form["inputs"]["ticket"]
        head, _, mac = ticket.rpartition(".")
        forged = {
            "wrong signature": f"{head}.{'0' * len(mac)}",
            "other account": f"1.{head.split('.')[1]}.{mac}",
            "empty": "",
            "not a ticket": "x",
            "non-ASCII signature": f"{head}.{mac[:-1]}\u00e9",
        }
        refused_badly = []
        for why, value in forged.items():
            answer = browser.post(
                urljoin(url, form["action"]),
                data={**form["inputs"], "ticket": value, "decision": "allow"},
                headers={"Connection": "close"},
            )  # uvicorn drops the connection after a 500
            page = parse(answer.text)
            assert "code" not in page.codes, f"{why}: a code was granted"
            sign_in = bool(page.forms) and "password" in page.forms[0]["inputs"]
            if answer.status_code != 200 or not sign_in:
                refused_badly.append(f"{why}: {answer.status_code} {answer.text[:100]}")

        # A genuine ticket is bound to the application it was issued for.
        foreign = browser.post(
            urljoin(url, form["action"]),
            data={**form["inputs"], "client_id": other_id, "decision": "allow"},
        )
        assert foreign.status_code == 200 and "code" not in parse(foreign.text).codes

        denied = browser.post(
            urljoin(url, form["action"]), data={**form["inputs"], "decision": "deny"}
        )
        assert denied.status_code == 403 and "access_denied" in denied.text
        assert "code" not in parse(denied.text).codes

        granted = browser.post(
            urljoin(url, form["action"]), data={**form["inputs"], "decision": "allow"}
        )
        code = parse(granted.text).codes["code"].strip()
    api = client(live_server, client_id, client_secret)
    api.log_in(code=code, scopes=SCOPES)
    assert str(api.account_verify_credentials().id) == user["id"]
    assert not refused_badly, "forged tickets not sent back to sign-in:\n" + "\n".join(
        refused_badly
    )


def test_post_with_image_reply_context_boost_favourite_bookmark(live_server: LiveServer) -> None:
    alice, a = sign_up(live_server, "photographer")
    bob, b = sign_up(live_server, "friend")

    media = alice.media_post(
        jpeg(64, 48),
        mime_type="image/jpeg",
        description="Un carré bleu sur fond rouge",
        focus=(0.25, -0.5),
    )
    assert media.type == "image"
    assert media.description == "Un carré bleu sur fond rouge"
    deadline = time.monotonic() + 20
    while media.url is None and time.monotonic() < deadline:  # processed asynchronously?
        time.sleep(0.1)
        media = alice.media(media.id)
    assert media.url and media.url.startswith(f"{live_server.url}/media/")
    assert media.meta.original.width == 64 and media.meta.original.height == 48
    assert media.meta.focus.x == pytest.approx(0.25) and media.meta.focus.y == pytest.approx(-0.5)
    assert media.blurhash
    image = httpx2.get(media.url, timeout=30)
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).size == (64, 48)

    status = alice.status_post(
        "Une photo du #Parvis", media_ids=[media], visibility="public", language="fr"
    )
    assert "Une photo du" in status.content
    assert status.visibility == "public" and status.language == "fr"
    assert ids(status.media_attachments) == [str(media.id)]
    assert status.media_attachments[0].description == "Un carré bleu sur fond rouge"
    assert [t.name for t in status.tags] == ["parvis"]
    assert str(status.account.id) == a["id"]
    assert status.application.name == APP_NAME

    reply = bob.status_post(f"@{a['username']} très jolie !", in_reply_to_id=status)
    assert str(reply.in_reply_to_id) == str(status.id)
    assert str(reply.in_reply_to_account_id) == a["id"]
    assert [(str(m.id), m.acct) for m in reply.mentions] == [(a["id"], a["username"])]

    context = alice.status_context(status)
    assert context.ancestors == []
    assert ids(context.descendants) == [str(reply.id)]
    context = bob.status_context(reply)
    assert ids(context.ancestors) == [str(status.id)]
    assert context.descendants == []

    boost = bob.status_reblog(status)
    assert str(boost.account.id) == b["id"]
    assert boost.reblog is not None and str(boost.reblog.id) == str(status.id)
    assert boost.reblog.reblogged is True
    assert boost.reblog.reblogs_count == 1

    favourite = bob.status_favourite(status)
    assert str(favourite.id) == str(status.id)
    assert favourite.favourited is True and favourite.favourites_count == 1

    bookmark = bob.status_bookmark(status)
    assert bookmark.bookmarked is True
    assert ids(bob.bookmarks()) == [str(status.id)]
    assert ids(bob.favourites()) == [str(status.id)]

    seen_by_alice = alice.status(status)
    assert seen_by_alice.replies_count == 1
    assert seen_by_alice.reblogs_count == 1 and seen_by_alice.favourites_count == 1
    assert seen_by_alice.favourited is False and seen_by_alice.bookmarked is False
    assert ids(alice.status_reblogged_by(status)) == [b["id"]]
    assert ids(alice.status_favourited_by(status)) == [b["id"]]


def test_locked_account_and_follow_request(live_server: LiveServer) -> None:
    carol, c = sign_up(live_server, "locked")
    dave, d = sign_up(live_server, "asker")

    locked = carol.account_update_credentials(locked=True)
    assert locked.locked is True
    assert dave.account(c["id"]).locked is True

    asked = dave.account_follow(c["id"])
    assert str(asked.id) == c["id"]
    assert asked.requested is True and asked.following is False

    pending = carol.follow_requests()
    assert ids(pending) == [d["id"]]
    assert carol.account_verify_credentials().source.follow_requests_count == 1
    assert carol.account_relationships([d["id"]])[0].requested_by is True

    accepted = carol.follow_request_authorize(d["id"])
    assert str(accepted.id) == d["id"]
    assert accepted.followed_by is True and accepted.requested_by is False

    rel = dave.account_relationships([c["id"]])[0]
    assert rel.following is True and rel.requested is False
    assert carol.follow_requests() == []
    assert ids(carol.account_followers(c["id"])) == [d["id"]]
    assert ids(dave.account_following(d["id"])) == [c["id"]]
    assert carol.account_verify_credentials().followers_count == 1


def test_home_timeline_across_pages(live_server: LiveServer) -> None:
    writer, w = sign_up(live_server, "writer")
    reader, _ = sign_up(live_server, "reader")
    assert reader.account_follow(w["id"]).following is True

    posted = [str(writer.status_post(f"Message numéro {i}").id) for i in range(45)]
    assert len(set(posted)) == 45
    assert [int(i) for i in posted] == sorted(int(i) for i in posted)  # ids grow with time
    newest_first = posted[::-1]

    first = reader.timeline_home(limit=20)
    second = reader.fetch_next(first)
    third = reader.fetch_next(second)
    assert first is not None and second is not None and third is not None
    assert [len(first), len(second), len(third)] == [20, 20, 5]
    seen = ids(first) + ids(second) + ids(third)
    assert len(seen) == len(set(seen)), "a status appeared on two pages"
    assert [int(i) for i in seen] == sorted((int(i) for i in seen), reverse=True)
    assert seen == newest_first, "a gap or a foreign status in the home timeline"
    assert all(str(s.account.id) == w["id"] for s in [*first, *second, *third])
    assert not reader.fetch_next(third)

    # And back up: the previous page of the second page is the first page.
    previous = reader.fetch_previous(second)
    assert previous is not None and ids(previous) == ids(first)


def test_notifications_of_every_kind(live_server: LiveServer) -> None:
    ana, a = sign_up(live_server, "ana")
    ben, b = sign_up(live_server, "ben")
    cy, c = sign_up(live_server, "cy")

    assert ben.account_follow(a["id"]).following is True  # follow
    post = ana.status_post("Un message à aimer")
    ben.status_favourite(post)  # favourite
    ben.status_reblog(post)  # reblog
    mention = ben.status_post(f"Coucou @{a['username']} !")  # mention
    assert ana.account_update_credentials(locked=True).locked is True
    assert cy.account_follow(a["id"]).requested is True  # follow_request

    notes = ana.notifications()
    assert sorted(n.type for n in notes) == [
        "favourite",
        "follow",
        "follow_request",
        "mention",
        "reblog",
    ]
    assert [int(n.id) for n in notes] == sorted((int(n.id) for n in notes), reverse=True)
    by_type = {n.type: n for n in notes}
    assert notes[0].type == "follow_request"  # the newest first
    assert str(by_type["follow_request"].account.id) == c["id"]
    assert by_type["follow_request"].status is None
    assert str(by_type["follow"].account.id) == b["id"] and by_type["follow"].status is None
    assert str(by_type["favourite"].account.id) == b["id"]
    assert str(by_type["favourite"].status.id) == str(post.id)
    assert str(by_type["reblog"].status.id) == str(post.id)
    assert str(by_type["mention"].status.id) == str(mention.id)
    assert a["id"] in [str(m.id) for m in by_type["mention"].status.mentions]

    only = ana.notifications(types=["mention"])
    assert [n.type for n in only] == ["mention"]
    without = ana.notifications(exclude_types=["follow", "follow_request"])
    assert sorted(n.type for n in without) == ["favourite", "mention", "reblog"]
    single = ana.notifications(id=by_type["favourite"].id)
    assert single.type == "favourite" and str(single.id) == str(by_type["favourite"].id)
    assert ben.notifications() == []  # nobody did anything to ben


def test_search_accounts_hashtags_and_words(live_server: LiveServer) -> None:
    api, me = sign_up(live_server, "searcher")
    api.account_update_credentials(display_name="Zéphyrin Chercheur")
    post = api.status_post("Un café crème au comptoir #Terrasses")

    found = api.search_v2(me["username"])
    assert me["id"] in ids(found.accounts)
    found = api.search_v2("Zéphyrin")
    assert me["id"] in ids(found.accounts)

    found = api.search_v2("#terrasses")
    assert [t.name.lower() for t in found.hashtags] == ["terrasses"]
    assert found.hashtags[0].url.startswith(live_server.url)

    for word in ("café", "cafe", "CAFÉ"):
        found = api.search_v2(word, result_type="statuses")
        assert str(post.id) in ids(found.statuses), f"searching {word!r} misses the post"


def test_delete_status_and_relationships(live_server: LiveServer) -> None:
    eve, e = sign_up(live_server, "eve")
    fay, f = sign_up(live_server, "fay")

    post = eve.status_post("Je vais disparaître #bientôt")
    deleted = eve.status_delete(post)
    assert str(deleted.id) == str(post.id)
    assert deleted.text == "Je vais disparaître #bientôt"  # the source, for delete-and-redraft
    with pytest.raises(MastodonNotFoundError):
        eve.status(post.id)
    with pytest.raises(MastodonNotFoundError):
        fay.status(post.id)
    assert eve.account_verify_credentials().statuses_count == 0

    assert fay.account_follow(e["id"]).following is True
    assert fay.account_mute(e["id"]).muting is True
    rels = fay.account_relationships([e["id"], f["id"]])
    by_id = {str(r.id): r for r in rels}
    assert set(by_id) == {e["id"], f["id"]}
    assert by_id[e["id"]].following is True and by_id[e["id"]].muting is True
    assert by_id[e["id"]].followed_by is False and by_id[e["id"]].blocking is False
    assert by_id[f["id"]].following is False  # oneself

    back = eve.account_relationships([f["id"]])[0]
    assert back.followed_by is True and back.muting is False
    assert eve.account_block(f["id"]).blocking is True
    assert fay.account_relationships([e["id"]])[0].following is False  # a block breaks the follow


def test_relationship_with_one_account(live_server: LiveServer) -> None:
    """Mastodon.py sends a single account as `?id=1` (a list as `?id[]=1&id[]=2`); Mastodon
    reads both forms (`Array(params[:id])`)."""
    gus, g = sign_up(live_server, "gus")
    _, h = sign_up(live_server, "hal")
    assert gus.account_follow(h["id"]).following is True
    rels = gus.account_relationships(h["id"])
    assert [(str(r.id), r.following) for r in rels] == [(h["id"], True)]
    assert str(gus.account_relationships(g["id"])[0].id) == g["id"]


def test_instance_and_version_detection(live_server: LiveServer) -> None:
    api = client(live_server)
    version = api.retrieve_mastodon_version()
    assert parse_version_string(version) >= (4, 0, 0), version

    instance = api.instance()  # v2 once the version says >= 4.0.0; v1 otherwise
    assert instance.domain == live_server.url.removeprefix("http://")
    assert instance.title
    assert instance.registrations.enabled is True
    assert instance.configuration.statuses.max_characters == 500
    assert instance.configuration.statuses.max_media_attachments == 4
    assert instance.api_versions.mastodon >= 1
    assert len(instance.rules) == 4 and all(r.text for r in instance.rules)

    v1 = api.instance_v1()
    assert v1.uri == instance.domain
    assert v1.title == instance.title

    strict = Mastodon(api_base_url=live_server.url, version_check_mode="created")
    assert parse_version_string(strict.retrieve_mastodon_version()) >= (4, 0, 0)
    assert strict.instance().domain == instance.domain
