"""Probe questions of the relevance calibration (``knowledge.answerability``): the answerable ones
derived from a knowledge base's own chunks, and the unanswerable ones shipped with the package
(``knowledge.answerability_probes``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from knowledge.answerability_probes import PARALLEL_UNCOVERED, negatives
from knowledge.schema import without_pages

MAX_ANSWERABLE = 400  # probes derived from the chunks (a deterministic sample of larger bases)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")
_MARKUP = re.compile(r"^\s*(?:[-*+•>#]+|\d+[.)])\s*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
QUESTION_WORDS = 16  # a probe sentence is clipped to about a question's length
QUESTION_CJK_CHARS = 32


@dataclass(frozen=True)
class Probe:
    text: str
    language: str | None
    kind: str  # faq | heading | sentence (answerable); off_topic | uncovered (unanswerable)
    doc_id: str | None = None  # answerable: the document the probe came from
    # the same question in every language (``PARALLEL_UNCOVERED``): its number, else None
    topic: int | None = None

    @property
    def answerable(self) -> bool:
        return self.doc_id is not None


def _stable_key(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def faq_question(text: str) -> str:
    """The question of a FAQ chunk (``"Q: ...\\nA: ..."``)."""
    head = text.split("\nA:", 1)[0]
    return " ".join(head.removeprefix("Q:").split())


def _clip(sentence: str) -> str:
    if _CJK.search(sentence) and len(sentence.split()) <= 3:
        return sentence[:QUESTION_CJK_CHARS]
    return " ".join(sentence.split()[:QUESTION_WORDS])


def _is_prose(sentence: str) -> bool:
    if sentence.count("|") >= 2 or "http" in sentence:
        return False
    if _CJK.search(sentence):
        return len(sentence) >= 8
    return len(sentence.split()) >= 5


def probe_sentence(text: str) -> str | None:
    """One sentence of a chunk, clipped to question length: its longest prose sentence (the most
    specific; short ones lean on their neighbours: "You do not have to prove it.")."""
    sentences = [_MARKUP.sub("", s).strip() for s in _SENTENCE_END.split(text)]
    prose = [s for s in sentences if s and _is_prose(s)]
    if not prose:
        return None
    return _clip(max(prose, key=len))


def answerable_probes(rows: Iterable[Mapping[str, Any]], limit: int = MAX_ANSWERABLE) -> list[Probe]:
    """Probes from chunk payloads (``PAYLOAD_FIELDS``): FAQ questions, headings and sentences.

    Deterministic: the same chunks give the same probes, in the same order; a base with more
    candidates than ``limit`` gives a fixed sample (by a hash of each probe). One pass over the
    rows, keeping only the candidate texts (a large knowledge base is never held in memory).
    """
    candidates: dict[tuple[str, str], Probe] = {}  # (doc_id, folded text) -> first probe
    headings_of: dict[str, set[str]] = {}  # folded heading -> documents using it

    def add(text: str, language: str, kind: str, doc_id: str) -> None:
        text = " ".join(text.split())
        if len(text) >= 3:
            candidates.setdefault((doc_id, text.casefold()), Probe(text, language, kind, doc_id))

    for row in rows:
        doc_id = str(row.get("doc_id", ""))
        if not doc_id:
            continue
        language = str(row.get("language") or "und")
        text = str(row.get("text") or "")
        if row.get("kind") == "faq":
            add(faq_question(text), language, "faq", doc_id)
            continue
        title = str(row.get("title") or "")
        # a PDF section's pages are where it is, not what it is about ("Refunds (p. 2)", "Page 2")
        named = (without_pages(str(h)) for h in row.get("headings") or [])
        headings = [h for h in named if h.strip() and h != title]
        for heading in headings:
            headings_of.setdefault(" ".join(heading.casefold().split()), set()).add(doc_id)
        if headings:
            add(headings[-1], language, "heading", doc_id)
        sentence = probe_sentence(text)
        if sentence:
            add(sentence, language, "sentence", doc_id)
    # A heading used by several documents ("Get in touch", "China") names no one answer.
    kept = [p for p in candidates.values() if p.kind != "heading" or len(headings_of[p.text.casefold()]) == 1]
    kept.sort(key=lambda p: _stable_key(p.doc_id, p.kind, p.text))
    return kept[:limit]


def unanswerable_probes() -> list[Probe]:
    """The shipped negatives, in ``negatives()`` order; the parallel uncovered ones numbered."""
    out: list[Probe] = []
    uncovered: dict[str, int] = {}
    for language, kind, text in negatives():
        topic = None
        if kind == "uncovered":
            topic = uncovered.get(language, 0)
            uncovered[language] = topic + 1
        out.append(
            Probe(
                text,
                language,
                kind,
                topic=topic if topic is not None and topic < PARALLEL_UNCOVERED else None,
            )
        )
    return out
