"""Tenants through the real service (issue 12): API keys from the database (made by
`faqstream keys` while the service runs), scopes, per-key limits, and tenants that cannot see each
other — the answer cache (exact and paraphrase), conversations (another tenant's id is a 404), the
ledger — with no raw `user` or conversation id in a Redis key name.

One service for the module: Redis-backed, the answer cache on, AUTH_KEY_CACHE_TTL_S=0 (every request
asks the database: a revocation is seen by the next request; the bounded TTL itself is tested in
test_api_keys.py), /metrics and /schema protected. Each test makes its own keys.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis as redis_sync
from psycopg import sql
from sqlalchemy import select

from fakes import FakeAnthropic
from service.caching import CacheSettings
from service.core.types import KeyLimits
from service.quotas import LimitSettings
from service.settings.auth import AuthSettings
from service.settings.database import DatabaseSettings
from service.settings.redis import RedisSettings
from service.tenants.store import KeyStore
from service.usage.schema import usage_ledger
from tests.conftest import REDIS_URL, redis_namespace
from tests.service_harness import (
    ADMIN_KEY,
    FAST_RETRIES,
    NO_PASSAGES,
    Served,
    ask,
    auth,
    in_process,
    post,
    service_settings,
)

pytestmark = pytest.mark.slow

BOOTSTRAP = "bootstrap-key-0123456789"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    with redis_namespace("tenants") as prefix:
        yield prefix


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic, redis_prefix: str
) -> Iterator[Served]:
    components = {
        "resilience": FAST_RETRIES,
        "cache": CacheSettings(answers=True),
        "limits": LimitSettings(user_rpm=1, user_burst=1),
        "auth": AuthSettings(
            api_keys=f"boot={BOOTSTRAP}",  # type: ignore[arg-type]
            key_cache_ttl_s=0,
            identifier_secret="deployment-secret",  # type: ignore[arg-type]
            protect_ops=True,
        ),
        "redis": RedisSettings(url=REDIS_URL, key_prefix=redis_prefix),  # type: ignore[arg-type]
    }
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("svc-tenants"),
        api_key="test-key",
        base_url=fake.base_url,
        components=components,
    )
    with in_process(settings) as service:
        yield service


@pytest.fixture(scope="module")
def keys(served: Served) -> Iterator[KeyStore]:
    """The running service's key table, as `faqstream keys` reaches it (no restart in between)."""
    store = KeyStore.from_settings(served.runtime.settings.database)
    yield store
    store.close()


def new_key(keys: KeyStore, tenant: str, *scopes: str, limits: KeyLimits | None = None) -> str:
    _, key = keys.create(tenant, f"test {uuid.uuid4().hex[:6]}", scopes or ("answer",), limits)
    return key


def test_tenant_b_never_gets_tenant_a_cached_answer(
    served: Served, keys: KeyStore, fake: FakeAnthropic
) -> None:
    fake.reset()
    a, b, c = (new_key(keys, t) for t in ("tenant-a", "tenant-b", "tenant-c"))
    question = "Is the NW-KTL-110 kettle recalled?"
    paraphrase = "Has the NW-KTL-110 kettle been recalled?"
    first = ask(served.client, question, key=a)
    served.settle()
    assert first.meta["mode"] == "generative"
    # A's own repeats are served from A's cache: exact and paraphrase
    assert ask(served.client, question, key=a).done["cache"] == "exact"
    assert ask(served.client, paraphrase, key=a).done["cache"] == "semantic"
    assert len(fake.message_requests()) == 1
    # B asks the paraphrase, C the very same words: neither is A's answer
    for key, asked in ((b, paraphrase), (c, question)):
        other = ask(served.client, asked, key=key)
        assert other.meta["mode"] == "generative" and other.done["cache"] is None
    assert len(fake.message_requests()) == 3


