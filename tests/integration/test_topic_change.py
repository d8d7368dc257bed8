"""A short message in a conversation: a new subject answered from its own pages, a follow-up from
the earlier question's (``service.retrieval.topic_change``).

The demo knowledge base (data/policies) ingested by the real pipeline (which fits the relevance
cut-offs) with the packaged model into a real embedded store, served by the real app in process
against the fake Anthropic server; the retrieval-level cases use the service's own knowledge base
and relevance floor with a retriever of their own (no vector cache, so its counters show every
embedding).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeAnthropic
from knowledge.schema import SearchHit
from knowledge.search import Query
from service.conversations.follow_ups import retrieval_queries
from service.conversations.store import Conversation, Turn
from service.retrieval import topic_change
from service.retrieval.relevance import NO_FLOOR
from service.retrieval.retriever import BatchingRetriever
from service.retrieval.vector_cache import EmbeddingCache
from service.settings.service import ServiceSettings
from tests.service_harness import (
    Served,
    answering_with_claude,
    ask,
    scrape,
    total,
)

pytestmark = pytest.mark.slow

POLICIES = Path(__file__).resolve().parents[2] / "data" / "policies"
METRIC = "faqstream_short_follow_ups_total"


@pytest.fixture(scope="module")
def corpus() -> Path:
    return POLICIES


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    with answering_with_claude(template, tmp_path_factory.mktemp("svc"), fake.base_url) as served:
        yield served


def _about(citation: dict[str, Any], *words: str) -> bool:
    text = f"{citation['doc_id']} {citation['title']}".lower()
    return any(word in text for word in words)


def _readings(service: Served) -> tuple[float, float]:
    samples = scrape(service.client)
    return total(samples, METRIC, reading="merged"), total(samples, METRIC, reading="new_topic")


def _conversation(service: Served, first: str, then: str) -> dict[str, Any]:
    """The meta of the answer to ``then``, asked after ``first`` in one conversation."""
    opening = ask(service.client, first)
    return ask(service.client, then, conversation_id=opening.meta["conversation_id"]).meta


@pytest.mark.parametrize(
    ("first", "then", "words"),
    [
        ("How long does delivery to Porto take?", "garantia?", ("warranty", "garantía")),
        ("What payment methods do you accept?", "password reset", ("account-login", "password")),
        ("How much does a return label cost?", "invoice?", ("invoice",)),
    ],
)
def test_a_short_message_on_another_subject_is_answered_from_its_own_pages(
    service: Served, first: str, then: str, words: tuple[str, ...]
) -> None:
    merged, new = _readings(service)
    meta = _conversation(service, first, then)
    assert meta["citations"] and _about(meta["citations"][0], *words), meta["citations"]
    assert _readings(service) == (merged, new + 1)


@pytest.mark.parametrize(
    ("first", "then", "words", "searched_alone"),
    [
        ("Can I exchange a jacket for a different size?", "and in blue?", ("exchange",), False),
        ("Can I exchange the jacket I bought last week?", "what about the XL one?", ("exchange",), False),
        ("How long do I have to return an item?", "In the UK?", ("return",), False),
        ("Can I exchange my jacket for another size?", "XL?", ("exchange",), True),
        ("Can I pay for my order in instalments?", "Klarna?", ("payment", "instalment", "klarna"), True),
    ],
)
def test_a_follow_up_keeps_the_earlier_question(
    service: Served, first: str, then: str, words: tuple[str, ...], searched_alone: bool
) -> None:
    merged, new = _readings(service)
    meta = _conversation(service, first, then)
    assert meta["citations"] and _about(meta["citations"][0], *words), meta["citations"]
    assert _readings(service) == (merged + searched_alone, new)


def _history(*questions: str) -> Conversation:
    turns = [
        turn
        for q in questions
        for turn in (
            Turn(role="user", text=q, language="en"),
            Turn(role="assistant", text="…", language="en"),
        )
    ]
    now = datetime.now(UTC)
    return Conversation(id="c", turns=turns, created_at=now, updated_at=now)


def test_both_readings_share_one_batch_and_only_a_short_only_message_costs_a_second_embedding(
    service: Served,
) -> None:
    runtime = service.runtime
    floor = runtime.answers.deps.relevance()
    assert floor.short_messages  # the calibration this rule reads
    top_k = ServiceSettings().top_k
    retriever = BatchingRetriever(runtime.kb)  # no vector cache: every text reaches the model

    async def search(first: str, then: str) -> topic_change.Reading:
        rewrite = retrieval_queries(then, _history(first))
        query = Query(rewrite.text, top_k, None, "en")
        return await topic_change.search(
            retriever, None, query, rewrite, target="en", tenant="t", floor=floor
        )

    try:
        reading = service.run(lambda: search("How long does delivery to Porto take?", "garantia?"))
        assert (retriever.batches, retriever.questions) == (1, 2)  # one model call for both texts
        assert reading.new_topic and reading.asked == "garantia?"
        assert "warranty" in reading.retrieved.hits[0].payload.doc_id
        reading = service.run(lambda: search("Can I exchange a jacket for a different size?", "and in blue?"))
        assert (retriever.batches, retriever.questions) == (2, 3)  # a continuation: the merged query only
        assert not reading.new_topic
        assert reading.asked == "Can I exchange a jacket for a different size? and in blue?"
    finally:
        retriever.close()


def test_without_a_calibrated_cut_off_the_merged_query_stays(service: Served) -> None:
    kb = service.runtime.kb
    top_k = ServiceSettings().top_k
    merged, alone = kb.run(
        [
            Query("How long does delivery to Porto take? garantia?", top_k, None, "en"),
            Query("garantia?", top_k, None, "en"),
        ]
    )
    floor = service.runtime.answers.deps.relevance()
    assert topic_change.is_new_topic(floor, merged, alone, floor.question_language("en", None, "garantia?"))
    assert not topic_change.is_new_topic(NO_FLOOR, merged, alone, "en")
    nothing: list[SearchHit] = []
    assert not topic_change.is_new_topic(floor, merged, nothing, "en")


# ---------------------------------------- a brief message, no follow-up by its words


def _answered(service: Served, retriever: BatchingRetriever, question: str) -> Conversation:
    """``question`` and an answer citing what the service would give the model, as it stores them."""
    floor = service.runtime.answers.deps.relevance()
    query = Query(question, ServiceSettings().top_k, None, "en")
    retrieved = service.run(lambda: retriever.search(query, "t"))
    given = floor.select(retrieved.hits, floor.question_language("en", None, question)).hits
    assert given, question
    turns = [
        Turn(role="user", text=question, language="en"),
        Turn(role="assistant", text="…", language="en", citations=[h.payload.doc_id for h in given]),
    ]
    now = datetime.now(UTC)
    return Conversation(id="c", turns=turns, created_at=now, updated_at=now)


def _brief(service: Served, retriever: BatchingRetriever, first: str, then: str) -> tuple[Any, Any]:
    conversation = _answered(service, retriever, first)
    rewrite = retrieval_queries(then, conversation)
    assert rewrite.merged is not None and rewrite.topic == conversation.turns[1].citations[0]
    query = Query(rewrite.text, ServiceSettings().top_k, None, "en")
    floor = service.runtime.answers.deps.relevance()
    reading = service.run(
        lambda: topic_change.search(retriever, None, query, rewrite, target="en", tenant="t", floor=floor)
    )
    return rewrite, reading


def test_a_brief_follow_up_without_a_word_that_points_back_keeps_the_conversations_page(
    service: Served,
) -> None:
    retriever = BatchingRetriever(service.runtime.kb, cache=EmbeddingCache(64))
    try:
        rewrite, reading = _brief(
            service, retriever, "Can I pay for my order in instalments?", "Is there a minimum order amount?"
        )
        assert reading.kept_topic and reading.asked == rewrite.merged
        assert reading.retrieved.hits[0].payload.doc_id == rewrite.topic
        # searched alone, the message finds another page: the failure of trials A and C
        alone = service.run(lambda: retriever.search(Query(rewrite.text, 5, None, "en"), "t"))
        assert alone.hits[0].payload.doc_id != rewrite.topic
    finally:
        retriever.close()


@pytest.mark.parametrize(
    ("first", "then"),
    [
        # new questions the documents do not cover: merged, the earlier question's words find its
        # page (confidently); alone, the message finds nothing there
        ("Can I exchange a jacket for a different size?", "Do you have a loyalty programme?"),
        ("How much does a return label cost?", "Are your products made sustainably?"),
        # a whole question on another covered subject
        ("Can I exchange a jacket for a different size?", "How do I reset my password?"),
    ],
)
def test_a_brief_new_question_keeps_its_own_reading(service: Served, first: str, then: str) -> None:
    retriever = BatchingRetriever(service.runtime.kb, cache=EmbeddingCache(64))
    try:
        rewrite, reading = _brief(service, retriever, first, then)
        assert not reading.kept_topic and reading.asked == then
        merged = service.run(lambda: retriever.search(Query(rewrite.merged, 5, None, "en"), "t"))
        assert merged.hits[0].payload.doc_id == rewrite.topic  # the pull the rule resists
    finally:
        retriever.close()


def test_a_brief_message_costs_one_more_embedding_in_the_same_model_call(service: Served) -> None:
    retriever = BatchingRetriever(service.runtime.kb, cache=EmbeddingCache(64))
    try:
        conversation = _answered(service, retriever, "Can I pay for my order in instalments?")
        batches, questions = retriever.batches, retriever.questions
        rewrite = retrieval_queries("Is there a minimum order amount?", conversation)
        query = Query(rewrite.text, ServiceSettings().top_k, None, "en")
        floor = service.runtime.answers.deps.relevance()
        service.run(
            lambda: topic_change.search(retriever, None, query, rewrite, target="en", tenant="t", floor=floor)
        )
        # three searches (alone, merged, alone within the topic page), two texts, one model call
        assert (retriever.batches - batches, retriever.questions - questions) == (1, 2)
    finally:
        retriever.close()


def test_a_brief_follow_up_is_answered_from_the_conversations_page(service: Served) -> None:
    meta = _conversation(service, "Can I pay in instalments with Klarna?", "Is there a minimum order amount?")
    assert meta["citations"] and _about(meta["citations"][0], "payment", "instalment"), meta["citations"]
