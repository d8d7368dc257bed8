"""The server store's one retry policy, against real failures of the real client."""

from __future__ import annotations

import socket
import time

import pytest
from qdrant_client import QdrantClient
from qdrant_client.http.exceptions import UnexpectedResponse

from knowledge.errors import StoreError
from knowledge.store.server import ServerStore, _Calls, is_transient


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_is_retried_then_reported_with_a_hint(caplog: pytest.LogCaptureFixture) -> None:
    store = ServerStore(QdrantClient(url=f"http://127.0.0.1:{_closed_port()}", timeout=2), "kb", attempts=3)
    with pytest.raises(StoreError) as err:
        store.read_meta()
    assert "QDRANT_URL" in str(err.value)
    retries = [r for r in caplog.records if "Retrying" in r.getMessage()]
    assert len(retries) == 2  # 3 attempts → 2 logged waits


def _response(status: int) -> UnexpectedResponse:
    return UnexpectedResponse(status_code=status, reason_phrase="x", content=b"{}", headers=None)  # type: ignore[arg-type]


def test_transient_statuses_are_retried_and_client_errors_are_not() -> None:
    assert all(is_transient(_response(s)) for s in (408, 429, 500, 502, 503, 504))
    assert not any(is_transient(_response(s)) for s in (400, 401, 403, 404, 409))

    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise _response(503)
        return "ok"

    started = time.monotonic()
    assert _Calls(attempts=5)("upsert", flaky) == "ok" and calls["n"] == 3
    assert time.monotonic() - started < 10  # bounded backoff

    calls["n"] = 0

    def bad_request() -> str:
        calls["n"] += 1
        raise _response(400)

    with pytest.raises(StoreError, match="upsert failed"):
        _Calls(attempts=5)("upsert", bad_request)
    assert calls["n"] == 1
