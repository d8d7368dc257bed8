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

A message of one or two words has its own cohort: the short off-topic probes
(``knowledge.short_probes``), every language pooled (``normalise_short``, ``knowledge.short_messages``).
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
from knowledge.probes import Probe
from knowledge.schema import SearchHit
from knowledge.short_probes import SHORT_OFF_TOPIC

if TYPE_CHECKING:
    from knowledge.embedder import Embedder

Matrix = npt.NDArray[np.float32]
MIN_STD = 1e-4  # a cohort whose cosines barely vary (a degenerate passage) is not divided by ~0


@dataclass(frozen=True)
class Cohort:
    """The unanswerable probes' question vectors (unit length), by language."""

    vectors: dict[str, Matrix]
    # the short off-topic probes' vectors, every language pooled (``knowledge.short_messages``)
    short: Matrix | None = None

    @classmethod
    def build(cls, languages: Sequence[str], vectors: Matrix, short: Matrix | None = None) -> Cohort:
        """From one vector per probe, in the order of ``languages`` (the probe's language each)."""
        rows: dict[str, list[int]] = {}
        for i, language in enumerate(languages):
            rows.setdefault(language, []).append(i)
        matrix = np.asarray(vectors, dtype=np.float32)
        pooled = np.asarray(short, dtype=np.float32) if short is not None else None
        return cls({language: matrix[index] for language, index in rows.items()}, pooled)

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
        return _t_norm(cosine, members, passage)

    def normalise_short(
        self, cosine: float, passage: Sequence[float] | Matrix, exclude: int | None = None
    ) -> float:
        """``cosine`` (a message of one or two words) as standard deviations above the short
        off-topic probes' mean cosine with ``passage``, every language pooled
        (``knowledge.short_messages``). ``exclude``: a short probe's own row."""
        assert self.short is not None
        members = self.short if exclude is None else np.delete(self.short, exclude, axis=0)
        return _t_norm(cosine, members, passage)


def _t_norm(cosine: float, members: Matrix, passage: Sequence[float] | Matrix) -> float:
    scores = members @ np.asarray(passage, dtype=np.float32)
    return float((cosine - float(scores.mean())) / max(float(scores.std()), MIN_STD))


_CACHE: dict[str, Cohort] = {}
_LOCK = threading.Lock()


def probe_languages() -> list[str]:
    return [language for language, _kind, _text in negatives()]


def cohort_of(vectors: Matrix, short: Matrix | None = None) -> Cohort:
    """The cohort from the probes' vectors, embedded in the order of ``negatives()`` (and the short
    probes', in the order of ``SHORT_OFF_TOPIC``)."""
    return Cohort.build(probe_languages(), vectors, short)


def cohort_for(embedder: Embedder) -> Cohort:
    """The cohort embedded with ``embedder``, once per process and model recipe."""
    key = embedder.name + json.dumps(embedder.fingerprint(), sort_keys=True, default=str)
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            texts = [text for _language, _kind, text in negatives()]
            short = embedder.embed_queries([text for _language, text in SHORT_OFF_TOPIC])
            found = _CACHE[key] = cohort_of(embedder.embed_queries(texts), short)
        return found


# ---------------------------------------------------------------- the calibration's probes


def cohort_rows(probes: Sequence[Probe]) -> list[int | None]:
    """Each unanswerable probe's row in its language's cohort (probes in ``negatives()`` order)."""
    seen: dict[str | None, int] = {}
    rows: list[int | None] = []
    for probe in probes:
        if probe.answerable:
            rows.append(None)
            continue
        rows.append(seen.get(probe.language, 0))
        seen[probe.language] = seen.get(probe.language, 0) + 1
    return rows


def normalised(probe: Probe, found: Sequence[SearchHit], cohort: Cohort, row: int | None) -> float | None:
    """The probe's best cohort-normalised hit (among its own document's for an answerable probe);
    an unanswerable probe is left out of its own cohort (``row``)."""
    language = probe.language if probe.language not in (None, "und") else None
    scores = [
        cohort.normalise(h.dense_score, h.vector, language, h.payload.language, exclude=row)
        for h in found
        if h.dense_score is not None
        and h.vector is not None
        and (probe.doc_id is None or h.payload.doc_id == probe.doc_id)
    ]
    if scores:
        return max(scores)
    return None if probe.answerable else -10.0  # nothing retrieved: as unrelated as it gets


def pair_drops(
    probes: Sequence[Probe], hits: Sequence[Sequence[SearchHit]], cohort: Cohort
) -> dict[tuple[str, str], list[float]]:
    """How much lower a question scores (normalised) against the passage that answers it best when
    it is asked in another language than the passage's, per (question language, passage language):
    for each parallel uncovered probe (the same question in every language) in a language of the
    knowledge base, its score against its best passage in that language minus the same question's
    score in each other language against that passage (``knowledge.answerability``, "Normalised
    scores"). Empty without a parallel probe in a language of the base."""
    rows = cohort_rows(probes)
    versions: dict[int, dict[str, tuple[Sequence[SearchHit], int]]] = {}
    for p, found, row in zip(probes, hits, rows, strict=True):
        if p.topic is not None and p.language and row is not None:
            versions.setdefault(p.topic, {})[p.language] = (found, row)
    drops: dict[tuple[str, str], list[float]] = {}
    for same in versions.values():
        for language, (found, row) in same.items():
            own = [
                (cohort.normalise(h.dense_score, h.vector, language, language, exclude=row), h.vector)
                for h in found
                if h.payload.language == language and h.dense_score is not None and h.vector is not None
            ]
            if not own:
                continue
            best, passage = max(own, key=lambda pair: pair[0])
            vector = np.asarray(passage, dtype=np.float32)
            for other, (_hits, other_row) in same.items():
                if other != language:
                    cosine = float(cohort.vectors[other][other_row] @ vector)
                    drop = best - cohort.normalise(cosine, vector, other, language, exclude=other_row)
                    drops.setdefault((other, language), []).append(drop)
    return drops


def cross_language_drop(
    probes: Sequence[Probe], hits: Sequence[Sequence[SearchHit]], cohort: Cohort
) -> float | None:
    """The median of every pair's drops (``pair_drops``): one figure for all pairs of languages
    (12 parallel questions per pair are too few to tell pairs apart: measured per pair, the drops
    scattered over 0.0–0.6 standard deviations, and a pair's drop on one knowledge base did not
    predict it on another — zh→en 0.01 on the Basecamp policies, 0.38 on a pottery studio's
    pages). None when nothing was measured."""
    every = [d for values in pair_drops(probes, hits, cohort).values() for d in values]
    return max(float(np.median(every)), 0.0) if every else None
