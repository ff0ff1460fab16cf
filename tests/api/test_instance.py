"""What the server says about itself: instance v1/v2, rules, preferences, NodeInfo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from tests.builders import make_user

V1_KEYS = {
    "uri",
    "title",
    "short_description",
    "description",
    "email",
    "version",
    "urls",
    "stats",
    "thumbnail",
    "languages",
    "registrations",
    "approval_required",
    "invites_enabled",
    "configuration",
    "contact_account",
    "rules",
}
V2_KEYS = {
    "domain",
    "title",
    "version",
    "source_url",
    "description",
    "usage",
    "thumbnail",
    "icon",
    "languages",
    "configuration",
    "registrations",
    "api_versions",
    "contact",
    "rules",
}


def test_instance_v1(client: TestClient) -> None:
    alice = make_user(client)
    make_user(client)
    alice.status("one")
    alice.status("two")
    r = client.get("/api/v1/instance")
    assert r.status_code == 200
    body = r.json()
    assert body.keys() >= V1_KEYS
    assert body["uri"] == "parvis.test"
    assert body["version"] == "4.3.0 (compatible; Parvis 0.1.0)"
    assert body["languages"] == ["en", "fr"]
    assert body["registrations"] is True
    assert body["approval_required"] is False
    assert body["urls"]["streaming_api"] == "wss://parvis.test"
    assert body["thumbnail"] == "https://parvis.test/static/header.png"
    assert body["stats"] == {"user_count": 2, "status_count": 2, "domain_count": 0}
    config = body["configuration"]
    assert config["statuses"] == {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    }
    media = config["media_attachments"]
    assert set(media["supported_mime_types"]) == {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
    }
    assert media["image_size_limit"] == 16 * 1024 * 1024
    assert media["image_matrix_limit"] == 40_000_000
    assert config["accounts"]["max_featured_tags"] > 0
    assert {
        "max_options",
        "max_characters_per_option",
        "min_expiration",
        "max_expiration",
    } <= config["polls"].keys()
    assert [rule["id"] for rule in body["rules"]] == ["1", "2", "3", "4"]
    # The thumbnail it names is served.
    assert client.get("/static/header.png").status_code == 200


def test_instance_v2(client: TestClient) -> None:
    make_user(client)
    r = client.get("/api/v2/instance")
    assert r.status_code == 200
    body = r.json()
    assert body.keys() >= V2_KEYS
    assert body["domain"] == "parvis.test"
    assert body["title"] == "Parvis"
    assert body["version"].startswith("4.3.0 (compatible; Parvis ")
    assert body["usage"]["users"]["active_month"] == 1
    assert body["thumbnail"]["url"] == "https://parvis.test/static/header.png"
    assert body["registrations"]["enabled"] is True
    assert body["registrations"]["approval_required"] is False
    assert body["api_versions"]["mastodon"] >= 2
    assert body["contact"] == {"email": "", "account": None}
    config = body["configuration"]
    assert config["urls"]["streaming"] == "wss://parvis.test"
    assert config["accounts"]["max_pinned_statuses"] == 5
    assert config["statuses"]["max_characters"] == 500
    assert config["statuses"]["characters_reserved_per_url"] == 23
    assert config["media_attachments"]["image_size_limit"] == 16 * 1024 * 1024
    assert config["media_attachments"]["image_matrix_limit"] == 40_000_000
    assert config["translation"] == {"enabled": False}
    assert body["rules"][0] == {
        "id": "1",
        "hint": "",
        "text": "Respect the law: illegal content is removed after notice.",
    }


@pytest.mark.parametrize(
    "parvis",
    [
        {
            "registrations": "approval",
            "max_status_chars": 1000,
            "contact_email": "admin@parvis.test",
            "rules": ["Be kind.", "No spam."],
        }
    ],
    indirect=True,
)
def test_instance_follows_settings(client: TestClient) -> None:
    v1 = client.get("/api/v1/instance").json()
    assert v1["registrations"] is True
    assert v1["approval_required"] is True
    assert v1["email"] == "admin@parvis.test"
    assert v1["configuration"]["statuses"]["max_characters"] == 1000
    v2 = client.get("/api/v2/instance").json()
    assert v2["registrations"]["enabled"] is True
    assert v2["registrations"]["approval_required"] is True
    assert v2["contact"]["email"] == "admin@parvis.test"
    assert v2["configuration"]["statuses"]["max_characters"] == 1000
    rules = client.get("/api/v1/instance/rules").json()
    assert rules == [
        {"id": "1", "text": "Be kind.", "hint": ""},
        {"id": "2", "text": "No spam.", "hint": ""},
    ]
    assert v2["rules"] == rules
    assert client.get("/nodeinfo/2.0").json()["openRegistrations"] is True


@pytest.mark.parametrize("parvis", [{"registrations": "closed"}], indirect=True)
def test_closed_registrations(client: TestClient) -> None:
    assert client.get("/api/v1/instance").json()["registrations"] is False
    assert client.get("/api/v2/instance").json()["registrations"]["enabled"] is False
    assert client.get("/nodeinfo/2.1").json()["openRegistrations"] is False


def test_rules_and_empty_lists(client: TestClient) -> None:
    rules = client.get("/api/v1/instance/rules")
    assert rules.status_code == 200
    assert [r["id"] for r in rules.json()] == ["1", "2", "3", "4"]
    assert all(r["text"] and r["hint"] == "" for r in rules.json())
    for path in ("/api/v1/custom_emojis", "/api/v1/instance/peers"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.json() == [], path


def test_nodeinfo_discovery(client: TestClient) -> None:
    alice = make_user(client)
    alice.status("hello")
    r = client.get("/.well-known/nodeinfo")
    assert r.status_code == 200
    links = {link["rel"]: link["href"] for link in r.json()["links"]}
    assert links == {
        "http://nodeinfo.diaspora.software/ns/schema/2.0": "https://parvis.test/nodeinfo/2.0",
        "http://nodeinfo.diaspora.software/ns/schema/2.1": "https://parvis.test/nodeinfo/2.1",
    }
    for version, href in (
        ("2.0", links["http://nodeinfo.diaspora.software/ns/schema/2.0"]),
        ("2.1", links["http://nodeinfo.diaspora.software/ns/schema/2.1"]),
    ):
        r = client.get(href.removeprefix("https://parvis.test"))
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["version"] == version
        assert body["software"]["name"] == "parvis"
        assert body["software"]["version"] == "0.1.0"
        assert body["protocols"] == ["activitypub"]
        assert body["usage"]["users"] == {"total": 1, "activeMonth": 1, "activeHalfyear": 1}
        assert body["usage"]["localPosts"] == 1
        assert body["openRegistrations"] is True
        assert body["metadata"]["nodeName"] == "Parvis"


def test_preferences_follow_update_credentials(client: TestClient) -> None:
    alice = make_user(client)
    r = alice.get("/api/v1/preferences")
    assert r.status_code == 200
    assert r.json() == {
        "posting:default:visibility": "public",
        "posting:default:sensitive": False,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
        "reading:autoplay:gifs": False,
    }
    updated = alice.patch(
        "/api/v1/accounts/update_credentials",
        data={"source[privacy]": "private", "source[sensitive]": "true", "source[language]": "fr"},
    )
    assert updated.status_code == 200, updated.text
    prefs = alice.get("/api/v1/preferences").json()
    assert prefs["posting:default:visibility"] == "private"
    assert prefs["posting:default:sensitive"] is True
    assert prefs["posting:default:language"] == "fr"
    assert client.get("/api/v1/preferences").status_code == 401


def test_openapi_describes_instance_endpoints(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    for path in (
        "/api/v1/instance",
        "/api/v2/instance",
        "/api/v1/instance/rules",
        "/api/v1/preferences",
        "/nodeinfo/2.0",
        "/.well-known/nodeinfo",
    ):
        schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert schema["schema"], path


def test_weekly_activity(client: TestClient) -> None:
    alice = make_user(client)
    alice.status("one")
    alice.status("two")
    make_user(client)
    weeks = client.get("/api/v1/instance/activity").json()
    assert len(weeks) == 12
    now = datetime.now(UTC)
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert weeks[0] == {
        "week": str(int(monday.timestamp())),
        "statuses": "2",
        "logins": "2",
        "registrations": "2",
    }
    assert int(weeks[0]["week"]) - int(weeks[1]["week"]) == 7 * 86400
    assert all(w["statuses"] == "0" for w in weeks[1:])


# -- about page, privacy policy, terms of service, languages ---------------------------------


def test_extended_description_privacy_policy_and_terms_by_default(client: TestClient) -> None:
    about = client.get("/api/v1/instance/extended_description").json()
    assert about == {
        "updated_at": "2026-11-23T00:00:00.000Z",
        "content": "<p>A public square: an open social network server.</p>\n",
    }
    privacy = client.get("/api/v1/instance/privacy_policy").json()
    assert set(privacy) == {"updated_at", "content"}
    assert privacy["updated_at"] == "2026-11-23T00:00:00.000Z"
    for kept in ("e-mail address", "hash of your password", "kept 7 days", "not encrypted"):
        assert kept in privacy["content"]
    assert "mailto:" not in privacy["content"]  # no contact e-mail configured
    terms = client.get("/api/v1/instance/terms_of_service").json()
    assert terms["effective_date"] == "2026-11-23"
    assert terms["effective"] is True
    assert terms["succeeded_by"] is None
    assert "<li>Label automated accounts as bots.</li>" in terms["content"]
    assert client.get("/api/v1/instance/terms_of_service/2026-11-23").json() == terms
    for other in ("2020-01-01", "yesterday", "2026-11-23T00:00:00Z"):
        r = client.get(f"/api/v1/instance/terms_of_service/{other}")
        assert r.status_code == 404, other
        assert r.json()["error"] == "Record not found"


@pytest.mark.parametrize(
    "parvis",
    [
        {
            "title": "Place <du> village",
            "contact_email": "admin@parvis.test",
            "extended_description": "Bienvenue !\nIci on parle de <tout>.\n\nSecond paragraphe.",
            "privacy_policy": "Nous gardons peu.\r\n\r\nEt rien d'autre.",
            "terms_of_service": "Soyez gentils.",
            "policies_updated": "2027-03-01",
        }
    ],
    indirect=True,
)
def test_about_pages_follow_settings(client: TestClient) -> None:
    about = client.get("/api/v1/instance/extended_description").json()
    assert about == {
        "updated_at": "2027-03-01T00:00:00.000Z",
        "content": "<p>Bienvenue !<br>Ici on parle de &lt;tout&gt;.</p>\n"
        "<p>Second paragraphe.</p>\n",
    }
    privacy = client.get("/api/v1/instance/privacy_policy").json()
    assert privacy["content"] == "<p>Nous gardons peu.</p>\n<p>Et rien d&#x27;autre.</p>\n"
    terms = client.get("/api/v1/instance/terms_of_service").json()
    assert terms["content"] == "<p>Soyez gentils.</p>\n"
    assert terms["effective_date"] == "2027-03-01"
    assert client.get("/api/v1/instance/terms_of_service/2027-03-01").status_code == 200
    assert client.get("/api/v1/instance/terms_of_service/2026-11-23").status_code == 404


@pytest.mark.parametrize(
    "parvis", [{"title": "Place <du> village", "contact_email": "admin@parvis.test"}], indirect=True
)
def test_default_privacy_policy_names_the_server_and_contact(client: TestClient) -> None:
    content = client.get("/api/v1/instance/privacy_policy").json()["content"]
    assert "Place &lt;du&gt; village (parvis.test)" in content
    assert '<a href="mailto:admin@parvis.test">admin@parvis.test</a>' in content
    # What community notes publish, and where; what the label detectors keep.
    assert "https://parvis.test/api/parvis/v1/notes/data/" in content
    assert "under a pseudonym" in content and "for the moderators only" in content


def test_languages_translation_and_domain_blocks(client: TestClient) -> None:
    languages = client.get("/api/v1/instance/languages").json()
    by_code = {lang["code"]: lang["name"] for lang in languages}
    assert len(languages) == len(by_code) >= 180
    assert by_code["fr"] == "French" and by_code["en"] == "English"
    assert all(len(code) == 2 and code.islower() for code in by_code)
    assert all(set(lang) == {"code", "name"} and lang["name"] for lang in languages)
    assert client.get("/api/v1/instance/translation_languages").json() == {}
    blocks = client.get("/api/v1/instance/domain_blocks")
    assert blocks.status_code == 200
    assert blocks.json() == []
