"""Pub/sub for the streaming API: publishers (request threads, job workers) send rendered events
to named channels; subscribers (WebSocket and SSE connections, on an asyncio event loop) get them.

Two brokers share one local fan-out: an event loop holds one `_Hub` that decodes each message
once and hands it to every subscription of that loop. `InProcessBroker` (one machine) reaches
the hubs with `loop.call_soon_threadsafe`, once per loop and publish, however many connections
listen. `RedisBroker` (several processes) publishes with Redis PUBLISH; each hub holds one Redis
pub/sub connection, subscribed to the union of its connections' channels.

A message on the wire is JSON: {"event": str, "payload": str, "accounts": [int]} where
`accounts` are the ids a receiver's blocks and mutes are checked against.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import redis
import redis.asyncio

log = logging.getLogger("parvis.streaming")

# A connection that stops reading (a stalled client) is dropped rather than buffered forever.
QUEUE_LIMIT = 2000


class Message:
    """One published event, decoded once per event loop and shared by its subscriptions."""

    __slots__ = ("_literal", "_texts", "accounts", "channel", "event", "payload")

    def __init__(self, channel: str, event: str, payload: str, accounts: frozenset[int]) -> None:
        self.channel = channel
        self.event = event
        self.payload = payload
        self.accounts = accounts
        self._literal: str | None = None
        self._texts: dict[str, str] = {}

    @classmethod
    def decode(cls, channel: str, raw: bytes) -> Message:
        data = orjson.loads(raw)
        return cls(channel, str(data["event"]), str(data["payload"]), frozenset(data["accounts"]))

    def text(self, stream: str) -> str:
        """The Mastodon message for a stream (its JSON list, e.g. '["hashtag","cats"]'): built
        once per stream, then shared by every connection subscribed to it."""
        text = self._texts.get(stream)
        if text is None:
            if self._literal is None:
                self._literal = orjson.dumps(self.payload).decode()
            event = orjson.dumps(self.event).decode()
            text = f'{{"stream":{stream},"event":{event},"payload":{self._literal}}}'
            self._texts[stream] = text
        return text


def encode(event: str, payload: str, accounts: Iterable[int] = ()) -> bytes:
    return orjson.dumps({"event": event, "payload": payload, "accounts": sorted(set(accounts))})


class Subscription:
    """One connection's channels and inbox; create, use and close it on its event loop."""

    def __init__(self, broker: Broker, hub: _Hub) -> None:
        self._broker = broker
        self._hub = hub
        self.channels: set[str] = set()
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self.overflowed = False
        self.closed = False

    async def add(self, channel: str) -> None:
        if channel not in self.channels and not self.closed:
            self.channels.add(channel)
            await self._hub.attach(self, channel)

    async def remove(self, channel: str) -> None:
        if channel in self.channels:
            self.channels.discard(channel)
            await self._hub.detach(self, channel)

    def push(self, message: Message | None) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.overflowed = True
            self.queue.put_nowait(None)  # wakes the reader, which sees `overflowed`
            return
        self.queue.put_nowait(message)

    async def get(self) -> Message | None:
        """The next message; None once the subscription overflowed or was closed."""
        if self.overflowed or self.closed:
            return None
        return await self.queue.get()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for channel in list(self.channels):
            await self.remove(channel)
        self.queue.put_nowait(None)
        await self._broker._release(self._hub, self)


