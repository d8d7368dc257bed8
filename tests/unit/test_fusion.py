"""The fusion rule for rankings that see only some languages (``knowledge.fusion``): a ranking
that cannot see a chunk gives it the dense ranking's vote instead of none."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.fusion import dense_ranks, rrf_vote
from knowledge.fusion import fill_abstentions as fill
from knowledge.store.base import RRF_K, Candidate

DUTCH = frozenset({"nl", "und"})
# The scopes a hit is told to be outside of, as a store's ``candidates`` tells it: the lexical
# ranking of a Dutch question, the lexical one of an English question, the English companion.
SCOPES = (DUTCH, frozenset({"en", "und"}), frozenset({"en"}))


def hit(name: str, language: str, cosine: float, score: float) -> Candidate:
    return Candidate(name, score, cosine, tuple(language not in scope for scope in SCOPES))


def fill_abstentions(
    pool: Sequence[Candidate], scopes: Sequence[frozenset[str]], depth: int
) -> list[Candidate]:
    return fill(pool, [SCOPES.index(scope) for scope in scopes], depth)


def test_the_vote_is_qdrants_reciprocal_rank() -> None:
    assert rrf_vote(0) == 1 / RRF_K
    assert rrf_vote(2) == 1 / (RRF_K + 2)


def test_dense_ranks_are_the_pools_best_cosines_down_to_the_depth() -> None:
    pool = [hit("a", "nl", 0.80, 1.0), hit("b", "en", 0.90, 0.5), hit("c", "nl", 0.70, 0.9)]
    assert dense_ranks(pool, 2) == {"b": 0, "a": 1}


def test_a_chunk_the_lexical_ranking_cannot_see_gets_its_dense_vote_from_it() -> None:
    """The trial's case in small: the English page is second by cosine and has no lexical vote;
    two Dutch chunks below it by cosine each have a lexical vote. Before, both outranked it."""
    english = hit("locker", "en", 0.872, rrf_vote(1))
    price = hit("prices", "nl", 0.880, rrf_vote(0) + rrf_vote(0))
    tracking = hit("tracking", "nl", 0.855, rrf_vote(2) + rrf_vote(1))
    missed = hit("missed", "nl", 0.850, rrf_vote(3) + rrf_vote(2))
    pool = [price, tracking, missed, english]
    assert [h.id for h in pool] == [h.id for h in sorted(pool, key=lambda h: -h.score)]  # as fused
    ranked = fill_abstentions(pool, [DUTCH], depth=40)
    assert [h.id for h in ranked] == ["prices", "locker", "tracking", "missed"]
    assert ranked[1].score == 2 * rrf_vote(1)
    assert ranked[2].score == tracking.score and ranked[0].score == price.score  # untouched


def test_a_better_lexical_match_still_counts_for_a_chunk_in_the_questions_language() -> None:
    """The English chunk is closer by cosine, but the Dutch one is the lexical ranking's first:
    that vote is worth more than the one the English chunk is given, so the Dutch one stays ahead."""
    top = hit("top", "nl", 0.90, rrf_vote(0) + rrf_vote(1))
    english = hit("english", "en", 0.87, rrf_vote(1))
    dutch = hit("dutch", "nl", 0.86, rrf_vote(2) + rrf_vote(0))
    ranked = fill_abstentions([top, dutch, english], [DUTCH], depth=40)
    assert [h.id for h in ranked] == ["top", "dutch", "english"]
    assert ranked[2].score == 2 * rrf_vote(1)


def test_every_blind_ranking_fills_its_own_vote() -> None:
    """An English question with the companion: a Dutch chunk is invisible to the lexical ranking
    (en) and to the companion (en): two votes are filled."""
    dutch = hit("dutch", "nl", 0.9, rrf_vote(0))
    english = hit("english", "en", 0.8, rrf_vote(1) + rrf_vote(0) + rrf_vote(0))
    ranked = fill_abstentions([english, dutch], [frozenset({"en", "und"}), frozenset({"en"})], depth=40)
    assert [h.id for h in ranked] == ["dutch", "english"]
    assert ranked[0].score == 3 * rrf_vote(0)


def test_undetermined_chunks_are_seen_by_the_lexical_ranking() -> None:
    und = hit("und", "und", 0.9, rrf_vote(0))
    assert fill_abstentions([und], [DUTCH], depth=40)[0].score == und.score


def test_nothing_changes_without_a_blind_ranking_or_beyond_the_dense_depth() -> None:
    a = hit("a", "nl", 0.9, rrf_vote(0) + rrf_vote(1))
    b = hit("b", "en", 0.5, rrf_vote(1))  # only the identifiers ranking found it (no dense rank)
    pool = [a, b]
    assert fill_abstentions(pool, [], depth=40) == pool
    assert fill_abstentions(pool, [DUTCH], depth=1) == pool


def test_ties_go_to_the_passage_closer_in_meaning() -> None:
    a = hit("a", "nl", 0.80, rrf_vote(0) + rrf_vote(0))
    b = hit("b", "nl", 0.85, rrf_vote(0) + rrf_vote(0))
    assert [h.id for h in fill_abstentions([a, b], [DUTCH], depth=40)] == ["b", "a"]
