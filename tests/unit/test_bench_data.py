"""The labelled Basecamp questions (bench/data/basecamp_questions.jsonl) are well formed, and every
gold document is one the ingest pipeline produces for the Basecamp folder of ../shared/eval."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from ingest.loaders import discover, load
from knowledge.settings import IngestSettings

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = REPO / "bench" / "data" / "basecamp_questions.jsonl"
CORPUS = REPO.parent / "shared" / "eval" / "raw" / "basecamp_policies"

FIELDS = {"qid", "group", "lang", "question", "answerable", "kind", "doc_ids", "note"}
KINDS = {"answerable", "uncovered", "off_topic"}
REQUIRED_LANGUAGES = {"en", "es", "de", "fr", "zh"}
MIN_LANGUAGES = 5


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_row_has_the_schema(rows: list[dict[str, Any]]) -> None:
    assert rows
    for row in rows:
        assert set(row) == FIELDS, row.get("qid")
        assert isinstance(row["qid"], str) and row["qid"] == f"{row['group']}:{row['lang']}"
        assert isinstance(row["question"], str) and row["question"].strip() == row["question"]
        assert row["question"], row["qid"]
        assert isinstance(row["lang"], str) and len(row["lang"]) == 2 and row["lang"].islower()
        assert row["kind"] in KINDS, row["qid"]
        assert row["answerable"] is (row["kind"] == "answerable"), row["qid"]
        assert isinstance(row["doc_ids"], list) and all(isinstance(d, str) for d in row["doc_ids"])
        assert len(set(row["doc_ids"])) == len(row["doc_ids"]), row["qid"]
        assert isinstance(row["note"], str) and row["note"], row["qid"]
    assert len({r["qid"] for r in rows}) == len(rows), "duplicate qid"
    assert len({r["question"] for r in rows}) == len(rows), "duplicate question text"


def test_answerable_rows_have_gold_and_the_others_none(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        if row["answerable"]:
            assert row["doc_ids"], f"{row['qid']}: an answerable question needs its gold documents"
        else:
            assert row["doc_ids"] == [], f"{row['qid']}: {row['kind']} questions have no gold"


def test_groups_are_one_question_in_at_least_five_languages(rows: list[dict[str, Any]]) -> None:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["group"]].append(row)
    for group, members in groups.items():
        languages = [m["lang"] for m in members]
        assert len(languages) == len(set(languages)), f"{group}: a language twice"
        assert len(languages) >= MIN_LANGUAGES, f"{group}: only {languages}"
        missing = REQUIRED_LANGUAGES - set(languages)
        assert not missing, f"{group}: missing {missing}"
        # the same question: one kind, one set of gold documents, one note
        assert len({(m["kind"], tuple(sorted(m["doc_ids"])), m["note"]) for m in members}) == 1, group


def test_every_kind_is_there_in_every_language(rows: list[dict[str, Any]]) -> None:
    counts = Counter((r["kind"], r["lang"]) for r in rows)
    for lang in REQUIRED_LANGUAGES:
        assert counts[("answerable", lang)] >= 30
        assert counts[("uncovered", lang)] >= 10
        assert counts[("off_topic", lang)] >= 5


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared eval data (../shared/eval) not next to the checkout")
def test_gold_documents_are_the_pipelines_doc_ids(rows: list[dict[str, Any]]) -> None:
    settings = IngestSettings()
    sources, skipped = discover([CORPUS], settings)
    assert not skipped
    produced = {doc.doc_id for source in sources for doc in load(source, settings)}
    gold = {d for row in rows for d in row["doc_ids"]}
    assert gold <= produced, f"not produced by the pipeline: {sorted(gold - produced)}"
    # every policy page is the gold of some question (README.md and LICENSE.md are not policies)
    pages = {d for d in produced if d.endswith("index.md")}
    assert pages <= gold, f"policy pages no question covers: {sorted(pages - gold)}"


MIXED = REPO / "bench" / "data" / "mixed_kb"
MIXED_QUESTIONS = REPO / "bench" / "data" / "mixed_kb_questions.jsonl"


def test_the_mixed_language_questions_name_pages_the_pipeline_produces() -> None:
    """bench/data/mixed_kb_questions.jsonl (``bench.quoted_passages --set mixed``): the same schema,
    answerable only, every gold a page of bench/data/mixed_kb, every page some question's gold."""
    rows = [json.loads(line) for line in MIXED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    settings = IngestSettings()
    sources, skipped = discover([MIXED], settings)
    assert not skipped
    produced = {doc.doc_id for source in sources for doc in load(source, settings)}
    for row in rows:
        assert set(row) == FIELDS and row["qid"] == f"{row['group']}:{row['lang']}", row
        assert row["kind"] == "answerable" and row["answerable"] is True and row["doc_ids"], row["qid"]
        assert set(row["doc_ids"]) <= produced, row["qid"]
    assert len({r["qid"] for r in rows}) == len(rows)
    assert {d for row in rows for d in row["doc_ids"]} == produced
    assert {r["lang"] for r in rows} == {"de", "en", "fr", "es"}


PAKKETPUNT = REPO / "bench" / "data" / "pakketpunt"
PAKKETPUNT_QUESTIONS = REPO / "bench" / "data" / "pakketpunt_quotes_questions.jsonl"


def test_the_parcel_company_questions_name_pages_and_sentences_the_pipeline_produces() -> None:
    """bench/data/pakketpunt_quotes_questions.jsonl (``--set pakketpunt`` of ``bench.quoted_passages``
    and ``bench.quote_starts``): every gold a document of bench/data/pakketpunt, every
    expected sentence in one of the gold documents' text."""
    rows = [
        json.loads(line) for line in PAKKETPUNT_QUESTIONS.read_text(encoding="utf-8").splitlines() if line
    ]
    settings = IngestSettings()
    sources, skipped = discover([PAKKETPUNT], settings)
    assert not skipped
    texts = {
        doc.doc_id: "\n".join(section.text for section in doc.sections)
        for source in sources
        for doc in load(source, settings)
    }
    for row in rows:
        assert set(row) == FIELDS | {"section", "expect"} and row["qid"] == f"{row['group']}:{row['lang']}", (
            row
        )
        assert row["kind"] == "answerable" and row["answerable"] is True and row["doc_ids"], row["qid"]
        assert set(row["doc_ids"]) <= set(texts), row["qid"]
        held = [e for e in row["expect"] if any(e in texts[d] for d in row["doc_ids"])]
        assert held, row["qid"]
    assert len({r["qid"] for r in rows}) == len(rows)
    assert {r["lang"] for r in rows} == {"nl", "en", "fr", "de", "pl", "tr"}


@pytest.mark.parametrize(("name", "labels_n", "with_facts"), [("zahnwerk", 30, 16), ("valdemora", 16, 13)])
def test_a_trials_labels_are_valid_and_name_its_pages(name: str, labels_n: int, with_facts: int) -> None:
    """bench/data/NAME_answers.jsonl reads as `faqstream eval answers` labels, and every expected
    document is one of bench/data/NAME/'s files."""
    from knowledge.answer_eval import read_labels

    folder = REPO / "bench" / "data" / name
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    labels = read_labels(REPO / "bench" / "data" / f"{name}_answers.jsonl")
    assert len(labels) == labels_n and sum(bool(label.facts) for label in labels) == with_facts
    for label in labels:
        assert {d.split("#", 1)[0] for d in label.doc_ids} <= files, label.question
        assert label.doc_ids or label.expects_handoff, label.question
