"""Labels in the web app, as people use it: a moderator reads the signals (list, evidence) and
confirms or dismisses one; the labelled account's profile shows the badge with the statement of
reasons; a reader's timeline folds the account's posts behind the label with "Show anyway", or
leaves them out, as chosen on Settings → Labels; everyone else is refused the signals."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import accounts
from tests.builders import User
from tests.services.labels_world import Clock, campaign, clock, clockwork_bot, detect
from tests.web.browser import browser, csrf, log_in, sign_up, submit


@pytest.fixture
def ticking(parvis: Parvis) -> Iterator[Clock]:
    with clock(parvis) as c:
        yield c


def _moderator(client: TestClient, parvis: Parvis) -> TestClient:
    web = browser(client)
    name = sign_up(web)
    found = client.get(f"/api/v1/accounts/lookup?acct={name}").json()["id"]
    parvis.runtime.write(lambda w: accounts.set_role(w, int(found), "moderator"))
    return web


def _signal_id(page: str) -> str:
    found = re.search(r'href="/moderation/signals/(\d+)"', page)
    assert found, "no signal listed"
    return found.group(1)


def _signed_in(client: TestClient, user: User) -> TestClient:
    web = browser(client)
    log_in(web, f"{user.username}@example.org", "correct horse battery")
    return web


def test_a_moderator_confirms_a_signal_and_the_label_shows(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    bot = clockwork_bot(client, ticking, posts=12)
    mod = _moderator(client, parvis)
    detect(parvis)
    listing = mod.get("/moderation/signals")
    assert listing.status_code == 200
    assert f"@{bot.username}" in listing.text and "score" in listing.text
    sid = _signal_id(listing.text)
    page = mod.get(f"/moderation/signals/{sid}")
    assert page.status_code == 200
    for words in ("Posting rhythm", "Threshold", "0.2", "Water level at the dam", "Confirm"):
        assert words in html.unescape(page.text), words
    # A refused confirmation decides nothing and says why.
    refused = mod.post(
        f"/moderation/signals/{sid}/confirm",
        data={"csrf": csrf(page.text), "rule_id": "99", "duration": ""},
    )
    assert refused.status_code == 422 and "rule_id" in refused.text
    done = mod.post(
        f"/moderation/signals/{sid}/confirm",
        data={"csrf": csrf(page.text), "rule_id": "3", "duration": "", "explanation": ""},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "confirmed" in mod.get(done.headers["location"]).text
    assert mod.get("/moderation/signals").text.count('href="/moderation/signals/') == 0

    profile = html.unescape(client.get(f"/@{bot.username}").text)
    assert "Automated account — confirmed by the moderators" in profile
    assert "/api/parvis/v1/transparency/statements/parvis-" in profile
    own = html.unescape(_signed_in(client, bot).get(f"/@{bot.username}").text)
    assert re.search(r'href="/decisions/\d+">Statement of reasons', own)


def test_readers_choose_warn_or_hide_on_the_settings_page(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    people = campaign(client, ticking, members=3)
    mod = _moderator(client, parvis)
    detect(parvis)
    sid = _signal_id(mod.get("/moderation/signals?kind=coordination").text)
    done = submit(mod, f"/moderation/signals/{sid}", f"/moderation/signals/{sid}/confirm")
    assert done.status_code == 303
    reader = browser(client)
    sign_up(reader)
    timeline = html.unescape(reader.get("/local").text)
    assert '<details class="filtered">' in timeline
    assert "Part of a coordinated group" in timeline and "Show anyway" in timeline
    assert "The election was stolen" in timeline  # folded, not gone

    settings = reader.get("/settings/labels")
    assert settings.status_code == 200 and 'value="warn" checked' in settings.text
    bad = reader.post(
        "/settings/labels", data={"csrf": csrf(settings.text), "coordinated": "vanish"}
    )
    assert bad.status_code == 422 and "coordinated: one of show, warn, hide" in bad.text
    saved = reader.post(
        "/settings/labels",
        data={"csrf": csrf(settings.text), "coordinated": "hide", "bot": "show"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert 'id="coordinated-hide" name="coordinated" value="hide" checked' in (
        reader.get("/settings/labels").text
    )
    hidden = html.unescape(reader.get("/local").text)
    assert "The election was stolen" not in hidden
    # The account's own page, asked for, keeps the posts behind the warning.
    profile = html.unescape(reader.get(f"/@{people[0].username}").text)
    assert "The election was stolen" in profile and "Show anyway" in profile
    # Their own posts are never folded for the labelled accounts themselves.
    theirs = html.unescape(_signed_in(client, people[0]).get("/local").text)
    assert "The election was stolen" in theirs


def test_dismissing_and_who_may_see_the_signals(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    clockwork_bot(client, ticking, posts=12)
    detect(parvis)
    visitor = browser(client)
    assert visitor.get("/moderation/signals", follow_redirects=False).status_code == 303
    someone = browser(client)
    sign_up(someone)
    assert someone.get("/moderation/signals").status_code == 403
    mod = _moderator(client, parvis)
    sid = _signal_id(mod.get("/moderation/signals").text)
    assert someone.get(f"/moderation/signals/{sid}").status_code == 403
    page = mod.get(f"/moderation/signals/{sid}")
    refused = someone.post(
        f"/moderation/signals/{sid}/dismiss",
        data={"csrf": csrf(someone.get("/settings/labels").text), "reason": "no"},
    )
    assert refused.status_code == 403
    empty = mod.post(f"/moderation/signals/{sid}/dismiss", data={"csrf": csrf(page.text)})
    assert empty.status_code == 422 and "reason" in empty.text
    done = mod.post(
        f"/moderation/signals/{sid}/dismiss",
        data={"csrf": csrf(page.text), "reason": "A declared sensor."},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = mod.get(done.headers["location"]).text
    assert "Dismissed" in after and "A declared sensor." in after
    assert mod.get("/moderation/signals/123").status_code == 404
