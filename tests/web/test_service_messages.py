"""Messages of the services on the web pages: in French on French pages, part by part, numbers
kept; in English on English pages and through the API; every literal message part raised by a
service the web app calls is listed for the catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from starlette.testclient import TestClient

from parvis.domain.errors import Invalid
from parvis.web import i18n, service_messages
from parvis.web.pages import error_message
from tests.web.browser import csrf, sign_up
from tests.web.test_posting import post

SERVICES = Path(service_messages.__file__).parents[1] / "services"
# The services whose messages reach the web pages (their raise sites and error lists).
WEB_FACING = (
    "accounts",
    "authorizations",
    "archive",
    "edits",
    "filters",
    "imaging",
    "interactions",
    "imports",
    "labels",
    "label_signals",
    "lists",
    "media",
    "migration",
    "notes",
    "notices",
    "polls",
    "posting",
    "quotes",
    "search",
    "social",
)
ERRORS = {"Invalid", "InvalidMedia", "NotFound", "Forbidden", "Conflict", "Unauthorized", "Gone"}
NUMERIC = re.compile(r"^(MAX_|MIN_|settings\.|work\.settings\.|len\(|lo$|hi$|width|height)")


def french(message: str) -> str:
    return service_messages.translate(message, "fr", i18n.translations("fr").gettext)


def test_parts_are_translated_with_their_numbers() -> None:
    assert french("Validation failed: text: character limit of 500 exceeded") == (
        "texte\u00a0: limite de 500 caractères dépassée"
    )
    assert french(
        "Validation failed: username: this name is taken; password: use 8 to 256 characters"
    ) == (
        "nom d’utilisateur\u00a0: ce nom est déjà pris\u202f; "
        "mot de passe\u00a0: utilisez de 8 à 256 caractères"
    )
    assert french("file is too large: 12000000 bytes, the limit is 10485760") == (
        "le fichier est trop volumineux\u00a0: 12000000 octets, la limite est de 10485760"
    )
    # A part the catalogue does not know stays as it is; the parts it knows are translated.
    assert (
        french("Validation failed: text: 7 gremlins in 3 boxes")
        == "texte\u00a0: 7 gremlins in 3 boxes"
    )
    assert french("") == ""
    english = "Validation failed: text: character limit of 500 exceeded"
    assert service_messages.translate(english, "en", i18n.translations("en").gettext) == (
        "text: character limit of 500 exceeded"
    )
    assert error_message(Invalid(english), "en") == "text: character limit of 500 exceeded"
    assert error_message(Invalid(english), "fr").startswith("texte\u00a0: limite de 500")


def _template(node: ast.expr, constants: dict[str, str]) -> str | None:
    """A message as written in the source, numbers (literal or computed) as 0; None when a
    part of it is not a number (a value, a list of choices): such parts are not checked."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.JoinedStr):
        out = ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                out += str(value.value)
            elif isinstance(value, ast.FormattedValue):
                expr = ast.unparse(value.value)
                out += "0" if NUMERIC.match(expr) or "*" in expr else "\x00"
        return out
    return None


def _raised_parts(module: str) -> set[str]:
    tree = ast.parse((SERVICES / f"{module}.py").read_text(encoding="utf-8"))
    constants = {
        n.targets[0].id: n.value.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name)
        and isinstance(n.value, ast.Constant)
        and isinstance(n.value.value, str)
    }
    parts: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        f = node.func
        raised = isinstance(f, ast.Name) and f.id in ERRORS
        listed = (
            isinstance(f, ast.Attribute)
            and f.attr == "append"
            and ast.unparse(f.value).endswith("errors")
        )
        message = _template(node.args[0], constants) if raised or listed else None
        if not message:
            continue
        for sentence in message.removeprefix("Validation failed: ").split("; "):
            parts.update(p for p in sentence.split(": ") if p.strip() and "\x00" not in p)
    return parts


def _key(part: str) -> str:
    count = iter(range(1, 100))
    return re.sub(
        r"\d+", lambda _: (lambda i: "%(n)s" if i == 1 else f"%(n{i})s")(next(count)), part
    )


def test_every_message_part_of_the_web_facing_services_is_listed() -> None:
    listed = set(service_messages.PARTS)
    missing = {
        module: sorted(
            p for p in _raised_parts(module) if p not in listed and _key(p) not in listed
        )
        for module in WEB_FACING
    }
    assert {m: p for m, p in missing.items() if p} == {}, (
        "add these to parvis/web/service_messages.py PARTS, then `parvis i18n update`"
    )
    assert len(listed) > 100


def test_a_french_page_shows_a_translated_validation_error(client: TestClient) -> None:
    client.headers["Accept-Language"] = "fr"
    page = client.get("/signup")
    r = client.post(
        "/signup",
        data={
            "csrf": csrf(page.text),
            "username": "a b",
            "email": "nope",
            "password": "short",
            "agreement": "on",
        },
    )
    assert r.status_code == 422
    assert "nom d’utilisateur\u00a0: utilisez de 1 à 30 lettres" in r.text
    assert "mot de passe\u00a0: utilisez de 8 à 256 caractères" in r.text
    assert "Validation failed" not in r.text and "use 8 to 256" not in r.text

    sign_up(client, "francoise")
    r = post(client, status="x" * 600)
    assert r.status_code == 422
    assert "texte\u00a0: limite de 500 caractères dépassée" in r.text


def test_english_pages_and_the_api_keep_the_english_message(client: TestClient) -> None:
    client.headers["Accept-Language"] = "en"
    sign_up(client, "english")
    r = post(client, status="x" * 600)
    assert r.status_code == 422 and "text: character limit of 500 exceeded" in r.text
    token = client.cookies.get("parvis_session")
    api = client.post(
        "/api/v1/statuses",
        data={"status": "x" * 600},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "fr"},
    )
    assert api.status_code == 422
    assert api.json()["error"] == "Validation failed: text: character limit of 500 exceeded"
