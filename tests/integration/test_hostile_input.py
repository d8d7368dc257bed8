"""Hostile input gets a 4xx: nested JSON, bodies that are not JSON, anonymous callers with bad
bodies, floods of wrong keys, oversized bodies, non-boolean booleans — on the real app in process
(errors decided before retrieval: the knowledge base is empty). Read timeouts are checked over raw
sockets against a real ``faqstream serve`` process (tests/hostile_probes.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from service.quotas import LimitSettings
from service.settings.auth import AuthSettings
from service.settings.redis import RedisSettings
from tests.conftest import REDIS_URL
from tests.hostile_probes import PARTIAL_HEADERS, held_open, serve_process, slow_body, status_of
from tests.service_harness import ADMIN_KEY, app_settings, auth, in_process

KEY = "key-hostile-0123456789"
JSON = {"content-type": "application/json"}
BURST = 3  # failed authentications an address may make before 429


def nested(depth: int) -> bytes:
    return b'{"question": "refund?", "filters": {"tags": ' + b"[" * depth + b"]" * depth + b"}}"


def service(tmp: Path, auth_failure_rpm: float, redis: RedisSettings | None = None) -> Any:
    limits = LimitSettings(key_rpm=0, user_rpm=0, auth_failure_rpm=auth_failure_rpm, auth_failure_burst=BURST)
    components: dict[str, Any] = {"auth": AuthSettings(api_keys=f"hostile={KEY}"), "limits": limits}  # type: ignore[arg-type]
    if redis is not None:
        components["redis"] = redis
    return in_process(app_settings(tmp, components=components))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The app with the failed-authentication limit off (the flood test starts its own)."""
    with service(tmp_path_factory.mktemp("svc"), auth_failure_rpm=0) as served:
        yield served.client


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code, body
    return body


def test_deep_json_is_a_400_without_a_traceback(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for depth in (1000, 100_000):
            body = error(
                client.post("/v1/answers", content=nested(depth), headers={**JSON, **auth(KEY)}),
                400,
                "invalid_request",
            )
            assert body["details"] == {"reason": "too_deep", "limit": 32}
        shallow = nested(20)  # within the limit: the usual field validation answers
        assert error(
            client.post("/v1/answers", content=shallow, headers={**JSON, **auth(KEY)}), 400, "invalid_request"
        )["details"][0]["key"]
        brackets_in_text = json.dumps({"question": "[" * 40 + "{" * 40 + '\\"['}).encode()
        assert (
            client.post("/v1/answers", content=brackets_in_text, headers={**JSON, **auth(KEY)}).status_code
            == 200
        )
        top_level_array = client.post("/v1/answers", content=b"[" * 5000, headers={**JSON, **auth(KEY)})
        assert error(top_level_array, 400, "invalid_request")["details"] == {"reason": "not_an_object"}
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info or r.exc_text]
    assert not failures, caplog.text


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
        "application/json; charset=latin-1",
        "application/jsonx",
    ],
)
def test_only_json_bodies_are_read(client: httpx.Client, content_type: str) -> None:
    headers = {**auth(KEY), **({"content-type": content_type} if content_type else {})}
    response = client.post("/v1/answers", content=b'{"question": "refund?"}', headers=headers)
    error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=UTF-8", "application/merge-patch+json"]
)
def test_json_media_types_are_accepted(client: httpx.Client, content_type: str) -> None:
    headers = {**auth(KEY), "content-type": content_type}
    assert client.post("/v1/answers", content=b'{"question": "refund?"}', headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/v1/answers", b'{"question": 7, "unknown": true, "stream": 0}', "application/json"),
        ("/v1/answers", nested(5000), "application/json"),
        ("/v1/answers", b"question=refund", "text/plain"),
        ("/admin/ingest", b'{"paths": [], "prune": "yes"}', "application/json"),
        ("/admin/ingest", nested(5000), "text/plain"),
    ],
)
def test_anonymous_callers_learn_nothing_about_the_body(
    client: httpx.Client, path: str, body: bytes, content_type: str
) -> None:
    for headers in ({}, auth("wrong-key-0123456789")):
        response = client.post(path, content=body, headers={"content-type": content_type, **headers})
        detail = error(response, 401, "unauthorized")
        assert "details" not in detail


def test_booleans_are_json_booleans(client: httpx.Client) -> None:
    for value in (0, 1, "true", None):
        response = client.post(
            "/v1/answers", json={"question": "refund?", "stream": value}, headers=auth(KEY)
        )
        assert error(response, 400, "invalid_request")["details"][0]["key"] == "stream"
    assert (
        client.post(
            "/v1/answers", json={"question": "refund?", "stream": False}, headers=auth(KEY)
        ).status_code
        == 200
    )


def test_ten_megabytes_is_a_413(client: httpx.Client) -> None:
    response = client.post(
        "/v1/answers", content=b"{" + b" " * 10_000_000 + b"}", headers={**JSON, **auth(KEY)}
    )
    error(response, 413, "too_large")


