"""The conversation events contract (``service.agents.events``), on the in-process and the Redis
implementation (real Redis). With Redis the publisher and the listener are two instances on two
clients — two replicas — so an event crosses processes the way it does in a deployment."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from service.agents.events import (
    ConversationEvent,
    ConversationEvents,
    InProcessConversationEvents,
    RedisConversationEvents,
)
from service.core.identifiers import Pseudonyms
from tests.contracts import BACKENDS, REDIS_URL, fresh_redis

pytestmark = pytest.mark.anyio
WAIT_S = 5.0  # an event that does not come within this is lost (it takes milliseconds)


@dataclass
class Pair:
    """Where events are published and where they are listened to (two replicas with Redis)."""

    publisher: ConversationEvents
    listener: ConversationEvents
    channel: str | None = None  # the Redis channel, for looking at what crosses it


@pytest.fixture(params=BACKENDS)
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    if request.param == "memory":
        events = InProcessConversationEvents()
        yield Pair(events, events)
        await events.close()
        return
    async with fresh_redis("conversation-events") as (client, prefix):
        other = aioredis.from_url(REDIS_URL)
        publisher = RedisConversationEvents(client, prefix=prefix)
        listener = RedisConversationEvents(other, prefix=prefix)
        try:
            yield Pair(publisher, listener, publisher.channel)
        finally:
            await listener.close()
            await publisher.close()
            await other.aclose()


def message(text: str) -> ConversationEvent:
    return ConversationEvent("agent_message", {"message_id": f"msg_{text}", "text": text})


async def test_a_listener_gets_what_is_published_for_its_conversation_in_order(pair: Pair) -> None:
    async with pair.listener.listen("acme/c1") as listener:
        await pair.publisher.publish("acme/c1", message("one"))
        await pair.publisher.publish("acme/c1", ConversationEvent("state", {"state": "bot"}))
        first = await listener.next(WAIT_S)
        second = await listener.next(WAIT_S)
    assert first == message("one")
    assert second == ConversationEvent("state", {"state": "bot"})


async def test_every_listener_of_the_conversation_gets_it_and_no_other_conversation(pair: Pair) -> None:
    async with (
        pair.listener.listen("acme/c1") as a,
        pair.listener.listen("acme/c1") as b,
        pair.listener.listen("acme/c2") as elsewhere,
        pair.listener.listen("other-tenant/c1") as other_tenant,
    ):
        await pair.publisher.publish("acme/c1", message("hello"))
        assert await a.next(WAIT_S) == message("hello")
        assert await b.next(WAIT_S) == message("hello")
        await pair.publisher.publish("acme/c2", message("marker"))  # sent after: arrives after
        assert await elsewhere.next(WAIT_S) == message("marker")
        assert other_tenant.queue.empty() and a.queue.empty()


async def test_nothing_is_kept_for_a_listener_that_left_or_had_not_come(pair: Pair) -> None:
    await pair.publisher.publish("acme/c1", message("before"))  # nobody listens: gone
    async with pair.listener.listen("acme/c1") as listener:
        await pair.publisher.publish("acme/c1", message("during"))
        assert await listener.next(WAIT_S) == message("during")
        assert await listener.next(0.2) is None  # "before" never arrives
    await pair.publisher.publish("acme/c1", message("after"))  # no listener left: no error
    assert listener.queue.empty()


async def test_the_channel_names_conversations_by_pseudonym_only(pair: Pair) -> None:
    if pair.channel is None:
        pytest.skip("in-process: nothing leaves the process")
    spy = aioredis.from_url(REDIS_URL)
    pubsub = spy.pubsub()
    try:
        await pubsub.subscribe(pair.channel)
        while (await pubsub.get_message(timeout=WAIT_S) or {}).get("type") != "subscribe":
            pass
        await pair.publisher.publish("acme/conv_secret42", message("hi"))
        seen = None
        while seen is None:
            seen = await pubsub.get_message(ignore_subscribe_messages=True, timeout=WAIT_S)
        body = json.loads(seen["data"])
        assert "conv_secret42" not in seen["data"].decode() and "acme" not in seen["data"].decode()
        assert body["conversation"] == Pseudonyms().conversation("acme/conv_secret42")
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await spy.aclose()
