"""Recall and false-positive rate of the dissatisfaction lexicon, per language.

    python -m bench.dissatisfaction [--lexicon PATH] [--label after]

Each message of ``bench.dissatisfaction_data`` is assessed alone (``DissatisfactionDetector.assess``,
no earlier turns: the repeated-question sign cannot help), with the lexicon at ``--lexicon``
(default: the packaged one). Recall: the share of ``ANGRY`` messages counted as dissatisfied; false
positives: the share of ``ORDINARY`` ones. The three conversations of the new user's report are
counted too: a conversation hands off when both of its customer turns are dissatisfied
(``HANDOFF_DISSATISFACTION_COUNT`` = 2).

Writes bench/results/dissatisfaction-<label>.json (misses and false alarms listed).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.common import write_result
from bench.dissatisfaction_data import ANGRY, ORDINARY
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


def measure(detector: DissatisfactionDetector) -> dict[str, Any]:
    per_language: dict[str, Any] = {}
    all_angry = all_caught = all_ordinary = all_flagged = 0
    for language in ANGRY:
        angry, ordinary = ANGRY[language], ORDINARY[language]
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
    conversations = [
        {"turns": list(turns), "dissatisfied_turns": detector.count(list(turns)), "hands_off": None}
        for turns in CONVERSATIONS
    ]
    for conversation in conversations:
        conversation["hands_off"] = conversation["dissatisfied_turns"] >= 2
    return {
        "overall": {
            "angry": all_angry,
            "ordinary": all_ordinary,
            "recall": _rate(all_caught, all_angry),
            "false_positive_rate": _rate(all_flagged, all_ordinary),
        },
        "languages": per_language,
        "report_conversations": conversations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON)
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    figures = measure(DissatisfactionDetector.load(args.lexicon))
    print(f"{'lang':5} {'recall':>7} {'fpr':>6}")
    for language, row in figures["languages"].items():
        print(f"{language:5} {row['recall']:7.3f} {row['false_positive_rate']:6.3f}")
    overall = figures["overall"]
    print(f"{'all':5} {overall['recall']:7.3f} {overall['false_positive_rate']:6.3f}")
    print("report conversations hand off:", [c["hands_off"] for c in figures["report_conversations"]])
    write_result(f"dissatisfaction-{args.label}", {"lexicon": str(args.lexicon.name), **figures})


if __name__ == "__main__":
    main()
