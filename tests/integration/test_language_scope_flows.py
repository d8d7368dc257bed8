"""End to end over real HTTP (uvicorn, a socket) for customers writing a language the old detector
could not name (a new user's trial: a Ukrainian customer answered in Russian). The real app, the
ingested demo corpus (English and Spanish), the packaged embedding model and language detector with
the default INGEST_LANGUAGES and INGEST_DETECT_ALSO, the fake Anthropic server behind the real SDK.

* Ukrainian (a supported language now): the question is reported as uk, Claude is asked to reply
  in Ukrainian, the English refund FAQ is found across languages; greetings are small talk in
  Ukrainian; a request for a person gets the Ukrainian notice.
* Czech (detected, no built-in texts): Claude is asked to reply in Czech; the service's own notice
  is the English one (docs/handoff-and-languages.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes import FakeAnthropic
from service.handoff.messages import handoff_message
from service.smalltalk import REPLIES
from tests.service_harness import (
    FAST_RETRIES,
    REFUND_FAQ,
    Served,
    ask,
    last_user_text,
    over_http,
    service_settings,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("scope"),
        api_key="test-key",
        base_url=fake.base_url,
        components={"resilience": FAST_RETRIES},
    )
    with over_http(settings) as served:
        yield served


@pytest.mark.parametrize(
    ("question", "language", "name"),
    [
        ("Скільки часу займає повернення коштів на картку?", "uk", "Ukrainian"),
        ("Jak dlouho trvá vrácení peněz na kartu?", "cs", "Czech"),
    ],
)
def test_the_reply_language_is_the_customers(
    service: Served, fake: FakeAnthropic, question: str, language: str, name: str
) -> None:
    fake.reset()
    answer = ask(service.client, question)
    assert answer.meta["language"] == language
    assert answer.meta["mode"] == "generative", answer.text
    assert REFUND_FAQ in answer.cited  # the English FAQ, found for a question in another language
    prompt = last_user_text(fake.message_requests()[-1].body)
    assert f"Reply language: {name} ({language})" in prompt
    assert "Russian" not in prompt and "Polish" not in prompt


def test_a_ukrainian_greeting_is_small_talk_in_ukrainian(service: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    answer = ask(service.client, "Добрий день!")
    assert answer.done["stop_reason"] == "smalltalk"
    assert answer.meta["language"] == "uk" and answer.text == REPLIES["uk"]["greeting"]
    assert fake.message_requests() == []


def test_a_ukrainian_request_for_a_person_gets_the_ukrainian_notice(service: Served) -> None:
    answer = ask(service.client, "Я хочу поговорити з живою людиною, будь ласка.")
    assert answer.meta["language"] == "uk"
    assert answer.meta["handoff"]["reason"] == "customer_request"
    assert answer.text == handoff_message("uk", "customer_request", delivery="none")
    assert answer.text != handoff_message("ru", "customer_request", delivery="none")


def test_a_language_without_built_in_texts_gets_the_english_notice(service: Served) -> None:
    answer = ask(service.client, "Kdo namaloval obraz Mony Lisy a kdy?")
    assert answer.meta["language"] == "cs"
    assert answer.meta["handoff"]["reason"] == "no_relevant_passages"
    assert answer.text == handoff_message("en", "no_relevant_passages", delivery="none")
