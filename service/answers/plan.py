"""The decided answer, as plain records: ``Plan`` (what ``AnswerService.prepare`` decided, before any
byte is sent) and ``Outcome`` (what was sent, for the after-answer work). No services, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from knowledge.schema import SearchHit, under_title
from service import smalltalk
from service.answers.digest import Prefix
from service.answers.quotable import quotable
from service.answers.request import AnswerRequest
from service.caching import CacheHit
from service.conversations.marks import TurnMark
from service.conversations.store import Conversation, Turn, conversation_key
from service.core.chinese import Script, tagged
from service.core.types import Citation, Client, Mode, Usage
from service.handoff.signals import Handoff, HandoffSignals
from service.llm.billing import Bill, Purpose
from service.privacy.pii import redact
from service.retrieval.retriever import Vector
from service.routing.route import Route
from service.smalltalk import SmallTalk

# Handoff reasons after which the model is not asked at all: a person takes over now.
TAKEOVER = ("customer_request", "dissatisfaction")


@lru_cache(maxsize=2048)
def shown_quote(text: str) -> str:
    """A passage as customers see it in a citation (web chat footnotes, the OpenAI extra): verbatim
    when ``quotable`` keeps all of it, else what ``quotable`` lets through — no markup, no sentence
    addressing the reader as instructions — like the extractive reply's quotes.

    Memoised by the passage's text: the same passages are cited again and again, and the filter's
    rules cost ~2 ms of CPU per answer (13 % of the service's CPU at 64 streams, measured)."""
    kept = quotable(text)
    return text if kept.split() == text.split() else kept


def citations_for(hits: list[SearchHit]) -> list[Citation]:
    """The passages in their retrieval order, each with the score that ordered it and its cosine
    (``Citation``: a hybrid ranking does not follow the cosine, so showing the cosine as the score
    showed [1] 0.79 before [2] 0.83)."""
    return [
        Citation(
            index=n,
            doc_id=h.payload.doc_id,
            title=h.payload.title,
            source=h.payload.source,
            section=under_title(h.payload.title, h.payload.section),
            score=round(h.score, 4),
            similarity=round(h.dense_score, 4) if h.dense_score is not None else None,
            quote=shown_quote(h.payload.text),
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


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex[:20]}"


@dataclass
class Plan:
    """One answer, decided: who asked what, in which language, from which passages, routed and
    handed off how — or answered from the answer cache or as small talk."""

    client: Client  # the caller: its tenant (``name``), key, scopes and limits
    request: AnswerRequest
    conversation_id: str
    message_id: str
    language: str
    kb_version: int
    prefix: Prefix  # the cached prompt prefix of kb_version
    first_turn: bool
    conversation: Conversation | None = None
    smalltalk: SmallTalk | None = None
    cached: CacheHit | None = None
    hits: list[SearchHit] = field(default_factory=list)
    relevant: int = 0  # how many of ``hits`` passed the relevance cut-off itself (the gate)
    # The ids of the passages an answer without a model quotes, in the order quoted
    # (``RelevanceFloor.quoted``: the best first); None: the first ``MAX_QUOTED``.
    quoted: list[str] | None = None
    # ``[n]`` → the section an extractive quote of passage n is from (``extractive.Written``): its
    # citation names that section, not the chunk's first one.
    quoted_sections: dict[int, str] = field(default_factory=dict)
    vector: Vector | None = None
    route: Route | None = None
    handoff: Handoff | None = None
    # The customer's message redacted (service.privacy.redaction); ``request.question`` is what
    # goes upstream: the same text unless PRIVACY_REDACT_UPSTREAM=false. None: redacted on use.
    stored_question: str | None = None
    # A person has the conversation (``Conversation.state``): the assistant does not answer, the
    # message goes to the agents (``service.answers.with_agent``).
    with_agent: bool = False
    # ``language`` is only the detector's fallback (it knows no language of the question: Arabic,
    # Thai… by default): Claude replies in the question's own language, and no answer is cached
    # under ``language`` (the reply's language is not known).
    own_language: bool = False
    # The customer's message assessed for dissatisfaction (once; stored with the turn).
    mark: TurnMark | None = None
    # The script of a reply in Chinese (``service.core.chinese.chinese_script``); None otherwise.
    script: Script | None = None
    # The customer's message's own id (records, stored turns); ``message_id`` is the reply's, the
    # one the API returns — or, while a person has the conversation, the customer's message's.
    question_id: str = field(default_factory=new_message_id)

    @property
    def tag(self) -> str:
        """The reply's language as the built-in texts, the prompt and the answer cache read it:
        ``zh-Hant`` for Traditional Chinese, else ``language`` (which stays ``zh``: records, meta)."""
        return tagged(self.language, self.script)

    @property
    def customer_message_id(self) -> str:
        """The id of the customer's message: its own, or the returned one when no reply follows."""
        return self.message_id if self.with_agent else self.question_id

    @property
    def agent_messages(self) -> tuple[Turn, ...]:
        """The agents' messages stored after the customer's latest message, oldest first."""
        return self._since_customer(lambda turn: turn.role == "agent")

    @property
    def notices(self) -> tuple[Turn, ...]:
        """The assistant's notices (``Turn.notice``: a handoff that reached no one, a takeover given
        back) stored after the customer's latest message, oldest first."""
        return self._since_customer(lambda turn: turn.notice)

    def _since_customer(self, kept: Callable[[Turn], bool]) -> tuple[Turn, ...]:
        turns = self.conversation.turns if self.conversation is not None else []
        pending: list[Turn] = []
        for turn in reversed(turns):
            if turn.role == "user":
                break
            if kept(turn):
                pending.append(turn)
        return tuple(reversed(pending))

    @property
    def session_key(self) -> str:
        return conversation_key(self.client.name, self.conversation_id)

    def bill(self, purpose: Purpose) -> Bill:
        """The caller's key charged for a Claude call made for this answer (``purpose``)."""
        return Bill.of(self.client, purpose, conversation_id=self.conversation_id, message_id=self.message_id)

    @property
    def takeover(self) -> bool:
        """A person takes over now: the model is not asked."""
        return self.handoff is not None and self.handoff.reason in TAKEOVER

    @property
    def citations(self) -> list[Citation]:
        if self.cached is not None:
            return [Citation.model_validate(c) for c in self.cached.answer.citations]
        cited = citations_for(self.hits)
        if self.quoted_sections:
            cited = [
                c.model_copy(update={"section": under_title(c.title, self.quoted_sections[c.index])})
                if c.index in self.quoted_sections
                else c
                for c in cited
            ]
        return cited

    def user_turn(self) -> Turn:
        """The customer's turn as stored (redacted). Its mark says whether this answer handed the
        customer's dissatisfaction on (``TurnMark.handed_off``): later turns count afresh."""
        return self._turn(handed_off=self.handoff is not None and "dissatisfaction" in self.handoff.reasons)

    def _turn(self, *, handed_off: bool = False) -> Turn:
        stored, mark = self.stored_question, self.mark
        if handed_off and mark is not None:
            mark = mark.model_copy(update={"handed_off": True})
        return Turn(
            role="user",
            text=stored if stored is not None else redact(self.request.question),
            language=self.language,
            intent=smalltalk.INTENT if self.smalltalk else self.route.intent if self.route else None,
            message_id=self.customer_message_id,
            mark=mark,
        )

    def signals(self, *, llm_available: bool = True, documents_answer: bool = True) -> HandoffSignals:
        # Redacted like the stored turns: the handoff summary goes to the agents' webhook.
        turns: list[Turn] = list(self.conversation.turns) if self.conversation else []
        turns.append(self._turn())  # judged as asked, whatever a decision before this one found
        conv = self.conversation
        return HandoffSignals(
            language=self.language,
            intent=self.route.intent if self.route else None,
            confidence=self.route.confidence if self.route else None,
            relevant_hits=self.relevant,
            llm_available=llm_available,
            documents_answer=documents_answer,
            turns=turns,
            first_turn=conv.first_turn if conv else 0,
            counted_from=conv.state_since if conv else 0,
            citations=citations_for(self.hits),
            summary=None,
        )


@dataclass(frozen=True)
class Outcome:
    """What one answer sent, for ``service.answers.aftercare``."""

    mode: Mode
    text: str
    usage: Usage
    model: str | None
    handoff: Handoff | None
    cached: CacheHit | None = None
    stop_reason: str | None = None
