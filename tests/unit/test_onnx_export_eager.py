"""The export traces a transformer with its eager attention when the model has it, and exports a
model without the switch as before (``knowledge.onnx_export._eager_attention``), with real
exports: the packaged MiniLM, and tiny random BERT / DistilBERT sentence-transformers models."""

from __future__ import annotations

import collections
import shutil
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Normalize, Pooling, Transformer
from transformers import BertConfig, BertModel, DistilBertConfig, DistilBertModel, PreTrainedModel

from knowledge.embedder import (
    INT8_RECIPE,
    load_embedder,
    load_sentence_transformer,
    model_info_from,
    resolve_model,
)
from knowledge.onnx_export import _export, ensure_onnx_model
from knowledge.settings import PACKAGED_MINILM, EmbeddingSettings
from tests.conftest import MODEL_CACHE

TEXTS = ["How long do refunds take?", "Where is my parcel?", "Can I pay by invoice?" * 12]


def ops(model: Path) -> collections.Counter[str]:
    return collections.Counter(node.op_type for node in onnx.load(str(model)).graph.node)


def tiny_model(tmp_path: Path, transformer: PreTrainedModel) -> str:
    """A sentence-transformers folder: a random tiny transformer, MiniLM's vocabulary, mean pooling."""
    raw = tmp_path / "raw"
    transformer.save_pretrained(raw)
    minilm = resolve_model(PACKAGED_MINILM, MODEL_CACHE)[1]
    assert minilm is not None
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (minilm / name).exists():
            shutil.copy(minilm / name, raw / name)
    body = Transformer(str(raw), max_seq_length=64)
    st = SentenceTransformer(
        modules=[body, Pooling(body.get_word_embedding_dimension(), "mean"), Normalize()]
    )
    st.save(str(tmp_path / "model"))
    return str(tmp_path / "model")


def settings(tmp_path: Path, model: str, precision: Literal["int8", "fp32"] = "int8") -> EmbeddingSettings:
    return EmbeddingSettings(
        model=model, precision=precision, english_model="none", cache_dir=tmp_path / "cache"
    )


def int8_vs_fp32(tmp_path: Path, model: str) -> float:
    int8 = load_embedder(settings(tmp_path, model)).embed_documents(TEXTS)
    fp32 = load_embedder(settings(tmp_path, model, "fp32")).embed_documents(TEXTS)
    return float((int8 * fp32).sum(axis=1).min())


def test_the_packaged_minilm_is_traced_with_eager_attention(tmp_path: Path) -> None:
    found = ops(ensure_onnx_model(settings(tmp_path, PACKAGED_MINILM)) / "model.onnx")
    assert found["Softmax"] == 6  # one per layer, as eager attention computes it
    assert found["IsNaN"] == 0  # the SDPA trace's guard on the attention weights
    assert found["MatMulInteger"] > 0
    # 0.991+ on CPUs with VNNI; 0.989 on an AVX2-only one, whose int8 kernel rounds differently
    assert int8_vs_fp32(tmp_path, PACKAGED_MINILM) > 0.985


def test_the_fp32_export_matches_sentence_transformers(tmp_path: Path) -> None:
    model = tiny_model(
        tmp_path,
        BertModel(
            BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)
        ),
    )
    short = TEXTS[:2]  # within the tiny model's 64 tokens, where sentence-transformers truncates
    ours = load_embedder(settings(tmp_path, model, "fp32")).embed_documents(short)
    reference = SentenceTransformer(model, device="cpu", local_files_only=True).encode(short)
    np.testing.assert_allclose(ours, reference, atol=2e-5)


def test_a_model_without_the_switch_exports_as_it_is(tmp_path: Path) -> None:
    model = tiny_model(
        tmp_path, DistilBertModel(DistilBertConfig(dim=64, n_layers=2, n_heads=4, hidden_dim=128))
    )
    conf = settings(tmp_path, model)
    st = load_sentence_transformer(model, conf)
    info, _ = model_info_from(st, model, conf)
    st[0].auto_model.set_attn_implementation = None  # as on a model class without the switch
    _export(st, info, tmp_path / "plain.onnx")
    assert ops(tmp_path / "plain.onnx")["IsNaN"] > 0  # traced with its SDPA attention
    assert int8_vs_fp32(tmp_path, model) > 0.99  # and the cached exports work end to end


def test_the_export_leaves_the_models_attention_setting_as_it_was(tmp_path: Path) -> None:
    conf = settings(tmp_path, PACKAGED_MINILM)
    st = load_sentence_transformer(PACKAGED_MINILM, conf)
    before = st[0].auto_model.config._attn_implementation
    info, _ = model_info_from(st, PACKAGED_MINILM, conf)
    _export(st, info, tmp_path / "plain.onnx")
    assert ops(tmp_path / "plain.onnx")["Softmax"] == 6
    assert st[0].auto_model.config._attn_implementation == before != "eager"


def test_int8_indexes_carry_the_export_recipe_fp32_ones_do_not(tmp_path: Path) -> None:
    """Format-1 int8 vectors moved (cosine down to 0.997): an index built from them has another
    fingerprint, so the next ingest re-embeds it. fp32 vectors did not move."""
    assert load_embedder(settings(tmp_path, PACKAGED_MINILM)).fingerprint()["int8_recipe"] == INT8_RECIPE == 2
    assert "int8_recipe" not in load_embedder(settings(tmp_path, PACKAGED_MINILM, "fp32")).fingerprint()
