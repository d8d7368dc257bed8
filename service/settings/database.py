"""The relational database: PostgreSQL when ``DATABASE_URL`` is set, else a SQLite file.

Conversations, feedback and the usage ledger live here. Each component creates its own tables on
first use (idempotent), so a fresh database or a fresh ``./var`` folder needs no setup step.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from knowledge.settings import _config


class DatabaseSettings(BaseSettings):
    model_config = _config("DATABASE_")

    url: SecretStr | None = Field(
        default=None,
        description="postgresql://user[:password]@host:port/db; unset = SQLite file at DATABASE_SQLITE_PATH",
    )
    sqlite_path: Path = Field(default=Path("var/faqstream.db"), description="used when DATABASE_URL is unset")
    connect_timeout_s: float = Field(default=5.0, gt=0)

    @field_validator("url", mode="before")
    @classmethod
    def _postgres_only(cls, value: object) -> object:
        if value == "" or value is None:
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if not text.startswith(("postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL (unset it to use SQLite)")
        return value
