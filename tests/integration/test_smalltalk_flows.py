"""End to end over real HTTP (issue 9): small talk is answered politely without retrieval, model,
handoff or answer cache; short messages take the conversation's language, then Accept-Language.

The real app under uvicorn, real ingested store and language detector, the fake Anthropic server
behind the real SDK (it records every request it gets). Harness: tests/service_harness.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import FakeAnthropic
from service.api.auth import PUBLIC
from service.caching import CacheSettings, MemoryAnswerCache
from service.conversations.store import conversation_key
from service.core.languages import text_language
from service.smalltalk import REPLIES
from tests import service_harness as harness
from tests.service_harness import (
    FAST_RETRIES,
    REFUND_FAQ,
    Answer,
    Served,
    in_process,
    last_user_text,
    post,
    service_settings,
)

pytestmark = pytest.mark.slow

NO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_input_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cost_usd": 0.0,
}


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("svc"),
        api_key="test-key",
        base_url=fake.base_url,
        components={"resilience": FAST_RETRIES, "cache": CacheSettings(answers=True)},
    )
    with in_process(settings) as served:
        yield served


def ask(client: httpx.Client, question: str, headers: dict[str, str] | None = None, **fields: Any) -> Answer:
    """One streamed answer with extra request headers; the stream must be well-formed."""
    return harness.ask(client, question, headers=headers, **fields)


def cache(served: Served) -> MemoryAnswerCache:
    answers = served.runtime.cache
    assert isinstance(answers, MemoryAnswerCache)
    return answers


@dataclasses.dataclass(frozen=True)
class Counters:
    """What answering a question moves: searches, cache statistics and entries."""

    searched: int
    cache: Any
    entries: int

    @classmethod
    def of(cls, served: Served) -> Counters:
        answers = cache(served)
        return cls(served.runtime.retriever.questions, dataclasses.replace(answers.stats), len(answers))


@pytest.mark.parametrize(
    ("message", "language", "kind"),
    [
        ("Hi", "en", "greeting"),
        ("Hello!", "en", "greeting"),  # lingua alone says Italian
        ("Thanks!", "en", "thanks"),
        ("ok thanks", "en", "thanks"),
        ("Hola 👋", "es", "greeting"),
        ("¡Muchas graciaaas!", "es", "thanks"),
        ("谢谢！", "zh", "thanks"),
        ("Danke schön", "de", "thanks"),
        ("Merci, au revoir !", "fr", "goodbye"),
        ("ありがとうございます", "ja", "thanks"),
        ("Olá, tudo bem?", "pt", "how_are_you"),
        ("Ciao!", "it", "greeting"),
        ("Danke, das hat geholfen!", "de", "thanks"),
        ("Merhaba", "tr", "greeting"),  # beyond the defaults: small talk only (a trial got a handoff)
        ("Teşekkürler!", "tr", "thanks"),
        ("cảm ơn nhiều", "vi", "thanks"),
        ("السلام عليكم", "ar", "greeting"),
        ("???", "en", "unclear"),  # no words: asked what they need, nothing quoted (a trial's "🌵🌵🌵")
        ("🌵🌵🌵", "en", "unclear"),
    ],
)
def test_small_talk_gets_a_polite_reply_in_its_language(
    service: Served, fake: FakeAnthropic, message: str, language: str, kind: str
) -> None:
    fake.reset()
    before = Counters.of(service)
    answer = ask(service.client, message)
    service.settle()
    meta, done = answer.meta, answer.done
    assert (meta["mode"], meta["language"]) == ("smalltalk", language)
    assert meta["citations"] == [] and meta["handoff"] is None and meta["intent"] is None
    assert meta["model"] is None
    assert answer.text == REPLIES[text_language(language)][kind]  # type: ignore[index]
    assert done["stop_reason"] == "smalltalk" and done["handoff"] is None and done["cache"] is None
    assert done["usage"] == NO_USAGE
    assert fake.requests == []  # no model call of any kind (answer, translation, summary)
    assert Counters.of(service) == before  # no retrieval, no answer-cache lookup or entry


# Everyday Swiss German, Austrian, Swiss French and Swiss Italian small talk. A Swiss clinic's trial:
# "Merci vielmal" (Accept-Language de-CH) and "Salü zäme" got "not in our documents" and a handoff,
# "Danke vielmal" the booking page quoted.
@pytest.mark.parametrize(
    ("message", "accept_language", "expected"),
    [
        ("Merci vielmal", "de-CH,de;q=0.9", ("de", "thanks")),
        ("Salü zäme", None, ("de", "greeting")),
        ("Danke vielmal!", None, ("de", "thanks")),
        ("Uf Widerluege", None, ("de", "goodbye")),
        ("Hoi zäme", "de-CH", ("de", "greeting")),
        ("Grüessech", None, ("de", "greeting")),
        ("vielen herzlichen Dank", None, ("de", "thanks")),
        ("En schöne Tag!", None, ("de", "goodbye")),
        ("Servus", None, ("de", "greeting")),
        ("Merci", "de-CH,de;q=0.9", ("de", "thanks")),  # French and Swiss German alike: the browser's
        ("Merci", None, ("fr", "thanks")),  # ... else French, as before
        ("Hoi", "nl-NL,nl;q=0.9", ("nl", "greeting")),  # Dutch and Swiss German alike
        ("Hoi", "de-CH", ("de", "greeting")),
        ("Merci beaucoup, bonne journée", "fr-CH", ("fr", "goodbye")),
        ("Grazie tante", "it-CH", ("it", "thanks")),
        ("Buongiorno", "de-CH", ("it", "greeting")),  # the words beat the browser
    ],
)
def test_regional_small_talk_gets_a_reply_in_its_language(
    service: Served, fake: FakeAnthropic, message: str, accept_language: str | None, expected: tuple[str, str]
) -> None:
    language, kind = expected
    fake.reset()
    before = Counters.of(service)
    headers = {"Accept-Language": accept_language} if accept_language else None
    answer = ask(service.client, message, headers)
    service.settle()
    assert (answer.meta["mode"], answer.meta["language"]) == ("smalltalk", language)
    assert answer.text == REPLIES[language][kind]  # type: ignore[index]
    assert answer.done["stop_reason"] == "smalltalk" and answer.done["handoff"] is None
    assert answer.meta["citations"] == [] and fake.requests == []
    assert Counters.of(service) == before


def test_swiss_thanks_and_goodbye_after_an_answer_quote_nothing(service: Served, fake: FakeAnthropic) -> None:
    """The trial's conversation: "Danke vielmal" and "Uf Widerluege" after an answer re-quoted it."""
    fake.reset()
    first = ask(service.client, "Wie lange dauert eine Rückerstattung auf meine Karte?")
    assert (first.meta["mode"], first.meta["language"]) == ("generative", "de")
    conversation = first.meta["conversation_id"]
    service.settle()
    asked, before = len(fake.message_requests()), Counters.of(service)
    thanks = ask(service.client, "Danke vielmal", conversation_id=conversation)
    goodbye = ask(service.client, "Uf Widerluege", conversation_id=conversation)
    service.settle()
    assert (thanks.meta["mode"], thanks.text) == ("smalltalk", REPLIES["de"]["thanks"])
    assert (goodbye.meta["mode"], goodbye.text) == ("smalltalk", REPLIES["de"]["goodbye"])
    assert thanks.meta["citations"] == goodbye.meta["citations"] == []
    assert len(fake.message_requests()) == asked and Counters.of(service).searched == before.searched


