"""GET /api/parvis/v1/transparency/report: public, JSON or CSV, clear 422s on bad periods."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import notices
from parvis.services.notices import Item, NewNotice
from tests.builders import make_user

URL = "/api/parvis/v1/transparency/report"


def _report_a_post(client: TestClient, parvis: Parvis) -> None:
    author = make_user(client)
    status = author.status("a post someone will report")
    new = NewNotice(
        "racial_hatred", "It insults people.", (Item(status_id=int(status["id"])),), good_faith=True
    )
    parvis.runtime.write(lambda w: notices.submit(w, None, new))


def _period() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": f"{today.year - 1}-01-01", "to": f"{today.year + 1}-01-01"}


def test_the_report_is_public_json(client: TestClient, parvis: Parvis) -> None:
    _report_a_post(client, parvis)
    r = client.get(URL, params=_period())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["period"] == {"start": _period()["from"], "end": _period()["to"]}
    assert body["notices"]["received"] == 1
    assert body["notices"]["by_offence"]["racial_hatred"] == 1
    assert body["notices"]["by_category"]["STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"] == 1
    assert body["notices"]["time_to_decision"] == {"count": 0, "median_s": None, "p95_s": None}
    for section in ("actions", "own_initiative", "orders", "complaints", "suspensions"):
        assert section in body
    assert "reporter" not in r.text and "@" not in r.text  # nothing personal


def test_the_report_as_csv(client: TestClient, parvis: Parvis) -> None:
    _report_a_post(client, parvis)
    r = client.get(URL, params={**_period(), "format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["section", "metric", "dimension", "dimension2", "value"]
    assert ["notices", "received", "", "", "1"] in rows
    assert ["notices", "by_offence", "racial_hatred", "", "1"] in rows


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "from: required"),
        ({"from": "2026-01-01"}, "to: required"),
        ({"from": "2026-13-01", "to": "2026-02-01"}, "from: not a day"),
        ({"from": "yesterday", "to": "2026-02-01"}, "from: not a day"),
        ({"from": "20260101", "to": "2026-02-01"}, "from: not a day"),
        ({"from": "2026-01-01", "to": "2026-02-30"}, "to: not a day"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "after from"),
        ({"from": "2026-02-01", "to": "2026-02-01"}, "after from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "at most 3 years"),
        ({"from": "0001-01-01", "to": "9999-12-31"}, "at most 3 years"),
    ],
)
def test_bad_periods_get_a_422_with_a_message(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    r = client.get(URL, params=params)
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]


def test_an_unknown_format_is_refused(client: TestClient) -> None:
    r = client.get(URL, params={**_period(), "format": "xml"})
    assert r.status_code == 422
    assert "format" in r.json()["error"]


def test_the_largest_dates_do_not_crash(client: TestClient) -> None:
    r = client.get(URL, params={"from": "9999-01-01", "to": "9999-12-31"})
    assert r.status_code == 200, r.text
