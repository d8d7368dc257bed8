"""The languages a request names, through the real app (in process, Litestar's test client) over
the ingested demo corpus (English and Spanish documents), the packaged models and the real lingua
detector (a new user's trial: ``"language": "español"`` was accepted, echoed and answered in
English; ``filters.language: ["pt-BR"]`` matched nothing, so the customer was told the answer is not
in the documents and handed off).

* ``language`` and ``filters.language``: a tag is reduced to its ISO 639-1 code (``es-MX`` → ``es``);
  a name or a made-up code is a 400 ``invalid_request`` naming the field, in the house shape on
  ``/v1/answers`` and ``/admin/search`` and in OpenAI's on ``/v1/chat/completions``.
* ``Accept-Language`` is a prior for a chat-style message of three words or more in a new
  conversation (bench/chat_language.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service_harness import ADMIN_KEY, Served, ask, auth, in_process, post, service_settings

pytestmark = pytest.mark.slow

RETURNS_ES = "¿En cuántos días puedo devolver un artículo?"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    with in_process(service_settings(template, tmp_path_factory.mktemp("languages"))) as served:
        yield served


def refused(response: httpx.Response, key: str) -> dict[str, Any]:
    """A 400 ``invalid_request`` whose field errors name ``key``."""
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "invalid_request" and not error["retryable"], error
    named = [detail for detail in error["details"] if detail.get("key") == key]
    assert named and "ISO 639-1" in named[0]["message"], error
    return error


@pytest.mark.parametrize("language", ["español", "german", "klingon", "xx", "e", "deu", ""])
def test_a_reply_language_that_is_no_language_code_is_a_400(service: Served, language: str) -> None:
    refused(post(service.client, "How long does a refund take?", language=language), "language")


@pytest.mark.parametrize(("language", "replied"), [("pt-BR", "pt"), ("ES", "es"), ("sw", "sw"), ("no", "nb")])
def test_a_language_tag_is_answered_in_its_base_language(
    service: Served, language: str, replied: str
) -> None:
    answer = post(service.client, "How long does a refund take?", language=language)
    assert answer.status_code == 200, answer.text
    assert answer.json()["language"] == replied


def test_a_filter_by_a_regional_tag_finds_the_documents_stored_under_its_code(service: Served) -> None:
    by_code = post(service.client, RETURNS_ES, filters={"language": ["es"]})
    by_tag = post(service.client, RETURNS_ES, filters={"language": ["es-MX"]})
    assert by_code.status_code == by_tag.status_code == 200, by_tag.text
    sources = [citation["doc_id"] for citation in by_tag.json()["citations"]]
    # the Spanish page (and the FAQ's Spanish rows), never the English one
    assert "es/devoluciones.md" in sources and "returns.md" not in sources, by_tag.json()
    assert by_tag.json()["handoff"] is None
    assert sources == [citation["doc_id"] for citation in by_code.json()["citations"]]


def test_a_filter_by_a_language_name_is_a_400(service: Served) -> None:
    refused(post(service.client, RETURNS_ES, filters={"language": ["es", "spanish"]}), "filters.language.1")
    search = service.client.post(
        "/admin/search", json={"query": RETURNS_ES, "language": "klingon"}, headers=auth(ADMIN_KEY)
    )
    refused(search, "language")
    found = service.client.post(
        "/admin/search", json={"query": RETURNS_ES, "language": "es-MX"}, headers=auth(ADMIN_KEY)
    )
    assert found.status_code == 200, found.text
    assert {hit["payload"]["language"] for hit in found.json()["hits"]} == {"es"}
    assert "es/devoluciones.md" in {hit["payload"]["doc_id"] for hit in found.json()["hits"]}


def test_the_openai_endpoint_refuses_it_in_openais_shape(service: Served) -> None:
    chat = {"model": "faqstream", "messages": [{"role": "user", "content": "How long does a refund take?"}]}
    response = service.client.post("/v1/chat/completions", json={**chat, "language": "german"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "language", error
    assert "ISO 639-1" in error["message"]
    tagged = service.client.post("/v1/chat/completions", json={**chat, "language": "pt-BR"})
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["faqstream"]["language"] == "pt"


@pytest.mark.parametrize(
    ("question", "header", "expected"),
    [
        ("cual es el whatsapp de ustedes", "es-MX,es;q=0.9", "es"),
        ("cuanto tarda el envio a yucatan?", "es-MX", "es"),
        ("vcs montam o armario?", "pt-BR,pt;q=0.9,en;q=0.8", "pt"),
        ("a nota fiscal vem no email?", "pt-BR", "pt"),
    ],
)
def test_accept_language_decides_an_unaccented_chat_message(
    service: Served, question: str, header: str, expected: str
) -> None:
    assert ask(service.client, question, headers={"Accept-Language": header}).meta["language"] == expected


def test_a_confident_sentence_beats_the_browsers_language(service: Served) -> None:
    answer = ask(service.client, RETURNS_ES, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert answer.meta["language"] == "es"
