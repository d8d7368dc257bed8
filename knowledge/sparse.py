"""Sparse lexical vectors: BM25 term weights computed locally with Qdrant's own tokenizer.

Qdrant applies the IDF part at search time (``Modifier.IDF`` on the sparse vector), so we only
send term-frequency weights and nothing needs corpus statistics or a download. Documents and
queries are tokenised with the stemmer and stop words of their language.

**Codes** — booking and invoice numbers, SKUs, model numbers: a run of ASCII letters and digits
with at least one of each, its parts joined by ``-``, ``/``, ``.``, ``_``, ``#`` or ``:``
("JDZ-2026-123456", "NW-KTL-110", "AB1234"), at least ``CODE_MIN_CHARS`` letters and digits long;
a word glued in front by ``:``, ``.`` or ``#`` ("Booking:JDZ-2026-123456", "Nr.AB1234") may be a
label, so such a code is also a term without it.
Qdrant's tokenizer splits such a code at punctuation and drops its bare numbers, so
"JDZ-2026-654321" and "JDZ-2026-123456" were both ``jdz``, and a customer's own booking number
matched the page that shows an example number of the same form. Each code is therefore one more
term, written whole (``code_terms``), in the same way in every language (no stemmer, no stop
words) so that it matches across languages; a question's codes are matched only whole: their
fragments leave its word vector. A number alone ("113542617735902", "2026", "14.99") stays no term,
as before: a document's sample order numbers must not pull in every question that quotes the
customer's own (on Bitext, whose answers reuse its questions' order numbers, matching them cost 4
points of hybrid hit@1).

**Phone numbers** written in digit groups ("0800 44 33 22", "+41 44 210 55 00", "0848 133 133"):
three groups or more of two to five digits separated by single spaces (a ``+`` in front allowed),
8 to 15 digits in all, are one more term each, their digits joined (``code0800443322``), in
documents and questions alike — so a phone number is found whole, like a code (a new user's trial:
``faqstream search "0800 44 33 22"`` did not find the emergency page, each group being a bare number
the tokenizer drops). Only the same groups match: a customer's own number matches no page that does
not show it, and a number with fewer digits or a one-digit group ("1 000 000", "30 days") stays no
term.

``terms`` is the same normalisation as a set, for code that matches words without searching (the
extractive answer's choice of sentence, ``service.answers.extractive``): "bikes" finds "bike",
"policies" "policy", "samstags" "Samstag", "周日开门吗" "周日营业" — what the lexical search matches.
"""

from __future__ import annotations

import functools
import re
import threading

import qdrant_edge as qe

from knowledge.schema import SparseVec
from knowledge.word_forms import content_words

# ISO 639-1 → Qdrant's language names (stop words + Snowball stemmer).
_LANGUAGES = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "ru": "russian",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "fi": "finnish",
    "tr": "turkish",
    "ro": "romanian",
    "hu": "hungarian",
    "el": "greek",
    "ar": "arabic",
    "zh": "chinese",
    "ja": "japanese",
}

