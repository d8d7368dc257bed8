"""Other normalisations of the relevance score, replayed on the tiny XQuAD knowledge bases.

Each base of ``bench.crosslingual_cutoff`` is ingested once; its calibration probes and every
XQuAD question (all twelve languages, the paragraphs' own and 20 about other articles) are searched
once as the service searches. Each rule below then refits the calibration on those hits
(``fit_threshold``, the pooled cross-language drop of the parallel probes, the context margin)
and cuts the questions' hits as ``RelevanceFloor.select`` does; "kept" and "unrelated dropped"
are counted as ``bench.crosslingual_cutoff`` counts them (its figures for ``cohort`` are this
replay's within noise):

* ``cohort`` — the shipped rule (``knowledge.cohort``): mean and sd of the question language's probes;
* ``pooled-sd`` — the mean of the question language's probes, the sd pooled over every language's
  probes (each about its own language's mean);
* ``median-mad`` — the median and the scaled median absolute deviation of the language's probes;
* ``parallel`` — only the parallel probes (the same questions in every language) as the cohort;
* ``nearest`` — the 24 probes nearest to the question, in any language (adaptive T-norm);
* ``unsure-unknown`` / ``pooled-unsure`` — ``cohort`` / ``pooled-sd``, with a question whose language the
  detector is unsure of (under its confidence floor, where the service falls back to the default
  language) read as a question in an unknown language: the cohort of every language.

Also the *frontier*: per language, the most answerable questions kept with the cross-language cut-off
moved (per language: an oracle no calibration has) as long as no more than 2 points fewer unrelated
questions are dropped than with ``cohort``.

Writes bench/results/cutoff_candidates.json.

    python -m bench.cutoff_candidates [--bases 12]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from bench import crosslingual_cutoff as xl
from bench.common import write_result
from knowledge.answerability import PAYLOAD_FIELDS, collection_search, fit_threshold
from knowledge.cohort import cohort_for, cohort_rows, probe_languages
from knowledge.probes import Probe, answerable_probes, unanswerable_probes
from knowledge.schema import SearchHit
from knowledge.search import Query

if TYPE_CHECKING:
    from knowledge.embedder import Embedder

Vector = npt.NDArray[np.float32]
NEAREST = 24
FOREIGN = 20
UNSURE = 0.3  # ``LanguageIdentifier``'s confidence floor: under it the service takes the default
SHIFTS = np.round(np.arange(-3.0, 3.01, 0.05), 2)


@dataclass
class Asked:
    language: str | None  # as the rule reads it
    vector: Vector
    hits: list[SearchHit]
    doc: str | None  # the right paragraph; None: a question about another article


@dataclass
class Base:
    probes: list[Probe]
    probe_hits: list[list[SearchHit]]
    probe_vectors: Vector
    asked: dict[str, list[Asked]]


class Probes:
    """The shipped unanswerable probes' vectors, one row each, and what the rules select of them."""

    def __init__(self, vectors: Vector, languages: list[str], parallel: list[bool]) -> None:
        self.vectors, self.languages, self.parallel = vectors, np.array(languages), np.array(parallel)

    def rows(
        self, language: str | None, passage: str | None, only_parallel: bool = False
    ) -> npt.NDArray[Any]:
        """``Cohort.members``' choice, as row numbers."""
        if language in set(self.languages):
            mask = self.languages == language
        elif language and passage and language != passage and passage in set(self.languages):
            mask = self.languages != passage
        else:
            mask = np.ones(len(self.languages), dtype=bool)
        if only_parallel:
            mask = mask & self.parallel
        return np.flatnonzero(mask)


# (probes, question vector, question language, hit, the question's own probe row) -> score
Rule = Callable[[Probes, Vector, str | None, SearchHit, int | None], float]


def _z(cosine: float, loc: float, scale: float) -> float:
    return (cosine - loc) / max(scale, 1e-4)


def _scores(p: Probes, rows: npt.NDArray[Any], hit: SearchHit, own: int | None) -> Vector:
    kept = rows[rows != own] if own is not None else rows
    return np.asarray(p.vectors[kept] @ np.asarray(hit.vector, dtype=np.float32), dtype=np.float32)


def cohort(p: Probes, q: Vector, language: str | None, hit: SearchHit, own: int | None) -> float:
    s = _scores(p, p.rows(language, hit.payload.language), hit, own)
    return _z(hit.dense_score or -1.0, float(s.mean()), float(s.std()))


def pooled_sd(p: Probes, q: Vector, language: str | None, hit: SearchHit, own: int | None) -> float:
    s = _scores(p, p.rows(language, hit.payload.language), hit, own)
    every = _scores(p, np.arange(len(p.languages)), hit, None)
    spread = np.mean([every[p.languages == lang].var() for lang in dict.fromkeys(p.languages)])
    return _z(hit.dense_score or -1.0, float(s.mean()), float(np.sqrt(spread)))


