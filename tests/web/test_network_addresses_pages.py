"""Where network addresses are taken and shown, through the real app: the web sign-up and
sign-in, the OAuth authorization form, the API's sign-up and password grant record the client's
address (as the server sees it); moderators see an account's addresses and the other accounts
seen there on its moderation page; its owner sees their own in Settings → Sessions; nobody
else, and never the client API."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import accounts, network_addresses
from tests.api.test_oauth import PASSWORD, make_app, only_form, pkce
from tests.builders import make_user
from tests.web.browser import csrf, log_in, sign_up
from tests.web.test_moderation import account_id
from tests.web.test_oauth_consent import _authorize_query

TROLL_IP, SOCK_IP, MOD_IP = "203.0.113.66", "2001:db8::66", "198.51.100.1"


def from_address(client: TestClient, address: str) -> TestClient:
    """A browser of its own (cookie jar) on the same server, connecting from `address`."""
    return TestClient(client.app, base_url=str(client.base_url), client=(address, 40000))


def kept(parvis: Parvis, account: int) -> set[tuple[str, str]]:
    found = parvis.runtime.read(lambda w: network_addresses.own(w, account))
    return {(r.purpose, r.ip) for r in found}


def make_moderator(client: TestClient, parvis: Parvis) -> TestClient:
    web = from_address(client, MOD_IP)
    name = sign_up(web)
    target = account_id(client, name)
    parvis.runtime.write(lambda work: accounts.set_role(work, target, "moderator"))
    return web


def test_sign_up_and_sign_in_keep_the_address(client: TestClient, parvis: Parvis) -> None:
    web = from_address(client, TROLL_IP)
    sign_up(web, "troll")
    troll = account_id(client, "troll")
    assert kept(parvis, troll) == {("sign_up", TROLL_IP)}
    later = from_address(client, "2001:0db8:0:0:0:0:0:0066")  # stored compressed
    log_in(later, "troll@example.test", "correct horse 1")
    assert kept(parvis, troll) == {("sign_up", TROLL_IP), ("sign_in", SOCK_IP)}
    wrong = from_address(client, "192.0.2.200")
    r = wrong.post(
        "/login",
        data={"csrf": csrf(wrong.get("/login").text), "login": "troll", "password": "nope"},
    )
    assert r.status_code == 401
    assert len(kept(parvis, troll)) == 2  # a failed attempt keeps nothing


def test_the_api_and_the_authorization_form_keep_the_address(
    client: TestClient, parvis: Parvis
) -> None:
    api = from_address(client, "192.0.2.7")
    user = make_user(api, "apiuser", scopes="read")  # sign-up, then a password grant
    me = account_id(client, "apiuser")
    assert kept(parvis, me) == {("sign_up", "192.0.2.7"), ("sign_in", "192.0.2.7")}
    account = user.get("/api/v1/accounts/verify_credentials").json()
    assert "192.0.2.7" not in json.dumps(account)

    web = from_address(client, "192.0.2.8")
    app = make_app(client)
    _, challenge = pkce()
    signin = only_form(web.get("/oauth/authorize", params=_authorize_query(app, challenge)).text)
    r = web.post(
        "/oauth/authorize",
        data={**signin["fields"], "login": "apiuser", "password": PASSWORD},
    )
    assert r.status_code == 200 and "ticket" in only_form(r.text)["fields"]
    assert ("sign_in", "192.0.2.8") in kept(parvis, me)


def test_moderators_see_addresses_and_the_accounts_sharing_them(
    client: TestClient, parvis: Parvis
) -> None:
    troll_web = from_address(client, TROLL_IP)
    sign_up(troll_web, "troll")
    sock_web = from_address(client, TROLL_IP)
    sign_up(sock_web, "sockpuppet")  # a second account from the same address
    bystander = from_address(client, "192.0.2.50")
    sign_up(bystander, "bystander")
    troll = account_id(client, "troll")

    mod = make_moderator(client, parvis)
    page = mod.get(f"/moderation/cases/new?account={troll}")
    assert page.status_code == 200, page.text
    section = page.text.split('id="addresses-heading"', 1)[1].split("</section>", 1)[0]
    assert TROLL_IP in section and "sign-up" in section
    assert "@sockpuppet" in section and "@bystander" not in section
    assert "in the last 7 days" in section
    assert MOD_IP not in page.text

    # Nobody else: not another user (403), not the account's public pages, not the API.
    for web in (sock_web, bystander):
        refused = web.get(f"/moderation/cases/new?account={troll}")
        assert refused.status_code == 403 and TROLL_IP not in refused.text
    for path in ("/@troll", "/@sockpuppet"):
        assert TROLL_IP not in bystander.get(path).text
    listed = client.get(f"/api/v1/accounts/{troll}").json()
    assert TROLL_IP not in json.dumps(listed)


def test_the_owner_sees_their_own_addresses_in_settings(client: TestClient) -> None:
    web = from_address(client, TROLL_IP)
    sign_up(web, "owner")
    page = web.get("/settings/sessions")
    assert page.status_code == 200
    assert TROLL_IP in page.text and "for 7 days after it was last seen" in page.text
    other = from_address(client, "192.0.2.51")
    sign_up(other, "other")
    assert TROLL_IP not in other.get("/settings/sessions").text


@pytest.mark.parametrize("parvis", [{"ip_retention_days": 0}], indirect=True)
def test_at_zero_nothing_is_kept_and_the_pages_say_so(client: TestClient, parvis: Parvis) -> None:
    web = from_address(client, TROLL_IP)
    sign_up(web, "troll")
    troll = account_id(client, "troll")
    assert kept(parvis, troll) == set()
    assert "This server stores no network address of yours." in web.get("/settings/sessions").text
    mod = make_moderator(client, parvis)
    page = mod.get(f"/moderation/cases/new?account={troll}").text
    assert "stores no network address" in page and TROLL_IP not in page
