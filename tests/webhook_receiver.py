"""A real HTTP server that takes the service's webhook POSTs (handoff, budget alerts) and can hold
or refuse a delivery, for the end-to-end tests of webhook retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: dict[str, Any]
    status: int  # what the receiver answered

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.body["data"]
        return data


@dataclass
class Receiver:
    """An HTTP server taking webhook POSTs. ``hold_first(match)``: the first matching delivery is
    held unanswered until ``release()``, then refused with 500 (later attempts get 200).
    ``status``: what every other delivery gets (200; a refusing helpdesk: 500, 410)."""

    deliveries: list[Delivery] = field(default_factory=list)
    status: int = 200
    held: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    _match: Callable[[dict[str, Any]], bool] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/handoff"

    def hold_first(self, match: Callable[[dict[str, Any]], bool]) -> None:
        with self._lock:
            self._match = match
            self.held.clear()
            self.released.clear()

    def release(self) -> None:
        self.released.set()

    def _status_for(self, body: dict[str, Any]) -> int:
        with self._lock:
            hold = self._match is not None and self._match(body.get("data") or {})
            if hold:
                self._match = None
        if not hold:
            return self.status
        self.held.set()
        self.released.wait(timeout=30)
        return 500

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)

    def matching(self, match: Callable[[Delivery], bool]) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if match(d)]

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                body = json.loads(raw)
                status = receiver._status_for(body)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._record(Delivery(headers, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release()
            server.shutdown()
            server.server_close()
