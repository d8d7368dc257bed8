"""The question is validated in NFKC, so every length limit counts the text the service works on
(``service.answers.request``), and the work of normalising a hostile string is bounded."""

from __future__ import annotations

import re
import unicodedata

import pytest
from pydantic import ValidationError

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


def test_blank_is_what_the_schema_pattern_says_under_either_regex_engine() -> None:
    """Schemathesis sent a question the schema's pattern allowed and the validator refused as blank
    ("\\x1f": whitespace to Python, not to JSON Schema's ECMA regex). The pattern and the validator
    now agree, under Python's ``re`` and for the characters where the two engines differ."""
    pattern = re.compile(AnswerRequest.model_json_schema()["properties"]["question"]["pattern"])
    for text in ("\x1f", "\x1c", "\x85", "\ufeff", "\u3000", " \t\n", "\u2028"):
        assert not pattern.search(text), repr(text)
        with pytest.raises(ValidationError, match="must not be blank"):
            AnswerRequest(question=text)
    for text in ("a", " ?", "\u200b", "退款"):
        assert pattern.search(text), repr(text)
        AnswerRequest(question=text)
