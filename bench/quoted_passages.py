"""Which passages an extractive answer quotes: does the quoted set still hold the right document, and
is the first one quoted right? Two sets (``--set``): the Basecamp policies (documents nobody on the
team wrote, all English) with the answerable questions of ``bench.byo_documents``
(bench/data/basecamp_questions.jsonl); ``mixed``, the pages of an invented bike rental in German,
English and French (bench/data/mixed_kb) with 54 questions in de/en/fr/es, gold the page in the
customer's language where one exists (bench/data/mixed_kb_questions.jsonl, bench/data/README.md);
``pakketpunt``, a new user's trial pages (a Benelux parcel company: Dutch, English and French pages,
an FAQ table of six rows, a PDF price list; bench/data/pakketpunt) with 60 questions in
nl/en/fr/de/pl/tr, gold the page (or FAQ row) that answers (bench/data/pakketpunt_quotes_questions.jsonl).

The corpus is ingested by the real pipeline into a temporary embedded store with the configured
model (its relevance cut-off calibrated at ingest, as ``faqstream ingest`` does); each question is
searched as the service searches it (hybrid, ``SERVICE_TOP_K`` passages, the question's detected
language, read by ``RelevanceFloor.question_language``) and the calibrated cut-off selects the
passages to answer from (``RelevanceFloor.select``). Of the questions that pass the gate, per
question language:

* **first three** — the first three passages, in retrieval order (the rule before best first);
* **by lead** — those within the margin of the best, by their lead over their own cut-off (the
  rule before the question's language first);
* **after** — ``service.retrieval.relevance.RelevanceFloor.quoted``, the rule the service runs;

each with the share of questions whose quoted passages include a gold document, the share whose
first quoted passage is one, and the mean number of passages quoted. Prints a table; writes
nothing (``--json PATH`` to keep the per-question passages, their scores and each rule's quotes).

    python -m bench.quoted_passages [--set basecamp|mixed|pakketpunt] [--limit GROUPS] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.byo_documents import CORPUS, QUESTIONS, Question, ingested, load_questions
from bench.common import REPO
from knowledge.schema import SearchHit
from knowledge.search import Query
from service.retrieval.relevance import MAX_QUOTED, RelevanceFloor

BEFORE = 3  # passages the extractive answer quoted before best first, whatever their scores

Rule = Callable[[RelevanceFloor, list[SearchHit], str | None], list[SearchHit]]
MIXED = REPO / "bench" / "data" / "mixed_kb"
PAKKETPUNT = REPO / "bench" / "data" / "pakketpunt"
SETS = {
    "basecamp": (CORPUS, QUESTIONS),
    "mixed": (MIXED, REPO / "bench" / "data" / "mixed_kb_questions.jsonl"),
    "pakketpunt": (PAKKETPUNT, REPO / "bench" / "data" / "pakketpunt_quotes_questions.jsonl"),
}


def before(floor: RelevanceFloor, hits: list[SearchHit], language: str | None) -> list[SearchHit]:
    return hits[:BEFORE]


def by_lead(floor: RelevanceFloor, hits: list[SearchHit], language: str | None) -> list[SearchHit]:
    margin = floor.margin(language)
    leads = [floor.lead(hit, language) for hit in hits]
    best = max(leads)
    ranked = sorted(zip(hits, leads, strict=True), key=lambda pair: -pair[1])
    return [hit for hit, lead in ranked if lead >= best - margin][:MAX_QUOTED]


def after(floor: RelevanceFloor, hits: list[SearchHit], language: str | None) -> list[SearchHit]:
    return floor.quoted(hits, language)


def retrieval_order(floor: RelevanceFloor, hits: list[SearchHit], language: str | None) -> list[SearchHit]:
    """The same passages as ``after``, question's language first, then in retrieval order."""
    chosen = {h.id for h in floor.quoted(hits, language)}
    kept = [h for h in hits if h.id in chosen]
    return sorted(kept, key=lambda h: floor.lead(h, language) < 0.0 or floor.other_language(h, language))


def wide_order(floor: RelevanceFloor, hits: list[SearchHit], language: str | None) -> list[SearchHit]:
    """The first passage in retrieval order over the gate always quoted; then ``after``'s."""
    over = [h for h in hits if floor.lead(h, language) >= 0.0]
    first = over[:1]
    rest = [h for h in floor.quoted(hits, language) if not first or h.id != first[0].id]
    return (first + rest)[:MAX_QUOTED]


RULES: dict[str, Rule] = {
    "first three": before,
    "by lead": by_lead,
    "after": after,
    "retrieval order": retrieval_order,
    "wide": wide_order,
}


Row = tuple[Question, list[SearchHit], str | None]  # the question, its selected passages, its language


def figures(rows: Sequence[Row], rule: Rule, floor: RelevanceFloor) -> dict[str, Any]:
    gold = first = 0
    counts: list[int] = []
    for question, hits, language in rows:
        quoted = rule(floor, hits, language)
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
    parser.add_argument("--set", choices=sorted(SETS), default="basecamp", help="corpus and questions")
    parser.add_argument("--limit", type=int, help="only the first N answerable groups")
    parser.add_argument("--json", type=Path, help="write each question's selected passages here")
    args = parser.parse_args(argv)
    corpus, questions_file = SETS[args.set]
    questions = [q for q in load_questions(questions_file, None, args.limit) if q.kind == "answerable"]
    with ingested(corpus, "faqstream-quoted-") as (kb, settings, floor):
        languages = kb.require_languages()
        detections = [languages.detect(q.text) for q in questions]
        top_k = settings.service.top_k
        pairs = zip(questions, detections, strict=True)
        results = kb.run([Query(q.text, top_k, None, d.language) for q, d in pairs])
    print(floor.describe())
    print(f"context margin {floor.context_margin:.3f}")
    passed: list[Row] = []
    for question, detection, hits in zip(questions, detections, results, strict=True):
        # the question's language as the service reads it (``service.answers.flow``)
        asked_in = floor.question_language(detection.language, detection, question.text)
        selected = floor.select(hits, asked_in).hits
        if selected:
            passed.append((question, selected, asked_in))
    print(f"{len(passed)} of {len(questions)} answerable questions pass the gate")
    langs = list(dict.fromkeys(q.lang for q in questions))
    print(f"{'lang':8}{'n':>5}  " + "  ".join(f"{r:>24}" for r in RULES))
    for lang in ["all", *langs]:
        rows = [row for row in passed if lang in ("all", row[0].lang)]
        cells = []
        for rule in RULES.values():
            f = figures(rows, rule, floor)
            cells.append(f"{f['gold_quoted']:>6.1%} / {f['gold_first']:>6.1%} / {f['mean_quoted']:>4.2f}")
        print(f"{lang:8}{len(rows):>5}  " + "  ".join(cells))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "qid": q.qid,
                        "gold": sorted(q.gold),
                        "language": asked_in,
                        "quoted": {
                            name: [h.payload.doc_id for h in rule(floor, hits, asked_in)]
                            for name, rule in RULES.items()
                        },
                        "hits": [
                            {
                                "doc_id": h.payload.doc_id,
                                "language": h.payload.language,
                                "score": h.score,
                                "cosine": h.dense_score,
                                "normalised": round(floor.score(h, asked_in), 3),
                                "lead": round(floor.lead(h, asked_in), 3),
                            }
                            for h in hits
                        ],
                    }
                    for q, hits, asked_in in passed
                ],
                indent=1,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
