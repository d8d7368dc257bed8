"""The agent-takeover settings (``AGENTS_``): which handoffs give the conversation to a person."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from knowledge.settings import _config
from service.handoff.delivery import DEFAULT_TAKEOVER_REASONS
from service.handoff.signals import HandoffReason


class AgentSettings(BaseSettings):
    model_config = _config("AGENTS_")

    takeover_reasons: tuple[HandoffReason, ...] = Field(
        default=DEFAULT_TAKEOVER_REASONS,
        description="handoff reasons after which a person has the conversation and the assistant "
        "stops answering it (only when HANDOFF_WEBHOOK_URL is set: without it no person hears of "
        "the handoff); the other reasons still reach the webhook while the assistant keeps "
        "answering; empty = the assistant always keeps answering",
    )
