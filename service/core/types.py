"""Leaf value types shared across the service's packages: token usage, a citation, an answer's mode.

They sit below every package that uses them (the LLM client, pricing, the answer flow, the ledger,
handoff, the API schemas), so none of those needs to import the HTTP layer for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

# smalltalk: a greeting, thanks or goodbye answered with a fixed reply (service/smalltalk/);
# agent: the conversation is with a person, the assistant did not answer (service/agents/)
Mode = Literal["generative", "extractive", "cached", "smalltalk", "agent"]


class Citation(BaseModel):
    index: int = Field(description="the [n] marker used in the answer")
    doc_id: str
    title: str
    source: str
    section: str
    score: float = Field(
        description="the retrieval's ranking score, which orders the citations (non-increasing with "
        "`index`): in hybrid search the reciprocal-rank fusion of the dense, lexical and other rankings "
        "(docs/service.md, 'Citations'). It compares passages of one answer, not answers with each "
        "other; `similarity` does that"
    )
    similarity: float | None = Field(
        default=None,
        description="cosine similarity of the passage to the question (the embedding model's): what "
        "the knowledge base's relevance cut-off is compared with, comparable across answers; not the "
        "citations' order (null in answers cached before this field)",
    )
    quote: str = Field(description="the passage given to the model")


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0


# agent: a helpdesk integration posting agents' replies and handing conversations back (service/api/agents.py)
Scope = Literal["answer", "admin", "metrics", "agent"]
SCOPES: tuple[Scope, ...] = ("answer", "admin", "metrics", "agent")


@dataclass(frozen=True)
class KeyLimits:
    """One API key's own limits; ``None`` keeps the deployment's (``LIMITS_*``) for that limit."""

    rpm: float | None = None
    daily_tokens: int | None = None
    daily_cost_usd: float | None = None


@dataclass(frozen=True)
class Client:
    """Who is calling. ``name`` is the tenant: the answer cache, conversations and the ledger are
    kept under it, so tenants never see each other's. ``key_id`` is the API key (rate limits and
    budgets are kept per key; a bootstrap key from ``AUTH_API_KEYS`` is its own name), ``scopes``
    what the key may call, ``limits`` its own limits."""

    name: str
    key_id: str = ""
    scopes: frozenset[Scope] = frozenset({"answer"})
    limits: KeyLimits = KeyLimits()

    @property
    def key(self) -> str:
        """The id limits and budgets are kept under."""
        return self.key_id or self.name
