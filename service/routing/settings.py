"""The routing settings (``ROUTER_``): which router, which intents file, how it is calibrated."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.settings import EmptyIsNone, _config


class RouterSettings(BaseSettings):
    """Intent routing (ROUTER_)."""

    model_config = SettingsConfigDict(**_config("ROUTER_"), populate_by_name=True)

    kind: Literal["local", "llm"] = Field(
        default="local",
        validation_alias=AliasChoices("ROUTER_KIND", "ROUTER"),
        description="local = embedding similarity to the labelled examples; llm = ask Claude "
        "(falls back to local when Claude fails or no API key is set)",
    )
    intents_file: EmptyIsNone[Path] = Field(
        default=None,
        description="your labels and example phrasings (YAML); a relative path is read from the working "
        "directory. Unset = the example intents.yaml bundled in the package (a demo shop's), under which "
        "a low intent confidence never hands off",
    )
    top_k: int = Field(default=2, ge=1, le=20, description="best examples averaged per label")
    temperature: EmptyIsNone[float] = Field(
        default=None,
        gt=0.0,
        le=10.0,
        description="fixed softmax temperature for every language; unset = fitted per language by "
        "leave-one-out on the examples",
    )
    llm_model: str = "claude-haiku-4-5"
    llm_timeout_s: float = Field(default=5.0, gt=0.0)
    llm_max_tokens: int = Field(default=256, ge=16, le=4096)
