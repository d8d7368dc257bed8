"""Request and response bodies of the answer API (also the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.schema import SearchFilters

# smalltalk: a greeting, thanks or goodbye answered with a fixed reply (service/smalltalk/)
Mode = Literal["generative", "extractive", "cached", "smalltalk"]


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="the customer's message, any language")
    conversation_id: str | None = Field(default=None, max_length=128)
    language: str | None = Field(
        default=None,
        min_length=2,
        max_length=8,
        description="ISO 639-1 reply language; unset = detected. A one- or two-word message or small "
        "talk keeps the language of the conversation it continues",
    )
    filters: SearchFilters | None = None
    stream: bool = False
    user: str | None = Field(
        default=None, min_length=1, max_length=128, description="end-user id: the per-user rate limit"
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question must not be blank")
        return value


class Citation(BaseModel):
    index: int = Field(description="the [n] marker used in the answer")
    doc_id: str
    title: str
    source: str
    section: str
    score: float = Field(description="cosine similarity of the passage to the question")
    quote: str = Field(description="the passage given to the model")


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0


class AnswerResponse(BaseModel):
    conversation_id: str
    message_id: str
    answer: str
    language: str
    mode: Mode
    model: str | None = Field(description="the Claude model that answered; null without one")
    citations: list[Citation]
    stop_reason: str | None
    usage: Usage
    kb_version: int
    intent: dict[str, Any] | None = Field(description="the router's intent, confidence and top scores")
    handoff: dict[str, Any] | None = Field(description="set when a human colleague takes over")
    cache: str | None = Field(description="exact | semantic when served from the answer cache")


class ErrorBody(BaseModel):
    code: str
    message: str
    retryable: bool = False
