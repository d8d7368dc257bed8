"""One usage row: what a single answer used and cost, for which tenant and API key, and the UTC day
it counts toward. ``conversation_id`` is a pseudonym by the time it is written (``UsageLedger``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from service.core.tokens import TokenUsage


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class UsageRecord:
    key_id: str
    conversation_id: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0
    message_id: str | None = None
    created_at: datetime = field(default_factory=_utc_now)
    tenant: str | None = None  # None: the key's own name is the tenant (a bootstrap key)
    # What the tokens were for: answer, translation, summary, routing, handoff_summary, batch_tag,
    # faq_draft, judge (``usage_ledger.purpose``).
    purpose: str = "answer"

    @property
    def day(self) -> date:
        """The UTC day the answer counts toward."""
        return self.created_at.astimezone(UTC).date()

    @classmethod
    def from_usage(
        cls,
        *,
        key_id: str,
        conversation_id: str,
        model: str,
        usage: TokenUsage,
        message_id: str | None = None,
        created_at: datetime | None = None,
        tenant: str | None = None,
        purpose: str = "answer",
    ) -> UsageRecord:
        return cls(
            key_id=key_id,
            conversation_id=conversation_id,
            model=model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_input_tokens=usage.cache_read_input_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens,
            cost_usd=usage.cost_usd,
            message_id=message_id,
            created_at=created_at or _utc_now(),
            tenant=tenant,
            purpose=purpose,
        )

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def row(self) -> dict[str, Any]:
        """The values of one ``usage_ledger`` row (``id`` is the database's)."""
        at = self.created_at.astimezone(UTC)
        return {
            "created_at": at,
            "day": at.date(),
            "key_id": self.key_id,
            "tenant": self.tenant or self.key_id,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cost_usd": self.cost_usd,
            "purpose": self.purpose,
        }
