"""Where an answer without a model starts its quote when the question is in another language than
the document, end to end: a photo-storage company's English pages as a new user's trial wrote them
(bench/data/lumen_pages: five Markdown pages and a PDF; each page is one chunk, so the quote must
pick the section), ingested with the shipped default model into the in-process Qdrant, the real
service with no Anthropic key, customers asking in Chinese and English.

* every section of a quoted page is a candidate before any section's second sentence: "删除账号"
  never reached "Deleting your account", the third section of the PDF's first page (16 sentences
  were embedded per answer, taken in turn from each page's top);
* a quote that starts at a sub-heading does not take the sentence above it (the section before).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service_harness import Answer, Served, ask, in_process, ingested_template, service_settings

pytestmark = pytest.mark.slow

PAGES = Path(__file__).resolve().parents[2] / "bench" / "data" / "lumen_pages"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    template = ingested_template(tmp_path_factory.mktemp("template"), PAGES)
    with in_process(service_settings(template, tmp_path_factory.mktemp("svc"))) as running:
        yield running


def quote_of(answer: Answer, doc_id: str) -> tuple[str, str]:
    """The label and text of the reply's quote of ``doc_id`` (its first)."""
    assert answer.meta["mode"] == "extractive", answer.meta
    found = re.findall(r"^\[(\d+)\] (.*?): (.*?)(?=^\[\d+\] |\Z)", answer.text, re.S | re.M)
    for n, label, text in found:
        if answer.meta["citations"][int(n) - 1]["doc_id"] == doc_id:
            return label, text.strip()
    raise AssertionError(f"{doc_id} not quoted: {answer.text}")


def test_a_section_deep_in_a_page_is_quoted_for_a_question_in_another_language(served: Served) -> None:
    label, text = quote_of(ask(served.client, "删除账号"), "privacy-data-export-and-deletion.pdf")
    assert "Settings › Privacy › Delete account" in text, (label, text)
    assert "› Deleting your account" in label, label  # a PDF section names its page: "(p. 1)"


def test_a_quote_from_a_sub_heading_starts_in_its_section(served: Served) -> None:
    """In the page's language the shared terms choose the sub-heading "**Double charges**"; the
    quote took the line above it too, the section before, and was labelled with it."""
    label, text = quote_of(ask(served.client, "What about double charges?"), "refunds-and-cancellation.md")
    assert label == "Refunds and Cancellation › Double charges", (label, text)
    assert text.startswith("… If you were charged twice for the same period"), text
    assert "App Store" not in text, text
