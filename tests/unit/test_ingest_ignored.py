"""faqstream's own non-document files kept in the documents folder (an evaluation set, a ticket
export) are left out with a notice and do not fail the ingest; a broken FAQ file still does."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from faqstream.ingesting import _exit_code
from ingest.loaders import NotADocumentError, SourceFile, load
from ingest.pipeline import IngestPipeline
from ingest.report import IngestReport
from knowledge.embedder import Embedder
from knowledge.errors import InputError
from knowledge.language import LanguageIdentifier
from knowledge.settings import IngestSettings
from knowledge.sparse import SparseEncoder
from knowledge.store.edge import EdgeStore
from tests.conftest import make_settings

EVAL_SET: list[dict[str, object]] = [
    {"question": "Are you open on Sundays?", "doc_ids": ["hours.md"], "language": "en", "handoff": False},
    {"question": "¿Cuánto cuesta una taquilla?", "doc_id": "faq.csv", "language": "es"},
    {"question": "Do you have a sauna?", "language": "en", "answerable": False, "handoff": True},
]
TICKETS: list[dict[str, object]] = [
    {"id": "t1", "text": "My keycard stopped working", "resolution": "We re-enabled it."},
    {"id": "t2", "text": "Can I get an invoice with my VAT number?"},
]


def _jsonl(path: Path, records: Sequence[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _load(path: Path) -> list[object]:
    return list(load(SourceFile(path, path.parent), IngestSettings()))


def test_an_evaluation_set_and_a_ticket_export_are_not_documents(tmp_path: Path) -> None:
    for name, records, says in (
        ("my-questions.jsonl", EVAL_SET, "evaluation set"),
        ("t.jsonl", TICKETS, "ticket"),
    ):
        with pytest.raises(NotADocumentError, match=says):
            _load(_jsonl(tmp_path / name, records))


def test_a_jsonl_without_question_answer_rows_is_still_a_broken_faq_file(tmp_path: Path) -> None:
    wrong_keys = _jsonl(tmp_path / "faq.jsonl", [{"title": "Lockers", "body": "15 EUR a month"}])
    with pytest.raises(InputError) as error:
        _load(wrong_keys)
    assert not isinstance(error.value, NotADocumentError)
    assert "found: body, title" in error.value.message and "start its name with '.'" in error.value.message
    empty_answers = _jsonl(tmp_path / "half.jsonl", [{"question": "Lockers?", "answer": ""}])
    with pytest.raises(InputError, match="no question/answer rows") as error:
        _load(empty_answers)
    assert not isinstance(error.value, NotADocumentError)
    good = _jsonl(tmp_path / "ok.jsonl", [{"question": "Lockers?", "answer": "15 EUR", "doc_ids": ["x"]}])
    assert len(_load(good)) == 1


def test_an_evaluation_set_in_the_folder_leaves_the_ingest_green(
    tmp_path: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hours.md").write_text("# Opening hours\n\nWe are open Monday to Friday.\n", encoding="utf-8")
    questions = _jsonl(docs / "my-questions.jsonl", EVAL_SET)
    settings = make_settings(tmp_path)
    store = EdgeStore(settings.qdrant.path, "kb")
    try:
        pipeline = IngestPipeline(store, embedder, sparse, languages, settings)
        report = pipeline.run([docs])
        assert report.added == ["hours.md"] and report.skipped == []
        assert [i.path for i in report.ignored] == [str(questions)]
        assert "ignored" in report.summary() and report.to_dict()["counts"]["ignored"] == 1
        assert _exit_code(report) == 0

        _jsonl(docs / "faq.jsonl", [{"title": "Lockers", "body": "15 EUR a month"}])  # a broken FAQ file
        broken = pipeline.run([docs])
        assert [s.path for s in broken.skipped] == [str(docs / "faq.jsonl")] and _exit_code(broken) == 1
    finally:
        store.close()


def test_the_summary_counts_in_words() -> None:
    assert IngestReport(files=1, documents=6).summary().startswith("6 documents from 1 file in")
    assert IngestReport(files=2, documents=1).summary().startswith("1 document from 2 files in")
