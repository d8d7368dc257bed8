"""Reciprocal-rank fusion when some rankings see only some languages.

Hybrid search fuses (reciprocal rank, Qdrant's RRF) the main model's dense ranking of every chunk
with rankings that look at part of the knowledge base only: BM25 over the chunks in the question's
language (stemmed words mean nothing across languages) and, for an English question, the English
companion's ranking of the English chunks. A chunk in another language is not *ranked low* by
those: they cannot see it. Counted as a missing vote, that abstention is a penalty, and in a
knowledge base that mixes languages it decided the answer: a Dutch question's lexical ranking
covered every Dutch chunk that shares the word "pakket", so each of them gathered two votes while
the English page that answers ("Hoe lang blijft mijn pakket in de locker liggen?" → the locker
page, third by the dense ranking and the most relevant passage by the service's own measure) had
one, and fell out of the five passages the service answers from (a new user's trial, a Benelux
parcel company's Dutch, English and French pages).

**The rule** (``fill_abstentions``): a ranking that voted (found at least one chunk) but could not
see a chunk — its language is outside the ranking's scope — gives that chunk the vote the dense
ranking gives it, as if it agreed with the one ranking that sees every language. A chunk in the
question's language still gains from a lexical match better than its dense rank, and loses
nothing; a chunk in another language is no longer pushed down by rankings blind to it. Nothing
changes when every chunk is in the rankings' scope (a knowledge base in the question's language),
nor when a scoped ranking found nothing (a Spanish question over English pages: no Spanish chunk
to rank, no vote cast for anyone) — so a single-language knowledge base ranks as before.

The pool is ranked from what the store tells cheaply (``Collection.candidates``): each chunk's
fused score, its cosine (the store's own score) and, for each scoped ranking, whether the chunk's
language is outside its scope — no payloads, no vectors; the store then fetches the payloads and
vectors of the ``limit`` chunks kept (``Collection.hits``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

from knowledge.store.base import RRF_K, Candidate

UNDETERMINED = "und"


class Scored(Protocol):
    @property
    def score(self) -> float: ...

    @property
    def dense_score(self) -> float | None: ...


S = TypeVar("S", bound=Scored)


def rrf_vote(rank: int, k: int = RRF_K) -> float:
    """What a ranking adds to a chunk's fused score for ranking it ``rank``-th (0: first): Qdrant's
    reciprocal-rank fusion, ``1 / (k + rank)``."""
    return 1.0 / (k + rank)


def dense_ranks(pool: Sequence[Candidate], depth: int) -> dict[str, int]:
    """Each chunk's place (0: first) in the dense ranking, for the ``depth`` chunks it holds: the
    fused pool contains every one of them, so they are its ``depth`` best cosines."""
    scored = sorted(
        (hit for hit in pool if hit.dense_score is not None), key=lambda h: -(h.dense_score or 0.0)
    )
    return {hit.id: rank for rank, hit in enumerate(scored[:depth])}


def fill_abstentions(
    pool: Sequence[Candidate],
    blind: Sequence[int],
    depth: int,
    k: int = RRF_K,
) -> list[Candidate]:
    """The fused ``pool`` (every candidate, with the store's RRF ``score`` and its cosine) with each
    abstention filled (module docstring): for every scoped ranking in ``blind`` (indices into each
    candidate's ``outside``; only rankings that found something) that cannot see a chunk, the
    chunk gains the dense ranking's vote for it (when it is among the dense ranking's ``depth``
    candidates). Ordered by the new score, ties by cosine (as ``knowledge.search`` orders a fused
    ranking)."""
    ranks = dense_ranks(pool, depth)
    out = []
    for hit in pool:
        rank = ranks.get(hit.id)
        outside = sum(hit.outside[i] for i in blind)
        filled = rrf_vote(rank, k) * outside if rank is not None else 0.0
        out.append(replace(hit, score=hit.score + filled) if filled else hit)
    return by_score(out)


def by_score(hits: Sequence[S]) -> list[S]:
    """Best fused score first; ties go to the passage closer in meaning (a deterministic order)."""
    return sorted(hits, key=lambda h: (-h.score, -(h.dense_score if h.dense_score is not None else -2.0)))
