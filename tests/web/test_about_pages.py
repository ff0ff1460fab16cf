"""The server's public pages: about, privacy and the transparency figures, for visitors."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import rules
from tests.builders import make_user


def test_about_privacy_and_transparency_for_visitors(client: TestClient, parvis: Parvis) -> None:
    about = client.get("/about")
    assert about.status_code == 200
    for rule in parvis.settings.rules:
        assert rule in about.text
    privacy = client.get("/privacy")
    assert privacy.status_code == 200 and "Argon2" in privacy.text

    author = make_user(client)
    post = author.status("un message signalé")
    page = client.get(f"/report?status={post['id']}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    sent = client.post(
        f"/report?status={post['id']}",
        data={
            "csrf": csrf.group(1),
            "category": "racial_hatred",
            "explanation": "Incitement to hatred",
            "good_faith": "on",
        },
    )
    assert sent.status_code == 200, sent.text
    report = client.get("/transparency")
    assert report.status_code == 200
    row = re.search(
        r"Incitement to racial hatred</th>\s*<td[^>]*>.*?</td>\s*<td>(\d+)</td>", report.text
    )
    assert row is not None and row.group(1) == "1"


def test_about_pages_in_french(client: TestClient) -> None:
    page = client.get("/transparency", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert page.headers["content-language"] == "fr"


def test_a_changed_rule_shows_everywhere_the_rules_are_read(
    client: TestClient, parvis: Parvis
) -> None:
    """The about page, the landing page and the terms of service read the versioned rules, not
    the settings they were seeded from."""
    new = "No harassment, threats, doxxing or incitement to violence."
    parvis.runtime.write(lambda w: rules.change(w, "2", new))
    assert new in client.get("/about").text
    assert new in client.get("/").text
    terms = client.get("/api/v1/instance/terms_of_service").json()["content"]
    assert "doxxing" in terms
    assert parvis.settings.rules[1] not in terms
