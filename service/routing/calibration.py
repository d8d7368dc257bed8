"""Scores and calibration for the similarity router: pooled label scores, temperature fitting, ECE.

A question's score for a label is the mean of its ``k`` highest cosine similarities to that
label's examples. The catch-all label's score is raised to at least ``floor`` so that a question
unlike every example lands there. Probabilities are ``softmax(scores / T)``.

``T`` (and ``floor``) are fitted by minimising the negative log-likelihood of leave-one-out
predictions on the labelled examples: every example is classified by all the *other* examples,
exactly as a new question would be. NLL is a proper scoring rule, so its minimiser is the
temperature under which stated confidence best matches observed accuracy. Pure numpy; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

MIN_TEMPERATURE = 0.005
MAX_TEMPERATURE = 1.0
# 0.0 … 0.975 (cosine similarity). The whole range: where a model's cosines sit depends on the model
# (MiniLM's fitted floor is 0.375; multilingual-e5-small scores almost any pair 0.7–0.9 and fits 0.85).
FLOOR_GRID = tuple(round(0.025 * i, 3) for i in range(40))


class LabelIndex:
    """Gathers each label's example similarities into one padded (labels × widest label) block."""

    def __init__(self, labels: IntArray, n_labels: int) -> None:
        counts = np.bincount(labels, minlength=n_labels)
        if (counts == 0).any():
            raise ValueError("every label needs at least one example")
        width = int(counts.max())
        index = np.zeros((n_labels, width), dtype=np.int64)
        valid = np.zeros((n_labels, width), dtype=bool)
        for label in range(n_labels):
            members = np.flatnonzero(labels == label)
            index[label, : len(members)] = members
            valid[label, : len(members)] = True
        self.index = index
        self.valid = valid
        self.counts = counts

    def pooled(self, sims: FloatArray, k: int) -> FloatArray:
        """(questions × examples) similarities → (questions × labels) mean of the top-k per label.

        ``-inf`` entries (an example left out) are skipped; a label with fewer than ``k`` usable
        examples averages the ones it has.
        """
        block = sims[:, self.index]  # (q, labels, width)
        block = np.where(self.valid[None], block, -np.inf)
        width = block.shape[2]
        k = max(1, min(k, width))
        top = -np.partition(-block, k - 1, axis=2)[:, :, :k] if k < width else block
        finite = np.isfinite(top)
        total = np.where(finite, top, 0.0).sum(axis=2)
        count = finite.sum(axis=2)
        pooled = np.where(count > 0, total / np.maximum(count, 1), -1.0)
        return np.asarray(pooled, dtype=np.float32)


def apply_floor(scores: FloatArray, fallback: int, floor: float) -> FloatArray:
    out = scores.copy()
    out[:, fallback] = np.maximum(out[:, fallback], floor)
    return out


def softmax(scores: FloatArray, temperature: float) -> FloatArray:
    z = scores.astype(np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)


def nll(probs: FloatArray, gold: IntArray) -> float:
    picked = probs[np.arange(len(gold)), gold].astype(np.float64)
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean())


def fit_temperature(scores: FloatArray, gold: IntArray) -> float:
    """The temperature minimising NLL; golden-section search on log T (NLL is unimodal in 1/T)."""
    lo, hi = np.log(MIN_TEMPERATURE), np.log(MAX_TEMPERATURE)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0

    def loss(log_t: float) -> float:
        return nll(softmax(scores, float(np.exp(log_t))), gold)

    a, b = lo + (1 - ratio) * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = loss(a), loss(b)
    for _ in range(60):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = lo + (1 - ratio) * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = loss(b)
    return float(np.exp((lo + hi) / 2))


@dataclass(frozen=True)
class Calibration:
    temperature: float
    floor: float
    nll: float
    accuracy: float  # leave-one-out accuracy of the examples it was fitted on
    examples: int


def fit(scores: FloatArray, gold: IntArray, fallback: int, floor: float | None = None) -> Calibration:
    """Fit the temperature, and the catch-all floor too unless one is given."""
    best: Calibration | None = None
    for candidate in FLOOR_GRID if floor is None else (floor,):
        floored = apply_floor(scores, fallback, candidate)
        t = fit_temperature(floored, gold)
        probs = softmax(floored, t)
        loss = nll(probs, gold)
        if best is None or loss < best.nll - 1e-9:
            accuracy = float((probs.argmax(axis=1) == gold).mean())
            best = Calibration(t, candidate, loss, accuracy, len(gold))
    assert best is not None
    return best


def leave_one_out_scores(vectors: FloatArray, index: LabelIndex, k: int) -> FloatArray:
    """Pooled label scores of every example against all the other examples."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return index.pooled(sims.astype(np.float32), k)


def expected_calibration_error(
    confidence: FloatArray, correct: npt.NDArray[np.bool_], bins: int = 10
) -> float:
    """ECE with equal-width confidence bins: Σ (bin share) × |accuracy − mean confidence|."""
    if len(confidence) == 0:
        return float("nan")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap = abs(float(correct[members].mean()) - float(confidence[members].mean()))
            total += float(members.mean()) * gap
    return total


def reliability(
    confidence: FloatArray, correct: npt.NDArray[np.bool_], bins: int = 10
) -> list[dict[str, str | float]]:
    """Per-bin count, mean confidence and accuracy: the reliability diagram as numbers."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows: list[dict[str, str | float]] = []
    for b in range(bins):
        members = which == b
        if members.any():
            rows.append(
                {
                    "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                    "n": int(members.sum()),
                    "confidence": round(float(confidence[members].mean()), 4),
                    "accuracy": round(float(correct[members].mean()), 4),
                }
            )
    return rows
