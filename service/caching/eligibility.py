"""What may go into the answer cache at all: no personal data, no handoffs, no errors or non-answers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from service.privacy.pii import PLACEHOLDERS, find_pii

_CACHEABLE_MODES = frozenset({"generative", "extractive"})
_CACHEABLE_STOPS = frozenset({"end_turn", "stop_sequence", "extractive"})
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in set(PLACEHOLDERS.values())))


def should_store(
    question: str,
    answer_text: str,
    handoff: bool,
    mode: str,
    *,
    stop_reason: str | None = None,
    sources: Iterable[str] = (),
) -> bool:
    """Whether an answer may go into the cache.

    Never: handoffs; replays (``cached``) or unknown modes; empty answers; answers that did not end
    normally (``stop_reason`` other than end_turn/stop_sequence/extractive, e.g. ``max_tokens``,
    ``no_relevant_passages``, errors); a question with personal data, or already redacted (a
    placeholder such as ``[email]`` shows there was some); an answer with personal data that is not
    quoted from ``sources`` (the cited passages — a company's own published support e-mail or phone
    number in its policy documents is not the customer's data).
    """
    if handoff or mode not in _CACHEABLE_MODES or not answer_text.strip():
        return False
    if stop_reason is not None and stop_reason not in _CACHEABLE_STOPS:
        return False
    if find_pii(question) or _PLACEHOLDER_RE.search(question):
        return False
    published = "\n".join(sources)
    return all(answer_text[m.start : m.end] in published for m in find_pii(answer_text))
