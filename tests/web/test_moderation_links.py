"""Moderators find a "Moderate" link on posts and profiles (a decision on their own
initiative); nobody else sees it."""

from __future__ import annotations

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import accounts
from tests.builders import make_user
from tests.web.browser import browser, log_in


def test_only_moderators_see_the_moderate_links(client: TestClient, parvis: Parvis) -> None:
    author, mod, user = make_user(client), make_user(client), make_user(client)
    parvis.runtime.write(lambda w: accounts.set_role(w, int(mod.id), "moderator"))
    sid = author.status("Hello")["id"]
    pages = (f"/@{author.username}/{sid}", f"/@{author.username}")
    links = (f"/moderation/cases/new?status={sid}", f"/moderation/cases/new?account={author.id}")
    as_mod, as_user = browser(client), browser(client)
    log_in(as_mod, f"{mod.username}@example.org", "correct horse battery")
    log_in(as_user, f"{user.username}@example.org", "correct horse battery")
    for page, link in zip(pages, links, strict=True):
        assert link in as_mod.get(page).text
        assert link not in as_user.get(page).text
        assert link not in browser(client).get(page).text
    opened = as_mod.get(links[0])
    assert opened.status_code == 200 and "Hello" in opened.text
