"""The response to an order to provide information (DSA art. 10): assembled from what the
server holds — subscriber data, the network addresses still kept, the posts that exist, the
metadata of encrypted messaging — and recorded in the authority register as handed over. A
byte scan of the archive finds none of what must never be in it: the messages' plaintexts
(really encrypted by the reference PyNaCl client), their ciphertexts, nonces, sealed keys and
signatures (raw and base64), the texts and media keys of deleted posts, anything of an erased
account."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import insert
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.app import Parvis
from parvis.cli import app as cli
from parvis.services import authority, authority_response, deletion
from parvis.storage.tables import account_ips
from tests.api.test_moderation_registers import ADMIN, staff
from tests.builders import User, error_of, make_user, ok
from tests.clients.e2e_client import E2EClient

SECRET = "Livraison mardi 23 h, quai 7, mot de passe GRENADINE-58"
ANSWER = "Compris, GRENADINE-58, je serai au quai 7"
DELETED = "Ce message effacé ne doit jamais sortir: ORTOLAN-31"
ERASED = "Les mots d'un compte effacé: PANGOLIN-77"
KEPT = "Un message public qui reste: MARMOTTE-12"


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), color).save(out, "PNG")
    return out.getvalue()


def with_picture(user: User, text: str, color: tuple[int, int, int]) -> tuple[dict[str, Any], str]:
    """A post with a picture, and the media key of its file."""
    r = user.post(
        "/api/v2/media",
        files={"file": ("p.png", png(color), "image/png")},
        data={"description": ""},
    )
    assert r.status_code == 200, r.text
    media = r.json()
    post = user.status(text, media_ids=[media["id"]])
    return post, media["url"].split("/media/", 1)[1]


def order(parvis: Parvis, *items: str, kind: str = "info") -> authority.Order:
    new = authority.NewOrder(
        kind=kind,
        authority="Parquet de Paris",
        member_state="FR",
        dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        legal_basis="Code de procédure pénale, art. 60-1; DSA art. 10",
        reference="PQ 26/0042",
        items=items,
    )
    return parvis.runtime.write(lambda w: authority.record(w, None, new))


def forms(value: bytes) -> list[bytes]:
    """A secret as it could appear in the archive: raw, or base64 (standard and URL-safe)."""
    return [value, base64.b64encode(value), base64.urlsafe_b64encode(value)]


def test_the_response_holds_what_is_held_and_never_contents_or_deleted_data(
    client: TestClient, parvis: Parvis
) -> None:
    alice, bob, carol = (make_user(client, n) for n in ("alice", "bob", "carol"))
    # encrypted messages, really encrypted by the reference client
    phone, laptop = E2EClient(alice.client, alice.token), E2EClient(bob.client, bob.token)
    phone.publish()
    laptop.publish()
    convo = phone.start(bob.id)
    phone.send(convo["id"], SECRET)
    laptop.send(convo["id"], ANSWER)
    envelopes = phone.history(convo["id"])
    assert len(envelopes) == 2
    # posts: one kept, one deleted (both with pictures)
    kept, kept_key = with_picture(alice, KEPT, (10, 200, 10))
    doomed, doomed_key = with_picture(alice, DELETED, (200, 10, 10))
    ok(alice.delete(f"/api/v1/statuses/{doomed['id']}"))
    # an account deleted by its user and erased
    gone, gone_key = with_picture(carol, ERASED, (10, 10, 200))
    parvis.runtime.write(lambda w: deletion.schedule(w, "carol", now=True))
    files = parvis.runtime.files
    for _ in range(20):
        if not parvis.runtime.write(lambda w: deletion.erase_due(w, files)):
            break
    # network addresses: one within ip_retention_days, one older (kept by no one any more)
    now = parvis.runtime.read(lambda w: w.now())
    days = parvis.settings.ip_retention_days
    with parvis.db.engine.begin() as conn:
        conn.execute(
            insert(account_ips),
            [
                {
                    "account_id": int(alice.id),
                    "purpose": "sign_in",
                    "ip": "203.0.113.7",
                    "first_seen_at": now - timedelta(days=2),
                    "last_seen_at": now - timedelta(days=1),
                },
                {
                    "account_id": int(alice.id),
                    "purpose": "sign_in",
                    "ip": "198.51.100.99",
                    "first_seen_at": now - timedelta(days=days + 20),
                    "last_seen_at": now - timedelta(days=days + 10),
                },
            ],
        )

    made = order(
        parvis,
        "https://parvis.test/@alice",
        kept["url"],
        doomed["url"],
        gone["url"],
        "https://parvis.test/users/carol",
    )
    moderator = staff(client, parvis, "moderator")
    r = moderator.post(f"{ADMIN}/authority_orders/{made.id}/response")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    blob = r.content

    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        names = set(z.namelist())
        members = {n: z.read(n) for n in names}
    # what is held is there
    subscriber = orjson.loads(members["accounts/alice/account.json"])
    assert subscriber["email"] == "alice@example.org" and subscriber["username"] == "alice"
    assert subscriber["role"] == "user" and subscriber["created_at"]
    assert [a["ip"] for a in subscriber["network_addresses"]] == ["203.0.113.7"]
    posts = orjson.loads(members["accounts/alice/posts.json"])
    assert [p["text"] for p in posts] == [KEPT]
    assert [p["uri"] for p in orjson.loads(members["posts.json"])] == [kept["uri"]]
    messaging = orjson.loads(members["accounts/alice/messaging.json"])
    assert [d["id"] for d in messaging["devices"]] == [phone.device_id]
    held = messaging["conversations"][0]
    assert sorted(held["participants"]) == ["alice@parvis.test", "bob@parvis.test"]
    assert [m["id"] for m in held["messages"]] == sorted((m["id"] for m in envelopes), key=int)
    assert all(m["envelope_bytes"] > 0 and m["created_at"] for m in held["messages"])
    items = orjson.loads(members["items.json"])
    assert items["accounts"] == ["alice@parvis.test"]
    assert set(items["not_held"]) == {doomed["url"], gone["url"], "https://parvis.test/users/carol"}
    assert members["not_held.txt"].decode() == authority.not_held(parvis.settings) + "\n"
    assert "accounts/carol/account.json" not in names

    # and nothing of what must never be handed over, in any member, compressed or not
    scanned = [blob, *members.values()]
    never = [SECRET.encode(), ANSWER.encode(), DELETED.encode(), ERASED.encode()]
    never += [doomed_key.encode(), gone_key.encode(), b"198.51.100.99", b"carol@example.org"]
    for m in envelopes:
        for field in ("ciphertext", "nonce", "signature"):
            never += forms(base64.b64decode(m[field]))
        for sealed in m["keys"]:
            never += forms(base64.b64decode(sealed["sealed_key"]))
    for needle in never:
        assert not any(needle in data for data in scanned), needle[:40]
    assert kept_key.encode() in members["accounts/alice/posts.json"]  # held, so handed over

    # the register records what was handed over, with the archive's digest
    shown = ok(moderator.get(f"{ADMIN}/authority_orders/{made.id}"))
    assert shown["carried_out_at"] is not None and shown["acknowledged_at"] is not None
    assert hashlib.sha256(blob).hexdigest() in shown["provided"]
    assert "alice@parvis.test" in shown["provided"]
    # once carried out, it is not assembled again
    again = moderator.post(f"{ADMIN}/authority_orders/{made.id}/response")
    assert "already carried out" in error_of(again, 409)


def test_only_an_order_to_provide_information_is_answered_with_data(
    client: TestClient, parvis: Parvis
) -> None:
    alice = make_user(client, "alice")
    act = order(parvis, "https://parvis.test/@alice", kind="act")
    moderator = staff(client, parvis, "moderator")
    r = moderator.post(f"{ADMIN}/authority_orders/{act.id}/response")
    assert "provide information" in error_of(r, 409)
    assert error_of(moderator.post(f"{ADMIN}/authority_orders/123/response"), 404)
    assert error_of(moderator.post(f"{ADMIN}/authority_orders/nope/response"), 404)
    info = order(parvis, "https://parvis.test/@alice")
    assert alice.post(f"{ADMIN}/authority_orders/{info.id}/response").status_code == 403


def test_the_command_writes_the_response_and_records_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_DATA_DIR", "PARVIS_JOBS_IMMEDIATE"):
        monkeypatch.delenv(var, raising=False)
    data = tmp_path / "data"

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("user", "create", "alice", "alice@example.org", "--password", "correct horse")
    recorded = run(
        *("authority", "record", "info", "Parquet de Paris", "--member-state", "FR"),
        *("--category", "illegal_or_harmful_speech", "--legal-basis", "CPP art. 60-1"),
        *("--reference", "PQ-2", "--item", "http://localhost:8000/@alice"),
    )
    order_id = recorded.split()[2]
    out = tmp_path / "response.zip"
    said = run("authority", "respond", order_id, "--out", str(out))
    assert "carried out" in said and "alice@localhost:8000" in said
    with zipfile.ZipFile(out) as z:
        subscriber = orjson.loads(z.read("accounts/alice/account.json"))
    assert subscriber["email"] == "alice@example.org"
    again = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(data),
            "authority",
            "respond",
            order_id,
            "--out",
            str(tmp_path / "again.zip"),
        ],
    )
    assert again.exit_code != 0 and "already carried out" in again.output
    assert not (tmp_path / "again.zip").exists()


PATHS = st.sampled_from(["/@", "/users/", "/@alice/", "/users/alice/statuses/", "/", "/@@", ""])
ITEMS = st.lists(
    st.one_of(
        st.text(max_size=60),
        st.builds(
            lambda host, path, tail: f"https://{host}{path}{tail}",
            st.sampled_from(
                ["parvis.test", "PARVIS.test", "evil.example", "[::1", "parvis.test:1"]
            ),
            PATHS,
            st.text(max_size=30),
        ),
    ),
    max_size=6,
)


def test_any_item_names_a_held_local_account_or_is_not_held(
    client: TestClient, parvis: Parvis
) -> None:
    """Whatever an order's items say, resolving them never fails and finds only this server's
    accounts; an item that names nothing is listed as not held."""
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    held = alice.status("held")
    ok(bob.delete(f"/api/v1/statuses/{bob.status('gone')['id']}"))

    @settings(max_examples=200, deadline=None)
    @given(items=ITEMS)
    def check(items: list[str]) -> None:
        found = parvis.runtime.read(lambda w: authority_response.resolve(w, tuple(items)))
        assert {a.username for a in found.accounts.values()} <= {"alice", "bob"}
        assert all(a.local for a in found.accounts.values())
        assert [p.uri for p in found.posts] == [held["uri"]] * len(found.posts)
        assert set(found.not_held) <= set(items)

    check()
    found = parvis.runtime.read(
        lambda w: authority_response.resolve(w, (held["url"], "@bob", "alice@parvis.test"))
    )
    assert [p.uri for p in found.posts] == [held["uri"]] and not found.not_held
    assert sorted(a.username for a in found.accounts.values()) == ["alice", "bob"]
