"""Webhook sender against a real local HTTP receiver (http.server in a thread)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from service.notify.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)
from service.notify.webhooks import WebhookSender, WebhookSettings


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers ``fail_status`` to the first ``fail_first`` requests, then 200."""

    fail_first: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    hold: threading.Event | None = None  # when set, requests wait for it before answering
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.requests.append(Received(headers, body))
            n = len(self.requests)
        self.arrived.set()
        if self.hold is not None:
            self.hold.wait(timeout=60)
        if n <= self.fail_first:
            extra = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return self.fail_status, extra
        return 200, {}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, extra = state.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        if state.hold is not None:
            state.hold.set()
        server.shutdown()
        server.server_close()


def settings(**overrides: Any) -> WebhookSettings:
    base: dict[str, Any] = {
        "attempts": 4,
        "backoff_initial_s": 0.5,
        "backoff_max_s": 8.0,
        "timeout_s": 10.0,
        "queue_size": 100,
        "workers": 1,
        "drain_s": 30.0,
        "secret": None,
    }
    base.update(overrides)
    return WebhookSettings(**base)


class Sleeps:
    """Records the waits tenacity asks for, without waiting (no wall-clock in tests)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def outcome(registry: CollectorRegistry, name: str, value: str) -> float:
    sample = registry.get_sample_value("faqstream_webhook_events_total", {"sender": name, "outcome": value})
    return sample or 0.0


def test_retries_transient_failures_with_one_delivery_id_and_valid_signatures(receiver: Receiver) -> None:
    receiver.fail_first = 2
    registry = CollectorRegistry()
    sleeps = Sleeps()

    async def run() -> None:
        sender = WebhookSender(
            receiver.url, settings(secret=SecretStr("s3cret")), name="t", registry=registry, sleep=sleeps
        )
        sender.send("budget.alert", {"key_id": "k1", "threshold": 0.8})
        await sender.aclose()

    asyncio.run(run())
    assert len(receiver.requests) == 3
    ids = {r.headers[DELIVERY_HEADER.lower()] for r in receiver.requests}
    assert len(ids) == 1
    for request in receiver.requests:
        assert request.headers[EVENT_HEADER.lower()] == "budget.alert"
        assert request.headers["content-type"] == "application/json"
        assert verify_signature(
            "s3cret",
            request.headers[TIMESTAMP_HEADER.lower()],
            request.body,
            request.headers[SIGNATURE_HEADER.lower()],
        )
    body = json.loads(receiver.requests[-1].body)
    assert body["type"] == "budget.alert" and body["id"] in ids
    assert body["data"] == {"key_id": "k1", "threshold": 0.8}
    # exponential backoff with jitter: 0.5·2^k plus up to 0.5 of jitter
    assert len(sleeps.waits) == 2
    assert 0.5 <= sleeps.waits[0] <= 1.0 and 1.0 <= sleeps.waits[1] <= 1.5
    assert outcome(registry, "t", "delivered") == 1
    assert registry.get_sample_value("faqstream_webhook_retries_total", {"sender": "t"}) == 2


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(receiver: Receiver, status: int) -> None:
    receiver.fail_first, receiver.fail_status = 1, status
    registry = CollectorRegistry()

    async def run() -> None:
        sender = WebhookSender(receiver.url, settings(), name="t", registry=registry, sleep=Sleeps())
        sender.send("x", {})
        await sender.aclose()

    asyncio.run(run())
    assert len(receiver.requests) == 2
    assert outcome(registry, "t", "delivered") == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422, 301])
def test_other_statuses_are_final(receiver: Receiver, status: int) -> None:
    receiver.fail_first, receiver.fail_status = 99, status
    registry = CollectorRegistry()

    async def run() -> None:
        sender = WebhookSender(receiver.url, settings(), name="t", registry=registry, sleep=Sleeps())
        sender.send("x", {})
        await sender.aclose()

    asyncio.run(run())
    assert len(receiver.requests) == 1
    assert outcome(registry, "t", "rejected") == 1
    assert outcome(registry, "t", "delivered") == 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), (format_datetime(datetime.fromtimestamp(1_000_042, UTC), usegmt=True), 42.0)],
)
def test_retry_after_is_honoured(receiver: Receiver, header: str, expected: float) -> None:
    receiver.fail_first, receiver.fail_status, receiver.retry_after = 1, 429, header
    sleeps = Sleeps()

    async def run() -> None:
        sender = WebhookSender(receiver.url, settings(), sleep=sleeps, clock=lambda: 1_000_000.0)
        sender.send("x", {})
        await sender.aclose()

    asyncio.run(run())
    assert sleeps.waits == [expected]
    assert len(receiver.requests) == 2


def test_retry_after_is_capped(receiver: Receiver) -> None:
    receiver.fail_first, receiver.fail_status, receiver.retry_after = 1, 503, "86400"
    sleeps = Sleeps()

    async def run() -> None:
        sender = WebhookSender(receiver.url, settings(retry_after_max_s=30), sleep=sleeps)
        sender.send("x", {})
        await sender.aclose()

    asyncio.run(run())
    assert sleeps.waits == [30.0]


def test_attempts_are_bounded(receiver: Receiver) -> None:
    receiver.fail_first, receiver.fail_status = 99, 500
    registry = CollectorRegistry()
    sleeps = Sleeps()

    async def run() -> None:
        sender = WebhookSender(receiver.url, settings(attempts=3), name="t", registry=registry, sleep=sleeps)
        sender.send("x", {})
        await sender.aclose()

    asyncio.run(run())
    assert len(receiver.requests) == 3
    assert len(sleeps.waits) == 2
    assert outcome(registry, "t", "failed") == 1


def test_connection_errors_are_retried() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    registry = CollectorRegistry()
    sleeps = Sleeps()

    async def run() -> None:
        sender = WebhookSender(
            f"http://127.0.0.1:{port}/", settings(attempts=3), name="t", registry=registry, sleep=sleeps
        )
        sender.send("x", {})
        await sender.aclose()

    asyncio.run(run())
    assert len(sleeps.waits) == 2
    assert outcome(registry, "t", "failed") == 1


def test_full_queue_drops_instead_of_blocking(receiver: Receiver) -> None:
    receiver.hold = threading.Event()
    registry = CollectorRegistry()

    async def run() -> None:
        sender = WebhookSender(receiver.url, settings(queue_size=2), name="t", registry=registry)
        sender.start()
        sender.send("x", {"n": 0})
        await asyncio.to_thread(receiver.arrived.wait, 30)  # the worker holds event 0 in flight
        for n in range(1, 6):
            sender.send("x", {"n": n})  # 1 and 2 fill the queue; 3, 4, 5 are dropped
        assert sender.pending == 2
        assert receiver.hold is not None
        receiver.hold.set()
        await sender.aclose()

    asyncio.run(run())
    assert sorted(json.loads(r.body)["data"]["n"] for r in receiver.requests) == [0, 1, 2]
    assert outcome(registry, "t", "dropped") == 3
    assert outcome(registry, "t", "delivered") == 3


def test_shutdown_drains_the_queue(receiver: Receiver) -> None:
    registry = CollectorRegistry()

    async def run() -> None:
        sender = WebhookSender(receiver.url, settings(workers=2), name="t", registry=registry)
        for n in range(20):
            sender.send("x", {"n": n})
        await sender.aclose()
        sender.send("x", {"n": 99})  # closed: dropped, not raised

    asyncio.run(run())
    assert sorted(json.loads(r.body)["data"]["n"] for r in receiver.requests) == list(range(20))
    assert outcome(registry, "t", "delivered") == 20
    assert outcome(registry, "t", "dropped") == 1


def test_shutdown_gives_up_after_the_drain_time(receiver: Receiver) -> None:
    receiver.hold = threading.Event()  # the receiver never answers while we shut down
    registry = CollectorRegistry()

    async def run() -> None:
        sender = WebhookSender(receiver.url, settings(), name="t", registry=registry)
        for n in range(3):
            sender.send("x", {"n": n})
        await asyncio.to_thread(receiver.arrived.wait, 30)
        await asyncio.wait_for(sender.aclose(drain_s=0.05), timeout=30)

    asyncio.run(run())
    assert outcome(registry, "t", "abandoned") == 3  # one in flight, two queued
    assert outcome(registry, "t", "delivered") == 0


def test_unsigned_without_secret(receiver: Receiver) -> None:
    async def run() -> None:
        sender = WebhookSender(receiver.url, settings())
        sender.send("handoff.requested", {"when": datetime(2026, 1, 2, tzinfo=UTC)})
        await sender.aclose()

    asyncio.run(run())
    (request,) = receiver.requests
    assert SIGNATURE_HEADER.lower() not in request.headers
    assert json.loads(request.body)["data"] == {"when": "2026-01-02 00:00:00+00:00"}
