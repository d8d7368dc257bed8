"""End to end: a takeover nobody can keep goes back to the assistant, and the customer is told.

The real service over a real socket (the fake Anthropic server through the real SDK), its
conversations in memory or in Redis, a real webhook receiver that is down (connection refused),
answers 500 to every attempt, or refuses for good (410); the customer's events stream read by a real
SSE client; an in-memory recorder in place of the records writer. Then the reply timeout
(``AGENTS_REPLY_TIMEOUT_S``) with a receiver that takes every event and an agent who answers one
conversation and not the other.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from fakes import FakeAnthropic
from service.agents.notice import passed_on
from service.agents.settings import AgentSettings
from service.api.agents import takeover_of
from service.handoff.messages import handoff_message, lapsed_message
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import Outcome, WebhookSender, WebhookSettings
from service.quotas.settings import LimitSettings
from service.records.records import MessageRecord, StateRecord
from service.settings.auth import AuthSettings
from service.settings.database import DatabaseSettings
from service.settings.redis import RedisSettings
from service.tenants.store import KeyStore
from tests.conftest import REDIS_URL, redis_namespace
from tests.integration.test_agent_takeover import Listening, MemoryRecorder
from tests.service_harness import (
    FAST_RETRIES,
    REFUND_FAQ,
    REPLY,
    Served,
    ask,
    auth,
    eventually,
    free_port,
    over_http,
    scrape,
    service_settings,
    total,
)
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

KEY = "key-a-0123456789abcdef"
CONTACT = "hello@harbourdesk.example or +34 600 000 000"  # kept as is in the notice (the company's)
LAPSES = "faqstream_takeover_lapses_total"
WEBHOOK_EVENTS = "faqstream_webhook_events_total"


@contextmanager
def serving(
    tmp: Path, template: Path, fake: FakeAnthropic, url: str, *, redis: bool, **components: Any
) -> Iterator[tuple[Served, MemoryRecorder]]:
    """The service handing off to ``url``, conversations in Redis or in memory, records in memory."""
    with redis_namespace("lapse") as prefix:
        shared: dict[str, Any] = {
            "resilience": FAST_RETRIES,
            "auth": AuthSettings(api_keys=f"a={KEY}"),  # type: ignore[arg-type]
            "database": DatabaseSettings(sqlite_path=tmp / "faqstream.db"),
            "handoff": HandoffSettings(webhook_url=url, contact=CONTACT),
            "limits": LimitSettings(records_rpm=0),  # the test polls as fast as it likes
            "webhook": WebhookSettings(
                attempts=3, backoff_initial_s=0.01, backoff_max_s=0.05, timeout_s=30, allow_unsigned=True
            ),
            **components,
        }
        if redis:
            shared["redis"] = RedisSettings(url=REDIS_URL, key_prefix=prefix)  # type: ignore[arg-type]
        settings = service_settings(
            template, tmp, api_key="test-key", base_url=fake.base_url, components=shared
        )
        with over_http(settings) as served:
            recorder = MemoryRecorder()
            takeover_of(served.runtime).recorder = recorder  # the records writer's place
            yield served, recorder


@contextmanager
def listening(served: Served, conversation_id: str) -> Iterator[Listening]:
    """The customer's events stream, read by a real SSE client in a thread of its own."""
    heard = Listening()
    client = httpx.Client(base_url=served.base, timeout=httpx.Timeout(30, read=None))

    def read() -> None:
        try:
            with connect_sse(
                client, "GET", f"/v1/conversations/{conversation_id}/events", headers=auth(KEY)
            ) as source:
                heard.status = source.response.status_code
                for event in source.iter_sse():
                    if event.data:
                        heard.add(event.event, json.loads(event.data))
        except (httpx.HTTPError, RuntimeError):
            pass  # closed at the end

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield heard
    finally:
        client.close()
        thread.join(timeout=5)


def polled(served: Served, conversation_id: str) -> dict[str, Any]:
    response = served.client.get(f"/v1/conversations/{conversation_id}/messages", headers=auth(KEY))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def back_with(served: Served, conversation_id: str, notice: str) -> dict[str, Any]:
    """Wait until the poll shows the conversation with the assistant again, the notice last."""

    def back() -> bool:
        body = polled(served, conversation_id)
        return bool(body["state"] == "bot" and body["messages"][-1]["text"] == notice)

    assert eventually(back, timeout=30), polled(served, conversation_id)
    return polled(served, conversation_id)


