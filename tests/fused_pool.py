"""The fused pool ranked the way hybrid search ranked it before ``Collection.candidates``: every
candidate fetched whole (payload, vector, cosine computed in Python) by ``Collection.search``, its
language read from the payload. Tests compare it with ``knowledge.search._ranked``, which ranks
the pool from ids and scores and fetches only the hits it keeps."""

from __future__ import annotations

from dataclasses import replace

from knowledge.fusion import UNDETERMINED, by_score, fill_abstentions
from knowledge.search import FUSED_RANKINGS, _scoped_rankings
from knowledge.store import SearchRequest
from knowledge.store.base import Candidate, Collection


def ranked_from_whole_pool(collection: Collection, request: SearchRequest) -> list[tuple[str, float]]:
    """(id, score) of the best ``request.limit`` hits of a hybrid request with scoped rankings."""
    scoped = _scoped_rankings(request)
    assert scoped, "a request with a ranking that sees some languages only"
    pool_size = max(request.candidates, request.limit) * FUSED_RANKINGS
    hits = collection.search(replace(request, limit=pool_size))
    pool = [
        Candidate(
            hit.id,
            hit.score,
            hit.dense_score,
            tuple((hit.payload.language or UNDETERMINED) not in scope for scope, _ in scoped),
        )
        for hit in hits
    ]
    blind = [
        i
        for i, (_, voted) in enumerate(scoped)
        if any(c.outside[i] for c in pool) and voted(collection, pool, i)
    ]
    ranked = fill_abstentions(pool, blind, request.candidates) if blind else by_score(pool)
    return [(c.id, c.score) for c in ranked[: request.limit]]
