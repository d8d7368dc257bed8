"""Personal data never leaves the process (issue 12): the real service, with Redis (conversations,
answer cache), the SQLite usage ledger, a real webhook receiver and the fake Anthropic server
recording every upstream request, is asked questions full of valid personal data — a card, an
IBAN, a US SSN written with spaces, a Spanish DNI, e-mails, an international and a bare national
phone number. None of those values may appear in any upstream request (answers, translation,
LLM routing, conversation summaries), Redis key or value, ledger row, log line or webhook body;
the placeholders show where they were. With ``PRIVACY_REDACT_UPSTREAM=false`` the question goes
to Claude as written while everything stored stays redacted.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr

from fakes import FakeAnthropic
from service.api.settings import AppSettings
from service.caching import CacheSettings
from service.conversations.store import ConversationSettings
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import WebhookSettings
from service.privacy.settings import PrivacySettings
from service.retrieval.translate import TranslateSettings
from service.routing.settings import RouterSettings
from service.settings.redis import RedisSettings
from tests.service_harness import (
    FAST_RETRIES,
    MIN_CACHE,
    REPLY,
    Served,
    ask,
    eventually,
    in_process,
    service_settings,
)
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.redis]

REDIS_URL = "redis://127.0.0.1:6379/0"
TRANSLATE_SYSTEM = "You translate customer-support messages"
ROUTE_SYSTEM = "You route messages"
SUMMARY_SYSTEM = "You keep the running memory"

# Valid values (checksums, reserved ranges, numbering plans), as a customer writes them.
PII = {
    "card": "4111 1111 1111 1111",
    "email": "jane.doe@example.com",
    "iban": "DE89 3704 0044 0532 0130 00",
    "ssn": "123 45 6789",
    "dni": "12345678Z",
    "phone": "+44 20 7946 0958",
    "bare_phone": "4155552671",
    "rfc": "GODE561231GR8",  # Mexico's tax ID
    "clabe": "032180000118359719",  # a Mexican bank account
    "handoff_email": "max.mustermann@example.de",
}
CONVERSATION = [
    f"Wie lange dauert die Rückerstattung auf meine Karte {PII['card']}? Meine E-Mail: {PII['email']}",
    f"My IBAN is {PII['iban']} and my phone {PII['phone']}: when will the refund arrive?",
    f"SSN {PII['ssn']}, DNI {PII['dni']}, text me at {PII['bare_phone']} about the refund",
    f"Mi RFC es {PII['rfc']}; el reembolso a mi CLABE {PII['clabe']}, por favor",
    "And how long does a refund take for a card payment?",
]
HANDOFF = f"I want to talk to a human agent, write to {PII['handoff_email']}"


def leaked(text: str) -> list[str]:
    """The personal values present in ``text``, as written or without their spaces."""
    return [k for k, v in PII.items() if v in text or v.replace(" ", "") in text]


def reply(body: dict[str, Any]) -> str:
    system = body.get("system")
    if isinstance(system, str) and system.startswith(TRANSLATE_SYSTEM):
        return "How long does the refund to my card [card] take? My e-mail: [email]"
    return REPLY


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=reply, min_cache_tokens=MIN_CACHE) as server:
        yield server


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def _settings(
    tmp: Path, template: Path, fake: FakeAnthropic, receiver: Receiver, prefix: str, **privacy: Any
) -> AppSettings:
    components = {
        "resilience": FAST_RETRIES,
        "redis": RedisSettings(url=REDIS_URL, key_prefix=prefix),  # type: ignore[arg-type]
        "cache": CacheSettings(answers=True),
        "translate": TranslateSettings(mode="always"),
        "router": RouterSettings(kind="llm"),
        "conversation": ConversationSettings(max_turns=2),
        "handoff": HandoffSettings(webhook_url=receiver.url),
        "webhook": WebhookSettings(
            backoff_initial_s=0.01, backoff_max_s=0.05, secret=SecretStr("pii-sinks-webhook-secret")
        ),
        "privacy": PrivacySettings(**privacy),
    }
    return service_settings(template, tmp, api_key="test-key", base_url=fake.base_url, components=components)


def _redis_value(client: redis.Redis, key: bytes) -> str:
    kind = client.type(key)
    value: Any = b""
    if kind == b"string":
        value = client.get(key)
    elif kind == b"hash":
        value = client.hgetall(key)
    elif kind == b"list":
        value = client.lrange(key, 0, -1)
    elif kind == b"set":
        value = client.smembers(key)
    elif kind == b"zset":
        value = client.zrange(key, 0, -1, withscores=True)
    return value.decode(errors="replace") if isinstance(value, bytes) else repr(value)


def _redis_dump(prefix: str) -> str:
    """Every key under ``prefix`` and its value (then deleted)."""
    client = redis.Redis.from_url(REDIS_URL)
    parts: list[str] = []
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        for key in keys:
            parts += [key.decode(errors="replace"), _redis_value(client, key)]
        if keys:
            client.delete(*keys)
    finally:
        client.close()
    return "\n".join(parts)


def _ledger_dump(path: Path) -> tuple[int, str]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        rows = [row for table in tables for row in db.execute(f'select * from "{table}"')]
    return len(rows), repr(rows)


def test_no_personal_value_reaches_any_sink(
    tmp_path: Path, template: Path, fake: FakeAnthropic, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = f"pii-{uuid.uuid4().hex[:8]}:"
    settings = _settings(tmp_path, template, fake, receiver, prefix)
    fake.reset()
    caplog.set_level(logging.DEBUG)
    with in_process(settings) as served:
        _ask_all(served)
        handoff = ask(served.client, HANDOFF)
        assert handoff.meta["handoff"]["reason"] == "customer_request"
        served.settle()
        # A log line with personal data in its arguments is written redacted.
        logging.getLogger("service.test").warning("customer wrote %s", PII["email"])
        assert caplog.records[-1].getMessage() == "customer wrote [email]"
        try:  # and a traceback whose exception message holds it
            raise ValueError(f"no order for {PII['email']} / {PII['phone']}")
        except ValueError:
            logging.getLogger("service.test").exception("lookup failed")
        assert "ValueError: no order for [email] / [phone]" in (caplog.records[-1].exc_text or "")
        assert eventually(lambda: len(receiver.deliveries) > 0, timeout=20)
    db = settings.database.sqlite_path
    assert db is not None
    rows, ledger = _ledger_dump(db)

    # Upstream: every kind of request was made, with placeholders where the values were.
    bodies = [json.dumps(r.body, ensure_ascii=False) for r in fake.message_requests()]
    systems = [str(r.body.get("system", "")) for r in fake.message_requests()]
    for start in (TRANSLATE_SYSTEM, ROUTE_SYSTEM, SUMMARY_SYSTEM):
        assert any(s.startswith(start) for s in systems), start
    assert any(r.body.get("stream") for r in fake.message_requests())  # answers
    assert [k for body in bodies for k in leaked(body)] == []
    upstream = "\n".join(bodies)
    for placeholder in ("[card]", "[email]", "[iban]", "[phone]", "[id]"):
        assert placeholder in upstream, placeholder

    assert rows > 0 and leaked(ledger) == []
    stored = _redis_dump(prefix)  # conversations and the answer cache
    assert leaked(stored) == [] and "[phone]" in stored
    logged = [f"{r.getMessage()}\n{r.exc_text or ''}\n{r.stack_info or ''}" for r in caplog.records]
    assert [k for line in logged for k in leaked(line)] == []
    webhook = "\n".join(json.dumps(d.body, ensure_ascii=False) for d in receiver.deliveries)
    assert "[email]" in webhook and leaked(webhook) == []


def _ask_all(served: Served) -> None:
    first = ask(served.client, CONVERSATION[0])
    assert first.meta["mode"] == "generative"
    for question in CONVERSATION[1:]:
        ask(served.client, question, conversation_id=first.meta["conversation_id"])
        served.settle()  # folding the oldest turns into a summary happens after the answer


def test_the_switch_sends_the_question_upstream_as_written_and_still_stores_it_redacted(
    tmp_path: Path, template: Path, fake: FakeAnthropic, receiver: Receiver
) -> None:
    prefix = f"pii-{uuid.uuid4().hex[:8]}:"
    settings = _settings(tmp_path, template, fake, receiver, prefix, redact_upstream=False)
    fake.reset()
    with in_process(settings) as served:
        ask(served.client, CONVERSATION[0])
        served.settle()
    upstream = "\n".join(json.dumps(r.body, ensure_ascii=False) for r in fake.message_requests())
    assert PII["card"] in upstream and PII["email"] in upstream
    stored = _redis_dump(prefix)
    assert leaked(stored) == [] and "[card]" in stored and "[email]" in stored
