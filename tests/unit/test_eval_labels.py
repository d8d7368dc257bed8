"""Labels of ``faqstream eval``: the ``eval answers`` format is read by ``eval retrieval`` too, and
a label naming a file (``faq.csv``) matches any of its rows, whose ids are content hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.answer_eval import AnswerLabel, CitedPassage, ObservedAnswer, score
from knowledge.doc_ids import matches
from knowledge.errors import InputError
from knowledge.evaluation import evaluate, evaluate_file, format_table, read_labelled_set
from tests.conftest import make_settings
from tests.corpus import corpus_kb


def _lines(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ANSWERS_FORMAT = [
    {"question": "How many days do I have to return an item?", "doc_ids": ["returns.md"], "language": "en"},
    {"question": "How long does a refund take?", "doc_id": "faq.csv", "language": "en", "handoff": False},
    {"question": "Do you rent scooters?", "language": "en", "answerable": False, "handoff": True},
    {"question": "I want a person", "language": "en", "handoff": "customer_request"},
]


def test_the_eval_answers_format_is_read_and_its_unanswerable_questions_counted(tmp_path: Path) -> None:
    labelled = read_labelled_set(_lines(tmp_path / "q.jsonl", ANSWERS_FORMAT))
    assert [sorted(q.doc_ids) for q in labelled.questions] == [["returns.md"], ["faq.csv"]]
    assert labelled.unscored == 2


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ({"question": "Lockers?", "language": "en"}, "no question or no doc_ids"),
        ({"question": "Lockers?", "doc_ids": "faq.csv, plans.md"}, "must be a list of ids"),
        ({"question": "Lockers?", "doc_ids": [{"id": 1}]}, "must be a list of ids"),
        (["Lockers?", "faq.csv"], "not a JSON object"),
    ],
)
def test_a_line_of_another_shape_says_what_is_expected(tmp_path: Path, row: object, says: str) -> None:
    with pytest.raises(InputError) as error:
        read_labelled_set(_lines(tmp_path / "q.jsonl", [ANSWERS_FORMAT[0], row]))
    assert "q.jsonl:2:" in error.value.message and says in error.value.message
    assert '"doc_ids": ["opening-hours.html"]' in error.value.message  # the example


def test_a_file_label_matches_its_rows_and_exact_ids_still_work() -> None:
    assert matches("faq.csv#0fb8d49fe675", ["faq.csv"]) and matches(
        "faq.csv#0fb8d49fe675", ["faq.csv#0fb8d49fe675"]
    )
    assert matches("returns.md", ["returns.md"])
    assert not matches("faq.csv#0fb8d49fe675", ["faq.csv#0fb8"]) and not matches("faq.csv.bak", ["faq.csv"])
    assert not matches("faq.csv2#ab", ["faq.csv"]) and not matches("returns.md", ["faq.csv"])


def test_eval_retrieval_scores_a_faq_file_label_as_a_hit(tmp_path: Path) -> None:
    questions = _lines(tmp_path / "q.jsonl", ANSWERS_FORMAT)
    with corpus_kb(make_settings(tmp_path), tmp_path) as kb:
        [result] = evaluate_file(kb, questions, modes=["hybrid"], k=5, depth=10)
        labelled = read_labelled_set(questions)
        refund = evaluate(kb, labelled.questions[1:], ranking="passages", mode="hybrid", depth=10)
    assert refund.hit_at_k == 1.0  # the refund row of faq.csv, labelled by its file
    assert result.questions == 2 and result.hit_at_k == 1.0 and result.unscored == 2
    assert "2 question(s) labelled as not answered" in format_table([result])


def test_eval_answers_counts_a_cited_row_of_a_labelled_file_as_a_hit() -> None:
    label = AnswerLabel.model_validate({"question": "Lockers?", "doc_id": "faq.csv", "language": "en"})
    assert label.doc_ids == ["faq.csv"]
    cited = [CitedPassage(index=1, doc_id="faq.csv#0fb8d49fe675", quote="A locker costs 15 EUR.")]
    observed = ObservedAnswer(
        text="A locker costs 15 EUR a month [1].", mode="extractive", language="en", citations=cited
    )
    assert score(label, observed, lambda _: "en").retrieval_hit is True
    other = AnswerLabel.model_validate({"question": "Lockers?", "doc_ids": ["plans.md"], "language": "en"})
    assert score(other, observed, lambda _: "en").retrieval_hit is False
