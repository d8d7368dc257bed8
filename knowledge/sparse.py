"""Sparse lexical vectors: BM25 term weights computed locally with Qdrant's own tokenizer.

Qdrant applies the IDF part at search time (``Modifier.IDF`` on the sparse vector), so we only
send term-frequency weights and nothing needs corpus statistics or a download. Documents and
queries are tokenised with the stemmer and stop words of their language; codes such as order
numbers and SKUs survive tokenisation unchanged, which is why this vector exists.

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

SPARSE_FINGERPRINT = "bm25-qdrant-edge-multilingual-v1"
# A token with a digit: order numbers, SKUs, invoice numbers, amounts, dates — the same in any language.
_IDENTIFIER = re.compile(
    r"[^\s,;:!?()\[\]{}\"'“”«»。，；：！？（）]*\d[^\s,;:!?()\[\]{}\"'“”«»。，；：！？（）]*"
)

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
        vec = self._model(language).embed_document(text)
        return SparseVec(list(vec.indices), list(vec.values))

    def identifiers(self, text: str, language: str | None) -> SparseVec | None:
        """The query vector of ``text``'s tokens that contain a digit, or None when it has none."""
        found = [token.strip(".-/#") for token in _IDENTIFIER.findall(text)]
        found = [token for token in found if token]
        return self.query(" ".join(found), language) if found else None

    def query(self, text: str, language: str | None) -> SparseVec:
        vec = self._model(language).embed_query(text)
        return SparseVec(list(vec.indices), list(vec.values))

    def terms(self, text: str, language: str | None) -> frozenset[int | str]:
        """The terms the lexical search matches ``text`` by, in ``language``'s tokenizer: its words
        stemmed, stop words left out (the ids of ``query``), and its tokens with a digit as written
        (casefolded, cut at punctuation: "$200" is "200", "9:00-13:00" is "9", "00", "13"): Qdrant's
        tokenizer drops a bare number ("30 days"), and the amount is often what a customer asked."""
        words: set[int | str] = set(self._model(language).embed_query(text).indices)
        return frozenset(words | set(_NUMBER.findall(text.casefold())))


@functools.cache
def shared_encoder() -> SparseEncoder:
    """One process-wide encoder for ``terms`` (its tokenizers are made once per language)."""
    return SparseEncoder()
