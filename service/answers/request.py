"""What the answer flow is asked: the customer's message and how to answer it (also the body of
``POST /v1/answers``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)

from knowledge.schema import LANGUAGE_SCHEMA, LanguageCode, SearchFilters


def _only_bool(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


# A JSON boolean and nothing else (0, 1, "true" are refused). Pydantic's StrictBool is not enough:
# Litestar validates request bodies with ``strict=False``, which overrides a field's own strictness.
JsonBool = Annotated[bool, BeforeValidator(_only_bool)]


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        min_length=1,
        description="the customer's message, any language; not blank",
        # documents _not_blank: a character that is no whitespace in JSON Schema's (ECMA) sense nor
        # in Python's (which adds U+001C–U+001F and U+0085; ECMA adds U+FEFF), whichever engine reads it
        json_schema_extra={"pattern": r"[^\s\x1c-\x1f\x85\ufeff]"},
    )
    conversation_id: str | None = Field(default=None, max_length=128)
    language: LanguageCode | None = Field(
        default=None,
        description="ISO 639-1 reply language (a tag such as pt-BR is reduced to pt; a name such as "
        "español, or a code no language has, is a 400); unset = decided from the conversation, "
        "Accept-Language and the message. A one- or two-word message or small talk keeps the language "
        "of the conversation it continues. Chinese: zh-TW, zh-HK, zh-Hant ask for a reply in Traditional "
        "characters, zh-CN, zh-Hans in Simplified; the language is still zh",
        json_schema_extra=LANGUAGE_SCHEMA,
    )
    filters: SearchFilters | None = None
    stream: JsonBool = Field(default=False, description="Server-Sent Events")
    user: str | None = Field(
        default=None, min_length=1, max_length=128, description="end-user id: the per-user rate limit"
    )

    _language_tag: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_tag(cls, data: Any, handler: ModelWrapValidatorHandler[AnswerRequest]) -> AnswerRequest:
        request = handler(data)
        if isinstance(data, Mapping) and isinstance(data.get("language"), str):
            request._language_tag = data["language"]
        return request

    @property
    def language_tag(self) -> str | None:
        """``language`` as the request wrote it ("zh-TW"), before it was reduced to its code: the
        script of a reply in Chinese (``service.core.chinese``)."""
        return self._language_tag

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # NFKC first, so every limit (SERVICE_MAX_QUESTION_CHARS, the embedder's token cap) counts
        # the text the service works on: U+FDFA is one character raw and 18 after NFKC.
        value = normalised_question(value)
        if not _VISIBLE.search(value):
            raise ValueError("question must not be blank")
        return value


QUESTION_CHARS_CEILING = 100_000  # above every SERVICE_MAX_QUESTION_CHARS (its own upper bound)
_PIECE = 4096


# Not blank: a character that is no whitespace for Python (``\s``: U+001C–U+001F and U+0085
# included) nor for JSON Schema's patterns (U+FEFF): the schema's ``pattern`` says the same, so a
# schema-valid question is never refused as blank (schemathesis found "\x1f").
_VISIBLE = re.compile(r"[^\s\ufeff]")


def normalised_question(text: str) -> str:
    """``text`` in NFKC, with the work bounded: once the normalised pieces pass
    ``QUESTION_CHARS_CEILING`` (longer than any configured limit, so refused with 413 whatever the
    exact text) what was normalised so far is returned, never the whole expansion (a megabyte of
    U+FDFA would be 18 million characters)."""
    if len(text) > QUESTION_CHARS_CEILING or unicodedata.is_normalized("NFKC", text):
        return text  # too long as it is (NFKC shrinks little), or nothing to do
    pieces: list[str] = []
    size = 0
    for start in range(0, len(text), _PIECE):
        pieces.append(unicodedata.normalize("NFKC", text[start : start + _PIECE]))
        size += len(pieces[-1])
        if size > QUESTION_CHARS_CEILING:
            return "".join(pieces)
    # The pieces were cut anywhere; normalise the whole (now known to be bounded) for exactness.
    return unicodedata.normalize("NFKC", text) if len(pieces) > 1 else pieces[0]
