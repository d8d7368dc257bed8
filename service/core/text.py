"""Shortening text for people to read: the one clipper (conversation summaries, the extractive
answer's quotes, what history keeps of a turn)."""

from __future__ import annotations

ELLIPSIS = "…"


def collapse(text: str) -> str:
    """Runs of whitespace (newlines included) as one space, trimmed."""
    return " ".join(text.split())


def clip_text(text: str, limit: int, *, sentence: bool = False) -> str:
    """At most ``limit`` characters. Cut at a word boundary when there is one in the second half,
    marked with '…'; with ``sentence``, at the last sentence end ('. ' or '。') past a third of
    ``limit`` when there is one (no mark: the sentence is whole)."""
    if len(text) <= limit:
        return text
    if sentence:
        end = max(text.rfind(". ", 0, limit), text.rfind("。", 0, limit))
        if end > limit // 3:
            return text[: end + 1]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + ELLIPSIS
