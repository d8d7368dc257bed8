"""The handoff settings (``HANDOFF_``): when a conversation goes to a human, and where it is sent."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from knowledge.settings import EmptyIsNone, _config

CONTACT_MAX_CHARS = 200


class HandoffSettings(BaseSettings):
    model_config = _config("HANDOFF_")

    confidence_threshold: float = Field(
        default=0.75,
        ge=0.0,
        le=1.0,
        description="router confidence under which a human takes over; applies only with your own "
        "intents file (ROUTER_INTENTS_FILE)",
    )
    dissatisfaction_count: int = Field(
        default=2, ge=1, le=100, description="dissatisfied customer turns that trigger a handoff"
    )
    min_relevant_hits: int = Field(
        default=1, ge=0, le=20, description="passages above the relevance floor needed to answer; 0 = off"
    )
    human_intents: tuple[str, ...] = Field(
        default=("human_agent",), description="router intents meaning 'let me talk to a person'"
    )
    lexicon_path: EmptyIsNone[Path] = Field(
        default=None,
        description="dissatisfaction lexicon (YAML; a relative path is read from the working directory); "
        "unset = the lexicon bundled in the package (service/handoff/dissatisfaction.yaml)",
    )
    summary_max_chars: int = Field(default=1500, ge=200, le=20_000)
    webhook_url: EmptyIsNone[str] = Field(
        default=None, description="where handoffs are POSTed for the agents' tool; unset = no webhook"
    )
    contact: EmptyIsNone[str] = Field(
        default=None,
        max_length=CONTACT_MAX_CHARS,
        description="your support's own contact, shown as is to a customer whose handoff reaches no "
        "one (no HANDOFF_WEBHOOK_URL) or is only passed on, e.g. 'hello@example.com or +34 600 000 "
        "000'; one line. Unset: customers are told to contact your support directly, with no address",
    )

    @field_validator("contact", mode="after")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value:
            return None
        if any(not c.isprintable() for c in value):
            raise ValueError("HANDOFF_CONTACT must be printable text on one line")
        return value
