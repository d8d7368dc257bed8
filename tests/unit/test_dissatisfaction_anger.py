"""Anger at the company counts as dissatisfaction (a new user's report: a Polish car-rental firm's
customers were never handed to a person); a question whether a practice is a scam does not:
accusations count only outside a question (``statements`` in the lexicon). The examples of every
language, both ways, are ``ANGER``/``NOT_ANGER`` in ``tests/unit/test_dissatisfaction_languages.py``;
here: the report's conversations, the benchmark's sets and the question rule."""

from __future__ import annotations

import pytest

from bench.dissatisfaction import CONVERSATIONS
from bench.dissatisfaction_data import ANGRY, HELD_OUT_ANGRY, HELD_OUT_ORDINARY, ORDINARY
from service.handoff.dissatisfaction import DissatisfactionDetector, normalize, statements

DETECTOR = DissatisfactionDetector.load()


def test_the_reports_conversations_count_both_turns() -> None:
    for turns in CONVERSATIONS:
        assert DETECTOR.count(list(turns)) == 2, turns


def test_the_benchmark_sets_are_read_as_labelled() -> None:
    """The labelled and held-out sets of ``bench.dissatisfaction`` (figures: docs/benchmarks.md):
    every ordinary message passes, every angry one counts."""
    for angry, ordinary in ((ANGRY, ORDINARY), (HELD_OUT_ANGRY, HELD_OUT_ORDINARY)):
        assert set(angry) == set(ordinary) == set(DETECTOR.languages)
        missed = [t for ts in angry.values() for t in ts if not DETECTOR.assess(t).dissatisfied]
        flagged = [t for ts in ordinary.values() for t in ts if DETECTOR.assess(t).dissatisfied]
        assert not missed and not flagged, (missed, flagged)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Is it a scam to charge a deposit?", ""),
        ("Is this a joke?!", "is this a joke?!"),
        ("Vous plaisantez ? Deux semaines et rien", "deux semaines et rien"),
        ("¿Es una estafa? ¡Sois unos ladrones!", "¡sois unos ladrones!"),
        ("収押金是诈骗吗？押金一直没退。", "押金一直没退。"),
    ],
)
def test_statements_drop_the_questions(text: str, kept: str) -> None:
    assert " ".join(statements(normalize(text)).split()) == kept


def test_a_statement_pattern_counts_outside_questions_only_and_exceptions_still_apply() -> None:
    detector = DissatisfactionDetector(
        {"languages": {"en": {"patterns": ["useless"], "statements": ["scam"], "except": ["not a scam"]}}}
    )
    assert detector.phrase_languages("This is a scam.") == ["en"]
    assert detector.phrase_languages("Is this a scam?") == []
    assert detector.phrase_languages("Is this a scam?! Thieves.") == ["en"]
    assert detector.phrase_languages("It is not a scam, but useless") == []


def test_a_statement_pattern_with_a_back_reference_is_tried_on_its_own() -> None:
    detector = DissatisfactionDetector(
        {"languages": {"en": {"patterns": [], "statements": [r"\b(\w+) \1\b", "scam"]}}}
    )
    assert detector.languages["en"].any_statement is None
    assert detector.phrase_languages("no no, this is broken") == ["en"]
    assert detector.phrase_languages("scam") == ["en"]
