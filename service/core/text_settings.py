"""Settings of the service's built-in customer-facing texts (``TEXTS_``): which variant of a language
with more than one the fixed texts use. The language code stays the base one everywhere (``pt``:
retrieval, records, analytics, ``meta.language``); only the wording changes
(``service.core.languages.text_language``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from knowledge.settings import _config

Portuguese = Literal["brazil", "portugal"]


class TextSettings(BaseSettings):
    model_config = _config("TEXTS_")

    portuguese: Portuguese = Field(
        default="brazil",
        description="the Portuguese of the built-in texts (handoff notices, small-talk replies, the "
        "extractive intro, the web chat page): brazil = Brazilian Portuguese ('você', 'equipe', 'entrar "
        "em contato'), portugal = European Portuguese ('equipa', 'contactar'); the web chat page follows "
        "the browser's region (pt-BR, pt-PT) when it gives one",
    )
