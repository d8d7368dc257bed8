"""CPU per hybrid search, and the rankings it returns, on an ingested knowledge base (read only).

Opens the configured store (``QDRANT_PATH`` / ``QDRANT_URL``), asks every question of the
``--questions`` files (JSON lines with a ``question`` field) once to warm up, then ``--rounds``
more times, and prints the best and median process CPU time per search (``KnowledgeBase.
search_prepared``, hybrid, limit 5, query vectors computed beforehand: the search alone, not the
embedding). ``--dump FILE`` writes every question's hits (id, fused score, cosine) so two code
states can be compared for an identical ranking (``--compare FILE``: exits 1 on any difference).

    python -m bench.search_cost --questions data/eval/answers.jsonl [--rounds 5] [--dump out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from knowledge.search import KnowledgeBase, Query
from knowledge.settings import Settings


def load_questions(paths: list[Path]) -> list[str]:
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(str(json.loads(line)["question"]))
    return out


def _ids(entry: dict[str, Any]) -> list[str]:
    return [hit[0] for hit in entry["hits"]]


def _scores(entry: dict[str, Any]) -> list[float]:
    return [round(hit[1], 12) for hit in entry["hits"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, nargs="+", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--dump", type=Path, help="write every question's hits here (JSON)")
    parser.add_argument("--compare", type=Path, help="a --dump file: report rankings that differ")
    args = parser.parse_args(argv)

    kb = KnowledgeBase.open(Settings())
    try:
        questions = load_questions(args.questions)
        queries = [kb.with_language(Query(q, args.limit, None, None, "hybrid")) for q in questions]
        vectors = kb.query_vectors(queries)
        english = kb.english_vectors(queries)
        collection = kb.store.active()
        rankings = [
            kb.search_prepared(q, v, collection, e) for q, v, e in zip(queries, vectors, english, strict=True)
        ]
        per_search = []
        for _ in range(args.rounds):
            start = time.process_time()
            for q, v, e in zip(queries, vectors, english, strict=True):
                kb.search_prepared(q, v, collection, e)
            per_search.append((time.process_time() - start) / len(queries) * 1000)
    finally:
        kb.store.close()
    dump: list[dict[str, Any]] = [
        {
            "question": question,
            "hits": [[h.id, h.score, h.dense_score] for h in hits],
        }
        for question, hits in zip(questions, rankings, strict=True)
    ]
    print(
        f"{len(questions)} questions, {args.rounds} rounds: ms CPU per hybrid search "
        f"best {min(per_search):.2f}, median {statistics.median(per_search):.2f} "
        f"({', '.join(f'{x:.2f}' for x in per_search)})"
    )
    if args.dump:
        args.dump.write_text(json.dumps(dump, indent=1), encoding="utf-8")
    if args.compare:
        before = json.loads(args.compare.read_text(encoding="utf-8"))
        pairs = list(zip(before, dump, strict=True))
        ids_differ = [
            a["question"] for a, b in pairs if [h[0] for h in a["hits"]] != [h[0] for h in b["hits"]]
        ]
        scores_differ = [
            a["question"]
            for a, b in pairs
            if [round(h[1], 12) for h in a["hits"]] != [round(h[1], 12) for h in b["hits"]]
        ]
        cosines = [
            abs(x[2] - y[2])
            for a, b in pairs
            for x, y in zip(a["hits"], b["hits"], strict=False)
            if x[2] is not None and y[2] is not None
        ]
        cos = max(cosines, default=0.0)
        print(
            f"compared with {args.compare}: {len(ids_differ)} rankings differ, "
            f"{len(scores_differ)} differ in fused scores, largest cosine difference {cos:.2e}"
        )
        for question in ids_differ[:10]:
            print("  differs:", question)
        return 1 if ids_differ or scores_differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
