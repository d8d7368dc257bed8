"""The web chat's own texts (``WEB_CHAT_``): the operator's title and intro in place of the
built-in, company-neutral ones. Each is plain text (the same in every language) or a JSON object of
language → text, ``"*"`` for the languages not listed (``{"pl": "Pomoc AutoRent", "*": "AutoRent
help"}``); a language with neither gets the built-in text. Shown as text, never as HTML."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from knowledge.settings import _config
from service.core.localised import Localised, localised
from service.web.texts import page_languages

TITLE_MAX_CHARS = 80
INTRO_MAX_CHARS = 400


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
        return localised(value, TITLE_MAX_CHARS, page_languages())

    @field_validator("intro", mode="before")
    @classmethod
    def _intro(cls, value: object) -> dict[str, str]:
        return localised(value, INTRO_MAX_CHARS, page_languages())

    def own(self) -> dict[str, dict[str, str]]:
        """The texts the operator set, for ``texts.bundle``."""
        return {key: texts for key, texts in (("title", self.title), ("intro", self.intro)) if texts}
