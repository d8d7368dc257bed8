"""What the answer flow is asked: the customer's message and how to answer it (also the body of
``POST /v1/answers``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from knowledge.schema import SearchFilters


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
        json_schema_extra={"pattern": r"\S"},  # documents _not_blank
    )
    conversation_id: str | None = Field(default=None, max_length=128)
    language: str | None = Field(
        default=None,
        min_length=2,
        max_length=8,
        description="ISO 639-1 reply language; unset = detected. A one- or two-word message or small "
        "talk keeps the language of the conversation it continues",
    )
    filters: SearchFilters | None = None
    stream: JsonBool = Field(default=False, description="Server-Sent Events")
    user: str | None = Field(
        default=None, min_length=1, max_length=128, description="end-user id: the per-user rate limit"
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question must not be blank")
        return value
