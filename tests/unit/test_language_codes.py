"""A request's language tag as an ISO 639-1 code (``knowledge.language.language_code``), and the
request bodies that use it (``AnswerRequest.language``, ``SearchFilters.language``): a new user's
trial sent ``"español"``, ``"german"`` and ``"klingon"`` (accepted, echoed, answered in English) and
filtered by ``"pt-BR"`` (matched nothing: documents are stored under ``pt``)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from knowledge.language import language_code
from knowledge.schema import SearchFilters
from service.answers.request import AnswerRequest
from service.api.openai_schemas import ChatCompletionRequest


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("es", "es"),
        ("ES", "es"),
        ("pt-BR", "pt"),
        ("es-419", "es"),
        ("zh_Hans", "zh"),
        ("zh-Hant-TW", "zh"),
        ("sw", "sw"),  # not a configured language: Claude replies in it all the same
        ("no", "nb"),  # Norwegian: Bokmål, its written standard
    ],
)
def test_a_tag_is_reduced_to_its_code(tag: str, code: str) -> None:
    assert language_code(tag) == code


@pytest.mark.parametrize(
    "value", ["español", "german", "klingon", "xx", "e", "", "deu", "es MX", "pt-", "und", " es"]
)
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="ISO 639-1"):
        language_code(value)


def test_filters_also_take_und() -> None:
    assert SearchFilters(language=["und", "pt-BR"]).language == ["und", "pt"]
    with pytest.raises(ValidationError):
        SearchFilters(language=["unknown"])


def test_the_request_bodies_store_the_code() -> None:
    request = AnswerRequest(
        question="¿y el envío?", language="pt-BR", filters=SearchFilters(language=["es-MX", "und"])
    )
    assert request.language == "pt"
    assert request.filters is not None and request.filters.language == ["es", "und"]
    chat = ChatCompletionRequest.model_validate(
        {"model": "faqstream", "messages": [{"role": "user", "content": "hola"}], "language": "es-MX"}
    )
    assert chat.language == "es"


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"question": "hola", "language": "español"}, ("language",)),
        ({"question": "hola", "filters": {"language": ["es", "german"]}}, ("filters", "language", 1)),
        ({"question": "hola", "language": "x" * 40}, ("language",)),
    ],
)
def test_the_request_body_names_the_field(body: dict[str, object], location: tuple[object, ...]) -> None:
    with pytest.raises(ValidationError) as refused:
        AnswerRequest.model_validate(body)
    assert [error["loc"] for error in refused.value.errors()] == [location]
