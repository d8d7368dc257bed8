"""Settings of the answer endpoints' API keys (AUTH_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from knowledge.settings import EmptyIsNone, _config


class AuthSettings(BaseSettings):
    model_config = _config("AUTH_")

    api_keys: EmptyIsNone[SecretStr] = Field(
        default=None, description="name=key pairs separated by commas; unset = open endpoints"
    )
