"""The calibrated relevance cut-off for questions in another language than the documents'.

A small company's knowledge base is a handful of pages in one language; its customers ask in
theirs. The relevance cut-off is fitted at ingest on the base's own probes (``knowledge.answerability``),
all in the base's language, so what it does to a question in another language is only inferred.
This measures it two ways.

(a) On data nobody on the team wrote (XQuAD):

* a tiny knowledge base = the English paragraphs of ``--articles`` XQuAD articles (5 paragraphs
  each, one Markdown page per paragraph with the article's title as heading), through the real
  ingest pipeline (which fits the cut-off);
* answerable questions = the XQuAD questions of those paragraphs in all twelve of its languages
  (en, es, de, zh, ru, ar, el, hi, ro, th, tr, vi: the professional translations XQuAD ships; the
  last seven are not in the default ``INGEST_LANGUAGES``, so the service detects them as one of
  those or, unsure, as the default language), detected and searched as the service does (hybrid,
  top 5), then filtered by the service's ``RelevanceFloor.keep`` with the detected language (an
  unknown one when the detector is unsure: ``RelevanceFloor.question_language``): *kept*
  when a right paragraph survives, *dropped* when it was retrieved but cut, *miss* when retrieval
  did not find it;
* unanswerable questions = ``--foreign`` questions per language about other articles (not in the
  base): *dropped* when nothing survives the cut-off (the service then hands off without calling
  the model).

``--bases`` knowledge bases from disjoint article sets (a fixed seed). XQuAD is Wikipedia, not
support text: read it for the gap between languages, not as an absolute figure.

(b) On a real company's English pages (the Basecamp policies, shared eval data): the held-out
Basecamp questions of ``tests/answerability_sets.py`` in English and translated by hand into de,
es, fr, zh and ja (``BASECAMP_CROSSLINGUAL``), and the held-out unanswerable ones (eight
languages), cut as the service cuts.

Writes bench/results/crosslingual_cutoff[-LABEL].json.

    python -m bench.crosslingual_cutoff [--bases 12] [--articles 2] [--foreign 20] [--label after]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.answerability import build
from bench.common import EVAL, read_jsonl, write_result
from knowledge.answerability import RelevanceCalibration
from knowledge.schema import SearchHit
from knowledge.search import KnowledgeBase, Query
from service.retrieval.relevance import RelevanceFloor, relevance_floor
from tests import answerability_sets as sets

LANGUAGES = ("en", "es", "de", "zh", "ru", "ar", "el", "hi", "ro", "th", "tr", "vi")  # all of XQuAD
SEED = 20261206


def articles() -> dict[str, list[dict[str, Any]]]:
    """XQuAD's English paragraphs grouped by article title, in the file's order."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in read_jsonl(EVAL / "xquad_docs.jsonl"):
        grouped[row["title"]].append(row)
    return dict(grouped)


