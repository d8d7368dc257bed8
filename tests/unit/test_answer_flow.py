"""The answer flow, driven for real with the in-process fake LLM: a real knowledge base (the packaged
model, a local store), real retrieval, routing, handoff policy, in-memory conversations and
aftercare — only Claude is scripted (``fakes.llm``). No HTTP, no sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from fakes.llm import FakeLLM, LLMFailure, LLMReply, overloaded
from knowledge.search import KnowledgeBase
from service.agents.events import InProcessConversationEvents
from service.agents.notice import passed_on
from service.agents.takeover import Takeover
from service.answers.aftercare import Aftercare
from service.answers.digest import digest_prefix
from service.answers.events import Delta, Done, Event, Failed, Meta
from service.answers.extractive import INTRO
from service.answers.flow import AnswerDeps, AnswerService, AnswerSettings
from service.answers.prompts import ANSWER_TOOLS, NOT_IN_DOCUMENTS, RULES
from service.answers.request import AnswerRequest
from service.api.settings import AppSettings
from service.caching import CacheSettings
from service.conversations.store import InProcessSessionStore, conversation_key
from service.conversations.summarizer import Summarizer
from service.core.metrics import Metrics
from service.core.types import Client
from service.handoff.delivery import HandoffRoutes
from service.handoff.messages import handoff_message
from service.handoff.policy import HandoffPolicy
from service.handoff.settings import HandoffSettings
from service.llm.admission import AdmissionGate, OverloadedError
from service.llm.policy import ResilienceSettings
from service.llm.resilient import ResilientClaude
from service.notify.webhooks import WebhookSender, WebhookSettings
from service.retrieval.relevance import RelevanceFloor
from service.retrieval.retriever import BatchingRetriever
from service.retrieval.translate import TranslateSettings
from service.routing.factory import build_router
from service.routing.settings import RouterSettings
from tests.conftest import make_settings
from tests.corpus import corpus_kb
from tests.webhook_receiver import Receiver

CLIENT = Client("tests")
RETURNS = "How many days do I have to return an item?"
# The rig has no handoff webhook: handoffs reach no one, and the customer is told so.
NOT_FOUND = handoff_message("en", "no_relevant_passages", delivery="none")
REPLY = "You can return most items within 30 days of delivery [1]."


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    tmp = tmp_path_factory.mktemp("flow")
    with corpus_kb(make_settings(tmp), tmp) as base:
        yield base


@pytest.fixture(scope="module")
def app_settings(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> AppSettings:
    base = make_settings(tmp_path_factory.mktemp("settings"))
    return AppSettings(
        qdrant=base.qdrant,
        embedding=base.embedding,
        chunking=base.chunking,
        ingest=base.ingest,
        translate=TranslateSettings(mode="never"),
        cache=CacheSettings(answers=False),
    )


@pytest.fixture(scope="module")
def router(kb: KnowledgeBase) -> Any:
    return build_router(RouterSettings(), kb.embedder, None, kb.require_languages())


@dataclass
class Rig:
    """One service over the shared knowledge base, with its own conversations and metrics."""

    service: AnswerService
    llm: FakeLLM
    sessions: InProcessSessionStore
    aftercare: Aftercare
    metrics: Metrics
    gate: AdmissionGate

    async def ask(self, question: str, conversation_id: str | None = None) -> list[Event]:
        request = AnswerRequest(question=question, conversation_id=conversation_id)
        stream = await self.service.prepare(request, CLIENT)
        events = [event async for event in stream.events()]
        await self.aftercare.drain()
        return events


def rig(
    app_settings: AppSettings,
    kb: KnowledgeBase,
    router: Any,
    llm: FakeLLM,
    *,
    floor: RelevanceFloor | None = None,
    generative: bool = True,
    pool_size: int = 4,
    queue_size: int = 4,
) -> Rig:
    metrics = Metrics(CollectorRegistry())
    sessions = InProcessSessionStore(app_settings.conversation)
    handoff = HandoffPolicy(HandoffSettings())
    aftercare = Aftercare(
        sessions=sessions,
        conversation=app_settings.conversation,
        summarizer=Summarizer(llm, app_settings.conversation),
        metrics=metrics,
    )
    gate = AdmissionGate(pool_size, queue_size, queue_wait_s=0)
    deps = AnswerDeps(
        settings=AnswerSettings(
            conversation=app_settings.conversation,
            top_k=app_settings.service.top_k,
            languages=app_settings.ingest.languages,
            translate_target=app_settings.translate.target_language,
        ),
        retriever=BatchingRetriever(kb),
        languages=kb.require_languages(),
        prefix=lambda: digest_prefix(1, "Knowledge base (version 1): returns, shipping, refunds."),
        sessions=sessions,
        handoff=handoff,
        aftercare=aftercare,
        metrics=metrics,
        llm=llm if generative else None,
        slots=gate,
        router=router,
    )
    if floor is not None:
        deps.relevance = lambda: floor
    return Rig(AnswerService(deps), llm, sessions, aftercare, metrics, gate)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def text_of(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, Delta))


def meta_of(events: list[Event]) -> Meta:
    assert isinstance(events[0], Meta)
    return events[0]


def done_of(events: list[Event]) -> Done:
    assert isinstance(events[-1], Done), events[-1]
    return events[-1]


# ---------------------------------------------------------------- generative answers


def test_a_generative_answer_streams_meta_deltas_and_done_with_citations(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM(LLMReply(REPLY)))
    events = run(r.ask(RETURNS))

    meta, done = meta_of(events), done_of(events)
    assert meta.mode == "generative" and meta.model == "claude-sonnet-4-6" and meta.handoff is None
    assert meta.citations and meta.citations[0].index == 1
    assert any("30 days" in c.quote for c in meta.citations)
    assert text_of(events) == REPLY and len([e for e in events if isinstance(e, Delta)]) > 1
    assert done.stop_reason == "end_turn" and done.handoff is None and done.usage.output_tokens == 20
    (call,) = r.llm.calls
    assert call.kind == "stream" and call.tools == ANSWER_TOOLS and call.system_text.startswith(RULES)
    assert "<passages>" in call.text and RETURNS in call.text
    assert r.gate.in_use == 0  # the answer's slot is back
    conversation = run(r.sessions.load(conversation_key(CLIENT.name, meta.conversation_id)))
    assert conversation is not None and [t.role for t in conversation.turns] == ["user", "assistant"]
    assert conversation.turns[1].text == REPLY and conversation.turns[1].citations


def test_a_follow_up_sends_the_history(app_settings: AppSettings, kb: KnowledgeBase, router: Any) -> None:
    r = rig(app_settings, kb, router, FakeLLM(LLMReply(REPLY), LLMReply("Yes, for refunds too [1].")))

    async def story() -> list[Event]:
        first = await r.ask(RETURNS)
        return await r.ask("And for refunds?", meta_of(first).conversation_id)

    second = run(story())
    assert text_of(second) == "Yes, for refunds too [1]."
    history = r.llm.calls[1].messages
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert history[1]["content"][0]["text"] == REPLY


def test_the_models_signal_becomes_a_not_in_documents_handoff(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    sorry = "I'm sorry, our documents don't say whether you can return a used mattress."
    signal = LLMReply(sorry, tool=NOT_IN_DOCUMENTS, tool_input={"missing": "mattress"})
    bare_signal = LLMReply(tool=NOT_IN_DOCUMENTS, tool_input={"missing": "mattress"})
    r = rig(app_settings, kb, router, FakeLLM(signal, bare_signal, signal))
    every = HandoffRoutes(webhook=True, takeover_reasons=("not_in_documents",))  # a team that takes these

    async def story() -> list[list[Event]]:  # one loop: the rig's background queue lives on it
        answers = [await r.ask("Can I return a used mattress?") for _ in range(2)]
        r.service.deps.handoff = HandoffPolicy(HandoffSettings(), routes=every)
        return [*answers, await r.ask("Can I return a used mattress?")]

    events, bare, taken = run(story())  # taken: that handoff gives the conversation to a person

    assert meta_of(events).handoff is None and meta_of(events).mode == "generative"
    done = done_of(events)
    assert done.stop_reason == "not_in_documents" and done.handoff is not None
    assert done.handoff.reason == "not_in_documents"
    assert text_of(events) == sorry  # what the model streamed stays the reply

    assert done_of(bare).handoff is not None and text_of(bare) == NOT_FOUND
    assert text_of(taken) == f"{sorry}\n\n{handoff_message('en', 'not_in_documents', delivery='takeover')}"


# ---------------------------------------------------------------- failures


def test_an_upstream_failure_before_the_first_token_quotes_the_passages_and_hands_off(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM(LLMFailure(overloaded())))
    events = run(r.ask(RETURNS))

    meta, done = meta_of(events), done_of(events)
    assert meta.mode == "extractive" and meta.model is None and meta.citations
    assert meta.handoff is not None and meta.handoff.reason == "llm_unavailable"
    text = text_of(events)
    assert text.startswith(INTRO["en"]) and text.endswith(
        handoff_message("en", "llm_unavailable", delivery="none")
    )
    assert "30 days" in text
    assert done.stop_reason == "extractive" and done.handoff == meta.handoff
    assert r.gate.in_use == 0


def test_through_the_resilient_layer_a_transient_failure_is_retried_unseen(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    fake = FakeLLM(LLMFailure(overloaded()), LLMReply(REPLY))
    policy = ResilienceSettings(backoff_base_s=0.0, backoff_max_s=0.0, jitter_s=0.0, fallback_models=[])
    resilient = ResilientClaude(fake, policy)
    r = rig(app_settings, kb, router, fake)
    r.service.deps.llm = resilient
    events = run(r.ask(RETURNS))
    assert meta_of(events).mode == "generative" and text_of(events) == REPLY
    assert len(fake.calls) == 2


def test_a_failure_after_text_ends_with_failed_and_keeps_the_partial_answer(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    partial = "You can return most items "
    r = rig(app_settings, kb, router, FakeLLM(LLMFailure(overloaded(), after=partial)))
    events = run(r.ask(RETURNS))

    assert meta_of(events).mode == "generative"
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.code == "overloaded_error" and failed.retryable
    assert text_of(events) == partial and not any(isinstance(e, Done) for e in events)
    conversation = run(r.sessions.load(conversation_key(CLIENT.name, meta_of(events).conversation_id)))
    assert conversation is not None and conversation.turns[-1].text == partial  # kept, as sent
    assert (
        r.metrics.registry.get_sample_value(
            "faqstream_answers_total", {"mode": "generative", "outcome": "error"}
        )
        == 1
    )
    assert r.gate.in_use == 0


def test_a_full_pool_refuses_before_any_event(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM(), pool_size=1, queue_size=0)

    async def main() -> None:
        held = await r.gate.acquire()
        with pytest.raises(OverloadedError):
            await r.service.prepare(AnswerRequest(question=RETURNS), CLIENT)
        held.release()
        events = [
            e async for e in (await r.service.prepare(AnswerRequest(question=RETURNS), CLIENT)).events()
        ]
        assert meta_of(events).mode == "generative"

    run(main())
    assert r.llm.calls and r.gate.in_use == 0


# ---------------------------------------------------------------- no model call


def test_no_relevant_passages_means_no_model_call(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM(), floor=RelevanceFloor(0.999, "override"))
    events = run(r.ask(RETURNS))

    meta, done = meta_of(events), done_of(events)
    assert meta.mode == "extractive" and meta.citations == []
    assert meta.handoff is not None and meta.handoff.reason == "no_relevant_passages"
    assert text_of(events) == NOT_FOUND and done.stop_reason == "no_relevant_passages"
    assert r.llm.calls == [] and r.gate.in_use == 0


def test_a_request_for_a_person_is_handed_over_at_once(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM())
    events = run(r.ask("I want to talk to a real person please"))

    meta, done = meta_of(events), done_of(events)
    assert meta.handoff is not None and meta.handoff.reason == "customer_request"
    assert (
        text_of(events) == handoff_message("en", "customer_request", delivery="none")
        and done.stop_reason == "handoff"
    )
    assert r.llm.calls == [] and r.gate.in_use == 0


def test_without_an_llm_the_passages_are_quoted(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM(), generative=False)
    events = run(r.ask(RETURNS))
    assert meta_of(events).mode == "extractive" and meta_of(events).handoff is None
    assert text_of(events).startswith(INTRO["en"]) and done_of(events).stop_reason == "extractive"
    assert r.llm.calls == []


def test_small_talk_is_answered_without_retrieval_or_model(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM())
    events = run(r.ask("Hi!"))
    assert meta_of(events).mode == "smalltalk" and done_of(events).stop_reason == "smalltalk"
    assert text_of(events) and r.llm.calls == []


def test_closing_the_stream_early_releases_the_slot(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM(LLMReply(REPLY)))

    async def main() -> None:
        stream = await r.service.prepare(AnswerRequest(question=RETURNS), CLIENT)
        events = stream.events()
        assert isinstance(await anext(events), Meta)
        assert r.gate.in_use == 1
        await events.aclose()
        assert r.gate.in_use == 0

    run(main())


# ---------------------------------------------------------------- a person has the conversation


def test_a_handoff_to_people_gives_them_the_conversation_and_the_flow_stays_silent(
    app_settings: AppSettings, kb: KnowledgeBase, router: Any
) -> None:
    r = rig(app_settings, kb, router, FakeLLM(LLMReply(REPLY)))
    with Receiver().running() as receiver:  # a handoff reaches people only through the webhook
        webhook = WebhookSender(receiver.url, WebhookSettings(allow_unsigned=True))
        events = InProcessConversationEvents()
        r.service.deps.takeover = Takeover(sessions=r.sessions, events=events, webhook=webhook)

        async def story() -> tuple[list[Event], list[Event]]:
            handed = await r.ask("I want to talk to a person")
            then = await r.ask(RETURNS, meta_of(handed).conversation_id)
            await webhook.aclose()
            return handed, then

        handed, then = run(story())
    assert meta_of(handed).handoff is not None and done_of(handed).with_agent
    meta, done = meta_of(then), done_of(then)
    assert meta.mode == "agent" and meta.citations == [] and meta.handoff is None
    assert text_of(then) == passed_on("en")
    assert done.stop_reason == "with_agent" and done.with_agent and done.usage.output_tokens == 0
    assert r.llm.calls == [] and r.gate.in_use == 0  # no model, no slot taken
    stored = run(r.sessions.load(conversation_key(CLIENT.name, meta.conversation_id)))
    assert stored is not None and stored.state == "agent"
    assert [t.role for t in stored.turns] == ["user", "assistant", "user"]  # the notice is not stored
    assert stored.turns[-1].text == RETURNS and stored.turns[-1].message_id == meta.message_id
    assert [d.body["type"] for d in receiver.deliveries if d.body["type"] != "handoff"] == [
        "customer_message"
    ]
