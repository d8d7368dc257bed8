"""Live delivery of a conversation's events (an agent's message, a change of hands) to the customers
listening on ``GET /v1/conversations/{id}/events``, behind one interface with two implementations:

* ``InProcessConversationEvents`` (no Redis): a publish reaches the listeners of this process.
* ``RedisConversationEvents`` (``REDIS_URL`` set): a publish goes to one Redis pub/sub channel,
  ``<prefix>agents:events``; every replica holds one subscription to it (one connection per
  process, not one per listener) and hands each message to its own listeners of that conversation,
  so an agent's reply posted to any replica reaches a customer listening on any other.

Both fan out locally the same way (``_Listeners``). Conversations are named by the pseudonym of
their key (``Pseudonyms.conversation``), never the caller's id, on the channel as in every Redis key.
``listen`` returns once the listener is registered (and, with Redis, the subscription confirmed):
whatever is published after that reaches it — read the store after ``listen`` to miss nothing (an
event published just before may arrive too: readers dedupe by message id).

Delivery is at most once and only to listeners present at the time; a customer who was not
listening reads the stored turns (``GET /v1/conversations/{id}/messages``), which are the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from service.core.identifiers import Pseudonyms

log = logging.getLogger(__name__)

EventKind = Literal["agent_message", "state", "notice"]
LISTENER_QUEUE = 256  # events waiting for one slow listener; beyond that the oldest are dropped
RESUBSCRIBE_S = 1.0  # wait before subscribing again after the Redis connection broke
SUBSCRIBE_WAIT_S = 5.0  # longest wait for Redis to confirm a subscription


@dataclass(frozen=True)
class ConversationEvent:
    """``agent_message`` and ``notice`` (the assistant's, about a handoff that reached no one): ``data``
    is the stored turn as the API shows it; ``state``: ``{"state"}`` (and ``message``: a lapse's notice)."""

    kind: EventKind
    data: dict[str, Any]


@dataclass(eq=False)  # each listener is its own: compared and hashed by identity
class Listener:
    """One customer's stream: the events published for its conversation since it started listening."""

    queue: asyncio.Queue[ConversationEvent] = field(
        default_factory=lambda: asyncio.Queue(maxsize=LISTENER_QUEUE)
    )

    def put(self, event: ConversationEvent) -> None:
        if self.queue.full():  # a stalled client: keep the newest (the store keeps them all)
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def next(self, timeout_s: float) -> ConversationEvent | None:
        """The next event, or None after ``timeout_s`` without one (time for a keep-alive)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None


class ConversationEvents(Protocol):
    async def publish(self, conversation_key: str, event: ConversationEvent) -> None:
        """Deliver ``event`` to everyone listening on the conversation, on any replica."""
        ...

    def listen(self, conversation_key: str) -> contextlib.AbstractAsyncContextManager[Listener]:
        """Listen for the conversation's events while the context is open."""
        ...

    async def close(self) -> None: ...


class _Listeners:
    """This process's listeners by conversation (the pseudonym of its key)."""

    def __init__(self, pseudonyms: Pseudonyms) -> None:
        self.pseudonyms = pseudonyms
        self._by_conversation: dict[str, set[Listener]] = {}

    def name(self, conversation_key: str) -> str:
        return self.pseudonyms.conversation(conversation_key)

    def dispatch(self, name: str, event: ConversationEvent) -> None:
        for listener in list(self._by_conversation.get(name, ())):
            listener.put(event)

    @asynccontextmanager
    async def registered(self, name: str) -> AsyncIterator[Listener]:
        listener = Listener()
        self._by_conversation.setdefault(name, set()).add(listener)
        try:
            yield listener
        finally:
            listeners = self._by_conversation.get(name)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._by_conversation[name]

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_conversation.values())


class InProcessConversationEvents:
    def __init__(self, pseudonyms: Pseudonyms | None = None) -> None:
        self._listeners = _Listeners(pseudonyms or Pseudonyms())

    async def publish(self, conversation_key: str, event: ConversationEvent) -> None:
        self._listeners.dispatch(self._listeners.name(conversation_key), event)

    @asynccontextmanager
    async def listen(self, conversation_key: str) -> AsyncIterator[Listener]:
        async with self._listeners.registered(self._listeners.name(conversation_key)) as listener:
            yield listener

    async def close(self) -> None:
        return None


class RedisConversationEvents:
    """One pub/sub channel for the deployment; the subscription starts with the first listener."""

    def __init__(
        self, redis: Redis, *, prefix: str = "faqstream:", pseudonyms: Pseudonyms | None = None
    ) -> None:
        self.redis = redis
        self.channel = f"{prefix}agents:events"
        self._listeners = _Listeners(pseudonyms or Pseudonyms())
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def publish(self, conversation_key: str, event: ConversationEvent) -> None:
        name = self._listeners.name(conversation_key)
        message = json.dumps(
            {"conversation": name, "kind": event.kind, "data": event.data}, ensure_ascii=False
        )
        await self.redis.publish(self.channel, message)

    @asynccontextmanager
    async def listen(self, conversation_key: str) -> AsyncIterator[Listener]:
        async with self._listeners.registered(self._listeners.name(conversation_key)) as listener:
            await self._subscribed()
            yield listener

    async def _subscribed(self) -> None:
        """Subscribed, and the server confirmed it (a publish from now on reaches this process)."""
        async with self._starting:
            if self._reader is not None and not self._reader.done():
                return
            self._pubsub = await self._subscribe()
            self._reader = asyncio.ensure_future(self._read())

    async def _subscribe(self) -> PubSub:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        message = await pubsub.get_message(timeout=SUBSCRIBE_WAIT_S)
        if message is None or message["type"] != "subscribe":  # the server registered it: it says so first
            await self._drop(pubsub)
            raise TimeoutError(f"Redis did not confirm the subscription to {self.channel}")
        return pubsub

    async def _read(self) -> None:
        while True:
            pubsub = self._pubsub
            try:
                if pubsub is None:
                    self._pubsub = pubsub = await self._subscribe()
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except (RedisError, OSError) as exc:
                log.warning("agent events: Redis subscription broke (%s); subscribing again", exc)
                await self._drop(pubsub)
                await asyncio.sleep(RESUBSCRIBE_S)
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                body = json.loads(message["data"])
                name, event = body["conversation"], ConversationEvent(body["kind"], body["data"])
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("agent events: unreadable message skipped (%s)", exc)
                continue
            self._listeners.dispatch(name, event)

    async def _drop(self, pubsub: PubSub | None) -> None:
        self._pubsub = None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._drop(self._pubsub)


def conversation_events(
    redis: Redis | None, *, prefix: str = "faqstream:", pseudonyms: Pseudonyms | None = None
) -> ConversationEvents:
    """Across replicas through Redis when a client is given, in this process otherwise."""
    if redis is None:
        return InProcessConversationEvents(pseudonyms)
    return RedisConversationEvents(redis, prefix=prefix, pseudonyms=pseudonyms)