def questions_by_doc() -> dict[str, dict[str, list[str]]]:
    """doc_id → language → questions."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in read_jsonl(EVAL / "xquad_retrieval.jsonl"):
        if row["lang"] in LANGUAGES:
            out[row["doc_id"]][row["lang"]].append(row["question"])
    return out


def write_base(folder: Path, paragraphs: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True)
    for row in paragraphs:
        (folder / f"{row['doc_id']}.md").write_text(f"# {row['title']}\n\n{row['text']}\n", encoding="utf-8")


@contextmanager
def tiny_base(paragraphs: list[dict[str, Any]], model: str = "e5") -> Iterator[KnowledgeBase]:
    """A knowledge base of ``paragraphs`` (one page each) through the real ingest, in a temporary
    store; closed after."""
    with tempfile.TemporaryDirectory() as tmp:
        write_base(Path(tmp) / "kb", paragraphs)
        kb, _ = build(Path(tmp) / "kb", Path(tmp) / "qdrant", model)
        try:
            yield kb
        finally:
            kb.store.close()


Searched = tuple[list[SearchHit], list[SearchHit]]  # (hits, the ones the service's cut keeps)


def searched(kb: KnowledgeBase, texts: list[str], floor: RelevanceFloor) -> list[Searched]:
    """Each question searched once as the service searches, with its hits as the service cuts them
    (a question the detector is unsure of read as one in an unknown language)."""
    detections = [kb.require_languages().detect(text) for text in texts]
    found = kb.run([Query(text, 5, language=d.language) for text, d in zip(texts, detections, strict=True)])
    return [
        (hits, floor.keep(hits, floor.question_language(d.language, d)))
        for d, hits in zip(detections, found, strict=True)
    ]


def measure_base(
    index: int,
    chosen: list[str],
    foreign: list[str],
    *,
    by_title: dict[str, list[dict[str, Any]]],
    asked: dict[str, dict[str, list[str]]],
    per_language: int,
    model: str,
) -> dict[str, Any]:
    rng = random.Random(SEED + index)
    paragraphs = [p for title in chosen for p in by_title[title]]
    doc_ids = {p["doc_id"] for p in paragraphs}
    with tempfile.TemporaryDirectory() as tmp:
        write_base(Path(tmp) / "kb", paragraphs)
        kb, seconds = build(Path(tmp) / "kb", Path(tmp) / "qdrant", model)
        try:
            meta = kb.meta()
            calibration = RelevanceCalibration.from_dict(meta.relevance)
            floor = relevance_floor(meta, None, kb.embedder.name, kb.embedder)
            rows: dict[str, dict[str, int]] = {}
            scores: dict[str, dict[str, list[float | None]]] = {}
            for language in LANGUAGES:
                pairs = [(q, d) for d in sorted(doc_ids) for q in asked[d][language]]
                others = [q for t in foreign for p in by_title[t] for q in asked[p["doc_id"]][language]]
                others = rng.sample(others, min(per_language, len(others)))
                asked_here = searched(kb, [q for q, _ in pairs], floor)
                row = {"answerable": len(pairs), "kept": 0, "dropped": 0, "miss": 0, "given": 0}
                right: list[float | None] = []
                for (_, doc), (hits, cut) in zip(pairs, asked_here, strict=True):
                    found = [h.dense_score or -1.0 for h in hits if h.payload.doc_id.startswith(doc)]
                    survived = any(h.payload.doc_id.startswith(doc) for h in cut)
                    row["kept" if survived else "dropped" if found else "miss"] += 1
                    row["given"] += len(cut)
                    right.append(round(max(found), 4) if found else None)
                unrelated = searched(kb, others, floor)
                row["unanswerable"] = len(others)
                row["unanswerable_dropped"] = sum(1 for _, cut in unrelated if not cut)
                rows[language] = row
                scores[language] = {
                    "answerable": right,
                    "unanswerable": [
                        round(max((h.dense_score or -1.0 for h in hits), default=-1.0), 4)
                        for hits, _ in unrelated
                    ],
                }
        finally:
            kb.store.close()
    assert calibration is not None, f"base {index}: no calibration"
    return {
        "articles": chosen,
        "foreign_articles": foreign,
        "ingest_s": round(seconds, 1),
        "threshold": calibration.threshold,
        "cross_threshold": calibration.cross_threshold,
        "bound": calibration.bound,
        "quantiles": calibration.quantiles,
        "by_language": rows,
        "scores": scores,
    }


def measure_basecamp(model: str) -> dict[str, Any]:
    """(b): the Basecamp pages, questions in six languages, through the service's cut."""
    answerable = [*sets.BASECAMP_ANSWERABLE, *sets.BASECAMP_CROSSLINGUAL]
    with tempfile.TemporaryDirectory() as tmp:
        kb, _ = build(EVAL / "raw" / "basecamp_policies", Path(tmp) / "qdrant", model)
        try:
            meta = kb.meta()
            floor = relevance_floor(meta, None, kb.embedder.name, kb.embedder)
            asked = searched(kb, [a.question for a in answerable], floor)
            unrelated = searched(kb, [u.question for u in sets.UNANSWERABLE], floor)
        finally:
            kb.store.close()
    rows: dict[str, dict[str, Any]] = {}
    for item, (hits, kept) in zip(answerable, asked, strict=True):
        row = rows.setdefault(
            item.language, {"answerable": 0, "kept": 0, "dropped": 0, "miss": 0, "given": 0, "scores": []}
        )
        right = [h.dense_score or -1.0 for h in hits if item.is_right(h)]
        row["answerable"] += 1
        row["kept" if any(item.is_right(h) for h in kept) else "dropped" if right else "miss"] += 1
        row["given"] += len(kept)
        row["scores"].append(round(max(right), 4) if right else None)
    unanswerable: dict[str, dict[str, Any]] = {}
    for other, (hits, kept) in zip(sets.UNANSWERABLE, unrelated, strict=True):
        best = max((h.dense_score or -1.0 for h in hits), default=-1.0)
        row = unanswerable.setdefault(other.language, {"n": 0, "dropped": 0, "scores": []})
        row["n"] += 1
        row["dropped"] += not kept
        row["scores"].append(round(best, 4))
    calibration = floor.calibration
    assert calibration is not None, "Basecamp: no calibration"
    return {
        "threshold": calibration.threshold,
        "cross_threshold": calibration.cross_threshold,
        "quantiles": calibration.quantiles,
        "answerable": rows,
        "unanswerable": unanswerable,
    }


