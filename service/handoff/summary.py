"""The handoff summary for the human agent: extractive, labels in English, the customer's own words
quoted, the facts they gave (``service.conversations.facts``), what was already answered and the
sources. A precomputed summary (e.g. Claude's) is used instead when the flow has one."""

from __future__ import annotations

import re
from collections.abc import Sequence

from service.conversations.facts import extract_facts
from service.core.languages import language_name
from service.core.text import clip_text, collapse
from service.handoff.signals import HandoffReason, HandoffSignals

MAX_FACTS = 8

REASON_TEXT: dict[HandoffReason, str] = {
    "customer_request": "the customer asked for a human",
    "dissatisfaction": "the customer is repeatedly dissatisfied with the answers",
    "llm_unavailable": "the AI model is unavailable (the customer got quoted passages only)",
    "low_confidence": "the request could not be classified with confidence",
    "no_relevant_passages": "the documents do not cover the question",
    "not_in_documents": "the AI model found that the retrieved passages do not answer the question",
}


def _quote(text: str, limit: int) -> str:
    return f'"{clip_text(collapse(text), limit)}"'


def _first_sentence(text: str, limit: int = 180) -> str:
    flat = collapse(text)
    cut = re.search(r"(?<=[.!?。！？])\s", flat)
    return _quote(flat[: cut.start()] if cut else flat, limit)


def agent_summary(
    signals: HandoffSignals, reasons: Sequence[HandoffReason], dissatisfied: int, max_chars: int
) -> str:
    """The flow's precomputed summary when it has one, else ``build_summary``; at most ``max_chars``."""
    given = signals.summary.strip() if signals.summary else ""
    return clip_text(given or build_summary(signals, reasons, dissatisfied), max_chars)


def build_summary(signals: HandoffSignals, reasons: Sequence[HandoffReason], dissatisfied: int) -> str:
    """Extractive summary for the agent: labels in English, the customer's words as quoted."""
    customer = [t.text for t in signals.turns if t.role == "user" and t.text.strip()]
    answers = [t.text for t in signals.turns if t.role == "assistant" and t.text.strip()]
    name = language_name(signals.language)
    lines = [f"Handoff: {REASON_TEXT[reasons[0]]}."]
    if len(reasons) > 1:
        lines[0] += " Also: " + "; ".join(REASON_TEXT[r] for r in reasons[1:]) + "."
    about = f"Language: {name} ({signals.language})."
    if signals.intent:
        confidence = f", confidence {signals.confidence:.2f}" if signals.confidence is not None else ""
        about += f" Intent: {signals.intent}{confidence}."
    if dissatisfied:
        about += f" Dissatisfied turns: {dissatisfied}."
    lines.append(about)
    if customer:
        request = next((t for t in customer if len(t.split()) >= 3 or len(t) >= 12), customer[0])
        lines.append(f"Customer wants: {_quote(request, 240)}")
        if customer[-1] != request:
            lines.append(f"Latest message: {_quote(customer[-1], 240)}")
    facts = extract_facts(customer, MAX_FACTS)
    if facts:
        lines.append("Facts given: " + "; ".join(facts))
    if answers:
        lines.append(
            f"Already answered ({len(answers)} repl{'y' if len(answers) == 1 else 'ies'}), last: "
            + _first_sentence(answers[-1])
        )
    titles = list(dict.fromkeys(c.title for c in signals.citations if c.title))
    if titles:
        lines.append("Sources: " + "; ".join(titles[:5]))
    return "\n".join(lines)
