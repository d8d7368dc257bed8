"""How much a question's ranking depends on the other questions of its retrieval batch, and what a
batch saves, for both query models (the multilingual main model and the English companion).

Both models run int8 with dynamic quantisation, which scales each matrix product's activations over
the whole input: a question embedded beside others gets a slightly different vector than alone. On
an ingested knowledge base (read only: ``QDRANT_PATH`` / ``QDRANT_URL``), for each question of
``--questions`` (JSON lines with a ``question`` field, or ``query`` for the shared eval files): its
vectors alone and as the first of a batch of four (three other questions of the file, drawn with a
fixed seed), then the hybrid top ``--limit`` with the main model's batched vector, the companion's,
and both — how many questions' order and set of hits changed, and the cosines alone vs batched.
Also the CPU per question (``time.thread_time``, the process's embedding threads as configured) of
each model alone and in batches of four.

    python -m bench.batch_dependence --questions data/eval/answers.jsonl [--limit 5] [--out NAME]

Writes bench/results/batch_dependence.json (or NAME.json).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.common import write_result
from knowledge.search import KnowledgeBase, Query
from knowledge.settings import Settings

Vector = npt.NDArray[np.float32]
BATCH = 4


def load_questions(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(str(row.get("question") or row["query"]))
    return out


def cpu_per_question(embed: Callable[[list[str]], Vector], questions: Sequence[str], batch: int) -> float:
    start = time.thread_time()
    for i in range(0, len(questions), batch):
        embed(list(questions[i : i + batch]))
    return (time.thread_time() - start) * 1000 / len(questions)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--sample", type=int, default=240, help="questions drawn from the file at most")
    parser.add_argument("--out", default="batch_dependence")
    args = parser.parse_args(argv)

    kb = KnowledgeBase.open(Settings())
    try:
        main_model, companion = kb.embedder, kb.embedder.english
        if companion is None:
            raise SystemExit("this model has no English companion: nothing to compare for it")
        rng = random.Random(7)
        pool = load_questions(args.questions)
        questions = rng.sample(pool, min(args.sample, len(pool)))
        collection = kb.store.active()
        if collection is None:
            raise SystemExit("the knowledge base is empty: run `faqstream ingest` first")

        def top(question: str, dense: Vector, english: Vector) -> list[str]:
            query = kb.with_language(Query(question, args.limit))
            return [hit.id for hit in kb.search_prepared(query, dense, collection, english)]

        changed = {name: {"order": 0, "set": 0} for name in ("main_model", "companion", "both")}
        cosines: dict[str, list[float]] = {"main_model": [], "companion": []}
        for question in questions:
            batch = [question, *rng.sample(pool, BATCH - 1)]
            alone = main_model.embed_queries([question])[0], companion.embed_queries([question])[0]
            batched = main_model.embed_queries(batch)[0], companion.embed_queries(batch)[0]
            cosines["main_model"].append(float(alone[0] @ batched[0]))
            cosines["companion"].append(float(alone[1] @ batched[1]))
            base = top(question, *alone)
            variants = {
                "main_model": (batched[0], alone[1]),
                "companion": (alone[0], batched[1]),
                "both": batched,
            }
            for name, (dense, english) in variants.items():
                hits = top(question, dense, english)
                changed[name]["order"] += hits != base
                changed[name]["set"] += set(hits) != set(base)

        cpu: dict[str, dict[str, float]] = {}
        for name, model in (("main_model", main_model), ("companion", companion)):
            model.embed_queries(questions[:BATCH])  # warm
            runs = {
                size: [cpu_per_question(model.embed_queries, questions, size) for _ in range(3)]
                for size in (1, BATCH)
            }
            cpu[name] = {f"batch_{size}": round(statistics.median(ms), 3) for size, ms in runs.items()}
        figures: dict[str, Any] = {
            "questions_file": str(args.questions),
            "questions": len(questions),
            "limit": args.limit,
            "batch": BATCH,
            "models": {"main_model": main_model.name, "companion": companion.name},
            "top_changed_by_batch_mates": changed,
            "cosine_alone_vs_batched": {
                name: {"median": round(float(np.median(v)), 5), "min": round(min(v), 5)}
                for name, v in cosines.items()
            },
            "cpu_ms_per_question": cpu,
        }
        print(json.dumps(figures, indent=1))
        write_result(args.out, figures)
    finally:
        kb.store.close()


if __name__ == "__main__":
    main()
