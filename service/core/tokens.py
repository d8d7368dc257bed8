"""Tokens: ``TokenUsage``, the token counts and cost of one Claude call, as a protocol (so the
modules that only read them — metrics, the usage ledger's records — need not import the API's
``Usage`` model), and ``estimate_tokens``, the local estimate of Claude tokens in a text (Claude's
tokenizer is not available locally): the conversation window's budget and the output of a reply
cut off before the API said how long it was."""

from __future__ import annotations

import math
import re
from typing import Protocol

CHARS_PER_TOKEN = 3.5  # Latin-script text; CJK characters count one token each
CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def estimate_tokens(text: str) -> int:
    """A cheap, slightly pessimistic estimate of Claude tokens in ``text``."""
    cjk = len(CJK_RE.findall(text))
    return math.ceil(cjk + (len(text) - cjk) / CHARS_PER_TOKEN)


class TokenUsage(Protocol):
    """What metrics and usage records read (``service.api.schemas.Usage`` has these fields)."""

    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cache_read_input_tokens(self) -> int: ...
    @property
    def cache_creation_input_tokens(self) -> int: ...
    @property
    def cost_usd(self) -> float: ...