def median_mad(p: Probes, q: Vector, language: str | None, hit: SearchHit, own: int | None) -> float:
    s = _scores(p, p.rows(language, hit.payload.language), hit, own)
    median = float(np.median(s))
    return _z(hit.dense_score or -1.0, median, 1.4826 * float(np.median(np.abs(s - median))))


def parallel(p: Probes, q: Vector, language: str | None, hit: SearchHit, own: int | None) -> float:
    s = _scores(p, p.rows(language, hit.payload.language, only_parallel=True), hit, own)
    return _z(hit.dense_score or -1.0, float(s.mean()), float(s.std()))


def nearest(p: Probes, q: Vector, language: str | None, hit: SearchHit, own: int | None) -> float:
    closeness = p.vectors @ q
    if own is not None:
        closeness[own] = -np.inf
    s = _scores(p, np.argsort(-closeness)[:NEAREST], hit, None)
    return _z(hit.dense_score or -1.0, float(s.mean()), float(s.std()))


RULES: dict[str, tuple[Rule, bool]] = {  # name -> (rule, an unsure detection reads as unknown)
    "cohort": (cohort, False),
    "pooled-sd": (pooled_sd, False),
    "median-mad": (median_mad, False),
    "parallel": (parallel, False),
    "nearest": (nearest, False),
    "unsure-unknown": (cohort, True),
    "pooled-unsure": (pooled_sd, True),
}


@dataclass(frozen=True)
class Fitted:
    cut: float
    cross: float
    margin: float


def calibrate(rule: Rule, p: Probes, base: Base) -> Fitted:
    """``knowledge.answerability``'s fit and pooled cross-language drop, with ``rule``'s scores."""
    positions: dict[str, list[int]] = {}  # language -> its probes' rows, in their cohort's order
    for i, language in enumerate(p.languages):
        positions.setdefault(str(language), []).append(i)
    answerable: list[float] = []
    unanswerable: list[float] = []
    versions: dict[int, dict[str, tuple[list[SearchHit], int, Vector]]] = {}
    rows = cohort_rows(base.probes)
    for probe, hits, row, q in zip(base.probes, base.probe_hits, rows, base.probe_vectors, strict=True):
        own = None if row is None else positions[str(probe.language)][row]
        usable = [h for h in hits if h.vector is not None]
        if probe.answerable:
            mine = [rule(p, q, probe.language, h, None) for h in usable if h.payload.doc_id == probe.doc_id]
            answerable += [max(mine)] if mine else []
        else:
            scored = [rule(p, q, probe.language, h, own) for h in usable]
            unanswerable.append(max(scored) if scored else -10.0)
            if probe.topic is not None and own is not None:
                versions.setdefault(probe.topic, {})[str(probe.language)] = (hits, own, q)
    cut, _bound = fit_threshold(answerable, unanswerable)
    drops: list[float] = []
    for same in versions.values():
        for language, (hits, own, q) in same.items():
            candidates = [
                (rule(p, q, language, h, own), h)
                for h in hits
                if h.payload.language == language and h.vector is not None
            ]
            if not candidates:
                continue
            best, passage = max(candidates, key=lambda pair: pair[0])
            for other, (_hits, other_own, other_q) in same.items():
                if other != language:
                    moved = _moved(passage, float(other_q @ np.array(passage.vector, dtype=np.float32)))
                    drops.append(best - rule(p, other_q, other, moved, other_own))
    drop = max(float(np.median(drops)), 0.0) if drops else 0.0
    return Fitted(cut, cut - drop, max(cut - float(np.median(unanswerable)), 0.0))


def _moved(hit: SearchHit, cosine: float) -> SearchHit:
    return SearchHit(id=hit.id, score=hit.score, dense_score=cosine, payload=hit.payload, vector=hit.vector)


# per question: (is about another article, [(lead over its cut-off, cross-language, right paragraph)])
Leads = list[tuple[bool, list[tuple[float, bool, bool]]]]


def leads(rule: Rule, p: Probes, fitted: Fitted, asked: list[Asked]) -> Leads:
    out: Leads = []
    for a in asked:
        items = []
        for h in a.hits:
            if h.vector is not None:
                other = bool(a.language) and h.payload.language not in (a.language, "und", None)
                lead = rule(p, a.vector, a.language, h, None) - (fitted.cross if other else fitted.cut)
                items.append((lead, other, a.doc is not None and h.payload.doc_id.startswith(a.doc)))
        out.append((a.doc is None, items))
    return out


def count(scored: Leads, margin: float, shift: float = 0.0) -> npt.NDArray[np.int64]:
    """(kept, dropped, unrelated dropped, unrelated) as ``bench.crosslingual_cutoff`` counts them
    (``RelevanceFloor.select``: a right paragraph kept when some passage passes and it is within the
    context margin), the cross-language cut-off moved by ``shift``."""
    out = np.zeros(4, dtype=np.int64)
    for unrelated, items in scored:
        moved = [(lead - shift if other else lead, right) for lead, other, right in items]
        best = max((lead for lead, _ in moved), default=-np.inf)
        if unrelated:
            out[2:] += (best < 0, 1)
            continue
        right = [lead for lead, is_right in moved if is_right]
        if right:
            passed = best >= 0 and max(right) >= -margin
            out[:2] += (passed, not passed)
    return out