def test_another_tenants_conversation_id_is_a_404(served: Served, keys: KeyStore) -> None:
    a, b = new_key(keys, "conv-a"), new_key(keys, "conv-b")
    a_second_key = new_key(keys, "conv-a")
    started = ask(served.client, NO_PASSAGES, key=a)
    conversation = started.meta["conversation_id"]
    stolen = post(served.client, NO_PASSAGES, key=b, conversation_id=conversation)
    assert stolen.status_code == 404
    assert stolen.json()["error"]["code"] == "conversation_not_found"
    never = post(served.client, NO_PASSAGES, key=a, conversation_id="conv_00000000000000000000")
    assert never.status_code == 404 and never.json() == stolen.json()  # the same answer: no oracle
    # the tenant's own conversation continues, from any of its keys
    assert post(served.client, NO_PASSAGES, key=a, conversation_id=conversation).status_code == 200
    again = post(served.client, NO_PASSAGES, key=a_second_key, conversation_id=conversation)
    assert again.status_code == 200 and again.json()["conversation_id"] == conversation


def test_redis_key_names_and_ledger_rows_carry_no_raw_user_or_conversation_id(
    served: Served, keys: KeyStore, redis_prefix: str
) -> None:
    key = new_key(keys, "private")
    user = "Ann.Lee@Example.com"
    answer = post(served.client, "How long does a refund take?", key=key, user=user)
    assert answer.status_code == 200
    conversation = answer.json()["conversation_id"]
    post(served.client, "How long does a refund take?", key=key, user="x", conversation_id=conversation)
    served.settle()
    served.run(served.runtime.storage.ledger.flush)
    client = redis_sync.Redis.from_url(REDIS_URL)
    names = [n.decode() for n in client.scan_iter(match=f"{redis_prefix}*", count=500)]
    client.close()
    assert any(":conv:" in n for n in names) and any(":rl:" in n for n in names)
    for raw in (user, user.casefold(), "ann.lee", conversation, conversation.removeprefix("conv_")):
        assert not [n for n in names if raw.casefold() in n.casefold()], raw
    with served.runtime.storage.ledger.writer.database.engine.connect() as conn:
        rows = conn.execute(select(usage_ledger).where(usage_ledger.c.tenant == "private")).all()
    assert rows and all(r._mapping["key_id"].startswith("key_") for r in rows)
    assert {conversation} & {r._mapping["conversation_id"] for r in rows} == set()


def test_case_and_spaces_in_user_do_not_dodge_the_per_user_limit(served: Served, keys: KeyStore) -> None:
    key = new_key(keys, "users")
    assert post(served.client, NO_PASSAGES, key=key, user="Bob@Example.com").status_code == 200
    dodge = post(served.client, NO_PASSAGES, key=key, user="  bob@example.COM ")
    assert dodge.status_code == 429 and "user" in dodge.json()["error"]["message"]
    assert post(served.client, NO_PASSAGES, key=key, user="carol@example.com").status_code == 200


def test_scopes_are_enforced(served: Served, keys: KeyStore, corpus: Path) -> None:
    answer, admin, metrics = (
        new_key(keys, "ops"),
        new_key(keys, "ops", "admin"),
        new_key(keys, "ops", "metrics"),
    )
    refused = post(served.client, NO_PASSAGES, key=metrics)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    assert post(served.client, NO_PASSAGES, key=admin).status_code == 403
    assert post(served.client, NO_PASSAGES, key=BOOTSTRAP).status_code == 200  # AUTH_API_KEYS: answer
    dry_run = {"paths": [str(corpus)], "dry_run": True}
    assert served.client.post("/admin/ingest", json=dry_run, headers=auth(admin)).status_code == 200
    assert served.client.post("/admin/ingest", json=dry_run, headers=auth(ADMIN_KEY)).status_code == 200
    assert served.client.post("/admin/ingest", json=dry_run, headers=auth(answer)).status_code == 403
    assert served.client.post("/admin/ingest", json=dry_run, headers=auth("fqs_nope")).status_code == 401
    for path in ("/metrics", "/schema/openapi.json"):
        assert served.client.get(path).status_code == 401, path  # AUTH_PROTECT_OPS
        assert served.client.get(path, headers=auth(answer)).status_code == 403, path
        assert served.client.get(path, headers=auth(BOOTSTRAP)).status_code == 403, path
        assert served.client.get(path, headers=auth(metrics)).status_code == 200, path
        assert served.client.get(path, headers=auth(ADMIN_KEY)).status_code == 200, path
    assert served.client.get("/healthz").status_code == 200  # liveness stays open


