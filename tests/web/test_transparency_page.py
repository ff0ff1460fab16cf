"""The /transparency page: the period report with server-drawn charts, for visitors."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import notices
from parvis.services.notices import Item, NewNotice
from parvis.web.views.about import bars, default_period
from tests.builders import make_user


def _report(client: TestClient, parvis: Parvis, offence: str = "racial_hatred") -> None:
    post = make_user(client).status("a post someone reports")
    new = NewNotice(offence, "Hateful.", (Item(status_id=int(post["id"])),), good_faith=True)
    parvis.runtime.write(lambda w: notices.submit(w, None, new))


def test_the_page_shows_the_last_twelve_months_with_charts(
    client: TestClient, parvis: Parvis
) -> None:
    _report(client, parvis)
    page = client.get("/transparency")
    assert page.status_code == 200, page.text
    html = page.text
    start, end = default_period(datetime.now(UTC).date())
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html
    row = re.search(r"Incitement to racial hatred</th>\s*<td[^>]*>.*?</td>\s*<td>(\d+)</td>", html)
    assert row is not None and row.group(1) == "1"
    assert html.count("<svg") >= 3 and 'aria-hidden="true"' in html
    assert "<figcaption" in html and "<table" in html  # every chart has its figures as text
    assert f"/api/parvis/v1/transparency/report?from={start}&amp;to={end}&amp;format=csv" in html
    assert "/api/parvis/v1/transparency/log" in html
    assert "/api/parvis/v1/transparency/statements" in html
    # the Content-Security-Policy holds: no script, no inline style
    assert "<script>" not in html and " style=" not in html
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_chosen_period(client: TestClient, parvis: Parvis) -> None:
    _report(client, parvis)
    today = datetime.now(UTC).date()
    before = client.get("/transparency", params={"from": "2020-01-01", "to": "2020-02-01"})
    assert before.status_code == 200
    assert "from 2020-01-01 to 2020-01-31 included" in before.text
    assert "Nothing to count in this period." in before.text
    around = client.get(
        "/transparency",
        params={"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()},
    )
    assert re.search(r"<strong>1</strong> notices received", around.text)


def test_bad_periods_explain_and_fall_back(client: TestClient) -> None:
    for params, message in (
        ({"from": "soon", "to": "2026-01-01"}, "Write the days as YYYY-MM-DD."),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "must come after its start"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "at most three years"),
    ):
        page = client.get("/transparency", params=params)
        assert page.status_code == 422
        assert message in page.text and "Showing the last twelve months instead." in page.text


def test_the_page_in_french(client: TestClient) -> None:
    page = client.get("/transparency", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert page.headers["content-language"] == "fr"


def test_bars_are_scaled_to_the_largest() -> None:
    found = bars({"a": 4, "b": 1, "c": 0, "d": 2})
    assert [(b.key, b.value, b.width) for b in found] == [
        ("a", 4, 100.0),
        ("b", 1, 25.0),
        ("d", 2, 50.0),
    ]
    assert [b.width for b in bars({"x": 0}, keep_zeros=True)] == [0.0]
    assert default_period(date(2024, 2, 28)) == (date(2023, 3, 1), date(2024, 2, 29))
    assert default_period(date(2026, 5, 10)) == (date(2025, 5, 11), date(2026, 5, 11))
