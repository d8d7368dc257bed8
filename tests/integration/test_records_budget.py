"""The records routes' rate limit: a budget per key apart from the answers'.

The real app on Litestar's in-process client, its limits in memory and in real Redis
(``memory`` / ``redis``; ``-m "not redis"`` keeps the memory side). Every key's records bucket
holds 3 and refills at one request per 1000 minutes, its answers bucket 2: the fourth records
request of a key is a 429 ``rate_limited`` on whichever records route, while its answers are
untouched — and answering spends nothing of the records budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.quotas import LimitSettings
from service.quotas.rate_limits import RedisRateLimiter
from service.settings.auth import AuthSettings
from service.settings.redis import RedisSettings
from service.tenants.store import KeyStore
from tests.conftest import REDIS_URL, redis_namespace
from tests.contracts import BACKENDS
from tests.service_harness import ADMIN_KEY, NO_PASSAGES, Served, auth, in_process, post, service_settings

pytestmark = pytest.mark.slow

KEY = "key-records-0123456789"
OTHER = "key-records-other-0123"
RECORDS_POLICY = '1;w=60000;burst=3;comment="records"'  # one request per 1000 minutes
FEEDBACK = {"conversation_id": "conv_x", "message_id": "msg_x", "thumbs": "up"}
ANALYTICS = "/admin/analytics?from=2026-01-01&to=2026-01-02"


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, template: Path
) -> Iterator[Served]:
    components: dict[str, Any] = {
        "auth": AuthSettings(api_keys=f"a={KEY},b={OTHER}"),  # type: ignore[arg-type]
        "limits": LimitSettings(
            key_rpm=0.001, key_burst=2, user_rpm=0, records_rpm=0.001, records_burst=3, auth_failure_rpm=0
        ),
    }
    with redis_namespace("records-budget") as prefix:
        if request.param == "redis":
            components["redis"] = RedisSettings(url=REDIS_URL, key_prefix=prefix)  # type: ignore[arg-type]
        settings = service_settings(template, tmp_path_factory.mktemp("records"), components=components)
        with in_process(settings) as running:
            assert isinstance(running.runtime.limiter, RedisRateLimiter) == (request.param == "redis")
            yield running


def limited(response: httpx.Response) -> None:
    assert response.status_code == 429, (response.request.url, response.text)
    error = response.json()["error"]
    assert error["code"] == "rate_limited" and error["retryable"] is True
    assert "records" in error["message"]
    assert int(response.headers["retry-after"]) >= 1 and response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-policy"] == RECORDS_POLICY


def test_records_routes_share_a_budget_apart_from_the_answers(served: Served) -> None:
    client = served.client
    answered = post(client, NO_PASSAGES, key=KEY)  # answering spends the answers bucket only
    assert answered.status_code == 200 and answered.headers["ratelimit-remaining"] == "1"
    assert 'comment="key"' in answered.headers["ratelimit-policy"]

    reads = [
        client.get("/v1/conversations/conv_x", headers=auth(KEY)),
        client.post("/v1/feedback", json=FEEDBACK, headers=auth(KEY)),
        client.get("/v1/conversations/conv_x/messages", headers=auth(KEY)),
    ]
    assert [r.status_code for r in reads] == [404, 404, 404]  # no such conversation: a token all the same
    assert [r.headers["ratelimit-remaining"] for r in reads] == ["2", "1", "0"]
    assert all(r.headers["ratelimit-policy"] == RECORDS_POLICY for r in reads)

    limited(client.get("/v1/conversations/conv_x", headers=auth(KEY)))
    limited(client.post("/v1/feedback", json=FEEDBACK, headers=auth(KEY)))
    limited(client.get("/v1/conversations/conv_x/events", headers=auth(KEY)))

    # the reads spent nothing the key may answer with, and another key has its own budget
    again = post(client, NO_PASSAGES, key=KEY)
    assert again.status_code == 200 and again.headers["ratelimit-remaining"] == "0"
    assert client.get("/v1/conversations/conv_x", headers=auth(OTHER)).status_code == 404


def test_helpdesk_and_admin_keys_have_records_budgets_of_their_own(served: Served) -> None:
    keys = KeyStore.from_settings(served.runtime.settings.database)
    _, agent = keys.create("a", "helpdesk", ("agent",))
    _, tenant_admin = keys.create("a", "tenant admin", ("admin",))
    keys.close()
    client = served.client
    for key, method, path in (
        (agent, "POST", "/v1/conversations/conv_x/takeover"),
        (tenant_admin, "GET", ANALYTICS),
        (ADMIN_KEY, "GET", ANALYTICS),
    ):
        first = [client.request(method, path, headers=auth(key)) for _ in range(3)]
        assert [r.headers["ratelimit-remaining"] for r in first] == ["2", "1", "0"], first[0].text
        limited(client.request(method, path, headers=auth(key)))
    # the admin key's bucket is its own: another operator route is not limited by it
    assert client.get("/admin/status", headers=auth(ADMIN_KEY)).status_code == 200
