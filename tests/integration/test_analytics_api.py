"""``GET /admin/analytics`` through the real service (over a socket, so ``faqstream report --server``
reaches it too): the seeded records (tests/records_fixture.py) in the service's own SQLite
database, the deployment's admin key, a tenant's admin key (its own tenant only), keys without the
scope, and parameters that make no range.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from faqstream.cli import main
from service.settings.auth import AuthSettings
from service.tenants.store import KeyStore
from service.usage.database import LedgerDatabase
from tests.records_fixture import seed_database
from tests.service_harness import ADMIN_KEY, Served, auth, over_http, service_settings

pytestmark = pytest.mark.slow

RANGE = {"from": "2026-03-02", "to": "2026-03-06"}


@pytest.fixture(scope="module")
def served(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("svc-analytics"),
        components={"auth": AuthSettings(key_cache_ttl_s=0)},
    )
    with over_http(settings) as service:
        database = LedgerDatabase.sqlite(settings.database.sqlite_path)  # the service's own database
        seed_database(database)
        database.close()
        yield service


@pytest.fixture(scope="module")
def keys(served: Served) -> Iterator[dict[str, str]]:
    store = KeyStore.from_settings(served.runtime.settings.database)
    made = {
        "acme-admin": store.create("acme", "acme ops", ["admin"])[1],
        "acme-answer": store.create("acme", "acme widget", ["answer"])[1],
    }
    store.close()
    yield made


def analytics(client: httpx.Client, key: str | None, **params: str) -> httpx.Response:
    return client.get("/admin/analytics", params={**RANGE, **params}, headers=auth(key))


def test_the_admin_key_sees_every_tenant(served: Served) -> None:
    response = analytics(served.client, ADMIN_KEY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["start"], body["end"], body["tenant"]) == ("2026-03-02", "2026-03-06", None)
    assert body["totals"]["conversations"] == 202 and body["totals"]["auto_resolved"] == 88
    assert body["totals"]["cost_usd"] == pytest.approx(1.928)
    assert [s["key"] for s in body["by_tenant"]] == ["acme", "globex"]
    assert [s["key"] for s in body["by_day"]] == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert len(body["content_gaps"]) == 10 and body["top_intents"][0]["intent"] == "refund"
    one = analytics(served.client, ADMIN_KEY, tenant="globex", top="3").json()
    assert one["tenant"] == "globex" and one["totals"]["conversations"] == 101
    assert len(one["content_gaps"]) == 3 and {g["tenant"] for g in one["content_gaps"]} == {"globex"}


def test_a_tenants_admin_key_sees_its_own_tenant_only(served: Served, keys: dict[str, str]) -> None:
    own = analytics(served.client, keys["acme-admin"])
    assert own.status_code == 200, own.text
    assert own.json()["tenant"] == "acme" and [s["key"] for s in own.json()["by_tenant"]] == ["acme"]
    assert own.json()["totals"]["cost_usd"] == pytest.approx(1.164)
    assert analytics(served.client, keys["acme-admin"], tenant="acme").json() | {"generated_at": 0} == (
        own.json() | {"generated_at": 0}
    )
    other = analytics(served.client, keys["acme-admin"], tenant="globex")
    assert other.status_code == 403 and other.json()["error"]["code"] == "tenant_forbidden"


def test_keys_without_the_admin_scope_are_refused(served: Served, keys: dict[str, str]) -> None:
    assert analytics(served.client, None).status_code == 401
    assert analytics(served.client, "fqs_not_a_key_at_all_0123456789").status_code == 401
    refused = analytics(served.client, keys["acme-answer"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"from": "2026-03-02", "to": "2026-03-02"}, "must be after"),
        ({"from": "2026-03-06", "to": "2026-03-02"}, "must be after"),
        ({"from": "2025-01-01", "to": "2026-03-06"}, "at most 366"),
        ({"from": "2026-13-01", "to": "2026-03-06"}, ""),
        ({"from": "yesterday", "to": "2026-03-06"}, ""),
        ({"to": "2026-03-06"}, ""),
        ({"from": "2026-03-02", "to": "2026-03-06", "top": "0"}, ""),
        ({"from": "2026-03-02", "to": "2026-03-06", "tenant": "x" * 65}, ""),
    ],
)
def test_parameters_that_make_no_range_are_a_400(served: Served, params: dict[str, str], says: str) -> None:
    response = served.client.get("/admin/analytics", params=params, headers=auth(ADMIN_KEY))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and says in error["message"]


def test_without_to_the_range_runs_up_to_today_as_the_cli_does(served: Served) -> None:
    """Trial 2, finding 16: `to` was required by the endpoint while `faqstream report` defaults it."""
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=3)).isoformat()
    response = served.client.get("/admin/analytics", params={"from": start}, headers=auth(ADMIN_KEY))
    assert response.status_code == 200, response.text
    body = response.json()
    # the end is read after the request: a run across midnight UTC may see the later day
    assert body["start"] == start and body["end"] in {
        (today + timedelta(days=1)).isoformat(),
        (datetime.now(UTC).date() + timedelta(days=1)).isoformat(),
    }
    days = [day["key"] for day in body["by_day"]]
    assert days[0] == start and days[-1] == (date.fromisoformat(body["end"]) - timedelta(days=1)).isoformat()


def test_the_route_is_documented(served: Served) -> None:
    schema = served.client.get("/schema/openapi.json").json()
    operation = schema["paths"]["/admin/analytics"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["from"]["required"] and not params["to"].get("required", False)
    assert "default tomorrow" in params["to"]["description"]
    assert "`to` defaults to" in operation["description"]
    assert params["from"]["schema"]["format"] == "date"
    assert {"200", "400", "401", "403", "404", "503"} <= set(operation["responses"])
    assert operation["security"] == [{"bearer": []}]
    documented = schema["components"]["schemas"]
    analytics_schema = next(v for k, v in documented.items() if k.endswith("Analytics"))
    assert {"totals", "by_day", "by_language", "by_tenant", "top_intents", "content_gaps"} <= set(
        analytics_schema["properties"]
    )


def test_faqstream_report_reaches_the_service(
    served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SERVICE_ADMIN_KEY", ADMIN_KEY)
    argv = ["report", "--server", served.base, "--from", "2026-03-02", "--to", "2026-03-06"]
    assert main([*argv, "--tenant", "acme", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tenant"] == "acme" and report["totals"]["conversations"] == 101
    monkeypatch.setenv("SERVICE_ADMIN_KEY", "wrong")
    assert main(argv) == 3
    assert "the service answered 401" in capsys.readouterr().err
