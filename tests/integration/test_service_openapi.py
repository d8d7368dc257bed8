"""The OpenAPI document (GET /schema) says what the API does: every route documents the statuses
the README lists for it, and the error schema it documents is what an actual 401, 413 and 429 return.
Then schemathesis runs over the document of the live app (real socket, answers through the fake
Anthropic API) with a bounded number of cases: no check fails, no response is a 5xx.

The first tests run the app on Litestar's in-process client over an empty knowledge base (no ingest
needed: the errors under test are decided before retrieval).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import FakeAnthropic
from service.quotas import LimitSettings
from service.settings.auth import AuthSettings
from tests.hostile_probes import fuzz
from tests.service_harness import (
    FAST_RETRIES,
    MIN_CACHE,
    app_settings,
    auth,
    in_process,
    over_http,
    service_settings,
)

pytestmark = pytest.mark.slow

KEY = "key-openapi-0123456789"

# Route → method → the statuses its responses must document (README "Errors", /readyz, /admin/ingest).
DOCUMENTED = {
    "/v1/answers": ("post", {"200", "400", "401", "413", "429", "500", "502", "503"}),
    "/v1/conversations/{conversation_id}": ("get", {"200", "401", "403", "404", "500", "503"}),
    "/v1/feedback": ("post", {"400", "401", "403", "404", "413", "415", "500", "503"}),
    "/admin/ingest": ("post", {"200", "400", "401", "404", "409", "422", "500", "503"}),
    "/admin/analytics": ("get", {"200", "400", "401", "403", "404", "500", "503"}),
    "/readyz": ("get", {"200", "503"}),
    "/healthz": ("get", {"200"}),
    "/metrics": ("get", {"200"}),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = app_settings(
        tmp_path_factory.mktemp("svc"),
        components={
            "auth": AuthSettings(api_keys=f"openapi={KEY}"),  # type: ignore[arg-type]
            "limits": LimitSettings(key_rpm=1, key_burst=1),
        },
        max_question_chars=50,
    )
    with in_process(settings) as served:
        yield served.client


@pytest.fixture(scope="module")
def schema(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def conforms(document: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
    """What in ``value`` breaks ``schema`` (the JSON Schema subset OpenAPI documents use here)."""
    schema = resolve(document, schema)
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema["anyOf"]
        fits = any(not conforms(document, option, value, where) for option in options)
        return [] if fits else [f"{where}: matches none of {options}"]
    kind = schema.get("type")
    types = {"object": dict, "string": str, "boolean": bool, "integer": int, "array": list}
    types["null"] = type(None)
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(isinstance(value, types[k]) for k in kinds):
            return [f"{where}: {value!r} is not {kind}"]
    problems: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        problems += [f"{where}.{name}: missing" for name in schema.get("required", []) if name not in value]
        if properties and schema.get("additionalProperties") is not True:
            problems += [f"{where}.{name}: not documented" for name in value if name not in properties]
        for name, item in value.items():
            if name in properties:
                problems += conforms(document, properties[name], item, f"{where}.{name}")
    return problems


def test_every_route_documents_its_statuses(schema: dict[str, Any]) -> None:
    for path, (method, statuses) in DOCUMENTED.items():
        responses = schema["paths"][path][method]["responses"]
        assert statuses <= set(responses), (path, statuses - set(responses))
        for status in statuses - {"200"}:
            content = responses[status]["content"]["application/json"]["schema"]
            refs = [content, *content.get("oneOf", [])]
            assert {"$ref": "#/components/schemas/ErrorBody"} in refs, (path, status, content)
            assert responses[status]["description"], (path, status)


def test_the_error_schema_is_what_errors_return(client: httpx.Client, schema: dict[str, Any]) -> None:
    error_schema = {"$ref": "#/components/schemas/ErrorBody"}
    detail = resolve(schema, resolve(schema, error_schema)["properties"]["error"])
    assert {"code", "message", "retryable"} <= set(detail["required"])

    unauthorized = client.post("/v1/answers", json={"question": "refund?"})
    too_long = client.post("/v1/answers", json={"question": "x" * 51}, headers=auth(KEY))
    invalid = client.post("/v1/answers", json={"question": "refund?", "unknown": 1}, headers=auth(KEY))
    allowed = client.post("/v1/answers", json={"question": "refund?"}, headers=auth(KEY))
    limited = client.post("/v1/answers", json={"question": "refund?"}, headers=auth(KEY))
    admin = client.post("/admin/ingest", json={"paths": ["docs"]}, headers=auth("wrong"))
    assert allowed.status_code == 200, allowed.text
    cases = [
        (unauthorized, 401, "unauthorized"),
        (too_long, 413, "question_too_long"),
        (invalid, 400, "invalid_request"),
        (limited, 429, "rate_limited"),
        (admin, 401, "unauthorized"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["error"]["code"] == code
        assert conforms(schema, error_schema, body) == [], (status, body)
    assert unauthorized.headers["www-authenticate"] == "Bearer"
    assert int(limited.headers["retry-after"]) >= 1 and limited.headers["ratelimit-remaining"] == "0"
    assert limited.json()["error"]["retryable"] is True and too_long.json()["error"]["retryable"] is False
    assert isinstance(invalid.json()["error"]["details"], list)  # the validation errors, field by field


def test_readiness_matches_its_schema(client: httpx.Client, schema: dict[str, Any]) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503  # the knowledge base is empty
    documented = schema["paths"]["/readyz"]["get"]["responses"]["503"]["content"]["application/json"]
    body = response.json()
    assert body["ready"] is False and "faqstream ingest" in body["reason"]
    assert conforms(schema, documented["schema"], body) == [], body


# ---------------------------------------------------------------- schemathesis over the live app

FUZZ_KEY = "key-fuzz-0123456789abcdef"
FUZZ_CASES = 50  # per operation and generation mode (GETs without inputs run out after one)


@pytest.fixture(scope="module")
def live(template: Path, fake: FakeAnthropic, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app over a real socket, answering from the demo corpus through the fake Anthropic
    API (answers really run), without request limits (the fuzzer sends hundreds)."""
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("fuzz"),
        api_key="sk-fake",
        base_url=fake.base_url,
        components={
            "auth": AuthSettings(api_keys=f"fuzz={FUZZ_KEY}"),  # type: ignore[arg-type]
            # no request limits, and no failed-authentication limit: schemathesis checks that every
            # request without a key is refused with 401, from one address
            "limits": LimitSettings(key_rpm=0, user_rpm=0, auth_failure_rpm=0),
            "resilience": FAST_RETRIES,
        },
        prompt_cache_min_tokens=MIN_CACHE,
    )
    with over_http(settings) as served:
        yield served.base


def test_schemathesis_finds_no_failure_and_no_server_error(live: str) -> None:
    run = fuzz(live, auth(FUZZ_KEY), FUZZ_CASES)
    # answers, conversation, feedback, chat completions, models, healthz, readyz, metrics, admin
    # ingest, status, search, analytics and the agent takeover's five (agent messages, takeover,
    # handback, messages, events); the web page is not API
    assert run.operations == 17 and run.cases >= 3 * FUZZ_CASES, run  # fewer when inputs run out
    print(f"schemathesis: {run.cases} cases, statuses {dict(run.statuses)}")
    assert run.server_errors == [], run.server_errors[:5]
    assert run.failures == [], "\n".join(run.failures[:10])
    assert run.statuses[200] > 0 and run.statuses[400] > 0, run.statuses  # answers ran, bad data was refused
