"""Why a language loses more answerable questions than another under the normalised cut-off.

The cut-off (``knowledge.cohort``, calibration ``probe-cohort-v4``) reads a passage's cosine as
z = (cosine − mean) / sd of the shipped unanswerable probes *in the question's language* against
that passage, and lowers it for passages in another language by the parallel probes' drop
(``cross_language_drop``). This takes that score apart on the tiny XQuAD knowledge bases of
``bench.crosslingual_cutoff`` (same bases, same questions, every XQuAD language), as the service
scores them (hybrid top 5, the detected language):

* per question language: the language it is detected as (the service chooses among
  ``INGEST_LANGUAGES``; a question in another language gets the closest or the default one), and
  for the right paragraph — retrieved — its cosine, its cohort's mean and standard deviation, its
  z, and the share under its cut-off;
* the cross-language drop twice: as the calibration measures it (the parallel probes against their
  best passage, per question language) and as XQuAD shows it (the same question in English and in
  the language, against its right paragraph: z(en) − z(language));
* the probe cohorts themselves against the bases' passages: each language's mean and standard
  deviation, over all its probes and over the parallel ones only (the same questions in every
  language, so the languages can be compared).

Writes bench/results/cutoff_diagnosis.json.

    python -m bench.cutoff_diagnosis [--bases 12]
"""

from __future__ import annotations

import argparse
import random
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from bench import crosslingual_cutoff as xl
from bench.common import write_result
from knowledge.answerability import PAYLOAD_FIELDS, collection_search
from knowledge.cohort import Cohort, cohort_for, pair_drops
from knowledge.probes import answerable_probes, unanswerable_probes
from knowledge.schema import SearchHit
from knowledge.search import KnowledgeBase, Query


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 4) if values else None


def right_paragraph(
    hits: list[SearchHit], doc: str, language: str, cohort: Cohort
) -> tuple[float, float, float, float] | None:
    """(cosine, cohort mean, cohort sd, z) of the best-scoring right hit; None when not retrieved."""
    right = [h for h in hits if h.payload.doc_id.startswith(doc) and h.vector is not None]
    if not right or right[0].dense_score is None:
        return None
    hit = max(right, key=lambda h: h.dense_score or -1.0)
    vector = np.asarray(hit.vector, dtype=np.float32)
    scores = cohort.members(language, hit.payload.language) @ vector
    cosine = float(hit.dense_score or -1.0)
    z = cohort.normalise(cosine, vector, language, hit.payload.language)
    return cosine, float(scores.mean()), float(scores.std()), z


def probe_spread(cohort: Cohort, passages: np.ndarray, parallel: dict[str, np.ndarray]) -> dict[str, Any]:
    """Each probe language's mean and sd against each passage (averaged over the passages), over
    all its probes and over the parallel ones."""
    out: dict[str, Any] = {}
    for language, vectors in cohort.vectors.items():
        scores = vectors @ passages.T
        same = scores[parallel[language]]
        out[language] = {
            "mean": round(float(scores.mean(axis=0).mean()), 4),
            "sd": round(float(scores.std(axis=0).mean()), 4),
            "parallel_sd": round(float(same.std(axis=0).mean()), 4),
        }
    return out


def measure(chosen: list[str], by_title: dict[str, list[dict[str, Any]]], asked: Any) -> dict[str, Any]:
    paragraphs = [p for title in chosen for p in by_title[title]]
    with xl.tiny_base(paragraphs) as kb:
        return _measure(kb, sorted({p["doc_id"] for p in paragraphs}), asked)


