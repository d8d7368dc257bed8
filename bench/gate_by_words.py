"""What the relevance gate's second rule changes: a passage in the question's language that holds
every word of the question (at least two terms) passes when no passage is over the cut-off
(``RelevanceFloor.relevant``, ``covers``; docs/handoff-and-languages.md).

For each labelled set — documents nobody on the team wrote (the Basecamp policies) and new users'
trial pages (bench/data) — the pages are ingested by the real pipeline into a temporary embedded
store with the configured model, each question is searched as the service searches it (hybrid, top
``SERVICE_TOP_K``, the detected language as ``RelevanceFloor.question_language`` reads it), and the
gate is run twice: by the cut-off alone, and with the question's words. Per kind of question
(answerable; uncovered, off-topic or any other labelled handoff): how many pass by the cut-off, how
many more pass by their words (and for answerable ones, whether the passage let through is a gold
document), how many are handed off either way. Writes bench/results/gate_by_words.json.

    python -m bench.gate_by_words [--sets basecamp,pakketpunt,…]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from bench.byo_documents import CORPUS, QUESTIONS, ingested
from bench.common import REPO, read_jsonl, write_result
from knowledge.search import Query

DATA = REPO / "bench" / "data"
SETS: dict[str, tuple[Path, Path]] = {
    "basecamp": (CORPUS, QUESTIONS),
    "pakketpunt": (DATA / "pakketpunt", DATA / "pakketpunt_questions.jsonl"),
    "mixed_kb": (DATA / "mixed_kb", DATA / "mixed_kb_questions.jsonl"),
    "pedalpoint": (DATA / "pedalpoint", DATA / "pedalpoint_questions.jsonl"),
    "zahnwerk": (DATA / "zahnwerk", DATA / "zahnwerk_answers.jsonl"),
    "valdemora": (DATA / "valdemora", DATA / "valdemora_answers.jsonl"),
    "demo": (REPO / "data" / "policies", REPO / "data" / "eval" / "answers.jsonl"),
}


def kind(row: dict[str, Any]) -> str:
    """A bench row's ``kind``, or for an ``eval answers`` label: answerable (expected documents, no
    handoff), else unanswerable (a person asked for is left out: the router decides it)."""
    if "kind" in row:
        return str(row["kind"])
    if row.get("handoff") == "customer_request":
        return "request"
    return "answerable" if row.get("doc_ids") and not row.get("handoff") else "unanswerable"


def measure(corpus: Path, questions: Path) -> dict[str, Any]:
    rows = [r for r in read_jsonl(questions) if kind(r) != "request"]
    with ingested(corpus, "faqstream-gate-") as (kb, settings, floor):
        languages = kb.require_languages()
        detections = [languages.detect(r["question"]) for r in rows]
        top_k = settings.service.top_k
        queries = [
            Query(r["question"], top_k, None, d.language) for r, d in zip(rows, detections, strict=True)
        ]
        results = kb.run(queries)
    counts: dict[str, Counter[str]] = {}
    let_through: list[dict[str, Any]] = []
    for row, detection, hits in zip(rows, detections, results, strict=True):
        asked_in = floor.question_language(detection.language, detection, row["question"])
        tally = counts.setdefault(kind(row), Counter())
        tally["n"] += 1
        if floor.relevant(hits, asked_in):
            tally["cut_off"] += 1
            continue
        passing = floor.relevant(hits, asked_in, row["question"])
        if not passing:
            tally["handed_off"] += 1
            continue
        tally["words"] += 1
        gold = {d.split("#", 1)[0] for d in row.get("doc_ids") or []}
        doc = passing[0].payload.doc_id
        if doc.split("#", 1)[0] in gold:
            tally["words_gold"] += 1
        let_through.append(
            {
                "kind": kind(row),
                "question": row["question"],
                "passage": doc,
                "gold": doc.split("#", 1)[0] in gold,
                "lead": round(floor.lead(passing[0], asked_in), 3),
            }
        )
    return {"by_kind": {k: dict(v) for k, v in counts.items()}, "let_through_by_words": let_through}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gate_by_words", description=__doc__)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {}
    for name in args.sets.split(","):
        corpus, questions = SETS[name]
        figures[name] = measure(corpus, questions)
        print(name)
        for k, tally in figures[name]["by_kind"].items():
            print(
                f"  {k:13} n={tally['n']:4}  over the cut-off {tally.get('cut_off', 0):4}  "
                f"by their words {tally.get('words', 0):3} (gold {tally.get('words_gold', 0)})  "
                f"handed off {tally.get('handed_off', 0):4}"
            )
        for item in figures[name]["let_through_by_words"]:
            print(f"    {item['kind']}: {item['question']} → {item['passage']} ({item['lead']:+.2f} sd)")
    if args.sets == ",".join(SETS):
        write_result("gate_by_words", {"sets": figures})
    else:
        print("partial run (--sets): results file not written")


if __name__ == "__main__":
    main()