def totals(bases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for language in LANGUAGES:
        sums: dict[str, int] = defaultdict(int)
        for base in bases:
            for key, value in base["by_language"][language].items():
                sums[key] += value
        retrieved = sums["kept"] + sums["dropped"]
        out[language] = {
            **sums,
            "kept_of_retrieved": round(sums["kept"] / retrieved, 4) if retrieved else None,
            "unanswerable_dropped_share": round(sums["unanswerable_dropped"] / sums["unanswerable"], 4),
            "passages_given_per_answerable": round(sums["given"] / sums["answerable"], 2),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bases", type=int, default=12)
    parser.add_argument("--articles", type=int, default=2, help="XQuAD articles per base (5 pages each)")
    parser.add_argument("--foreign", type=int, default=20, help="off-KB questions per language, base")
    parser.add_argument("--model", default="e5", choices=("e5", "minilm"))
    parser.add_argument("--label", default="", help="suffix of the result file (before/after runs)")
    args = parser.parse_args()
    by_title = articles()
    asked = questions_by_doc()
    titles = list(by_title)
    random.Random(SEED).shuffle(titles)
    need = args.bases * args.articles
    if need * 2 > len(titles):
        parser.error(f"{args.bases} bases of {args.articles} need {need * 2} of {len(titles)} articles")
    bases = []
    for i in range(args.bases):
        chosen = titles[i * args.articles : (i + 1) * args.articles]
        foreign = titles[need + i * args.articles : need + (i + 1) * args.articles]
        base = measure_base(
            i, chosen, foreign, by_title=by_title, asked=asked, per_language=args.foreign, model=args.model
        )
        bases.append(base)
        cells = " ".join(
            f"{lang} {r['kept']}/{r['kept'] + r['dropped']} ({r['unanswerable_dropped']}/{r['unanswerable']})"
            for lang, r in base["by_language"].items()
        )
        print(
            f"base {i}: cut-off {base['threshold']:.3f} cross {base['cross_threshold']} ({base['bound']}) "
            f"kept/retrieved (unanswerable dropped): {cells}",
            flush=True,
        )
    basecamp = measure_basecamp(args.model)
    print(f"Basecamp: cut-off {basecamp['threshold']:.3f} cross {basecamp['cross_threshold']}")
    for language, row in basecamp["answerable"].items():
        print(
            f"  {language}: kept {row['kept']}/{row['answerable']} "
            f"(dropped {row['dropped']}, miss {row['miss']})"
        )
    dropped = sum(r["dropped"] for r in basecamp["unanswerable"].values())
    print(f"  unanswerable dropped {dropped}/{len(sets.UNANSWERABLE)}")
    summary = totals(bases)
    for language, row in summary.items():
        print(
            f"{language}: answerable kept {row['kept']}/{row['kept'] + row['dropped']} of retrieved "
            f"(miss {row['miss']}), {row['passages_given_per_answerable']} passages given, "
            f"unanswerable dropped {row['unanswerable_dropped']}/{row['unanswerable']}"
        )
    name = "crosslingual_cutoff" + (f"-{args.label}" if args.label else "")
    write_result(
        name,
        {
            "model": args.model,
            "articles_per_base": args.articles,
            "xquad": {"bases": bases, "totals": summary},
            "basecamp": basecamp,
        },
    )


if __name__ == "__main__":
    main()
