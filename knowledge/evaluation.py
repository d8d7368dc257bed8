"""Retrieval quality on labelled questions: hit@1, hit@5, MRR@k — for users and for bench/."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from knowledge.errors import InputError
from knowledge.schema import SearchFilters, SearchMode
from knowledge.search import KnowledgeBase


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    doc_ids: frozenset[str]
    language: str | None = None


@dataclass
class RetrievalResult:
    mode: str
    questions: int
    hit_at_1: float
    hit_at_5: float
    mrr: float
    depth: int
    seconds: float
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_labelled(path: Path) -> list[LabelledQuestion]:
    """JSONL rows with question/query and doc_ids/relevant_doc_ids/doc_id."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = row.get("question") or row.get("query")
            ids = row.get("doc_ids") or row.get("relevant_doc_ids") or [row["doc_id"]]
        except (ValueError, KeyError, AttributeError) as exc:
            raise InputError(f"{path}:{number}: expected {{question, doc_ids}}: {exc}") from exc
        if not text or not ids:
            raise InputError(f"{path}:{number}: empty question or doc_ids")
        questions.append(
            LabelledQuestion(str(text), frozenset(map(str, ids)), row.get("language") or row.get("lang"))
        )
    if not questions:
        raise InputError(f"{path} has no labelled questions")
    return questions


def evaluate(
    kb: KnowledgeBase,
    questions: Sequence[LabelledQuestion],
    *,
    mode: SearchMode = "hybrid",
    depth: int = 10,
    filters: SearchFilters | None = None,
    batch: int = 64,
    label: str = "",
) -> RetrievalResult:
    """Rank each question's documents by their best chunk; score the first relevant rank."""
    started = time.perf_counter()
    ranks: list[int | None] = []
    for start in range(0, len(questions), batch):
        part = questions[start : start + batch]
        results = kb.search_many(
            [q.question for q in part],
            limit=depth * 3,
            filters=filters,
            mode=mode,
            languages=[q.language for q in part],
        )
        for question, hits in zip(part, results, strict=True):
            ranks.append(
                _first_relevant(_doc_ranking(h.payload.doc_id for h in hits)[:depth], question.doc_ids)
            )
    n = len(ranks)
    return RetrievalResult(
        mode=mode,
        questions=n,
        hit_at_1=sum(1 for r in ranks if r is not None and r <= 1) / n,
        hit_at_5=sum(1 for r in ranks if r is not None and r <= 5) / n,
        mrr=sum(1.0 / r for r in ranks if r is not None) / n,
        depth=depth,
        seconds=time.perf_counter() - started,
        label=label,
    )


def _doc_ranking(doc_ids: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for doc in doc_ids:
        if doc not in seen:
            seen.append(doc)
    return seen


def _first_relevant(ranking: list[str], relevant: frozenset[str]) -> int | None:
    return next((i + 1 for i, doc in enumerate(ranking) if doc in relevant), None)


def evaluate_file(
    kb: KnowledgeBase, path: Path, *, modes: Sequence[SearchMode], depth: int
) -> list[RetrievalResult]:
    questions = read_labelled(path)
    return [evaluate(kb, questions, mode=m, depth=depth, label=path.name) for m in modes]


def format_table(results: Sequence[RetrievalResult]) -> str:
    lines = [f"{'set':28} {'mode':7} {'n':>6} {'hit@1':>6} {'hit@5':>6} {'MRR':>6}"]
    for r in results:
        lines.append(
            f"{r.label[:28]:28} {r.mode:7} {r.questions:6d} {r.hit_at_1:6.3f} {r.hit_at_5:6.3f} {r.mrr:6.3f}"
        )
    return "\n".join(lines)
