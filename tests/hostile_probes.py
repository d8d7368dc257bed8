"""Hostile-client probes: raw sockets against a real ``faqstream serve`` process (what the test of
read timeouts, tests/integration/test_hostile_input.py, asserts) and schemathesis over a live
service's OpenAPI document (tests/integration/test_service_openapi.py); ``python -m bench.hostile``
measures both.

``serve_process`` starts ``faqstream serve`` with the given environment on a free port and yields
it once ``/healthz`` answers; its stderr (the service log) is kept in a file for inspection.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from tests.service_harness import free_port

STARTUP_S = 180.0  # the model and the router load before /healthz answers (a busy 2-core machine)


@dataclass
class ServedProcess:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve_process(env: dict[str, str], log: Path) -> Iterator[ServedProcess]:
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "faqstream", "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = ServedProcess(f"http://127.0.0.1:{port}", port, process, log)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"faqstream serve exited {process.returncode}:\n{served.log_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{served.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("faqstream serve did not start")
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (True), or until ``limit_s`` passes (False)."""
    sock.settimeout(limit_s)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return received, False
    except ConnectionResetError:
        pass
    return received, True


def held_open(port: int, sent: bytes, limit_s: float) -> tuple[bytes, bool]:
    """Open a connection, send ``sent`` (possibly nothing, or part of a request) and go silent:
    what the server sent back, and whether it closed the connection within ``limit_s``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if sent:
            sock.sendall(sent)
        return _read_until_closed(sock, limit_s)


PARTIAL_HEADERS = b"POST /v1/answers HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\n"


def slow_body(port: int, key: str, limit_s: float) -> tuple[bytes, bool]:
    """Complete headers promising 100 bytes of body, then 10 of them and silence."""
    head = (
        "POST /v1/answers HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    return held_open(port, head + b'{"questio', limit_s)


def status_of(response: bytes) -> int | None:
    """The status code of a raw HTTP/1.1 response (None when nothing was sent)."""
    if not response.startswith(b"HTTP/1."):
        return None
    return int(response.split(b" ", 2)[1])


# ---------------------------------------------------------------- schemathesis


@dataclass
class FuzzRun:
    operations: int = 0
    cases: int = 0
    server_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


def fuzz(base: str, headers: dict[str, str], cases_per_mode: int) -> FuzzRun:
    """Schemathesis over the service's own OpenAPI document (every operation, positive and
    negative data), every response checked with schemathesis's checks; the API key is sent on
    every case (the admin route answers it 401: the ingest itself is not fuzzed)."""
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json")
    run = FuzzRun()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            run.failures.append(f"the document does not load: {result.err()}")
            continue
        run.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(result.ok(), mode, base, headers, cases_per_mode, run)
    return run


def fuzz_operation(  # noqa: PLR0917
    operation: Any, mode: GenerationMode, base: str, headers: dict[str, str], cases: int, run: FuzzRun
) -> None:
    @hypothesis.given(operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def one(case: Any) -> None:
        response = case.call(base_url=base, headers=headers, timeout=60)
        run.cases += 1
        run.statuses[response.status_code] += 1
        label = f"{case.method} {case.path} ({mode.value}) → {response.status_code} {response.text[:200]}"
        if response.status_code >= 500:
            run.server_errors.append(f"{label}: {response.text[:300]}")
        try:
            case.validate_response(response, headers=headers)
        except FailureGroup as group:
            run.failures += [f"{label}: {f.title}: {f.message[:300]}" for f in group.exceptions]

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):  # no negative data for a GET without inputs
        one()
