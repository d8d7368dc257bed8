"""A passage's score normalised by a cohort of unrelated questions in the question's language.

A multilingual model scores a question higher against *any* passage in its own language than
against one in another language, by an amount that depends on the pair of languages, and some
passages (a privacy policy, a long FAQ) score high against almost any question. A raw cosine
cut-off cannot see either: on a new user's pages (Portuguese, English, German) "Qual é a previsão
do tempo para amanhã no Porto?" scored 0.842 against the Portuguese opening hours, over a 0.822
cut-off fitted mostly on questions in other languages; on the (English) Basecamp policies the
unrelated questions of each language land 0.79–0.83, each language at its own level.

So each retrieved passage's cosine is compared with the cosines of the shipped unanswerable
questions (``knowledge.answerability_probes``) *in the question's language* against that same
passage — the score normalisation of speaker verification (T-norm, "test normalisation"):

    z = (cosine(question, passage) − mean_cohort) / std_cohort

where the cohort is the probes of the question's language. A question in a language without
probes gets the probes of every language other than the passage's (it is asked across languages)
or, when it is in the passage's language or its language is unknown, all of them. The cohort's
statistics come from the passage's stored vector (the store returns it with each hit), so nothing
is precomputed per passage: the probes' vectors are embedded once per process and model
(``cohort_for``; at ingest for the calibration, when the service starts for the gate).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from knowledge.answerability_probes import negatives

if TYPE_CHECKING:
    from knowledge.embedder import Embedder

Matrix = npt.NDArray[np.float32]
MIN_STD = 1e-4  # a cohort whose cosines barely vary (a degenerate passage) is not divided by ~0


@dataclass(frozen=True)
class Cohort:
    """The unanswerable probes' question vectors (unit length), by language."""

    vectors: dict[str, Matrix]

    @classmethod
    def build(cls, languages: Sequence[str], vectors: Matrix) -> Cohort:
        """From one vector per probe, in the order of ``languages`` (the probe's language each)."""
        rows: dict[str, list[int]] = {}
        for i, language in enumerate(languages):
            rows.setdefault(language, []).append(i)
        matrix = np.asarray(vectors, dtype=np.float32)
        return cls({language: matrix[index] for language, index in rows.items()})

    def members(self, question: str | None, passage: str | None) -> Matrix:
        """The cohort for a question in ``question`` against a passage in ``passage`` (module
        docstring)."""
        if question in self.vectors:
            return self.vectors[question]
        if question and passage and question != passage and passage in self.vectors:
            return np.concatenate([m for lang, m in self.vectors.items() if lang != passage])
        return np.concatenate(list(self.vectors.values()))

    def normalise(
        self,
        cosine: float,
        passage: Sequence[float] | Matrix,
        question: str | None,
        passage_language: str | None,
        exclude: int | None = None,
    ) -> float:
        """``cosine`` as standard deviations above the cohort's mean cosine with ``passage``.
        ``exclude``: the row of the question itself in its language's cohort (a probe scored
        against its own cohort: leave it out)."""
        members = self.members(question, passage_language)
        if exclude is not None and question in self.vectors:
            members = np.delete(members, exclude, axis=0)
        scores = members @ np.asarray(passage, dtype=np.float32)
        return float((cosine - float(scores.mean())) / max(float(scores.std()), MIN_STD))


_CACHE: dict[str, Cohort] = {}
_LOCK = threading.Lock()


def probe_languages() -> list[str]:
    return [language for language, _kind, _text in negatives()]


def cohort_of(vectors: Matrix) -> Cohort:
    """The cohort from the probes' vectors, embedded in the order of ``negatives()``."""
    return Cohort.build(probe_languages(), vectors)


def cohort_for(embedder: Embedder) -> Cohort:
    """The cohort embedded with ``embedder``, once per process and model recipe."""
    key = embedder.name + json.dumps(embedder.fingerprint(), sort_keys=True, default=str)
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            texts = [text for _language, _kind, text in negatives()]
            found = _CACHE[key] = cohort_of(embedder.embed_queries(texts))
        return found