def test_failed_authentication_is_rate_limited_per_address(tmp_path: Path) -> None:
    with service(tmp_path, auth_failure_rpm=0.001) as served:
        flood(served.client)


@pytest.mark.redis
def test_failed_authentication_limit_in_redis(tmp_path: Path) -> None:
    """The same limit shared through Redis: the bucket is a key under the service's prefix, named
    by a hash of the address (never the address itself)."""
    prefix = f"faqstream-test-authfail-{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        with service(tmp_path, 0.001, RedisSettings(url=REDIS_URL, key_prefix=prefix)) as served:  # type: ignore[arg-type]
            flood(served.client)
        keys = [k.decode() for k in client.scan_iter(match=f"{prefix}authfail:*")]
        assert len(keys) == 1 and "testclient" not in keys[0], keys  # the in-process client's address
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def flood(client: httpx.Client) -> None:
    for _ in range(5):  # successful calls do not count
        assert client.post("/v1/answers", json={"question": "refund?"}, headers=auth(KEY)).status_code == 200
    wrong = auth("wrong-key-0123456789")
    for _ in range(BURST):
        error(client.post("/v1/answers", json={"question": "refund?"}, headers=wrong), 401, "unauthorized")
    limited = client.post("/v1/answers", json={"question": "refund?"}, headers=wrong)
    assert error(limited, 429, "auth_rate_limited")["retryable"] is True
    assert int(limited.headers["retry-after"]) >= 1
    anonymous = client.post("/v1/answers", json={"question": "refund?"})
    error(anonymous, 429, "auth_rate_limited")
    admin = client.post("/admin/ingest", json={"paths": ["docs"]}, headers=auth("wrong"))
    error(admin, 429, "auth_rate_limited")  # one bucket per address, whichever route
    # a caller with a valid key is not slowed by it
    assert client.post("/v1/answers", json={"question": "refund?"}, headers=auth(KEY)).status_code == 200
    assert client.post("/admin/ingest", json={"paths": []}, headers=auth(ADMIN_KEY)).status_code == 400


# ---------------------------------------------------------------- a real served process, raw sockets


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, child_env_module: dict[str, str]) -> Iterator[Any]:
    env = {
        **child_env_module,
        "AUTH_API_KEYS": f"hostile={KEY}",
        "SERVICE_HEADER_TIMEOUT_S": "1",
        "SERVICE_BODY_TIMEOUT_S": "1",
        "ANTHROPIC_API_KEY": "",
        "REDIS_URL": "",
        "DATABASE_URL": "",
        "DATABASE_SQLITE_PATH": str(tmp_path_factory.mktemp("db") / "faqstream.db"),
    }
    with serve_process(env, tmp_path_factory.mktemp("log") / "serve.log") as process:
        yield process


@pytest.mark.slow
def test_idle_and_partial_connections_are_closed(served: Any) -> None:
    for sent in (b"", PARTIAL_HEADERS, b"GET /healthz HTTP/1.1\r\nHost: probe\r\n"):
        received, closed = held_open(served.port, sent, limit_s=30)
        assert closed and received == b"", (sent, received)


@pytest.mark.slow
def test_a_slow_body_gets_a_408_and_the_connection_closed(served: Any) -> None:
    received, closed = slow_body(served.port, KEY, limit_s=30)
    assert closed and status_of(received) == 408, received
    assert json.loads(received.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "request_timeout"
    # the service keeps answering, and logged no traceback for the abandoned request
    assert httpx.get(f"{served.base}/healthz", timeout=10).status_code == 200
    deep = httpx.post(
        f"{served.base}/v1/answers", content=nested(5000), headers={**JSON, **auth(KEY)}, timeout=30
    )
    assert deep.status_code == 400
    assert "Traceback" not in served.log_text(), served.log_text()[-3000:]


@pytest.mark.slow
def test_serve_refuses_unsigned_webhooks(child_env_module: dict[str, str]) -> None:
    import subprocess
    import sys

    env = {**child_env_module, "HANDOFF_WEBHOOK_URL": "http://127.0.0.1:9/hook", "WEBHOOK_SECRET": ""}
    out = subprocess.run(
        [sys.executable, "-m", "faqstream", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 3 and "WEBHOOK_SECRET" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.fixture(scope="module")
def child_env_module(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``tests.conftest.child_env`` for a module-scoped process."""
    import os

    from tests.conftest import MODEL_CACHE, REPO

    tmp: Path = tmp_path_factory.mktemp("child")
    prefixes = (
        "QDRANT_",
        "EMBEDDING_",
        "CHUNK_",
        "INGEST_",
        "SERVICE_",
        "AUTH_",
        "WEBHOOK_",
        "HANDOFF_",
        "LIMITS_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        {
            "QDRANT_PATH": str(tmp / "qdrant"),
            "EMBEDDING_CACHE_DIR": str(MODEL_CACHE),
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(REPO),
        }
    )
    return env
