"""What a handoff decision reads and returns: the reasons (in precedence order), ``HandoffSignals``
(what the answer flow knows) and ``Handoff`` (what the agents and the customer's client get)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, Field

from service.conversations.store import Turn
from service.core.types import Citation

HandoffReason = Literal[
    "customer_request",
    "dissatisfaction",
    "llm_unavailable",
    "low_confidence",
    "no_relevant_passages",
    "not_in_documents",
]
# Precedence when several apply: the order above (service/handoff/policy.py says why).
REASON_ORDER: tuple[HandoffReason, ...] = get_args(HandoffReason)
# Where a handoff goes (``service.handoff.delivery``): a person takes over, the agents are told, nobody.
Delivery = Literal["takeover", "notify", "none"]
# Why a takeover lapsed (``service.agents.lapse``): the ``handoff`` event reached no one, or no
# colleague replied within ``AGENTS_REPLY_TIMEOUT_S``.
LapseCause = Literal["undelivered", "unanswered"]


@dataclass(frozen=True)
class HandoffSignals:
    """What the answer flow knows when deciding. ``turns`` include the current customer message."""

    language: str
    intent: str | None = None  # router output; None = no router
    confidence: float | None = None
    relevant_hits: int = 0  # passages above the relevance floor
    llm_available: bool = True  # False = the configured LLM failed; extractive-by-configuration is True
    customer_asked: bool = False  # an explicit request outside the router (a "talk to a person" button)
    documents_answer: bool = True  # False: the model signalled that the passages do not answer it
    dissatisfied_turns: int | None = None  # None = counted from ``turns`` with the lexicon
    turns: Sequence[Turn] = ()  # the stored conversation's turns (redacted), oldest first
    first_turn: int = 0  # the position of turns[0] (older, summarised turns are no longer kept)
    # Dissatisfaction counts customer turns from this position on: the last change of who answers
    # (``Conversation.state_since``: a handback); a turn marked ``handed_off`` restarts it too.
    counted_from: int = 0
    citations: Sequence[Citation] = ()
    summary: str | None = None  # precomputed (e.g. an LLM summary); None = extractive summary


class Handoff(BaseModel):
    reason: HandoffReason = Field(description="the first applicable reason in precedence order")
    reasons: list[HandoffReason] = Field(description="every reason that applied, in precedence order")
    summary: str = Field(description="for the human agent: request, facts given, what was answered")
    intent: str | None
    confidence: float | None
    language: str
    citations: list[Citation]
    dissatisfied_turns: int = 0
