"""Answerability: a relevance cut-off fitted to the knowledge base itself.

A constant cosine floor cannot work across knowledge bases and models: MiniLM puts an answer at
0.3–0.7 and unrelated text at 0.0–0.35, multilingual-e5 puts *everything* at 0.7–0.9. So every
successful ingest measures the knowledge base with the retrieval the service runs (hybrid search,
top ``PROBE_LIMIT``, the cosine of each hit — the number the service's floor is compared with):

* **answerable probes** — questions the knowledge base answers, derived from its own chunks: the
  question of every FAQ pair (the loaders keep Q/A pairs), a section heading as a query (a PDF
  section's pages left out: "Refunds (p. 2)" asks "Refunds"), and a sentence of the chunk clipped
  to question length. A probe's score is the best cosine among the hits *of the document it came
  from* (one whose document is not retrieved at all is a retrieval miss: counted, not scored).
* **unanswerable probes** — ``knowledge.answerability_probes``: off-topic questions and
  customer-like questions support documents do not cover, in thirteen languages, shipped with the
  package. A probe's score is the best cosine of any hit.

The rule (``fit_threshold``): the cut-off is the 90th percentile of the unanswerable scores
(``NEGATIVE_QUANTILE``: nine in ten questions the knowledge base does not cover fall under it,
and a tenth of them may be questions this particular knowledge base happens to answer without
moving it), but never above the 10th percentile of the answerable scores minus a margin
(``POSITIVE_QUANTILE``, ``POSITIVE_MARGIN`` × the answerable spread), because the probes made from
the chunks' own words score higher than customers' paraphrases, and a dropped answerable question
costs a handoff while a let-through one still meets the model's own "not in the documents"
signal. Both bounds are quantiles of the knowledge base's own scores, so the rule holds on any
score range.

**Across languages** a multilingual model scores a question lower against a passage in another
language than against the same passage in the question's own language, and it lowers the right
answer more than unrelated text: multilingual-e5-small on XQuAD (English paragraphs) puts the
right paragraph 0.05 lower for a Spanish or German question and 0.07–0.08 lower for a Chinese or
Russian one, but the best unrelated paragraph only 0.02–0.03 lower. The margin between an answer
and the best unrelated text shrinks from 0.066 (English) to 0.04 (es, de) and 0.02 (zh). So a
second cut-off, ``cross_threshold``, applies to passages in another language than the question's:
the *median* (``CROSS_NEGATIVE_QUANTILE``) of the unanswerable probes' best other-language hit,
never above ``threshold``. At the 90th percentile, as the same-language rule, it handed a quarter of
the Chinese and Russian questions about a tiny English knowledge base to a person, and 19 of 115
hand-translated Basecamp questions; at the median it keeps 94–99% of them and still drops over
half of the unrelated ones (``bench/crosslingual_cutoff.py``, docs/benchmarks.md). What it lets
through meets the model's own "not in the documents" signal, as on the answerable side.

**Normalised scores** (calibration v4, what the service uses). The cosine rules above pool the
unanswerable probes of all languages, but a multilingual model scores a question higher
against *any* passage in its own language, by an amount that depends on the pair of languages: on
an English knowledge base only the English probes meet passages in their own language, so the
pooled 90th percentile sat near the English probes' median (half of the English unrelated questions
passed it), and on a mixed one a Portuguese weather question scored 0.842 against the Portuguese
opening hours, over a 0.822 cut-off (a new user's trial). So each hit is also scored against a
*cohort*: the unanswerable probes in the question's language, scored against that same passage
(``knowledge.cohort``: z = (cosine − cohort mean) / cohort standard deviation, T-norm). The same
rule (``fit_threshold``) on these scores gives ``cohort_threshold``: the probes' own scores with
each probe left out of its cohort, the answerable probes' against their language's probes.

Across languages, the right answer still loses more than unrelated text. How much is measured on
the knowledge base itself with the parallel uncovered probes (the same question in every language,
``PARALLEL_UNCOVERED``): asked in a language of the knowledge base, a question's best passage in
that language; asked in each other language, the same question's normalised score against that
same passage; the median difference (``cross_language_drop``) lowers the cut-off for passages in
another language than the question's (``cohort_cross_threshold``). Measured on the Basecamp
policies (``bench.byo_documents``): off-topic questions handed off 45.7 % → 65.7 %, answerable ones
handed off unchanged (docs/benchmarks.md).

The cosine cut-offs are kept beside the normalised ones: a service without the probes' vectors
(``RelevanceFloor.cohort``) and ``faqstream faq draft`` read them.

The result is stored with the knowledge-base metadata (``KbMeta.relevance``) in the same write
that bumps the version; the service reads it per version. ``SERVICE_RELEVANCE_FLOOR`` overrides it.
A knowledge base calibrated by an older method keeps its cosine cut-offs until the next
``faqstream ingest``, which refits it (``METHOD``), even when no document changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from knowledge.cohort import (
    Cohort,
    cohort_for,
    cohort_rows,
    cross_language_drop,
    normalised,
)
from knowledge.probes import Probe, answerable_probes, unanswerable_probes
from knowledge.schema import SearchHit
from knowledge.search import KnowledgeBase, Query
from knowledge.short_messages import KeyWords, short_scores
from knowledge.store.base import Collection

log = logging.getLogger(__name__)

METHOD = "probe-cohort-v6"  # changes when the rule or the probes change (v6: the short-message cut-off)
# methods whose cohort cut-offs the service uses (an older one is judged by cosine until re-ingest)
COHORT_METHODS = ("probe-cohort-v5", METHOD)
PROBE_LIMIT = 5  # hits per probe, as the service retrieves (SERVICE_TOP_K default)
NEGATIVE_QUANTILE = 0.90
CROSS_NEGATIVE_QUANTILE = 0.50  # of the best other-language hits (module docstring: "Across languages")
POSITIVE_QUANTILE = 0.10
POSITIVE_MARGIN = 0.25  # × (answerable median − answerable 10th percentile)
MIN_ANSWERABLE = 3  # fewer scored answerable probes: no calibration (the floor is then off)
MIN_SHORT_CROSS = 5  # fewer short probes in another script than the pages': one short cut-off
MIN_CROSS = 20  # fewer other-language scores (a base in every probe language?): one cut-off for all
PAYLOAD_FIELDS = ["doc_id", "chunk_index", "kind", "title", "text", "headings", "language"]


@dataclass(frozen=True)
class Scored:
    probe: Probe
    score: float | None  # None: an answerable probe whose document was not retrieved
    cross: float | None = None  # unanswerable: best hit in another language than the probe's
    z: float | None = None  # the best hit's cohort-normalised score (``knowledge.cohort``)


@dataclass(frozen=True)
class RelevanceCalibration:
    """What the service needs (``threshold``) and what explains it (the rest)."""

    threshold: float
    method: str = METHOD
    cross_threshold: float | None = None  # for passages in another language than the question's
    model: str = ""
    answerable: int = 0  # scored answerable probes
    unanswerable: int = 0
    retrieval_misses: int = 0  # answerable probes whose document was not among the hits
    kept_answerable: float = 0.0  # share of scored answerable probes at or above the threshold
    dropped_unanswerable: float = 0.0  # share of unanswerable probes under it
    bound: str = ""  # which side set the threshold: "unanswerable" or "answerable"
    quantiles: dict[str, dict[str, float]] = field(default_factory=dict)
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)  # kind → {n, median, share kept}
    # The same rule on cohort-normalised scores (module docstring: "Normalised"); None: not fitted
    # (a calibration of an older version), the service then uses ``threshold``/``cross_threshold``.
    cohort_threshold: float | None = None
    cohort_bound: str = ""
    cohort_cross_threshold: float | None = None  # for passages in another language than the question's
    cohort_kept_answerable: float = 0.0
    cohort_dropped_unanswerable: float = 0.0
    cohort_quantiles: dict[str, dict[str, float]] = field(default_factory=dict)
    # The cut-off for messages of one or two words against the short probes' cohort
    # (``knowledge.short_messages``); None: not fitted (before v6), short messages as any other.
    short_threshold: float | None = None
    short_cross_threshold: float | None = None  # for a passage in another script than the message's
    short_answerable: int = 0
    short_kept_answerable: float = 0.0
    short_dropped_unanswerable: float = 0.0
    short_quantiles: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RelevanceCalibration | None:
        """None for missing or unreadable data (an older knowledge base, a hand-edited file)."""
        if not data:
            return None
        try:
            known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            calibration = cls(**known)
            float(calibration.threshold)
        except (TypeError, ValueError):
            return None
        return calibration

    def summary(self) -> str:
        cross = (
            f", {self.cross_threshold:.3f} across languages"
            if self.cross_threshold is not None and self.cross_threshold < self.threshold
            else ""
        )
        misses = f"; {self.retrieval_misses} probes not retrieved at all" if self.retrieval_misses else ""
        if self.cohort_threshold is not None:
            across = (
                f" ({self.cohort_cross_threshold:.2f} across languages)"
                if self.cohort_cross_threshold is not None
                else ""
            )
            return (
                f"relevance cut-off {self.cohort_threshold:.2f}{across} standard deviations over unrelated "
                f"questions in the question's language ({self.model}, set by the {self.cohort_bound} side): "
                "keeps "
                f"{self.cohort_kept_answerable:.0%} of {self.answerable} answerable probes, drops "
                f"{self.cohort_dropped_unanswerable:.0%} of {self.unanswerable} unanswerable ones "
                f"(a cosine cut-off of {self.threshold:.3f}{cross} serves only where the unrelated "
                f"questions' vectors are missing){misses}"
            )
        return (
            f"relevance cut-off {self.threshold:.3f}{cross} ({self.model}, set by the {self.bound} side): "
            "keeps "
            f"{self.kept_answerable:.0%} of {self.answerable} answerable probes, drops "
            f"{self.dropped_unanswerable:.0%} of {self.unanswerable} unanswerable ones{misses}"
        )


# ---------------------------------------------------------------- scoring

# (probes) -> hits per probe, searched the way the service searches (hybrid, PROBE_LIMIT)
Search = Callable[[Sequence[Probe]], list[list[SearchHit]]]


def score(
    probes: Sequence[Probe], hits: Sequence[Sequence[SearchHit]], cohort: Cohort | None = None
) -> list[Scored]:
    out: list[Scored] = []
    rows = cohort_rows(probes)
    for probe, found, row in zip(probes, hits, rows, strict=True):
        z = normalised(probe, found, cohort, row) if cohort is not None else None
        cosines = [
            h.dense_score
            for h in found
            if h.dense_score is not None and (probe.doc_id is None or h.payload.doc_id == probe.doc_id)
        ]
        if probe.answerable:
            out.append(Scored(probe, max(cosines) if cosines else None, z=z))
        else:  # nothing retrieved at all: as unrelated as it gets
            other = [
                h.dense_score
                for h in found
                if h.dense_score is not None and probe.language and h.payload.language != probe.language
            ]
            out.append(Scored(probe, max(cosines) if cosines else -1.0, max(other) if other else None, z))
    return out


def _quantiles(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    points = {"min": 0.0, "p10": 0.1, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p90": 0.9, "max": 1.0}
    return {name: round(float(np.quantile(values, q)), 4) for name, q in points.items()}


Scores = Sequence[float] | npt.NDArray[np.floating[Any]]


def fit_threshold(answerable: Scores, unanswerable: Scores) -> tuple[float, str]:
    """The cut-off from both score distributions (module docstring) and which side set it."""
    pos = np.asarray(answerable, dtype=np.float64)
    neg = np.asarray(unanswerable, dtype=np.float64)
    from_negatives = float(np.quantile(neg, NEGATIVE_QUANTILE))
    low = float(np.quantile(pos, POSITIVE_QUANTILE))
    ceiling = low - POSITIVE_MARGIN * max(float(np.median(pos)) - low, 0.0)
    if from_negatives <= ceiling:
        return from_negatives, "unanswerable"
    return ceiling, "answerable"


@dataclass(frozen=True)
class Probed:
    scored: list[Scored]
    cross_drop: float | None = None  # ``cross_language_drop``


def probe(rows: Iterable[Mapping[str, Any]], search: Search, cohort: Cohort | None = None) -> Probed:
    """Every probe with its score: the answerable ones derived from ``rows``, then the shipped
    unanswerable ones. Empty when the knowledge base has fewer than ``MIN_ANSWERABLE`` probes."""
    positives = answerable_probes(rows)
    if len(positives) < MIN_ANSWERABLE:
        return Probed([])
    probes = [*positives, *unanswerable_probes()]
    hits = search(probes)
    drop = cross_language_drop(probes, hits, cohort) if cohort is not None else None
    return Probed(score(probes, hits, cohort), drop)


def _fit_normalised(scored: Sequence[Scored], cross_drop: float | None) -> dict[str, Any]:
    """The ``cohort_*`` fields: ``fit_threshold`` on the cohort-normalised scores."""
    pos = np.array([s.z for s in scored if s.probe.answerable and s.z is not None], dtype=np.float64)
    neg = np.array([s.z for s in scored if not s.probe.answerable and s.z is not None], dtype=np.float64)
    if pos.size < MIN_ANSWERABLE or neg.size == 0:
        return {}
    threshold, bound = fit_threshold(pos, neg)
    return {
        "cohort_threshold": round(threshold, 6),
        "cohort_bound": bound,
        "cohort_cross_threshold": round(threshold - cross_drop, 6) if cross_drop is not None else None,
        "cohort_kept_answerable": round(float((pos >= threshold).mean()), 4),
        "cohort_dropped_unanswerable": round(float((neg < threshold).mean()), 4),
        "cohort_quantiles": {"answerable": _quantiles(pos), "unanswerable": _quantiles(neg)},
    }


def _fit_short(keys: KeyWords, search: Search, cohort: Cohort) -> dict[str, Any]:
    """The ``short_*`` fields: ``fit_threshold`` on the short probes' normalised scores."""
    found = short_scores(keys.probes(), search, cohort)
    pos = np.array(found.answerable, dtype=np.float64)
    neg = np.array(found.unanswerable, dtype=np.float64)
    if pos.size < MIN_ANSWERABLE or neg.size == 0:
        return {}
    threshold, _bound = fit_threshold(pos, neg)
    cross = None
    if len(found.cross) >= MIN_SHORT_CROSS:
        cross = round(min(threshold, float(np.quantile(found.cross, CROSS_NEGATIVE_QUANTILE))), 6)
    return {
        "short_threshold": round(threshold, 6),
        "short_cross_threshold": cross,
        "short_answerable": int(pos.size),
        "short_kept_answerable": round(float((pos >= threshold).mean()), 4),
        "short_dropped_unanswerable": round(float((neg < threshold).mean()), 4),
        "short_quantiles": {"answerable": _quantiles(pos), "unanswerable": _quantiles(neg)},
    }


