"""Streaming one planned answer as events (``service.answers.events``).

``AnswerStream.events()`` picks the kind of reply the ``Plan`` calls for — small talk, a cached
answer, a handoff notice, the "not in our documents" reply, quoted passages (no LLM), or Claude's
answer — and yields ``Meta``, ``Delta``s and ``Done``. Just before ``Done`` the after-answer work
is handed the ``Outcome`` (``service.answers.aftercare``).

Before the first token nothing is lost: any upstream failure there (after retries and the fallback
models) becomes an extractive answer with a handoff. After the first token nothing is retried: the
stream ends with ``Failed`` and the partial answer stays the customer's. The model may signal with
its ``passages_do_not_answer`` tool that the passages do not answer the question, which becomes a
``not_in_documents`` handoff in ``Done`` (its text, or the "not in our documents" text, is the reply;
when that handoff gives the conversation to a person, the takeover notice follows it). Every handoff
notice is ``HandoffPolicy.notice``: it says what the handoff's destination will do
(``service.handoff.delivery``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace

from service import smalltalk
from service.answers.aftercare import Aftercare
from service.answers.events import Delta, Done, Event, Failed, Meta
from service.answers.extractive import quoted_passages, reply_pieces, written
from service.answers.plan import Outcome, Plan
from service.answers.prompts import ANSWER_TOOLS, NOT_IN_DOCUMENTS
from service.answers.quote_start import EmbedPassages, semantic_starts
from service.conversations.history import build_history, build_messages
from service.conversations.store import ConversationSettings
from service.core.types import Mode, Usage
from service.handoff.policy import HandoffPolicy
from service.handoff.signals import Handoff
from service.llm.admission import Lease
from service.llm.errors import UpstreamError
from service.llm.interface import LLM, Completed, Started, TextDelta

log = logging.getLogger(__name__)


class AnswerStream:
    """One answer, ready to stream. ``llm`` None: no API key, answers quote the passages. ``lease``
    (a slot on the upstream pool, when Claude is to be asked) is released when the stream ends,
    however it ends. ``embed_passages`` (the retriever's, off the event loop) lets a quote that
    shares no term with the question start at the sentence closest to it
    (``service.answers.quote_start``); None: such a quote starts at the passage's top."""

    def __init__(
        self,
        plan: Plan,
        *,
        aftercare: Aftercare,
        handoff: HandoffPolicy,
        conversation: ConversationSettings,
        llm: LLM | None = None,
        lease: Lease | None = None,
        embed_passages: EmbedPassages | None = None,
    ) -> None:
        self.plan = plan
        self.aftercare = aftercare
        self.handoff = handoff
        self.conversation = conversation
        self.llm = llm
        self.lease = lease
        self.embed_passages = embed_passages

    async def events(self) -> AsyncGenerator[Event, None]:
        plan = self.plan
        try:
            if plan.smalltalk is not None:
                text = smalltalk.reply(plan.smalltalk, plan.tag)
                stream = self._fixed("smalltalk", None, text, smalltalk.STOP_REASON)
            elif plan.cached is not None:
                stream = self._cached()
            elif plan.takeover:
                assert plan.handoff is not None
                text = self.handoff.notice(plan.tag, plan.handoff)
                stream = self._fixed("extractive", plan.handoff, text, "handoff")
            elif not plan.hits:
                text = self.handoff.notice(plan.tag, plan.handoff, "no_relevant_passages")
                stream = self._fixed("extractive", plan.handoff, text, "no_relevant_passages")
            elif self.llm is None:  # no API key: the passages, quoted
                stream = self._extractive(plan.handoff)
            else:
                stream = self._generative(self.llm)
            async for event in stream:
                yield event
        finally:
            if self.lease is not None:
                self.lease.release()

    def _meta(
        self, mode: Mode, handoff: Handoff | None, model: str | None = None, *, cites: bool = True
    ) -> Meta:
        """``cites``: False for a reply of the service's own words (small talk, a handoff notice),
        which quotes no passage: no citations, so no frontend lists sources under it."""
        plan = self.plan
        return Meta(
            plan.conversation_id,
            plan.message_id,
            plan.language,
            mode,
            plan.citations if cites else [],
            plan.kb_version,
            plan.route,
            handoff,
            model,
            plan.agent_messages,
            plan.notices,
        )

    async def _fixed(
        self, mode: Mode, handoff: Handoff | None, text: str, stop_reason: str
    ) -> AsyncIterator[Event]:
        yield self._meta(mode, handoff, cites=False)
        yield Delta(text)
        yield await self._done(Outcome(mode, text, Usage(), None, handoff), stop_reason)

    async def _cached(self) -> AsyncIterator[Event]:
        cached = self.plan.cached
        assert cached is not None
        yield self._meta("cached", None)
        yield Delta(cached.answer.answer)
        outcome = Outcome("cached", cached.answer.answer, Usage(), None, None, cached)
        yield await self._done(outcome, cached.answer.stop_reason)

    async def _extractive(self, handoff: Handoff | None) -> AsyncIterator[Event]:
        plan = self.plan
        passages = quoted_passages(plan.hits, plan.request.question, plan.quoted, plan.language)
        starts: dict[int, int] = {}
        if self.embed_passages is not None:
            try:
                starts = await semantic_starts(passages, plan.vector, self.embed_passages)
            except RuntimeError as exc:  # the retriever's thread is shut down: quote from the top
                log.warning("quoting without sentence vectors: %s", exc)
        quotes = [written(passage, starts) for passage in passages]
        # The quotes are chosen before ``meta``: a quoted passage's citation names the section quoted.
        plan.quoted_sections = {q.n: q.section for q in quotes}
        yield self._meta("extractive", handoff)
        pieces = reply_pieces(quotes, plan.tag)
        if handoff is not None:
            pieces.append("\n" + self.handoff.notice(plan.tag, handoff))
        for piece in pieces:
            yield Delta(piece)
        yield await self._done(Outcome("extractive", "".join(pieces), Usage(), None, handoff), "extractive")

    async def _generative(self, llm: LLM) -> AsyncIterator[Event]:
        plan, settings = self.plan, self.conversation
        history = build_history(
            plan.conversation,
            max_turns=settings.max_turns,
            token_budget=settings.token_budget,
            summary_max_chars=settings.summary_max_chars,
        )
        prefix = plan.prefix  # tools, rules, knowledge: breakpoint 1; the history's last turn: 2
        question = plan.request.question
        turn = prefix.user_turn(question, plan.hits, plan.tag, own_language=plan.own_language)
        messages = build_messages(history, turn)
        # Charged to the caller by the client however the stream ends: finished, broken after the
        # first token, or closed because the customer left (what was consumed so far).
        stream = llm.stream(prefix.system(), messages, tools=ANSWER_TOOLS, bill=plan.bill("answer"))
        model: str | None = None
        parts: list[str] = []
        ended = False  # Done or Failed is on its way: a close after it is no abandonment
        try:
            async for event in stream:
                if isinstance(event, Started):
                    model = event.model
                    yield self._meta("generative", plan.handoff, model)
                elif isinstance(event, TextDelta):
                    parts.append(event.text)
                    yield Delta(event.text)
                elif isinstance(event, Completed):
                    assert model is not None
                    ended = True
                    handoff, stop_reason = plan.handoff, event.stop_reason
                    if event.called(NOT_IN_DOCUMENTS):  # the model: "the passages do not answer this"
                        handoff = self.handoff.decide(plan.signals(documents_answer=False))
                        stop_reason = "not_in_documents"
                        if not "".join(parts).strip():  # a bare signal: the customer still gets a reply
                            parts.append(self.handoff.notice(plan.tag, handoff, "no_relevant_passages"))
                            yield Delta(parts[-1])
                        elif (
                            handoff is not None and self.handoff.routes.delivery(handoff.reason) == "takeover"
                        ):
                            parts.append("\n\n" + self.handoff.notice(plan.tag, handoff))
                            yield Delta(parts[-1])  # the model's text does not say a person takes over
                    outcome = Outcome("generative", "".join(parts), event.usage, model, handoff)
                    yield await self._done(outcome, stop_reason)
        except UpstreamError as exc:
            if model is None:  # nothing reached the customer: quote the passages, hand over
                log.warning("answering without Claude: %s", exc.message)
                handoff = self.handoff.decide(plan.signals(llm_available=False))
                async for fallback in self._extractive(handoff):
                    yield fallback
                return
            self.aftercare.failed(plan, "".join(parts), model, exc)
            yield Failed(exc.code, exc.message, exc.retryable)
        except (asyncio.CancelledError, GeneratorExit):  # the client went away mid-answer
            if not ended:
                self.aftercare.abandoned(plan, "".join(parts), model)
            raise
        finally:
            await stream.aclose()

    async def _done(self, outcome: Outcome, stop_reason: str | None) -> Done:
        outcome = replace(outcome, stop_reason=stop_reason)
        await self.aftercare.record(self.plan, outcome)
        cache = self.plan.cached.match if self.plan.cached else None
        return Done(stop_reason, outcome.usage, outcome.handoff, cache)
