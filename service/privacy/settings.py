"""Settings of personal-data redaction (PRIVACY_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from knowledge.settings import _config
from service.privacy.phones import DEFAULT_REGIONS


class PrivacySettings(BaseSettings):
    model_config = _config("PRIVACY_")

    redact_upstream: bool = Field(
        default=True,
        description="redact the customer's message before it is sent to Claude (answers, translation, "
        "routing); stored turns, summaries, logs, caches and webhooks are redacted whatever this says",
    )
    phone_regions: tuple[str, ...] = Field(
        default=DEFAULT_REGIONS,
        min_length=1,
        description="ISO 3166 regions whose national phone formats are recognised (numbers with + "
        "are recognised anywhere)",
    )
