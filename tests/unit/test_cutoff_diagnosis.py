"""The parts ``bench.cutoff_diagnosis`` takes the normalised score apart into, on hand-made unit
vectors: the right paragraph's cosine, its cohort's mean and spread, and each probe language's
spread over all its probes and over the parallel ones only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.cutoff_diagnosis import probe_spread, right_paragraph
from knowledge.cohort import Cohort
from knowledge.schema import ChunkPayload, SearchHit

PASSAGE = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)


def _at(cosine: float, axis: int = 1) -> np.ndarray:
    vector = np.zeros(4, dtype=np.float32)
    vector[0], vector[axis] = cosine, math.sqrt(1.0 - cosine**2)
    return vector


# Russian: the same parallel question as Spanish plus one off-topic probe far under the rest, which
# widens the language's spread (the shape bench.cutoff_diagnosis found in the shipped probes).
SPANISH = [0.72, 0.74, 0.76]
RUSSIAN = [0.72, 0.74, 0.76, 0.62]
COHORT = Cohort(
    {
        "es": np.stack([_at(c, 1 + i % 3) for i, c in enumerate(SPANISH)]),
        "ru": np.stack([_at(c, 1 + i % 3) for i, c in enumerate(RUSSIAN)]),
    }
)


def _hit(doc_id: str, cosine: float) -> SearchHit:
    payload = ChunkPayload(
        doc_id=doc_id,
        chunk_index=0,
        chunk_count=1,
        doc_hash="h",
        text="t",
        title="t",
        source=doc_id,
        language="en",
    )
    vector = tuple(float(x) for x in PASSAGE)
    return SearchHit(id=doc_id, score=0.5, dense_score=cosine, payload=payload, vector=vector)


def test_the_right_paragraph_is_taken_apart_against_the_questions_cohort() -> None:
    hits = [_hit("xq-001.md", 0.80), _hit("xq-002.md", 0.83), _hit("xq-002.md", 0.79)]
    spanish = right_paragraph(hits, "xq-002", "es", COHORT)
    russian = right_paragraph(hits, "xq-002", "ru", COHORT)
    assert spanish is not None and russian is not None
    cosine, mean, sd, z = spanish
    assert (cosine, mean, sd) == pytest.approx((0.83, 0.74, float(np.std(SPANISH))), rel=1e-4)
    assert z == pytest.approx((0.83 - 0.74) / float(np.std(SPANISH)), rel=1e-4)
    # The same cosine reads lower for Russian: its one far-off probe widens the spread.
    assert russian[2] > sd and russian[3] < z
    assert right_paragraph(hits, "xq-003", "es", COHORT) is None  # not retrieved


def test_the_spread_of_the_parallel_probes_alone_compares_the_languages() -> None:
    parallel = {"es": np.array([True, True, True]), "ru": np.array([True, True, True, False])}
    spread = probe_spread(COHORT, PASSAGE[None, :], parallel)
    assert spread["ru"]["sd"] > spread["es"]["sd"]
    assert spread["ru"]["parallel_sd"] == pytest.approx(spread["es"]["parallel_sd"], abs=1e-4)
    assert spread["ru"]["mean"] == pytest.approx(float(np.mean(RUSSIAN)), abs=1e-4)
