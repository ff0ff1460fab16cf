"""The streaming broker's contract, on both implementations: in-process (one machine) and Redis
pub/sub (when PARVIS_TEST_REDIS_URL is set)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest

from parvis.storage.pubsub import Broker, InProcessBroker, Message, RedisBroker, encode
from tests.conftest import REDIS_URL, service_missing

Factory = Callable[[], Broker]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_broker(request: pytest.FixtureRequest) -> Iterator[Factory]:
    made: list[Broker] = []
    if request.param == "memory":

        def factory() -> Broker:
            made.append(InProcessBroker())
            return made[-1]

    else:
        if not REDIS_URL:
            service_missing("Redis", "PARVIS_TEST_REDIS_URL")
        prefix = f"parvis-test:{uuid.uuid4().hex}:"  # channels are global to a Redis server

        def factory() -> Broker:
            made.append(RedisBroker(REDIS_URL, prefix=prefix))
            return made[-1]

    yield factory
    for broker in made:
        broker.close()


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro(), 20))  # type: ignore[arg-type]


async def next_message(sub: object, timeout: float = 5.0) -> Message | None:
    return await asyncio.wait_for(sub.get(), timeout)  # type: ignore[attr-defined]


def publish_from_thread(broker: Broker, channel: str, event: str, payload: str) -> None:
    """Publishers are request and job threads, never the subscribers' event loop."""
    t = threading.Thread(target=broker.publish, args=(channel, event, payload, [7]))
    t.start()
    t.join()


def test_subscribers_get_what_is_published_on_their_channels(make_broker: Factory) -> None:
    broker = make_broker()

    async def scenario() -> None:
        a, b = await broker.subscribe(), await broker.subscribe()
        await a.add("public")
        await b.add("public")
        await b.add("user:1")
        publish_from_thread(broker, "user:2", "update", "nobody listens")
        publish_from_thread(broker, "user:1", "notification", '{"id":"1"}')
        publish_from_thread(broker, "public", "update", '{"id":"2"}')
        got = await next_message(b)
        assert got is not None
        assert (got.channel, got.event, got.payload) == ("user:1", "notification", '{"id":"1"}')
        assert got.accounts == frozenset({7})
        got = await next_message(b)
        assert got is not None and got.payload == '{"id":"2"}'
        got = await next_message(a)  # a never sees user:1 (nor user:2)
        assert got is not None and (got.channel, got.payload) == ("public", '{"id":"2"}')
        assert broker.subscriber_count() == 2
        await a.close()
        await b.close()
        assert broker.subscriber_count() == 0
        assert broker.channel_count() == 0

    run(scenario)


def test_unsubscribe_stops_delivery(make_broker: Factory) -> None:
    broker = make_broker()

    async def scenario() -> None:
        sub = await broker.subscribe()
        await sub.add("hashtag:cats")
        await sub.add("hashtag:dogs")
        await sub.remove("hashtag:cats")
        publish_from_thread(broker, "hashtag:cats", "update", "cats")
        publish_from_thread(broker, "hashtag:dogs", "update", "dogs")
        got = await next_message(sub)
        assert got is not None and got.payload == "dogs"
        await sub.close()
        assert await sub.get() is None  # a closed subscription ends its reader

    run(scenario)


def test_message_text_is_mastodon_shaped_with_a_json_string_payload() -> None:
    raw = encode("update", '{"id":"5","content":"<p>\\"hi\\"</p>"}', [3, 1, 3])
    message = Message.decode("hashtag:cats", raw)
    assert message.accounts == frozenset({1, 3})
    import orjson

    text = message.text('["hashtag","cats"]')
    assert orjson.loads(text) == {
        "stream": ["hashtag", "cats"],
        "event": "update",
        "payload": '{"id":"5","content":"<p>\\"hi\\"</p>"}',
    }
    assert message.text('["hashtag","cats"]') is text  # built once, shared by connections


def test_each_event_loop_gets_its_own_copy(make_broker: Factory) -> None:
    """Two event loops (two servers in one process) both hear a publish."""
    broker = make_broker()
    ready = threading.Barrier(3)
    got: list[str] = []

    def listener() -> None:
        async def scenario() -> None:
            sub = await broker.subscribe()
            await sub.add("public")
            ready.wait()
            message = await next_message(sub)
            got.append(message.payload if message else "")
            await sub.close()

        run(scenario)

    threads = [threading.Thread(target=listener) for _ in range(2)]
    for t in threads:
        t.start()
    ready.wait()
    broker.publish("public", "update", "both")
    for t in threads:
        t.join(timeout=20)
    assert got == ["both", "both"]
    assert broker.subscriber_count() == 0


def test_a_stalled_subscriber_is_cut_off_not_buffered_forever(make_broker: Factory) -> None:
    from parvis.storage import pubsub

    broker = make_broker()

    async def scenario() -> None:
        sub = await broker.subscribe()
        await sub.add("public")
        broker.publish_many(
            [("public", encode("update", str(i))) for i in range(pubsub.QUEUE_LIMIT + 10)]
        )
        for _ in range(200):
            if sub.overflowed:
                break
            await asyncio.sleep(0.05)
        assert sub.overflowed
        await sub.close()

    run(scenario)
