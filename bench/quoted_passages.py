"""Which passages an extractive answer quotes: does the quoted set still hold the right document, and
how many passages does it quote? On the Basecamp policies (documents nobody on the team wrote) with
the answerable questions of ``bench.byo_documents`` (bench/data/basecamp_questions.jsonl).

The corpus is ingested by the real pipeline into a temporary embedded store with the configured
model (its relevance cut-off calibrated at ingest, as ``faqstream ingest`` does); each question is
searched as the service searches it (hybrid, ``SERVICE_TOP_K`` passages, the question's detected
language) and the calibrated cut-off selects the passages to answer from
(``RelevanceFloor.select``). Of the questions that pass the gate, per question language:

* **before** — the first three passages, in retrieval order (the rule until this change);
* **after** — ``service.retrieval.relevance.RelevanceFloor.quoted``, the rule the service runs;

each with the share of questions whose quoted passages include a gold document, the share whose
first quoted passage is one, and the mean number of passages quoted. Prints a table; writes
nothing (``--json PATH`` to keep the per-question passages).

    python -m bench.quoted_passages [--limit GROUPS] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.byo_documents import CORPUS, QUESTIONS, Question, app_settings, load_questions
from ingest.pipeline import IngestPipeline
from knowledge.schema import SearchHit
from knowledge.search import KnowledgeBase, Query
from service.retrieval.relevance import RelevanceFloor, relevance_floor

BEFORE = 3  # passages the extractive answer quoted, whatever their scores

Rule = Callable[[RelevanceFloor, list[SearchHit], str], list[SearchHit]]


def before(floor: RelevanceFloor, hits: list[SearchHit], language: str) -> list[SearchHit]:
    return hits[:BEFORE]


def after(floor: RelevanceFloor, hits: list[SearchHit], language: str) -> list[SearchHit]:
    return floor.quoted(hits, language)


RULES: dict[str, Rule] = {"before": before, "after": after}


def figures(
    rows: Sequence[tuple[Question, list[SearchHit]]], rule: Rule, floor: RelevanceFloor
) -> dict[str, Any]:
    gold = first = 0
    counts: list[int] = []
    for question, hits in rows:
        quoted = rule(floor, hits, question.lang)
        docs = [h.payload.doc_id for h in quoted]
        gold += any(d in question.gold for d in docs)
        first += bool(docs) and docs[0] in question.gold
        counts.append(len(quoted))
    n = len(rows)
    return {
        "n": n,
        "gold_quoted": round(gold / n, 4) if n else None,
        "gold_first": round(first / n, 4) if n else None,
        "mean_quoted": round(statistics.fmean(counts), 2) if counts else None,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quoted_passages", description=__doc__)
    parser.add_argument("--limit", type=int, help="only the first N answerable groups")
    parser.add_argument("--json", type=Path, help="write each question's selected passages here")
    args = parser.parse_args(argv)
    questions = [q for q in load_questions(QUESTIONS, None, args.limit) if q.kind == "answerable"]
    with tempfile.TemporaryDirectory(prefix="faqstream-quoted-") as tmp:
        settings = app_settings(Path(tmp), None)
        kb = KnowledgeBase.open(settings)
        try:
            languages = kb.require_languages()
            IngestPipeline(kb.store, kb.embedder, kb.sparse, languages, settings).run([CORPUS])
            floor = relevance_floor(kb.meta(), None, kb.embedder.name, kb.embedder)
            detected = [languages.detect(q.text).language for q in questions]
            top_k = settings.service.top_k
            pairs = zip(questions, detected, strict=True)
            results = kb.run([Query(q.text, top_k, None, lang) for q, lang in pairs])
        finally:
            kb.store.close()
    print(floor.describe())
    print(f"context margin {floor.context_margin:.3f}")
    passed: list[tuple[Question, list[SearchHit]]] = []
    for question, lang, hits in zip(questions, detected, results, strict=True):
        selected = floor.select(hits, lang).hits
        if selected:
            passed.append((question, selected))
    print(f"{len(passed)} of {len(questions)} answerable questions pass the gate")
    langs = list(dict.fromkeys(q.lang for q in questions))
    print(
        f"{'lang':8}{'n':>5}  " + "  ".join(f"{r + ': gold quoted / gold first / quoted':>42}" for r in RULES)
    )
    for lang in ["all", *langs]:
        rows = [(q, h) for q, h in passed if lang in ("all", q.lang)]
        cells = []
        for rule in RULES.values():
            f = figures(rows, rule, floor)
            cells.append(f"{f['gold_quoted']:>24.1%} / {f['gold_first']:>6.1%} / {f['mean_quoted']:>4.2f}")
        print(f"{lang:8}{len(rows):>5}  " + "  ".join(cells))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "qid": q.qid,
                        "gold": sorted(q.gold),
                        "hits": [
                            {
                                "doc_id": h.payload.doc_id,
                                "language": h.payload.language,
                                "score": h.score,
                                "cosine": h.dense_score,
                            }
                            for h in hits
                        ],
                    }
                    for q, hits in passed
                ],
                indent=1,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
