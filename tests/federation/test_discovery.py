"""Discovery through the real app: WebFinger (RFC 7033) as Mastodon answers it, host-meta,
and NodeInfo checked against the 2.0/2.1 schemas' rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.metadata import version
from io import BytesIO
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from starlette.testclient import TestClient

from parvis.app import Parvis, create_app
from parvis.federation import discovery, objects
from tests.builders import make_user

PROFILE_PAGE = "http://webfinger.net/rel/profile-page"


@pytest.fixture
def client(parvis: Parvis) -> Iterator[TestClient]:
    """The real app, with the federation routes first (as federation_routes() mounts them)."""
    app = create_app(parvis, embedded_worker=False)
    for route in reversed([*discovery.routes, *objects.routes]):
        app.router.routes.insert(0, route)
    with TestClient(app, base_url="https://parvis.test") as c:
        yield c


def finger(client: TestClient, resource: str) -> Any:
    return client.get("/.well-known/webfinger", params={"resource": resource})


def test_webfinger_answers_like_mastodon(client: TestClient) -> None:
    make_user(client, "alice")
    r = finger(client, "acct:alice@parvis.test")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/jrd+json")
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.json() == {
        "subject": "acct:alice@parvis.test",
        "aliases": ["https://parvis.test/@alice", "https://parvis.test/users/alice"],
        "links": [
            {"rel": PROFILE_PAGE, "type": "text/html", "href": "https://parvis.test/@alice"},
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://parvis.test/users/alice",
            },
        ],
    }


@pytest.mark.parametrize(
    "resource",
    [
        "acct:ALICE@PARVIS.TEST",
        "acct:Alice@parvis.test",
        "alice@parvis.test",
        "@alice@parvis.test",
        "https://parvis.test/users/alice",
        "https://parvis.test/@alice",
        "https://PARVIS.test/users/Alice",
    ],
)
def test_webfinger_resource_forms(client: TestClient, resource: str) -> None:
    make_user(client, "alice")
    r = finger(client, resource)
    assert r.status_code == 200, resource
    assert r.json()["subject"] == "acct:alice@parvis.test"


@pytest.mark.parametrize(
    ("resource", "status"),
    [
        ("acct:nobody@parvis.test", 404),
        ("acct:alice@elsewhere.example", 404),
        ("https://elsewhere.example/users/alice", 404),
        ("http://parvis.test/users/alice", 404),  # another origin (scheme)
        ("https://parvis.test/users/alice/statuses/1", 404),
        ("acct:al/ice@parvis.test", 404),
        ("", 400),
        ("acct:alice", 400),
        ("acct:@parvis.test", 400),
        ("acct:alice@", 400),
        ("mailto:alice@parvis.test", 400),
        ("alice", 400),
        ("acct:" + "a" * 600 + "@parvis.test", 400),
    ],
)
def test_webfinger_refusals(client: TestClient, resource: str, status: int) -> None:
    make_user(client, "alice")
    r = finger(client, resource)
    assert r.status_code == status, resource
    assert r.json()["error"]


def test_webfinger_without_resource_is_bad_request(client: TestClient) -> None:
    r = client.get("/.well-known/webfinger")
    assert r.status_code == 400
    assert "resource" in r.json()["error"]


def test_webfinger_links_the_avatar(client: TestClient) -> None:
    alice = make_user(client, "alice")
    png = BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(png, "PNG")
    r = alice.patch(
        "/api/v1/accounts/update_credentials",
        files={"avatar": ("a.png", png.getvalue(), "image/png")},
    )
    assert r.status_code == 200, r.text
    links = finger(client, "acct:alice@parvis.test").json()["links"]
    [avatar] = [link for link in links if link["rel"] == "http://webfinger.net/rel/avatar"]
    assert avatar["href"] == r.json()["avatar"]
    assert avatar["type"].startswith("image/")
    assert client.get(avatar["href"].removeprefix("https://parvis.test")).status_code == 200


def test_webfinger_finds_the_instance_actor(client: TestClient) -> None:
    for resource in ("acct:parvis.test@parvis.test", "https://parvis.test/actor"):
        body = finger(client, resource).json()
        assert body["subject"] == "acct:parvis.test@parvis.test"
        [me] = [link for link in body["links"] if link["rel"] == "self"]
        assert me["href"] == "https://parvis.test/actor"
        actor = client.get(me["href"], headers={"Accept": me["type"]}).json()
        assert actor["type"] == "Application"
        assert actor["preferredUsername"] == "parvis.test"


def test_webfinger_then_actor_round_trip(client: TestClient) -> None:
    """What a remote server does: WebFinger, then the self link with its media type."""
    make_user(client, "bob")
    links = finger(client, "acct:bob@parvis.test").json()["links"]
    [me] = [link for link in links if link["rel"] == "self"]
    actor = client.get(me["href"], headers={"Accept": me["type"]})
    assert actor.status_code == 200
    assert actor.json()["id"] == me["href"]
    assert actor.json()["preferredUsername"] == "bob"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    resource=st.one_of(
        st.text(max_size=120),
        st.builds(lambda u, d: f"acct:{u}@{d}", st.text(max_size=30), st.text(max_size=30)),
        st.builds(lambda p: f"https://parvis.test/{p}", st.text(max_size=60)),
    )
)
def test_webfinger_never_fails_on_odd_resources(client: TestClient, resource: str) -> None:
    r = client.get("/.well-known/webfinger", params={"resource": resource})
    assert r.status_code in (200, 400, 404), (resource, r.text)
    assert r.headers["content-type"].startswith(("application/jrd+json", "application/json"))


def test_host_meta_points_at_webfinger(client: TestClient) -> None:
    r = client.get("/.well-known/host-meta")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xrd+xml")
    root = ElementTree.fromstring(r.text)
    ns = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
    assert root.tag == f"{ns}XRD"
    [link] = root.findall(f"{ns}Link")
    template = "https://parvis.test/.well-known/webfinger?resource={uri}"
    assert link.attrib == {"rel": "lrdd", "template": template}
    as_json = client.get("/.well-known/host-meta", params={"format": "json"})
    assert as_json.headers["content-type"].startswith("application/jrd+json")
    assert as_json.json() == {"links": [{"rel": "lrdd", "template": template}]}


def test_nodeinfo_follows_the_schema(client: TestClient) -> None:
    """NodeInfo (served by the API edge) against the 2.0/2.1 schema rules: required keys,
    the software name pattern, the protocol names, counts as non-negative integers."""
    alice = make_user(client, "alice")
    alice.status("one")
    alice.status("two", visibility="private")
    make_user(client, "bob")
    links = client.get("/.well-known/nodeinfo").json()["links"]
    assert {link["href"] for link in links} == {
        "https://parvis.test/nodeinfo/2.0",
        "https://parvis.test/nodeinfo/2.1",
    }
    for href in sorted(link["href"] for link in links):
        r = client.get(href.removeprefix("https://parvis.test"))
        body = r.json()
        assert set(body) >= {
            "version",
            "software",
            "protocols",
            "services",
            "openRegistrations",
            "usage",
            "metadata",
        }
        assert re.fullmatch(r"[a-z0-9-]+", body["software"]["name"])
        assert body["software"] == body["software"] | {
            "name": "parvis",
            "version": version("parvis"),
        }
        assert body["protocols"] == ["activitypub"]
        assert body["services"] == {"inbound": [], "outbound": []}
        assert body["openRegistrations"] is True
        users = body["usage"]["users"]
        assert users == {"total": 2, "activeMonth": 2, "activeHalfyear": 2}
        assert body["usage"]["localPosts"] == 2
        assert r.headers["content-type"].startswith("application/json")
        assert f"schema/{body['version']}" in r.headers["content-type"]
