"""Messages of one or two words at the relevance gate: their own cohort and their own cut-off.

A message of one or two words ("pizza", "Bitcoin?", "Merhaba!", "退款") carries little language:
the detector names one anyway ("pizza" is Italian, sure), and read as a question in that language
it met that language's probes — whole sentences, which score lower against a passage than a bare
word does — and the looser cross-language cut-off. A new user's trial (a Brazilian furniture shop's
Portuguese pages) had "pizza" lead the payment page by +1.53 standard deviations and an Arabic
"thank you" by +0.22: both answered with a quote. Reading the word in each passage's own language
instead handed off short *on-topic* messages asked across languages ("退款" over English pages).

So a short message is compared with a cohort of its own kind: the short off-topic probes
(``knowledge.short_probes``, one or two words each, many languages and scripts, pooled — a word's
language says little), scored against the same passage (``Cohort.normalise_short``). Its cut-off
(``short_threshold``) is fitted at ingest by the same rule as the others (``fit_threshold``):

* **answerable** — the key word of each document title and section heading (FAQ questions too):
  the text itself when it has at most two words ("Garantia", "Refund policy"), else its longest
  word ("Formas de pagamento" → "pagamento"; a CJK heading: its first four characters), scored as
  the best normalised hit of its own document; a key word several documents share names no one
  answer and is left out, as a heading is (``knowledge.probes``);
* **unanswerable** — the short off-topic probes, each left out of the cohort it is scored against.

Across scripts, a message scores lower against the right passage ("退款" against an English refund
page), as a question in another language does (``knowledge.answerability``, "Across languages"); the
key words cannot show how much, being in the pages' languages. So, as the cosine rule does for
passages in another language, a second cut-off ``short_cross_threshold`` applies to a passage whose
language is not written in the message's script (``across_scripts``): the median
(``CROSS_NEGATIVE_QUANTILE``) of the off-topic short probes' best such hit, never above
``short_threshold``. Only the script counts, not the detector: it names a language for one Latin
word anyway ("pizza" is Italian), so a Latin-script word is held to ``short_threshold`` over
Latin-script pages whatever its language.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.cohort import Cohort
from knowledge.probes import Probe, faq_question
from knowledge.schema import SearchHit
from knowledge.short_probes import SHORT_OFF_TOPIC
from knowledge.words import CJK, SHORT_WORDS, WORD, fits_script, word_count

MAX_SHORT = 200  # key-word probes (a deterministic sample of larger bases)
MIN_KEY_LETTERS = 4  # a longer text's key word: its longest word, if at least this long
CJK_KEY_CHARS = 4

Search = Callable[[Sequence[Probe]], list[list[SearchHit]]]


def key_word(text: str) -> str | None:
    """The text when it has at most ``SHORT_WORDS`` words, else its longest word (module
    docstring); None when it has none long enough."""
    text = " ".join(text.split()).strip(" #:-–—")
    if not text:
        return None
    if word_count(text) <= SHORT_WORDS:
        return text
    words = WORD.findall(CJK.sub(" ", text))
    if words:
        longest = max(words, key=len)
        return longest if len(longest) >= MIN_KEY_LETTERS else None
    chars = "".join(CJK.findall(text))
    return chars[:CJK_KEY_CHARS] or None


@dataclass
class KeyWords:
    """The answerable short probes, collected from chunk payloads as another pass reads them
    (``watch``: the payloads are read once)."""

    found: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)  # folded → doc → (text, lang)

    def watch(self, rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for row in rows:
            self.add(row)
            yield row

    def add(self, row: Mapping[str, Any]) -> None:
        doc_id = str(row.get("doc_id", ""))
        if not doc_id:
            return
        language = str(row.get("language") or "und")
        texts = [str(row.get("title") or ""), *(str(h) for h in row.get("headings") or [])]
        if row.get("kind") == "faq":
            texts.append(faq_question(str(row.get("text") or "")))
        for text in texts:
            key = key_word(text)
            if key:
                self.found.setdefault(key.casefold(), {}).setdefault(doc_id, (key, language))

    def probes(self, limit: int = MAX_SHORT) -> list[Probe]:
        """One probe per key word of exactly one document, a fixed sample of at most ``limit``."""
        out = [
            Probe(text, language, "short", doc_id)
            for docs in self.found.values()
            if len(docs) == 1
            for doc_id, (text, language) in docs.items()
        ]
        out.sort(
            key=lambda p: hashlib.sha1(f"{p.doc_id}\x1f{p.text}".encode(), usedforsecurity=False).hexdigest()
        )
        return out[:limit]


def off_topic_probes() -> list[Probe]:
    return [Probe(text, language, "short_off_topic") for language, text in SHORT_OFF_TOPIC]


@dataclass(frozen=True)
class ShortScores:
    answerable: list[float]
    unanswerable: list[float]
    retrieval_misses: int
    # off-topic probes whose script no language of the hit's passage is written in: best such hit
    cross: list[float] = field(default_factory=list)


def short_scores(answerable: Sequence[Probe], search: Search, cohort: Cohort) -> ShortScores:
    """The short probes' best normalised hits: an answerable one among its own document's hits,
    an off-topic one among all, left out of the cohort it is scored against."""
    negatives = off_topic_probes()
    probes = [*answerable, *negatives]
    hits = search(probes)
    pos: list[float] = []
    misses = 0
    for probe, found in zip(answerable, hits, strict=False):
        own = [_z(cohort, h, None) for h in found if h.payload.doc_id == probe.doc_id]
        scored = [z for z in own if z is not None]
        if scored:
            pos.append(max(scored))
        else:
            misses += 1
    neg: list[float] = []
    cross: list[float] = []
    for row, (probe, found) in enumerate(zip(negatives, hits[len(answerable) :], strict=True)):
        scored = [z for z in (_z(cohort, h, row) for h in found) if z is not None]
        neg.append(max(scored) if scored else -10.0)  # nothing retrieved: as unrelated as it gets
        other = [_z(cohort, h, row) for h in found if across_scripts(probe.text, h.payload.language)]
        if any(z is not None for z in other):
            cross.append(max(z for z in other if z is not None))
    return ShortScores(pos, neg, misses, cross)


def across_scripts(text: str, passage_language: str | None) -> bool:
    """A message written in a script the passage's language is not written in (``fits_script``):
    "退款" against an English passage, not "Rückerstattung" (the detector's word on one Latin
    word is a guess, a script's is not)."""
    return passage_language not in (None, "und") and not fits_script(text, passage_language)


def _z(cohort: Cohort, hit: SearchHit, exclude: int | None) -> float | None:
    if hit.dense_score is None or hit.vector is None:
        return None
    return cohort.normalise_short(hit.dense_score, hit.vector, exclude)
