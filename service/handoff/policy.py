"""When to hand a conversation to a human, and what the human gets.

Pure decisions, no I/O except loading the curated dissatisfaction lexicon once
(``service/handoff/dissatisfaction.yaml``). The answer flow collects ``HandoffSignals`` (router output,
retrieval, LLM health, the conversation) and asks ``HandoffPolicy.decide``; a ``Handoff`` comes
back when a human should take over, carrying the reason, a summary for the agent, the intent, the
customer's language and the cited passages. ``HandoffPolicy.notice`` is what the customer reads
(``service.handoff.delivery``: what the handoff's destination lets it promise).

Precedence when several reasons apply (``Handoff.reason`` is the first, ``Handoff.reasons`` all):

1. ``customer_request`` — the customer asked for a human (router intent in
   ``HANDOFF_HUMAN_INTENTS`` at or above the confidence threshold, or an explicit UI request).
   Their own words come first.
2. ``dissatisfaction`` — ``HANDOFF_DISSATISFACTION_COUNT`` customer turns were dissatisfied. The
   agent must know they are talking to an upset customer before anything else. Each customer turn
   is assessed once, as it is asked (``HandoffPolicy.mark``, stored with the turn); a decision
   judges the kept turns' marks (``service.handoff.dissatisfaction``). Only the turns of the current
   episode count: after the last dissatisfaction handoff (its turn's mark is ``handed_off``) and the
   last handback (``HandoffSignals.counted_from``) — the same complaints never hand off twice.
3. ``llm_unavailable`` — the configured LLM failed (errors, open circuit). A system fault, not
   about this question; the customer gets the extractive passages and a human.
4. ``low_confidence`` — the router is not sure what the customer wants (under
   ``HANDOFF_CONFIDENCE_THRESHOLD``). A retrieval miss may just follow from that, so it comes first.
   Only with the team's own intents file (``custom_intents``, decided at start-up by
   ``service.routing.catalog.intents_origin``): labels written for someone else's business say nothing
   about this customer's request, so without a custom file a low confidence never hands off alone.
5. ``no_relevant_passages`` — fewer than ``HANDOFF_MIN_RELEVANT_HITS`` passages above the
   relevance floor (the cut-off calibrated on the knowledge base, ``service.retrieval.relevance``): the
   documents do not cover the question. Decided before the model is asked, which it then is not.
6. ``not_in_documents`` — the model was given passages and signalled, with its structured tool
   call (``service.answers.prompts.NOT_IN_DOCUMENTS``), that they do not answer the question. Decided
   after the answer streamed (it travels in ``done``); the model's text stays the reply. Last,
   because every other reason is known before the model is asked.
"""

from __future__ import annotations

from service.conversations.marks import TurnMark
from service.conversations.store import Conversation
from service.handoff.delivery import HandoffRoutes
from service.handoff.dissatisfaction import DissatisfactionDetector
from service.handoff.settings import HandoffSettings
from service.handoff.signals import REASON_ORDER, Handoff, HandoffReason, HandoffSignals
from service.handoff.summary import agent_summary


def handoff_reasons(
    signals: HandoffSignals, settings: HandoffSettings, dissatisfied: int, *, custom_intents: bool = True
) -> list[HandoffReason]:
    """Every reason for a handoff that applies, in precedence order (empty: no handoff).

    ``custom_intents=False`` (the router runs the bundled example intents): low confidence alone
    is no reason."""
    confident = signals.confidence is None or signals.confidence >= settings.confidence_threshold
    found: set[HandoffReason] = set()
    if signals.customer_asked or (signals.intent in settings.human_intents and confident):
        found.add("customer_request")
    if dissatisfied >= settings.dissatisfaction_count:
        found.add("dissatisfaction")
    if not signals.llm_available:
        found.add("llm_unavailable")
    if not confident and custom_intents:
        found.add("low_confidence")
    if signals.relevant_hits < settings.min_relevant_hits:
        found.add("no_relevant_passages")
    if not signals.documents_answer:
        found.add("not_in_documents")
    return [r for r in REASON_ORDER if r in found]


def decide(
    signals: HandoffSignals,
    settings: HandoffSettings | None = None,
    detector: DissatisfactionDetector | None = None,
    *,
    custom_intents: bool = True,
) -> Handoff | None:
    settings = settings or HandoffSettings()
    dissatisfied = signals.dissatisfied_turns
    if dissatisfied is None:
        detector = detector or DissatisfactionDetector.load(settings.lexicon_path)
        dissatisfied = detector.count_turns(signals.turns, signals.first_turn, since=signals.counted_from)
    reasons = handoff_reasons(signals, settings, dissatisfied, custom_intents=custom_intents)
    if not reasons:
        return None
    return Handoff(
        reason=reasons[0],
        reasons=reasons,
        summary=agent_summary(signals, reasons, dissatisfied, settings.summary_max_chars),
        intent=signals.intent,
        confidence=signals.confidence,
        language=signals.language,
        citations=list(signals.citations),
        dissatisfied_turns=dissatisfied,
    )


class HandoffPolicy:
    """Settings plus the loaded lexicon: what the service holds and calls per answer.

    ``custom_intents``: whether the router's labels are the team's own (``ROUTER_INTENTS_FILE``);
    only then does a low intent confidence hand off. ``routes``: where handoffs go (default: the
    webhook and contact of ``settings``, the default ``AGENTS_TAKEOVER_REASONS``)."""

    def __init__(
        self,
        settings: HandoffSettings,
        detector: DissatisfactionDetector | None = None,
        *,
        custom_intents: bool = True,
        routes: HandoffRoutes | None = None,
    ) -> None:
        self.settings = settings
        self.detector = detector or DissatisfactionDetector.load(settings.lexicon_path)
        self.custom_intents = custom_intents
        self.routes = routes or HandoffRoutes(webhook=bool(settings.webhook_url), contact=settings.contact)

    def decide(self, signals: HandoffSignals) -> Handoff | None:
        return decide(signals, self.settings, self.detector, custom_intents=self.custom_intents)

    def mark(self, text: str, conversation: Conversation | None) -> TurnMark:
        """The customer's new message (as stored: redacted) assessed for dissatisfaction, once: the
        answer flow keeps the mark with the turn (``Turn.mark``), so no later answer assesses it
        again — ``decide`` judges the marks of the kept turns (``count_turns``)."""
        earlier: list[tuple[int, str]] = []
        if conversation is not None:
            earlier = [
                (position, t.text)
                for position, t in enumerate(conversation.turns, conversation.first_turn)
                if t.role == "user"
            ]
        return self.detector.mark(text, earlier)

    def notice(self, language: str, handoff: Handoff | None, opening: HandoffReason | None = None) -> str:
        """What the customer reads for ``handoff`` (``HandoffRoutes.notice``)."""
        return self.routes.notice(language, handoff, opening)
