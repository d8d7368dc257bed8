"""How much of normal support text the extractive reply's filter drops
(``service.answers.quotable``): sentences flagged as instructions to the reader, per corpus and
rule, with the flagged sentences listed; and characters that markup stripping removed. Target: 0.

    python -m bench.quotable_filter   → bench/results/issue12/quotable_filter.json
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import EVAL, REPO, write_result
from service.answers.quotable import instruction_rule, sentences, strip_markup

SUFFIXES = {".md", ".txt", ".html", ".csv", ".jsonl"}


def _files(root: Path) -> list[str]:
    return [
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(root.rglob("*"))
        if p.suffix in SUFFIXES
    ]


def _bitext_responses() -> list[str]:
    path = EVAL / "raw" / "bitext_customer_support" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["response"] for row in csv.DictReader(fh)]


def measure(texts: list[str]) -> dict[str, Any]:
    checked = [s for text in texts for s in sentences(text)]
    flagged = [(rule, s) for s in checked if (rule := instruction_rule(s))]
    return {
        "texts": len(texts),
        "sentences": len(checked),
        "dropped": len(flagged),
        "dropped_share": round(len(flagged) / max(len(checked), 1), 6),
        "by_rule": dict(Counter(rule for rule, _ in flagged)),
        "examples": [f"{rule}: {s.strip()[:200]}" for rule, s in flagged[:20]],
        "markup_chars_removed": sum(len(t) - len(strip_markup(t)) for t in texts),
    }


def main() -> None:
    corpora = {
        "basecamp_policies": _files(EVAL / "raw" / "basecamp_policies"),
        "data_policies": _files(REPO / "data" / "policies"),
        "bitext_support_responses": _bitext_responses(),
    }
    figures = {name: measure(texts) for name, texts in corpora.items()}
    for name, f in figures.items():
        print(f"{name}: {f['dropped']} of {f['sentences']} sentences dropped {f['by_rule']}")
        for example in f["examples"][:10]:
            print("   ", example)
    write_result("issue12/quotable_filter", figures)


if __name__ == "__main__":
    main()
