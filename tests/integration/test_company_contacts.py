"""The company's own contact data is not redacted; the customer's is (issue: a Polish car-rental
firm saw its roadside-assistance number turn into ``[phone]``).

A small knowledge base with a contact page is ingested (the ingest scans the documents' contact
data into the knowledge base's metadata); the real service over a real socket, with conversations
and live events in Redis, the SQLite records, a real webhook receiver and the fake Anthropic server
recording every request through the real SDK. The company's number and address reach the customer
as written — in a reply that quotes the contact page, stored and read back after a reload, and in an
agent's message — while the customer's own number is redacted in the upstream request, the stored
turns and record, and every webhook body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeAnthropic
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import WebhookSettings
from service.settings.auth import AuthSettings
from service.settings.redis import RedisSettings
from service.tenants.store import KeyStore
from tests.conftest import REDIS_URL, redis_namespace
from tests.service_harness import (
    FAST_RETRIES,
    MIN_CACHE,
    Served,
    ask,
    auth,
    eventually,
    ingested_template,
    over_http,
    service_settings,
)
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.redis]

KEY = "key-autonajem-0123456789"
ROADSIDE = "+48 12 300 40 50"
OFFICE = "biuro@autonajem.example"
CUSTOMER = "+48 601 234 567"  # the customer's own mobile
PAGES = {
    "kontakt.md": f"""# Kontakt

## Awaria lub wypadek

W razie awarii lub wypadku dzwoń na pomoc drogową: {ROADSIDE} (całą dobę). Nie naprawiaj auta
samodzielnie i zrób zdjęcia uszkodzeń.

## Biuro obsługi klienta

Biuro odpowiada na pytania o rezerwacje i faktury: {OFFICE}, od poniedziałku do piątku 8–18.
""",
    "cennik.md": """# Cennik i kaucja

Kaucja za samochód klasy B wynosi 1500 zł i jest zwracana w ciągu 7 dni od zwrotu auta. Dopłata za
drugiego kierowcę to 25 zł za dobę; za fotelik dziecięcy 15 zł za dobę.
""",
}
REPLY = f"W razie awarii dzwoń na pomoc drogową: {ROADSIDE} [1]. Zapisaliśmy też Pana numer {CUSTOMER}."
QUESTION = f"Auto się zepsuło na autostradzie, co robić? Mój numer to {CUSTOMER}"


def customer_digits(text: str) -> bool:
    return "601 234 567" in text or "601234567" in text


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=REPLY, min_cache_tokens=MIN_CACHE) as server:
        yield server


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeAnthropic, receiver: Receiver
) -> Iterator[Served]:
    docs = tmp_path_factory.mktemp("autonajem")
    for name, text in PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")
    template = ingested_template(tmp_path_factory.mktemp("template"), docs)
    with redis_namespace("contacts") as prefix:
        components: dict[str, Any] = {
            "resilience": FAST_RETRIES,
            "auth": AuthSettings(api_keys=f"autonajem={KEY}"),  # type: ignore[arg-type]
            "redis": RedisSettings(url=REDIS_URL, key_prefix=prefix),  # type: ignore[arg-type]
            "handoff": HandoffSettings(webhook_url=receiver.url),
            "webhook": WebhookSettings(backoff_initial_s=0.01, backoff_max_s=0.05, allow_unsigned=True),
        }
        tmp: Path = tmp_path_factory.mktemp("svc")
        settings = service_settings(
            template, tmp, api_key="test-key", base_url=fake.base_url, components=components
        )
        with over_http(settings) as service:
            yield service


@pytest.fixture(scope="module")
def agent_key(served: Served) -> str:
    keys = KeyStore.from_settings(served.runtime.settings.database)
    _, secret = keys.create("autonajem", "helpdesk", ("agent",))
    keys.close()
    return secret


def test_the_kb_version_carries_the_contact_pages_values(served: Served) -> None:
    meta = served.runtime.kb.meta()
    assert {"phone:+48123004050", "email:" + OFFICE} <= set(meta.contacts["keys"])
    assert served.runtime.answers.deps.settings.redaction.allowed.kb_version == meta.version


def test_the_company_number_stays_and_the_customers_is_redacted_everywhere(
    served: Served, fake: FakeAnthropic, receiver: Receiver, agent_key: str
) -> None:
    client = served.client
    fake.reset()
    answer = ask(client, QUESTION, key=KEY)
    assert answer.meta["mode"] == "generative" and answer.text == REPLY  # live, as the model wrote it
    conversation_id = answer.meta["conversation_id"]
    path = f"/v1/conversations/{conversation_id}"

    # Upstream: the customer's number never reached Claude; the contact page (its number) did.
    (request,) = fake.message_requests()
    sent = json.dumps(request.body, ensure_ascii=False)
    assert not customer_digits(sent) and "[phone]" in sent and ROADSIDE in sent

    # A person takes over; the customer writes their number again; an agent answers with the
    # company's roadside number and office address.
    agent = auth(agent_key)
    assert client.post(f"{path}/takeover", headers=agent).status_code == 200
    again = ask(client, f"Proszę oddzwonić na {CUSTOMER}", key=KEY, conversation_id=conversation_id)
    assert again.meta["mode"] == "agent"
    text = f"Proszę dzwonić na pomoc drogową {ROADSIDE} albo pisać na {OFFICE}. Oddzwonimy na Pana numer."
    posted = client.post(f"{path}/agent-messages", json={"text": text, "author": "Ola"}, headers=agent)
    assert posted.status_code == 201, posted.text
    assert posted.json()["message"]["text"] == text  # reaches the customer intact
    polled = client.get(f"{path}/messages", headers=auth(KEY)).json()["messages"]
    assert polled[-1]["text"] == text

    # After a reload: the record keeps the company's number in the stored reply and the agent's
    # message; the customer's turns and the model's echo of their number are redacted.
    record = client.get(path, headers=auth(KEY))
    assert record.status_code == 200, record.text
    said = record.json()["messages"]
    assert [m["role"] for m in said] == ["customer", "assistant", "customer", "agent"]
    asked, replied, wrote, agent_said = (m["text"] for m in said)
    assert asked == "Auto się zepsuło na autostradzie, co robić? Mój numer to [phone]"
    assert replied == REPLY.replace(CUSTOMER, "[phone]")
    assert wrote == "Proszę oddzwonić na [phone]"
    assert agent_said == text
    assert not customer_digits(record.text)

    # Webhooks: the handoff and the customer's message carry the redacted text only.
    def customer_message_sent() -> bool:
        return bool(receiver.matching(lambda d: d.body["type"] == "customer_message"))

    assert eventually(customer_message_sent, timeout=20)
    bodies = [json.dumps(d.body, ensure_ascii=False) for d in receiver.matching(lambda d: True)]
    assert any("[phone]" in b for b in bodies)
    assert not any(customer_digits(b) for b in bodies)
