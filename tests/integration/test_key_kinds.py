"""One rule for every route: 401 is no key or one nobody issued, 403 a valid key of the wrong kind.

The real app on Litestar's in-process client over a copy of the demo store, with a bootstrap key
(``answer``), ``SERVICE_ADMIN_KEY`` and database keys of the ``agent`` and ``admin`` scopes. A
valid key of the wrong kind is refused 403 ``insufficient_scope`` in the same JSON error shape as
every error (OpenAI's on the OpenAI routes) and is no failed authentication: it never counts
towards the per-address limit (``LIMITS_AUTH_FAILURE_*``), which an unknown key still trips.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from service.quotas import LimitSettings
from service.settings.auth import AuthSettings
from service.tenants.store import KeyStore
from tests.service_harness import ADMIN_KEY, Served, auth, in_process, scrape, service_settings, total

pytestmark = pytest.mark.slow

KEY = "key-kinds-0123456789"  # tenant chat's customer-facing key (answer scope)
FAILURES = 2  # failed authentications an address may make before 429
CHAT = {"model": "faqstream", "messages": [{"role": "user", "content": "refund?"}]}
FEEDBACK = {"conversation_id": "conv_x", "message_id": "msg_x", "thumbs": "up"}
# (method, path, body) of the routes each kind of caller holds
Route = tuple[str, str, dict[str, str] | None]
CUSTOMER_ROUTES: list[Route] = [
    ("POST", "/v1/answers", {"question": "refund?"}),
    ("GET", "/v1/conversations/conv_x", None),
    ("POST", "/v1/feedback", FEEDBACK),
    ("GET", "/v1/conversations/conv_x/messages", None),
    ("GET", "/v1/conversations/conv_x/events", None),
]
HELPDESK_ROUTES: list[Route] = [
    ("POST", "/v1/conversations/conv_x/agent-messages", {"text": "Hello"}),
    ("POST", "/v1/conversations/conv_x/takeover", None),
    ("POST", "/v1/conversations/conv_x/handback", None),
]
RECORD = CUSTOMER_ROUTES[1]  # the conversation's record: the helpdesk reads it too
ACCEPTED = {RECORD[1]: "answer agent"}  # routes that take either of two scopes (WWW-Authenticate)
ADMIN_ROUTES: list[Route] = [
    ("GET", "/admin/status", None),
    ("GET", "/admin/analytics?from=2026-01-01&to=2026-01-02", None),
]


@dataclass
class Keys:
    agent: str  # tenant chat's helpdesk (agent scope)
    tenant_admin: str  # tenant chat's admin key (admin scope)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    components = {
        "auth": AuthSettings(api_keys=f"chat={KEY}"),  # type: ignore[arg-type]
        "limits": LimitSettings(key_rpm=0, user_rpm=0, auth_failure_rpm=0.001, auth_failure_burst=FAILURES),
    }
    settings = service_settings(template, tmp_path_factory.mktemp("kinds"), components=components)
    with in_process(settings) as running:
        yield running


@pytest.fixture(scope="module")
def keys(served: Served) -> Keys:
    store = KeyStore.from_settings(served.runtime.settings.database)
    _, agent = store.create("chat", "helpdesk", ("agent",))
    _, tenant_admin = store.create("chat", "tenant admin", ("admin",))
    store.close()
    return Keys(agent, tenant_admin)


def call(client: httpx.Client, route: Route, key: str) -> httpx.Response:
    method, path, body = route
    return client.request(method, path, json=body, headers=auth(key))


def refused(response: httpx.Response, scope: str) -> str:
    """A 403 ``insufficient_scope`` in the service's error shape; its message."""
    assert response.status_code == 403, (response.request.url, response.text)
    error = response.json()["error"]
    assert set(error) == {"code", "message", "retryable"} and error["code"] == "insufficient_scope"
    assert error["retryable"] is False
    assert response.headers["www-authenticate"] == f'Bearer error="insufficient_scope", scope="{scope}"'
    message: str = error["message"]
    return message


def test_the_admin_key_on_a_tenants_route_is_a_403_not_a_failed_authentication(served: Served) -> None:
    before = total(scrape(served.client), "faqstream_auth_failures_total")
    for _ in range(FAILURES + 1):  # more than the failures an address may make: never a 429
        for route in CUSTOMER_ROUTES:
            wanted = ACCEPTED.get(route[1], "answer")
            assert "SERVICE_ADMIN_KEY" in refused(call(served.client, route, ADMIN_KEY), wanted)
        for route in HELPDESK_ROUTES:
            assert "SERVICE_ADMIN_KEY" in refused(call(served.client, route, ADMIN_KEY), "agent")
    chat = served.client.post("/v1/chat/completions", json=CHAT, headers=auth(ADMIN_KEY))
    assert chat.status_code == 403
    assert chat.json()["error"]["type"] == "permission_error"
    assert chat.json()["error"]["code"] == "insufficient_scope"
    assert total(scrape(served.client), "faqstream_auth_failures_total") == before


def test_tenant_keys_of_the_wrong_kind_are_403_everywhere(served: Served, keys: Keys) -> None:
    for _ in range(FAILURES + 1):
        for route in ADMIN_ROUTES:
            refused(call(served.client, route, KEY), "admin")
            refused(call(served.client, route, keys.agent), "admin")
        for route in HELPDESK_ROUTES:
            refused(call(served.client, route, KEY), "agent")
            refused(call(served.client, route, keys.tenant_admin), "agent")
        for route in CUSTOMER_ROUTES:
            if route != RECORD:
                refused(call(served.client, route, keys.agent), "answer")
            refused(call(served.client, route, keys.tenant_admin), ACCEPTED.get(route[1], "answer"))
    # each kind on its own routes passes the key check
    assert call(served.client, ADMIN_ROUTES[0], keys.tenant_admin).status_code == 200
    assert call(served.client, ADMIN_ROUTES[0], ADMIN_KEY).status_code == 200
    assert call(served.client, HELPDESK_ROUTES[1], keys.agent).status_code == 404  # no such conversation
    assert call(served.client, CUSTOMER_ROUTES[1], KEY).status_code == 404
    assert call(served.client, RECORD, keys.agent).status_code == 404  # the helpdesk reads records too
    assert total(scrape(served.client), "faqstream_auth_failures_total") == 0


def test_an_unknown_key_is_a_401_and_counts_towards_the_limit(served: Served) -> None:
    routes = [CUSTOMER_ROUTES[0], HELPDESK_ROUTES[0], ADMIN_ROUTES[1]]
    for route in routes[:FAILURES]:
        response = call(served.client, route, "unknown-key-0123456789")
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    limited = call(served.client, routes[-1], "unknown-key-0123456789")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "auth_rate_limited"
    # a key of the wrong kind is still told what it is, not limited with the unknown ones
    refused(call(served.client, HELPDESK_ROUTES[0], ADMIN_KEY), "agent")
    samples = scrape(served.client)
    assert total(samples, "faqstream_auth_failures_total", outcome="unauthorized") == FAILURES
    assert total(samples, "faqstream_auth_failures_total", outcome="limited") == 1
