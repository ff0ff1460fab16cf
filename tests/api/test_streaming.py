"""The streaming API: WebSocket and server-sent events, fed after each commit through the broker.

Most tests use Starlette's TestClient WebSocket against the app, with the in-process broker and
(when PARVIS_TEST_REDIS_URL is set) the Redis one. A WebSocket receive has no timeout there, so
"X never arrives" is checked with a later event that must arrive first. The last tests run a
real uvicorn server on loopback with the `websockets` and httpx2 clients; the churn test
(1,000 clients, marked slow) is at the end.
"""

from __future__ import annotations

import gc
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from websockets.sync.client import connect

from parvis.app import Parvis, build, create_app
from parvis.services.context import Work
from tests.builders import User, follow, make_user
from tests.clients.conftest import LiveServer, live_server  # noqa: F401
from tests.conftest import REDIS_URL, make_settings, service_missing

WebSocket = Any  # starlette.testclient.WebSocketTestSession


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def parvis(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Parvis]:
    overrides: dict[str, Any] = {}
    if request.param == "redis":
        if not REDIS_URL:
            service_missing("Redis", "PARVIS_TEST_REDIS_URL")
        overrides["redis_url"] = REDIS_URL
    instance = build(make_settings(tmp_path, **overrides), migrate=True)
    yield instance
    instance.close()


@pytest.fixture
def client(parvis: Parvis) -> Iterator[TestClient]:
    with TestClient(create_app(parvis, embedded_worker=False), base_url="https://parvis.test") as c:
        yield c


def url(user: User | None = None, **params: str) -> str:
    if user is not None:
        params["access_token"] = user.token
    return "/api/v1/streaming?" + urlencode(params)


def sync(ws: WebSocket) -> None:
    """Messages are handled in order: once this answer is back, earlier ones took effect."""
    ws.send_json({"type": "ping"})
    assert ws.receive_json() == {"error": "Unknown message type", "status": 400}


def receive(ws: WebSocket) -> tuple[list[str], str, Any]:
    message = ws.receive_json()
    assert set(message) == {"stream", "event", "payload"}, message
    assert isinstance(message["payload"], str)  # a JSON string inside the message, as Mastodon
    payload = message["payload"]
    if message["event"] != "delete":
        payload = json.loads(payload)
    return message["stream"], message["event"], payload


def test_health(client: TestClient) -> None:
    r = client.get("/api/v1/streaming/health")
    assert r.status_code == 200
    assert r.text == "OK"


