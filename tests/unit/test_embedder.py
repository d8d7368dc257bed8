from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from knowledge.embedder import Embedder, load_embedder, resolve_model
from knowledge.errors import ConfigError, ModelLoadError
from knowledge.settings import PACKAGED_MINILM
from tests.conftest import MODEL_CACHE, embedding_settings

TEXTS = ["How long do refunds take?", "Wo ist meine Bestellung?", "退款需要多长时间", "NW-LMP-220 bulb"]


@pytest.fixture(scope="module")
def fp32_embedder() -> Embedder:
    return load_embedder(embedding_settings(precision="fp32"))


def test_packaged_model_resolves_to_installed_folder() -> None:
    _, folder = resolve_model(PACKAGED_MINILM, MODEL_CACHE)
    assert folder is not None and (folder / "model.safetensors").exists()


@pytest.mark.parametrize("name", [PACKAGED_MINILM, "multilingual-e5-small"])
def test_fp32_onnx_matches_sentence_transformers_reference(name: str) -> None:
    folder = resolve_model(name, MODEL_CACHE)[1]
    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    ours = load_embedder(embedding_settings(model=name, precision="fp32"))
    reference = st.encode([ours.document_prompt + t for t in TEXTS])
    vectors = ours.embed_documents(TEXTS)
    assert vectors.shape == (4, 384)
    np.testing.assert_allclose(vectors, reference, atol=2e-5)


@pytest.mark.slow
def test_torch_and_onnx_backends_agree_including_long_texts(
    fp32_embedder: Embedder, torch_embedder: Embedder
) -> None:
    long_text = " ".join(f"sentence {i} about returns and refunds." for i in range(200))
    texts = [*TEXTS, long_text]
    a, b = fp32_embedder.embed_documents(texts), torch_embedder.embed_documents(texts)
    assert np.min(np.sum(a * b, axis=1)) > 0.9999


def test_batches_respect_the_token_budget() -> None:
    small = load_embedder(embedding_settings(batch_tokens=1024, batch_size=32))
    windows = [[5] * n for n in (600, 10, 300, 20, 500, 250, 30, 5)]
    batches = list(small._batches(windows))
    assert sorted(i for b in batches for i in b) == list(range(len(windows)))
    for batch in batches:
        width = max(len(windows[i]) for i in batch) + 2
        assert len(batch) == 1 or len(batch) * width <= 1024
    texts = ["short"] * 40
    assert len(list(small._batches([[1] * 3 for _ in texts]))) == 2  # the count cap still applies


def test_long_text_reaches_vector_beyond_first_window(embedder: Embedder) -> None:
    head = "Our returns policy explains the conditions for sending items back. " * 60
    assert embedder.count_tokens(head) > embedder.window
    tail_a = "The kettle NW-KTL-110 was recalled because its lid can open while boiling."
    tail_b = "Gift cards never expire and can be combined with discount codes at checkout."
    va, vb = embedder.embed_documents([head + tail_a, head + tail_b])
    # With truncation both texts would embed identically; windows make the tail count.
    assert float(va @ vb) < 0.999


def test_vectors_are_unit_length(embedder: Embedder) -> None:
    vectors = embedder.embed_queries(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_documents([]).shape == (0, 384)


def test_refuse_mode_rejects_chunks_longer_than_the_model_window() -> None:
    strict = load_embedder(embedding_settings(long_text="refuse"))
    strict.check_chunk_size(200)
    with pytest.raises(ConfigError, match="CHUNK_TOKENS"):
        strict.check_chunk_size(512)


def test_extend_mode_uses_the_position_limit() -> None:
    extended = load_embedder(embedding_settings(long_text="extend"))
    assert extended.window == 510
    extended.check_chunk_size(510)


def test_missing_model_folder_is_a_clear_error() -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_embedder(embedding_settings(model="./no/such/model", backend="torch"))


def test_the_english_companion_runs_int8_by_default_and_stays_close_to_fp32(embedder: Embedder) -> None:
    english = [TEXTS[0], "Where is my parcel?", "Can I change the delivery address of my order?"]
    int8 = embedder.english
    assert int8 is not None and (int8.name, int8.precision) == (PACKAGED_MINILM, "int8")
    assert embedder.precision == "int8"  # the main model is untouched by the companion's setting
    fp32 = load_embedder(embedding_settings(english_precision="fp32")).english
    assert fp32 is not None and fp32.precision == "fp32"
    cosines = (int8.embed_queries(english) * fp32.embed_queries(english)).sum(axis=1)
    assert cosines.min() > 0.97
    # the main model is shared between the two settings: only the companion differs (loaded back to
    # back: the process-wide cache holds a few models, and the suite loads many others in between)
    this = load_embedder(embedding_settings())
    other = load_embedder(embedding_settings(english_precision="fp32"))
    assert other._backend is this._backend and other.english is not this.english


def test_a_question_is_embedded_from_its_first_tokens_only(embedder: Embedder) -> None:
    # U+FDFA after NFKC: 18 characters each; 2,000 of them are 8,000 tokens, 16+ windows
    hostile = unicodedata.normalize("NFKC", "\ufdfa" * 2000)
    assert embedder.count_tokens(hostile) > 15 * embedder.window
    assert embedder.query_tokens == min(256, embedder.window)
    assert len(embedder.query_token_ids(hostile)) == embedder.query_tokens
    head = "Our returns policy explains the conditions for sending items back. " * 60
    tail_a = "The kettle NW-KTL-110 was recalled because its lid can open while boiling."
    tail_b = "Gift cards never expire and can be combined with discount codes at checkout."
    va, vb = embedder.embed_queries([head + tail_a, head + tail_b])
    assert float(va @ vb) > 0.99999  # the tails lie beyond the cap: one forward pass of the head
    short = "How long do I have to return an item?"
    uncapped = embedder._embed([embedder.query_prompt + short])  # a short question is unchanged
    np.testing.assert_allclose(embedder.embed_queries([short]), uncapped, atol=1e-6)


def test_the_question_token_cap_is_a_setting_bounded_by_the_window() -> None:
    small = load_embedder(embedding_settings(query_max_tokens=16))
    assert small.query_tokens == 16
    assert len(small.query_token_ids("refund " * 100)) == 16
    assert load_embedder(embedding_settings(query_max_tokens=8192)).query_tokens == small.window
