"""The question is validated in NFKC, so every length limit counts the text the service works on
(``service.answers.request``), and the work of normalising a hostile string is bounded."""

from __future__ import annotations

import unicodedata

from service.answers.request import QUESTION_CHARS_CEILING, AnswerRequest, normalised_question


def test_the_question_is_nfkc_and_its_length_is_that_of_the_normalised_text() -> None:
    request = AnswerRequest(question="\ufdfa" * 10)
    assert request.question == unicodedata.normalize("NFKC", "\ufdfa" * 10)
    assert len(request.question) == 180
    assert AnswerRequest(question="ｒｅｆｕｎｄ？").question == "refund?"  # full-width forms
    assert AnswerRequest(question="Où est ma commande ?").question == "Où est ma commande ?"


def test_normalising_stops_once_the_text_is_longer_than_any_limit() -> None:
    flood = "\ufdfa" * 50_000  # 900,000 characters in NFKC
    bounded = normalised_question(flood)
    assert QUESTION_CHARS_CEILING < len(bounded) < QUESTION_CHARS_CEILING + 18 * 4096 + 1
    assert bounded == unicodedata.normalize("NFKC", flood)[: len(bounded)]
    too_long = "x" * (QUESTION_CHARS_CEILING + 1)
    assert normalised_question(too_long) is too_long  # over every limit as it is: left alone
    # pieces are cut anywhere, but a text under the ceiling comes back exactly normalised
    combining = ("e\u0301" * 3000) + "\ufb01" * 2000
    assert normalised_question(combining) == unicodedata.normalize("NFKC", combining)
