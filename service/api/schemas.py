"""Request and response bodies of the answer API (also the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.core.types import Citation, Mode, Usage


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
    with_agent: bool = Field(
        default=False,
        description="a person has the conversation: the assistant does not answer it until handed back",
    )
    agent_messages: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the agents' messages since the customer's previous message "
        "({message_id, role, text, author, language, at}, as on GET /v1/conversations/{id}/messages)",
    )
    notices: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the assistant's notices since the customer's previous message, to show before this "
        "reply: a handoff that reached no one, a takeover given back (role assistant, shaped as "
        "agent_messages)",
    )


class Circuit(BaseModel):
    """One Claude model's circuit breaker (docs/resilience.md), as ``/readyz`` shows it."""

    model: str
    state: Literal["closed", "half_open", "open"]
    since: datetime | None = Field(description="when it opened (UTC); null while closed")
    retry_in_s: float | None = Field(description="seconds until a probe may go; null while closed")


class Readiness(BaseModel):
    """The body of ``GET /readyz`` (200 ready; 503 while the knowledge base is empty)."""

    ready: bool
    kb_version: int
    model: str = Field(description="the embedding model")
    llm: str | None = Field(description="the Claude model; null without ANTHROPIC_API_KEY")
    mode: Literal["generative", "extractive"]
    upstream: str = Field(description="what the Anthropic API last said about the key: ok, unauthorized, …")
    degraded: bool
    upstream_reason: str | None = Field(default=None, description="set when degraded")
    circuits: list[Circuit] = Field(
        default_factory=list,
        description="the circuit breaker of every Claude model of the chain (none without a key); one "
        "not closed makes the service `degraded`, all of them open makes it `extractive`",
    )
    reason: str | None = Field(default=None, description="set when not ready: what to run")


class FieldError(BaseModel):
    """One field a request body got wrong (the ``details`` of a 400 ``invalid_request``)."""

    message: str
    key: str | None = Field(default=None, description="the field, dotted for nested ones")
    source: str | None = Field(default=None, description="body, query, header…")


class ErrorDetail(BaseModel):
    """What went wrong: the ``error`` of every error response, and the data of the SSE ``error`` event."""

    code: str = Field(
        description="machine-readable: invalid_request, unauthorized, not_found, method_not_allowed, "
        "ingest_running, question_too_long, too_large, unsupported_media_type, ingest_refused, "
        "rate_limited, auth_rate_limited, budget_exhausted, internal_error, overloaded, limits_unavailable, "
        "store_unavailable, conversation_not_found, message_not_found, records_disabled, or the upstream's "
        "error type"
    )
    message: str = Field(description="for people; may change between versions")
    retryable: bool = Field(description="the same request may succeed later")
    details: list[FieldError] | dict[str, Any] | None = Field(
        default=None,
        description="machine-readable details: the field errors of a validation failure (a list), or "
        "an object (ingest refusal figures; the limit a body broke)",
    )


class ErrorBody(BaseModel):
    """The body of every error response (4xx, 5xx)."""

    error: ErrorDetail


class SkippedFile(BaseModel):
    path: str
    reason: str


class IngestReport(BaseModel):
    """What an ingest run did (``POST /admin/ingest``, ``faqstream ingest --json``)."""

    added: list[str]
    updated: list[str]
    repaired: list[str] = Field(description="same content, chunks left incomplete by an interrupted run")
    deleted: list[str]
    unchanged: list[str]
    skipped: list[SkippedFile]
    ignored: list[SkippedFile] = Field(
        description="files that hold no documents and are not broken (an evaluation set, a ticket export)"
    )
    chunks_written: int
    files: int
    bytes_read: int
    documents: int
    total_chunks: int
    kb_version: int
    previous_version: int
    rebuild: bool
    dry_run: bool
    seconds: float
    refused: dict[str, Any] | None = Field(
        description="dry run only: why the real run would be refused (reason, message, hint, figures)"
    )
    relevance: dict[str, Any] = Field(description="the relevance cut-off of the resulting version")
    counts: dict[str, int] = Field(
        description="added, updated, repaired, deleted, unchanged, skipped, ignored, not_in_input"
    )
    contacts: dict[str, int] = Field(
        default_factory=dict,
        description="the documents' contact data left unredacted in replies: kind → how many",
    )
    reachable_at: list[str] = Field(
        default_factory=list,
        description="how the documents say customers reach the company: e-mail addresses, phone numbers "
        "written with their country code (E.164), then those written without it, as written (no country "
        "is guessed)",
    )
    not_in_input: list[str] = Field(
        default_factory=list,
        description="documents of the knowledge base no longer in the input (kept; prune deletes them)",
    )
    questions: dict[str, str] = Field(
        default_factory=dict, description="FAQ rows among the documents listed: id → the row's question"
    )
