"""The rate limits' and daily budgets' settings (``LIMITS_*``); 0 switches a limit off."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from knowledge.settings import EmptyIsNone, _config


class LimitSettings(BaseSettings):
    """Rate limits and daily budgets; 0 switches a limit off."""

    model_config = _config("LIMITS_")

    key_rpm: float = Field(default=600.0, ge=0, description="requests per minute per API key; 0 = off")
    key_burst: int = Field(default=100, ge=0, description="bucket size per API key; 0 = rpm rounded up")
    user_rpm: float = Field(default=20.0, ge=0, description="requests per minute per end user; 0 = off")
    user_burst: int = Field(default=10, ge=0, description="bucket size per end user; 0 = rpm rounded up")
    records_rpm: float = Field(
        default=600.0,
        ge=0,
        description="requests per minute per API key on the records routes (conversation record, "
        "feedback, agent routes, analytics), a budget apart from the answers'; 0 = off",
    )
    records_burst: int = Field(
        default=100, ge=0, description="bucket size of the records budget per key; 0 = rpm rounded up"
    )
    auth_failure_rpm: float = Field(
        default=10.0,
        ge=0,
        description="failed authentication attempts per minute per client address before 429; 0 = off",
    )
    auth_failure_burst: int = Field(
        default=20, ge=0, description="failed attempts an address may make at once; 0 = rpm rounded up"
    )
    daily_tokens: int = Field(default=0, ge=0, description="tokens per API key per UTC day; 0 = off")
    daily_cost_usd: float = Field(default=0.0, ge=0, description="USD per API key per UTC day; 0 = off")
    alert_thresholds: Annotated[tuple[float, ...], NoDecode] = Field(
        default=(0.5, 0.8, 1.0), description="fractions of each daily budget that raise an alert once"
    )
    alert_webhook_url: EmptyIsNone[str] = Field(
        default=None, description="POST budget alerts here; unset = off"
    )
    fail_open: bool = Field(
        default=True, description="allow requests when Redis is unreachable (logged); false = refuse"
    )

    @field_validator("alert_thresholds", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip().removeprefix("[").removesuffix("]")
            return tuple(float(part) for part in text.split(",") if part.strip())
        return value

    @field_validator("alert_thresholds")
    @classmethod
    def _valid_thresholds(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < t <= 10 for t in value):
            raise ValueError("alert thresholds are fractions of the budget, in (0, 10]")
        return tuple(sorted(set(value)))
