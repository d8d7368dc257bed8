"""Settings of API keys, tenants and who may read the operations endpoints (AUTH_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from knowledge.settings import EmptyIsNone, _config


class AuthSettings(BaseSettings):
    model_config = _config("AUTH_")

    api_keys: EmptyIsNone[SecretStr] = Field(
        default=None,
        description="bootstrap keys: name=key pairs separated by commas (tenant = name, scope answer); "
        "keys made with `faqstream keys` live in the database",
    )
    key_cache_ttl_s: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="seconds a looked-up database key is cached: a revoked or rotated key stops working "
        "within this time; 0 = ask the database on every request",
    )
    identifier_secret: EmptyIsNone[SecretStr] = Field(
        default=None,
        description="per-deployment secret keying the hashes of `user` and conversation ids in Redis "
        "keys and the ledger; unset = plain SHA-256 (set it in production)",
    )
    protect_ops: bool = Field(
        default=False,
        description="/metrics and /schema need a key with the `metrics` scope (or SERVICE_ADMIN_KEY); "
        "false = open, for a port only the monitoring network reaches",
    )
