"""The answer flow: language → retrieval → relevance floor → prompt → Claude (or extractive) → events.

Both the JSON and the SSE endpoint consume the same event sequence:
``Meta`` first, then ``Delta``s, then ``Done`` — or ``Failed`` after Meta when the upstream fails.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from knowledge.language import LanguageIdentifier
from knowledge.schema import SearchHit
from knowledge.search import Query
from service.claude import ClaudeClient, Completed, UpstreamError
from service.extractive import extractive_pieces, not_found_text
from service.prompts import system_blocks, user_turn
from service.retriever import BatchingRetriever
from service.schemas import AnswerRequest, Citation, Mode, Usage
from service.settings import ServiceSettings


@dataclass(frozen=True)
class Meta:
    conversation_id: str
    message_id: str
    language: str
    mode: Mode
    citations: list[Citation]
    kb_version: int


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Done:
    stop_reason: str | None
    usage: Usage


@dataclass(frozen=True)
class Failed:
    code: str
    message: str
    retryable: bool


Event = Meta | Delta | Done | Failed


def citations_for(hits: list[SearchHit]) -> list[Citation]:
    return [
        Citation(
            index=n,
            doc_id=h.payload.doc_id,
            title=h.payload.title,
            source=h.payload.source,
            section=h.payload.section,
            score=round(h.dense_score or 0.0, 4),
            quote=h.payload.text,
        )
        for n, h in enumerate(hits, 1)
    ]


class AnswerService:
    def __init__(
        self,
        retriever: BatchingRetriever,
        languages: LanguageIdentifier,
        settings: ServiceSettings,
        claude: ClaudeClient | None,
        digest: Callable[[], tuple[int, str]],
    ) -> None:
        self.retriever = retriever
        self.languages = languages
        self.settings = settings
        self.claude = claude
        self.digest = digest  # (kb_version, digest text), cached by the caller per version

    async def answer(self, request: AnswerRequest) -> AsyncIterator[Event]:
        conversation_id = request.conversation_id or f"conv_{uuid.uuid4().hex[:20]}"
        message_id = f"msg_{uuid.uuid4().hex[:20]}"
        language = (request.language or self.languages.detect(request.question).language).lower()[:2]
        retrieved = await self.retriever.search(
            Query(request.question, self.settings.top_k, request.filters, language)
        )
        hits = retrieved.hits
        relevant = [h for h in hits if (h.dense_score or 0.0) >= self.settings.relevance_floor]
        kb_version, digest = self.digest()
        if not relevant:
            yield Meta(conversation_id, message_id, language, "extractive", [], kb_version)
            yield Delta(not_found_text(language))
            yield Done("no_relevant_passages", Usage())
            return
        citations = citations_for(relevant)
        if self.claude is None:
            yield Meta(conversation_id, message_id, language, "extractive", citations, kb_version)
            for piece in extractive_pieces(relevant, language):
                yield Delta(piece)
            yield Done("extractive", Usage())
            return
        yield Meta(conversation_id, message_id, language, "generative", citations, kb_version)
        stream = self.claude.stream(system_blocks(digest), [user_turn(request.question, relevant, language)])
        try:
            async for event in stream:
                if isinstance(event, Completed):
                    yield Done(event.stop_reason, event.usage)
                else:
                    yield Delta(event.text)
        except UpstreamError as exc:
            yield Failed(exc.code, exc.message, exc.retryable)
        finally:
            await stream.aclose()
