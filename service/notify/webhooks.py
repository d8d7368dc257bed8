"""Outgoing webhooks: JSON POSTs from background tasks, retried, signed, never blocking the caller.

``WebhookSender(url, settings).send(event_type, payload)`` puts the event on a bounded
``BackgroundQueue`` and returns at once; a full queue (or a closed sender) drops the event with a
log line and a counter. Worker tasks POST each event with httpx and retry transient failures with
tenacity: connection errors, timeouts, 408, 429 and 5xx, with exponential backoff and jitter, or
the server's ``Retry-After`` when it sends one (capped); other statuses are final. ``aclose`` stops
accepting events and drains the queue for a bounded time.

``send(..., on_undelivered=hook)``: ``hook(outcome)`` is awaited when that event is not delivered —
``failed`` (retries exhausted), ``rejected`` (a final 4xx) or ``dropped`` (the queue was full) — so
the sender of an event that must reach someone can act (``service.agents.lapse``: a handoff nobody
received gives the conversation back to the assistant). Not at shutdown (``abandoned``, or an
event sent to a closed sender): the process is going away. A failing hook is logged, never raised.

Body: ``{"id", "type", "created_at", "data"}``. Headers: ``X-Faqstream-Event`` (the type),
``X-Faqstream-Delivery`` (the id, the same on every attempt: receivers dedupe on it) and, with
``WEBHOOK_SECRET`` set, ``X-Faqstream-Timestamp`` and ``X-Faqstream-Signature`` (``signing.py``).

Every string in the payload is redacted (``service.privacy``) before the body is built: the
senders already pass redacted text, and this is the last guard before data leaves the process.

The service refuses to start with a webhook URL and no secret (``require_signing``) unless
``WEBHOOK_ALLOW_UNSIGNED`` (development).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx
from prometheus_client import CollectorRegistry, Counter
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from knowledge.errors import ConfigError
from knowledge.settings import EmptyIsNone, _config
from service.core.background import BackgroundQueue, DropReason
from service.core.retry_after import retry_after_s
from service.notify.signing import DELIVERY_HEADER, EVENT_HEADER, signature_headers
from service.privacy.pii import redact as redact_pii

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
Outcome = Literal["delivered", "failed", "rejected", "dropped", "abandoned"]
Undelivered = Callable[[Outcome], Awaitable[None]]  # what a sender does when its event reached no one


class WebhookSettings(BaseSettings):
    model_config = _config("WEBHOOK_")

    timeout_s: float = Field(default=10.0, gt=0, description="per attempt")
    attempts: int = Field(default=5, ge=1, le=20, description="POST attempts per event, first included")
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    retry_after_max_s: float = Field(default=120.0, ge=0, description="longest Retry-After honoured")
    secret: EmptyIsNone[SecretStr] = Field(
        default=None,
        description="HMAC-SHA256 signing key; required when a webhook URL is set (else the service "
        "refuses to start) unless WEBHOOK_ALLOW_UNSIGNED",
    )
    allow_unsigned: bool = Field(
        default=False,
        description="development only: send webhooks unsigned when WEBHOOK_SECRET is unset",
    )
    queue_size: int = Field(default=1000, ge=1, description="events waiting; more are dropped")
    workers: int = Field(default=2, ge=1, le=32, description="deliveries in flight at once")
    drain_s: float = Field(default=10.0, ge=0, description="how long shutdown waits for the queue")


def require_signing(settings: WebhookSettings, **urls: str | None) -> None:
    """Refuse to start (``ConfigError``) with a webhook URL and no ``WEBHOOK_SECRET``, unless
    ``WEBHOOK_ALLOW_UNSIGNED``: a receiver cannot tell an unsigned delivery from a forged one."""
    configured = [name for name, url in urls.items() if url]
    if configured and settings.secret is None and not settings.allow_unsigned:
        raise ConfigError(
            f"{' and '.join(configured)} set without WEBHOOK_SECRET: webhooks must be signed "
            "(set WEBHOOK_SECRET, or WEBHOOK_ALLOW_UNSIGNED=true in development)"
        )


class _TransientError(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _RejectedError(Exception):
    """A final answer from the receiver (a 4xx other than 408/429, or a redirect)."""


@dataclass(frozen=True)
class _Event:
    id: str
    type: str
    body: bytes
    on_undelivered: Undelivered | None = None


class WebhookMetrics:
    """Counters shared by every sender registered on one registry (label ``sender``)."""

    _by_registry: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, WebhookMetrics]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "faqstream_webhook_events_total",
            "Webhook events by outcome: delivered, failed, rejected, dropped, abandoned",
            ["sender", "outcome"],
            registry=registry,
        )
        self.retries = Counter(
            "faqstream_webhook_retries_total", "Webhook POSTs retried", ["sender"], registry=registry
        )

    @classmethod
    def on(cls, registry: CollectorRegistry) -> WebhookMetrics:
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls._by_registry[registry] = cls(registry)
        return metrics


class WebhookSender:
    """One target URL. Create it in the app factory, ``start()`` it in startup, ``aclose()`` it last."""

    def __init__(
        self,
        url: str,
        settings: WebhookSettings | None = None,
        *,
        name: str = "webhook",
        registry: CollectorRegistry | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        redact: Callable[[str], str] = redact_pii,
    ) -> None:
        self.url = url
        self._redact = redact
        self.settings = settings or WebhookSettings()
        self.name = name
        self.metrics = WebhookMetrics.on(registry if registry is not None else CollectorRegistry())
        self._sleep = sleep
        self._clock = clock
        self._backoff = wait_exponential_jitter(
            initial=self.settings.backoff_initial_s,
            max=self.settings.backoff_max_s,
            jitter=self.settings.backoff_initial_s,
        )
        self._queue: BackgroundQueue[_Event] = BackgroundQueue(
            f"webhook-{name}",
            self._deliver_each,
            maxsize=self.settings.queue_size,
            workers=self.settings.workers,
            on_drop=self._dropped,
        )
        self._client: httpx.AsyncClient | None = None
        self._hooks: set[asyncio.Task[None]] = set()  # hooks of dropped events, running

    # --- producer side ------------------------------------------------------------------------

    def send(
        self, event_type: str, payload: Mapping[str, Any], *, on_undelivered: Undelivered | None = None
    ) -> None:
        """Queue one event; never blocks or raises on delivery problems. Starts the workers lazily.
        ``on_undelivered``: awaited with the outcome if the event does not reach the receiver."""
        event_id = str(uuid.uuid4())
        created = datetime.fromtimestamp(self._clock(), UTC).isoformat()
        body = json.dumps(
            {"id": event_id, "type": event_type, "created_at": created, "data": self._redacted(payload)},
            ensure_ascii=False,
            default=str,
        ).encode()
        if self._queue.offer(_Event(event_id, event_type, body, on_undelivered)) and not self._queue.started:
            with contextlib.suppress(RuntimeError):  # no running loop: start() will pick it up
                self.start()

    def _redacted(self, value: Any) -> Any:
        """``value`` with every string in it redacted (dict values, list items; keys are ours)."""
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, Mapping):
            return {k: self._redacted(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._redacted(v) for v in value]
        return value

    def _dropped(self, events: Sequence[_Event], reason: DropReason) -> None:
        outcome: Outcome = "dropped" if reason in ("full", "closed") else "abandoned"
        why = {"full": "queue full", "closed": "sender closed"}.get(reason, "at shutdown")
        for event in events:
            self._count(outcome)
            log.warning("webhook %s: %s %s event %s (%s)", self.name, outcome, event.type, event.id, why)
            if reason == "full" and event.on_undelivered is not None:
                self._later(event, outcome)

    def _later(self, event: _Event, outcome: Outcome) -> None:
        """Run a dropped event's hook on the running loop (``send`` was called without one: none)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._undelivered(event, outcome))
        self._hooks.add(task)
        task.add_done_callback(self._hooks.discard)

    def _count(self, outcome: Outcome) -> None:
        self.metrics.events.labels(self.name, outcome).inc()

    @property
    def pending(self) -> int:
        """Events queued and not yet taken by a worker."""
        return self._queue.pending

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker tasks on the running loop (idempotent)."""
        if self._queue.started or self._queue.closed:
            return
        asyncio.get_running_loop()  # raises RuntimeError outside a loop, before anything is built
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.timeout_s),
            follow_redirects=False,
            headers={"User-Agent": "faqstream-webhooks/1"},
        )
        self._queue.start()

    async def aclose(self, drain_s: float | None = None) -> None:
        """Stop accepting events, deliver what is queued for up to ``drain_s``, then stop."""
        await self._queue.aclose(self.settings.drain_s if drain_s is None else drain_s)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- delivery -----------------------------------------------------------------------------

    async def _deliver_each(self, events: list[_Event]) -> None:
        for event in events:
            try:
                outcome = await self._deliver(event)
            except Exception:
                log.exception("webhook %s: %s event %s failed unexpectedly", self.name, event.type, event.id)
                outcome = "failed"
            self._count(outcome)
            if outcome != "delivered":
                await self._undelivered(event, outcome)

    async def _undelivered(self, event: _Event, outcome: Outcome) -> None:
        if event.on_undelivered is None:
            return
        try:
            await event.on_undelivered(outcome)
        except Exception:
            log.exception("webhook %s: hook of %s event %s failed", self.name, event.type, event.id)

    async def _deliver(self, event: _Event) -> Outcome:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_TransientError),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._post(event)
        except _TransientError as exc:
            log.error(
                "webhook %s: %s event %s failed after %d attempts: %s",
                self.name,
                event.type,
                event.id,
                self.settings.attempts,
                exc,
            )
            return "failed"
        except _RejectedError as exc:
            log.error("webhook %s: %s event %s rejected: %s", self.name, event.type, event.id, exc)
            return "rejected"
        return "delivered"

    async def _post(self, event: _Event) -> None:
        assert self._client is not None
        headers = {"Content-Type": "application/json", EVENT_HEADER: event.type, DELIVERY_HEADER: event.id}
        if self.settings.secret is not None:
            secret = self.settings.secret.get_secret_value()
            headers |= signature_headers(secret, int(self._clock()), event.body)
        try:
            response = await self._client.post(self.url, content=event.body, headers=headers)
        except httpx.TransportError as exc:  # connect/read/write errors and timeouts
            raise _TransientError(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        if status in RETRY_STATUSES:
            raise _TransientError(f"HTTP {status}", retry_after_s(response.headers, now=self._clock()))
        raise _RejectedError(f"HTTP {status}")

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _TransientError) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.retry_after_max_s)
        return float(self._backoff(state))

    def _before_sleep(self, state: RetryCallState) -> None:
        self.metrics.retries.labels(self.name).inc()
        exc = state.outcome.exception() if state.outcome is not None else None
        log.info(
            "webhook %s: attempt %d failed (%s); retrying in %.2fs",
            self.name,
            state.attempt_number,
            exc,
            state.upcoming_sleep,
        )
