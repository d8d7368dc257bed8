"""Usage is complete (issue 14): every Claude request the service makes for a caller — the answer
(finished, broken after the first token, or abandoned by the client), the query translation, the LLM
routing and the conversation summary — is one ledger row with its purpose, charged to the caller's
key's daily budget, and nothing is charged twice.

One service over a real socket (the abandoned answer needs a client that really goes away), the
real SDK against the fake Anthropic server, budgets in real Redis, the ledger in SQLite.
Harness: tests/service_harness.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx_sse import connect_sse
from sqlalchemy import select

from fakes import DropMidStream, ErrorEvent, FakeAnthropic, Fault
from fakes.anthropic_protocol import input_token_total
from service.conversations.store import ConversationSettings
from service.core.tokens import estimate_tokens
from service.core.types import KeyLimits, Usage
from service.quotas import LimitSettings
from service.quotas.charges import total_tokens
from service.retrieval.translate import TranslateSettings
from service.routing.settings import RouterSettings
from service.settings.auth import AuthSettings
from service.settings.redis import RedisSettings
from service.tenants.store import KeyRecord, KeyStore
from service.usage.schema import usage_ledger
from tests.conftest import REDIS_URL, redis_namespace
from tests.service_harness import (
    FAST_RETRIES,
    MIN_CACHE,
    NO_PASSAGES,
    REPLY,
    Served,
    ask,
    auth,
    eventually,
    over_http,
    post,
    service_settings,
)

pytestmark = pytest.mark.slow

BOOTSTRAP = "bootstrap-key-usage-0123456789"
REFUND_DE = "Wie lange dauert die Rückerstattung auf meine Karte?"
FOLLOW_UP_DE = "Und wie lange dauert die Rückerstattung bei einer Banküberweisung?"
REFUND_EN = "How long does a refund to my card take?"


def reply(body: dict[str, Any]) -> str:
    """Translations into English for the translator's requests; the answer otherwise."""
    system = body.get("system")
    if isinstance(system, str) and system.startswith("You translate customer-support messages"):
        text = body["messages"][-1]["content"]
        return "When was Albert Einstein born?" if "Einstein" in text else REFUND_EN
    return REPLY


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=reply, min_cache_tokens=MIN_CACHE) as server:
        yield server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic) -> Iterator[Served]:
    components = {
        "resilience": FAST_RETRIES,
        "translate": TranslateSettings(mode="always"),
        "router": RouterSettings(kind="llm"),
        "conversation": ConversationSettings(max_turns=2),  # the second answer folds the first
        "limits": LimitSettings(key_rpm=10_000, key_burst=10_000),  # budgets: the keys' own
        "auth": AuthSettings(api_keys=f"boot={BOOTSTRAP}", key_cache_ttl_s=0),  # type: ignore[arg-type]
    }
    with redis_namespace("usage") as prefix:
        components["redis"] = RedisSettings(url=REDIS_URL, key_prefix=prefix)  # type: ignore[arg-type]
        settings = service_settings(
            template,
            tmp_path_factory.mktemp("svc-usage"),
            api_key="test-key",
            base_url=fake.base_url,
            components=components,
        )
        with over_http(settings) as running:
            yield running


@pytest.fixture(scope="module")
def keys(served: Served) -> Iterator[KeyStore]:
    store = KeyStore.from_settings(served.runtime.settings.database)
    yield store
    store.close()


def new_key(keys: KeyStore, daily_tokens: int) -> tuple[KeyRecord, str]:
    """A key of a tenant of its own, with its own daily token budget: its record and secret."""
    return keys.create(f"t-{uuid.uuid4().hex[:8]}", "usage test", ("answer",), KeyLimits(None, daily_tokens))


def rows(served: Served, key_id: str) -> list[dict[str, Any]]:
    served.settle()
    with served.runtime.storage.ledger.writer.database.engine.connect() as conn:
        query = select(usage_ledger).where(usage_ledger.c.key_id == key_id).order_by(usage_ledger.c.id)
        return [dict(r._mapping) for r in conn.execute(query)]


def spent_tokens(served: Served, key_id: str) -> int:
    budgets = served.runtime.budgets

    async def spent() -> int:
        return (await budgets.store.spent(key_id, budgets.today()[0])).tokens

    result: int = served.run(spent)
    return result


def charged_tokens(ledger: list[dict[str, Any]]) -> int:
    """What the rows add to a daily token budget."""
    return sum(total_tokens(Usage.model_validate(row)) for row in ledger)


def prompt_tokens(row: dict[str, Any]) -> int:
    """Input tokens of every kind: uncached, cache reads and cache writes."""
    return int(row["input_tokens"] + row["cache_read_input_tokens"] + row["cache_creation_input_tokens"])


def stream_answer(served: Served, key: str) -> Any:
    """The SSE source of one streamed answer to ``REFUND_EN`` (a context manager)."""
    body = {"question": REFUND_EN, "stream": True}
    return connect_sse(served.client, "POST", "/v1/answers", json=body, headers=auth(key))


def once_on_streams(fault: Fault) -> Callable[[Any], Fault | None]:
    """A fault source that breaks the next streamed request only (the answer, not the one-shot
    translation and routing calls before it)."""
    left = [fault]

    def source(body: Any) -> Fault | None:
        return left.pop() if left and isinstance(body, dict) and body.get("stream") else None

    return source


