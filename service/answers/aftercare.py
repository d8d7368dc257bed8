"""What happens after an answer: conversation turns, conversation records, answer cache, handoff
webhook, history folding and metrics. Usage is not charged here: the Claude client charges every
request it makes — the answer, finished, broken or abandoned, and the summary of the fold — to the
caller's ``Bill`` (``service.llm.billing``, ``service.quotas.charges``).

The conversation turns are written before ``done`` is sent (a client that asks its follow-up the
moment it sees ``done`` must find them). The conversation records (``service.records``: the
customer's message, the reply — complete, broken or abandoned — and the handoff) are handed to the
``Recorder`` then too: a queue put that never waits; the database write happens after the reply.
A reply's record keeps every passage it was given, each marked ``cited`` when the reply's text
cites it by its ``[n]`` marker (``service.answers.cited``).
Everything else is queued as one job per answer on a
bounded background queue (``service.core.background``) with a few workers: it never delays or
fails the answer, its errors are logged, and shutdown drains it (``aclose``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from service.agents.takeover import Takeover
from service.answers.cited import cited_indices
from service.answers.plan import Outcome, Plan
from service.caching import AnswerCache, CachedAnswer, should_store
from service.conversations.store import ConversationSettings, SessionStore, SessionStoreError, Turn
from service.conversations.summarizer import Summarizer, fold_conversation
from service.core.background import BackgroundQueue, DropReason
from service.core.metrics import Metrics
from service.core.types import Citation
from service.handoff.signals import Handoff
from service.llm.errors import UpstreamError
from service.notify.webhooks import WebhookSender
from service.privacy.redaction import Redaction
from service.records.records import HandoffRecord, MessageRecord, Recorder, Status

log = logging.getLogger(__name__)

# One job per finished answer: a coroutine factory, so a dropped job leaves nothing un-awaited.
Job = Callable[[], Coroutine[Any, Any, None]]
# ``Done.stop_reason`` of a reply that is only a handoff notice (``service.answers.stream``).
HANDOFF_ONLY = ("handoff", "no_relevant_passages")
QUEUE_SIZE = 1024  # jobs waiting; beyond that a job is dropped with a warning (never the answer)
WORKERS = 8  # jobs run side by side: a history summary waits on Claude, a ledger row does not


async def _run(jobs: list[Job]) -> None:
    for job in jobs:
        await job()


class Aftercare:
    def __init__(
        self,
        *,
        sessions: SessionStore,
        conversation: ConversationSettings,
        summarizer: Summarizer,
        metrics: Metrics,
        cache: AnswerCache | None = None,
        handoff_webhook: WebhookSender | None = None,
        redaction: Redaction | None = None,
        recorder: Recorder | None = None,
        takeover: Takeover | None = None,
    ) -> None:
        """``takeover``: a takeover whose ``handoff`` event reaches no one lapses (``service.agents``)."""
        self.sessions = sessions
        self.conversation = conversation
        self.summarizer = summarizer
        self.metrics = metrics
        self.cache = cache
        self.handoff_webhook = handoff_webhook
        self.redaction = redaction or Redaction()
        self.recorder = recorder
        self.takeover = takeover
        self._queue: BackgroundQueue[Job] = BackgroundQueue(
            "aftercare", _run, maxsize=QUEUE_SIZE, workers=WORKERS, on_drop=_dropped
        )

    async def record(self, plan: Plan, outcome: Outcome) -> None:
        """Called just before ``done``: store the turns now, the rest in the background."""
        question, reply = plan.user_turn(), self.redaction.text(outcome.text)
        await self._store_turns(plan, question, reply, outcome.mode)
        # Recorded in the mode the API reported (``meta``/``done``/JSON); the handoff beside it. A
        # reply that is only a notice (a person takes over, nothing relevant found) cites nothing:
        # it answered nothing from the documents (analytics count it apart by that).
        notice = outcome.stop_reason in HANDOFF_ONLY
        self._add_records(
            plan,
            question,
            reply,
            mode=outcome.mode,
            model=outcome.model,
            status="complete",
            handoff=outcome.handoff,
            cited=not notice,
        )
        self.metrics.observe_outcome(
            outcome.mode, outcome.model, outcome.usage, outcome.handoff.reason if outcome.handoff else None
        )
        if outcome.cached is not None:
            saved = float(outcome.cached.answer.usage.get("cost_usd", 0.0) or 0.0)
            self.metrics.cache_saved_usd.inc(saved)
        self._spawn(lambda: self._after(plan, outcome))

    def failed(self, plan: Plan, partial: str, model: str, exc: UpstreamError) -> None:
        """The stream broke after text was sent: keep the partial answer in the conversation."""
        self.metrics.answers.labels("generative", "error").inc()
        question, reply = plan.user_turn(), self.redaction.text(partial)
        self._add_records(plan, question, reply, mode="generative", model=model, status="broken")
        self._spawn(lambda: self._store_turns(plan, question, reply, "generative"))
        log.warning("answer %s broke after the first token (%s): %s", plan.message_id, model, exc.code)

    def abandoned(self, plan: Plan, partial: str, model: str | None) -> None:
        """The client went away mid-answer: record what was generated by then."""
        reply = self.redaction.text(partial)
        self._add_records(plan, plan.user_turn(), reply, mode="generative", model=model, status="abandoned")

    async def _store_turns(self, plan: Plan, question: Turn, reply: str, mode: str) -> None:
        citations = [c.doc_id for c in plan.citations] if mode != "cached" else []
        turns = [question]
        if reply.strip():  # the API refuses empty text blocks in later turns' history
            # The model may repeat what the customer wrote (an e-mail to reply to): redacted too.
            turns.append(
                Turn(
                    role="assistant",
                    text=reply,
                    language=plan.language,
                    citations=citations,
                    message_id=plan.message_id,
                )
            )
        try:
            await self.sessions.append(plan.session_key, turns)
        except SessionStoreError as exc:
            log.warning("conversation %s not stored: %s", plan.conversation_id, exc.message)

    def _add_records(
        self,
        plan: Plan,
        question: Turn,
        reply: str,
        *,
        mode: str,
        model: str | None,
        status: Status,
        handoff: Handoff | None = None,
        cited: bool = True,
    ) -> None:
        """The customer's message (its own id), the reply (the id the answer returned, ``reply_to``
        the customer's) and the handoff, to the recorder."""
        if self.recorder is None:
            return
        key, tenant = plan.session_key, plan.client.name
        asked = MessageRecord(
            conversation_key=key,
            tenant=tenant,
            message_id=question.message_id or plan.customer_message_id,
            role="customer",
            text=question.text,
            language=plan.language,
            intent=question.intent,
            key_id=plan.client.key,
            created_at=question.at,
        )
        self.recorder.add(asked)
        self.recorder.add(
            replace(
                asked,
                role="assistant",
                message_id=plan.message_id,
                reply_to=asked.message_id,
                text=reply,
                mode=mode,
                model=model,
                citations=_recorded_citations(plan.citations, reply) if cited else (),
                handoff_reason=handoff.reason if handoff is not None else None,
                answer_cache=plan.cached.match if plan.cached is not None else None,
                status=status,
                created_at=datetime.now(UTC),
            )
        )
        if handoff is not None:
            summary = self.redaction.text(handoff.summary)
            self.recorder.add(HandoffRecord(key, tenant, handoff.reason, summary, plan.message_id))

    async def _after(self, plan: Plan, outcome: Outcome) -> None:
        if outcome.handoff is not None and self.handoff_webhook is not None:
            hook = None
            if self.takeover is not None:
                hook = self.takeover.on_undelivered(
                    plan.client, plan.conversation_id, outcome.handoff, plan.message_id
                )
            payload = self._handoff_payload(plan, outcome.handoff)
            self.handoff_webhook.send("handoff", payload, on_undelivered=hook)
        await self._cache(plan, outcome)
        if outcome.mode == "generative":
            await fold_conversation(
                self.sessions, self.summarizer, plan.session_key, self.conversation, plan.bill("summary")
            )

    async def _cache(self, plan: Plan, outcome: Outcome) -> None:
        if self.cache is None or not plan.first_turn or plan.own_language or outcome.cached is not None:
            return
        citations = plan.citations
        stop = outcome.stop_reason if outcome.mode == "generative" else outcome.stop_reason or "extractive"
        if not should_store(
            plan.request.question,
            outcome.text,
            outcome.handoff is not None,
            outcome.mode,
            stop_reason=stop,
            sources=[c.quote for c in citations],
        ):
            return
        entry = CachedAnswer(
            answer=outcome.text,
            citations=[c.model_dump() for c in citations],
            language=plan.language,
            mode=outcome.mode,
            model=outcome.model,
            usage=outcome.usage.model_dump(),
            stop_reason=stop,
            route=plan.route.to_dict() if plan.route is not None else None,
        )
        await self.cache.store(
            plan.request.question,
            entry,
            language=plan.tag,  # a Traditional Chinese answer is not replayed to a Simplified question
            filters=plan.request.filters,
            kb_version=plan.kb_version,
            vector=plan.vector,
            tenant=plan.client.name,
        )

    @staticmethod
    def _handoff_payload(plan: Plan, handoff: Handoff) -> dict[str, Any]:
        return {
            "conversation_id": plan.conversation_id,
            "message_id": plan.message_id,
            "client": plan.client.name,
            "question": plan.user_turn().text,
            **handoff.model_dump(mode="json"),
        }

    def _spawn(self, job: Job) -> None:
        if not self._queue.started:
            self._queue.start()  # on the running loop of the first answer
        self._queue.offer(job)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until the after-answer work queued so far is done (tests; at most ``timeout_s``)."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout=timeout_s)
        except TimeoutError:
            pending = self._queue.pending
            log.warning("after-answer work still running after %.1fs (%d queued)", timeout_s, pending)

    async def aclose(self, timeout_s: float = 10.0) -> None:
        """Shutdown: take no more work, finish what is queued for up to ``timeout_s``."""
        await self._queue.aclose(timeout_s)


def _recorded_citations(given: Sequence[Citation], reply: str) -> tuple[dict[str, Any], ...]:
    """Every passage the reply was given, each marked ``cited`` when the reply's text cites it with
    its ``[n]`` (an extractive reply: the passages it quotes)."""
    cited = cited_indices(reply, (c.index for c in given))
    return tuple({**c.model_dump(), "cited": c.index in cited} for c in given)


def _dropped(jobs: Sequence[Job], reason: DropReason) -> None:
    log.warning("after-answer work of %d answer(s) not done (%s)", len(jobs), reason)
