"""Content words of a language Qdrant's BM25 tokenizer has no stop words or stemmer for.

``SparseEncoder.terms`` reads a text as the lexical search does: Qdrant's tokenizer with its
language's Snowball stemmer and stop words (``knowledge.sparse._LANGUAGES``). Polish, Ukrainian,
Korean, Czech… have neither there, so every word was a term, "po", "czy", "w" too, and an
inflected word matched only itself. A trial (a scooter-rental firm's Polish fines table): "Czy
można jeździć po chodniku?" shared only "po" with the row "| Jazda po alkoholu (0,2–0,5 promila) |
od 2500 zł |", and that row was quoted; "chodniku" never met the row's "chodnikiem".

For such a language ``content_words`` leaves out its stop words (the ``stopwordsiso`` lists, the
Stopwords ISO collection, by ISO 639-1 code) and writes each word as its stem where a stemmer for
it is installed: Polish by ``pystempel`` (Lucene's Stempel; "chodniku", "chodnikiem" → "chodnik",
"Warszawie" → "Warszawa"), its original table: ~40 MB, ~0.6 s to load, once per process, the first
time a Polish text's terms are read. A word is its stem and its form as written, so an exact match
counts where the stemmer gives the two forms different stems. Stempel's stems are not words
("jazda" → "jasta"); they are compared, never shown.

**Compounds** (``compound_parts``). German, Dutch and the Nordic languages write a compound as one
word, so a stemmer reads "Ratenzahlung" and "Monatsraten" as words of their own: a trial's "Kann
ich die Rechnung in Raten bezahlen?" shared nothing with the page's "Ratenzahlung: … in bis zu 12
Monatsraten bezahlen" beyond "bezahlen", and the quote started at the payment deadline instead. A
question word that opens or closes a longer word of the text is a part of that compound.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import stopwordsiso

from knowledge.words import WORD

MIN_STEM_CHARS = 3  # shorter words are kept as written (Stempel fails on one letter)
# Languages that write compounds as one word ("Ratenzahlung", "betaaltermijn", "betalningsvillkor").
COMPOUNDING = frozenset({"de", "nl", "sv", "da", "no", "nb", "nn", "is", "fi", "af", "lb"})
MIN_PART_CHARS = 4  # a shorter question word is no compound part ("Rat" would find "Rathaus")
MIN_REST_CHARS = 3  # what the compound adds to the part: fewer is an inflection ("Raten" → "Ratens")
_lock = threading.Lock()


@functools.cache
def stop_words(language: str) -> frozenset[str]:
    """``language``'s stop words (casefolded), empty for a language the lists do not have."""
    return frozenset(word.casefold() for word in stopwordsiso.stopwords(language.lower()))


class _PolishStemmer:
    """Stempel's original table, loaded on first use (thread-safe) without a progress bar."""

    def __init__(self) -> None:
        self._stemmer: Callable[[str], str | None] | None = None

    def __call__(self, word: str) -> str | None:
        if self._stemmer is None:
            with _lock:
                if self._stemmer is None:
                    import pystempel.streams
                    from pystempel import Stemmer

                    pystempel.streams.DISABLE_TQDM = True  # it would print a bar on stderr
                    self._stemmer = Stemmer.default()
        stem = self._stemmer(word)
        return stem or None


_STEMMERS = {"pl": _PolishStemmer()}


def content_words(text: str, language: str) -> list[str]:
    """``text``'s words in ``language`` without its stop words, each casefolded, with its stem
    after it when a stemmer for ``language`` gives a different one."""
    stops = stop_words(language)
    stem = _STEMMERS.get(language)
    found: list[str] = []
    for match in WORD.finditer(text):
        word = match.group().casefold()
        if word in stops:
            continue
        found.append(word)
        if stem is not None and len(word) >= MIN_STEM_CHARS:
            root = stem(word)
            if root is not None and root != word and root not in stops:
                found.append(root)
    return found


def compound_parts(question: str, text: str, language: str | None) -> frozenset[str]:
    """The words of ``question`` that are parts of a compound of ``text`` (``part_words`` found by
    ``parts_in``): "Raten" is a part of "Ratenzahlung" and of "Monatsraten"."""
    return parts_in(part_words(question, language), text)


def part_words(question: str, language: str | None) -> frozenset[str]:
    """The words of ``question`` that can be a part of a compound (casefolded, stop words of
    ``language`` left out, at least ``MIN_PART_CHARS`` letters) in a language that writes compounds
    as one word (``COMPOUNDING``); empty in any other language."""
    code = (language or "").lower()[:2]
    if code not in COMPOUNDING:
        return frozenset()
    stops = stop_words(code)
    words = (m.group().casefold() for m in WORD.finditer(question))
    return frozenset(word for word in words if len(word) >= MIN_PART_CHARS and word not in stops)


def parts_in(parts: frozenset[str], text: str) -> frozenset[str]:
    """Those of ``parts`` that open or close a longer word of ``text``, by at least
    ``MIN_REST_CHARS`` letters (fewer is an inflection)."""
    if not parts:
        return frozenset()
    longer = {m.group().casefold() for m in WORD.finditer(text)}
    return frozenset(
        part
        for part in parts
        if any(
            len(word) >= len(part) + MIN_REST_CHARS and (word.startswith(part) or word.endswith(part))
            for word in longer
        )
    )
