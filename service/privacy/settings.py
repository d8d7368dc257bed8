"""Settings of personal-data redaction (PRIVACY_)."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings

from knowledge.settings import _config
from service.privacy.contacts import configured_keys
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
    allow: tuple[str, ...] = Field(
        default=(),
        description="the company's own contact data left unredacted besides what the knowledge base's "
        "documents publish and HANDOFF_CONTACT: phone numbers, e-mail addresses, IBANs (any format; "
        'compared normalised), e.g. ["+48 12 300 40 50","pomoc@example.pl"]',
    )

    @field_validator("phone_regions", mode="after")
    @classmethod
    def _upper_case(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(region.upper() for region in values)  # phonenumbers knows "PL", not "pl"

    @field_validator("allow", mode="after")
    @classmethod
    def _contact_data(cls, values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        regions = info.data.get("phone_regions") or DEFAULT_REGIONS
        for value in values:
            if not configured_keys(value, regions):
                raise ValueError(f"{value!r} is no phone number, e-mail address or IBAN to allow")
        return values
