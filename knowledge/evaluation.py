"""Retrieval quality on labelled questions: hit@1, hit@k, MRR — for users and for bench/.

Two rankings are scored (``evaluate``'s ``ranking``, which every caller names):

* ``passages`` — the search's results as they come, one per passage (chunk): hit@k is an expected
  document among the first k passages, which with k = ``SERVICE_TOP_K`` in hybrid mode are the
  passages the service would give the answer for that question (before its relevance cut-off);
  ``faqstream eval retrieval`` scores this. A long page whose sections fill the first k passages
  pushes another page out of them, as it does in the service.
* ``documents`` — each document once, at its best passage: hit@k is an expected document among the
  first k *distinct* documents, which can lie deeper than the service's k passages. The bench/
  retrieval figures (docs/benchmarks.md) are of this ranking.

A question's label names documents by id (``returns.md``, ``faq.csv#0fb8d49fe675``) or by source
file: ``faq.csv`` matches any row of that FAQ file (``knowledge.doc_ids.matches``), since FAQ row
ids are content hashes nobody writes by hand. The ``eval answers`` format is read as is:
``doc_id`` or ``doc_ids``, and its questions without documents (not answerable) are counted, not
scored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from knowledge.doc_ids import matches
from knowledge.errors import InputError
from knowledge.schema import SearchFilters, SearchMode
from knowledge.search import KnowledgeBase


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    doc_ids: frozenset[str]
    language: str | None = None


Ranking = Literal["passages", "documents"]


@dataclass
class RetrievalResult:
    mode: str
    questions: int
    hit_at_1: float
    hit_at_k: float  # an expected document among the first k (``k``) passages or documents
    mrr: float  # of the first expected one's rank, within ``depth``
    depth: int
    seconds: float
    ranking: Ranking = "passages"
    k: int = 5
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    unscored: int = 0  # questions of the file without documents (not answerable): not scored

    def to_dict(self) -> dict[str, Any]:
        """As a dict, hit@k keyed by its k (``hit_at_5``)."""
        out = asdict(self)
        out[f"hit_at_{self.k}"] = out.pop("hit_at_k")
        return out


EXAMPLE = '{"question": "Are you open on Sundays?", "doc_ids": ["opening-hours.html"], "language": "en"}'
_SHAPE = (
    'expected one JSON object per line with "question" and "doc_ids" (a list of document ids or '
    'file names; "doc_id" for one), e.g. ' + EXAMPLE
)


@dataclass
class LabelledSet:
    """The questions of a file that retrieval can score, and how many it cannot: questions
    labelled as not answered by the documents (``"answerable": false``, or a handoff and no
    documents — the lines ``eval answers`` adds)."""

    questions: list[LabelledQuestion]
    unscored: int = 0


def read_labelled(path: Path) -> list[LabelledQuestion]:
    """JSONL rows with question/query and doc_ids/relevant_doc_ids/doc_id (one id or a list)."""
    return read_labelled_set(path).questions


def read_labelled_set(path: Path) -> LabelledSet:
    """The labelled questions of ``path``; the ``eval answers`` format is read too (its questions
    without documents are counted in ``unscored``). A line of another shape is an ``InputError``
    naming the line, the expected shape and an example."""
    labelled = LabelledSet([])
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{number}: not JSON ({exc}); {_SHAPE}") from exc
        if not isinstance(row, dict):
            raise InputError(f"{path}:{number}: not a JSON object; {_SHAPE}")
        text = row.get("question") or row.get("query")
        ids = _ids(row)
        if ids is None:
            raise InputError(f"{path}:{number}: doc_ids must be a list of ids (or doc_id one id); {_SHAPE}")
        if not ids and text and (row.get("answerable") is False or row.get("handoff") not in (None, False)):
            labelled.unscored += 1  # not answered by the documents: nothing for retrieval to find
            continue
        if not isinstance(text, str) or not text.strip() or not ids:
            raise InputError(f"{path}:{number}: no question or no doc_ids; {_SHAPE}")
        labelled.questions.append(
            LabelledQuestion(text, frozenset(ids), row.get("language") or row.get("lang"))
        )
    if not labelled.questions:
        raise InputError(f"{path} has no labelled questions with documents; {_SHAPE}")
    return labelled


def _ids(row: dict[str, Any]) -> list[str] | None:
    """The row's expected documents ([] when it names none), None when they are not ids."""
    key = next((k for k in ("doc_ids", "relevant_doc_ids", "doc_id") if row.get(k)), None)
    value = row[key] if key is not None else []
    one = key == "doc_id" and isinstance(value, str | int) and not isinstance(value, bool)
    values = [value] if one else value
    if not isinstance(values, list) or not all(isinstance(v, str | int) and str(v).strip() for v in values):
        return None
    return [str(v).strip() for v in values]


