"""The search page: a plain GET form; accounts, hashtags and posts."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import make_user
from tests.web.browser import browser, sign_up


def test_search_finds_a_post_a_hashtag_and_an_account(client: TestClient) -> None:
    sam = make_user(client, "sam")
    sam.status("Les crêpes de #ParvisWeb sont délicieuses")
    web = browser(client)
    sign_up(web)

    html = web.get("/search", params={"q": "crepes"}).text
    assert 'role="search"' in html and 'value="crepes"' in html
    assert "Les crêpes de" in html and ">Posts</h2>" in html

    html = web.get("/search", params={"q": "#parvisweb"}).text
    assert 'href="/tags/parvisweb"' in html and ">Hashtags</h2>" in html

    html = web.get("/search", params={"q": "sam"}).text
    assert 'href="/@sam"' in html and ">People</h2>" in html


def test_visitors_search_accounts_and_are_invited_to_log_in_for_posts(client: TestClient) -> None:
    make_user(client, "tom").status("Visible words for members")
    visitor = browser(client)
    html = visitor.get("/search?q=tom").text
    assert 'href="/@tom"' in html and "Log in to search posts too." in html
    assert "Visible words" not in visitor.get("/search?q=visible").text


def test_empty_and_odd_queries(client: TestClient) -> None:
    web = browser(client)
    for params in ({}, {"q": ""}, {"q": "   "}):
        r = web.get("/search", params=params)
        assert r.status_code == 200 and "Type something to search for." in r.text
    r = web.get("/search", params={"q": "nothing-matches-this-zzz"})
    assert r.status_code == 200 and "Nothing found for" in r.text
    r = web.get("/search", params={"q": "<script>alert(1)</script>", "type": "bogus"})
    assert r.status_code == 200 and "<script>alert(1)" not in r.text
    r = web.get("/search", params={"q": "x" * 5000})
    assert r.status_code == 200 and "x" * 501 not in r.text
