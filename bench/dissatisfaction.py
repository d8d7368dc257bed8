"""Recall and false-positive rate of the dissatisfaction lexicon, per language.

    python -m bench.dissatisfaction [--lexicon PATH] [--label after]

Each message of ``bench.dissatisfaction_data`` (the labelled set, written before the lexicon was
extended for it and used to extend it; and a held-out set written afterwards, not tuned on) is
assessed alone (``DissatisfactionDetector.assess``,
no earlier turns: the repeated-question sign cannot help), with the lexicon at ``--lexicon``
(default: the packaged one). Recall: the share of ``ANGRY`` messages counted as dissatisfied; false
positives: the share of ``ORDINARY`` ones. The three conversations of the new user's report are
counted too: a conversation hands off when both of its customer turns are dissatisfied
(``HANDOFF_DISSATISFACTION_COUNT`` = 2).

Ordinary text nobody wrote for this benchmark is assessed too (``external``), where the eval data
is on the machine (``FAQSTREAM_EVAL_DIR``): Mintaka and XQuAD questions, XQuAD's Wikipedia paragraphs
(statements: history, crime, wars), the relevance calibration's unanswerable probes (12 languages),
Bitext customer-support requests (their ``complaint`` intent apart) and Banking77 (lost and stolen
cards, fraud, double charges). Any of it flagged is a false positive, except Bitext complaints and
the Banking77 messages that complain (the flagged ones are listed to read).

Writes bench/results/dissatisfaction-<label>.json (misses and false alarms listed).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from bench.common import EVAL, read_jsonl, write_result
from bench.dissatisfaction_data import ANGRY, HELD_OUT_ANGRY, HELD_OUT_ORDINARY, ORDINARY
from knowledge.answerability_probes import OFF_TOPIC, UNCOVERED
from service.handoff.dissatisfaction import DEFAULT_LEXICON, DissatisfactionDetector

# The new user's report (2026-12-06): each should hand off on its second customer turn.
CONVERSATIONS: list[tuple[str, str]] = [
    (
        "To skandal! Zablokowaliście mi 5000 zł na karcie i od tygodnia nikt nie odbiera telefonu!",
        "Jesteście beznadziejni, to oszustwo, nadal nie mam pieniędzy.",
    ),
    ("Kaucja nie wróciła, to jakiś żart!", "Żenada. Złodzieje!"),
    ("WHERE IS MY DEPOSIT, I RETURNED THE CAR TWO WEEKS AGO", "Still nothing. Worst rental company ever."),
]


def _rate(hits: int, total: int) -> float:
    return round(hits / total, 3) if total else 0.0


def score(
    detector: DissatisfactionDetector, angry_set: dict[str, list[str]], ordinary_set: dict[str, list[str]]
) -> dict[str, Any]:
    """Recall on ``angry_set`` and the false-positive rate on ``ordinary_set``, per language and overall."""
    per_language: dict[str, Any] = {}
    all_angry = all_caught = all_ordinary = all_flagged = 0
    for language, angry in angry_set.items():
        ordinary = ordinary_set[language]
        missed = [t for t in angry if not detector.assess(t).dissatisfied]
        verdicts = [(t, detector.assess(t)) for t in ordinary]
        flagged = [{"text": t, "signals": list(a.signals)} for t, a in verdicts if a.dissatisfied]
        per_language[language] = {
            "angry": len(angry),
            "ordinary": len(ordinary),
            "recall": _rate(len(angry) - len(missed), len(angry)),
            "false_positive_rate": _rate(len(flagged), len(ordinary)),
            "missed": missed,
            "false_alarms": flagged,
        }
        all_angry += len(angry)
        all_caught += len(angry) - len(missed)
        all_ordinary += len(ordinary)
        all_flagged += len(flagged)
    overall = {
        "angry": all_angry,
        "ordinary": all_ordinary,
        "recall": _rate(all_caught, all_angry),
        "false_positive_rate": _rate(all_flagged, all_ordinary),
    }
    return {"overall": overall, "languages": per_language}


def external_corpora() -> dict[str, dict[str, list[str]]]:
    """Ordinary texts by corpus and language (the corpora missing on this machine are left out)."""
    corpora: dict[str, dict[str, list[str]]] = {
        "answerability_probes": {lang: [*OFF_TOPIC[lang], *UNCOVERED.get(lang, ())] for lang in OFF_TOPIC}
    }
    languages = {"en", "zh", "es", "fr", "de", "ja", "pt", "it", "nl", "ru", "ko", "pl"}

    def by_language(rows: list[dict[str, Any]], field: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for row in rows:
            if row["lang"] in languages:
                found.setdefault(row["lang"], []).append(row[field])
        return found

    if (EVAL / "mintaka_queries.jsonl").exists():
        corpora["mintaka_questions"] = by_language(read_jsonl(EVAL / "mintaka_queries.jsonl"), "question")
    if (EVAL / "xquad_retrieval.jsonl").exists():
        corpora["xquad_questions"] = by_language(read_jsonl(EVAL / "xquad_retrieval.jsonl"), "question")
    if (EVAL / "xquad_docs_all_langs.jsonl").exists():
        corpora["xquad_paragraphs"] = by_language(read_jsonl(EVAL / "xquad_docs_all_langs.jsonl"), "text")
    if (EVAL / "faq_queries.jsonl").exists():
        rows = read_jsonl(EVAL / "faq_queries.jsonl")
        corpora["bitext_requests"] = {"en": [r["query"] for r in rows if r["intent"] != "complaint"]}
        corpora["bitext_complaints"] = {"en": [r["query"] for r in rows if r["intent"] == "complaint"]}
    banking = EVAL / "raw" / "banking77" / "test.csv"
    if banking.exists():
        with banking.open(encoding="utf-8", newline="") as handle:
            corpora["banking77"] = {"en": [row["text"] for row in csv.DictReader(handle)]}
    return corpora


def external(detector: DissatisfactionDetector, corpora: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """How often ordinary text of other sources is flagged, per corpus and language (all flagged
    texts listed, at most 40 per language)."""
    figures: dict[str, Any] = {}
    for corpus, languages in corpora.items():
        figures[corpus] = {}
        for language, texts in languages.items():
            flagged = [t for t in texts if detector.assess(t).dissatisfied]
            figures[corpus][language] = {
                "n": len(texts),
                "flagged": len(flagged),
                "rate": round(len(flagged) / len(texts), 4) if texts else 0.0,
                "examples": flagged[:40],
            }
    return figures


def measure(detector: DissatisfactionDetector) -> dict[str, Any]:
    conversations = []
    for turns in CONVERSATIONS:
        dissatisfied = detector.count(list(turns))
        conversations.append(
            {"turns": list(turns), "dissatisfied_turns": dissatisfied, "hands_off": dissatisfied >= 2}
        )
    return {
        "labelled": score(detector, ANGRY, ORDINARY),
        "held_out": score(detector, HELD_OUT_ANGRY, HELD_OUT_ORDINARY),
        "report_conversations": conversations,
        "external": external(detector, external_corpora()),
    }


def _table(name: str, figures: dict[str, Any]) -> None:
    print(f"{name}: recall / false positives")
    rows = {**figures["languages"], "all": figures["overall"]}
    print(
        "  ".join(
            f"{lang} {row['recall']:.2f}/{row['false_positive_rate']:.2f}" for lang, row in rows.items()
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON)
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    figures = measure(DissatisfactionDetector.load(args.lexicon))
    _table("labelled set", figures["labelled"])
    _table("held out", figures["held_out"])
    for corpus, languages in figures["external"].items():
        print(
            corpus,
            "flagged:",
            "  ".join(f"{lang} {row['flagged']}/{row['n']}" for lang, row in languages.items()),
        )
    print("report conversations hand off:", [c["hands_off"] for c in figures["report_conversations"]])
    write_result(f"dissatisfaction-{args.label}", {"lexicon": str(args.lexicon.name), **figures})


if __name__ == "__main__":
    main()
