"""The reply language of chat-style messages in a new conversation, and ``Accept-Language`` as a
prior (a new user's trial: "cual es el whatsapp de ustedes" answered in English, "cuanto tarda el
envio a yucatan?" in Portuguese, "tem frete gratis?" in English, though the browser sent es-MX or
pt-BR: the header only counted for one- or two-word messages).

Messages: public questions rewritten the way customers type into a chat box, deterministically:
* Mintaka (/work/shared/eval/mintaka_queries.jsonl; es, pt, de, fr, it and en, 2,000 each) and
  XQuAD (xquad_retrieval.jsonl; es, de and en, 1,190 each), as whole questions and as chat-length
  cuts (the first 3-6 words of every question, the length drawn per question);
* three styles: ``clean`` (as published), ``chat`` (lower-cased; accents, ``¿``, ``¡`` and, for half
  of them, the final ``?`` stripped: "cuanto tarda el envio a yucatan") and ``typos`` (``chat`` plus
  one keyboard slip per four words, at least one: a letter dropped, doubled, swapped with the next
  or replaced by a QWERTY neighbour).

Contexts (new conversation, no ``language`` field): ``none`` (no header), ``match`` (the header is
the message's language), ``en_browser`` (``Accept-Language: en`` for a non-English message, ``es``
for an English one: the cost of the prior) and, for es and pt, ``neighbour`` (``es`` for a Portuguese
message, ``pt`` for a Spanish one: a shop serving both). Rules: ``old`` (the header counts for one
or two words only: the detector decides) and the header as a prior of odds k against lingua's
confidence values (``decide_language(header_odds=k)``).

The odds are chosen on the ``chat`` and ``typos`` styles (mean over the languages and the two
sources and lengths): the expected error when a share m of customers' browsers name another language
than they write, (1 - m) x error(match) + m x error(en_browser), for m in ``MISMATCH_RATES`` (the real
share is not known), and the odds whose error stays closest to the best at the worst of those rates
(the rule that chose ``CONVERSATION_ODDS``).

Also measured, not adopted unless it helps: the knowledge base's own languages as a weak prior
(``kb_prior``: a Spanish+Portuguese shop; its languages' confidences times k before the decision),
on messages in es/pt (the gain) and in en/de/fr/it (the cost: a customer the shop does not expect).

Writes bench/results/chat_language.json.

    .venv/bin/python -m bench.chat_language
"""

from __future__ import annotations

import random
import unicodedata
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from bench.common import EVAL, read_jsonl, write_result
from knowledge.language import LanguageIdentifier
from knowledge.settings import IngestSettings
from knowledge.words import SHORT_WORDS, word_count
from service.answers.reply_language import HEADER_ODDS, decide_language

SOURCES = {"mintaka": ("es", "pt", "de", "fr", "it", "en"), "xquad": ("es", "de", "en")}
STYLES = ("clean", "chat", "typos")
CUT_WORDS = (3, 6)
ODDS_GRID = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0)
MISMATCH_RATES = (0.05, 0.10, 0.20, 0.30)
KB_LANGUAGES = ("es", "pt")
KB_ODDS = (1.0, 1.5, 2.0, 3.0)

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):
    for _i, _c in enumerate(_row):
        near = _row[max(0, _i - 1) : _i] + _row[_i + 1 : _i + 2]
        _NEIGHBOURS[_c] = near


def _rng(text: str, salt: str) -> random.Random:
    return random.Random(zlib.crc32(f"{salt}:{text}".encode()))


def chat_style(text: str) -> str:
    """Lower-cased, no accents (ñ → n, ç → c, ü → u), no ``¿``/``¡``, and for half the messages no
    final ``?``."""
    plain = unicodedata.normalize("NFD", text.lower())
    plain = "".join(c for c in plain if unicodedata.category(c) != "Mn")
    plain = unicodedata.normalize("NFC", plain).replace("¿", "").replace("¡", "").strip()
    if _rng(text, "q").random() < 0.5:
        plain = plain.rstrip("?？ ").strip()
    return plain


