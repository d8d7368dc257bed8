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
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from httpx_sse import connect_sse
from openai.types.chat import ChatCompletionMessageParam

from fakes import FakeAnthropic
from service.agents.notice import passed_on
from service.agents.settings import AgentSettings
from service.api.agents import takeover_of
from service.api.openai_wire import without_tag
from service.conversations.store import Conversation, conversation_key
from service.handoff.late_notices import lapsed_message, unnotified_message
from service.handoff.messages import handoff_message
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
REPLY_TIMEOUT_S = 1.0  # AGENTS_REPLY_TIMEOUT_S where the tests wait it out
OFF_TOPIC = "Who won the football world cup in 2022?"  # a notify handoff (not a takeover reason)


@contextmanager
def serving(
    tmp: Path,
    template: Path,
    fake: FakeAnthropic,
    url: str,
    *,
    redis: bool,
    namespace: str | None = None,
    **components: Any,
) -> Iterator[tuple[Served, MemoryRecorder]]:
    """The service handing off to ``url``, conversations in Redis (under ``namespace`` when given:
    another instance's) or in memory, records in memory."""
    with redis_namespace("lapse") as fresh:
        prefix = namespace or fresh
        shared: dict[str, Any] = {
            "resilience": FAST_RETRIES,
            "auth": AuthSettings(api_keys=f"a={KEY}"),  # type: ignore[arg-type]
            "database": DatabaseSettings(sqlite_path=tmp / "faqstream.db"),
            "handoff": HandoffSettings(webhook_url=url, contact={"*": CONTACT}),
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


# ---------------------------------------------------------------- the deadline outlives a process


def stored(served: Served, conversation_id: str) -> Conversation:
    """The conversation as the store keeps it (read without lapsing anything)."""
    key = conversation_key("a", conversation_id)
    conv: Conversation | None = served.run(lambda: takeover_of(served.runtime).sessions.load(key))
    assert conv is not None
    return conv


def past_deadline(conv: Conversation) -> None:
    """Wait until the reply deadline of ``conv``'s takeover has passed (``REPLY_TIMEOUT_S``)."""
    assert conv.state_at is not None
    due = conv.state_at + timedelta(seconds=REPLY_TIMEOUT_S)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.05)


def instance(
    tmp: Path, name: str, template: Path, fake: FakeAnthropic, *, url: str, shared: str
) -> AbstractContextManager[tuple[Served, MemoryRecorder]]:
    """One of several instances of the service over the same Redis keys (``shared``), each with the
    reply timeout the tests wait out."""
    agents = AgentSettings(reply_timeout_s=REPLY_TIMEOUT_S)
    return serving(tmp / name, template, fake, url, redis=True, namespace=shared, agents=agents)


