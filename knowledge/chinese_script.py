"""Which script Chinese text is written in, Simplified (``Hans``) or Traditional (``Hant``):
``hanzidentifier``'s test on CC-CEDICT's character lists, and the script a language tag names.
Read by the service (``service.core.chinese``: the script of a reply) and by ``faqstream eval
answers`` (a Simplified reply to a Traditional question is in the wrong script)."""

from __future__ import annotations

from typing import Literal

import hanzidentifier

Script = Literal["Hans", "Hant"]

# Region and script subtags of a Chinese language tag that mean one script (BCP 47; case-blind)
_TRADITIONAL_SUBTAGS = frozenset({"hant", "tw", "hk", "mo"})
_SIMPLIFIED_SUBTAGS = frozenset({"hans", "cn", "sg", "my"})


def text_script(text: str) -> Script | None:
    """The script ``text``'s Chinese characters are written in; None when they are the same in
    both ("你好"), mixed, or there are none."""
    identity = hanzidentifier.identify(text)
    if identity == hanzidentifier.TRADITIONAL:
        return "Hant"
    if identity == hanzidentifier.SIMPLIFIED:
        return "Hans"
    return None


def tag_script(tag: str | None) -> Script | None:
    """The script a Chinese language tag names: ``zh-TW``, ``zh-HK``, ``zh-MO``, ``zh-Hant…`` →
    Traditional, ``zh-CN``, ``zh-SG``, ``zh-Hans…`` → Simplified; None for ``zh`` alone and for
    other languages."""
    if not tag:
        return None
    base, *subtags = tag.strip().lower().replace("_", "-").split("-")
    if base != "zh":
        return None
    for subtag in subtags:  # the script subtag comes before the region: it decides first
        if subtag in _TRADITIONAL_SUBTAGS:
            return "Hant"
        if subtag in _SIMPLIFIED_SUBTAGS:
            return "Hans"
    return None
