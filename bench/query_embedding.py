"""CPU per question of the packaged ONNX int8 models, previous export (format 1) vs current.

Issue 11: embedding the question was the largest share of the service's CPU per answer. For
multilingual-e5-small (the main model, with its ``query: `` prompt) and all-MiniLM-L6-v2 (the
English companion), both int8 as served, this measures on 200 real XQuAD questions (en, es, de,
zh; ~12 tokens):

* CPU ms per question (``time.thread_time``, one intra-op thread as the service runs it) at batch
  1, 4 and 16, and CPU ms per chunk of ``embed_documents`` on ~200 chunks of data/policies;
  previous and current export interleaved, ``--rounds`` times, median reported;
* the cosine between previous and current vectors of the same texts (questions one at a time,
  the chunks as ingest batches them), and each export's batch-1 vs batch-16 question vectors
  (dynamic int8 quantises activations with one scale per tensor, so batch mates move a vector);
* the operator counts of both graphs.

The previous export is the format-1 folder in the model cache (``knowledge.onnx_export.export_folder``
with format 1: what an earlier faqstream wrote there), run with the session options of the time
(onnxruntime's SkipLayerNormalization fusion on). Without it only the current export is measured.

    .venv/bin/python -m bench.query_embedding [--rounds 5]

Writes bench/results/query_embedding.json.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.common import EVAL, MODEL_CACHE, REPO, read_jsonl, write_result
from knowledge.embedder import Backend, Embedder, Matrix, OnnxBackend
from knowledge.onnx_export import EXPORT_FORMAT, ensure_onnx_model, export_folder, load_exported
from knowledge.settings import PACKAGED_E5, PACKAGED_MINILM, EmbeddingSettings

PREVIOUS_FORMAT = 1
BATCHES = (1, 4, 16)
MODELS = {"e5 (main)": PACKAGED_E5, "minilm (English companion)": PACKAGED_MINILM}


class PreviousSession:
    """The ONNX backend as format-1 exports were served: every onnxruntime fusion on."""

    def __init__(self, model_path: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        self._names = {i.name for i in self._session.get_inputs()}

    def run(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Matrix:
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        return np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)


def questions() -> list[str]:
    rows = read_jsonl(EVAL / "xquad_retrieval.jsonl")
    return [r["question"] for lang in ("en", "es", "de", "zh") for r in rows if r["lang"] == lang][::4][:200]


def policy_chunks(size: int = 900) -> list[str]:
    """data/policies cut at paragraph ends into pieces of about ``size`` characters."""
    chunks: list[str] = []
    for path in sorted((REPO / "data" / "policies").rglob("*.md")):
        current = ""
        for para in path.read_text(encoding="utf-8").split("\n\n"):
            if current and len(current) + len(para) > size:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{para}" if current else para
        if current.strip():
            chunks.append(current)
    return chunks


def op_counts(model: Path) -> dict[str, int]:
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    return dict(collections.Counter(node.op_type for node in graph.node).most_common())


def cpu_ms(step: Callable[[], object], items: int) -> float:
    start = time.thread_time()
    step()
    return (time.thread_time() - start) / items * 1000


def queries_step(e: Embedder, qs: list[str], batch: int) -> Callable[[], object]:
    return lambda: [e.embed_queries(qs[i : i + batch]) for i in range(0, len(qs), batch)]


def documents_step(e: Embedder, chunks: list[str]) -> Callable[[], object]:
    return lambda: e.embed_documents(chunks)


def embedder(settings: EmbeddingSettings, folder: Path, backend: Backend) -> Embedder:
    info, tokenizer = load_exported(folder)
    return Embedder(info, tokenizer, backend, settings)


def cosines(a: Matrix, b: Matrix) -> dict[str, float]:
    values = (a * b).sum(axis=1)
    return {"mean": round(float(values.mean()), 5), "min": round(float(values.min()), 5)}


def measure(model: str, qs: list[str], chunks: list[str], rounds: int) -> dict[str, Any]:
    settings = EmbeddingSettings(
        model=model, precision="int8", english_model="none", threads=1, cache_dir=MODEL_CACHE
    )
    current = ensure_onnx_model(settings)
    exports = {"current": embedder(settings, current, OnnxBackend(current / "model.onnx", 1))}
    previous = export_folder(settings, PREVIOUS_FORMAT)
    if (previous / "model.onnx").exists():
        exports["previous"] = embedder(settings, previous, PreviousSession(previous / "model.onnx"))
    out: dict[str, Any] = {
        "folders": {"current": current.name, "previous": previous.name if "previous" in exports else None},
        "ops": {
            "current": op_counts(current / "model.onnx"),
            **({"previous": op_counts(previous / "model.onnx")} if "previous" in exports else {}),
        },
    }
    samples: dict[str, dict[str, list[float]]] = {name: collections.defaultdict(list) for name in exports}
    for e in exports.values():
        e.embed_queries(qs[:16])
    for _ in range(rounds):
        for name, e in exports.items():
            for batch in BATCHES:
                samples[name][f"query_batch_{batch}"].append(cpu_ms(queries_step(e, qs, batch), len(qs)))
            samples[name]["document_chunk"].append(cpu_ms(documents_step(e, chunks), len(chunks)))
    out["cpu_ms"] = {
        name: {key: round(statistics.median(values), 3) for key, values in by_key.items()}
        for name, by_key in samples.items()
    }
    vectors = {
        name: (np.vstack([e.embed_queries([q]) for q in qs]), e.embed_queries(qs), e.embed_documents(chunks))
        for name, e in exports.items()
    }
    out["batch_1_vs_16_cosine"] = {name: cosines(v[0], v[1]) for name, v in vectors.items()}
    if "previous" in vectors:
        before, after = vectors["previous"], vectors["current"]
        out["previous_vs_current_cosine"] = {
            "questions_batch_1": cosines(before[0], after[0]),
            "policy_chunks": cosines(before[2], after[2]),
        }
        out["cpu_change"] = {
            key: f"{(out['cpu_ms']['current'][key] / value - 1) * 100:+.1f}%"
            for key, value in out["cpu_ms"]["previous"].items()
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved repetitions (median)")
    args = parser.parse_args(argv)
    qs, chunks = questions(), policy_chunks()
    results: dict[str, Any] = {
        "export_format": EXPORT_FORMAT,
        "questions": len(qs),
        "policy_chunks": len(chunks),
        "rounds": args.rounds,
        "models": {},
    }
    for label, model in MODELS.items():
        results["models"][label] = figures = measure(model, qs, chunks, args.rounds)
        print(label, figures["cpu_ms"], figures.get("cpu_change"), figures.get("previous_vs_current_cosine"))
    write_result("query_embedding", results)


if __name__ == "__main__":
    main()
