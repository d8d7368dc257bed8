"""The web chat page's fixed texts in every language of the default ``INGEST_LANGUAGES``, kept in
``texts.yaml`` beside this module (package data): one block per language, each with every key of
English. The page gets them from the service — rendered into ``/`` for the ``Accept-Language`` and
served as JSON by ``/web-chat/texts?lang=…`` for the language the browser prefers
(``navigator.languages``) or the customer writes in — so this file is their one source, and the
language coverage test checks it like the service's other customer-facing texts.

``bundle``: a language's texts with the operator's own title and intro (``WEB_CHAT_TITLE``,
``WEB_CHAT_INTRO``, ``service.web.settings``) in place of the built-in ones.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from service.answers.reply_language import accept_languages

TEXTS_FILE = Path(__file__).resolve().with_name("texts.yaml")
DEFAULT = "en"
# Written right to left (none of the built-in languages is; a language added later may be).
RTL = frozenset({"ar", "fa", "he", "ur", "yi"})


@cache
def page_texts() -> dict[str, dict[str, str]]:
    """language → key → text, as ``texts.yaml`` holds them (checked: every language has English's keys)."""
    # libyaml's loader when there: 16 ms for this file, against 103 ms with the pure-Python one
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded: dict[str, dict[str, str]] = yaml.load(TEXTS_FILE.read_text(encoding="utf-8"), Loader=loader)
    keys = set(loaded[DEFAULT])
    for language, texts in loaded.items():
        if set(texts) != keys:
            raise ValueError(f"{TEXTS_FILE.name}: {language} lacks {sorted(keys - set(texts))}")
    return loaded


def page_languages() -> tuple[str, ...]:
    return tuple(page_texts())


def page_language(preferences: str | None) -> str:
    """The first language of ``preferences`` (an ``Accept-Language`` header, or the browser's
    ``navigator.languages`` joined by commas) the page has texts for; English otherwise."""
    known = page_texts()
    return next((lang for lang in accept_languages(preferences) if lang in known), DEFAULT)


def direction(language: str) -> str:
    return "rtl" if language in RTL else "ltr"


def bundle(language: str, own: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What the page needs for ``language`` (a page language): its texts, with the operator's
    ``own`` texts (key → language or ``*`` → text; e.g. ``{"title": {"*": "AutoRent"}}``) where
    they have one for it, its direction, and the languages the page can switch to."""
    texts = dict(page_texts()[language])
    for key, by_language in own.items():
        text = by_language.get(language, by_language.get("*"))
        if text:
            texts[key] = text
    return {"language": language, "dir": direction(language), "languages": page_languages(), "texts": texts}
