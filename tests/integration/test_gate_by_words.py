"""The relevance gate lets through a passage that holds every word of the question when none is
over the cut-off (``RelevanceFloor.relevant``). A new user's trial (a water utility's English and
Spanish pages, bench/data/valdemora): "¿Cuál es el horario de la oficina los jueves?" was handed to a
person although the contact page says "Horario: … los jueves también de 16:00 a 19:00" — its one
chunk also holds the phone, e-mail and complaints sections and an English copy, and scored under the
cut-off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.search import KnowledgeBase
from service.retrieval.relevance import ShortMessage, relevance_floor
from tests.service_harness import Served, ask, in_process, service_settings

pytestmark = pytest.mark.slow

PAGES = Path(__file__).resolve().parents[2] / "bench" / "data" / "valdemora"
THURSDAY = "¿Cuál es el horario de la oficina los jueves?"


@pytest.fixture(scope="module")
def corpus() -> Path:
    """The trial's pages instead of the demo corpus (conftest's ``template`` ingests them once)."""
    return PAGES


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    with in_process(service_settings(template, tmp_path_factory.mktemp("svc"))) as running:
        yield running


def test_a_page_holding_every_word_of_the_question_is_answered_from(template: Path, tmp_path: Path) -> None:
    kb = KnowledgeBase.open(service_settings(template, tmp_path))
    try:
        floor = relevance_floor(kb.meta(), None, kb.embedder.name, kb.embedder)
        hits = kb.search(THURSDAY, limit=5, language="es")
    finally:
        kb.store.close()
    contact = next(h for h in hits if h.payload.doc_id == "contacto.md")
    assert floor.normalised and floor.lead(contact, "es") < 0.0  # under the cut-off by its vector
    assert floor.covers(contact, THURSDAY, "es")
    assert floor.relevant(hits, "es") == []  # without the question's words: a handoff
    assert contact in floor.relevant(hits, "es", THURSDAY)
    assert floor.select(hits, "es", THURSDAY).relevant >= 1
    # Not in another language than the passage's, nor for a message of one or two words.
    assert not floor.covers(contact, THURSDAY, "en")
    assert not floor.covers(contact, "horario jueves", ShortMessage("horario jueves"))
    # Every word, not most of them: "sábados" is there, "piscina" is not.
    assert not floor.covers(contact, "¿Abre la piscina los sábados?", "es")


def test_the_service_answers_it_from_the_contact_page(served: Served) -> None:
    answer = ask(served.client, THURSDAY)
    assert answer.meta["mode"] == "extractive", answer.meta
    assert answer.meta.get("handoff") is None, answer.meta.get("handoff")
    assert answer.meta["citations"][0]["doc_id"] == "contacto.md", answer.meta["citations"]
    assert "16:00" in answer.text and "19:00" in answer.text, answer.text
