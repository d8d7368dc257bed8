"""The answer flow, from a validated request to a sequence of events.

``AnswerService.prepare`` does everything that can still change the HTTP status (it runs before
any SSE byte is sent): conversation, language (``service.answers.reply_language``), small talk (answered
at once: ``service.smalltalk``), answer cache, retrieval (with translation for
cross-lingual questions), routing, the handoff decision, and — when Claude will be called — a slot
in the upstream pool (``OverloadedError`` → 503). ``Prepared.events()`` then yields ``Meta``,
``Delta``s and ``Done`` (or ``Failed`` after text was sent). JSON and SSE consume the same events.

Before the first token nothing is lost: any upstream failure there (after retries and the
fallback models) becomes an extractive answer with a handoff. After the first token nothing is
retried: the stream ends with ``Failed`` and the partial answer stays the customer's.

Answerability: passages under the knowledge base's calibrated relevance floor are dropped before
anything else (none left: ``no_relevant_passages``, no model call); the model may still signal with
its ``passages_do_not_answer`` tool that the passages do not answer the question, which becomes a
``not_in_documents`` handoff in ``Done`` (its text, or the "not in our documents" text, is the reply).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

from knowledge.language import LanguageIdentifier
from knowledge.schema import SearchHit
from knowledge.search import Query
from service import smalltalk
from service.answers.aftercare import Aftercare, Outcome
from service.answers.extractive import extractive_pieces, not_found_text
from service.answers.prompts import ANSWER_TOOLS, NOT_IN_DOCUMENTS, system_blocks, user_turn
from service.answers.reply_language import decide_language
from service.api.auth import Client
from service.api.schemas import AnswerRequest, Citation, Mode, Usage
from service.caching import AnswerCache, CacheHit
from service.conversations.history import build_history, build_messages, retrieval_query
from service.conversations.store import Conversation, SessionStore, SessionStoreError, Turn, conversation_key
from service.core.metrics import Metrics
from service.handoff.messages import handoff_message
from service.handoff.policy import HandoffPolicy
from service.handoff.signals import Handoff, HandoffSignals
from service.llm.admission import Lease
from service.llm.claude import Completed, TextDelta, UpstreamError
from service.llm.resilient import ResilientClaude, Started
from service.privacy.pii import redact
from service.retrieval.relevance import RelevanceFloor, no_floor
from service.retrieval.retriever import BatchingRetriever, Retrieved, Vector
from service.retrieval.translate import QueryTranslator, merge_hits
from service.routing.route import Route, Router
from service.settings.app import AppSettings
from service.smalltalk import SmallTalk

log = logging.getLogger(__name__)

# Handoff reasons after which the model is not asked at all: a person takes over now.
TAKEOVER = ("customer_request", "dissatisfaction")


@dataclass(frozen=True)
class Meta:
    conversation_id: str
    message_id: str
    language: str
    mode: Mode
    citations: list[Citation]
    kb_version: int
    route: Route | None = None
    handoff: Handoff | None = None
    model: str | None = None


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Done:
    stop_reason: str | None
    usage: Usage
    handoff: Handoff | None = None
    cache: str | None = None  # "exact" | "semantic" when the answer came from the answer cache


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


def opening(conversation: Conversation | None) -> bool:
    """No earlier turn changes the answer: a new conversation, or one with only small talk so far
    (the answer cache serves first turns; "Hi" → "Hello! How can I help?" does not make a question
    a follow-up)."""
    if conversation is None:
        return True
    if conversation.first_turn or conversation.summary:
        return False
    return all(t.intent == smalltalk.INTENT for t in conversation.turns if t.role == "user")


@dataclass
class AnswerDeps:
    """What the flow uses; built once per process by ``service.api.runtime.Runtime``."""

    settings: AppSettings
    retriever: BatchingRetriever
    languages: LanguageIdentifier
    digest: Callable[[], tuple[int, str]]  # (kb_version, digest text), cached per KB version
    sessions: SessionStore
    handoff: HandoffPolicy
    aftercare: Aftercare
    metrics: Metrics
    claude: ResilientClaude | None = None
    router: Router | None = None
    translator: QueryTranslator | None = None  # only when cross-lingual retrieval is enabled
    cache: AnswerCache | None = None
    relevance: Callable[[], RelevanceFloor] = no_floor  # the relevance floor of the current KB version


@dataclass
class Prepared:
    """One answer, decided and ready to stream."""

    deps: AnswerDeps
    client: Client
    request: AnswerRequest
    conversation_id: str
    message_id: str
    language: str
    kb_version: int
    digest: str
    first_turn: bool
    conversation: Conversation | None = None
    hits: list[SearchHit] = field(default_factory=list)
    vector: Vector | None = None
    route: Route | None = None
    handoff: Handoff | None = None
    cached: CacheHit | None = None
    lease: Lease | None = None
    smalltalk: SmallTalk | None = None

    @property
    def session_key(self) -> str:
        return conversation_key(self.client.name, self.conversation_id)

    @property
    def citations(self) -> list[Citation]:
        return citations_for(self.hits)

    def meta(self, mode: Mode, handoff: Handoff | None, model: str | None = None) -> Meta:
        citations = self.citations if mode != "cached" else self._cached_citations()
        return Meta(
            self.conversation_id,
            self.message_id,
            self.language,
            mode,
            citations,
            self.kb_version,
            self.route,
            handoff,
            model,
        )

    def _cached_citations(self) -> list[Citation]:
        assert self.cached is not None
        return [Citation.model_validate(c) for c in self.cached.answer.citations]

    async def events(self) -> AsyncIterator[Event]:
        try:
            if self.smalltalk is not None:
                stream = self._smalltalk(self.smalltalk)
            elif self.cached is not None:
                stream = self._cached()
            elif self.handoff is not None and self.handoff.reason in TAKEOVER:
                text = handoff_message(self.language, self.handoff.reason)
                stream = self._fixed(self.handoff, text, "handoff")
            elif not self.hits:
                stream = self._fixed(self.handoff, not_found_text(self.language), "no_relevant_passages")
            elif self.deps.claude is None or self.lease is None:
                stream = self._extractive(self.handoff)
            else:
                stream = self._generative(self.deps.claude, self.lease)
                self.lease = None  # the stream owns it now
            async for event in stream:
                yield event
        finally:
            if self.lease is not None:
                self.lease.release()

    async def _fixed(self, handoff: Handoff | None, text: str, stop_reason: str) -> AsyncIterator[Event]:
        yield self.meta("extractive", handoff)
        yield Delta(text)
        yield await self._done(Outcome("extractive", text, Usage(), None, handoff), stop_reason)

    async def _smalltalk(self, talk: SmallTalk) -> AsyncIterator[Event]:
        text = smalltalk.reply(talk, self.language)
        yield self.meta("smalltalk", None)
        yield Delta(text)
        yield await self._done(Outcome("smalltalk", text, Usage(), None, None), smalltalk.STOP_REASON)

    async def _extractive(self, handoff: Handoff | None) -> AsyncIterator[Event]:
        yield self.meta("extractive", handoff)
        pieces = extractive_pieces(self.hits, self.language)
        if handoff is not None:
            pieces.append("\n" + handoff_message(self.language, handoff.reason))
        for piece in pieces:
            yield Delta(piece)
        yield await self._done(Outcome("extractive", "".join(pieces), Usage(), None, handoff), "extractive")

    async def _cached(self) -> AsyncIterator[Event]:
        assert self.cached is not None
        yield self.meta("cached", None)
        yield Delta(self.cached.answer.answer)
        outcome = Outcome("cached", self.cached.answer.answer, Usage(), None, None, self.cached)
        yield await self._done(outcome, self.cached.answer.stop_reason)

    async def _generative(self, claude: ResilientClaude, lease: Lease) -> AsyncIterator[Event]:
        history = build_history(
            self.conversation,
            max_turns=self.deps.settings.conversation.max_turns,
            token_budget=self.deps.settings.conversation.token_budget,
            summary_max_chars=self.deps.settings.conversation.summary_max_chars,
        )
        messages = build_messages(history, user_turn(self.request.question, self.hits, self.language))
        stream = claude.stream(system_blocks(self.digest), messages, lease=lease, tools=ANSWER_TOOLS)
        model: str | None = None
        parts: list[str] = []
        try:
            async for event in stream:
                if isinstance(event, Started):
                    model = event.model
                    yield self.meta("generative", self.handoff, model)
                elif isinstance(event, TextDelta):
                    parts.append(event.text)
                    yield Delta(event.text)
                elif isinstance(event, Completed):
                    assert model is not None
                    handoff, stop_reason = self.handoff, event.stop_reason
                    if event.called(NOT_IN_DOCUMENTS):  # the model: "the passages do not answer this"
                        handoff = self.deps.handoff.decide(self.signals(documents_answer=False))
                        stop_reason = "not_in_documents"
                        if not "".join(parts).strip():  # a bare signal: the customer still gets a reply
                            parts.append(not_found_text(self.language))
                            yield Delta(parts[-1])
                    outcome = Outcome("generative", "".join(parts), event.usage, model, handoff)
                    yield await self._done(outcome, stop_reason)
        except UpstreamError as exc:
            if model is None:  # nothing reached the customer: quote the passages, hand over
                async for fallback in self._unavailable(exc):
                    yield fallback
                return
            self.deps.aftercare.failed(self, "".join(parts), model, exc)
            yield Failed(exc.code, exc.message, exc.retryable)
        finally:
            await stream.aclose()

    async def _unavailable(self, exc: UpstreamError) -> AsyncIterator[Event]:
        log.warning("answering without Claude: %s", exc.message)
        handoff = self.deps.handoff.decide(self.signals(llm_available=False))
        async for event in self._extractive(handoff):
            yield event

    async def _done(self, outcome: Outcome, stop_reason: str | None) -> Done:
        outcome = replace(outcome, stop_reason=stop_reason)
        await self.deps.aftercare.record(self, outcome)
        return Done(stop_reason, outcome.usage, outcome.handoff, self.cached.match if self.cached else None)

    def signals(self, *, llm_available: bool = True, documents_answer: bool = True) -> HandoffSignals:
        # Redacted like the stored turns: the handoff summary goes to the agents' webhook.
        turns: list[Turn] = list(self.conversation.turns) if self.conversation else []
        turns.append(self.user_turn_record())
        return HandoffSignals(
            language=self.language,
            intent=self.route.intent if self.route else None,
            confidence=self.route.confidence if self.route else None,
            relevant_hits=len(self.hits),
            llm_available=llm_available,
            documents_answer=documents_answer,
            turns=turns,
            citations=self.citations,
            summary=None,
        )

    def user_turn_record(self) -> Turn:
        return Turn(
            role="user",
            text=redact(self.request.question),
            language=self.language,
            intent=smalltalk.INTENT if self.smalltalk else self.route.intent if self.route else None,
        )


class AnswerService:
    def __init__(self, deps: AnswerDeps) -> None:
        self.deps = deps

    async def prepare(
        self, request: AnswerRequest, client: Client, accept_language: str | None = None
    ) -> Prepared:
        deps = self.deps
        kb_version, digest = deps.digest()
        conversation = await self._conversation(client, request.conversation_id)
        talk = smalltalk.match(request.question)
        language = decide_language(
            request.question,
            detect=lambda text: deps.languages.detect(text).language,
            requested=request.language,
            conversation=conversation.language if conversation else None,
            accept_language=accept_language,
            smalltalk=talk is not None,
            smalltalk_language=talk.language if talk else None,
            known=deps.settings.ingest.languages,
        ).language
        prepared = Prepared(
            deps,
            client,
            request,
            request.conversation_id or f"conv_{uuid.uuid4().hex[:20]}",
            f"msg_{uuid.uuid4().hex[:20]}",
            language,
            kb_version,
            digest,
            first_turn=opening(conversation),
            conversation=conversation,
            smalltalk=talk,
        )
        if talk is not None:  # a polite reply: no retrieval, model, handoff or answer cache
            return prepared
        use_cache = deps.cache is not None and prepared.first_turn
        if deps.cache is not None and use_cache:
            prepared.cached = await deps.cache.exact(
                request.question, language=language, filters=request.filters, kb_version=kb_version
            )
            if prepared.cached is not None:
                deps.metrics.answer_cache.labels("exact").inc()
                return prepared
        retrieved = await self._retrieve(retrieval_query(request.question, conversation), request, language)
        # The KB version's calibrated cut-off (another for passages in another language).
        prepared.hits = deps.relevance().keep(retrieved.hits, language)
        prepared.vector = retrieved.vector
        if deps.router is not None:
            prepared.route = await deps.router.classify(request.question, language, retrieved.vector)
        prepared.handoff = deps.handoff.decide(prepared.signals())
        takeover = prepared.handoff is not None and prepared.handoff.reason in TAKEOVER
        # A decided handoff (of any kind) must reach the customer and the agents: no cached replay.
        if deps.cache is not None and use_cache and prepared.handoff is None and prepared.hits:
            prepared.cached = await deps.cache.lookup(
                request.question,
                language=language,
                filters=request.filters,
                kb_version=kb_version,
                vector=retrieved.vector,
            )
            deps.metrics.answer_cache.labels(prepared.cached.match if prepared.cached else "miss").inc()
            if prepared.cached is not None:
                return prepared
        if deps.claude is not None and prepared.hits and not takeover:
            prepared.lease = await deps.claude.acquire()  # OverloadedError → 503 before any byte
        return prepared

    async def _conversation(self, client: Client, conversation_id: str | None) -> Conversation | None:
        if conversation_id is None:
            return None
        try:
            return await self.deps.sessions.load(conversation_key(client.name, conversation_id))
        except SessionStoreError as exc:
            log.warning("answering without history: %s", exc.message)
            return None

    async def _retrieve(self, text: str, request: AnswerRequest, language: str) -> Retrieved:
        """Search the question; for another language than the documents', its translation too."""
        deps = self.deps
        query = Query(text, deps.settings.service.top_k, request.filters, language)
        translator = deps.translator
        target = deps.settings.translate.target_language.lower()[:2]
        if translator is None or language == target:
            return await deps.retriever.search(query)
        original = asyncio.ensure_future(deps.retriever.search(query))
        try:
            translation = await translator.translate(text, language, target)
            if not translation or translation == text:
                return await original
            translated, first = await asyncio.gather(
                deps.retriever.search(replace(query, text=translation, language=target)), original
            )
        finally:
            if not original.done():
                original.cancel()
        merged = merge_hits(first.hits, translated.hits, language, query.limit)
        return Retrieved(merged, first.vector)
