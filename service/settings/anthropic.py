"""Settings of the Claude client (ANTHROPIC_): key, endpoint, model, timeouts and the start-up check."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from knowledge.settings import EmptyIsNone, _config


class AnthropicSettings(BaseSettings):
    model_config = _config("ANTHROPIC_")

    api_key: EmptyIsNone[SecretStr] = Field(default=None, description="unset = extractive mode (no LLM)")
    base_url: EmptyIsNone[str] = None
    model: str = "claude-sonnet-4-6"
    max_tokens: int = Field(default=1024, ge=1, le=64_000)
    timeout_s: float = Field(default=60.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    check_timeout_s: float = Field(
        default=5.0,
        ge=0,
        description="start-up check of the key (GET /v1/models, alongside the model warm-up); 0 = off",
    )
    # Prices per model: PRICING_TABLE (service/llm/pricing.py).
