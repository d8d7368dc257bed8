"""The kinds of small talk (what a reply answers)."""

from __future__ import annotations

from typing import Literal

# "unclear": a message of no words at all ("???", "🌵🌵🌵"): never in the lexicon (``matcher.match``).
Kind = Literal["greeting", "how_are_you", "thanks", "ack", "goodbye", "unclear"]
LISTED_KINDS: tuple[Kind, ...] = ("greeting", "how_are_you", "thanks", "ack", "goodbye")  # in LEXICON