def with_typos(text: str) -> str:
    """``text`` with one keyboard slip per four words (at least one), at letters chosen at random."""
    rng = _rng(text, "typo")
    chars = list(text)
    slips = max(1, len(text.split()) // 4)
    for _ in range(slips):
        letters = [i for i, c in enumerate(chars) if c.isalpha()]
        if len(letters) < 4:
            break
        i = rng.choice(letters)
        kind = rng.choice(("drop", "double", "swap", "near"))
        if kind == "drop":
            del chars[i]
        elif kind == "double":
            chars.insert(i, chars[i])
        elif kind == "swap" and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif kind == "near" and chars[i] in _NEIGHBOURS:
            chars[i] = rng.choice(_NEIGHBOURS[chars[i]])
    return "".join(chars)


def styled(text: str, style: str) -> str:
    if style == "clean":
        return text
    chat = chat_style(text)
    return chat if style == "chat" else with_typos(chat)


def messages() -> dict[str, dict[str, list[str]]]:
    """source/length → language → the published questions (whole, or cut to 3-6 words)."""
    files = {"mintaka": "mintaka_queries.jsonl", "xquad": "xquad_retrieval.jsonl"}
    out: dict[str, dict[str, list[str]]] = {}
    for source, languages in SOURCES.items():
        whole: dict[str, list[str]] = {lang: [] for lang in languages}
        for row in read_jsonl(EVAL / files[source]):
            if row["lang"] in whole:
                whole[row["lang"]].append(row["question"].strip())
        cut = {
            lang: [" ".join(q.split()[: _rng(q, "cut").randint(*CUT_WORDS)]) for q in questions]
            for lang, questions in whole.items()
        }
        out[f"{source}/whole"] = whole
        out[f"{source}/cut"] = cut
    return out


class Detector:
    """The configured lingua detector, memoised (every text is decided under many contexts)."""

    def __init__(self) -> None:
        ingest = IngestSettings()
        self.known = ingest.languages
        self.identifier = LanguageIdentifier.from_settings(ingest)
        self._confidences: dict[str, dict[str, float]] = {}
        self._detected: dict[str, str] = {}

    def confidences(self, text: str) -> dict[str, float]:
        if text not in self._confidences:
            self._confidences[text] = self.identifier.confidences(text)
        return self._confidences[text]

    def detect(self, text: str) -> str:
        if text not in self._detected:
            self._detected[text] = self.identifier.detect(text).language
        return self._detected[text]

    def decide(
        self,
        text: str,
        header: str | None,
        odds: float | None,
        boost: Mapping[str, float] | None = None,
    ) -> str:
        """The reply language in a new conversation; ``odds=None``: the old rule (the header only
        for one or two words); ``boost``: confidences multiplied per language (the KB prior)."""
        confidences: Callable[[str], Mapping[str, float]] = self.confidences
        detect: Callable[[str], str] = self.detect
        if boost:
            table = boost

            def confidences(t: str) -> dict[str, float]:
                return {k: v * table.get(k, 1.0) for k, v in self.confidences(t).items()}

            def detect(t: str) -> str:
                weighed = confidences(t)
                return max(weighed, key=weighed.__getitem__) if weighed else self.detect(t)

        if odds is None and word_count(text) > SHORT_WORDS:
            header = None  # the old rule: the header counted for one or two words only
        return decide_language(
            text,
            detect=detect,
            confidences=confidences,
            accept_language=header,
            header_odds=odds or HEADER_ODDS,
            known=self.known,
        ).language


def mismatched(gold: str) -> str:
    return "es" if gold == "en" else "en"


def neighbour(gold: str) -> str | None:
    return {"es": "pt", "pt": "es"}.get(gold)


def accuracy(
    detector: Detector, texts: list[str], gold: str, header: str | None, odds: float | None
) -> float:
    return round(sum(detector.decide(t, header, odds) == gold for t in texts) / len(texts), 4)


def header_figures(detector: Detector, sets: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """Per set/style/language: none, and old vs chosen odds under match, en_browser, neighbour."""
    figures: dict[str, Any] = {}
    for name, by_lang in sets.items():
        for style in STYLES:
            for gold, questions in by_lang.items():
                texts = [styled(q, style) for q in questions]
                row: dict[str, Any] = {"n": len(texts), "none": accuracy(detector, texts, gold, None, None)}
                for context, header in (
                    ("match", gold),
                    ("en_browser", mismatched(gold)),
                    ("neighbour", neighbour(gold)),
                ):
                    if header is None:
                        continue
                    row[context] = {
                        "old": accuracy(detector, texts, gold, header, None),
                        "new": accuracy(detector, texts, gold, header, HEADER_ODDS),
                    }
                figures.setdefault(f"{name}/{style}", {})[gold] = row
    return figures


def odds_sweep(detector: Detector, sets: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """Mean accuracy (chat and typos styles, every set and language) per odds under match and
    en_browser; the expected error at each mismatch rate; the least worst-case regret."""
    cells = [
        (gold, [styled(q, style) for q in questions])
        for by_lang in sets.values()
        for gold, questions in by_lang.items()
        for style in ("chat", "typos")
    ]
    rows: dict[str, Any] = {}
    for odds in (None, *ODDS_GRID):
        match = sum(accuracy(detector, texts, gold, gold, odds) for gold, texts in cells) / len(cells)
        cost = sum(accuracy(detector, texts, gold, mismatched(gold), odds) for gold, texts in cells) / len(
            cells
        )
        rows["old" if odds is None else str(odds)] = {
            "match": round(match, 4),
            "en_browser": round(cost, 4),
            "expected_error": {
                str(m): round((1 - m) * (1 - match) + m * (1 - cost), 4) for m in MISMATCH_RATES
            },
        }
    best = {str(m): min(row["expected_error"][str(m)] for row in rows.values()) for m in MISMATCH_RATES}
    for row in rows.values():
        row["max_regret"] = round(max(row["expected_error"][m] - best[m] for m in best), 4)
    chosen = min((k for k in rows if k != "old"), key=lambda k: (rows[k]["max_regret"], float(k)))
    return {"mismatch_rates": list(MISMATCH_RATES), "by_odds": rows, "least_regret_odds": float(chosen)}


def kb_prior(detector: Detector, sets: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """The KB's languages (es, pt) as a prior of odds k, no header and with a matching one: mean
    accuracy on es/pt messages (the gain) and on en/de/fr/it ones (the cost), chat and typos."""
    out: dict[str, Any] = {}
    for k in KB_ODDS:
        boost = {lang: k for lang in KB_LANGUAGES}
        served: list[float] = []
        others: list[float] = []
        served_header: list[float] = []
        others_header: list[float] = []
        for by_lang in sets.values():
            for gold, questions in by_lang.items():
                for style in ("chat", "typos"):
                    texts = [styled(q, style) for q in questions]
                    plain = sum(detector.decide(t, None, None, boost) == gold for t in texts) / len(texts)
                    header = sum(detector.decide(t, gold, HEADER_ODDS, boost) == gold for t in texts) / len(
                        texts
                    )
                    (served if gold in KB_LANGUAGES else others).append(plain)
                    (served_header if gold in KB_LANGUAGES else others_header).append(header)
        out[str(k)] = {
            "kb_languages_none": round(sum(served) / len(served), 4),
            "other_languages_none": round(sum(others) / len(others), 4),
            "kb_languages_match": round(sum(served_header) / len(served_header), 4),
            "other_languages_match": round(sum(others_header) / len(others_header), 4),
        }
    return out


TRIAL = {
    "es": [
        "cual es el whatsapp de ustedes",
        "cuanto tarda el envio a yucatan?",
        "nesesito factura de mi conpra",
    ],
    "pt": ["tem frete gratis?", "vcs montam o armario?", "a nota fiscal vem no email?"],
}


def main() -> None:
    detector = Detector()
    detector.detect("warm up the models")
    sets = messages()
    print("trial messages (old → new, Accept-Language = their language)")
    trial = {
        gold: {
            t: {"old": detector.decide(t, gold, None), "new": detector.decide(t, gold, HEADER_ODDS)}
            for t in texts
        }
        for gold, texts in TRIAL.items()
    }
    for gold, rows in trial.items():
        for text, row in rows.items():
            print(f"  {gold} {text!r}: {row['old']} → {row['new']}")
    print("odds sweep")
    sweep = odds_sweep(detector, sets)
    for odds, row in sweep["by_odds"].items():
        print(f"  {odds}: {row}")
    print(f"  least worst-case regret over mismatch rates {MISMATCH_RATES}: {sweep['least_regret_odds']}")
    print(f"  HEADER_ODDS = {HEADER_ODDS}")
    figures = header_figures(detector, sets)
    for name, by_lang in figures.items():
        for gold, row in by_lang.items():
            cells = "  ".join(
                f"{c}={row[c]['old']:.3f}→{row[c]['new']:.3f}"
                for c in ("match", "en_browser", "neighbour")
                if c in row
            )
            print(f"  {name} {gold}: n={row['n']} none={row['none']:.3f}  {cells}")
    print("knowledge-base languages (es, pt) as a prior")
    kb = kb_prior(detector, sets)
    for k, row in kb.items():
        print(f"  k={k}: {row}")
    write_result(
        "chat_language",
        {
            "configured_languages": list(detector.known),
            "header_odds": HEADER_ODDS,
            "trial_messages": trial,
            "odds_sweep": sweep,
            "by_set": figures,
            "kb_prior": kb,
        },
    )


if __name__ == "__main__":
    main()