def fit(
    scored: Sequence[Scored],
    *,
    model: str = "",
    seconds: float = 0.0,
    cross_drop: float | None = None,
) -> RelevanceCalibration | None:
    """The cut-off from scored probes, with what explains it; None with too few answerable scores.
    ``cross_drop``: the normalised cross-language drop (``cross_language_drop``)."""
    pos = [s for s in scored if s.probe.answerable]
    pos_scores = np.array([s.score for s in pos if s.score is not None], dtype=np.float64)
    neg_scores = np.array([s.score for s in scored if not s.probe.answerable], dtype=np.float64)
    if pos_scores.size < MIN_ANSWERABLE or neg_scores.size == 0:
        return None
    threshold, bound = fit_threshold(pos_scores, neg_scores)
    cross_scores = np.array([s.cross for s in scored if s.cross is not None], dtype=np.float64)
    cross = None
    if cross_scores.size >= MIN_CROSS:
        cross = min(threshold, float(np.quantile(cross_scores, CROSS_NEGATIVE_QUANTILE)))
    by_kind: dict[str, dict[str, float]] = {}
    for kind in sorted({s.probe.kind for s in scored}):
        values = np.array([s.score for s in scored if s.probe.kind == kind and s.score is not None])
        if values.size:
            by_kind[kind] = {
                "n": float(values.size),
                "median": round(float(np.median(values)), 4),
                "share_above": round(float((values >= threshold).mean()), 4),
            }
    return RelevanceCalibration(
        threshold=round(threshold, 6),
        cross_threshold=round(cross, 6) if cross is not None else None,
        model=model,
        answerable=int(pos_scores.size),
        unanswerable=int(neg_scores.size),
        retrieval_misses=sum(1 for s in pos if s.score is None),
        kept_answerable=round(float((pos_scores >= threshold).mean()), 4),
        dropped_unanswerable=round(float((neg_scores < threshold).mean()), 4),
        bound=bound,
        quantiles={
            "answerable": _quantiles(pos_scores),
            "unanswerable": _quantiles(neg_scores),
            "unanswerable_other_language": _quantiles(cross_scores),
        },
        by_kind=by_kind,
        seconds=round(seconds, 3),
        **_fit_normalised(scored, cross_drop),
    )


