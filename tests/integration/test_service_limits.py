"""End to end over real HTTP (issues 4 and 5): what keeps cost and load in check — the answer cache,
rate limits and daily budgets, overload shedding — and the metrics that show it.

These behaviours make requests interact (a cached answer, a spent bucket), so each group has its own
service, and every test uses its own questions and API keys. Harness: tests/service_harness.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeAnthropic, Status
from service.caching import SEMANTIC_THRESHOLDS, CacheSettings
from service.llm.policy import ResilienceSettings
from service.quotas import LimitSettings
from service.settings.auth import AuthSettings
from tests.service_harness import (
    ADMIN_KEY,
    FAST_RETRIES,
    MIN_CACHE,
    NO_PASSAGES,
    REPLY,
    Answer,
    Served,
    ask,
    auth,
    eventually,
    in_process,
    post,
    scrape,
    service_settings,
    total,
)

pytestmark = pytest.mark.slow

NO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_input_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cost_usd": 0.0,
}
SONNET = "claude-sonnet-4-6"


# ================================================================ the answer cache


@pytest.fixture(scope="module")
def caching(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    components = {
        "resilience": FAST_RETRIES,
        "cache": CacheSettings(answers=True),
        "limits": LimitSettings(user_rpm=1, user_burst=1),  # key limits at their (generous) defaults
    }
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("svc-cache"),
        api_key="test-key",
        base_url=fake.base_url,
        components=components,
    )
    with in_process(settings) as served:
        yield served


def answered_then_stored(served: Served, question: str, **fields: Any) -> Answer:
    answer = ask(served.client, question, **fields)
    served.settle()  # the cache entry is written after the answer, in the background
    return answer


def test_same_first_turn_question_is_served_from_the_cache(caching: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    question = "How do I get a refund to my card?"
    first = answered_then_stored(caching, question)
    assert first.meta["mode"] == "generative" and first.done["cache"] is None
    again = ask(caching.client, question)
    assert again.meta["mode"] == "cached" and again.done["cache"] == "exact"
    assert again.done["usage"] == NO_USAGE
    assert again.text == first.text == REPLY and again.meta["citations"] == first.meta["citations"]
    assert again.meta["conversation_id"] != first.meta["conversation_id"]
    as_json = post(caching.client, "  how do I get a REFUND to my card ").json()  # the same, normalised
    assert as_json["mode"] == "cached" and as_json["cache"] == "exact" and as_json["answer"] == REPLY
    assert len(fake.message_requests()) == 1

    # Only first turns are cached: in a conversation the same words are answered by Claude.
    follow_up = ask(caching.client, question, conversation_id=first.meta["conversation_id"])
    assert follow_up.meta["mode"] == "generative" and follow_up.done["cache"] is None
    assert len(fake.message_requests()) == 2


def cosine(served: Served, a: str, b: str) -> float:
    """The cosine similarity of two questions' vectors, with the service's own embedder."""
    embed = served.runtime.kb.embedder.embed_query
    return float(embed(a) @ embed(b))


def test_semantic_threshold_is_the_models(caching: Served) -> None:
    """CACHE_SEMANTIC_THRESHOLD unset: the service uses the value measured for its model."""
    cache = caching.runtime.cache
    assert cache is not None and caching.runtime.settings.cache.semantic_threshold is None
    assert cache.settings.semantic_threshold == SEMANTIC_THRESHOLDS[caching.runtime.settings.embedding.model]


def test_paraphrase_is_a_semantic_hit_unless_its_identifiers_differ(
    caching: Served, fake: FakeAnthropic
) -> None:
    fake.reset()
    threshold = SEMANTIC_THRESHOLDS[caching.runtime.settings.embedding.model]
    question = "Is the NW-KTL-110 kettle recalled?"
    first = answered_then_stored(caching, question)
    asked = "Is the NW-KTL-110 kettle being recalled?"
    assert cosine(caching, question, asked) >= threshold + 0.003
    paraphrase = ask(caching.client, asked)
    assert paraphrase.meta["mode"] == "cached" and paraphrase.done["cache"] == "semantic"
    assert paraphrase.text == first.text and paraphrase.done["usage"] == NO_USAGE
    other = "Is the NW-KTL-110A kettle recalled?"  # another model code
    assert cosine(caching, question, other) >= threshold  # similar enough: only the codes differ
    other_model = ask(caching.client, other)
    assert other_model.meta["mode"] == "generative" and other_model.done["cache"] is None
    assert len(fake.message_requests()) == 2


def test_question_with_personal_data_is_never_cached(caching: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    question = "My email is jane@example.com, how long does a refund take?"
    first = answered_then_stored(caching, question)
    again = answered_then_stored(caching, question)
    assert first.meta["mode"] == again.meta["mode"] == "generative"
    assert again.done["cache"] is None
    assert len(fake.message_requests()) == 2


def test_handoff_is_never_cached(caching: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    first = answered_then_stored(caching, "我要转人工")
    again = answered_then_stored(caching, "我要转人工")
    for answer in (first, again):
        assert answer.meta["mode"] == "extractive" and answer.done["cache"] is None
        assert answer.meta["handoff"]["reason"] == "customer_request"
    assert fake.message_requests() == []


def test_metrics_follow_answers_cache_handoffs_limits_and_upstream(
    caching: Served, fake: FakeAnthropic
) -> None:
    fake.reset()
    before = scrape(caching.client)
    fake.script(Status(529, "overloaded_error", "Overloaded"))  # one retry, then the answer
    generated = answered_then_stored(caching, "Can I return opened earbuds?")
    exact = ask(caching.client, "Can I return opened earbuds?")
    paraphrase = "Can I return my opened earbuds?"
    threshold = SEMANTIC_THRESHOLDS[caching.runtime.settings.embedding.model]
    assert cosine(caching, "Can I return opened earbuds?", paraphrase) >= threshold + 0.003
    semantic = ask(caching.client, paraphrase)
    handoff = ask(caching.client, "我要转人工")
    allowed = post(caching.client, NO_PASSAGES, user="metrics-user")
    limited = post(caching.client, NO_PASSAGES, user="metrics-user")
    assert generated.meta["mode"] == "generative" and len(fake.message_requests()) == 2
    assert (exact.done["cache"], semantic.done["cache"]) == ("exact", "semantic")
    assert handoff.meta["handoff"]["reason"] == "customer_request"
    assert (allowed.status_code, limited.status_code) == (200, 429)
    after = scrape(caching.client)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("faqstream_answers_total", mode="generative", outcome="ok") == 1
    assert moved("faqstream_answers_total", mode="cached", outcome="ok") == 2
    assert moved("faqstream_answers_total", mode="extractive", outcome="ok") == 2  # handoff, no passages
    usage = generated.done["usage"]
    for kind in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
        assert moved("faqstream_tokens_total", kind=kind, model=SONNET) == usage[kind], kind
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert moved("faqstream_cost_usd_total", model=SONNET) == pytest.approx(usage["cost_usd"])
    assert usage["cost_usd"] > 0
    assert moved("faqstream_answer_cache_total", result="miss") == 1
    assert moved("faqstream_answer_cache_total", result="exact") == 1
    assert moved("faqstream_answer_cache_total", result="semantic") == 1
    assert moved("faqstream_answer_cache_saved_usd_total") == pytest.approx(2 * usage["cost_usd"])
    assert moved("faqstream_handoffs_total", reason="customer_request") == 1
    assert moved("faqstream_handoffs_total") == 2  # and the question nothing answers
    assert moved("faqstream_rate_limited_total", limit="user") == 1
    assert moved("faqstream_upstream_retries_total", model=SONNET) == 1
    assert moved("faqstream_upstream_errors_total", model=SONNET) == 1
    assert moved("faqstream_upstream_first_token_seconds_count", model=SONNET) == 1
    assert eventually(
        lambda: (
            total(now := scrape(caching.client), "faqstream_answers_in_flight") == 0
            and total(now, "faqstream_upstream_inflight") == 0
        )
    )


def test_new_ingest_bumps_the_version_and_retires_cached_answers(
    caching: Served, fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.reset()
    question = "How long does standard delivery take in Germany?"
    first = answered_then_stored(caching, question)
    cached = ask(caching.client, question)
    assert cached.meta["mode"] == "cached" and cached.meta["kb_version"] == first.meta["kb_version"]

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "gift-wrap.md").write_text("# Gift wrapping\n\nGift wrapping costs 3.50 EUR per item.", "utf-8")
    report = caching.client.post(
        "/admin/ingest", json={"paths": [str(extra)]}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert report.status_code == 200, report.text
    version = caching.client.get("/readyz").json()["kb_version"]
    assert version > first.meta["kb_version"]

    fresh = answered_then_stored(caching, question)
    assert fresh.meta["mode"] == "generative" and fresh.done["cache"] is None
    assert fresh.meta["kb_version"] == version
    again = ask(caching.client, question)
    assert again.meta["mode"] == "cached" and again.meta["kb_version"] == version
    assert len(fake.message_requests()) == 2


# ================================================================ rate limits, budgets, overload

KEYS = {name: f"key-{name}-0123456789abcdef" for name in "abcde"}


class Gate:
    """A ``reply`` for the fake that holds every upstream request, before any byte, while closed."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.opened.set()

    def reply(self, _body: dict[str, Any]) -> str:
        self.opened.wait(timeout=30)
        return REPLY


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate()


