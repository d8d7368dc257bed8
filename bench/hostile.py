"""Hostile input, replayed against a real ``faqstream serve`` process (issue 12's probes).

Setup (all loopback): the demo corpus ingested; the fake Anthropic API in this process (the real
SDK in the service talks to it); ``faqstream serve`` with an API key, the admin key, request
limits off and the default failed-authentication limit (10/min, burst 20), read timeouts of
``--timeout`` seconds. Probes: deeply nested JSON (depth 1,000 and 100,000), a cross-origin
"simple" POST (``text/plain``) and a form, anonymous requests with invalid bodies, a flood of 100
wrong keys then a valid one, an idle connection, partial headers, a body that stops half-way, a
10 MB body; then the log is searched for tracebacks. Last, schemathesis over the live OpenAPI
document (positive and negative data, ``--cases`` per operation and mode; the service in process
over a real socket with the failed-authentication limit off, since schemathesis sends keyless
requests on purpose): cases run, failures of its checks, 5xx.

    python -m bench.hostile [--timeout 5] [--cases 50]

Writes bench/results/issue12/hostile.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.common import REPO, RESULTS, write_result
from fakes import FakeAnthropic
from service.quotas import LimitSettings
from service.settings.auth import AuthSettings
from tests.conftest import MODEL_CACHE
from tests.corpus import write_corpus
from tests.hostile_probes import PARTIAL_HEADERS, fuzz, held_open, serve_process, slow_body, status_of
from tests.service_harness import (
    ADMIN_KEY,
    FAST_RETRIES,
    MIN_CACHE,
    REPLY,
    auth,
    ingested_template,
    over_http,
    service_settings,
)

KEY = "key-bench-hostile-0123456789"
WRONG = "key-wrong-0123456789abcdef"
JSON = {"content-type": "application/json"}


def nested(depth: int) -> bytes:
    return b'{"question": "refund?", "filters": {"tags": ' + b"[" * depth + b"]" * depth + b"}}"


def timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = call()
    return response, round((time.perf_counter() - started) * 1000, 1)


def outcome(response: httpx.Response, ms: float) -> dict[str, Any]:
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    error = body.get("error", {}) if isinstance(body, dict) else {}
    return {
        "status": response.status_code,
        "code": error.get("code"),
        "details": "details" in error,
        "ms": ms,
    }


def request_probes(client: httpx.Client) -> dict[str, Any]:
    def post(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        return outcome(*timed(lambda: client.post(path, content=body, headers=headers)))

    keyed = auth(KEY)
    return {
        "deep_json_1000": post("/v1/answers", nested(1000), {**JSON, **keyed}),
        "deep_json_100000": post("/v1/answers", nested(100_000), {**JSON, **keyed}),
        "deep_json_1000_anonymous": post("/v1/answers", nested(1000), JSON),
        "text_plain_simple_post": post(
            "/v1/answers", b'{"question": "refund?"}', {"content-type": "text/plain", **keyed}
        ),
        "form_post": post(
            "/v1/answers", b"question=refund", {"content-type": "application/x-www-form-urlencoded", **keyed}
        ),
        "anonymous_invalid_body": post("/v1/answers", b'{"question": 7, "stream": 0, "x": 1}', JSON),
        "anonymous_invalid_admin_body": post("/admin/ingest", b'{"paths": "/etc", "prune": 1}', JSON),
        "stream_0": post("/v1/answers", b'{"question": "refund?", "stream": 0}', {**JSON, **keyed}),
        "body_10mb": post("/v1/answers", b"{" + b" " * 10_000_000 + b"}", {**JSON, **keyed}),
        "body_10mb_anonymous": post("/v1/answers", b"{" + b" " * 10_000_000 + b"}", JSON),
    }


def flood(client: httpx.Client, attempts: int = 100) -> dict[str, Any]:
    statuses: list[int] = []
    retry_after: str | None = None
    started = time.perf_counter()
    for _ in range(attempts):
        response = client.post("/v1/answers", json={"question": "refund?"}, headers=auth(WRONG))
        statuses.append(response.status_code)
        retry_after = response.headers.get("retry-after", retry_after)
    elapsed = time.perf_counter() - started
    valid = client.post("/v1/answers", json={"question": "How long does a refund take?"}, headers=auth(KEY))
    return {
        "attempts": attempts,
        "statuses": dict(Counter(statuses)),
        "first_429_at": statuses.index(429) + 1 if 429 in statuses else None,
        "retry_after_s": int(retry_after) if retry_after else None,
        "ms_per_attempt": round(elapsed * 1000 / attempts, 2),
        "valid_key_after_flood": valid.status_code,
    }


def socket_probes(port: int, timeout_s: float) -> dict[str, Any]:
    limit = timeout_s * 4 + 10

    def held(sent: bytes) -> dict[str, Any]:
        started = time.perf_counter()
        received, closed = held_open(port, sent, limit)
        return {
            "closed": closed,
            "after_s": round(time.perf_counter() - started, 2),
            "status": status_of(received),
        }

    started = time.perf_counter()
    received, closed = slow_body(port, KEY, limit)
    slow = {
        "closed": closed,
        "after_s": round(time.perf_counter() - started, 2),
        "status": status_of(received),
    }
    return {"idle_connection": held(b""), "partial_headers": held(PARTIAL_HEADERS), "slow_body": slow}


def served_env(tmp: Path, template: Path, fake: FakeAnthropic, timeout_s: float) -> dict[str, str]:
    store = tmp / "served-qdrant"
    shutil.copytree(template, store)
    env = {k: v for k, v in os.environ.items() if k.split("_", 1)[0] + "_" not in PREFIXES}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "QDRANT_PATH": str(store),
            "EMBEDDING_CACHE_DIR": str(MODEL_CACHE),
            "AUTH_API_KEYS": f"bench={KEY}",
            "SERVICE_ADMIN_KEY": ADMIN_KEY,
            "SERVICE_HEADER_TIMEOUT_S": str(timeout_s),
            "SERVICE_BODY_TIMEOUT_S": str(timeout_s),
            "SERVICE_PROMPT_CACHE_MIN_TOKENS": json.dumps(MIN_CACHE),
            "ANTHROPIC_API_KEY": "sk-fake",
            "ANTHROPIC_BASE_URL": fake.base_url,
            "LIMITS_KEY_RPM": "0",
            "LIMITS_USER_RPM": "0",
            "TRANSLATE_MODE": "never",
            "CACHE_ANSWERS": "false",
            "DATABASE_SQLITE_PATH": str(tmp / "faqstream.db"),
            "FAQSTREAM_LOG_LEVEL": "INFO",
        }
    )
    return env


PREFIXES = {
    "QDRANT_", "EMBEDDING_", "CHUNK_", "INGEST_", "SERVICE_", "ANTHROPIC_", "AUTH_", "RESILIENCE_", "REDIS_",
    "CONVERSATION_", "ROUTER_", "HANDOFF_", "TRANSLATE_", "CACHE_", "LIMITS_", "WEBHOOK_", "PRICING_",
    "DATABASE_", "LEDGER_", "FAQSTREAM_",
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="SERVICE_HEADER/BODY_TIMEOUT_S of the probe"
    )
    parser.add_argument("--cases", type=int, default=50, help="schemathesis cases per operation and mode")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as name,
        FakeAnthropic(reply=REPLY, min_cache_tokens=MIN_CACHE) as fake,
    ):
        tmp = Path(name)
        template = ingested_template(tmp / "template", write_corpus(tmp / "docs"))
        log = tmp / "serve.log"
        with serve_process(served_env(tmp, template, fake, args.timeout), log) as served:
            with httpx.Client(base_url=served.base, timeout=60) as client:
                probes = request_probes(client)
                failed_auth = flood(client)
            sockets = socket_probes(served.port, args.timeout)
            alive = httpx.get(f"{served.base}/healthz", timeout=10).status_code
            text = served.log_text()
        settings = service_settings(
            template,
            tmp / "fuzz",
            api_key="sk-fake",
            base_url=fake.base_url,
            components={
                "auth": AuthSettings(api_keys=f"bench={KEY}"),  # type: ignore[arg-type]
                "limits": LimitSettings(key_rpm=0, user_rpm=0, auth_failure_rpm=0),
                "resilience": FAST_RETRIES,
            },
            prompt_cache_min_tokens=MIN_CACHE,
        )
        started = time.perf_counter()
        with over_http(settings) as live:
            run = fuzz(live.base, auth(KEY), args.cases)
        fuzz_s = time.perf_counter() - started
    (RESULTS / "issue12").mkdir(parents=True, exist_ok=True)
    write_result(
        "issue12/hostile",
        {
            "read_timeout_s": args.timeout,
            "requests": probes,
            "failed_auth_flood": failed_auth,
            "sockets": sockets,
            "healthy_after": alive,
            "log": {"tracebacks": text.count("Traceback"), "errors": text.count(" ERROR ")},
            "schemathesis": {
                "operations": run.operations,
                "cases_per_operation_and_mode": args.cases,
                "cases": run.cases,
                "failures": len(run.failures),
                "server_errors": len(run.server_errors),
                "statuses": dict(sorted(run.statuses.items())),
                "seconds": round(fuzz_s, 1),
                "first_failures": run.failures[:5] + run.server_errors[:5],
            },
        },
    )


if __name__ == "__main__":
    main()