def test_small_talk_as_json_and_in_the_conversation(service: Served) -> None:
    response = post(service.client, "thank you so much for your help!")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "smalltalk" and body["stop_reason"] == "smalltalk"
    assert body["answer"] == REPLIES["en"]["thanks"] and body["handoff"] is None and body["citations"] == []

    async def load() -> Any:
        return await service.runtime.sessions.load(conversation_key(PUBLIC, body["conversation_id"]))

    conversation = service.run(load)
    assert conversation is not None
    turns = [(t.role, t.text, t.intent) for t in conversation.turns]
    assert turns == [
        ("user", "thank you so much for your help!", "smalltalk"),
        ("assistant", REPLIES["en"]["thanks"], None),
    ]


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("Hi, how long does a refund take?", REFUND_FAQ),
        ("thanks, and how long does a refund take?", REFUND_FAQ),
        ("Hola, ¿puedo pagar a plazos?", "¿Puedo pagar a plazos?"),
    ],
)
def test_small_talk_with_a_question_goes_to_retrieval(
    service: Served, fake: FakeAnthropic, question: str, source: str
) -> None:
    fake.reset()
    # The cases share the module's service: without this, the second refund question is a semantic
    # answer-cache hit for the first (the same question to the multilingual model), not a retrieval.
    service.run(cache(service).clear)
    before = Counters.of(service)
    answer = ask(service.client, question)
    assert answer.meta["mode"] == "generative" and answer.done["stop_reason"] == "end_turn"
    assert answer.cited[0] == source
    assert len(fake.message_requests()) == 1
    assert f"<question>\n{question}\n</question>" in last_user_text(fake.message_requests()[0].body)
    assert Counters.of(service).searched > before.searched