def calibrate(
    rows: Iterable[Mapping[str, Any]], search: Search, *, model: str = "", cohort: Cohort | None = None
) -> RelevanceCalibration | None:
    """Probe the knowledge base and fit its cut-off; None when it is too small to say anything."""
    started = time.perf_counter()
    keys = KeyWords()
    probed = probe(keys.watch(rows), search, cohort)
    scored = probed.scored
    calibration = fit(scored, model=model, cross_drop=probed.cross_drop)
    if calibration is not None and cohort is not None and cohort.short is not None:
        calibration = replace(calibration, **_fit_short(keys, search, cohort))
    if calibration is not None:
        calibration = replace(calibration, seconds=round(time.perf_counter() - started, 3))
    if calibration is None:
        answerable = sum(1 for s in scored if s.probe.answerable and s.score is not None)
        log.warning("relevance calibration skipped: %d answerable probes were scored", answerable)
    else:
        log.info("%s", calibration.summary())
    return calibration


def collection_search(kb: KnowledgeBase, collection: Collection) -> Search:
    """Probes searched in ``collection`` as the service searches: hybrid, ``PROBE_LIMIT`` hits."""

    def search(probes: Sequence[Probe]) -> list[list[SearchHit]]:
        vectors = kb.embedder.embed_queries([p.text for p in probes])
        return [
            kb.search_prepared(
                Query(p.text, PROBE_LIMIT, None, p.language if p.language not in (None, "und") else None),
                vectors[i],
                collection,
            )
            for i, p in enumerate(probes)
        ]

    return search


def calibrate_collection(kb: KnowledgeBase, collection: Collection) -> RelevanceCalibration | None:
    """``calibrate`` over one collection (the one an ingest just wrote, active or not yet)."""
    return calibrate(
        collection.payloads(PAYLOAD_FIELDS),
        collection_search(kb, collection),
        model=kb.embedder.name,
        cohort=cohort_for(kb.embedder),
    )
