"""The interface in French and English: the French catalogue holds every string of the web app,
translated (no fuzzy entry), with the placeholders of its source and French typography; the
locale is negotiated; pages and relative dates come out in French through the real app."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

from parvis.cli.translations import extract_messages
from parvis.web import i18n

PO = i18n.CATALOGUES / "fr" / "LC_MESSAGES" / "messages.po"
NNBSP, NBSP = "\u202f", "\u00a0"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%%")


@pytest.fixture(scope="module")
def french() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f, locale="fr")


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    catalog: Catalog = extract_messages()
    return catalog


def messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def key(message: Message) -> tuple[Any, str | None]:
    return message.id, message.context


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


# --- the catalogue --------------------------------------------------------------------------


def test_the_french_catalogue_has_exactly_the_strings_of_the_web_app(
    french: Catalog, extracted: Catalog
) -> None:
    assert len(extracted) > 50  # the extraction did find the templates
    ours = {key(m) for m in messages(french)}
    missing = [m.id for m in messages(extracted) if key(m) not in ours]
    assert not missing, f"not in fr/messages.po (run `parvis i18n update`): {missing}"
    found = {key(m) for m in messages(extracted)}
    stale = [m.id for m in messages(french) if key(m) not in found]
    assert not stale, f"no longer in the web app (run `parvis i18n update`): {stale}"


def test_every_string_is_translated_and_reviewed(french: Catalog) -> None:
    untranslated = [m.id for m in messages(french) if not all(forms(m))]
    assert not untranslated, f"not translated into French: {untranslated}"
    fuzzy = [m.id for m in messages(french) if m.fuzzy]
    assert not fuzzy, f"fuzzy (to review, then remove the flag): {fuzzy}"
    assert french.plural_forms == "nplurals=2; plural=(n > 1);"


def placeholders(text: str) -> set[str]:
    return {m.group(1) or "%%" for m in PLACEHOLDER.finditer(text)}


def test_translations_keep_the_placeholders_of_their_source(french: Catalog) -> None:
    wrong = []
    for m in messages(french):
        sources = list(m.id) if isinstance(m.id, tuple) else [m.id]
        allowed = set().union(*(placeholders(s) for s in sources))
        strings = forms(m)
        for i, string in enumerate(strings):
            if not string:
                continue  # untranslated: another test says so
            # the singular form keeps the singular's placeholders, the others the plural's
            needed = placeholders(sources[0] if i == 0 else sources[-1])
            if i == 0 and len(strings) > 1:
                needed -= {"num", "count"}  # "une publication" may say the number in words
            if not needed <= placeholders(string) <= allowed:
                wrong.append((m.id, string))
    assert not wrong, f"placeholders differ from the source: {wrong}"
    stray = [s for m in messages(french) for s in forms(m) if "%" in PLACEHOLDER.sub("", s)]
    assert not stray, f"a lone % (write %%): {stray}"
    checked = [(m.id, [str(e) for e in errors]) for m, errors in french.check()]
    assert not checked, f"Babel's checks (python-format, plural forms): {checked}"


def typography_errors(text: str) -> list[str]:
    """French typography: narrow no-break space before ; ! ?, no-break space before : and
    inside guillemets, typographic apostrophes."""
    text = re.sub(r"<[^>]*>", "", PLACEHOLDER.sub("x", text))  # markup and placeholders aside
    errors = []
    if "'" in text:
        errors.append("straight apostrophe ' (use ’)")
    for match in re.finditer(r"(.)([;!?])", text):
        if match.group(1) not in (NNBSP, "!", "?"):
            errors.append(f"{match.group(0)!r}: U+202F narrow no-break space before {match[2]}")
    for match in re.finditer(r"(.):(.?)", text):
        between_digits = match[1].isdigit() and match[2].isdigit()
        if match.group(1) != NBSP and not between_digits and match[2] != "/":
            errors.append(f"{match.group(0)!r}: U+00A0 no-break space before :")
    if re.search(r"«(?!\u00a0)|(?<!\u00a0)»", text):
        errors.append("U+00A0 no-break space inside « »")
    return errors


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("Pas encore de compte\u202f?", True),
        ("Pas encore de compte ?", False),
        ("Pas encore de compte?", False),
        ("Attention\u00a0: %(name)s", True),
        ("Attention : %(name)s", False),
        ("Bravo\u202f!?", True),
        ("« fil »", False),
        ("«\u00a0fil\u00a0»", True),
        ("l'accueil", False),
        ("l’accueil", True),
        ('<a href="/search?q=x">Chercher</a> à 10:30', True),
    ],
)
def test_the_typography_check(text: str, ok: bool) -> None:
    assert (typography_errors(text) == []) is ok


def test_french_typography(french: Catalog) -> None:
    wrong = {
        string: errors
        for m in messages(french)
        for string in forms(m)
        if (errors := typography_errors(string))
    }
    assert not wrong, f"French typography: {wrong}"


# --- negotiation and dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chosen", "accept", "expected"),
    [
        (None, None, "en"),
        (None, "", "en"),
        (None, "fr", "fr"),
        (None, "fr-CA,fr;q=0.9,en;q=0.8", "fr"),
        (None, "en-GB,en;q=0.9,fr;q=0.8", "en"),
        (None, "de-DE,de;q=0.9,fr;q=0.5", "fr"),  # the first language the interface speaks
        (None, "en;q=0.4,fr;q=0.8", "fr"),  # by quality, not by order
        (None, "fr;q=0", "en"),  # refused
        (None, "fr;q=oops", "en"),
        (None, "de, it", "en"),
        ("fr", "en", "fr"),  # the user's own choice wins
        ("en", "fr", "en"),
        ("fr_FR", None, "fr"),
        ("klingon", "fr", "fr"),  # an unknown choice falls back to the browser
    ],
)
def test_negotiate(chosen: str | None, accept: str | None, expected: str) -> None:
    assert i18n.negotiate(chosen=chosen, accept_language=accept) == expected


def test_supported() -> None:
    assert i18n.supported("FR-be") == "fr"
    assert i18n.supported(" en ") == "en"
    assert i18n.supported("de") is None
    assert i18n.supported(None) is None


def test_relative_and_full_dates_in_french() -> None:
    now = datetime(2026, 3, 14, 15, 9, tzinfo=UTC)
    assert i18n.ago(now - timedelta(minutes=3), "fr", now) == "il y a 3 minutes"
    assert i18n.ago(now - timedelta(minutes=3), "en", now) == "3 minutes ago"
    assert i18n.ago(now - timedelta(hours=2), "fr", now) == "il y a 2 heures"
    assert i18n.ago(now - timedelta(days=2), "fr", now) == "il y a 2 jours"
    assert "mars 2026" in i18n.when(now, "fr")
    assert "Mar 14, 2026" in i18n.when(now, "en")


def test_the_french_catalogue_is_loaded() -> None:
    fr = i18n.translations("fr")
    assert fr.gettext("Log in") == "Se connecter"
    assert fr.ngettext("%(num)s post", "%(num)s posts", 2) == "%(num)s publications"
    assert i18n.translations("en").gettext("Log in") == "Log in"


# --- through the real app -------------------------------------------------------------------


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_up(client: TestClient, username: str, **headers: str) -> None:
    page = client.get("/signup", headers=headers)
    response = client.post(
        "/signup",
        data={
            "csrf": csrf(page.text),
            "username": username,
            "email": f"{username}@example.org",
            "password": "correct horse battery",
            "agreement": "on",
        },
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_a_visitor_whose_browser_asks_for_french_gets_french(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert page.headers["content-language"] == "fr"
    assert "Accept-Language" in page.headers["vary"]
    assert "Se connecter" in page.text and "Mot de passe" in page.text
    assert "Pas encore de compte\u202f?" in page.text
    english = client.get("/login", headers={"Accept-Language": "en-US,en"})
    assert '<html lang="en">' in english.text and "Log in" in english.text


def test_the_language_switch_for_visitors(client: TestClient) -> None:
    page = client.get("/login")
    assert '<html lang="en">' in page.text
    switched = client.post(
        "/language?next=/login",
        data={"csrf": csrf(page.text), "lang": "fr"},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "en"})  # the switch wins
    assert '<html lang="fr">' in page.text and "Se connecter" in page.text


def test_the_users_setting_says_french(client: TestClient) -> None:
    sign_up(client, "camille")
    home = client.get("/home", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in home.text
    client.post("/language", data={"csrf": csrf(home.text), "lang": "fr"})
    client.cookies.delete("parvis_lang")  # only the account's setting remains
    home = client.get("/home", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in home.text
    assert "Accueil" in home.text and "Se déconnecter" in home.text
    posted = client.post(
        "/statuses",
        data={"csrf": csrf(home.text), "status": "Bonjour le parvis", "visibility": "public"},
        headers={"Accept-Language": "en"},
    )
    assert posted.status_code == 200
    home = client.get("/home", headers={"Accept-Language": "en"})
    assert "Bonjour le parvis" in home.text
    assert re.search(r"<time [^>]*>il y a \d+ secondes?</time>", home.text), home.text