def shipped_probes(embedder: Embedder) -> Probes:
    """The shipped probes' vectors (``cohort_for``), one row each in ``negatives()`` order."""
    cohort = cohort_for(embedder)
    languages = probe_languages()
    seen: dict[str, int] = {}
    vectors = []
    for language in languages:
        vectors.append(cohort.vectors[language][seen.get(language, 0)])
        seen[language] = seen.get(language, 0) + 1
    return Probes(np.stack(vectors), languages, [p.topic is not None for p in unanswerable_probes()])


def load(chosen: list[str], foreign: list[str], index: int) -> tuple[Probes, dict[bool, Base]]:
    """One base searched once; its questions with the language as detected, and read as unknown
    when the detector is unsure (the key)."""
    by_title, asked = xl.articles(), xl.questions_by_doc()
    rng = random.Random(xl.SEED + index)
    paragraphs = [p for title in chosen for p in by_title[title]]
    docs = sorted({p["doc_id"] for p in paragraphs})
    with xl.tiny_base(paragraphs) as kb:
        collection, detector = kb.store.active(), kb.languages
        assert collection is not None and detector is not None
        probes = [*answerable_probes(collection.payloads(PAYLOAD_FIELDS)), *unanswerable_probes()]
        probe_hits = collection_search(kb, collection)(probes)
        probe_vectors = kb.embedder.embed_queries([p.text for p in probes])
        shipped = shipped_probes(kb.embedder)
        bases = {unsure: Base(probes, probe_hits, probe_vectors, {}) for unsure in (False, True)}
        for language in xl.LANGUAGES:
            pairs = [(q, d) for d in docs for q in asked[d][language]]
            others = [q for t in foreign for p in by_title[t] for q in asked[p["doc_id"]][language]]
            texts = [q for q, _ in pairs] + rng.sample(others, min(FOREIGN, len(others)))
            right: list[str | None] = [d for _, d in pairs] + [None] * (len(texts) - len(pairs))
            queries = [kb.with_language(Query(text, 5)) for text in texts]
            found, vectors = kb.run(queries), kb.embedder.embed_queries(texts)
            for unsure, base in bases.items():
                base.asked[language] = [
                    Asked(
                        None if unsure and detector.detect(text).confidence < UNSURE else query.language,
                        vectors[i],
                        found[i],
                        right[i],
                    )
                    for i, (text, query) in enumerate(zip(texts, queries, strict=True))
                ]
    return shipped, bases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bases", type=int, default=12)
    args = parser.parse_args()
    titles = list(xl.articles())
    random.Random(xl.SEED).shuffle(titles)
    need = args.bases * 2
    totals = {
        name: {lang: np.zeros((len(SHIFTS), 4), dtype=np.int64) for lang in xl.LANGUAGES} for name in RULES
    }
    for i in range(args.bases):
        shipped, loaded = load(titles[i * 2 : (i + 1) * 2], titles[need + i * 2 : need + (i + 1) * 2], i)
        for name, (rule, unsure) in RULES.items():
            base = loaded[unsure]
            fitted = calibrate(rule, shipped, base)
            for language, asked in base.asked.items():
                scored = leads(rule, shipped, fitted, asked)
                totals[name][language] += np.stack([count(scored, fitted.margin, shift) for shift in SHIFTS])
        print(f"base {i}", flush=True)
    at = int(np.flatnonzero(SHIFTS == 0.0)[0])
    result: dict[str, Any] = {}
    for name, by_language in totals.items():
        row: dict[str, Any] = {}
        for language, counts in by_language.items():
            kept, dropped, unrelated_dropped, unrelated = counts[at]
            today = totals["cohort"][language][at]
            floor = today[2] / today[3] - 0.02
            shares = [(c[0] / max(c[0] + c[1], 1), c[2] / max(c[3], 1)) for c in counts]
            best = max((k for k, u in shares if u >= floor), default=None)
            row[language] = {
                "kept": round(float(kept / max(kept + dropped, 1)), 4),
                "unrelated_dropped": round(float(unrelated_dropped / max(unrelated, 1)), 4),
                "frontier_kept": round(float(best), 4) if best is not None else None,
            }
        result[name] = row
        print(name)
        for key in ("kept", "unrelated_dropped", "frontier_kept"):
            cells = " ".join(f"{lang} {100 * (r[key] or 0):5.1f}" for lang, r in row.items())
            print(f"  {key:18} {cells}")
    write_result("cutoff_candidates", {"bases": args.bases, "rules": result})


if __name__ == "__main__":
    main()