@pytest.fixture(scope="module")
def limits_fake(gate: Gate) -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=gate.reply, min_cache_tokens=MIN_CACHE) as server:
        yield server


@pytest.fixture(scope="module")
def limited(
    tmp_path_factory: pytest.TempPathFactory, template: Path, limits_fake: FakeAnthropic
) -> Iterator[Served]:
    """Every key: bursts of 3, refilled at one request a minute; end users: 1; 100 tokens a day.
    One answer streams from Claude at a time, and nobody queues for it."""
    components = {
        "auth": AuthSettings(api_keys=",".join(f"{n}={k}" for n, k in KEYS.items())),  # type: ignore[arg-type]
        "limits": LimitSettings(key_rpm=1, key_burst=3, user_rpm=1, user_burst=1, daily_tokens=100),
        "resilience": ResilienceSettings(
            max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02, jitter_s=0, pool_size=1, queue_size=0
        ),
    }
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("svc-limits"),
        api_key="test-key",
        base_url=limits_fake.base_url,
        components=components,
    )
    with in_process(settings) as served:
        yield served


KEY_POLICY = '1;w=60;burst=3;comment="key"'
USER_POLICY = '1;w=60;burst=1;comment="user"'


def test_fourth_request_of_a_burst_gets_429_with_rate_limit_headers(limited: Served) -> None:
    key = KEYS["a"]
    streamed = ask(limited.client, NO_PASSAGES, key=key)
    ok = [streamed.headers] + [post(limited.client, NO_PASSAGES, key=key).headers for _ in range(2)]
    refused = post(limited.client, NO_PASSAGES, key=key)
    for remaining, headers in zip((2, 1, 0), ok, strict=True):
        assert headers["ratelimit-limit"] == "3" and headers["ratelimit-remaining"] == str(remaining)
        assert 0 < int(headers["ratelimit-reset"]) <= 180 and headers["ratelimit-policy"] == KEY_POLICY
        assert "retry-after" not in headers
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/json")
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and error["retryable"] is True and "key" in error["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-limit"] == "3" and refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit-policy"] == KEY_POLICY and int(refused.headers["ratelimit-reset"]) > 0


