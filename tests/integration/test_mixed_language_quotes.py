"""Quotes in a knowledge base of several languages, end to end: the mixed-language pages of an
invented bike rental (bench/data/mixed_kb: German-only, English-only, French-only pages, pages in
both German and English, one page with both languages) ingested with the shipped default model
into the in-process Qdrant, the real service with no Anthropic key (extractive answers).

A user's trial: "Was kostet ein E-Bike für einen Tag?" over a German price table and an English
deposit page opened with the English passage: held to the lower cross-language cut-off, it led
the German one. Now a passage in the question's language that passed its cut-off comes first
among those nearly as relevant; a page only another language has is still quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bench.quoted_passages import MIXED
from tests.service_harness import Served, ask, in_process, ingested_template, service_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    template = ingested_template(tmp_path_factory.mktemp("template"), MIXED)
    with in_process(service_settings(template, tmp_path_factory.mktemp("svc"))) as running:
        yield running


def quoted_docs(served: Served, question: str) -> list[str]:
    """The documents of the reply's quotes, in the order quoted."""
    answer = ask(served.client, question)
    assert answer.meta["mode"] == "extractive", answer.meta
    doc_of = {c["index"]: c["doc_id"] for c in answer.meta["citations"]}
    return [doc_of[int(n)] for n in re.findall(r"^\[(\d+)\] ", answer.text, re.M)]


def test_the_german_price_question_quotes_the_german_price_table_first(served: Served) -> None:
    docs = quoted_docs(served, "Was kostet ein E-Bike für einen Tag?")
    assert docs[0] == "de/preise.md", docs


def test_a_page_in_both_languages_is_quoted_in_the_questions_language_first(served: Served) -> None:
    # The English opening hours lead the German ones over their lower cut-off (+1.49 sd, +0.92).
    docs = quoted_docs(served, "Wann habt ihr sonntags offen?")
    assert docs[0] == "de/oeffnungszeiten-anfahrt.md", docs
    assert "en/opening-hours-location.md" in docs, docs  # still quoted, after it
    docs = quoted_docs(served, "What time do you open on Sundays?")
    assert docs[0] == "en/opening-hours-location.md", docs


def test_a_page_only_another_language_has_is_still_quoted(served: Served) -> None:
    # School groups are only on the French page; a German question still has it quoted.
    docs = quoted_docs(served, "Kann ich eine Klassenfahrt mit 25 Schülern bei euch machen?")
    assert "fr/groupes-scolaires.md" in docs, docs
    # Prices are only on the German page: a French customer is quoted it first.
    docs = quoted_docs(served, "Combien coûte la location d'un vélo électrique pour une journée ?")
    assert docs[0] == "de/preise.md", docs
