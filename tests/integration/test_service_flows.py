"""End to end (issues 4 and 5): conversations (in-process and in Redis), API keys and per-key
scoping, handoff (with a real webhook receiver), reply language, cross-lingual retrieval.

Each service is the real app on Litestar's in-process client (tests/service_harness.py), talking to
the fake Anthropic server through the real SDK; answers are read with a real SSE client. The answer
cache, rate limits, budgets, overload shedding and metrics are in tests/integration/test_service_limits.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from fakes import FakeAnthropic
from service.agents.settings import AgentSettings
from service.core.identifiers import Pseudonyms
from service.handoff.messages import handoff_message
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import WebhookSettings
from service.retrieval.translate import TranslateSettings
from service.settings.auth import AuthSettings
from service.settings.redis import RedisSettings
from tests.service_harness import (
    FAST_RETRIES,
    MIN_CACHE,
    NO_PASSAGES,
    REFUND_FAQ,
    REPLY,
    Served,
    ask,
    auth,
    eventually,
    in_process,
    last_user_text,
    post,
    scrape,
    service_settings,
    total,
)
from tests.webhook_receiver import Delivery, Receiver

pytestmark = pytest.mark.slow

KEY_A = "key-a-0123456789abcdef"
KEY_B = "key-b-0123456789abcdef"
REDIS_URL = "redis://127.0.0.1:6379/0"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic, receiver: Receiver
) -> Iterator[Served]:
    components = {
        "resilience": FAST_RETRIES,
        "auth": AuthSettings(api_keys=f"a={KEY_A},b={KEY_B}"),  # type: ignore[arg-type]
        "handoff": HandoffSettings(webhook_url=receiver.url),
        "webhook": WebhookSettings(
            backoff_initial_s=0.01, backoff_max_s=0.05, timeout_s=30, allow_unsigned=True
        ),
        # These tests follow the assistant's handoff decisions turn after turn: no handoff gives the
        # conversation to a person here (that is tests/integration/test_agent_takeover.py).
        "agents": AgentSettings(takeover_reasons=()),
    }
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("svc"),
        api_key="test-key",
        base_url=fake.base_url,
        components=components,
    )
    with in_process(settings) as served:
        yield served


# ---------------------------------------------------------------- API keys


def test_api_key_is_required_when_keys_are_configured(service: Served) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-key-0123456789"}, {"X-API-Key": "nope"}):
        for stream in (False, True):
            response = service.client.post(
                "/v1/answers", json={"question": NO_PASSAGES, "stream": stream}, headers=headers
            )
            assert response.status_code == 401, (headers, response.text)
            assert response.headers["content-type"].startswith("application/json")
            assert response.json()["error"]["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
    for headers in (auth(KEY_A), {"X-API-Key": KEY_B}):
        ok = service.client.post("/v1/answers", json={"question": NO_PASSAGES}, headers=headers)
        assert ok.status_code == 200, ok.text


# ---------------------------------------------------------------- conversations


def test_follow_up_carries_the_history_and_reads_it_from_the_prompt_cache(
    service: Served, fake: FakeAnthropic
) -> None:
    fake.reset()
    first = ask(service.client, "How do I get a refund to my card?", key=KEY_A)
    conversation = first.meta["conversation_id"]
    second = ask(service.client, "and how long does that take?", key=KEY_A, conversation_id=conversation)
    third = ask(service.client, "Can I change my delivery address?", key=KEY_A, conversation_id=conversation)
    assert second.meta["conversation_id"] == third.meta["conversation_id"] == conversation
    r1, r2, r3 = (r.body for r in fake.message_requests())

    assert len(r1["messages"]) == 1
    history = r2["messages"][:-1]
    assert [m["role"] for m in r2["messages"]] == ["user", "assistant", "user"]
    assert "How do I get a refund to my card?" in history[0]["content"][0]["text"]
    assert history[1]["content"] == [
        {"type": "text", "text": REPLY, "cache_control": {"type": "ephemeral"}}
    ]  # turn 1's answer, verbatim, carrying the history breakpoint
    assert "<question>\nand how long does that take?\n</question>" in last_user_text(r2)
    assert r2["system"] == r1["system"]

    assert [m["role"] for m in r3["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    breakpoints = [
        (i, j)
        for i, m in enumerate(r3["messages"])
        for j, b in enumerate(m["content"])
        if "cache_control" in b
    ]
    assert breakpoints == [(3, 0)]  # one history breakpoint, on the newest prior turn
    assert "and how long does that take?" in r3["messages"][2]["content"][0]["text"]

    assert first.done["usage"]["cache_creation_input_tokens"] > 0
    assert second.done["usage"]["cache_read_input_tokens"] > 0  # the system prefix
    # turn 3 also reads the history prefix that turn 2 wrote at its breakpoint
    assert third.done["usage"]["cache_read_input_tokens"] > second.done["usage"]["cache_read_input_tokens"]


def test_follow_up_is_retrieved_with_the_previous_question_in_mind(service: Served) -> None:
    # (Not "and how long does that take?": to the multilingual model that alone is the refund FAQ.)
    alone = ask(service.client, "and when will I see it?", key=KEY_A)
    # On its own the follow-up is about nothing in particular: the refund FAQ is not what it finds.
    assert not alone.cited or alone.cited[0] != REFUND_FAQ, alone.cited
    first = ask(service.client, "How do I get a refund to my card?", key=KEY_A)
    follow_up = ask(
        service.client,
        "and when will I see it?",
        key=KEY_A,
        conversation_id=first.meta["conversation_id"],
    )
    assert follow_up.cited[0] == REFUND_FAQ
    assert follow_up.meta["mode"] == "generative"


def test_conversations_are_scoped_per_api_key(service: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    a1 = ask(service.client, "How do I get a refund to my card?", key=KEY_A)
    conversation = a1.meta["conversation_id"]
    b1 = post(service.client, "Can I change my delivery address?", key=KEY_B, conversation_id=conversation)
    assert b1.status_code == 404 and b1.json()["error"]["code"] == "conversation_not_found"
    a2 = ask(service.client, "and how long does that take?", key=KEY_A, conversation_id=conversation)
    _, ra2 = (r.body for r in fake.message_requests())  # b's question never reached Claude
    assert len(ra2["messages"]) == 3  # and a's conversation was not extended by b
    history = json.dumps(ra2["messages"][:2])
    assert "How do I get a refund to my card?" in history and "delivery address" not in history
    assert a2.cited[0] == REFUND_FAQ


def test_conversation_continues_after_a_restart_with_the_redis_store(
    tmp_path: Path, template: Path, fake: FakeAnthropic
) -> None:
    prefix = f"faqstream-test-{uuid.uuid4().hex[:12]}:"
    settings = service_settings(
        template,
        tmp_path,
        api_key="test-key",
        base_url=fake.base_url,
        components={
            "resilience": FAST_RETRIES,
            "redis": RedisSettings(url=REDIS_URL, key_prefix=prefix),  # type: ignore[arg-type]
        },
    )
    client = redis.Redis.from_url(REDIS_URL)
    try:
        fake.reset()
        with in_process(settings) as served:
            first = ask(served.client, "How do I get a refund to my card?")
        conversation = first.meta["conversation_id"]
        turn_keys = [k for k in client.scan_iter(match=f"{prefix}conv:*") if k.endswith(b":turns")]
        assert len(turn_keys) == 1 and conversation.encode() not in turn_keys[0]  # a pseudonym
        assert Pseudonyms().conversation(f"public/{conversation}").encode() in turn_keys[0]
        stored = [json.loads(t) for t in client.lrange(turn_keys[0], 0, -1)]
        assert [(t["role"], t["text"]) for t in stored] == [
            ("user", "How do I get a refund to my card?"),
            ("assistant", REPLY),
        ]
        with in_process(settings) as served:  # a fresh process state: only Redis remembers
            second = ask(served.client, "and how long does that take?", conversation_id=conversation)
        _, r2 = (r.body for r in fake.message_requests())
        assert [m["role"] for m in r2["messages"]] == ["user", "assistant", "user"]
        assert "How do I get a refund to my card?" in r2["messages"][0]["content"][0]["text"]
        assert r2["messages"][1]["content"][-1] == {
            "type": "text",
            "text": REPLY,
            "cache_control": {"type": "ephemeral"},
        }
        assert second.cited[0] == REFUND_FAQ
        assert second.done["usage"]["cache_read_input_tokens"] > 0
        assert len(client.lrange(turn_keys[0], 0, -1)) == 4
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        left = list(client.scan_iter(match=f"{prefix}*"))
        client.close()
    assert keys and not left


# ---------------------------------------------------------------- reply language


def test_reply_language_is_the_customers(service: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    spanish = ask(service.client, "¿Cuánto tarda el reembolso?", key=KEY_A)
    stated = ask(service.client, "How long does a refund take?", key=KEY_A, language="de")
    es, de = (r.body for r in fake.message_requests())
    assert spanish.meta["language"] == "es" and stated.meta["language"] == "de"
    assert "Reply language: Spanish (es)" in last_user_text(es)
    assert "Reply language: German (de)" in last_user_text(de)
    rules = es["system"][0]["text"]
    assert "Reply in the customer's language" in rules and "even when the passages are in another" in rules


# ---------------------------------------------------------------- handoff


@pytest.mark.parametrize(
    "case",
    [
        ("我要转人工", "zh", "转告我们的客服团队"),
        ("quiero hablar con una persona", "es", "He trasladado su consulta"),
    ],
    ids=["zh", "es"],
)
def test_customer_asking_for_a_human_is_handed_over_without_claude(
    service: Served, fake: FakeAnthropic, receiver: Receiver, case: tuple[str, str, str]
) -> None:
    question, language, words = case  # the request, its language, words of the handoff message
    fake.reset()
    receiver.hold_first(lambda data: data.get("question") == question)
    answer = ask(service.client, question, key=KEY_A)
    meta, done = answer.meta, answer.done
    handoff = meta["handoff"]
    assert meta["language"] == language and handoff["reason"] == "customer_request"
    assert handoff["intent"] == "human_agent" and handoff["language"] == language
    # the agents are told and the assistant keeps the conversation (AGENTS_TAKEOVER_REASONS=[])
    assert answer.text == handoff_message(language, "customer_request", delivery="notify")
    assert words in answer.text
    assert done["handoff"] == handoff and done["stop_reason"] == "handoff"
    assert done["usage"]["input_tokens"] == 0
    assert fake.message_requests() == []

    # The customer has the whole reply, and the webhook's first attempt is still held unanswered
    # by the receiver: the reply did not wait for the delivery.
    assert receiver.held.wait(timeout=20)
    receiver.release()
    mine: Callable[[Delivery], bool] = lambda d: d.data.get("message_id") == meta["message_id"]  # noqa: E731
    assert eventually(lambda: any(d.status == 200 for d in receiver.matching(mine)), timeout=20)
    attempts = receiver.matching(mine)
    assert [d.status for d in attempts] == [500, 200]  # refused once, retried in the background
    assert attempts[0].headers["x-faqstream-delivery"] == attempts[1].headers["x-faqstream-delivery"]
    delivered = attempts[1]
    assert delivered.body["type"] == "handoff" and delivered.headers["x-faqstream-event"] == "handoff"
    data = delivered.data
    for name in ("reason", "reasons", "summary", "intent", "language", "citations", "confidence"):
        assert data[name] == handoff[name], name
    assert data["conversation_id"] == meta["conversation_id"] and data["question"] == question
    assert data["client"] == "a"
    assert question in data["summary"]


def test_handoff_webhook_carries_no_unredacted_personal_data(service: Served, receiver: Receiver) -> None:
    question = "Quiero hablar con una persona, mi correo es jane.doe@example.com"
    answer = ask(service.client, question, key=KEY_A)
    assert answer.meta["handoff"]["reason"] == "customer_request"
    mine: Callable[[Delivery], bool] = lambda d: d.data.get("message_id") == answer.meta["message_id"]  # noqa: E731
    assert eventually(lambda: bool(receiver.matching(mine)), timeout=20)
    (delivery,) = receiver.matching(mine)
    assert delivery.data["question"] == "Quiero hablar con una persona, mi correo es [email]"
    assert "jane.doe@example.com" not in json.dumps(delivery.body)


def test_repeated_dissatisfaction_hands_over(
    service: Served, fake: FakeAnthropic, receiver: Receiver
) -> None:
    fake.reset()
    first = ask(service.client, "Can I return opened earbuds?", key=KEY_A)
    conversation = first.meta["conversation_id"]
    assert first.meta["mode"] == "generative"
    second = ask(service.client, "That doesn't help at all", key=KEY_A, conversation_id=conversation)
    assert (second.meta["handoff"] or {}).get("reason") != "dissatisfaction"  # once is not enough
    asked = len(fake.message_requests())
    third = ask(
        service.client, "This is useless, you are not listening", key=KEY_A, conversation_id=conversation
    )
    handoff = third.meta["handoff"]
    assert handoff["reason"] == "dissatisfaction" and handoff["dissatisfied_turns"] == 2
    assert third.text == handoff_message("en", "dissatisfaction", delivery="notify")
    assert third.done["handoff"] == handoff
    assert len(fake.message_requests()) == asked  # a person takes over: Claude is not asked
    assert eventually(
        lambda: bool(
            receiver.matching(
                lambda d: (
                    d.data.get("message_id") == third.meta["message_id"]
                    and d.data.get("reason") == "dissatisfaction"
                )
            )
        ),
        timeout=20,
    )


# ---------------------------------------------------------------- cross-lingual retrieval

TRANSLATION = "How long does a refund take?"
TRANSLATE_SYSTEM = "You translate customer-support messages"


def translating_reply(body: dict[str, Any]) -> str:
    system = body.get("system")
    return TRANSLATION if isinstance(system, str) and system.startswith(TRANSLATE_SYSTEM) else REPLY


@pytest.fixture(scope="module")
def translating_fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=translating_reply, min_cache_tokens=MIN_CACHE) as server:
        yield server


@pytest.fixture(scope="module")
def translating(
    tmp_path_factory: pytest.TempPathFactory, template: Path, translating_fake: FakeAnthropic
) -> Iterator[Served]:
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("svc-translate"),
        api_key="test-key",
        base_url=translating_fake.base_url,
        components={"resilience": FAST_RETRIES, "translate": TranslateSettings(mode="always")},
    )
    with in_process(settings) as served:
        yield served


def test_question_in_another_language_is_translated_for_retrieval_once(
    translating: Served, translating_fake: FakeAnthropic
) -> None:
    translating_fake.reset()
    question = "Wie lange dauert die Rückerstattung?"
    first = ask(translating.client, question)
    translation, answer = translating_fake.message_requests()
    assert translation.body["model"] == "claude-haiku-4-5" and translation.body.get("stream") is not True
    assert (
        translation.body["system"].startswith(TRANSLATE_SYSTEM)
        and "into English" in translation.body["system"]
    )
    assert question in translation.body["messages"][0]["content"]
    assert answer.body["model"] == "claude-sonnet-4-6" and answer.body["stream"] is True
    assert first.meta["language"] == "de" and first.cited[0] == REFUND_FAQ  # found through the translation
    user_text = last_user_text(answer.body)
    assert "Reply language: German (de)" in user_text and question in user_text  # Claude answers the original
    assert first.text == REPLY

    second = ask(translating.client, question)  # a new conversation, the same question
    assert [r.body["model"] for r in translating_fake.message_requests()[2:]] == ["claude-sonnet-4-6"]
    assert second.meta["citations"] == first.meta["citations"]

    english = ask(translating.client, "Can I change my delivery address?")  # documents' language: no call
    assert [r.body["model"] for r in translating_fake.message_requests()[3:]] == ["claude-sonnet-4-6"]
    assert english.meta["language"] == "en"


def test_translation_tokens_are_counted(translating: Served, translating_fake: FakeAnthropic) -> None:
    translating_fake.reset()
    before = scrape(translating.client)
    ask(translating.client, "Wie lange dauert die Lieferung in Deutschland?")
    assert translating_fake.message_requests()[0].body["model"] == "claude-haiku-4-5"
    after = scrape(translating.client)
    counted = "faqstream_tokens_total", {"kind": "input_tokens", "model": "claude-haiku-4-5"}
    assert total(after, counted[0], **counted[1]) > total(before, counted[0], **counted[1])
