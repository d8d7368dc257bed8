"""CPU per question of the query models at other precisions and session options (issue 11, round 9).

The service embeds each question with multilingual-e5-small (dynamic int8, in batches) and, for
English questions, with the all-MiniLM-L6-v2 companion (dynamic int8, one question per pass, because
dynamic int8 scales the activations over the whole batch and a batched vector would depend on its
batch mates). This measures, for both models, the alternatives that could cost less CPU per answer:

* precisions: the served int8 export; fp32 (batch-independent with attention masks, so the companion
  could run batched); weight-only 8-bit ``MatMulNBits`` (blocks of 32 or 128 weights, int8 compute,
  ``accuracy_level=4``: onnxruntime quantises each row's activations on their own, so vectors are
  batch-independent too), built from the fp32 export by onnxruntime's ``MatMulNBitsQuantizer``;
* CPU ms per question (``time.thread_time``, one intra-op thread as served) alone, in batches of 4
  and 16, variants interleaved ``--rounds`` times, median;
* the cosine of each variant's batched vectors to the same question's vector alone (batch
  independence) and of its vectors alone to fp32's (fidelity);
* onnxruntime session options on the served int8 graphs (raw ``session.run``, the served shapes:
  the companion alone, e5 in batches of 4): memory arena and pattern off, optimisation levels,
  denormals as zero, the fusions the backend turns off, padding to multiples of 8 tokens.

Questions: 120 Bitext test requests and 120 XQuAD questions (English for the companion; en, es, de,
zh for e5). The fp32 and MatMulNBits exports are written once to ``--models`` (a scratch folder,
not the service's model cache).

    .venv/bin/python -m bench.query_precision [--rounds 5] [--models DIR]

Writes bench/results/issue11e/query_precision.json.
"""

from __future__ import annotations

import argparse
import collections
import functools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bench.common import EVAL, MODEL_CACHE, read_jsonl, write_result
from knowledge.embedder import UNFUSED, Embedder, Matrix, OnnxBackend
from knowledge.onnx_export import _export, ensure_onnx_model, load_exported
from knowledge.settings import PACKAGED_E5, PACKAGED_MINILM, EmbeddingSettings

MODELS = {"e5": PACKAGED_E5, "minilm": PACKAGED_MINILM}
NBITS = {"nbits8_block32": 32, "nbits8_block128": 128}
BATCHES = (1, 4, 16)
SERVED_BATCH = {"e5": 4, "minilm": 1}  # e5 in the retrieval batch (~3-4 at load), the companion alone


def questions(model: str) -> list[str]:
    bitext = [r["query"] for r in read_jsonl(EVAL / "faq_queries.jsonl") if r["split"] == "test"]
    langs = ("en",) if model == "minilm" else ("en", "es", "de", "zh")
    rows = read_jsonl(EVAL / "xquad_retrieval.jsonl")
    xquad = [r["question"] for lang in langs for r in rows if r["lang"] == lang]
    return bitext[::15][:120] + xquad[::7][:120]


def settings(model: str, precision: Literal["fp32", "int8"] = "int8") -> EmbeddingSettings:
    return EmbeddingSettings(
        model=model, precision=precision, english_model="none", threads=1, cache_dir=MODEL_CACHE
    )


