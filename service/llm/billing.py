"""Who pays for a Claude call: the ``Bill`` a call carries, and the ``UsageSink`` its usage goes to.

Every request the service sends to Claude on behalf of a caller — the answer, the query translation,
the LLM routing, the conversation summary — is passed a ``Bill``: the caller's API key (whose daily
budget it counts toward) and tenant, the conversation and message it was made for, and its
``purpose``. The raw client (``service.llm.claude.ClaudeClient``) hands each upstream response's
usage, priced, to its ``UsageSink`` with that bill: one call per upstream request — a retried
attempt is a request of its own — whether the request finished, failed after it started, or was
closed by its consumer (the usage then is what was consumed: ``message_start``'s input and cache
counts and the output received so far). The sink (``service.quotas.charges.UsageCharges``) writes
the ledger row and charges the key's budget. A call without a bill (the CLI's evaluation judge) is
charged to no one.

The bill is passed explicitly, call by call, never kept in a global or a context variable: a
shared in-flight translation is charged to the caller whose request made it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Protocol

from service.core.types import Client, KeyLimits, Usage

# What the tokens were for (``usage_ledger.purpose``).
Purpose = Literal[
    "answer", "translation", "summary", "routing", "handoff_summary", "batch_tag", "faq_draft", "judge"
]


@dataclass(frozen=True)
class Bill:
    """On whose behalf one Claude call is made, and what for."""

    key_id: str  # the API key charged (its daily budget)
    tenant: str
    purpose: Purpose
    conversation_id: str = ""
    message_id: str | None = None
    limits: KeyLimits | None = None  # the key's own budgets, if any

    @classmethod
    def of(
        cls, client: Client, purpose: Purpose, *, conversation_id: str = "", message_id: str | None = None
    ) -> Bill:
        return cls(client.key, client.name, purpose, conversation_id, message_id, client.limits)

    def to(self, purpose: Purpose) -> Bill:
        """The same caller, conversation and message, for another purpose."""
        return replace(self, purpose=purpose)


class UsageSink(Protocol):
    def spent(self, bill: Bill, model: str, usage: Usage) -> None:
        """One upstream response's usage (``usage.cost_usd`` priced). Must return at once and never
        raise: it is called from a stream's ``finally``, also when the stream is being cancelled."""
        ...
