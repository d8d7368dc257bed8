"""The answer flow, from a validated request to a planned answer ready to stream.

``AnswerService.prepare`` does everything that can still change the HTTP status (it runs before
any SSE byte is sent) and records what it decided in a ``Plan`` (``service.answers.plan``):
conversation, language (``service.answers.reply_language``; for Chinese the script too,
``service.core.chinese``), small talk (answered at once:
``service.smalltalk``), answer cache, retrieval (with translation for cross-lingual
questions: ``service.retrieval.crosslingual``; a short follow-up read as a continuation or a new
subject: ``service.retrieval.topic_change``), the relevance floor, routing, the handoff decision,
and — when Claude will be called — a slot in the upstream pool (``OverloadedError`` → 503).

It returns an ``AnswerStream`` (``service.answers.stream``), whose ``events()`` yields ``Meta``,
``Delta``s and ``Done`` (or ``Failed`` after text was sent); the after-answer work
(``service.answers.aftercare``) is handed the plan and what was sent.

While a person has the conversation (``Conversation.state`` ``agent``, read with the turns; a takeover
past its reply deadline is given back first, ``Takeover.lapsed_if_due``) the plan stops after the
language: no small talk, cache, retrieval or model; ``stream`` returns an
``AgentRelay`` (``service.answers.with_agent``) that passes the message to the agents. An answer that
ends with a handoff gives the conversation to a person before its ``done`` is sent, when the
handoff went to people (``Takeover.handed_off``; ``service.agents.takeover`` says which do).

Answerability: passages under the knowledge base's calibrated relevance floor are dropped before
anything else (none left: ``no_relevant_passages``, no model call); the model may still signal that
the passages do not answer the question (``service.answers.stream``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from knowledge.language import Detection, LanguageIdentifier
from knowledge.search import Query
from service import smalltalk
from service.agents.takeover import Takeover
from service.answers.aftercare import Aftercare
from service.answers.digest import Prefix
from service.answers.events import Done, Event
from service.answers.plan import Plan, opening
from service.answers.reply_language import accept_language_tags, decide_language
from service.answers.request import AnswerRequest
from service.answers.stream import AnswerStream
from service.answers.with_agent import AgentRelay
from service.caching import AnswerCache
from service.conversations.follow_ups import retrieval_queries
from service.conversations.store import (
    Conversation,
    ConversationNotFoundError,
    ConversationSettings,
    SessionStore,
    SessionStoreError,
    conversation_key,
)
from service.core.chinese import chinese_script
from service.core.metrics import Metrics
from service.core.types import Client
from service.handoff.policy import HandoffPolicy
from service.llm.admission import Lease
from service.llm.interface import LLM, Slots
from service.privacy.redaction import Redaction
from service.retrieval import topic_change
from service.retrieval.relevance import RelevanceFloor, no_floor
from service.retrieval.retriever import BatchingRetriever
from service.retrieval.translate import QueryTranslator
from service.routing.route import Router, route_from_dict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerSettings:
    """The settings the flow reads; the runtime takes them from ``AppSettings``."""

    conversation: ConversationSettings
    top_k: int  # SERVICE_TOP_K: passages given to Claude
    languages: tuple[str, ...]  # INGEST_LANGUAGES: the reply languages the detector chooses from
    translate_target: str  # TRANSLATE_TARGET_LANGUAGE: the documents' language for translated queries
    # PRIVACY_: the customer's message as stored and as sent upstream
    redaction: Redaction = field(default_factory=Redaction)


@dataclass
class AnswerDeps:
    """What the flow uses; built once per process by ``service.api.runtime.Runtime``."""

    settings: AnswerSettings
    retriever: BatchingRetriever
    languages: LanguageIdentifier
    prefix: Callable[[], Prefix]  # the cached prompt prefix, rebuilt per KB version
    sessions: SessionStore
    handoff: HandoffPolicy
    aftercare: Aftercare
    metrics: Metrics
    llm: LLM | None = None  # the resilient client (service.llm.resilient); None: extractive answers
    slots: Slots | None = None  # the upstream pool (the resilient client's): one slot per answer
    router: Router | None = None
    translator: QueryTranslator | None = None  # only when cross-lingual retrieval is enabled
    cache: AnswerCache | None = None
    relevance: Callable[[], RelevanceFloor] = no_floor  # the relevance floor of the current KB version
    takeover: Takeover | None = None  # agent takeover (service.agents); None: the assistant always answers


class AnswerService:
    def __init__(self, deps: AnswerDeps) -> None:
        self.deps = deps

    async def prepare(
        self, request: AnswerRequest, client: Client, accept_language: str | None = None
    ) -> AnswerStream | AgentRelay:
        plan = await self.plan(request, client, accept_language)
        lease: Lease | None = None
        if self.deps.llm is not None and self.deps.slots is not None and self._asks_llm(plan):
            lease = await self.deps.slots.acquire()  # OverloadedError → 503 before any byte
        return self.stream(plan, lease)

    def stream(self, plan: Plan, lease: Lease | None = None) -> AnswerStream | AgentRelay:
        deps = self.deps
        if plan.with_agent and deps.takeover is not None:
            return AgentRelay(plan, deps.takeover, deps.metrics)
        parts: dict[str, Any] = {
            "aftercare": deps.aftercare,
            "handoff": deps.handoff,
            "conversation": deps.settings.conversation,
            "llm": deps.llm,
            "lease": lease,
            "embed_passages": deps.retriever.embed_passages,
        }
        if deps.takeover is not None:
            return HandingOverStream(plan, takeover=deps.takeover, **parts)
        return AnswerStream(plan, **parts)

    @staticmethod
    def _asks_llm(plan: Plan) -> bool:
        return (
            plan.smalltalk is None
            and plan.cached is None
            and bool(plan.hits)
            and not plan.takeover
            and not plan.with_agent
        )

    async def plan(self, request: AnswerRequest, client: Client, accept_language: str | None = None) -> Plan:
        """Decide the answer: everything up to, not including, the model call."""
        deps = self.deps
        prefix = deps.prefix()
        kb_version = prefix.kb_version
        conversation = await self._conversation(client, request.conversation_id)
        talk = smalltalk.match(request.question)
        detected: list[Detection] = []  # the detector's verdict, when the reply language is it

        def detect(text: str) -> str:
            detected.append(deps.languages.detect(text))
            return detected[-1].language

        language = decide_language(
            request.question,
            detect=detect,
            confidences=deps.languages.confidences,
            requested=request.language,
            conversation=conversation.language if conversation else None,
            accept_language=accept_language,
            smalltalk=talk is not None,
            smalltalk_language=talk.language if talk else None,
            smalltalk_candidates=talk.candidates if talk else (),
            known=deps.settings.languages,
        ).language
        script = None
        if language == "zh":  # Simplified or Traditional: the texts' and the reply's script
            script = chinese_script(
                request.question,
                requested=request.language_tag,
                earlier=[
                    t.text for t in reversed(conversation.turns if conversation else []) if t.role == "user"
                ],
                accept_language=accept_language_tags(accept_language),
            )
        # Redacted once, here: everything below (answer cache, retrieval and its translation,
        # routing, the prompt, stored turns, handoffs) sees only the redacted message.
        message = deps.settings.redaction.message(request.question)
        request = request.model_copy(update={"question": message.upstream})
        plan = Plan(
            client,
            request,
            request.conversation_id or f"conv_{uuid.uuid4().hex[:20]}",
            f"msg_{uuid.uuid4().hex[:20]}",
            language,
            kb_version,
            prefix,
            first_turn=opening(conversation),
            conversation=conversation,
            smalltalk=talk,
            stored_question=message.stored,
        )
        plan.script = script
        plan.own_language = bool(detected) and not detected[-1].sure and detected[-1].language == language
        plan.mark = deps.handoff.mark(plan.user_turn().text, conversation)  # once per customer turn
        if conversation is not None and conversation.state == "agent" and deps.takeover is not None:
            plan.with_agent = True  # a person has it: nothing below runs
            return plan
        if talk is not None:  # a polite reply: no retrieval, model, handoff or answer cache
            if talk.kind == "unclear":  # "😡" after a complaint: the customer's patience is gone
                handoff = deps.handoff.decide(plan.signals())
                if handoff is not None and handoff.reason == "dissatisfaction":
                    plan.smalltalk, plan.handoff = None, handoff  # a person, with no passages
            return plan
        cache = deps.cache if plan.first_turn and not plan.own_language else None
        if cache is not None:
            plan.cached = await cache.exact(
                request.question,
                language=plan.tag,
                filters=request.filters,
                kb_version=kb_version,
                tenant=client.name,
            )
            if plan.cached is not None:
                deps.metrics.answer_cache.labels("exact").inc()
                route = plan.cached.answer.route
                plan.route = route_from_dict(route) if route is not None else None
                return plan
        # A follow-up carries the earlier question(s); one that is a follow-up only by its length
        # ("garantia?") is searched alone too, and the message alone wins when it is a new subject
        # (``service.retrieval.topic_change``).
        rewrite = retrieval_queries(request.question, conversation)
        query = Query(
            rewrite.text,
            deps.settings.top_k,
            request.filters,
            language,
        )
        target = deps.settings.translate_target.lower()[:2]
        # The KB version's calibrated cut-off (another for passages in another language): the
        # gate, then the passages to answer from (``service.retrieval.relevance``). A question the
        # detector was unsure of is read there as one in an unknown language, not the default; one
        # of one or two words against short off-topic messages and its own cut-off (as
        # ``faqstream search`` reads it).
        floor = deps.relevance()
        detection = detected[-1] if detected else None
        reading = await topic_change.search(
            deps.retriever,
            deps.translator,
            query,
            rewrite,
            target=target,
            tenant=client.name,
            floor=floor,
            detection=detection,
            bill=plan.bill("translation"),
        )
        if rewrite.standalone is not None:
            deps.metrics.short_follow_ups.labels("new_topic" if reading.new_topic else "merged").inc()
        retrieved, asked = reading.retrieved, reading.asked
        asked_in = floor.question_language(language, detection, asked)
        selection = floor.select(retrieved.hits, asked_in, asked)
        plan.hits, plan.relevant = selection.hits, selection.relevant
        plan.quoted = [hit.id for hit in floor.quoted(selection.hits, asked_in)]
        plan.vector = retrieved.vector
        if deps.router is not None:
            plan.route = await deps.router.classify(
                request.question, language, retrieved.vector, plan.bill("routing")
            )
        plan.handoff = deps.handoff.decide(plan.signals())
        # A decided handoff (of any kind) must reach the customer and the agents: no cached replay.
        if cache is not None and plan.handoff is None and plan.hits:
            plan.cached = await cache.lookup(
                request.question,
                language=plan.tag,
                filters=request.filters,
                kb_version=kb_version,
                vector=retrieved.vector,
                tenant=client.name,
            )
            deps.metrics.answer_cache.labels(plan.cached.match if plan.cached else "miss").inc()
        return plan

    async def _conversation(self, client: Client, conversation_id: str | None) -> Conversation | None:
        """The tenant's conversation; an id it does not hold is a 404 (``ConversationNotFoundError``)."""
        if conversation_id is None:
            return None
        takeover = self.deps.takeover
        try:
            found = await self.deps.sessions.load(conversation_key(client.name, conversation_id))
            if found is not None and found.state == "agent" and takeover is not None:
                # A takeover nobody answered in time lapses now, whichever process handed it off:
                # the customer gets the notice (``Plan.notices``) and then the assistant's answer.
                found = await takeover.lapsed_if_due(client, conversation_id, found)
        except SessionStoreError as exc:
            log.warning("answering without history: %s", exc.message)
            return None
        if found is None:
            raise ConversationNotFoundError()
        return found


class HandingOverStream(AnswerStream):
    """An ``AnswerStream`` whose handoff (decided before the answer or in its ``done``) gives the
    conversation to a person before ``done`` reaches the customer (``Takeover.handed_off``): the
    customer's next message, however fast, finds it with the agents."""

    def __init__(self, plan: Plan, *, takeover: Takeover, **parts: Any) -> None:
        super().__init__(plan, **parts)
        self.takeover = takeover

    async def events(self) -> AsyncGenerator[Event, None]:
        inner = super().events()
        try:
            async for event in inner:
                if isinstance(event, Done) and event.handoff is not None and await self._hand_over(event):
                    yield replace(event, with_agent=True)
                else:
                    yield event
        finally:
            await inner.aclose()

    async def _hand_over(self, done: Done) -> bool:
        assert done.handoff is not None
        plan = self.plan
        try:
            return await self.takeover.handed_off(
                plan.client, plan.conversation_id, done.handoff, plan.message_id
            )
        except (SessionStoreError, ConversationNotFoundError) as exc:  # its turns were not stored
            log.warning("conversation %s stays with the assistant: %s", plan.conversation_id, exc.message)
            return False
