"""Answer cache rules that need no backend: keys and normalisation, identifiers, canonical filters,
the semantic threshold per embedding model, and what may be stored at all."""

from __future__ import annotations

import pytest

from knowledge.schema import SearchFilters
from knowledge.settings import DEFAULT_MODEL, PACKAGED_E5, PACKAGED_MINILM, EmbeddingSettings
from service.api.runtime import answer_cache_settings
from service.api.settings import AppSettings
from service.caching import (
    SEMANTIC_THRESHOLDS,
    CacheKey,
    CacheSettings,
    canonical_filters,
    identifiers,
    normalise_question,
    should_store,
)


def test_normalisation() -> None:
    assert normalise_question("  How LONG\tdoes a   refund take?? ") == "how long does a refund take"
    assert normalise_question("¿Cuánto tarda el reembolso?") == "cuánto tarda el reembolso"
    assert normalise_question("退款需要多久？") == "退款需要多久"
    assert (
        normalise_question("Ｒｅｆｕｎｄ　ＳＴＲＡＳＳＥ!") == "refund strasse"
    )  # NFKC + casefold (ß→ss too)
    assert normalise_question("Straße") == "strasse"
    assert normalise_question("order #123.") == "order #123"


def test_identifiers_are_tokens_with_digits() -> None:
    assert identifiers(normalise_question("Refund for order 123-45 of $1,299.99?")) == ("1,299.99", "123-45")
    assert identifiers("where is nw-ktl-110 and my 2 parcels") == ("2", "nw-ktl-110")
    assert identifiers("订单１２３４５退款") == ("12345",)  # full-width digits are digits
    assert identifiers("how do i return shoes") == ()


def test_filters_are_canonical() -> None:
    a = canonical_filters(SearchFilters(language=["es", "en"], tags=None))
    b = canonical_filters({"language": ["en", "es"], "tags": [], "doc_id": None})
    assert a == b == '{"language":["en","es"]}'
    assert canonical_filters(None) == canonical_filters({}) == canonical_filters(SearchFilters()) == "{}"
    k1 = CacheKey.build("Refund?", "EN", None, 1)
    assert k1 == CacheKey.build("refund", "en", {}, 1)
    assert k1.namespace != CacheKey.build("refund", "en", {"kind": "faq"}, 1).namespace
    assert k1.namespace != CacheKey.build("refund", "en", None, 2).namespace
    # a quoted (extractive) answer is never replayed by a generative deployment, nor one model's by another
    extractive = CacheKey.build("refund", "en", None, 1, answerer="extractive").namespace
    assert (
        extractive
        != CacheKey.build("refund", "en", None, 1, answerer="generative:claude-sonnet-4-6").namespace
    )
    assert (
        CacheKey.build("refund", "en", None, 1, answerer="generative:claude-haiku-4-5").namespace
        != CacheKey.build("refund", "en", None, 1, answerer="generative:claude-sonnet-4-6").namespace
    )


def test_semantic_threshold_is_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CACHE_SEMANTIC_THRESHOLD", raising=False)
    unset = CacheSettings()
    assert unset.semantic_threshold is None and not unset.semantic_on
    assert unset.for_model(PACKAGED_E5).semantic_threshold == 0.99
    assert unset.for_model(PACKAGED_MINILM).semantic_threshold == 0.96
    assert unset.for_model(DEFAULT_MODEL).semantic_on
    other = unset.for_model("intfloat/multilingual-e5-large")  # not measured: exact hits only
    assert other.semantic_threshold is None and not other.semantic_on
    assert CacheSettings(semantic_threshold=0.97).for_model(PACKAGED_E5).semantic_threshold == 0.97
    assert not CacheSettings(semantic=False).for_model(PACKAGED_E5).semantic_on
    monkeypatch.setenv("CACHE_SEMANTIC_THRESHOLD", "")
    assert CacheSettings().semantic_threshold is None
    monkeypatch.setenv("CACHE_SEMANTIC_THRESHOLD", "0.93")
    assert CacheSettings().for_model(PACKAGED_E5).semantic_threshold == 0.93


def test_service_resolves_the_threshold_for_its_model(caplog: pytest.LogCaptureFixture) -> None:
    default = AppSettings(cache=CacheSettings(), embedding=EmbeddingSettings())
    assert answer_cache_settings(default).semantic_threshold == SEMANTIC_THRESHOLDS[DEFAULT_MODEL]
    other = AppSettings(cache=CacheSettings(), embedding=EmbeddingSettings(model="acme/other-model"))
    with caplog.at_level("WARNING", logger="service.api.runtime"):
        assert answer_cache_settings(other).semantic_threshold is None
    assert "no semantic threshold is known for EMBEDDING_MODEL=acme/other-model" in caplog.text
    chosen = AppSettings(cache=CacheSettings(semantic_threshold=0.9), embedding=EmbeddingSettings())
    assert answer_cache_settings(chosen).semantic_threshold == 0.9


def test_should_store() -> None:
    q, a = "How long does a refund take?", "Refunds take 5-10 business days [1]."
    assert should_store(q, a, False, "generative", stop_reason="end_turn")
    assert should_store(q, a, False, "extractive", stop_reason="extractive")
    assert should_store(q, a, False, "generative")
    assert not should_store(q, a, True, "generative")  # handoff
    assert not should_store(q, a, False, "cached")  # a replay
    assert not should_store(q, a, False, "error")
    assert not should_store(q, "  ", False, "generative")
    assert not should_store(q, a, False, "extractive", stop_reason="no_relevant_passages")
    assert not should_store(q, a, False, "generative", stop_reason="max_tokens")
    # personal data in the question, raw or already redacted
    assert not should_store("refund to 4111 1111 1111 1111?", a, False, "generative")
    assert not should_store("my email is [email], where is my refund?", a, False, "generative")
    # personal data in the answer: refused unless it is quoted from the cited sources
    leaked = "We will call you at +44 20 7946 0999 about your refund."
    assert not should_store(q, leaked, False, "generative")
    published = "Write to help@northwind.example or call +44 20 7946 0321."
    sources = ["Contact: help@northwind.example, phone +44 20 7946 0321 (Mon-Fri)."]
    assert should_store(q, published, False, "generative", sources=sources)
    assert not should_store(q, published, False, "generative", sources=["Contact: help@northwind.example"])