class _Hub:
    """The subscriptions of one event loop, by channel."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.channels: dict[str, set[Subscription]] = {}
        self.subscriptions: set[Subscription] = set()

    async def attach(self, sub: Subscription, channel: str) -> None:
        self.channels.setdefault(channel, set()).add(sub)

    async def detach(self, sub: Subscription, channel: str) -> None:
        subs = self.channels.get(channel)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.channels[channel]

    def deliver(self, items: Sequence[tuple[str, bytes]]) -> None:
        for channel, raw in items:
            subs = self.channels.get(channel)
            if not subs:
                continue
            message = Message.decode(channel, raw)
            for sub in list(subs):
                sub.push(message)

    async def close(self) -> None:
        pass


class Broker:
    """The common part: hubs by event loop, counting, releasing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hubs: dict[asyncio.AbstractEventLoop, _Hub] = {}

    def publish(self, channel: str, event: str, payload: str, accounts: Iterable[int] = ()) -> None:
        self.publish_many([(channel, encode(event, payload, accounts))])

    def publish_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        raise NotImplementedError

    def _new_hub(self, loop: asyncio.AbstractEventLoop) -> _Hub:
        return _Hub(loop)

    async def subscribe(self) -> Subscription:
        """A new subscription for the running event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            hub = self._hubs.get(loop)
            if hub is None:
                hub = self._hubs[loop] = self._new_hub(loop)
        sub = Subscription(self, hub)
        hub.subscriptions.add(sub)
        return sub

    async def _release(self, hub: _Hub, sub: Subscription) -> None:
        hub.subscriptions.discard(sub)
        if hub.subscriptions:
            return
        with self._lock:
            if self._hubs.get(hub.loop) is hub and not hub.subscriptions:
                del self._hubs[hub.loop]
            else:
                return
        await hub.close()

    def subscriber_count(self) -> int:
        """Open subscriptions in this process (all event loops)."""
        with self._lock:
            hubs = list(self._hubs.values())
        return sum(len(h.subscriptions) for h in hubs)

    def channel_count(self) -> int:
        with self._lock:
            hubs = list(self._hubs.values())
        return sum(len(h.channels) for h in hubs)

    def _hub_list(self) -> list[_Hub]:
        with self._lock:
            return list(self._hubs.values())

    def _forget(self, hub: _Hub) -> None:
        with self._lock:
            if self._hubs.get(hub.loop) is hub:
                del self._hubs[hub.loop]

    def close(self) -> None:
        pass


class InProcessBroker(Broker):
    """One process: publish hands the messages to each event loop's hub, thread-safely."""

    def publish_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        if not items:
            return
        for hub in self._hub_list():
            try:
                hub.loop.call_soon_threadsafe(hub.deliver, items)
            except RuntimeError:  # that loop is closed: its connections are gone
                self._forget(hub)


class _RedisHub(_Hub):
    """A hub fed by one Redis pub/sub connection, subscribed to its channels' union."""

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str, prefix: str) -> None:
        super().__init__(loop)
        self.prefix = prefix
        self.client = redis.asyncio.Redis.from_url(url)
        self.pubsub = self.client.pubsub()
        self.reader: asyncio.Task[None] | None = None
        self.pending: dict[str, asyncio.Future[None]] = {}
        self.ready = asyncio.Lock()

    async def _start(self) -> None:
        async with self.ready:
            if self.reader is None:
                # Always subscribed to one control channel, so the reader never idles on an
                # unsubscribed connection.
                await self._subscribe(self.prefix + "\x00control")
                self.reader = self.loop.create_task(self._read())

    async def _subscribe(self, name: str) -> None:
        waiter: asyncio.Future[None] = self.loop.create_future()
        self.pending[name] = waiter
        await self.pubsub.subscribe(name)
        if self.reader is None:
            # Nobody reads yet: wait for the confirmation here.
            while not waiter.done():
                message = await self.pubsub.get_message(timeout=5.0)
                if message is None:
                    raise TimeoutError("Redis did not confirm the subscription")
                self._handle(message)
        else:
            await asyncio.wait_for(waiter, 5.0)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = message["channel"]
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        if kind == "message":
            self.deliver([(name.removeprefix(self.prefix), message["data"])])
        elif kind == "subscribe":
            waiter = self.pending.pop(name, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def _read(self) -> None:
        while True:
            try:
                message = await self.pubsub.get_message(timeout=None)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                # redis-py reconnects and subscribes again on the next read; events published
                # meanwhile are lost (pub/sub has no history), as with Mastodon's streaming.
                log.warning("Redis pub/sub connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if message is not None:
                self._handle(message)

    async def attach(self, sub: Subscription, channel: str) -> None:
        await self._start()
        fresh = channel not in self.channels
        await super().attach(sub, channel)
        if fresh:
            await self._subscribe(self.prefix + channel)

    async def detach(self, sub: Subscription, channel: str) -> None:
        await super().detach(sub, channel)
        if channel not in self.channels:
            with contextlib.suppress(redis.RedisError, OSError):
                await self.pubsub.unsubscribe(self.prefix + channel)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, redis.RedisError, OSError):
                await self.reader
        with contextlib.suppress(redis.RedisError, OSError):
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
            await self.client.aclose()


class RedisBroker(Broker):
    """Several processes: Redis PUBLISH, one pipeline per batch; `prefix` namespaces channels."""

    def __init__(self, url: str, prefix: str = "parvis:stream:") -> None:
        super().__init__()
        self.url = url
        self.prefix = prefix
        self.client = redis.Redis.from_url(url)

    def _new_hub(self, loop: asyncio.AbstractEventLoop) -> _Hub:
        return _RedisHub(loop, self.url, self.prefix)

    def publish_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        if not items:
            return
        with self.client.pipeline(transaction=False) as pipe:
            for channel, raw in items:
                pipe.publish(self.prefix + channel, raw)
            pipe.execute()

    def close(self) -> None:
        self.client.close()
