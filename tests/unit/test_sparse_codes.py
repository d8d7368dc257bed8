"""Codes in lexical vectors (``knowledge.sparse``): order, booking and invoice numbers and SKUs are
terms of their own, whole; their fragments never match another code of the same form."""

from __future__ import annotations

from knowledge.sparse import SparseEncoder, code_terms


def test_codes_are_whole_lowercase_terms_and_numbers_alone_are_not_codes() -> None:
    text = "Booking JDZ-2026-123456, order 113542617735902 (SKU ab-1234) for €14.99, 30 days, 9:00."
    assert code_terms(text) == ["codejdz2026123456", "codeab1234"]
    assert code_terms("订单号是A12345请问什么时候发货") == ["codea12345"]
    assert code_terms("How do I return an item within 30 days?") == []


def test_a_questions_code_leaves_its_word_vector_whole() -> None:
    """The question's word vector holds the code's term and not its letters: two booking numbers
    of one form share no term; the same number, in any case or language, matches."""
    sparse = SparseEncoder()
    mine = set(sparse.query("JDZ-2026-654321", "pl").indices)
    example = set(sparse.document("np. JDZ-2026-123456", "pl").indices)
    assert mine and not mine & example
    assert set(sparse.query("jdz-2026-123456", "de").indices) <= example
    identifiers = sparse.identifiers("Mam rezerwację JDZ-2026-123456.", "pl")
    assert identifiers is not None and set(identifiers.indices) <= example
    assert sparse.identifiers("Czy mogę dopisać drugiego kierowcę?", "pl") is None
