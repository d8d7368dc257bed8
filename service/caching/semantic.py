"""Semantic matching: cached questions' vectors as one matrix, ranked by cosine similarity.

Both backends keep a namespace's vectors in this process (the Redis one as a mirror kept current by
sequence number) and rank them with one matrix-vector product; the first ``CANDIDATES`` above the
threshold are then checked for liveness and identifiers (``AnswerCache._lookup``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
Matrix = tuple[list[str], Vector | None]  # row ids, and their vectors stacked (None when empty)

# Most semantic candidates (above the threshold) whose entries a lookup fetches and checks.
CANDIDATES = 4


def unit(vector: npt.ArrayLike) -> Vector:
    """``vector`` as float32, L2-normalised (a zero vector stays zero)."""
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else v


def stack(rows: Iterable[tuple[str, Vector]]) -> Matrix:
    """Ids and their vectors as one matrix, in the order given."""
    pairs = list(rows)
    if not pairs:
        return [], None
    return [i for i, _ in pairs], np.stack([v for _, v in pairs])


def rank(matrix: Matrix, query: Vector | None, threshold: float | None) -> list[tuple[str, float]]:
    """Ids whose vectors reach the threshold, most similar first (at most ``CANDIDATES + 1``: the
    query's own entry may be among them)."""
    ids, vectors = matrix
    if threshold is None or query is None or vectors is None or not ids:
        return []
    if vectors.shape[1] != query.shape[0]:
        return []
    sims = vectors @ query
    above = np.flatnonzero(sims >= threshold)
    order = above[np.argsort(-sims[above], kind="stable")]
    return [(ids[i], float(sims[i])) for i in order[: CANDIDATES + 1]]


def candidates(ranked: Sequence[tuple[str, float]], own_id: str) -> list[tuple[str, float]]:
    """The ranked ids other than the question's own entry, at most ``CANDIDATES``."""
    return [(i, s) for i, s in ranked if i != own_id][:CANDIDATES]
