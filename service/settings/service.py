"""Service-side settings: the HTTP service (SERVICE_) and Claude (ANTHROPIC_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from knowledge.settings import EmptyIsNone, _config


class ServiceSettings(BaseSettings):
    model_config = _config("SERVICE_")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    admin_key: EmptyIsNone[SecretStr] = Field(
        default=None, description="bearer key for /admin/*; unset = admin off"
    )
    top_k: int = Field(default=5, ge=1, le=20, description="passages given to Claude")
    relevance_floor: EmptyIsNone[float] = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="override of the relevance cut-off (minimum cosine similarity of a passage to be "
        "used); unset = the cut-off calibrated on the knowledge base at ingest (knowledge/answerability.py)",
    )
    max_question_chars: int = Field(default=2000, ge=10, le=100_000)
    keepalive_s: float = Field(default=10.0, gt=0, description="SSE comment interval while waiting upstream")
    max_batch: int = Field(default=32, ge=1, le=512)
    digest_max_tokens: int = Field(
        default=6000, ge=0, description="size cap of the cached knowledge-base digest"
    )


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