def evaluate(
    kb: KnowledgeBase,
    questions: Sequence[LabelledQuestion],
    *,
    ranking: Ranking,
    mode: SearchMode = "hybrid",
    k: int = 5,
    depth: int = 10,
    filters: SearchFilters | None = None,
    batch: int = 64,
    label: str = "",
) -> RetrievalResult:
    """Score the rank of each question's first expected document in ``ranking`` (the module
    docstring): hit@1, hit@``k`` and MRR within ``depth`` (at least ``k``)."""
    depth = max(depth, k)
    started = time.perf_counter()
    ranks: list[int | None] = []
    for start in range(0, len(questions), batch):
        part = questions[start : start + batch]
        results = kb.search_many(
            [q.question for q in part],
            limit=depth if ranking == "passages" else depth * 3,
            filters=filters,
            mode=mode,
            languages=[q.language for q in part],
        )
        for question, hits in zip(part, results, strict=True):
            found = [h.payload.doc_id for h in hits]
            ranked = found if ranking == "passages" else _doc_ranking(found)
            ranks.append(_first_relevant(ranked[:depth], question.doc_ids))
    n = len(ranks)
    return RetrievalResult(
        mode=mode,
        questions=n,
        hit_at_1=sum(1 for r in ranks if r is not None and r <= 1) / n,
        hit_at_k=sum(1 for r in ranks if r is not None and r <= k) / n,
        mrr=sum(1.0 / r for r in ranks if r is not None) / n,
        depth=depth,
        seconds=time.perf_counter() - started,
        ranking=ranking,
        k=k,
        label=label,
    )


def _doc_ranking(doc_ids: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for doc in doc_ids:
        if doc not in seen:
            seen.append(doc)
    return seen


def _first_relevant(ranking: list[str], relevant: frozenset[str]) -> int | None:
    return next((i + 1 for i, doc in enumerate(ranking) if matches(doc, relevant)), None)


def evaluate_file(
    kb: KnowledgeBase, path: Path, *, modes: Sequence[SearchMode], k: int, depth: int
) -> list[RetrievalResult]:
    """``faqstream eval retrieval``: the passages ranking, hit@``k`` (the service's SERVICE_TOP_K)."""
    labelled = read_labelled_set(path)
    results = [
        evaluate(kb, labelled.questions, ranking="passages", mode=m, k=k, depth=depth, label=path.name)
        for m in modes
    ]
    for result in results:
        result.unscored = labelled.unscored
    return results


def format_table(results: Sequence[RetrievalResult]) -> str:
    k = results[0].k if results else 5
    depth = results[0].depth if results else 10
    hit_k, mrr = f"hit@{k}", f"MRR@{depth}"
    lines = [f"{'set':28} {'mode':7} {'n':>6} {'hit@1':>6} {hit_k:>6} {mrr:>6}"]
    for r in results:
        lines.append(
            f"{r.label[:28]:28} {r.mode:7} {r.questions:6d} {r.hit_at_1:6.3f} {r.hit_at_k:6.3f} {r.mrr:6.3f}"
        )
    if results and results[0].ranking == "passages":
        lines += [
            f"hit@1 / {hit_k}: an expected document in the first passage / among the first {k} passages "
            f"of the search ({k} = SERVICE_TOP_K:",
            "  in hybrid mode, the passages the service gives an answer, before its relevance cut-off)"
            f" · {mrr}: 1 / rank of the first such passage",
            "  · dense, sparse: each half of the hybrid search alone · `faqstream eval answers` scores "
            "the passages each answer was given",
        ]
    unscored = max((r.unscored for r in results), default=0)
    if unscored:
        lines.append(
            f"({unscored} question(s) labelled as not answered by the documents — answerable: false "
            "or a handoff without doc_ids — are not scored here; `faqstream eval answers` scores them)"
        )
    return "\n".join(lines)