def build_variants(model: str, scratch: Path) -> dict[str, Path]:
    """Folders of the served int8 export, an fp32 export and the MatMulNBits exports."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    from knowledge.embedder import load_sentence_transformer, model_info_from, resolve_model

    served = ensure_onnx_model(settings(MODELS[model]))
    folders = {"int8 (served)": served, "fp32": scratch / f"{model}-fp32"}
    for name in NBITS:
        folders[name] = scratch / f"{model}-{name}"
    fp32 = folders["fp32"]
    if not (fp32 / "model.onnx").exists():
        fp32.mkdir(parents=True, exist_ok=True)
        s = settings(MODELS[model], "fp32")
        st = load_sentence_transformer(s.model, s)
        info, _ = model_info_from(st, resolve_model(s.model, s.cache_dir)[0], s)
        _export(st, info, fp32 / "model.onnx")
    for name, block in NBITS.items():
        target = folders[name]
        if (target / "model.onnx").exists():
            continue
        target.mkdir(parents=True, exist_ok=True)
        config = DefaultWeightOnlyQuantConfig(block_size=block, is_symmetric=True, accuracy_level=4, bits=8)
        quantizer = MatMulNBitsQuantizer(onnx.load(str(fp32 / "model.onnx")), algo_config=config)
        quantizer.process()
        quantizer.model.save_model_to_file(str(target / "model.onnx"), use_external_data_format=False)
    for folder in folders.values():
        for name in ("info.json", "tokenizer.json"):
            if not (folder / name).exists():
                shutil.copy(served / name, folder / name)
    return folders


def embedder(folder: Path) -> Embedder:
    info, tokenizer = load_exported(folder)
    # The settings only give batch sizes and limits here; the model is the folder's.
    return Embedder(info, tokenizer, OnnxBackend(folder / "model.onnx", 1), settings(info.name, "fp32"))


def cpu_ms(step: Callable[[], object], items: int) -> float:
    start = time.thread_time()
    step()
    return (time.thread_time() - start) / items * 1000


def batched(e: Embedder, qs: list[str], batch: int) -> Matrix:
    if batch == 1:
        return np.vstack([e.embed_query(q) for q in qs])
    return np.vstack([e.embed_queries(qs[i : i + batch]) for i in range(0, len(qs), batch)])


def cosine(a: Matrix, b: Matrix) -> dict[str, float]:
    values = (a * b).sum(axis=1)
    return {
        "mean": round(float(values.mean()), 6),
        "median": round(float(np.median(values)), 6),
        "min": round(float(values.min()), 6),
    }


def precisions(model: str, qs: list[str], scratch: Path, rounds: int) -> dict[str, Any]:
    embedders = {name: embedder(folder) for name, folder in build_variants(model, scratch).items()}
    for e in embedders.values():
        batched(e, qs[:16], 4)
    samples: dict[str, dict[str, list[float]]] = {n: collections.defaultdict(list) for n in embedders}
    for _ in range(rounds):
        for name, e in embedders.items():
            for batch in BATCHES:
                step = functools.partial(batched, e, qs, batch)
                samples[name][f"batch_{batch}"].append(cpu_ms(step, len(qs)))
    alone = {name: batched(e, qs, 1) for name, e in embedders.items()}
    out: dict[str, Any] = {}
    for name, e in embedders.items():
        out[name] = {
            "cpu_ms": {key: round(statistics.median(v), 3) for key, v in samples[name].items()},
            "batch_4_vs_alone": cosine(batched(e, qs, 4), alone[name]),
            "batch_16_vs_alone": cosine(batched(e, qs, 16), alone[name]),
            "alone_vs_fp32_alone": cosine(alone[name], alone["fp32"]),
        }
    return out


OPTIONS: dict[str, dict[str, Any]] = {
    "served": {},
    "cpu_mem_arena_off": {"arena": False},
    "mem_pattern_off": {"pattern": False},
    "optimisation_extended": {"level": "extended"},
    "optimisation_basic": {"level": "basic"},
    "denormal_as_zero": {"config": {"session.set_denormal_as_zero": "1"}},
    "all_fusions_on": {"unfused": []},
    "padded_to_8_tokens": {"bucket": 8},
}


def options_session(path: Path, option: dict[str, Any]) -> Any:
    import onnxruntime as ort

    levels = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    }
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = levels[option.get("level", "all")]
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.enable_cpu_mem_arena = option.get("arena", True)
    opts.enable_mem_pattern = option.get("pattern", True)
    for key, value in option.get("config", {}).items():
        opts.add_session_config_entry(key, value)
    return ort.InferenceSession(
        str(path),
        opts,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=option.get("unfused", UNFUSED),
    )


def feeds(folder: Path, qs: list[str], batch: int, bucket: int, names: set[str]) -> list[dict[str, Any]]:
    info, tokenizer = load_exported(folder)
    prompt = "query: " if info.query_prompt else ""
    out: list[dict[str, Any]] = []
    for start in range(0, len(qs), batch):
        seqs = [
            [*info.prefix_ids, *tokenizer.encode(prompt + q, add_special_tokens=False).ids, *info.suffix_ids]
            for q in qs[start : start + batch]
        ]
        width = max(len(s) for s in seqs)
        width = -(-width // bucket) * bucket if bucket else width
        ids: npt.NDArray[np.int64] = np.full((len(seqs), width), info.pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feed["token_type_ids"] = np.zeros_like(ids)
        out.append(feed)
    return out


def run_all(session: Any, batches: list[dict[str, Any]]) -> None:
    for feed in batches:
        session.run(None, feed)


def session_options(model: str, qs: list[str], rounds: int) -> dict[str, float]:
    folder = ensure_onnx_model(settings(MODELS[model]))
    batch = SERVED_BATCH[model]
    sessions = {name: options_session(folder / "model.onnx", option) for name, option in OPTIONS.items()}
    inputs = {
        name: feeds(folder, qs, batch, option.get("bucket", 0), {i.name for i in sessions[name].get_inputs()})
        for name, option in OPTIONS.items()
    }
    for name, session in sessions.items():
        for feed in inputs[name][:5]:
            session.run(None, feed)
    samples: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(rounds):
        for name, session in sessions.items():
            step = functools.partial(run_all, session, inputs[name])
            samples[name].append(cpu_ms(step, len(qs)))
    return {name: round(statistics.median(values), 3) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved repetitions (median)")
    parser.add_argument(
        "--models",
        type=Path,
        default=Path(tempfile.gettempdir()) / "faqstream-query-precision",
        help="scratch folder for the fp32 and MatMulNBits exports (kept between runs)",
    )
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"rounds": args.rounds, "models": {}}
    for model in MODELS:
        qs = questions(model)
        figures: dict[str, Any] = {
            "questions": len(qs),
            "precisions": precisions(model, qs, args.models, args.rounds),
            f"session_options_cpu_ms_batch_{SERVED_BATCH[model]}": session_options(model, qs, args.rounds),
        }
        results["models"][model] = figures
        for name, row in figures["precisions"].items():
            print(model, name, row)
        print(model, "session options", figures[f"session_options_cpu_ms_batch_{SERVED_BATCH[model]}"])
    write_result("issue11e/query_precision", results)


if __name__ == "__main__":
    main()