# v2: codes are whole terms; v3: a label glued to a code ("Nr.AB1234") also gives the code alone;
# v4: a phone number in digit groups ("0800 44 33 22") is a term too
SPARSE_FINGERPRINT = "bm25-qdrant-edge-multilingual-v4"
# A code: ASCII letters and digits, parts joined by - / . _ # : (see the module docstring).
_CODE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]+(?:[-/._#:][0-9A-Za-z]+)*")
# A word glued to a code by a label's punctuation: "Booking:", "Nr.", "Order#".
_LABEL = re.compile(r"[A-Za-z]+[.:#]")
# A phone number in digit groups: "0800 44 33 22", "+41 44 210 55 00" (not inside a longer number).
_PHONE = re.compile(r"(?<![\w+.,'’/-])\+?\d{2,5}(?:[ \u00a0\u202f]\d{2,5}){2,}+(?![\w]|[.,'’/-]\d)")
PHONE_DIGITS = (8, 15)  # E.164 allows 15 at most; "12 500 000" has 8
CODE_MIN_CHARS = 4  # "AB12" is a code; "A1", "30" (days), "2026" or "14.99" are not
CODE_PREFIX = "code"  # a code's term is a word of its own, never one of the text's words

_NUMBER = re.compile(r"[^\W_]*\d[^\W_]*")  # a word with a digit, cut at punctuation (``terms``)


class SparseEncoder:
    """BM25 document/query vectors, one tokenizer configuration per language."""

    def __init__(self, k: float = 1.2, b: float = 0.75, avg_len: float = 256.0) -> None:
        self._params = (k, b, avg_len)
        self._models: dict[str, qe.Bm25] = {}
        self._lock = threading.Lock()

    def _model(self, language: str | None) -> qe.Bm25:
        key = _LANGUAGES.get((language or "").lower()[:2], "")
        model = self._models.get(key)
        if model is None:
            with self._lock:
                model = self._models.get(key)
                if model is None:
                    k, b, avg_len = self._params
                    if key:
                        config = qe.Bm25Config(
                            k=k, b=b, avg_len=avg_len, language=key, tokenizer=qe.TokenizerType.Multilingual
                        )
                    else:
                        config = qe.Bm25Config(
                            k=k,
                            b=b,
                            avg_len=avg_len,
                            tokenizer=qe.TokenizerType.Multilingual,
                            stemmer=qe.DisabledStemmer(),
                            stopwords=qe.StopwordsSet(custom=set()),
                        )
                    model = qe.Bm25(config)
                    self._models[key] = model
        return model

    def document(self, text: str, language: str | None) -> SparseVec:
        """The passage's words in its language's tokenizer, and its codes whole (``code_terms``)."""
        words = self._model(language).embed_document(text)
        codes = code_terms(text)
        if not codes:
            return SparseVec(list(words.indices), list(words.values))
        whole = self._model(None).embed_document(" ".join(codes))
        return _merged(words, whole)

    def identifiers(self, text: str, language: str | None) -> SparseVec | None:
        """The query vector of ``text``'s codes, whole, or None when it has none (``language``
        does not change it: codes match in any language)."""
        codes = code_terms(text)
        if not codes:
            return None
        vec = self._model(None).embed_query(" ".join(codes))
        return SparseVec(list(vec.indices), list(vec.values))

    def query(self, text: str, language: str | None) -> SparseVec:
        """The question's words without its codes' fragments, and its codes whole."""
        words = self._model(language).embed_query(_CODE.sub(_blank_code, text))
        codes = code_terms(text)
        if not codes:
            return SparseVec(list(words.indices), list(words.values))
        return _merged(words, self._model(None).embed_query(" ".join(codes)))

    def terms(self, text: str, language: str | None) -> frozenset[int | str]:
        """The terms the lexical search matches ``text`` by, in ``language``'s tokenizer: its words
        stemmed, stop words left out (the ids of ``query``), and its tokens with a digit as written
        (casefolded, cut at punctuation: "$200" is "200", "9:00-13:00" is "9", "00", "13"): Qdrant's
        tokenizer drops a bare number ("30 days"), and the amount is often what a customer asked.
        In a language Qdrant has no stemmer and stop words for (Polish, Ukrainian, Korean…) the
        words are ``knowledge.word_forms.content_words``: without that language's stop words, and
        with their stems where a stemmer for it is installed (Polish) — "po" is no term, and
        "chodniku" finds "chodnikiem"."""
        code = (language or "").lower()[:2]
        covered = code in _LANGUAGES or code in ("", "un")
        read = text if covered else " ".join(content_words(text, code))
        words: set[int | str] = set(self._model(language).embed_query(read).indices)
        return frozenset(words | set(_NUMBER.findall(text.casefold())))


def _is_code(alnum: str) -> bool:
    return (
        len(alnum) >= CODE_MIN_CHARS
        and any(ch.isdigit() for ch in alnum)
        and any(ch.isalpha() for ch in alnum)
    )


def code_terms(text: str) -> list[str]:
    """The codes in ``text`` as the words the index holds them by: "JDZ-2026-123456" is
    ``codejdz2026123456`` (lower case, separators dropped, ``CODE_PREFIX`` in front). A code with a
    label glued to it ("Booking:JDZ-2026-123456", "Nr.AB1234", "Order#A12345") is also the code
    without its label, the form a page that lists it under a heading holds."""
    terms = []
    for match in _CODE.finditer(text):
        code = match.group()
        terms += [CODE_PREFIX + alnum for alnum in _forms(code) if _is_code(alnum)]
    return terms + phone_terms(text)


def phone_terms(text: str) -> list[str]:
    """The phone numbers in digit groups in ``text`` as the index holds them: "+41 44 210 55 00" is
    ``code41442105500`` (digits joined, ``CODE_PREFIX`` in front)."""
    terms = []
    for match in _PHONE.finditer(text):
        digits = "".join(ch for ch in match.group() if ch.isdigit())
        if PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]:
            terms.append(CODE_PREFIX + digits)
    return terms


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _label(code: str) -> str | None:
    """The word glued in front of ``code`` by ``:``, ``.`` or ``#`` when the rest is a code."""
    label = _LABEL.match(code)
    if label is None or not _is_code(_alnum(code[label.end() :])):
        return None
    return label.group()[:-1]


def _forms(code: str) -> list[str]:
    """``code`` as letters and digits, and without a label glued to its front if it has one."""
    label = _label(code)
    whole = _alnum(code)
    return [whole] if label is None else [whole, whole[len(label) :]]


def _blank_code(match: re.Match[str]) -> str:
    """A code becomes a space in the text whose words are looked up (the rest stays as written, a
    label glued to it too: "Booking:JDZ-2026-123456" leaves the word "Booking")."""
    code = match.group()
    if not _is_code(_alnum(code)):
        return code
    label = _label(code)
    return " " if label is None else f" {label} "


def _merged(a: qe.SparseVector, b: qe.SparseVector) -> SparseVec:
    weights: dict[int, float] = {}
    for vec in (a, b):
        for index, value in zip(vec.indices, vec.values, strict=True):
            weights[index] = weights.get(index, 0.0) + value
    return SparseVec(list(weights), list(weights.values()))


@functools.cache
def shared_encoder() -> SparseEncoder:
    """One process-wide encoder for ``terms`` (its tokenizers are made once per language)."""
    return SparseEncoder()
