"""The agent-takeover settings (``AGENTS_``): which handoffs give the conversation to a person, and
how long the customer waits for one (``service.agents.lapse``)."""

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
    reply_timeout_s: float = Field(
        default=0,
        ge=0,
        description="seconds after a takeover handoff without an agent's reply before the assistant "
        "takes the conversation back and tells the customer how to reach support (HANDOFF_CONTACT); "
        "0 = never (the default: how long a team may take to reply depends on its hours and staffing)",
    )
