"""API keys in the database (service/tenants): the lifecycle on real SQLite and PostgreSQL —
create, use, rotate, revoke — what is stored (a hash, never the key), and the service's cached view
of the keys: a revoked or rotated key stops within the cache TTL, and a new one works at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import select

from service.core.types import KeyLimits
from service.tenants.directory import KeyDirectory, KeyStoreUnavailableError
from service.tenants.secret import PREFIX, digest, lookup_of
from service.tenants.store import InvalidKeyError, KeyNotFoundError, KeyStore
from service.usage.database import LedgerDatabase
from service.usage.schema import api_keys

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "sqlite":
        keys = KeyStore(LedgerDatabase.sqlite(tmp_path / "var" / "keys.db"))
        keys.migrate()
        yield keys
        keys.close()
        return
    schema = f"test_keys_{uuid.uuid4().hex[:12]}"
    keys = KeyStore(LedgerDatabase.postgres(POSTGRES_URL, schema=schema))
    keys.migrate()
    yield keys
    keys.close()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def identify(directory: KeyDirectory, key: str) -> str | None:
    """The tenant the directory says the key belongs to (None: refused)."""
    client = asyncio.run(directory.identify(key))
    return client.name if client is not None else None


def test_a_created_key_identifies_its_tenant_scopes_and_limits(store: KeyStore) -> None:
    directory = KeyDirectory(store, ttl_s=0)
    assert asyncio.run(directory.has_keys()) is False
    record, key = store.create(
        "acme", "web widget", ["answer", "metrics"], KeyLimits(rpm=30, daily_tokens=5000)
    )
    assert key.startswith(PREFIX) and lookup_of(key) == record.lookup and len(key) > 60
    client = asyncio.run(directory.identify(key))
    assert client is not None
    assert (client.name, client.key_id, client.key) == ("acme", record.id, record.id)
    assert client.scopes == {"answer", "metrics"}
    assert client.limits == KeyLimits(rpm=30, daily_tokens=5000, daily_cost_usd=None)
    assert asyncio.run(directory.has_keys()) is True
    assert store.get(record.id).last_used_at is not None  # a lookup records the use
    # only the hash is stored: the key itself appears nowhere in the row
    with store.database.engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == record.id)).one()._mapping
    assert row["secret_hash"] == digest(key) and key not in {str(v) for v in row.values()}


def test_wrong_secret_unknown_lookup_and_other_strings_are_refused(store: KeyStore) -> None:
    directory = KeyDirectory(store, ttl_s=0)
    _, key = store.create("acme", "web")
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")  # the right lookup, wrong secret
    for presented in (forged, f"{PREFIX}0123456789abcdef_{'x' * 43}", "fqs_", "fqs_zz_x", "", key + " "):
        assert identify(directory, presented) is None, presented


def test_rotation_stops_the_old_key_and_keeps_the_id(store: KeyStore) -> None:
    directory = KeyDirectory(store, ttl_s=0)
    record, old = store.create("acme", "web", ["answer"], KeyLimits(rpm=5))
    assert identify(directory, old) == "acme"
    rotated, new = store.rotate(record.id)
    assert new != old and rotated.id == record.id and rotated.rotated_at is not None
    assert rotated.limits == record.limits and rotated.scopes == record.scopes
    assert identify(directory, old) is None
    assert identify(directory, new) == "acme"


def test_revocation_stops_the_key_and_is_kept_listed(store: KeyStore) -> None:
    directory = KeyDirectory(store, ttl_s=0)
    record, key = store.create("acme", "web")
    other, other_key = store.create("globex", "app")
    assert identify(directory, key) == "acme"
    revoked = store.revoke(record.id)
    assert revoked.revoked_at is not None
    assert store.revoke(record.id).revoked_at == revoked.revoked_at  # idempotent
    assert identify(directory, key) is None
    assert identify(directory, other_key) == "globex"
    assert [r.id for r in store.list()] == [record.id, other.id]
    assert [r.id for r in store.list(revoked=False)] == [other.id]
    assert [r.id for r in store.list("acme")] == [record.id]
    with pytest.raises(KeyNotFoundError):
        store.rotate(record.id)  # a revoked key cannot be brought back
    with pytest.raises(KeyNotFoundError):
        store.revoke("key_missing")
    assert asyncio.run(directory.has_keys()) is True  # revoking every key never opens the service


def test_a_revoked_key_stops_within_the_cache_ttl_and_a_new_one_works_at_once(store: KeyStore) -> None:
    clock = Clock()
    directory = KeyDirectory(store, ttl_s=5, timer=clock)
    record, key = store.create("acme", "web")
    assert identify(directory, key) == "acme"  # now cached
    store.revoke(record.id)
    clock.now += 4.9
    assert identify(directory, key) == "acme"  # still within the TTL: the documented bound
    clock.now += 0.2
    assert identify(directory, key) is None  # past it: refused, no restart
    _, fresh = store.create("acme", "web 2")
    assert identify(directory, fresh) == "acme"  # never looked up before: not cached


def test_a_rotated_key_stops_within_the_ttl_while_the_new_one_works_at_once(store: KeyStore) -> None:
    clock = Clock()
    directory = KeyDirectory(store, ttl_s=5, timer=clock)
    record, old = store.create("acme", "web")
    assert identify(directory, old) == "acme"
    _, new = store.rotate(record.id)
    assert identify(directory, new) == "acme"
    clock.now += 5.1
    assert identify(directory, old) is None


def test_keys_are_created_only_as_valid(store: KeyStore) -> None:
    for tenant, name, scopes, limits in (
        ("bad tenant", "x", ["answer"], None),
        ("", "x", ["answer"], None),
        ("acme", " ", ["answer"], None),
        ("acme", "x", [], None),
        ("acme", "x", ["root"], None),
        ("acme", "x", ["answer"], KeyLimits(rpm=0)),
        ("acme", "x", ["answer"], KeyLimits(daily_cost_usd=-1)),
    ):
        with pytest.raises(InvalidKeyError):
            store.create(tenant, name, scopes, limits)
    assert store.list() == []


def test_an_unreachable_database_is_a_503_not_a_401() -> None:
    store = KeyStore(LedgerDatabase.postgres("postgresql://postgres@127.0.0.1:1/test", connect_timeout_s=1))
    directory = KeyDirectory(store, ttl_s=5)
    with pytest.raises(KeyStoreUnavailableError) as raised:
        asyncio.run(directory.identify(f"{PREFIX}0123456789abcdef_{'x' * 43}"))
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (
        503,
        "store_unavailable",
        True,
    )
    store.close()


def test_an_open_service_stays_open_through_a_database_outage(tmp_path: Path) -> None:
    """No key existed when last asked: an outage keeps that answer instead of refusing everyone."""
    clock = Clock()
    working = KeyStore(LedgerDatabase.sqlite(tmp_path / "keys.db"))
    working.migrate()
    unreachable = KeyStore(
        LedgerDatabase.postgres("postgresql://postgres@127.0.0.1:1/test", connect_timeout_s=1)
    )
    directory = KeyDirectory(working, ttl_s=5, timer=clock)
    assert asyncio.run(directory.has_keys()) is False
    directory.store = unreachable
    clock.now += 6
    assert asyncio.run(directory.has_keys()) is False  # the last answer, logged
    with pytest.raises(KeyStoreUnavailableError):  # never asked before: no answer to keep
        asyncio.run(KeyDirectory(unreachable, ttl_s=5).has_keys())
    working.close()
    unreachable.close()
