"""What makes two questions the same: normalised text, identifiers, and the namespace they live in.

A question's key is its text after Unicode NFKC, casefold, collapsed whitespace, leading ``¿¡`` and
trailing punctuation stripped. Its namespace is (tenant, language, filters as canonical JSON,
knowledge-base version, answerer): tenants never share an entry, exact or semantic (one tenant's cached answer
could tell another what its customers asked), a new ingest bumps the version, so older entries
are never served again, and the answerer (``generative:<model>`` or ``extractive``) keeps a quoted
answer from before a Claude key was set — or one of another model — from being replayed after it.
Its identifiers are the tokens with a digit (order numbers, amounts, SKUs, dates, "24/7"): a
semantic hit needs exactly the same ones.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

Filters = BaseModel | Mapping[str, Any] | None

_SPACE_RE = re.compile(r"\s+")
_IDENT_RE = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z_\-/.:,]*[0-9A-Za-z])?")


def normalise_question(text: str) -> str:
    """NFKC, casefold, whitespace collapsed, leading ``¿¡`` and trailing punctuation stripped."""
    s = _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    s = s.lstrip("¿¡ ")
    end = len(s)
    while end and (unicodedata.category(s[end - 1]).startswith("P") or s[end - 1].isspace()):
        end -= 1
    return s[:end]


def identifiers(normalised: str) -> tuple[str, ...]:
    """The tokens carrying a digit (order numbers, amounts, SKUs, dates), sorted; ASCII digits."""
    ascii_digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in normalised)
    return tuple(sorted({t for t in _IDENT_RE.findall(ascii_digits) if any(c.isdigit() for c in t)}))


def canonical_filters(filters: Filters) -> str:
    """Filters as canonical JSON: no empty conditions, keys sorted, list values sorted."""
    raw = filters.model_dump(mode="json", exclude_none=True) if isinstance(filters, BaseModel) else filters
    clean: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        if value is None or (isinstance(value, list | dict) and not value):
            continue
        clean[key] = sorted(value, key=str) if isinstance(value, list | tuple | set) else value
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


@dataclass(frozen=True)
class CacheKey:
    namespace: str  # (tenant, language, filters, kb_version, answerer)
    id: str  # the normalised question
    normalised: str
    identifiers: tuple[str, ...]

    @classmethod
    def build(
        cls,
        question: str,
        language: str,
        filters: Filters,
        kb_version: int,
        tenant: str = "",
        *,
        answerer: str = "",
    ) -> CacheKey:
        norm = normalise_question(question)
        ns = json.dumps(
            [tenant, language.strip().lower(), canonical_filters(filters), int(kb_version), answerer]
        )
        return cls(_digest(ns, 10), _digest(norm, 16), norm, identifiers(norm))
