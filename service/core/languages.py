"""Display names of the languages the service replies in, for prompts, summaries and translation
requests (English names: they go to the model, not to customers). ``language_name`` names any
other language the detector reports (``INGEST_DETECT_ALSO``: "cs" → "Czech") by lingua's name.

``text_language``: which entry of a table of built-in texts a language reads — the one lookup of the
text modules (``service.handoff.messages``, ``late_notices``, ``service.agents.notice``,
``service.smalltalk.replies``, ``service.answers.extractive``, ``service.web.texts``). Portuguese has
two: ``pt-BR`` (Brazilian, the default) and ``pt`` (European), chosen by ``TEXTS_PORTUGUESE``; the
language code itself stays ``pt`` everywhere else. Chinese has two, chosen per message: ``zh``
(Simplified) and ``zh-Hant`` (Traditional, converted from ``zh``: ``service.core.chinese``); the
flow passes the tag ``zh-Hant`` for a reply in Traditional Chinese (``Plan.tag``), the language
code stays ``zh``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import TypeVar

from knowledge.language import language_name as _lingua_name
from service.core.chinese import TRADITIONAL, tag_script, with_traditional
from service.core.text_settings import Portuguese, TextSettings

LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Chinese (Simplified)",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "ja": "Japanese",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "ko": "Korean",
    "pl": "Polish",
    "uk": "Ukrainian",
}
# lingua's names that read oddly in a prompt
_NAMES = {"nb": "Norwegian (Bokmål)", "nn": "Norwegian (Nynorsk)", "sl": "Slovenian", "el": "Greek"}


def language_name(code: str) -> str:
    """The English name of ``code`` (ISO 639-1), or the code itself when no name is known."""
    return LANGUAGE_NAMES.get(code) or _NAMES.get(code) or _lingua_name(code) or code


# TEXTS_PORTUGUESE → the key of that variant's entries in the text tables
PORTUGUESE_TEXTS: dict[Portuguese, str] = {"brazil": "pt-BR", "portugal": "pt"}
# keys that are a variant, not a language
VARIANTS = frozenset(PORTUGUESE_TEXTS.values()) - {"pt"} | {TRADITIONAL}

_configured: dict[str, TextSettings] = {}  # "app": the composition root's, when it gave them


@cache
def _environment() -> TextSettings:
    return TextSettings()


def use_texts(settings: TextSettings | None) -> None:
    """The composition root's text settings (``AppSettings.texts``) for this process; None: back to
    the environment's (read again at the next lookup)."""
    _configured.clear()
    _environment.cache_clear()
    if settings is not None:
        _configured["app"] = settings


def text_settings() -> TextSettings:
    """The settings ``use_texts`` gave, else the environment's (``TEXTS_*``, read once)."""
    return _configured.get("app") or _environment()


def portuguese_texts(portuguese: Portuguese | None = None) -> str:
    """The table key of the Portuguese texts: ``portuguese``'s, else the configured one's."""
    return PORTUGUESE_TEXTS[portuguese or text_settings().portuguese]


def reply_language_name(language: str) -> str:
    """The name the prompt gives Claude for the reply language: Portuguese as the configured variant
    ("Brazilian Portuguese", "European Portuguese"), so a generated answer reads like the built-in
    texts around it; ``zh-Hant`` "Chinese (Traditional)"; other languages their English name
    (``language_name``)."""
    if text_language(language) == TRADITIONAL:
        return "Chinese (Traditional)"
    if language == "pt":
        return "Brazilian Portuguese" if portuguese_texts() == "pt-BR" else "European Portuguese"
    return language_name(language)


def text_language(language: str) -> str:
    """The key of ``language``'s built-in texts in a text table (``language``: a code or a tag):
    ``pt`` (and any ``pt-…``) → the configured Portuguese (``pt-BR`` or ``pt``); a Chinese tag of the
    Traditional script (``zh-Hant``, ``zh-TW``, ``zh-HK``) → ``zh-Hant``, any other → ``zh``; any
    other tag → its language code."""
    if language in VARIANTS:
        return language
    base = language.strip().lower().replace("_", "-").split("-")[0]
    if base == "pt":
        return portuguese_texts()
    if base == "zh":
        return TRADITIONAL if tag_script(language) == "Hant" else "zh"
    return base


V = TypeVar("V")


class TextTable(Mapping[str, V]):
    """A table of built-in texts (language → text) read through ``text_language``: ``table["pt"]``
    is the configured Portuguese, ``table["zh-Hant"]`` the Traditional Chinese (converted from ``zh``
    when the table has none: ``with_traditional``). Its keys are the table's own (``pt`` and ``pt-BR``
    both, ``zh`` and ``zh-Hant``)."""

    def __init__(self, texts: Mapping[str, V]) -> None:
        self._texts = with_traditional(texts)

    def __getitem__(self, language: str) -> V:
        return self._texts[text_language(language)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)
