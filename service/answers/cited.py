"""Which of the passages given for a reply the reply cites: its ``[n]`` markers.

A generated reply cites passage ``n`` with ``[n]``; an extractive reply quotes each passage it shows
under ``[n] Title: …`` (``service.answers.extractive``), so the same markers name what it quotes.
A marker that names no passage given is not a citation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MARKER = re.compile(r"\[(\d{1,3})\]")


def cited_indices(text: str, given: Iterable[int]) -> set[int]:
    """The indices of the passages ``given`` that ``text`` cites."""
    return {int(n) for n in MARKER.findall(text)} & set(given)