def test_a_keys_own_rate_and_budget_apply(served: Served, keys: KeyStore) -> None:
    slow = new_key(keys, "limited", limits=KeyLimits(rpm=1))
    first = post(served.client, NO_PASSAGES, key=slow)
    assert first.status_code == 200 and first.headers["ratelimit-policy"] == '1;w=60;burst=1;comment="key"'
    refused = post(served.client, NO_PASSAGES, key=slow)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert post(served.client, NO_PASSAGES, key=new_key(keys, "limited")).status_code == 200  # its own bucket

    thrifty = new_key(keys, "limited", limits=KeyLimits(daily_tokens=10))
    spent = post(served.client, "How long does a refund take?", key=thrifty)
    assert spent.status_code == 200 and spent.json()["mode"] == "generative"
    served.settle()
    over = post(served.client, NO_PASSAGES, key=thrifty)
    assert over.status_code == 429 and over.json()["error"]["code"] == "budget_exhausted"


def test_keys_made_rotated_and_revoked_by_the_cli_take_effect_without_a_restart(
    served: Served, child_env: dict[str, str]
) -> None:
    env = {**child_env, "DATABASE_SQLITE_PATH": str(served.runtime.settings.database.sqlite_path)}
    env.pop("DATABASE_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "faqstream", "keys", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    made = cli("create", "--tenant", "cli-co", "--name", "widget", "--json")
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["key"].startswith("fqs_") and created["tenant"] == "cli-co"
    assert created["scopes"] == ["answer"] and created["revoked_at"] is None
    assert post(served.client, NO_PASSAGES, key=created["key"]).json()["answer"]

    rotated = cli("rotate", created["id"])  # human output: the new key alone on stdout
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert new.startswith("fqs_") and new != created["key"] and "shown once" in rotated.stderr
    assert post(served.client, NO_PASSAGES, key=created["key"]).status_code == 401
    assert post(served.client, NO_PASSAGES, key=new).status_code == 200

    listed = cli("list", "--tenant", "cli-co", "--json")
    (row,) = json.loads(listed.stdout)
    assert row["id"] == created["id"] and row["last_used_at"] is not None and "key" not in row
    assert created["key"] not in listed.stdout and new not in listed.stdout

    revoked = cli("revoke", created["id"])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    gone = post(served.client, NO_PASSAGES, key=new)
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "unauthorized"

    assert cli("revoke", "key_missing").returncode == 2
    assert cli("create", "--tenant", "bad tenant", "--name", "x").returncode == 2


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own (the service uses its default schema)."""
    name = f"test_tenants_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_key_lifecycle_through_a_service_on_postgresql(
    tmp_path: Path, template: Path, fake: FakeAnthropic, postgres_database: str
) -> None:
    components = {
        "auth": AuthSettings(key_cache_ttl_s=0),
        "database": DatabaseSettings(url=postgres_database),  # type: ignore[arg-type]
    }
    settings = service_settings(
        template, tmp_path, api_key="test-key", base_url=fake.base_url, components=components
    )
    with in_process(settings) as service:
        assert post(service.client, NO_PASSAGES).status_code == 200  # no key yet: open, tenant public
        store = KeyStore.from_settings(settings.database)
        try:
            record, key = store.create("pg-co", "app", ["answer"], KeyLimits(rpm=2))
            assert post(service.client, NO_PASSAGES).status_code == 401  # a key exists: closed now
            assert [post(service.client, NO_PASSAGES, key=key).status_code for _ in range(3)] == [
                200,
                200,
                429,
            ]
            metrics_only = new_key(store, "pg-co", "metrics")
            assert post(service.client, NO_PASSAGES, key=metrics_only).status_code == 403
            _, rotated = store.rotate(record.id)
            assert post(service.client, NO_PASSAGES, key=key).status_code == 401
            assert post(service.client, NO_PASSAGES, key=rotated).status_code == 429  # same id: same bucket
            store.revoke(record.id)
            assert post(service.client, NO_PASSAGES, key=rotated).status_code == 401
            assert store.get(record.id).last_used_at is not None
        finally:
            store.close()
