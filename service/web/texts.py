"""The web chat page's fixed texts in every language of the default ``INGEST_LANGUAGES``, kept in
``texts.yaml`` beside this module (package data): one block per language, each with every key of
English. The page gets them from the service — rendered into ``/`` for the ``Accept-Language`` and
served as JSON by ``/web-chat/texts?lang=…`` for the language the browser prefers
(``navigator.languages``) or the customer writes in — so this file is their one source, and the
language coverage test checks it like the service's other customer-facing texts.

Portuguese has two blocks, ``pt-BR`` (Brazilian) and ``pt`` (European): the page's texts are the
browser's region's (``pt-BR``; ``pt-PT`` and the other regions, which write the European norm) and,
for a plain ``pt``, those of ``TEXTS_PORTUGUESE`` (``service.core.languages``) — the page's language
stays ``pt`` (what it switches on, what ``WEB_CHAT_*`` texts are keyed by). Chinese likewise: a
``zh-Hant`` block, converted from ``zh`` (``service.core.chinese``), for a browser whose Chinese is
Traditional (``zh-TW``, ``zh-HK``, ``zh-Hant``); the page's language stays ``zh``.

``bundle``: a language's texts with the operator's own title and intro (``WEB_CHAT_TITLE``,
``WEB_CHAT_INTRO``, ``service.web.settings``) in place of the built-in ones.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.language import base_language
from service.answers.reply_language import accept_language_tags, accept_languages
from service.core.chinese import TRADITIONAL, tag_script, with_traditional
from service.core.languages import VARIANTS, portuguese_texts

TEXTS_FILE = Path(__file__).resolve().with_name("texts.yaml")
DEFAULT = "en"
# Written right to left (none of the built-in languages is; a language added later may be).
RTL = frozenset({"ar", "fa", "he", "ur", "yi"})
_Q = re.compile(r";\s*q\s*=\s*([0-9.]+)", re.IGNORECASE)


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
    return with_traditional(loaded)


def page_languages() -> tuple[str, ...]:
    """The languages the page has texts for (``pt`` once: ``pt-BR`` is a variant of it)."""
    return tuple(lang for lang in page_texts() if lang not in VARIANTS)


def page_language(preferences: str | None) -> str:
    """The texts for the first language of ``preferences`` (an ``Accept-Language`` header, or the
    browser's ``navigator.languages`` joined by commas) the page has: that language, or for
    Portuguese its variant's block (``portuguese``), for Chinese ``zh-Hant`` when its most preferred
    Chinese tag is Traditional; English otherwise."""
    known = page_languages()
    language = next((lang for lang in accept_languages(preferences) if lang in known), DEFAULT)
    if language == "zh":
        chinese = [tag for tag in accept_language_tags(preferences) if tag.startswith("zh")]
        return TRADITIONAL if chinese and tag_script(chinese[0]) == "Hant" else "zh"
    return portuguese(preferences) if language == "pt" else language


def portuguese(preferences: str | None) -> str:
    """The Portuguese block for ``preferences``: the region of its most preferred Portuguese tag —
    ``pt-BR`` → ``pt-BR``, any other (``pt-PT``, ``pt-AO``…) → ``pt`` —, for ``pt`` without a region
    the configured one (``TEXTS_PORTUGUESE``)."""
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate((preferences or "")[:2000].split(",")[:50]):
        base, _, region = entry.split(";")[0].strip().lower().replace("_", "-").partition("-")
        q = _Q.search(entry)
        try:
            weight = float(q.group(1)) if q else 1.0
        except ValueError:
            weight = 0.0
        if base == "pt" and weight > 0:
            ranked.append((-weight, position, region))
    region = min(ranked)[2] if ranked else ""
    if not region:
        return portuguese_texts()
    return portuguese_texts("brazil" if "br" in region.split("-") else "portugal")


def direction(language: str) -> str:
    return "rtl" if language in RTL else "ltr"


def bundle(texts_of: str, own: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What the page needs for the texts ``texts_of`` (``page_language``'s answer): those texts,
    with the operator's ``own`` texts (key → language or ``*`` → text; e.g. ``{"title": {"*":
    "AutoRent"}}``) where they have one for its language, the language (``pt`` for either
    Portuguese), its direction, and the languages the page can switch to."""
    language = base_language(texts_of)
    texts = dict(page_texts()[texts_of])
    for key, by_language in own.items():
        text = by_language.get(language, by_language.get("*"))
        if text:
            texts[key] = text
    return {"language": language, "dir": direction(language), "languages": page_languages(), "texts": texts}
