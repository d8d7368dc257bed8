"""Cross-lingual retrieval: search the question and, for another language than the documents', its
translation (``service.retrieval.translate``); merge the two result lists into one ranking.

``search`` is the one the answer flow runs. The original search starts while the translation is
requested, so a slow or failing translation costs at most ``TRANSLATE_TIMEOUT_S`` and never the
answer: without a translation the original's hits are the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from knowledge.schema import SearchHit
from knowledge.search import Query, one_language_per_entry
from knowledge.store.base import RRF_K
from service.llm.billing import Bill
from service.retrieval.retriever import BatchingRetriever, Retrieved
from service.retrieval.translate import QueryTranslator, language_code

MergeStrategy = Literal["auto", "weighted_rank", "rank", "relevance"]


async def search(
    retriever: BatchingRetriever,
    translator: QueryTranslator | None,
    query: Query,
    target: str,
    tenant: str = "",
    *,
    bill: Bill | None = None,
) -> Retrieved:
    """Search ``query`` (in ``tenant``'s share of the retrieval batches); when ``translator`` is
    set and the question's language is not ``target`` (the documents' main language), its
    translation too, merged (``merge_hits``). The vector is always the original question's (routing
    and the semantic answer cache use it). The translation is charged to ``bill``."""
    if translator is None or query.language == target:
        return await retriever.search(query, tenant)
    original = asyncio.ensure_future(retriever.search(query, tenant))
    try:
        translation = await translator.translate(query.text, query.language, target, bill)
        if not translation or translation == query.text:
            return await original
        translated, first = await asyncio.gather(
            retriever.search(replace(query, text=translation, language=target), tenant), original
        )
    finally:
        if not original.done():
            original.cancel()
    merged = merge_hits(first.hits, translated.hits, query.language, query.limit)
    return Retrieved(merged, first.vector)


def merge_hits(
    original: Sequence[SearchHit],
    translated: Sequence[SearchHit],
    language: str | None,
    k: int,
    *,
    strategy: MergeStrategy = "auto",
    prefer_margin: float = 0.02,
) -> list[SearchHit]:
    """One ranking from the hits of the original question and of its translation.

    Chunks found by both count once; the returned hit is the instance with the higher cosine
    similarity (so the relevance floor sees the better phrasing), its ``score`` the merged value it
    is ordered by. Strategies:

    - ``weighted_rank`` (``auto`` when hits carry cosines: dense and hybrid search): reciprocal-rank
      fusion of the two lists, each list weighted by its best cosine similarity. Each list keeps
      its own order (in hybrid search, the lexical half of the fusion too), while a list that
      matches nothing well (an English-only model on a Chinese question: best cosine ≈ 0.2) cannot
      push out a good one (≈ 0.6). Measured best on XQuAD hybrid (bench/crosslingual.py).
    - ``rank`` (``auto`` for sparse search, which has no cosine): unweighted reciprocal-rank fusion.
    - ``relevance``: by cosine alone, whichever phrasing found the chunk (discards the lexical order).

    Without cosines on every hit, every strategy is ``rank``.

    Translations of one entry count once, in the customer's language when either list has it
    (``knowledge.search.one_language_per_entry``), before the cut to ``k``.

    Passages in the customer's language are preferred at (near-)equal relevance: their fused score
    counts ``prefer_margin`` more (× 1.02 by default; with ``relevance``, + 0.02 cosine), and exact
    ties go to them.
    """
    if k <= 0:
        return []
    hits = [*original, *translated]
    if strategy != "rank" and any(h.dense_score is None for h in hits):
        strategy = "rank"  # sparse search: no cosine to weigh or order by
    elif strategy == "auto":
        strategy = "weighted_rank"
    lists = (original, translated)
    weights = [1.0, 1.0]
    if strategy == "weighted_rank":
        weights = [max(0.0, max((_cosine(h) for h in lst), default=0.0)) for lst in lists]
        if not any(weights):
            weights = [1.0, 1.0]
    lang = language_code(language)
    best: dict[str, SearchHit] = {}
    first_seen: dict[str, int] = {}
    fused: dict[str, float] = {}
    for weight, ranking in zip(weights, lists, strict=True):
        for rank, hit in enumerate(ranking):
            first_seen.setdefault(hit.id, len(first_seen))
            fused[hit.id] = fused.get(hit.id, 0.0) + weight / (RRF_K + rank + 1)
            current = best.get(hit.id)
            if current is None or _cosine(hit) > _cosine(current):
                best[hit.id] = hit

    def order(chunk_id: str) -> tuple[float, int, int]:
        hit = best[chunk_id]
        native = int(bool(lang) and language_code(hit.payload.language) == lang)
        if strategy == "relevance":
            value = _cosine(hit) + prefer_margin * native
        else:
            value = fused[chunk_id] * (1.0 + prefer_margin * native)
        return (-value, -native, first_seen[chunk_id])

    # Each hit carries the value it is ranked by (what its citation shows as its score). The two
    # lists may hold one entry in two languages (the original's in the question's, the
    # translation's in the documents'): counted once here too, the freed slots to the next hits.
    ranked = [replace(best[i], score=-order(i)[0]) for i in sorted(best, key=order)]
    return one_language_per_entry(ranked, language)[:k]


def _cosine(hit: SearchHit) -> float:
    return hit.dense_score if hit.dense_score is not None else float("-inf")
