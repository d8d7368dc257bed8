"""A cached answer is replayed only by a deployment that answers the same way: a quoted
(extractive) answer cached while no Claude key was set is not served once the key is set, and a
generated answer is not replayed by an extractive instance sharing the same Redis (issue 12: "an
extractive instance replays a generated answer"). Two services, one Redis, the answer cache on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes import FakeAnthropic
from service.caching import CacheSettings
from service.settings.redis import RedisSettings
from tests.conftest import REDIS_URL, redis_namespace
from tests.service_harness import FAST_RETRIES, REFUND_FAQ, in_process, post, service_settings

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    with redis_namespace("answerer") as prefix:
        yield prefix


def test_cached_answers_stay_with_the_answerer_that_made_them(
    template: Path, fake: FakeAnthropic, tmp_path: Path, redis_prefix: str
) -> None:
    components = {
        "resilience": FAST_RETRIES,
        "cache": CacheSettings(answers=True),
        "redis": RedisSettings(url=REDIS_URL, key_prefix=redis_prefix),  # type: ignore[arg-type]
    }
    extractive = service_settings(template, tmp_path / "extractive", components=components)
    generative = service_settings(
        template, tmp_path / "generative", api_key="sk-fake", base_url=fake.base_url, components=components
    )

    with in_process(extractive) as served:  # no Claude key: quoted passages, cached
        first = post(served.client, REFUND_FAQ).json()
        served.settle()
        again = post(served.client, REFUND_FAQ).json()
    assert first["mode"] == "extractive"
    assert again["mode"] == "cached"  # the cache works for the answerer that filled it
    # An exact hit is served before routing: the entry keeps the route (a trial saw intent null).
    assert first["intent"] is not None and again["intent"] == first["intent"]

    with in_process(generative) as served:  # the key is set now: the quoted answer is not replayed
        answer = post(served.client, REFUND_FAQ).json()
        served.settle()
        replayed = post(served.client, REFUND_FAQ).json()
    assert answer["mode"] == "generative"
    assert replayed["mode"] == "cached" and replayed["answer"] == answer["answer"]

    with in_process(extractive) as served:  # nor a generated answer by an extractive instance
        quoted = post(served.client, REFUND_FAQ).json()
    assert quoted["mode"] == "cached" and quoted["answer"] == again["answer"]  # its own entry
    assert quoted["answer"] != answer["answer"]
