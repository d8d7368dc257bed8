"""The handoff settings (``HANDOFF_``): when a conversation goes to a human, and where it is sent."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from knowledge.settings import EmptyIsNone, _config
from service.core.localised import Localised, for_language, localised

CONTACT_MAX_CHARS = 200  # per language


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
    contact: Localised = Field(
        default_factory=dict,
        description="your support's own contact, shown as is to a customer whose handoff reaches no "
        "one (no HANDOFF_WEBHOOK_URL) or is only passed on, e.g. 'hello@example.com or +34 600 000 "
        "000'; one line, or a JSON object of language → contact ('*': the others), e.g. "
        '\'{"it": "+39 02 1234 5678", "pl": "+48 22 123 45 67", "*": "help@example.com"}\'. Unset (or '
        "no text for the customer's language and no '*'): customers are told to contact your support "
        "directly, with no address",
    )

    @field_validator("contact", mode="before")
    @classmethod
    def _contacts(cls, value: object) -> dict[str, str]:
        try:
            return localised(value, CONTACT_MAX_CHARS)
        except ValueError as exc:  # JSONDecodeError included
            raise ValueError(f"HANDOFF_CONTACT: {exc}") from None

    def contact_for(self, language: str) -> str | None:
        """The contact a customer writing in ``language`` is given (None: no address)."""
        return for_language(self.contact, language)
