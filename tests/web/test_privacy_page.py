"""The privacy page, generated from the configuration: in English and in French, with a "How
long we keep it" table whose every figure follows the settings; the client API states the same
facts (the same text, in English); an operator's own policy replaces it."""

from __future__ import annotations

import html
import re

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import policies
from parvis.web import i18n

FR = {"Accept-Language": "fr"}


def prose(page: str) -> str:
    """The policy itself: the page's prose block."""
    found = re.search(r'<div class="prose"[^>]*>(.*?)</div>\s*</main>', page, re.S)
    if found is None:
        found = re.search(r'<div class="prose"[^>]*>(.*)</table>', page, re.S)
        assert found is not None, page
        return found.group(1) + "</table>"
    return found.group(1)


def table(page: str) -> dict[str, str]:
    """The retention table as {what: how long}, unescaped."""
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', page)
    return {html.unescape(what): html.unescape(how_long) for what, how_long in rows}


def test_the_english_page_says_how_long_each_thing_is_kept(client: TestClient) -> None:
    page = client.get("/privacy")
    assert page.status_code == 200
    assert '<div class="prose" lang="en">' in page.text
    assert '<h2 id="retention">How long we keep it</h2>' in page.text
    kept = table(page.text)
    assert kept["Network (IP) address at sign-up and at each sign-in"] == (
        "7 days after it was last seen, then deleted."
    )
    assert "erased after 30 days" in kept["Your account and profile"]
    assert kept["Rate limit counters (per network address)"] == "30 minutes at most."
    assert kept["Rankings served in the ranked feeds, with their inputs"] == "30 days"
    assert kept["Access logs of the web server in front of Parvis"] == "Not kept."
    assert kept["End-to-end encrypted messages (ciphertext)"] == (
        "Until the conversation or your account is deleted."
    )
    assert "Backups" in kept and "Notifications" in kept
    assert "kept 7 days after it was last seen" in page.text  # and in the text above it


def test_the_api_states_the_same_facts_in_english(client: TestClient) -> None:
    api = client.get("/api/v1/instance/privacy_policy").json()["content"]
    web = client.get("/privacy", headers={"Accept-Language": "en"}).text
    assert api.strip() == prose(web).strip()


@pytest.mark.parametrize(
    "parvis",
    [
        {
            "ip_retention_days": 0,
            "account_deletion_grace_days": 0,
            "feed_log_days": 0,
            "access_log_retention_days": 1,
        }
    ],
    indirect=True,
)
def test_every_figure_follows_the_settings(client: TestClient) -> None:
    kept = table(client.get("/privacy").text)
    assert kept["Network (IP) address at sign-up and at each sign-in"] == "Never stored."
    assert kept["Your account and profile"] == (
        "Until you delete your account: it is then erased at once."
    )
    assert kept["Rankings served in the ranked feeds, with their inputs"] == (
        "Only your latest ranking of each feed, for an hour."
    )
    assert kept["Access logs of the web server in front of Parvis"] == "1 day"
    api = client.get("/api/v1/instance/privacy_policy").json()["content"]
    assert "the database stores no IP address" in api
    assert "keeps its access logs 1 day" in api
    french = table(client.get("/privacy", headers=FR).text)
    assert french["Adresse réseau (IP) à l’inscription et à chaque connexion"] == (
        "Jamais enregistrée."
    )
    assert french["Journaux d’accès du serveur web placé devant Parvis"] == "1 jour"


@pytest.mark.parametrize(
    "parvis",
    [{"ip_retention_days": 14, "account_deletion_grace_days": 45, "access_log_retention_days": 3}],
    indirect=True,
)
def test_the_french_page(client: TestClient, parvis: Parvis) -> None:
    page = client.get("/privacy", headers=FR)
    assert page.status_code == 200 and page.headers["content-language"] == "fr"
    assert '<div class="prose" lang="fr">' in page.text
    assert '<h2 id="retention">Combien de temps nous les gardons</h2>' in page.text
    kept = table(page.text)
    assert kept["Adresse réseau (IP) à l’inscription et à chaque connexion"] == (
        "14 jours après la dernière fois qu’elle a été vue, puis supprimée."
    )
    assert "effacé au bout de 45 jours" in kept["Votre compte et votre profil"]
    assert kept["Journaux d’accès du serveur web placé devant Parvis"] == "3 jours"
    counters = "Compteurs des limites de requêtes (par adresse réseau)"
    assert kept[counters] == "30 minutes au plus."
    assert "<strong>Votre compte</strong>\u00a0: nom d’utilisateur" in page.text
    # Every row of the English table has its French counterpart, none left in English.
    english = policies.retention(parvis.settings)
    french = policies.retention(parvis.settings, i18n.translations("fr"))
    assert len(french) == len(english) == len(kept)
    assert all(f.how_long != e.how_long for f, e in zip(french, english, strict=True))


@pytest.mark.parametrize(
    "parvis", [{"privacy_policy": "Nous gardons peu.\n\nEt <rien> d'autre."}], indirect=True
)
def test_an_operators_policy_replaces_the_default(client: TestClient) -> None:
    for headers in ({}, FR):
        page = client.get("/privacy", headers=headers).text
        assert "<p>Nous gardons peu.</p>" in page and "Et &lt;rien&gt;" in page
        assert 'id="retention"' not in page
        assert '<div class="prose">' in page  # its language is the operator's: not stated
