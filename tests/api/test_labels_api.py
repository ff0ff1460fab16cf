"""Labels over the client API: the user's choices (GET/PUT /api/parvis/v1/labels/preferences,
validated field by field), applied as Mastodon `filtered` results (warn), left out (hide) or not
at all (show), never on one's own posts; `parvis_labels` on accounts; and the moderators'
signal endpoints (list, evidence, confirm, dismiss), refused to everyone else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import label_signals
from tests.builders import User, error_of, make_user, ok
from tests.services.labels_world import Clock, clock, clockwork_bot, detect, staff

PREFS = "/api/parvis/v1/labels/preferences"
SIGNALS = "/api/parvis/v1/admin/label_signals"


@pytest.fixture
def ticking(parvis: Parvis) -> Iterator[Clock]:
    with clock(parvis) as c:
        yield c


def _labelled_bot(client: TestClient, parvis: Parvis, ticking: Clock) -> User:
    bot = clockwork_bot(client, ticking, posts=12)
    mod = staff(client, parvis)
    detect(parvis)
    [signal] = parvis.runtime.read(lambda w: w.store.labels.open_signals())
    parvis.runtime.write(lambda w: label_signals.confirm(w, int(mod.id), signal.id))
    return bot


def _public(user: User) -> list[dict[str, Any]]:
    return list(ok(user.get("/api/v1/timelines/public?limit=40")))


def test_preferences_have_defaults_and_are_validated(client: TestClient) -> None:
    user = make_user(client)
    assert ok(user.get(PREFS)) == {"bot": "show", "automated": "warn", "coordinated": "warn"}
    changed = ok(user.put(PREFS, json={"automated": "hide", "bot": "warn"}))
    assert changed == {"bot": "warn", "automated": "hide", "coordinated": "warn"}
    assert ok(user.put(PREFS, data={"coordinated": "show"}))["coordinated"] == "show"
    assert ok(user.get(PREFS)) == {"bot": "warn", "automated": "hide", "coordinated": "show"}
    assert "spam: not a label" in error_of(user.put(PREFS, json={"spam": "hide"}), 422)
    message = error_of(user.put(PREFS, json={"automated": "delete"}), 422)
    assert "automated: one of show, warn, hide" in message
    error_of(user.put(PREFS, json={"automated": ["hide"]}), 422)
    error_of(user.put(PREFS, json={}), 422)
    assert ok(user.get(PREFS))["automated"] == "hide"  # nothing saved by a refused request
    error_of(client.get(PREFS), 401)
    error_of(client.put(PREFS, json={"bot": "hide"}), 401)


def test_warn_hide_and_show_on_the_timelines(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    bot = _labelled_bot(client, parvis, ticking)
    reader, booster = make_user(client), make_user(client)
    ok(reader.post(f"/api/v1/accounts/{booster.id}/follow"))
    boosted = ok(booster.post(f"/api/v1/statuses/{_public(bot)[0]['id']}/reblog"))
    plain = booster.status("An ordinary post")
    home = {s["id"]: s for s in ok(reader.get("/api/v1/timelines/home"))}

    page = {s["id"]: s for s in _public(reader)}
    from_bot = [s for s in page.values() if s["account"]["id"] == bot.id]
    assert from_bot and all(s["filtered"] for s in from_bot)
    [result] = from_bot[0]["filtered"]
    assert result["filter"]["id"] == "label-automated"
    assert result["filter"]["filter_action"] == "warn"
    assert result["filter"]["title"] == "Automated account"
    assert home[boosted["id"]]["filtered"][0]["filter"]["id"] == "label-automated"
    assert home[plain["id"]]["filtered"] == []
    assert page[plain["id"]]["filtered"] == []
    assert all(s["filtered"] == [] for s in _public(bot))  # never on one's own posts

    ok(reader.put(PREFS, json={"automated": "hide"}))
    hidden = _public(reader)
    home_ids = {s["id"] for s in ok(reader.get("/api/v1/timelines/home"))}
    assert plain["id"] in home_ids and boosted["id"] not in home_ids
    assert plain["id"] in {s["id"] for s in hidden}
    assert not [s for s in hidden if (s["reblog"] or s)["account"]["id"] == bot.id]
    # Opened on purpose, the post is there, behind the warning.
    opened = ok(reader.get(f"/api/v1/statuses/{from_bot[0]['id']}"))
    assert opened["filtered"][0]["filter"]["filter_action"] == "warn"

    ok(reader.put(PREFS, json={"automated": "show"}))
    assert all(s["filtered"] == [] for s in _public(reader))


def test_self_declared_bots_and_the_readers_language(client: TestClient, parvis: Parvis) -> None:
    bot, reader = make_user(client), make_user(client)
    ok(bot.patch("/api/v1/accounts/update_credentials", data={"bot": "true"}))
    bot.status("Beep, an hourly reading")
    assert ok(bot.get(f"/api/v1/accounts/{bot.id}"))["parvis_labels"] == ["bot"]
    assert all(s["filtered"] == [] for s in _public(reader))  # bots: shown by default
    parvis.runtime.write(lambda w: w.store.accounts.update_user(int(reader.id), {"locale": "fr"}))
    ok(reader.put(PREFS, json={"bot": "warn"}))
    [status] = _public(reader)
    assert status["filtered"][0]["filter"]["id"] == "label-bot"
    assert status["filtered"][0]["filter"]["title"] == "Bot (autodéclaré)"


def test_accounts_carry_their_labels(client: TestClient, parvis: Parvis, ticking: Clock) -> None:
    bot = _labelled_bot(client, parvis, ticking)
    reader = make_user(client)
    assert ok(reader.get(f"/api/v1/accounts/{bot.id}"))["parvis_labels"] == ["automated"]
    assert ok(reader.get(f"/api/v1/accounts/{reader.id}"))["parvis_labels"] == []
    [status] = [s for s in _public(reader)[:1]]
    assert status["account"]["parvis_labels"] == ["automated"]


def test_moderators_review_signals_over_the_api(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    bot = clockwork_bot(client, ticking, posts=12)
    mod, admin = staff(client, parvis), staff(client, parvis, "admin")
    detect(parvis)
    [listed] = ok(mod.get(SIGNALS))
    assert listed["kind"] == "automation" and listed["label"] == "automated"
    assert [a["id"] for a in listed["accounts"]] == [bot.id]
    assert listed["summary"]["posts"] == 12 and "rhythm" in listed["summary"]["signs"]
    assert "evidence" not in listed
    shown = ok(mod.get(f"{SIGNALS}/{listed['id']}"))
    rhythm = next(c for c in shown["evidence"]["components"] if c["name"] == "rhythm")
    assert rhythm["threshold"] == 0.2 and rhythm["value"] < 0.2
    assert ok(mod.get(f"{SIGNALS}?kind=coordination")) == []
    assert len(ok(mod.get(f"{SIGNALS}?order=newest"))) == 1
    assert "kind" in error_of(mod.get(f"{SIGNALS}?kind=spam"), 422)
    assert "order" in error_of(mod.get(f"{SIGNALS}?order=random"), 422)
    error_of(mod.get(f"{SIGNALS}/12345"), 404)
    error_of(mod.get(f"{SIGNALS}/nope"), 404)

    assert "duration" in error_of(
        mod.post(f"{SIGNALS}/{listed['id']}/confirm", json={"duration": 60}), 422
    )
    assert "rule_id" in error_of(
        mod.post(f"{SIGNALS}/{listed['id']}/confirm", json={"rule_id": "77"}), 422
    )
    done = ok(
        admin.post(
            f"{SIGNALS}/{listed['id']}/confirm",
            json={"explanation": "Posts every 30 minutes, day and night.", "duration": 86400 * 90},
        )
    )
    assert done["signal"]["state"] == "confirmed"
    [decision] = done["decisions"]
    assert decision["action"] == "label_account" and decision["label"] == "automated"
    assert decision["account_id"] == bot.id and decision["ends_at"] is not None
    assert (
        ok(client.get(decision["statement"].removeprefix("https://parvis.test")))["puid"]
        == (decision["puid"])
    )
    assert ok(mod.get(SIGNALS)) == []
    assert "already confirmed" in error_of(mod.post(f"{SIGNALS}/{listed['id']}/confirm"), 422)
    assert "already" in error_of(
        mod.post(f"{SIGNALS}/{listed['id']}/dismiss", json={"reason": "x"}), 422
    )


def test_dismissing_over_the_api_and_who_may(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    clockwork_bot(client, ticking, posts=12)
    mod = staff(client, parvis)
    user_with_admin_scopes = staff(client, parvis, "user")
    plain_moderator_token = make_user(client)
    parvis.runtime.write(
        lambda w: w.store.accounts.update_user(int(plain_moderator_token.id), {"role": "moderator"})
    )
    detect(parvis)
    [listed] = ok(mod.get(SIGNALS))
    error_of(user_with_admin_scopes.get(SIGNALS), 403)
    error_of(user_with_admin_scopes.get(f"{SIGNALS}/{listed['id']}"), 403)
    error_of(
        user_with_admin_scopes.post(f"{SIGNALS}/{listed['id']}/dismiss", json={"reason": "x"}), 403
    )
    error_of(plain_moderator_token.get(SIGNALS), 403)  # no admin:read scope
    error_of(client.get(SIGNALS), 401)
    assert "reason" in error_of(mod.post(f"{SIGNALS}/{listed['id']}/dismiss", json={}), 422)
    gone = ok(mod.post(f"{SIGNALS}/{listed['id']}/dismiss", data={"reason": "A declared feed."}))
    assert gone["state"] == "dismissed" and gone["decision_note"] == "A declared feed."
    assert gone["decided_by"] == mod.id
    assert ok(mod.get(SIGNALS)) == []