def test_a_followees_post_arrives_on_the_user_stream(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    follow(bob, alice)
    with client.websocket_connect(url(bob, stream="user")) as ws:
        status = alice.status("hello followers")
        stream, event, payload = receive(ws)
        assert (stream, event) == (["user"], "update")
        assert payload["id"] == status["id"]
        assert payload["content"] == status["content"]
        assert payload["account"]["id"] == alice.id


def test_public_local_and_hashtag_streams_get_only_what_they_show(client: TestClient) -> None:
    alice, carol = make_user(client), make_user(client)
    with client.websocket_connect(url(carol, stream="public:local")) as ws:
        ws.send_json({"type": "subscribe", "stream": "hashtag", "tag": "Cats"})
        sync(ws)
        alice.status("quiet #cats", visibility="unlisted")  # on neither stream
        dogs = alice.status("loud #dogs")
        cats = alice.status("loud #cats")
        assert stream_and_id(ws) == (["public:local"], dogs["id"])
        assert stream_and_id(ws) == (["public:local"], cats["id"])
        assert stream_and_id(ws) == (["hashtag", "Cats"], cats["id"])
        ws.send_json({"type": "unsubscribe", "stream": "hashtag", "tag": "cats"})
        ws.send_json({"type": "unsubscribe", "stream": "public:local"})
        ws.send_json({"type": "subscribe", "stream": "public:media"})
        sync(ws)
        alice.status("more #cats")
        media = client.post(
            "/api/v2/media",
            headers=alice.headers,
            files={"file": ("a.png", png(), "image/png")},
        )
        assert media.status_code in (200, 202), media.text
        with_media = alice.status("a picture", media_ids=[media.json()["id"]])
        stream, _, payload = receive(ws)
        assert (stream, payload["id"]) == (["public:media"], with_media["id"])


def stream_and_id(ws: WebSocket) -> tuple[list[str], str]:
    stream, _, payload = receive(ws)
    return stream, payload["id"]


def png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _ids(ws: WebSocket) -> str:
    return str(receive(ws)[2]["id"])


def test_blocked_and_muted_authors_never_arrive(client: TestClient) -> None:
    alice, carol, dave, erin = (make_user(client) for _ in range(4))
    assert carol.post(f"/api/v1/accounts/{alice.id}/block").status_code == 200
    assert carol.post(f"/api/v1/accounts/{erin.id}/mute").status_code == 200
    with client.websocket_connect(url(carol, stream="public")) as ws:
        alice.status("from someone carol blocked")
        erin.status("from someone carol muted")
        dave.status(f"@{alice.username} mentioned by dave")  # involves a blocked account
        sentinel = dave.status("from dave")
        assert _ids(ws) == sentinel["id"]
    # The blocked side does not see the blocker's posts either.
    with client.websocket_connect(url(alice, stream="public")) as ws:
        carol.status("alice is blocked by carol")
        sentinel = dave.status("from dave again")
        assert _ids(ws) == sentinel["id"]


def test_delete_events(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    follow(bob, alice)
    with (
        client.websocket_connect(url(bob, stream="user")) as home,
        client.websocket_connect(url(carol, stream="public")) as public,
    ):
        status = alice.status("soon gone")
        assert receive(home)[2]["id"] == status["id"]
        assert receive(public)[2]["id"] == status["id"]
        assert alice.delete(f"/api/v1/statuses/{status['id']}").status_code == 200
        assert receive(home) == (["user"], "delete", status["id"])
        assert receive(public) == (["public"], "delete", status["id"])


def test_edits_and_rollbacks(client: TestClient, parvis: Parvis) -> None:
    """`work.emit_status("status.update", status)` (the hook for edits) reaches the status's
    audience after the commit; a use case that fails publishes nothing."""
    alice, bob = make_user(client), make_user(client)
    follow(bob, alice)
    with client.websocket_connect(url(bob, stream="user")) as ws:
        status = alice.status("before the edit")
        assert receive(ws)[2]["id"] == status["id"]

        def edit(work: Work) -> None:
            loaded = work.store.statuses.get(int(status["id"]))
            assert loaded is not None
            work.emit_status("status.update", loaded)

        def failing(work: Work) -> None:
            edit(work)
            raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            parvis.runtime.write(failing)
        parvis.runtime.write(edit)
        stream, event, payload = receive(ws)
        assert (stream, event, payload["id"]) == (["user"], "status.update", status["id"])


def test_notification_events(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    with (
        client.websocket_connect(url(bob, stream="user:notification")) as only,
        client.websocket_connect(url(bob, stream="user")) as user,
    ):
        follow(alice, bob)
        for ws, name in ((only, "user:notification"), (user, "user")):
            stream, event, payload = receive(ws)
            assert (stream, event, payload["type"]) == ([name], "notification", "follow")
            assert payload["account"]["id"] == alice.id
        follow(bob, alice)
        mention = alice.status(f"hi @{bob.username}")
        stream, event, payload = receive(user)
        assert (event, payload["id"]) == ("update", mention["id"])  # home, then the mention
        stream, event, payload = receive(user)
        assert (event, payload["type"]) == ("notification", "mention")
        stream, event, payload = receive(only)  # no `update` on user:notification
        assert (stream, event, payload["type"]) == (
            ["user:notification"],
            "notification",
            "mention",
        )
        assert payload["status"]["id"] == mention["id"]


def test_direct_messages_reach_only_their_recipients(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    with (
        client.websocket_connect(url(bob, stream="direct")) as to_bob,
        client.websocket_connect(url(carol, stream="direct")) as to_carol,
        client.websocket_connect(url(alice, stream="direct")) as sent,
    ):
        dm = alice.status(f"@{bob.username} psst", visibility="direct")
        stream, event, payload = receive(to_bob)
        assert (stream, event, payload["id"]) == (["direct"], "update", dm["id"])
        assert receive(sent)[2]["id"] == dm["id"]
        other = alice.status(f"@{carol.username} psst too", visibility="direct")
        assert receive(to_carol)[2]["id"] == other["id"]


def test_list_stream(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    follow(bob, alice)
    r = bob.post("/api/v1/lists", json={"title": "friends"})
    assert r.status_code == 200, r.text
    list_id = r.json()["id"]
    r = bob.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [alice.id]})
    assert r.status_code == 200, r.text
    with client.websocket_connect(url(bob, stream="list", list=list_id)) as ws:
        status = alice.status("to my listeners")
        stream, event, payload = receive(ws)
        assert (stream, event, payload["id"]) == (["list", list_id], "update", status["id"])
    r = client.put(
        f"/api/v1/lists/{list_id}",
        headers=bob.headers,
        json={"title": "friends", "replies_policy": "none"},
    )
    assert r.status_code == 200, r.text
    elsewhere = carol.status("a thread elsewhere")
    with client.websocket_connect(url(bob, stream="list", list=list_id)) as ws:
        alice.status(f"@{carol.username} a reply", in_reply_to_id=elsewhere["id"])
        sentinel = alice.status("not a reply")
        assert receive(ws)[2]["id"] == sentinel["id"]  # replies_policy none: the reply stays out
    with (  # someone else's list
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect(url(carol, stream="list", list=list_id)),
    ):
        pass
    assert denied.value.status_code == 404


def test_refusals_before_the_upgrade(client: TestClient) -> None:
    alice = make_user(client)
    writer = make_user(client, scopes="write")
    cases = [
        (url(stream="user"), 401),
        ("/api/v1/streaming?stream=user&access_token=nope", 401),
        (url(alice, stream="nonsense"), 400),
        (url(alice, stream="hashtag"), 400),
        (url(alice, stream="list", list="12"), 404),
        (url(writer, stream="user"), 403),
    ]
    for path, status in cases:
        with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect(path):
            pass
        assert denied.value.status_code == status, path
        assert "error" in denied.value.json()


def test_unknown_streams_and_bad_messages_get_an_error_message(client: TestClient) -> None:
    alice = make_user(client)
    with client.websocket_connect(url(alice)) as ws:
        ws.send_json({"type": "subscribe", "stream": "nonsense"})
        assert ws.receive_json() == {"error": "Unknown stream type", "status": 400}
        ws.send_text("{not json")
        assert ws.receive_json() == {"error": "Invalid JSON", "status": 400}
        ws.send_json({"type": "subscribe", "stream": "hashtag"})
        assert ws.receive_json() == {"error": "No tag for stream provided", "status": 400}
        ws.send_json({"type": "subscribe", "stream": ["user"]})
        assert ws.receive_json() == {"error": "Invalid stream parameters", "status": 400}


def test_token_in_the_websocket_protocol_header_and_anonymous_public(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    follow(bob, alice)
    with client.websocket_connect("/api/v1/streaming?stream=user", subprotocols=[bob.token]) as ws:
        assert ws.accepted_subprotocol == bob.token  # echoed, as browsers require
        status = alice.status("via protocol")
        assert receive(ws)[2]["id"] == status["id"]
    with client.websocket_connect("/api/v1/streaming?stream=public") as ws:
        status = alice.status("for everyone")
        assert receive(ws)[2]["id"] == status["id"]


def test_closed_connections_release_their_subscriptions(client: TestClient, parvis: Parvis) -> None:
    alice = make_user(client)
    broker = parvis.runtime.broker
    assert broker is not None
    for _ in range(5):
        with client.websocket_connect(url(alice, stream="user")) as ws:
            ws.send_json({"type": "subscribe", "stream": "public"})
            sync(ws)
            assert broker.subscriber_count() >= 1
    deadline = time.monotonic() + 5
    while broker.subscriber_count() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert broker.subscriber_count() == 0
    assert broker.channel_count() == 0


def test_sse_endpoints_refuse_bad_input(client: TestClient) -> None:
    alice = make_user(client)
    assert client.get("/api/v1/streaming/user").status_code == 401
    assert client.get("/api/v1/streaming/user?access_token=nope").status_code == 401
    r = client.get("/api/v1/streaming/hashtag", headers=alice.headers)
    assert r.status_code == 422
    assert r.json()["error"].startswith("Validation failed")
    assert client.get("/api/v1/streaming/list?list=abc", headers=alice.headers).status_code == 404


# --- a real server on loopback ----------------------------------------------------------------


def live_user(live: LiveServer) -> User:
    # Users are made through the app in-process (same Parvis, same broker); events are then
    # read over real sockets from the uvicorn server.
    return make_user(TestClient(create_app(live.parvis, embedded_worker=False), base_url=live.url))


def ws_live(live: LiveServer, user: User, **params: str) -> Any:
    query = urlencode({**params, "access_token": user.token})
    return connect(live.url.replace("http://", "ws://") + "/api/v1/streaming?" + query)


def test_real_websocket_delivers_within_a_second(live_server: LiveServer) -> None:  # noqa: F811
    alice, bob = live_user(live_server), live_user(live_server)
    follow(bob, alice)
    with ws_live(live_server, bob, stream="user") as ws, httpx2.Client(timeout=10) as http:
        r = http.post(
            live_server.url + "/api/v1/statuses",
            headers=alice.headers,
            json={"status": "over a real socket"},
        )
        assert r.status_code == 200
        posted = time.monotonic()
        message = json.loads(ws.recv(timeout=5))
        assert time.monotonic() - posted < 1.0
        assert message["stream"] == ["user"]
        assert json.loads(message["payload"])["id"] == r.json()["id"]


def test_server_sent_events(live_server: LiveServer) -> None:  # noqa: F811
    alice, bob = live_user(live_server), live_user(live_server)
    lines: list[str] = []
    opened = threading.Event()

    def read() -> None:
        with (
            httpx2.Client(timeout=10) as http,
            http.stream(
                "GET",
                live_server.url + "/api/v1/streaming/hashtag/local?tag=sse",
                headers=bob.headers,
            ) as r,
        ):
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                lines.append(line)
                if line == ":)":
                    opened.set()
                if line.startswith("data:"):
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(10)
    status = alice.status("over #SSE")
    reader.join(10)
    assert "event: update" in lines
    data = next(line for line in lines if line.startswith("data: "))
    assert json.loads(data.removeprefix("data: "))["id"] == status["id"]


@pytest.mark.slow
def test_churn_a_thousand_clients_get_every_event_once_and_leak_nothing(
    live_server: LiveServer,  # noqa: F811
) -> None:
    import asyncio

    from websockets.asyncio.client import connect as aconnect

    alice, bob = live_user(live_server), live_user(live_server)
    broker = live_server.parvis.runtime.broker
    assert broker is not None
    base = live_server.url.replace("http://", "ws://") + "/api/v1/streaming?"
    burst = 20

    async def scenario(clients: int, check: bool) -> list[list[str]]:
        sockets = []
        for i in range(clients):
            who = bob if i % 2 else alice
            query = urlencode({"stream": "public:local", "access_token": who.token})
            sockets.append(await aconnect(base + query, max_queue=None))
        if check:
            assert broker.subscriber_count() == clients
        loop = asyncio.get_running_loop()
        posted = await loop.run_in_executor(
            None, lambda: [alice.status(f"burst {n}")["id"] for n in range(burst)]
        )

        async def drain(ws: Any) -> list[str]:
            got = []
            while len(got) < burst:
                got.append(json.loads(json.loads(await ws.recv())["payload"])["id"])
            return got

        received = await asyncio.wait_for(asyncio.gather(*(drain(ws) for ws in sockets)), 40)
        for ws in sockets:
            await ws.close()
        assert all(got == posted for got in received)
        return received

    asyncio.run(scenario(200, check=False))  # warm-up: pools, caches, first allocations
    wait_for_zero(broker)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    asyncio.run(scenario(1000, check=True))
    wait_for_zero(broker)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    top = "\n".join(str(t) for t in tracemalloc.take_snapshot().statistics("lineno")[:5])
    tracemalloc.stop()
    assert broker.subscriber_count() == 0
    assert broker.channel_count() == 0
    # 1,000 connections came and went: what stays must be far below their footprint.
    assert after - before < 2_000_000, f"{(after - before) / 1e6:.1f} MB retained:\n{top}"


def wait_for_zero(broker: Any) -> None:
    deadline = time.monotonic() + 10
    while broker.subscriber_count() and time.monotonic() < deadline:
        time.sleep(0.05)
