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


def test_a_label_glued_to_a_code_is_read_off_it() -> None:
    """ "Booking:JDZ-2026-123456" or "Nr.AB1234" is the code a page lists alone, and the label stays a
    word of the question; a code whose front is no label ("COVID-19", "JDZ.2026.1234") is one term."""
    assert code_terms("Booking:JDZ-2026-123456") == ["codebookingjdz2026123456", "codejdz2026123456"]
    assert code_terms("Nr.AB1234 / Order#A12345") == [
        "codenrab1234",
        "codeab1234",
        "codeordera12345",
        "codea12345",
    ]
    assert code_terms("JDZ.2026.1234 COVID-19") == ["codejdz20261234", "codecovid19"]
    sparse = SparseEncoder()
    glued = set(sparse.query("Booking:JDZ-2026-123456", "en").indices)
    page = set(sparse.document("Your booking number: JDZ-2026-123456", "en").indices)
    code = set(sparse.query("JDZ-2026-123456", "en").indices)
    word = set(sparse.query("booking", "en").indices)
    assert code <= glued and word <= glued
    assert code <= page and word <= page


def test_a_phone_number_in_digit_groups_is_one_term() -> None:
    """ "0800 44 33 22" is four bare numbers to the tokenizer, which drops them (a trial: searching
    the emergency line's number did not find its page); written in groups it is one term, whole."""
    assert code_terms("Notre ligne d'urgence 0800 44 33 22 (gratuite), sinon le 0848 133 133.") == [
        "code0800443322",
        "code0848133133",
    ]
    assert code_terms("Telefono +41 44 210 55 00. Lunedì–venerdì 7:30–18:30") == ["code41442105500"]
    # amounts, too few groups or digits, and part of a longer number stay no term
    for text in ["CHF 1 350 000", "1 000 000 €", "9 30 12", "0800 44", "044 210 55 00/01", "1.234 567 89"]:
        assert code_terms(text) == [], text
    sparse = SparseEncoder()
    page = set(sparse.document("Notre ligne d'urgence 0800 44 33 22 (gratuite).", "fr").indices)
    asked = sparse.identifiers("0800 44 33 22", "de")
    assert asked is not None and set(asked.indices) <= page
    assert set(sparse.query("Ist 0800 44 33 22 gratis?", "de").indices) & page
    own = sparse.identifiers("Rufen Sie mich unter 079 123 45 67 an", "de")
    assert own is not None and not set(own.indices) & page  # a customer's own number matches no page
