"""uvicorn's HTTP/1.1 protocol (httptools) with request read timeouts.

uvicorn closes a keep-alive connection that stays idle after a response (``timeout_keep_alive``),
but not one that opened and sent nothing, nor one that stops half-way through its headers or its
body: a few hundred such connections hold the server's sockets forever (slowloris). This protocol
adds two deadlines:

* **headers** — from the moment a connection is opened, or its previous response is complete, the
  next request's headers must be complete within ``SERVICE_HEADER_TIMEOUT_S``; else the connection
  is closed (nothing is answered: there is no request yet).
* **body** — once the headers are in, the whole body must arrive within ``SERVICE_BODY_TIMEOUT_S``;
  else, if no response has started, ``408`` with the service's JSON error body
  (``request_timeout``, retryable), and the connection is closed. The application sees a client
  disconnect (``service.api.errors`` answers it quietly).

``faqstream serve`` passes the class to uvicorn (``http=``); the deadlines come from the
environment (``ServiceSettings``), read once per worker process.
"""

from __future__ import annotations

import asyncio
import functools
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.settings.service import ServiceSettings

_TIMEOUT_BODY = json.dumps(
    {
        "error": {
            "code": "request_timeout",
            "message": "the request body did not arrive in time",
            "retryable": True,
        }
    }
).encode()
REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    + b"content-length: "
    + str(len(_TIMEOUT_BODY)).encode()
    + b"\r\n\r\n"
    + _TIMEOUT_BODY
)


@functools.cache
def _settings() -> ServiceSettings:
    return ServiceSettings()


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a header deadline and a body deadline (see the module docstring).
    ``header_timeout_s``/``body_timeout_s`` left ``None`` come from ``ServiceSettings``."""

    header_timeout_s: float | None = None
    body_timeout_s: float | None = None
    _read_timer: asyncio.TimerHandle | None = None

    def _arm(self, kind: str) -> None:
        self._disarm()
        if kind == "headers":
            delay = self.header_timeout_s or _settings().header_timeout_s
            self._read_timer = self.loop.call_later(delay, self._headers_late)
        else:
            delay = self.body_timeout_s or _settings().body_timeout_s
            self._read_timer = self.loop.call_later(delay, self._body_late)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
        self._read_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm("body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)  # the next request's headers are already in
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            self._arm("headers")

    def _headers_late(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _body_late(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            self.transport.write(REQUEST_TIMEOUT)
            # the application now reads a disconnect, and whatever it sends is dropped
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()
