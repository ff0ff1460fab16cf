"""Schemathesis against Parvis's own OpenAPI document, in-process (ASGI), with a real user token.

Every operation of /api/openapi.json gets generated requests (schema-valid and invalid ones);
each response must not be a server error and must conform to the document: status code listed,
content type, headers, response schema, authentication enforced where declared. That is
`case.call_and_validate()` with schemathesis's default checks, less the three below.

Checks left out, and why:

* `positive_data_acceptance` (ST202, "schema-valid request rejected"): Mastodon documents
  422 for validation its schemas cannot express (a blank status, a blank `client_name`, a taken
  username, a malformed `focus`, an id that is not a number), and Parvis behaves the same way;
  this check counts every 422 on a schema-valid request as a failure.
* `negative_data_rejection` (ST201, "schema-violating request accepted"): Mastodon ignores
  parameters it does not know (Rails strong parameters), and so does Parvis; and query strings
  and multipart forms carry only strings, so many of the type mutations are valid once on the
  wire: it flagged `unread_count?account_id=false` (a string, on the wire) and a multipart
  `focus` mutated into an empty array (sent as no field at all). Its one other finding, a
  public endpoint answering without a token, is what `ignored_auth` reports.
* `allow_header_conformance` (ST205): Starlette answers a 405 with the methods of the first
  route matching the path only (GET and DELETE of /api/v1/statuses/{id} are two routes), and
  Mastodon itself answers unknown methods with 404; Mastodon documents nothing about `Allow`.

Kept: `not_a_server_error`, `status_code_conformance`, `content_type_conformance`,
`response_headers_conformance`, `response_schema_conformance`, `missing_required_header`,
`ignored_auth`, `unsupported_method` and the rest of the defaults.

Real ids (accounts, statuses, media, notifications, a hashtag) are mixed into the generated
path parameters, so operations on `{id}` also answer with real entities, not only 404s.

The schema is loaded when the module is imported (`@schema.parametrize()` needs it then;
schemathesis's lazy `from_fixture` loader fails under pytest 9: "'Function' object has no
attribute '_nodeid'"): the Parvis lives in a temporary directory removed at exit.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)
from starlette.testclient import TestClient

from parvis.app import build, create_app
from tests.builders import make_user
from tests.conftest import make_settings

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 100
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection, allow_header_conformance]

_TMP = tempfile.TemporaryDirectory(prefix="parvis-schemathesis-")
PARVIS = build(make_settings(Path(_TMP.name)), migrate=True)
PARVIS.runtime.http = None  # no network: nothing federates out of the fuzzer
APP = create_app(PARVIS, embedded_worker=False)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _seed() -> tuple[dict[str, str], list[str]]:
    """The user whose token drives the run, and a small world around it; returns the user's
    Authorization header and the ids of what exists."""
    http = TestClient(APP, base_url="https://parvis.test")  # not entered: no lifespan here
    me = make_user(http, "fuzzer", locked=True)
    friend = make_user(http, "friend")
    asker = make_user(http, "asker")
    assert me.post(f"/api/v1/accounts/{friend.id}/follow").status_code == 200
    assert asker.post(f"/api/v1/accounts/{me.id}/follow").json()["requested"] is True
    theirs = friend.status(f"Bonjour @{me.username}, un café ? #parvis")
    mine = me.status("Ma réponse #parvis", in_reply_to_id=theirs["id"])
    assert friend.post(f"/api/v1/statuses/{mine['id']}/favourite").status_code == 200
    ids = [me.id, friend.id, asker.id, theirs["id"], mine["id"]]
    upload = me.post(
        "/api/v2/media",
        files={"file": ("p.png", _png(), "image/png")},
        data={"description": "un carré"},
    )
    if upload.status_code in (200, 202):
        ids.append(upload.json()["id"])
    notes = me.get("/api/v1/notifications")
    if notes.status_code == 200:
        ids += [n["id"] for n in notes.json()]
    return me.headers, ids


AUTH, REAL_IDS = _seed()
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@schema.auth(refresh_interval=None, retry_on=[])
class UserToken:
    """The seeded user's real token on every request, except where schemathesis deliberately
    leaves the credentials out (negative tests of the security requirement). Passing
    `headers=AUTH` to `call_and_validate` instead would put the token back into those requests
    and turn each of them into a false "missing required header accepted" (ST203)."""

    def get(self, case: schemathesis.Case, ctx: Any) -> str:
        return AUTH["Authorization"]

    def set(self, case: schemathesis.Case, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


@schema.hook
def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
    operation = context.operation
    if operation is None:
        return strategy
    real: dict[str, Any] = {}
    for name in ("id", "quoting_status_id", "account_id", "list_id"):
        if "{" + name + "}" in operation.path:
            real[name] = st.sampled_from(REAL_IDS)
    for name in ("{hashtag}", "{name}"):
        if name in operation.path:
            real[name.strip("{}")] = st.sampled_from(["parvis", "Parvis", "caf\u00e9"])
    if not real:
        return strategy
    return st.one_of(strategy, st.fixed_dictionaries(real))


@pytest.fixture(scope="module", autouse=True)
def _close() -> Iterator[None]:
    yield
    PARVIS.close()
    _TMP.cleanup()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)


# -- pinned findings: what the fuzzer found once, asked every time -----------------------------

# ², ¹², Arabic-Indic 3: str.isdigit() is True for each, int() fails on the first two
UNICODE_DIGITS = ["\u00b2", "\u00b9\u00b2", "\u0663"]


def test_unicode_digits_in_ids_are_not_server_errors() -> None:
    """Every `{id}` operation, and the id query parameters, with digits that are not 0-9: a 404
    or a 422, never a 500 (`int('²')` raises)."""
    http = TestClient(APP, base_url="https://parvis.test", raise_server_exceptions=False)
    document = http.get("/api/openapi.json").json()
    answers: dict[str, int] = {}
    for path, operations in document["paths"].items():
        if "{id}" not in path:
            continue
        for method in operations:
            for digits in UNICODE_DIGITS:
                url = path.replace("{id}", digits)
                answers[f"{method.upper()} {url}"] = http.request(
                    method.upper(), url, headers=AUTH
                ).status_code
    for digits in UNICODE_DIGITS:
        for url, params in (
            ("/api/v1/timelines/home", {"max_id": digits}),
            ("/api/v1/timelines/public", {"since_id": digits}),
            ("/api/v1/accounts/relationships", {"id[]": digits}),
            ("/api/v1/statuses", {"id[]": digits}),
            ("/api/v1/notifications", {"min_id": digits}),
        ):
            answers[f"GET {url}?{params}"] = http.get(url, params=params, headers=AUTH).status_code
        answers[f"PATCH update_credentials fields_attributes[{digits}]"] = http.patch(
            "/api/v1/accounts/update_credentials",
            headers=AUTH,
            data={
                f"fields_attributes[{digits}][name]": "a",
                f"fields_attributes[{digits}][value]": "b",
            },
        ).status_code
    errors = sorted(k for k, v in answers.items() if v >= 500)
    assert not errors, f"{len(errors)} of {len(answers)} requests answered 5xx:\n  " + "\n  ".join(
        errors
    )