def test_end_user_limit_applies_per_user_within_the_key(limited: Served) -> None:
    key = KEYS["b"]
    u1 = post(limited.client, NO_PASSAGES, key=key, user="u1")
    assert u1.status_code == 200
    assert u1.headers["ratelimit-policy"] == f"{KEY_POLICY}, {USER_POLICY}"
    assert (u1.headers["ratelimit-limit"], u1.headers["ratelimit-remaining"]) == ("1", "0")  # the tighter
    u1_again = post(limited.client, NO_PASSAGES, key=key, user="u1")
    assert u1_again.status_code == 429 and "user" in u1_again.json()["error"]["message"]
    assert u1_again.json()["error"]["code"] == "rate_limited" and int(u1_again.headers["retry-after"]) >= 1
    assert post(limited.client, NO_PASSAGES, key=key, user="u2").status_code == 200  # another user
    no_user = post(limited.client, NO_PASSAGES, key=key)
    assert no_user.status_code == 200
    assert no_user.headers["ratelimit-remaining"] == "0"  # u1's refused request took no key token
    over = post(limited.client, NO_PASSAGES, key=key)
    assert over.status_code == 429 and "key" in over.json()["error"]["message"]


def test_spent_daily_token_budget_gets_429_until_tomorrow(
    limited: Served, limits_fake: FakeAnthropic
) -> None:
    limits_fake.reset()
    key = KEYS["c"]
    spent = post(limited.client, "How long does a refund take?", key=key)
    assert spent.status_code == 200 and spent.json()["mode"] == "generative"
    usage = spent.json()["usage"]
    assert usage["input_tokens"] + usage["output_tokens"] > 100
    limited.settle()  # the answer's tokens are charged after it, in the background
    refused = post(limited.client, NO_PASSAGES, key=key)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "budget_exhausted" and error["retryable"] is True and "tokens" in error["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 86_400  # the next UTC day
    assert refused.headers["ratelimit-limit"] == "3"
    assert post(limited.client, NO_PASSAGES, key=KEYS["e"]).status_code == 200  # budgets are per key
    assert len(limits_fake.message_requests()) == 1


def test_overload_is_shed_with_503_while_an_answer_streams(
    limited: Served, limits_fake: FakeAnthropic, gate: Gate
) -> None:
    limits_fake.reset()
    gate.opened.clear()  # the first answer waits upstream, holding the only slot, until we open
    key = KEYS["d"]
    before = scrape(limited.client)
    streamed: list[Answer] = []
    slow = threading.Thread(
        target=lambda: streamed.append(ask(limited.client, "How long does a refund take?", key=key))
    )
    slow.start()
    try:
        assert eventually(lambda: len(limits_fake.message_requests()) == 1)  # holding the only slot
        during = scrape(limited.client)
        shed = post(limited.client, "Can I change my delivery address?", key=key)
        shed_stream = limited.client.post(
            "/v1/answers",
            json={"question": "Can I change my delivery address?", "stream": True},
            headers=auth(key),
        )
        # a question answered without Claude is still served
        assert post(limited.client, NO_PASSAGES, key=KEYS["e"]).status_code == 200
    finally:
        gate.opened.set()
        slow.join(timeout=30)
    for response in (shed, shed_stream):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/json")
        error = response.json()["error"]
        assert error["code"] == "overloaded" and error["retryable"] is True
        assert int(response.headers["retry-after"]) >= 1
    assert total(during, "faqstream_upstream_inflight") == 1
    assert total(during, "faqstream_answers_in_flight") == 1
    (answer,) = streamed
    assert answer.meta["mode"] == "generative" and answer.text == REPLY
    assert answer.done["stop_reason"] == "end_turn"
    assert len(limits_fake.message_requests()) == 1  # the shed requests never reached Claude
    after = scrape(limited.client)
    assert total(after, "faqstream_upstream_shed_total") - total(before, "faqstream_upstream_shed_total") == 2
    assert eventually(lambda: total(scrape(limited.client), "faqstream_upstream_inflight") == 0)