@pytest.mark.redis
def test_a_reply_deadline_outlives_the_instance_that_made_the_handoff(
    tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    """Handed off on one instance, which then stops (its timer with it); past the deadline the
    customer's next message, on another instance over the same Redis, gets the notice, then an answer."""
    with (
        Receiver().running() as receiver,
        redis_namespace("restart") as shared,
        instance(tmp_path, "two", template, fake, url=receiver.url, shared=shared) as (two, recorder),
    ):
        with instance(tmp_path, "one", template, fake, url=receiver.url, shared=shared) as (one, _):
            answer = ask(one.client, "Ich möchte mit einem Menschen sprechen", key=KEY)
            assert answer.meta["language"] == "de" and answer.done["with_agent"] is True
            conversation_id = answer.meta["conversation_id"]
        # The first instance is gone; the deadline is in the store, which the other reads.
        conv = stored(two, conversation_id)
        assert conv.state == "agent" and conv.handoff_id == answer.meta["message_id"]
        past_deadline(conv)
        assert stored(two, conversation_id).state == "agent"  # no timer left to fire

        fake.reset()
        again = ask(two.client, REFUND_FAQ, key=KEY, conversation_id=conversation_id)
        notice = lapsed_message("de", "unanswered", contact=CONTACT)
        assert [(n["role"], n["text"]) for n in again.meta["notices"]] == [("assistant", notice)]
        assert again.meta["mode"] == "generative" and again.text == REPLY
        assert again.done["with_agent"] is False
        body = polled(two, conversation_id)
        assert body["state"] == "bot"
        assert [m["text"] for m in body["messages"]][-3:] == [notice, REFUND_FAQ, REPLY]
        assert total(scrape(two.client), LAPSES, cause="unanswered") == 1
        assert eventually(lambda: bool(receiver.matching(lambda d: d.body["type"] == "handback")), timeout=20)
        records = recorder.of(conversation_id)
        assert [r.state for r in records if isinstance(r, StateRecord)] == ["bot"]  # "agent": the first's
        assert [r.text for r in records if isinstance(r, MessageRecord) and r.mode == "notice"] == [notice]
        # The next one carries no notice: it was shown.
        assert ask(two.client, REFUND_FAQ, key=KEY, conversation_id=conversation_id).meta["notices"] == []


@pytest.mark.redis
def test_two_instances_past_the_deadline_give_it_back_once(
    tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    """Both instances alive: the handing-off one's timer and customer reads on both race at the
    deadline; the store lets one of them give the conversation back."""
    with (
        Receiver().running() as receiver,
        redis_namespace("race") as shared,
        instance(tmp_path, "one", template, fake, url=receiver.url, shared=shared) as (one, _),
        instance(tmp_path, "two", template, fake, url=receiver.url, shared=shared) as (two, _),
    ):
        answer = ask(one.client, "I want to talk to a person", key=KEY)
        conversation_id = answer.meta["conversation_id"]
        past_deadline(stored(one, conversation_id))
        with ThreadPoolExecutor(4) as pool:
            bodies = list(pool.map(lambda served: polled(served, conversation_id), [one, two, one, two]))
        assert [b["state"] for b in bodies] == ["bot"] * 4
        notice = lapsed_message("en", "unanswered", contact=CONTACT)
        texts = [m["text"] for m in polled(two, conversation_id)["messages"]]
        assert texts.count(notice) == 1 and texts[-1] == notice
        lapses = [total(scrape(served.client), LAPSES, cause="unanswered") for served in (one, two)]
        assert sum(lapses) == 1, lapses
        assert eventually(lambda: bool(receiver.matching(lambda d: d.body["type"] == "handback")), timeout=20)
        assert len(receiver.matching(lambda d: d.body["type"] == "handback")) == 1


@pytest.mark.redis
def test_a_stream_opened_while_the_assistant_had_it_watches_a_later_takeovers_deadline(
    tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    """The customer's stream opens on one instance while the assistant answers; the handoff is made on
    another that runs no reply timer (``AGENTS_REPLY_TIMEOUT_S`` 0 there): the stream, told of the
    change of hands, reads the new deadline and gives the conversation back when it passes."""
    untimed = AgentSettings(reply_timeout_s=0)
    with (
        Receiver().running() as receiver,
        redis_namespace("stream") as shared,
        instance(tmp_path, "two", template, fake, url=receiver.url, shared=shared) as (two, _),
        serving(
            tmp_path / "one", template, fake, receiver.url, redis=True, namespace=shared, agents=untimed
        ) as (one, _),
    ):
        conversation_id = ask(two.client, REFUND_FAQ, key=KEY).meta["conversation_id"]
        with listening(two, conversation_id) as heard:
            assert eventually(lambda: heard.seen("state", lambda d: d == {"state": "bot"}), timeout=20)
            answer = ask(one.client, "I want to talk to a person", key=KEY, conversation_id=conversation_id)
            assert answer.done["with_agent"] is True
            assert eventually(lambda: heard.seen("state", lambda d: d == {"state": "agent"}), timeout=20)
            notice = lapsed_message("en", "unanswered", contact=CONTACT)
            assert eventually(
                lambda: heard.seen("state", lambda d: d["state"] == "bot" and "message" in d), timeout=30
            ), heard.events
            assert heard.seen("state", lambda d: d.get("message", {}).get("text") == notice)
        assert total(scrape(two.client), LAPSES, cause="unanswered") == 1  # the stream's instance did it
        assert total(scrape(one.client), LAPSES) == 0
        assert polled(one, conversation_id)["messages"][-1]["text"] == notice


# ---------------------------------------------------------------- a notify handoff reaches no one


@pytest.mark.redis
def test_a_notify_handoff_nobody_received_is_owned_up_to(
    tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    """The customer was told the team knows and the assistant goes on; the helpdesk refuses the
    handoff for good: the customer is told it could not be passed on, live and on the poll."""
    with (
        Receiver(status=410).running() as receiver,
        serving(tmp_path, template, fake, receiver.url, redis=True) as (served, recorder),
    ):
        receiver.hold_first(lambda data: "question" in data)  # the handoff's first attempt waits
        answer = ask(served.client, OFF_TOPIC, key=KEY)
        assert answer.meta["handoff"]["reason"] == "no_relevant_passages"
        told = handoff_message("en", "no_relevant_passages", delivery="notify", contact=CONTACT)
        assert answer.text == told and "passed this on to our support team" in told
        assert answer.done["with_agent"] is False and receiver.held.wait(20)
        conversation_id = answer.meta["conversation_id"]
        notice = unnotified_message("en", contact=CONTACT)
        assert notice.startswith("I'm sorry, I couldn't pass your message on") and notice.endswith(CONTACT)
        with listening(served, conversation_id) as heard:
            assert eventually(lambda: heard.seen("state", lambda d: d == {"state": "bot"}), timeout=20)
            receiver.release()  # 500, then 410 for good
            assert eventually(lambda: heard.seen("notice", lambda d: d["text"] == notice), timeout=30)
        assert [d.status for d in receiver.matching(lambda d: d.body["type"] == "handoff")] == [500, 410]

        body = polled(served, conversation_id)
        last = body["messages"][-1]
        assert body["state"] == "bot"
        assert (last["role"], last["text"], last["language"]) == ("assistant", notice, "en")
        with listening(served, conversation_id) as heard:  # a stream opened later starts with it
            assert eventually(lambda: heard.seen("notice", lambda d: d == last), timeout=20)
        samples = scrape(served.client)
        assert total(samples, LAPSES, cause="notify_undelivered") == 1
        assert total(samples, LAPSES, cause="undelivered") == 0
        assert total(samples, WEBHOOK_EVENTS, sender="handoff", outcome="rejected") == 1
        records = recorder.of(conversation_id)
        assert [r.text for r in records if isinstance(r, MessageRecord) and r.mode == "notice"] == [notice]
        assert not [r for r in records if isinstance(r, StateRecord)]  # the assistant had it all along

        fake.reset()
        again = ask(served.client, REFUND_FAQ, key=KEY, conversation_id=conversation_id)
        assert [n["text"] for n in again.meta["notices"]] == [notice]
        assert again.meta["mode"] == "generative" and again.text == REPLY

        # An OpenAI-compatible frontend (no events stream): the notice opens the next reply.
        with openai.OpenAI(base_url=f"{served.base}/v1", api_key=KEY, max_retries=0, timeout=30) as sdk:
            chat: list[ChatCompletionMessageParam] = [{"role": "user", "content": OFF_TOPIC}]
            first = sdk.chat.completions.create(model="faqstream", messages=chat)
            info = (first.model_extra or {})["faqstream"]
            assert info["handoff"]["reason"] == "no_relevant_passages"
            chat.append({"role": "assistant", "content": first.choices[0].message.content or ""})
            opened = info["conversation_id"]
            assert eventually(lambda: polled(served, opened)["messages"][-1]["text"] == notice, timeout=30)
            chat.append({"role": "user", "content": REFUND_FAQ})
            fake.reset()
            second = sdk.chat.completions.create(model="faqstream", messages=chat)
            assert (second.model_extra or {})["faqstream"]["conversation_id"] == opened
            assert without_tag(second.choices[0].message.content or "") == f"{notice}\n\n{REPLY}"


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
