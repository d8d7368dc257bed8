"""What the answer flow needs per knowledge-base version: the cached prompt prefix (``Prefix``) and
the relevance floor, rebuilt in a thread when the version changes (``DigestCache``).

``build_prefix`` chooses the form of the knowledge in the cached prefix (``system[1]``,
``service.answers.prompts``):

* **documents** — when the whole knowledge base (every chunk's text, escaped) fits
  ``SERVICE_PREFIX_MAX_TOKENS`` (high estimate), the documents themselves: the prefix is read from
  the cache at a tenth of the input price, the model sees the whole knowledge base, and each
  question's passages shrink to pointers (``<passage n="1" ref="c12" …/>``) — citations keep
  their numbers;
* **digest** — otherwise titles, sections and FAQ pairs, grown with the sections' opening text
  until the prefix reaches ``min_tokens`` (low estimate; the largest minimum of the configured
  models), capped by ``SERVICE_DIGEST_MAX_TOKENS``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from knowledge.schema import KbMeta, SearchHit
from knowledge.search import KnowledgeBase
from service.answers.cacheable import FIXED_PREFIX_TEXT, chars_for_tokens, tokens_at_least
from service.answers.prompts import (
    CacheTTL,
    build_digest,
    build_outline,
    chunk_refs,
    document_chunks,
    documents_text,
    system_blocks,
    user_turn,
)
from service.core.tokens import estimate_tokens
from service.retrieval.relevance import NO_FLOOR, RelevanceFloor, relevance_floor

log = logging.getLogger(__name__)

PAYLOAD_FIELDS = ["doc_id", "chunk_index", "title", "source", "kind", "language", "headings", "text"]
PrefixForm = Literal["documents", "digest"]


@dataclass(frozen=True)
class PrefixSettings:
    """How the cached prefix is built (the runtime takes these from ``ServiceSettings``)."""

    max_tokens: int = 30_000  # SERVICE_PREFIX_MAX_TOKENS: the documents form up to this (0: never)
    digest_max_chars: int = 24_000  # SERVICE_DIGEST_MAX_TOKENS × 4
    min_tokens: int = 0  # the largest minimum cacheable prefix of the configured models
    ttl: CacheTTL = "5m"  # SERVICE_PROMPT_CACHE_TTL


@dataclass(frozen=True)
class Prefix:
    """The cached prefix of one knowledge-base version, and how each question points into it."""

    kb_version: int
    form: PrefixForm
    knowledge: str  # system[1]
    tokens: int  # low estimate of the whole prefix: tools + rules + knowledge
    min_tokens: int = 0
    ttl: CacheTTL = "5m"
    refs: Mapping[tuple[str, int], str] = field(default_factory=dict)  # (doc_id, chunk_index) → ref

    @property
    def cacheable(self) -> bool:
        return self.tokens >= self.min_tokens

    def system(self) -> list[dict[str, Any]]:
        return system_blocks(self.knowledge, self.ttl)

    def user_turn(
        self, question: str, hits: Sequence[SearchHit], language: str, *, own_language: bool = False
    ) -> dict[str, Any]:
        return user_turn(question, hits, language, self.refs, own_language=own_language)


def digest_prefix(kb_version: int, knowledge: str) -> Prefix:
    """A digest-form prefix of given text (tests, benches)."""
    return Prefix(kb_version, "digest", knowledge, tokens_at_least(FIXED_PREFIX_TEXT + knowledge))


def build_prefix(rows: Iterable[dict[str, Any]], kb_version: int, settings: PrefixSettings) -> Prefix:
    """The prefix of a knowledge base given as chunk payload rows (``PAYLOAD_FIELDS``)."""
    rows = list(rows)
    fixed = tokens_at_least(FIXED_PREFIX_TEXT)
    chunks = document_chunks(rows)
    if chunks and settings.max_tokens > 0:
        text = documents_text(chunks, kb_version)
        if estimate_tokens(FIXED_PREFIX_TEXT) + estimate_tokens(text) <= settings.max_tokens:
            tokens = fixed + tokens_at_least(text)
            return Prefix(
                kb_version, "documents", text, tokens, settings.min_tokens, settings.ttl, chunk_refs(chunks)
            )
    min_chars = chars_for_tokens(max(settings.min_tokens - fixed, 0))
    digest = build_digest(build_outline(rows), kb_version, settings.digest_max_chars, min_chars)
    return Prefix(
        kb_version, "digest", digest, fixed + tokens_at_least(digest), settings.min_tokens, settings.ttl
    )


class DigestCache:
    """What the answer flow needs per knowledge-base version, rebuilt when the version changes: the
    cached prompt prefix (``build_prefix``) and the relevance floor (``service.retrieval.relevance``);
    ``on_version`` is given the new version's metadata first (the documents' contact data, which
    redaction leaves as it is: ``service.privacy.contacts``).

    ``prefix``, ``get`` and ``floor`` never touch the store: a background task (``watch``) checks
    the version every ``ttl_s`` in a thread and rebuilds there, so a large knowledge base never
    stalls the event loop. ``refresh`` is also called right after an in-service ingest, so the next
    request sees the new version.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        max_chars: int,
        ttl_s: float = 1.0,
        floor_override: float | None = None,
        prefix: PrefixSettings | None = None,
        *,
        on_version: Callable[[KbMeta], None] | None = None,
    ) -> None:
        self.kb = kb
        self.on_version = on_version  # told each new version's metadata (the contacts allow-list)
        self.settings = prefix or PrefixSettings(digest_max_chars=max_chars)
        self.ttl_s = ttl_s
        self.floor_override = floor_override
        self._prefix = digest_prefix(-1, "")
        self._floor: RelevanceFloor = NO_FLOOR

    def prefix(self) -> Prefix:
        return self._prefix

    def get(self) -> tuple[int, str]:
        """(knowledge-base version, the knowledge text of the cached prefix)."""
        return self._prefix.kb_version, self._prefix.knowledge

    def floor(self) -> RelevanceFloor:
        return self._floor

    def refresh(self) -> tuple[int, str]:
        meta = self.kb.meta()
        version = meta.version
        if version != self._prefix.kb_version:
            collection = self.kb.store.active()
            rows = collection.payloads(PAYLOAD_FIELDS) if collection else []
            floor = relevance_floor(meta, self.floor_override, self.kb.embedder.name, self.kb.embedder)
            prefix = build_prefix(rows, version, self.settings)
            if self.on_version is not None:
                self.on_version(meta)
            self._floor, self._prefix = floor, prefix
            if floor.source == "none" and collection is not None:
                log.warning("knowledge-base version %d: %s", version, floor.describe())
            else:
                log.info("knowledge-base version %d: %s", version, floor.describe())
            log.info(
                "knowledge-base version %d: cached prompt prefix in %s form, about %d tokens (minimum %d)",
                version,
                prefix.form,
                prefix.tokens,
                prefix.min_tokens,
            )
        return self.get()

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_s)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception as exc:  # the store may be briefly unavailable; keep the last prefix
                log.warning("knowledge-base version check failed: %s", exc)
