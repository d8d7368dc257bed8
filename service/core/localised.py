"""Operator texts given per language: plain text (every language) or a JSON object of language →
text, ``"*"`` for the languages not listed (``{"pl": "Pomoc AutoRent", "*": "AutoRent help"}``).
Read by the web chat's title and intro (``WEB_CHAT_``) and the support contact
(``HANDOFF_CONTACT``)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Annotated

from pydantic_settings import NoDecode

from knowledge.language import base_language

# Set from an environment variable as text, parsed by ``localised`` (not as JSON by the settings).
Localised = Annotated[dict[str, str], NoDecode]
ANY = "*"
_CODE = re.compile(r"^[a-z]{2,3}$")


def localised(value: object, limit: int, known: Collection[str] | None = None) -> dict[str, str]:
    """Plain text (every language) or a JSON object of language → text, one line each, checked:
    printable, 1 to ``limit`` characters; a language is ``"*"``, one of ``known`` or, without
    ``known``, any ISO 639 code. Regional tags are their base language ("pt-BR" → "pt"); two keys
    of one language are an error, not one text silently lost."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return {}
        value = json.loads(value) if value.startswith("{") else {ANY: value}
    if not isinstance(value, dict) or not all(isinstance(t, str) for t in value.values()):
        raise ValueError("expected text, or a JSON object of language code → text")
    out: dict[str, str] = {}
    for key, given in value.items():
        language = key if key == ANY else base_language(str(key))
        if language != ANY and (language not in known if known is not None else not _CODE.match(language)):
            listed = f"one of {', '.join(known)}" if known is not None else "a language code such as 'pl'"
            raise ValueError(f"{key!r} is not {listed} or '*'")
        text = " ".join(given.split())
        if not text or not text.isprintable() or len(text) > limit:
            raise ValueError(f"the {key!r} text must be printable, one line, 1 to {limit} characters")
        if language in out:  # "pt-PT" and "pt-BR": one would silently replace the other (a trial)
            same = [k for k in value if k != key and (k if k == ANY else base_language(str(k))) == language]
            raise ValueError(
                f"{same[0]!r} and {key!r} are both {language!r}: texts are chosen by language, not by "
                f"region (for Portuguese, TEXTS_PORTUGUESE picks one variant for every customer); "
                f"give one {language!r} text"
            )
        out[language] = text
    return out


def for_language(texts: Mapping[str, str], language: str) -> str | None:
    """The text of ``language`` (its base language), else the ``"*"`` one, else None."""
    return texts.get(base_language(language)) or texts.get(ANY)
