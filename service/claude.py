"""Claude through the official SDK (AsyncAnthropic): the one place that talks to the LLM.

SDK retries are off (``max_retries=0``): resilience belongs to one layer of our own, and nothing
may be retried once text has reached the customer. Vendor exceptions become ``UpstreamError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import anthropic

from knowledge.errors import FaqstreamError
from service.schemas import Usage
from service.settings import AnthropicSettings


class UpstreamError(FaqstreamError):
    def __init__(self, code: str, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Completed:
    stop_reason: str | None
    usage: Usage


def cost_usd(settings: AnthropicSettings, usage: Usage) -> float:
    per_token = settings.price_input_per_mtok / 1_000_000
    return round(
        usage.input_tokens * per_token
        + usage.cache_creation_input_tokens * per_token * settings.cache_write_multiplier
        + usage.cache_read_input_tokens * per_token * settings.cache_read_multiplier
        + usage.output_tokens * settings.price_output_per_mtok / 1_000_000,
        8,
    )


def _translate(exc: Exception) -> UpstreamError:
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        kind = getattr(exc, "type", None) or (
            exc.body.get("error", {}).get("type") if isinstance(exc.body, dict) else None
        )
        retryable = status in {408, 409, 429, 500, 502, 503, 504, 529} or kind in {
            "overloaded_error",
            "api_error",
        }
        return UpstreamError(
            str(kind or f"http_{status}"),
            f"Claude API error: {exc.message}",
            retryable=retryable,
            status=status,
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return UpstreamError("upstream_timeout", "Claude API timed out", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return UpstreamError("upstream_unreachable", "Claude API unreachable", retryable=True)
    return UpstreamError(
        "upstream_failed", f"Claude stream failed: {type(exc).__name__}: {exc}", retryable=True
    )


class ClaudeClient:
    def __init__(self, settings: AnthropicSettings) -> None:
        assert settings.api_key is not None
        self.settings = settings
        self._client = anthropic.AsyncAnthropic(
            api_key=settings.api_key.get_secret_value(),
            base_url=settings.base_url,
            max_retries=0,
            timeout=settings.timeout_s,
        )

    async def stream(
        self, system: list[dict[str, Any]], messages: list[dict[str, Any]]
    ) -> AsyncGenerator[TextDelta | Completed, None]:
        """Text deltas, then one ``Completed``. Closing the iterator closes the upstream request."""
        try:
            async with self._client.messages.stream(
                model=self.settings.model,
                max_tokens=self.settings.max_tokens,
                system=system,  # type: ignore[arg-type]
                messages=messages,  # type: ignore[arg-type]
            ) as stream:
                async for text in stream.text_stream:
                    if text:
                        yield TextDelta(text)
                final = await stream.get_final_message()
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:
            raise _translate(exc) from exc
        u = final.usage
        usage = Usage(
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_input_tokens=u.cache_read_input_tokens or 0,
            cache_creation_input_tokens=u.cache_creation_input_tokens or 0,
        )
        usage.cost_usd = cost_usd(self.settings, usage)
        yield Completed(final.stop_reason, usage)

    async def close(self) -> None:
        await self._client.close()
