"""Simplified and Traditional Chinese: which script a message is written in, and conversion between
the two (OpenCC's tables, ``opencc``; the script test is ``knowledge.chinese_script``'s).

The language code stays ``zh`` everywhere (retrieval, records, analytics, ``meta.language``); the
script only chooses the wording of the built-in texts and the reply language Claude is given
(``service.core.languages.text_language``: ``zh-Hant``). A reply is in Traditional Chinese when
the message is written in Traditional characters, or, when its characters are the same in both
scripts ("你好", "ok"), when the request's ``language`` tag, the conversation's earlier messages or
the ``Accept-Language`` header say so (``chinese_script``); otherwise Simplified.

The Traditional built-in texts are not written by hand: ``traditional`` converts the Simplified
ones with OpenCC's ``s2twp`` (Taiwan standard characters and phrases: 信息 → 資訊, 联系 → 聯絡),
once, at import of each table (``with_traditional``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import TypeVar

import opencc

from knowledge.chinese_script import Script, tag_script, text_script

__all__ = [
    "TRADITIONAL",
    "Script",
    "chinese_script",
    "simplified",
    "tag_script",
    "tagged",
    "text_script",
    "traditional",
    "with_traditional",
]

TRADITIONAL = "zh-Hant"  # the key of the Traditional texts in a text table

# Where s2twp's phrases miss the texts' sense: 文件 is read as a computer file (檔案), the texts mean
# documents; 回复 (to reply) is sometimes 回復 (to restore), Taiwan writes 回覆.
_KEEP = {"檔案": "文件", "回復": "回覆"}


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def traditional(text: str) -> str:
    """``text`` (Simplified) in Traditional characters, Taiwan standard with its phrases."""
    converted = str(_converter("s2twp").convert(text))
    for phrase, kept in _KEEP.items():
        converted = converted.replace(phrase, kept)
    return converted


def simplified(text: str) -> str:
    """``text`` in Simplified characters (Traditional ones converted, the rest as it is)."""
    return str(_converter("t2s").convert(text))


def chinese_script(
    text: str,
    *,
    requested: str | None = None,
    earlier: Iterable[str] = (),
    accept_language: Iterable[str] = (),
) -> Script:
    """The script of a reply in Chinese to ``text``: the request's ``language`` tag when it names
    one (``requested``: "zh-TW"); else the message's own characters; else the latest of ``earlier``
    (the conversation's previous customer messages, newest first) written in one script; else the
    first ``Accept-Language`` tag (``accept_language``, most preferred first) that names a Chinese
    script; else Simplified."""
    for script in (tag_script(requested), text_script(text)):
        if script is not None:
            return script
    for message in earlier:
        if (script := text_script(message)) is not None:
            return script
    for tag in accept_language:
        if (script := tag_script(tag)) is not None:
            return script
    return "Hans"


def tagged(language: str, script: Script | None) -> str:
    """The tag of a reply in ``language`` written in ``script``: ``zh-Hant`` for Traditional
    Chinese, else ``language``."""
    return TRADITIONAL if language == "zh" and script == "Hant" else language


V = TypeVar("V")


def _converted(value: V) -> V:
    if isinstance(value, str):
        return traditional(value)  # type: ignore[return-value]
    if isinstance(value, Mapping):
        return {key: _converted(item) for key, item in value.items()}  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(_converted(item) for item in value)  # type: ignore[return-value]
    raise TypeError(f"not a text: {type(value).__name__}")


def with_traditional(texts: Mapping[str, V]) -> dict[str, V]:
    """A table of built-in texts (language → text, or → texts by kind) with a ``zh-Hant`` entry:
    its ``zh`` (Simplified) texts converted (``traditional``), unless it has one of its own."""
    table = dict(texts)
    if "zh" in table and TRADITIONAL not in table:
        table[TRADITIONAL] = _converted(table["zh"])
    return table
