"""The key-word probes of the short-message cut-off (``knowledge.short_messages``): the answerable
side of its calibration, from a knowledge base's own titles and headings. The cut-off at the gate:
``tests/unit/test_cohort.py``; over real pages: ``tests/integration/test_search_verdict.py``."""

from __future__ import annotations

from knowledge.short_messages import KeyWords, key_word


def test_the_key_word_of_a_title_or_heading() -> None:
    assert key_word("Garantia") == "Garantia"
    assert key_word("## Refund policy") == "Refund policy"
    assert key_word("Formas de pagamento") == "pagamento"
    assert key_word("如何申请退款") == "如何申请"
    assert key_word("A to Z of it") is None  # no word long enough


def test_a_key_word_several_documents_share_is_left_out() -> None:
    keys = KeyWords()
    rows = [
        {
            "doc_id": "a.md",
            "title": "Refund policy",
            "headings": ["Refund policy", "Policy"],
            "language": "en",
        },
        {"doc_id": "b.md", "title": "Privacy policy", "headings": ["Policy"], "language": "en"},
    ]
    assert list(keys.watch(rows)) == rows  # the rows pass through to the other probes
    probes = {(p.text, p.doc_id) for p in keys.probes()}
    assert probes == {("Refund policy", "a.md"), ("Privacy policy", "b.md")}
    assert all(p.kind == "short" and p.answerable for p in keys.probes())