def test_translation_routing_answer_and_summary_are_each_one_charged_row(
    served: Served, keys: KeyStore, fake: FakeAnthropic
) -> None:
    fake.reset()
    record, key = new_key(keys, 10_000_000)
    key_id = record.id
    first = ask(served.client, REFUND_DE, key=key)
    second = ask(served.client, FOLLOW_UP_DE, key=key, conversation_id=first.meta["conversation_id"])
    ledger = rows(served, key_id)

    purposes = [r["purpose"] for r in ledger]
    assert sorted(purposes) == sorted(["translation", "routing", "answer"] * 2 + ["summary"]), purposes
    assert len(ledger) == len(fake.message_requests())  # one row per upstream request, none twice
    by_message = {
        answer.meta["message_id"]: sorted(
            r["purpose"] for r in ledger if r["message_id"] == answer.meta["message_id"]
        )
        for answer in (first, second)
    }
    assert by_message == {
        first.meta["message_id"]: ["answer", "routing", "translation"],
        second.meta["message_id"]: ["answer", "routing", "summary", "translation"],  # folded after it
    }
    assert len({r["conversation_id"] for r in ledger}) == 1 and {r["tenant"] for r in ledger} == {
        record.tenant
    }
    for answer in (first, second):
        [row] = [
            r for r in ledger if r["purpose"] == "answer" and r["message_id"] == answer.meta["message_id"]
        ]
        usage = answer.done["usage"]
        assert {k: row[k] for k in ("input_tokens", "output_tokens", "cache_read_input_tokens")} == {
            k: usage[k] for k in ("input_tokens", "output_tokens", "cache_read_input_tokens")
        }
        assert float(row["cost_usd"]) == pytest.approx(usage["cost_usd"])
    for row in ledger:
        assert row["input_tokens"] > 0 and row["output_tokens"] > 0 and float(row["cost_usd"]) > 0, row
    assert {r["model"] for r in ledger if r["purpose"] != "answer"} == {"claude-haiku-4-5"}
    # The key's budget was charged every row's tokens, the summary's included.
    assert spent_tokens(served, key_id) == charged_tokens(ledger)


def test_translation_and_routing_alone_spend_the_budget_then_it_refuses(
    served: Served, keys: KeyStore, fake: FakeAnthropic
) -> None:
    fake.reset()
    record, key = new_key(keys, 50)
    key_id = record.id
    first = post(served.client, NO_PASSAGES, key=key)  # no passage: Claude does not answer
    assert first.status_code == 200 and first.json()["mode"] == "extractive"
    ledger = rows(served, key_id)
    assert sorted(r["purpose"] for r in ledger) == ["routing", "translation"]
    assert spent_tokens(served, key_id) == charged_tokens(ledger) > 50
    refused = post(served.client, NO_PASSAGES, key=key)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "budget_exhausted"
    assert len(fake.message_requests()) == 2


@pytest.mark.parametrize("fault", [DropMidStream(after_deltas=3), ErrorEvent(after_deltas=3)], ids=repr)
def test_an_answer_broken_after_the_first_token_is_charged_for_what_was_consumed(
    served: Served, keys: KeyStore, fake: FakeAnthropic, fault: Fault
) -> None:
    fake.reset()
    fake.fault_source = once_on_streams(fault)
    try:
        record, key = new_key(keys, 10_000_000)
        key_id = record.id
        with stream_answer(served, key) as source:
            events = [(e.event, json.loads(e.data)) for e in source.iter_sse()]
    finally:
        fake.fault_source = None
    names = [name for name, _ in events]  # the three tokens before the fault: one delta per read
    assert names[0] == "meta" and names[-1] == "error" and set(names[1:-1]) == {"delta"}, events
    received = "".join(data["text"] for name, data in events if name == "delta")
    [answer] = [r for r in rows(served, key_id) if r["purpose"] == "answer"]
    [request] = [r for r in fake.message_requests() if r.body.get("stream")]
    assert prompt_tokens(answer) == input_token_total(request.body)  # message_start's input usage
    assert answer["output_tokens"] == estimate_tokens(received) > 0  # the text received, not the whole reply
    assert answer["message_id"] == events[0][1]["message_id"] and float(answer["cost_usd"]) > 0
    assert spent_tokens(served, key_id) == charged_tokens(rows(served, key_id))


def test_an_answer_the_client_abandons_is_charged_once_for_what_was_consumed(
    served: Served, keys: KeyStore, fake: FakeAnthropic
) -> None:
    fake.reset()
    fake.reply, fake.token_delay_s = (lambda _body: "word " * 200), 0.05
    try:
        record, key = new_key(keys, 10_000_000)
        key_id = record.id
        with stream_answer(served, key) as source:
            deltas = 0
            for event in source.iter_sse():
                deltas += event.event == "delta"
                if deltas == 2:
                    break
            source.response.close()  # the customer goes away mid-answer
        [gone] = fake.wait_for_disconnects(1, timeout=10)
    finally:
        fake.reply, fake.token_delay_s = reply, 0.0
    assert gone.stream and gone.deltas_sent < 200

    def charged() -> bool:
        return any(r["purpose"] == "answer" for r in rows(served, key_id))

    assert eventually(charged)
    ledger = rows(served, key_id)
    [answer] = [r for r in ledger if r["purpose"] == "answer"]
    [request] = [r for r in fake.message_requests() if r.body.get("stream")]
    assert prompt_tokens(answer) == input_token_total(request.body)
    # What reached the service before it closed the request: at least what the client read,
    # at most what the fake sent (one "word" token a delta), never the whole reply.
    assert (
        estimate_tokens("word " * 2) <= answer["output_tokens"] <= estimate_tokens("word " * gone.deltas_sent)
    )
    assert len(ledger) == len(fake.message_requests())  # routing and the answer, once each
    assert spent_tokens(served, key_id) == charged_tokens(ledger)