def test_a_one_word_message_keeps_the_conversation_language(service: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    first = ask(service.client, "¿Cuánto tarda el reembolso de mi tarjeta?")
    conversation = first.meta["conversation_id"]
    assert first.meta["language"] == "es"
    one_word = ask(service.client, "refund", conversation_id=conversation)
    assert one_word.meta["language"] == "es" and one_word.meta["mode"] == "generative"
    assert "Reply language: Spanish (es)" in last_user_text(fake.message_requests()[-1].body)
    thanks = ask(service.client, "thanks", conversation_id=conversation)  # small talk: the conversation's
    assert thanks.meta["language"] == "es" and thanks.text == REPLIES["es"]["thanks"]
    hello = ask(service.client, "Hello!", conversation_id=conversation)
    assert hello.meta["language"] == "es" and hello.text == REPLIES["es"]["greeting"]
    longer = ask(service.client, "How long does a refund to my card take?", conversation_id=conversation)
    assert longer.meta["language"] == "en"  # a sentence is detected: the customer switched


def test_accept_language_decides_a_one_word_first_message(service: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}
    one_word = ask(service.client, "refund", german)
    assert one_word.meta["language"] == "de"
    assert "Reply language: German (de)" in last_user_text(fake.message_requests()[-1].body)
    ok = ask(service.client, "ok!", {"Accept-Language": "fr-CH, fr;q=0.9"})  # language-neutral small talk
    assert (ok.meta["language"], ok.text) == ("fr", REPLIES["fr"]["ack"])
    hola = ask(service.client, "Hola", {"Accept-Language": "en-US"})  # the words beat the browser
    assert hola.meta["language"] == "es"
    stated = ask(service.client, "refund", german, language="it")  # the request field beats the header
    assert stated.meta["language"] == "it"
    sentence = ask(service.client, "How long does a refund to my card take?", german)
    assert sentence.meta["language"] == "en"  # longer messages: detection, as before


def test_a_question_after_a_greeting_is_still_a_first_turn(service: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    hello = ask(service.client, "Good morning!")
    conversation = hello.meta["conversation_id"]
    before = Counters.of(service)
    question = ask(service.client, "Can I return opened earbuds?", conversation_id=conversation)
    service.settle()
    assert question.meta["mode"] == "generative"
    assert Counters.of(service).cache.stores == before.cache.stores + 1  # cached like a first turn
    request = fake.message_requests()[-1].body
    assert [m["role"] for m in request["messages"]] == ["user", "assistant", "user"]  # the greeting
    assert "Good morning!" in request["messages"][0]["content"][0]["text"]
    again = ask(service.client, "Can I return opened earbuds?")  # a new conversation, the same question
    assert again.meta["mode"] == "cached"