def assert_answered_again(served: Served, fake: FakeAnthropic, conversation_id: str) -> None:
    fake.reset()
    again = ask(served.client, REFUND_FAQ, key=KEY, conversation_id=conversation_id)
    assert again.meta["mode"] == "generative" and again.text == REPLY and again.done["with_agent"] is False


def assert_recorded(recorder: MemoryRecorder, conversation_id: str, notice: str) -> None:
    records = recorder.of(conversation_id)
    assert [r.state for r in records if isinstance(r, StateRecord)] == ["agent", "bot"]
    (recorded,) = [r for r in records if isinstance(r, MessageRecord) and r.mode == "notice"]
    assert recorded.role == "assistant" and recorded.text == notice and recorded.status == "complete"


# ---------------------------------------------------------------- the handoff reaches no one


@pytest.mark.parametrize("store", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_a_helpdesk_that_is_down_leaves_no_customer_waiting(
    store: str, tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    down = f"http://127.0.0.1:{free_port()}/hooks/handoff"  # nothing listens: connection refused
    with serving(tmp_path, template, fake, down, redis=store == "redis") as (served, recorder):
        answer = ask(served.client, "I want to talk to a person", key=KEY)
        assert answer.text == handoff_message("en", "customer_request", delivery="takeover")
        assert answer.done["with_agent"] is True  # promised, before the webhook's fate is known
        conversation_id = answer.meta["conversation_id"]

        notice = lapsed_message("en", "undelivered", contact=CONTACT)
        body = back_with(served, conversation_id, notice)
        last = body["messages"][-1]
        assert last["role"] == "assistant" and last["language"] == "en"
        assert notice.startswith("I'm sorry, I couldn't reach a colleague") and notice.endswith(CONTACT)
        # A stream opened afterwards starts with the change and its notice.
        with listening(served, conversation_id) as heard:
            assert eventually(lambda: heard.seen("state", lambda d: d.get("message") == last), timeout=20)

        samples = scrape(served.client)
        assert total(samples, LAPSES, cause="undelivered") == 1
        assert total(samples, WEBHOOK_EVENTS, sender="handoff", outcome="failed") == 1
        assert_recorded(recorder, conversation_id, notice)
        assert_answered_again(served, fake, conversation_id)


@pytest.mark.redis
def test_a_helpdesk_answering_500_until_the_retries_run_out(
    tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    with (
        Receiver(status=500).running() as receiver,
        serving(tmp_path, template, fake, receiver.url, redis=True) as (served, recorder),
    ):
        receiver.hold_first(lambda data: "question" in data)  # the handoff's first attempt waits
        answer = ask(served.client, "I want to talk to a person", key=KEY)
        conversation_id = answer.meta["conversation_id"]
        assert answer.done["with_agent"] is True and receiver.held.wait(20)
        with listening(served, conversation_id) as heard:
            assert eventually(lambda: heard.seen("state", lambda d: d == {"state": "agent"}), timeout=20)
            waiting = ask(served.client, "Hello? Is anyone there?", key=KEY, conversation_id=conversation_id)
            assert waiting.text == passed_on("en") and waiting.meta["mode"] == "agent"
            receiver.release()  # 500, then 500 to every retry
            notice = lapsed_message("en", "undelivered", contact=CONTACT)
            assert eventually(
                lambda: heard.seen("state", lambda d: d["state"] == "bot" and d["message"]["text"] == notice),
                timeout=30,
            )
        handoffs = receiver.matching(lambda d: d.body["type"] == "handoff")
        assert [d.status for d in handoffs] == [500, 500, 500]  # WEBHOOK_ATTEMPTS=3
        back_with(served, conversation_id, notice)
        assert total(scrape(served.client), LAPSES, cause="undelivered") == 1
        assert_recorded(recorder, conversation_id, notice)
        assert_answered_again(served, fake, conversation_id)


@pytest.mark.redis
def test_a_helpdesk_refusing_for_good_the_customer_is_told_in_their_language(
    tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    with (
        Receiver(status=410).running() as receiver,
        serving(tmp_path, template, fake, receiver.url, redis=True) as (served, recorder),
    ):
        answer = ask(served.client, "Quiero hablar con una persona", key=KEY)
        assert answer.meta["language"] == "es" and answer.done["with_agent"] is True
        conversation_id = answer.meta["conversation_id"]
        notice = lapsed_message("es", "undelivered", contact=CONTACT)
        assert notice.startswith("Lo siento, no he podido contactar") and notice.endswith(CONTACT)
        back_with(served, conversation_id, notice)
        (refused,) = receiver.matching(lambda d: d.body["type"] == "handoff")  # final: never retried
        assert refused.status == 410
        samples = scrape(served.client)
        assert total(samples, LAPSES, cause="undelivered") == 1
        assert total(samples, WEBHOOK_EVENTS, sender="handoff", outcome="rejected") == 1
        assert_recorded(recorder, conversation_id, notice)


# ---------------------------------------------------------------- no agent replies in time


@pytest.mark.redis
def test_no_agent_reply_within_the_timeout_gives_it_back_and_an_agents_reply_keeps_it(
    tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    agents = AgentSettings(reply_timeout_s=2.0)
    with (
        Receiver().running() as receiver,
        serving(tmp_path, template, fake, receiver.url, redis=True, agents=agents) as (served, recorder),
    ):
        _, agent_key = KeyStore.from_settings(served.runtime.settings.database).create(
            "a", "helpdesk", ("agent",)
        )
        answered = ask(served.client, "I want to talk to a person", key=KEY).meta["conversation_id"]
        posted = served.client.post(
            f"/v1/conversations/{answered}/agent-messages",
            json={"text": "Ana here, I'm on it.", "author": "Ana"},
            headers=auth(agent_key),
        )
        assert posted.status_code == 201, posted.text
        # Handed off after the first, with the same timeout: its timer fires after the first's.
        waiting = ask(served.client, "Ich möchte mit einem Menschen sprechen", key=KEY)
        assert waiting.meta["language"] == "de" and waiting.done["with_agent"] is True
        left = waiting.meta["conversation_id"]
        notice = lapsed_message("de", "unanswered", contact=CONTACT)
        back_with(served, left, notice)
        assert polled(served, answered)["state"] == "agent"  # its agent replied: it stays theirs
        samples = scrape(served.client)
        assert total(samples, LAPSES, cause="unanswered") == 1 and total(samples, LAPSES) == 1
        assert eventually(lambda: any(d.body["type"] == "handback" for d in receiver.deliveries), timeout=20)
        (sent,) = [d for d in receiver.deliveries if d.body["type"] == "handback"]
        assert sent.data == {"conversation_id": left, "client": "a", "cause": "unanswered"}
        assert_recorded(recorder, left, notice)


# ---------------------------------------------------------------- the sender's hook


def test_the_hook_runs_for_each_event_that_reaches_no_one() -> None:
    calls: list[tuple[str, Outcome]] = []

    def hook(name: str) -> Any:
        async def undelivered(outcome: Outcome) -> None:
            calls.append((name, outcome))

        return undelivered

    async def run(refusing: Receiver, taking: Receiver) -> None:
        settings = WebhookSettings(attempts=2, backoff_initial_s=0.01, workers=1, allow_unsigned=True)
        senders = [
            WebhookSender(taking.url, settings),
            WebhookSender(refusing.url, settings),
            WebhookSender(f"http://127.0.0.1:{free_port()}/x", settings),  # down
        ]
        for sender, name in zip(senders, ("taken", "refused", "down"), strict=True):
            sender.send("handoff", {"name": name}, on_undelivered=hook(name))
        for sender in senders:
            await sender.aclose(drain_s=20)  # every event handled, each hook awaited

    with Receiver(status=410).running() as refusing, Receiver().running() as taking:
        asyncio.run(run(refusing, taking))
    assert len(taking.deliveries) == 1 and len(refusing.deliveries) == 1
    assert sorted(calls) == [("down", "failed"), ("refused", "rejected")]
