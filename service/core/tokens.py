"""``TokenUsage``: the token counts and cost of one Claude call, as a protocol, so the modules that
only read them (metrics, the usage ledger's records) need not import the API's ``Usage`` model."""

from __future__ import annotations

from typing import Protocol


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
