"""Outgoing webhooks: JSON POSTs from background tasks, retried, signed, never blocking the caller.

``WebhookSender(url, settings).send(event_type, payload)`` puts the event on a bounded queue and
returns at once; a full queue (or a closed sender) drops the event with a log line and a counter.
Worker tasks POST each event with httpx and retry transient failures with tenacity: connection
errors, timeouts, 408, 429 and 5xx, with exponential backoff and jitter, or the server's
``Retry-After`` when it sends one (capped); other statuses are final. ``aclose`` stops accepting
events and drains the queue for a bounded time.

Body: ``{"id", "type", "created_at", "data"}``. Headers: ``X-Faqstream-Event`` (the type),
``X-Faqstream-Delivery`` (the id, the same on every attempt: receivers dedupe on it) and, with
``WEBHOOK_SECRET`` set, ``X-Faqstream-Timestamp`` and ``X-Faqstream-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>." + body`` — receivers check it with ``verify_signature`` and refuse
stale timestamps so a captured request cannot be replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from prometheus_client import CollectorRegistry, Counter
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from knowledge.settings import _config
from service.core.retry_after import parse_retry_after

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Faqstream-Signature"
TIMESTAMP_HEADER = "X-Faqstream-Timestamp"
EVENT_HEADER = "X-Faqstream-Event"
DELIVERY_HEADER = "X-Faqstream-Delivery"
RETRY_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))


class WebhookSettings(BaseSettings):
    model_config = _config("WEBHOOK_")

    timeout_s: float = Field(default=10.0, gt=0, description="per attempt")
    attempts: int = Field(default=5, ge=1, le=20, description="POST attempts per event, first included")
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    retry_after_max_s: float = Field(default=120.0, ge=0, description="longest Retry-After honoured")
    secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 signing key; unset = unsigned")
    queue_size: int = Field(default=1000, ge=1, description="events waiting; more are dropped")
    workers: int = Field(default=2, ge=1, le=32, description="deliveries in flight at once")
    drain_s: float = Field(default=10.0, ge=0, description="how long shutdown waits for the queue")

    @field_validator("secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


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
    ) -> None:
        self.url = url
        self.settings = settings or WebhookSettings()
        self.name = name
        self.metrics = WebhookMetrics.on(registry if registry is not None else CollectorRegistry())
        self._sleep = sleep
        self._clock = clock
        self._queue: asyncio.Queue[_Event] = asyncio.Queue(maxsize=self.settings.queue_size)
        self._workers: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._closed = False

    # --- producer side ------------------------------------------------------------------------

    def send(self, event_type: str, payload: Mapping[str, Any]) -> None:
        """Queue one event; never blocks or raises on delivery problems. Starts the workers lazily."""
        event_id = str(uuid.uuid4())
        if self._closed:
            self._drop(event_type, event_id, "sender closed")
            return
        created = datetime.fromtimestamp(self._clock(), UTC).isoformat()
        body = json.dumps(
            {"id": event_id, "type": event_type, "created_at": created, "data": dict(payload)},
            ensure_ascii=False,
            default=str,
        ).encode()
        try:
            self._queue.put_nowait(_Event(event_id, event_type, body))
        except asyncio.QueueFull:
            self._drop(event_type, event_id, "queue full")
            return
        if not self._workers:
            with contextlib.suppress(RuntimeError):  # no running loop: start() will pick it up
                self.start()

    def _drop(self, event_type: str, event_id: str, reason: str) -> None:
        self.metrics.events.labels(self.name, "dropped").inc()
        log.warning("webhook %s: dropped %s event %s (%s)", self.name, event_type, event_id, reason)

    @property
    def pending(self) -> int:
        """Events queued and not yet taken by a worker."""
        return self._queue.qsize()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker tasks on the running loop (idempotent)."""
        if self._workers or self._closed:
            return
        asyncio.get_running_loop()  # raises RuntimeError outside a loop, before anything is built
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.timeout_s),
            follow_redirects=False,
            headers={"User-Agent": "faqstream-webhooks/1"},
        )
        self._workers = [
            asyncio.create_task(self._work(), name=f"webhook-{self.name}-{i}")
            for i in range(self.settings.workers)
        ]

    async def aclose(self, drain_s: float | None = None) -> None:
        """Stop accepting events, deliver what is queued for up to ``drain_s``, then stop."""
        self._closed = True
        wait = self.settings.drain_s if drain_s is None else drain_s
        if self._workers:
            try:
                await asyncio.wait_for(self._queue.join(), timeout=wait)
            except TimeoutError:
                log.warning("webhook %s: shutdown after %.1fs with events undelivered", self.name, wait)
            for task in self._workers:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            self._workers = []
        while not self._queue.empty():
            event = self._queue.get_nowait()
            self._queue.task_done()
            self.metrics.events.labels(self.name, "abandoned").inc()
            log.warning("webhook %s: abandoned %s event %s at shutdown", self.name, event.type, event.id)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- delivery -----------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                outcome = await self._deliver(event)
            except asyncio.CancelledError:
                self.metrics.events.labels(self.name, "abandoned").inc()
                log.warning("webhook %s: abandoned %s event %s at shutdown", self.name, event.type, event.id)
                raise
            except Exception:
                log.exception("webhook %s: %s event %s failed unexpectedly", self.name, event.type, event.id)
                outcome = "failed"
            finally:
                self._queue.task_done()
            self.metrics.events.labels(self.name, outcome).inc()

    async def _deliver(self, event: _Event) -> str:
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
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: event.type,
            DELIVERY_HEADER: event.id,
        }
        if self.settings.secret is not None:
            timestamp = int(self._clock())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = sign(self.settings.secret.get_secret_value(), timestamp, event.body)
        try:
            response = await self._client.post(self.url, content=event.body, headers=headers)
        except httpx.TransportError as exc:  # connect/read/write errors and timeouts
            raise _TransientError(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now=self._clock())
            raise _TransientError(f"HTTP {status}", retry_after)
        raise _RejectedError(f"HTTP {status}")

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _TransientError) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.retry_after_max_s)
        backoff = wait_exponential_jitter(
            initial=self.settings.backoff_initial_s,
            max=self.settings.backoff_max_s,
            jitter=self.settings.backoff_initial_s,
        )
        return float(backoff(state))

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