def _measure(kb: KnowledgeBase, docs: list[str], asked: Any) -> dict[str, Any]:
    meta = kb.meta()
    cut, cross = meta.relevance["cohort_threshold"], meta.relevance["cohort_cross_threshold"]
    cohort = cohort_for(kb.embedder)
    collection = kb.store.active()
    assert collection is not None
    probes = [*answerable_probes(collection.payloads(PAYLOAD_FIELDS)), *unanswerable_probes()]
    probe_hits = collection_search(kb, collection)(probes)
    drops = pair_drops(probes, probe_hits, cohort)
    rows: dict[str, Any] = {}
    z_of: dict[str, list[float | None]] = {}
    for language in xl.LANGUAGES:
        pairs = [(q, d) for d in docs for q in asked[d][language]]
        queries = [kb.with_language(Query(q, 5)) for q, _ in pairs]
        found = kb.run(queries)
        detected = Counter(q.language or "?" for q in queries)
        parts = [
            right_paragraph(h, d, q.language or "en", cohort)
            for h, (_, d), q in zip(found, pairs, queries, strict=True)
        ]
        under = [
            p[3] < (cut if q.language == "en" else cross)  # the bases are English
            for p, q in zip(parts, queries, strict=True)
            if p is not None
        ]
        z_of[language] = [p[3] if p else None for p in parts]
        rows[language] = {
            "detected": dict(detected.most_common()),
            "cosine": [p[0] for p in parts if p],
            "cohort_mean": [p[1] for p in parts if p],
            "cohort_sd": [p[2] for p in parts if p],
            "z": [p[3] for p in parts if p],
            "under_cut": int(sum(under)),
            "retrieved": len(under),
        }
    for language in xl.LANGUAGES:
        pairs_z = zip(z_of["en"], z_of[language], strict=True)
        rows[language]["xquad_drop"] = [e - o for e, o in pairs_z if e is not None and o is not None]
        rows[language]["probe_drop"] = drops.get((language, "en"), [])
    passages = np.stack(
        [np.asarray(h.vector, dtype=np.float32) for hits in probe_hits for h in hits if h.vector]
    )
    parallel: dict[str, list[bool]] = defaultdict(list)
    for p in unanswerable_probes():
        parallel[str(p.language)].append(p.topic is not None)
    masks = {language: np.array(mask) for language, mask in parallel.items()}
    return {"cut": cut, "cross": cross, "languages": rows, "probes": probe_spread(cohort, passages, masks)}


def summary(bases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for language in xl.LANGUAGES:
        pooled: dict[str, list[float]] = defaultdict(list)
        detected: Counter[str] = Counter()
        under = retrieved = 0
        for base in bases:
            row = base["languages"][language]
            for key in ("cosine", "cohort_mean", "cohort_sd", "z", "xquad_drop", "probe_drop"):
                pooled[key] += row[key]
            detected.update(row["detected"])
            under += row["under_cut"]
            retrieved += row["retrieved"]
        out[language] = {
            "detected": dict(detected.most_common(3)),
            **{f"median_{key}": _median(values) for key, values in pooled.items()},
            "under_cut_share": round(under / retrieved, 4) if retrieved else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bases", type=int, default=12)
    args = parser.parse_args()
    by_title, asked = xl.articles(), xl.questions_by_doc()
    titles = list(by_title)
    random.Random(xl.SEED).shuffle(titles)
    bases = []
    for i in range(args.bases):
        bases.append(measure(titles[i * 2 : (i + 1) * 2], by_title, asked))
        print(f"base {i}", flush=True)
    table = summary(bases)
    print("lang  detected as (top 3)                cosine  c.mean  c.sd    z     under  drop xquad / probes")
    for language, row in table.items():
        print(
            f"{language:4}  {str(row['detected'])[:34]:34}  {row['median_cosine']:.3f}"
            f"   {row['median_cohort_mean']:.3f}"
            f"   {row['median_cohort_sd']:.4f}  {row['median_z']:.2f}  {row['under_cut_share']:.3f}"
            f"  {row['median_xquad_drop']} / {row['median_probe_drop']}"
        )
    spreads: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for base in bases:
        for language, row in base["probes"].items():
            for key, value in row.items():
                spreads[language][key].append(value)
    probes = {lang: {k: _median(v) for k, v in row.items()} for lang, row in spreads.items()}
    print("probe cohorts against the bases' passages (mean, sd, sd of the parallel probes only):")
    for language, row in probes.items():
        print(f"  {language}: {row['mean']:.3f}  {row['sd']:.4f}  {row['parallel_sd']:.4f}")
    write_result("cutoff_diagnosis", {"bases": len(bases), "languages": table, "probe_cohorts": probes})


if __name__ == "__main__":
    main()
