"""The calibrated relevance cut-off, per corpus and embedding model, against held-out questions.

Each corpus goes through the real ingest pipeline into its own embedded store (which fits the
cut-off, ``knowledge.answerability``); then held-out questions (``tests/answerability_sets.py``:
customer paraphrases with their right documents, and unanswerable questions none of which is a
calibration probe) are searched the way the service searches (hybrid, top 5) and compared with
the cut-off:

* answerable: *kept* when a right passage scores at or above the cut-off, *dropped* when right
  passages were retrieved but all under it, *miss* when retrieval found no right passage at all
  (no cut-off could help);
* unanswerable: *dropped* when every retrieved passage is under the cut-off (the service then
  hands off with ``no_relevant_passages`` without calling the model).

For comparison: the old constant floor (0.3) and the best single cut-off in hindsight on these
held-out questions (maximising kept + dropped). Models: the packaged MiniLM (ONNX) and the
default, multilingual-e5-small (ONNX int8, with its English companion). Corpora: data/policies (the demo
shop, five languages), the Basecamp policies (shared eval data, English) and a gym written for the
tests. Writes bench/results/answerability.json.

    python -m bench.answerability [--models minilm,e5] [--corpora policies,basecamp,gym]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import EVAL, MODEL_CACHE, REPO, write_result
from ingest.pipeline import IngestPipeline
from knowledge.answerability import RelevanceCalibration
from knowledge.search import KnowledgeBase, Query
from knowledge.settings import (
    PACKAGED_MINILM,
    ChunkingSettings,
    EmbeddingSettings,
    IngestSettings,
    QdrantSettings,
    Settings,
)
from tests import answerability_sets as sets

OLD_FLOOR = 0.3


def corpus_path(name: str, tmp: Path) -> Path:
    if name == "policies":
        return REPO / "data" / "policies"
    if name == "basecamp":
        return EVAL / "raw" / "basecamp_policies"
    return sets.write_gym(tmp / "gym")


def questions(name: str) -> tuple[list[sets.Answerable], list[sets.Unanswerable]]:
    if name == "policies":
        return sets.POLICIES_ANSWERABLE, sets.UNANSWERABLE
    if name == "basecamp":
        return sets.BASECAMP_ANSWERABLE, sets.UNANSWERABLE
    return sets.GYM_ANSWERABLE, sets.GYM_UNANSWERABLE


def build(corpus: Path, store: Path, model: str) -> tuple[KnowledgeBase, float]:
    embedding = EmbeddingSettings(cache_dir=MODEL_CACHE)
    if model == "minilm":
        embedding = EmbeddingSettings(cache_dir=MODEL_CACHE, model=PACKAGED_MINILM)
    settings = Settings(
        qdrant=QdrantSettings(path=store, url=None),
        embedding=embedding,
        chunking=ChunkingSettings(),
        ingest=IngestSettings(),
    )
    kb = KnowledgeBase.open(settings)
    started = time.perf_counter()
    IngestPipeline(kb.store, kb.embedder, kb.sparse, kb.require_languages(), settings).run([corpus])
    return kb, time.perf_counter() - started


def scores(
    kb: KnowledgeBase, answerable: list[sets.Answerable], unanswerable: list[sets.Unanswerable]
) -> tuple[list[float | None], list[float]]:
    """Best cosine of a right passage per answerable question (None: none retrieved); best cosine of
    any passage per unanswerable one."""
    queries = [Query(a.question, 5, None, a.language) for a in answerable]
    queries += [Query(u.question, 5, None, u.language) for u in unanswerable]
    found = kb.run(queries)
    right: list[float | None] = []
    for item, hits in zip(answerable, found[: len(answerable)], strict=True):
        cosines = [h.dense_score for h in hits if item.is_right(h) and h.dense_score is not None]
        right.append(max(cosines) if cosines else None)
    wrong = [max((h.dense_score or -1.0 for h in hits), default=-1.0) for hits in found[len(answerable) :]]
    return right, wrong


def outcome(right: list[float | None], wrong: list[float], floor: float) -> dict[str, Any]:
    retrieved = [s for s in right if s is not None]
    return {
        "cutoff": round(floor, 4),
        "answerable_kept": sum(s >= floor for s in retrieved),
        "answerable_dropped": sum(s < floor for s in retrieved),
        "answerable_miss": sum(s is None for s in right),
        "unanswerable_dropped": sum(s < floor for s in wrong),
        "unanswerable_passed": sum(s >= floor for s in wrong),
    }


def best_in_hindsight(right: list[float | None], wrong: list[float]) -> dict[str, Any]:
    retrieved = [s for s in right if s is not None]
    candidates = sorted({*retrieved, *wrong, OLD_FLOOR})
    best = max(
        candidates,
        key=lambda t: (
            sum(s >= t for s in retrieved) + sum(s < t for s in wrong),
            -abs(t - np.median(candidates)),
        ),
    )
    return outcome(right, wrong, float(best))


def run(corpus: str, model: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        kb, seconds = build(corpus_path(corpus, Path(tmp)), Path(tmp) / "qdrant", model)
        try:
            calibration = RelevanceCalibration.from_dict(kb.meta().relevance)
            assert calibration is not None, f"{corpus}/{model}: no calibration"
            answerable, unanswerable = questions(corpus)
            right, wrong = scores(kb, answerable, unanswerable)
        finally:
            kb.store.close()
    held_out: dict[str, Any] = {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "calibrated": outcome(right, wrong, calibration.threshold),
        "old_floor_0.3": outcome(right, wrong, OLD_FLOOR),
        "best_in_hindsight": best_in_hindsight(right, wrong),
        "answerable_scores": [None if s is None else round(s, 4) for s in right],
        "unanswerable_scores": [round(s, 4) for s in wrong],
    }
    row = {
        "corpus": corpus,
        "model": calibration.model,
        "ingest_s": round(seconds, 1),
        "calibration": calibration.to_dict(),
        "held_out": held_out,
    }
    c, h = calibration, held_out["calibrated"]
    print(
        f"{corpus:9} {model:6} cut-off {c.threshold:.3f} ({c.bound:12}) probes: kept "
        f"{c.kept_answerable:.0%} of {c.answerable} answerable, dropped {c.dropped_unanswerable:.0%} of "
        f"{c.unanswerable} unanswerable | held-out: answerable kept {h['answerable_kept']}/"
        f"{len(answerable)} (dropped {h['answerable_dropped']}, miss {h['answerable_miss']}), unanswerable "
        f"dropped {h['unanswerable_dropped']}/{len(unanswerable)}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="minilm,e5")
    parser.add_argument("--corpora", default="gym,basecamp,policies")
    args = parser.parse_args()
    models = args.models.split(",")
    rows = [run(corpus, model) for model in models for corpus in args.corpora.split(",")]
    write_result("answerability", {"runs": rows})


if __name__ == "__main__":
    main()
