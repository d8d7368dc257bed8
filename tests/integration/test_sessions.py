"""Conversation stores, what is specific to each: expiry, bounds, keys, failures, factories, and two OS
processes on one Redis. The contract both stores share is ``test_session_store_contract.py``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr
from redis.crc import key_slot

from service.conversations.redis_sessions import RedisSessionStore, session_store
from service.conversations.store import (
    ConversationSettings,
    InProcessSessionStore,
    SessionStoreError,
    Turn,
)
from service.settings.redis import RedisSettings, RedisUnavailableError, redis_client

pytestmark = pytest.mark.anyio

REDIS_URL = "redis://127.0.0.1:6379/0"
REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(**overrides: Any) -> ConversationSettings:
    return ConversationSettings(**overrides)


def user(text: str, **extra: Any) -> Turn:
    return Turn(role="user", text=text, language=extra.pop("language", "en"), **extra)


def bot(text: str, **extra: Any) -> Turn:
    return Turn(role="assistant", text=text, language=extra.pop("language", "en"), **extra)


# ------------------------------------------------------------------ expiry


async def test_in_process_expiry_follows_the_clock_and_writes_refresh_it() -> None:
    clock = Clock(1000.0)
    store = InProcessSessionStore(settings(ttl_s=100), clock=clock)
    await store.append("c1", [user("q")])
    clock.now = 1099.0
    assert await store.load("c1") is not None
    await store.append("c1", [bot("a")])  # refreshes: now expires at 1199
    clock.now = 1150.0
    assert await store.load("c1") is not None
    assert await store.set_summary("c1", "s", 1) is True  # refreshes: now expires at 1250
    clock.now = 1249.0
    assert await store.load("c1") is not None
    clock.now = 1250.0
    assert await store.load("c1") is None
    assert await store.set_summary("c1", "s", 2) is False
    await store.append("c1", [user("new")])  # a fresh conversation under the same id
    conv = await store.load("c1")
    assert conv is not None and [t.text for t in conv.turns] == ["new"]


async def test_in_process_store_is_bounded_and_sweeps_expired_entries() -> None:
    clock = Clock(0.0)
    store = InProcessSessionStore(settings(ttl_s=100, memory_max_conversations=3), clock=clock)
    for n in range(4):
        await store.append(f"c{n}", [user("q")])
    assert await store.load("c0") is None  # least recently written, evicted
    assert all([await store.load(f"c{n}") is not None for n in (1, 2, 3)])
    clock.now = 150.0
    await store.append("c9", [user("q")])  # the write sweeps everything expired
    assert list(store._entries) == ["c9"]


async def test_in_process_store_evicts_the_least_recently_used() -> None:
    store = InProcessSessionStore(settings(memory_max_conversations=2), clock=Clock(0.0))
    await store.append("c0", [user("q")])
    await store.append("c1", [user("q")])
    assert await store.load("c0") is not None  # c0 is used again: c1 is now the least recently used
    await store.append("c2", [user("q")])
    assert await store.load("c1") is None
    assert await store.load("c0") is not None and await store.load("c2") is not None


async def test_redis_keys_carry_the_ttl_and_every_write_refreshes_it(
    redis: aioredis.Redis, prefix: str
) -> None:
    store = RedisSessionStore(redis, settings(ttl_s=3600), prefix=prefix)
    meta, turns = store.keys("c1")
    await store.append("c1", [user("q"), bot("a")])
    for key in (meta, turns):
        assert 3_590_000 < await redis.pttl(key) <= 3_600_000

    for key in (meta, turns):
        await redis.pexpire(key, 5_000)
    await store.append("c1", [user("q2")])
    assert all([await redis.pttl(k) > 3_590_000 for k in (meta, turns)])

    for key in (meta, turns):
        await redis.pexpire(key, 5_000)
    assert await store.set_summary("c1", "s", 2) is True
    assert all([await redis.pttl(k) > 3_590_000 for k in (meta, turns)])


async def test_redis_conversation_is_gone_once_its_keys_expire(redis: aioredis.Redis, prefix: str) -> None:
    store = RedisSessionStore(redis, settings(), prefix=prefix)
    await store.append("c1", [user("q")])
    for key in store.keys("c1"):
        await redis.pexpire(key, 1)
    while await redis.exists(*store.keys("c1")):  # Redis expires them; no time is asserted
        await asyncio.sleep(0.005)
    assert await store.load("c1") is None


async def test_redis_keys_share_one_cluster_slot_per_conversation(redis: aioredis.Redis, prefix: str) -> None:
    store = RedisSessionStore(redis, settings(), prefix=prefix)
    slots_of_ids = set()
    for conversation_id in ("c1", "conv_0123456789abcdef", "{odd}id", "x}y"):
        meta, turns = store.keys(conversation_id)
        slots = {key_slot(k.encode()) for k in (meta, turns)}  # Redis Cluster's CRC16 hash slot
        assert meta.startswith(prefix) and len(slots) == 1
        slots_of_ids |= slots
    assert len(slots_of_ids) > 1  # the slot follows the conversation, not the shared prefix


# ------------------------------------------------------------------ failures


async def test_unreachable_redis_raises_session_store_error() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    store = RedisSessionStore(dead, settings(), prefix="x:")
    try:
        with pytest.raises(SessionStoreError, match="unavailable"):
            await store.load("c1")
        with pytest.raises(SessionStoreError):
            await store.append("c1", [user("q")])
        with pytest.raises(SessionStoreError):
            await store.set_summary("c1", "s", 1)
    finally:
        await dead.aclose()


async def test_unreadable_record_raises_session_store_error(redis: aioredis.Redis, prefix: str) -> None:
    store = RedisSessionStore(redis, settings(), prefix=prefix)
    await store.append("c1", [user("q")])
    await redis.rpush(store.keys("c1")[1], b"{not json")
    with pytest.raises(SessionStoreError, match="unreadable"):
        await store.load("c1")


# ------------------------------------------------------------------ settings and factories


async def test_redis_client_factory() -> None:
    assert await redis_client(RedisSettings(url=None)) is None
    assert RedisSettings(url="").url is None  # type: ignore[arg-type]  # an empty env var means unset
    client = await redis_client(RedisSettings(url=SecretStr(REDIS_URL)))
    assert client is not None
    try:
        assert await client.ping() is True
    finally:
        await client.aclose()
    with pytest.raises(RedisUnavailableError, match="unreachable"):
        await redis_client(RedisSettings(url=SecretStr("redis://127.0.0.1:1/0"), connect_timeout_s=1))


async def test_settings_read_their_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION_MAX_TURNS", "8")
    monkeypatch.setenv("CONVERSATION_TTL_S", "600")
    monkeypatch.setenv("REDIS_URL", "redis://:secret@redis:6379/2")
    monkeypatch.setenv("REDIS_KEY_PREFIX", "shop:")
    conv, red = ConversationSettings(), RedisSettings()
    assert (conv.max_turns, conv.ttl_s, conv.summary_model) == (8, 600, "claude-haiku-4-5")
    assert red.url is not None and red.url.get_secret_value() == "redis://:secret@redis:6379/2"
    assert "secret" not in repr(red) and red.key_prefix == "shop:"


async def test_session_store_factory_picks_the_backend(redis: aioredis.Redis, prefix: str) -> None:
    assert isinstance(session_store(settings(), None), InProcessSessionStore)
    store = session_store(settings(), redis, prefix=prefix)
    assert isinstance(store, RedisSessionStore) and store.prefix == prefix
    await store.close()  # a shared client is not closed by the store
    assert await redis.ping() is True


# ------------------------------------------------------------------ two OS processes


CHILD = r"""
import asyncio, json, sys
import redis.asyncio as aioredis
from service.conversations.redis_sessions import RedisSessionStore
from service.conversations.store import ConversationSettings, Turn

