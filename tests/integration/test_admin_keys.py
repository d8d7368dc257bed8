"""``/admin/*`` without ``SERVICE_ADMIN_KEY``: on while a database key has the ``admin`` scope.

With neither an admin key nor an ``admin``-scope key every ``/admin/*`` call is a 404 (admin is
off); with an ``admin``-scope key in the database an unknown key is a 401 counted as a failed
authentication, and a revoked last admin key turns admin off again. The key directory's answer
is checked on the real key store (SQLite and PostgreSQL) with a clock of our own for its TTL, and
the guard through the real app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.settings.auth import AuthSettings
from service.tenants.directory import KeyDirectory
from service.tenants.store import KeyStore
from tests.databases import migrated_database
from tests.service_harness import Served, auth, in_process, scrape, service_settings, total

TTL_S = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    with migrated_database(request.param, tmp_path, "admin_keys") as database:
        yield KeyStore(database)


def test_the_directory_knows_whether_an_unrevoked_admin_key_exists(store: KeyStore) -> None:
    clock = Clock()
    directory = KeyDirectory(store, TTL_S, timer=clock)

    def admin_now() -> bool:
        clock.now += TTL_S  # past the TTL: the directory asks the database again
        return asyncio.run(directory.has_admin_keys())

    assert not admin_now()
    store.create("acme", "answers", ("answer",))
    store.create("acme", "ops", ("metrics", "agent"))
    assert not admin_now()  # other scopes do not enable admin
    first, _ = store.create("acme", "admin", ("answer", "admin"))
    second, _ = store.create("beta", "admin", ("admin",))
    assert admin_now()
    store.revoke(first.id)
    assert admin_now()  # the other admin key still exists
    store.revoke(second.id)
    assert asyncio.run(directory.has_admin_keys())  # within the TTL: the last answer stands
    assert not admin_now()  # after it: admin is off again


# ---------------------------------------------------------------- through the real app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    components = {"auth": AuthSettings(key_cache_ttl_s=0)}  # keys take effect at once
    folder = tmp_path_factory.mktemp("admin")
    settings = service_settings(template, folder, components=components, admin_key=None)
    with in_process(settings) as running:
        yield running


@pytest.mark.slow
def test_admin_routes_follow_the_admin_scope_keys_when_the_admin_key_is_unset(served: Served) -> None:
    def status(key: str | None) -> int:
        return served.client.get("/admin/status", headers=auth(key)).status_code

    def failures() -> float:
        return total(scrape(served.client), "faqstream_auth_failures_total")

    unknown = "fqs_0123456789abcdef_" + "0" * 43
    assert status(unknown) == 404 and status("not-a-key") == 404 and status(None) == 404
    assert served.client.get("/admin/status").json()["error"]["code"] == "not_found"

    store = KeyStore.from_settings(served.runtime.settings.database)
    try:
        answer_key = store.create("acme", "answers", ("answer",))[1]
        assert status(unknown) == 404  # an answer key does not enable admin
        record, admin_key = store.create("acme", "ops", ("admin",))
        assert status(admin_key) == 200
        before = failures()
        for key in (unknown, "not-a-key", None):
            response = served.client.get("/admin/status", headers=auth(key))
            assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
        assert failures() == before + 3
        assert status(answer_key) == 403  # a valid key of the wrong kind, as with SERVICE_ADMIN_KEY set
        store.revoke(record.id)
        assert status(admin_key) == 404 and status(unknown) == 404  # no admin credential left
    finally:
        store.close()
