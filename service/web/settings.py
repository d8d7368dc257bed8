"""The web chat's own texts (``WEB_CHAT_``): the operator's title and intro in place of the
built-in, company-neutral ones. Each is plain text (the same in every language) or a JSON object of
language → text, ``"*"`` for the languages not listed (``{"pl": "Pomoc AutoRent", "*": "AutoRent
help"}``); a language with neither gets the built-in text. Shown as text, never as HTML."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from knowledge.language import base_language
from knowledge.settings import _config
from service.web.texts import page_languages

TITLE_MAX_CHARS = 80
INTRO_MAX_CHARS = 400

Localised = Annotated[dict[str, str], NoDecode]


def localised(value: object, limit: int) -> dict[str, str]:
    """Plain text (every language) or a JSON object of language → text, one line each, checked."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return {}
        value = json.loads(value) if value.startswith("{") else {"*": value}
    if not isinstance(value, dict) or not all(isinstance(t, str) for t in value.values()):
        raise ValueError("expected text, or a JSON object of language code → text")
    known = page_languages()
    out: dict[str, str] = {}
    for key, given in value.items():
        language = key if key == "*" else base_language(str(key))
        if language != "*" and language not in known:
            raise ValueError(f"{key!r} is not one of the page's languages ({', '.join(known)}) or '*'")
        text = " ".join(given.split())
        if not text or not text.isprintable() or len(text) > limit:
            raise ValueError(f"the {key!r} text must be printable, one line, 1 to {limit} characters")
        out[language] = text
    return out


class WebChatSettings(BaseSettings):
    model_config = _config("WEB_CHAT_")

    title: Localised = Field(
        default_factory=dict,
        description="the page's heading and window title, e.g. 'AutoRent — pomoc'; plain text or a JSON "
        "object of language → text ('*': the others); unset = 'Help' in the page's language",
    )
    intro: Localised = Field(
        default_factory=dict,
        description="the line the page opens with, e.g. what customers can ask about; plain text or a "
        "JSON object of language → text ('*': the others); unset = a company-neutral invitation to ask",
    )

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: object) -> dict[str, str]:
        return localised(value, TITLE_MAX_CHARS)

    @field_validator("intro", mode="before")
    @classmethod
    def _intro(cls, value: object) -> dict[str, str]:
        return localised(value, INTRO_MAX_CHARS)

    def own(self) -> dict[str, dict[str, str]]:
        """The texts the operator set, for ``texts.bundle``."""
        return {key: texts for key, texts in (("title", self.title), ("intro", self.intro)) if texts}