async def main(url, prefix, action, conv_id, name, count):
    client = aioredis.from_url(url)
    store = RedisSessionStore(client, ConversationSettings(), prefix=prefix)
    try:
        if action == "append":
            await store.append(conv_id, [
                Turn(role="user", text=f"{name}: my order is NW-2026-004817", language="en"),
                Turn(role="assistant", text=f"{name}: noted", language="en", citations=["faq.csv#1"]),
            ])
        elif action == "read":
            conv = await store.load(conv_id)
            print(json.dumps(None if conv is None else conv.model_dump(mode="json")))
        elif action == "race":
            await client.rpush(prefix + "ready", name)
            await client.blpop([prefix + "go:" + name], timeout=30)
            for n in range(count):
                await store.append(conv_id, [Turn(role="user", text=f"{name}-{n}")])
    finally:
        await client.aclose()

asyncio.run(main(*sys.argv[1:6], int(sys.argv[6])))
"""


def _child(prefix: str, action: str, conv_id: str, name: str, count: int = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, REDIS_URL, prefix, action, conv_id, name, str(count)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
async def test_two_processes_continue_each_others_conversations(redis: aioredis.Redis, prefix: str) -> None:
    store = RedisSessionStore(redis, settings(), prefix=prefix)

    _finish(_child(prefix, "append", "shared", "child"))  # another process starts the conversation
    conv = await store.load("shared")
    assert conv is not None
    assert [t.text for t in conv.turns] == ["child: my order is NW-2026-004817", "child: noted"]
    assert conv.turns[1].citations == ["faq.csv#1"]

    await store.append("shared", [user("parent: and the refund?"), bot("parent: 5 days")])
    assert await store.set_summary("shared", "order NW-2026-004817", 2) is True
    seen = json.loads(await asyncio.to_thread(_finish, _child(prefix, "read", "shared", "reader")))
    assert [t["text"] for t in seen["turns"]] == [
        "child: my order is NW-2026-004817",
        "child: noted",
        "parent: and the refund?",
        "parent: 5 days",
    ]
    assert (seen["summary"], seen["summarized_turns"]) == ("order NW-2026-004817", 2)


@pytest.mark.slow
async def test_concurrent_appends_from_three_processes_lose_nothing(
    redis: aioredis.Redis, prefix: str
) -> None:
    store = RedisSessionStore(redis, settings(), prefix=prefix)
    count = 150
    children = {name: _child(prefix, "race", "race", name, count) for name in ("a", "b")}
    for _ in children:  # both children connected and waiting: release them together
        assert await redis.blpop([prefix + "ready"], timeout=60) is not None
    for name in children:
        await redis.rpush(prefix + "go:" + name, "1")
    for n in range(count):
        await store.append("race", [user(f"p-{n}")])
    for proc in children.values():
        await asyncio.to_thread(_finish, proc)

    conv = await store.load("race")
    assert conv is not None and len(conv.turns) == 3 * count
    texts = [t.text for t in conv.turns]
    for name in ("a", "b", "p"):
        mine = [t for t in texts if t.startswith(name + "-")]
        assert mine == [f"{name}-{n}" for n in range(count)]  # every turn, in each writer's order


def test_env_example_documents_every_conversation_and_redis_setting_with_its_default() -> None:
    documented: dict[str, str] = {}
    for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines():
        name, sep, value = line.removeprefix("# ").partition("=")
        if sep and name.startswith(("CONVERSATION_", "REDIS_")):
            documented[name] = value
    known: set[str] = set()
    for cls in (ConversationSettings, RedisSettings):
        prefix = str(cls.model_config.get("env_prefix"))
        names = {prefix + field.upper() for field in cls.model_fields}
        assert names <= set(documented), sorted(names - set(documented))
        values = {n.removeprefix(prefix).lower(): v for n, v in documented.items() if n in names and v}
        assert cls.model_validate(values) == cls()  # the documented values are the defaults
        known |= names
    assert set(documented) <= known  # nothing documented that is not a setting
