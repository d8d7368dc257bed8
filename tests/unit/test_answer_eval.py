"""The scoring of ``faqstream eval answers`` (``knowledge.answer_eval``): markers, quotes, language,
handoff, the summaries, and the labelled set shipped for the demo corpus."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from ingest.loaders.faq import question_hash
from knowledge.answer_eval import (
    AnswerLabel,
    AnswerScore,
    CitedPassage,
    ObservedAnswer,
    citation_markers,
    format_missing_facts,
    format_table,
    handoff_matches,
    own_words,
    quoted_in,
    read_labels,
    score,
    summaries,
)
from knowledge.errors import InputError
from knowledge.fact_match import states
from knowledge.language import LanguageIdentifier

REPO = Path(__file__).resolve().parents[2]
RETURNS = "You can return most items within 30 days of delivery. Start a return in the **returns portal**."
KETTLE = "The kettle NW-KTL-110 from batches K2505 to K2512 is recalled.\nStop using it."
PASSAGES = [
    CitedPassage(index=1, doc_id="returns.md", quote=RETURNS),
    CitedPassage(index=2, doc_id="kettle.txt", quote=KETTLE),
]
DETECTOR = LanguageIdentifier(["en", "de", "es", "fr", "zh"])


def detect(text: str) -> str:
    return DETECTOR.detect(text).language


def test_markers_name_given_passages_and_quote_them_word_for_word() -> None:
    reply = (
        "Yes [2]. “The kettle NW-KTL-110 from batches K2505 to K2512 is recalled.” [2] "
        'You have "90 days to return anything" [1], see [3].'
    )
    markers = citation_markers(reply, PASSAGES)
    assert [(m.index, m.valid, m.quote_found, m.correct) for m in markers] == [
        (2, True, None, True),
        (2, True, True, True),
        (1, True, False, False),  # the quote is not in passage 1
        (3, False, None, False),  # passage 3 was never given
    ]


def test_a_translated_quote_is_not_checked_word_for_word() -> None:
    reply = "Según la política: «Puede devolver la mayoría de los artículos en un plazo de 30 días.» [1]"
    (plain,) = citation_markers(reply, PASSAGES)
    assert plain.quote_found is False  # without a language detector: not the passage's words
    (translated,) = citation_markers(reply, PASSAGES, detect)
    assert translated.quote_found is None and translated.correct
    invented = "Laut Richtlinie: „You can return anything within 90 days.“ [1]"
    assert citation_markers(invented, PASSAGES, detect)[0].correct is False  # same language: checked


def test_extractive_lines_quote_after_the_heading_and_may_be_clipped() -> None:
    reply = (
        "Here is what our policy documents say:\n\n"
        "[1] Returns › Window: You can return most items within 30 days of delivery. Start a return…\n\n"
        "[2] Kettle: The kettle NW-KTL-110 from batches K2505 to K2512 is recalled. Stop using it.\n"
    )
    markers = citation_markers(reply, PASSAGES)
    assert [(m.index, m.quote_found) for m in markers] == [(1, True), (2, True)]
    swapped = [
        CitedPassage(index=1, doc_id="kettle.txt", quote=KETTLE),
        CitedPassage(index=2, doc_id="r", quote=RETURNS),
    ]
    assert [m.correct for m in citation_markers(reply, swapped)] == [False, False]


def test_quotes_ignore_whitespace_emphasis_and_a_clipped_end() -> None:
    assert quoted_in("Start a return in the returns portal.", RETURNS)
    assert quoted_in("recalled.   Stop using…", KETTLE)
    assert quoted_in("recalled. Stop using...", KETTLE)  # NFKC turns … into ...
    assert quoted_in("The kettle … is recalled", KETTLE)  # left-out words
    assert not quoted_in("is recalled … The kettle", KETTLE)  # pieces out of order
    assert not quoted_in("recalled. Keep using it", KETTLE)


def test_the_language_is_judged_on_the_replys_own_words() -> None:
    reply = "Laut unseren Richtlinien gilt: „You can return most items within 30 days of delivery.“ [1]"
    markers = citation_markers(reply, PASSAGES)
    assert markers[0].quote_found is True
    assert "30 days" not in own_words(reply, markers)
    label = AnswerLabel(question="Wie lange kann ich zurückgeben?", doc_ids=["returns.md"], language="de")
    scored = score(label, ObservedAnswer(text=reply, citations=PASSAGES), detect)
    assert scored.detected_language == "de" and scored.language_ok


def test_an_extractive_reply_is_judged_on_its_introduction() -> None:
    """A German question over English pages: the introduction is German, the labels and quotes are
    the pages' English (a new user's trial: such replies were scored as the wrong language)."""
    reply = (
        "Das steht dazu in unseren Richtlinien (wörtlich zitiert, ohne KI-Zusammenfassung):\n\n"
        "[1] Returns and refunds › Time limits for returns: … Items bought in a sale can be returned "
        "within the same period, as long as they are unused and in their original packaging.\n"
        "[2] Delivery and shipping › Parcels: … We ship every order within two working days and send "
        "you the tracking number by e-mail as soon as the parcel has left our warehouse.\n"
    )
    label = AnswerLabel(question="Wie lange kann ich zurückgeben?", doc_ids=["returns.md"], language="de")
    scored = score(label, ObservedAnswer(text=reply, mode="extractive", citations=PASSAGES), detect)
    assert scored.detected_language == "de" and scored.language_ok
    replayed = score(label, ObservedAnswer(text=reply, mode="cached", citations=PASSAGES), detect)
    assert replayed.detected_language == "de"  # the answer cache replays it as it was
    # judged whole (as a generated reply is), the documents' English outweighs the introduction
    whole = score(label, ObservedAnswer(text=reply, mode="generative", citations=PASSAGES), detect)
    assert whole.detected_language == "en"


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (False, None, True),
        (False, "no_relevant_passages", False),
        (True, "not_in_documents", True),
        (True, None, False),
        ("customer_request", "customer_request", True),
        ("customer_request", "no_relevant_passages", False),
    ],
)
def test_handoff_expected_or_not_and_its_reason(expected: bool | str, actual: str | None, ok: bool) -> None:
    assert handoff_matches(expected, actual) is ok


def test_scores_and_summaries() -> None:
    answered = AnswerLabel(question="How long to return?", doc_ids=["returns.md"], language="en")
    missed = AnswerLabel(question="Kettle?", doc_ids=["other.md"], language="en")
    human = AnswerLabel(question="A person please", language="en", handoff="customer_request")
    unanswerable = AnswerLabel(question="Weather?", language="en", handoff=True, answerable=False)
    scores = [
        score(
            answered, ObservedAnswer(text="You have 30 days to return items [1].", citations=PASSAGES), detect
        ),
        score(missed, ObservedAnswer(text="The kettle is recalled [2] [7].", citations=PASSAGES), detect),
        score(
            human,
            ObservedAnswer(text="A colleague will take over.", handoff_reason="customer_request"),
            detect,
        ),
        score(unanswerable, ObservedAnswer(text="Sure, it will be sunny."), detect),
    ]
    assert [s.retrieval_hit for s in scores] == [True, False, None, None]
    used = [(True, True), (False, False), (None, None), (None, None)]
    assert [(s.used_hit, s.first_hit) for s in scores] == used
    assert [s.citations_ok for s in scores] == [True, False, None, None]
    assert scores[1].wrong_markers == [7]
    whole = summaries(scores, "set")[0]
    assert whole.retrieval_hit == 0.5
    assert whole.citation_precision == pytest.approx(2 / 3) and whole.replies_citations_ok == 0.5
    assert whole.handoff_ok == 0.75 and whole.confusion == {"tp": 1, "fp": 0, "fn": 1, "tn": 2}
    assert whole.faithfulness is None and whole.language_ok == 1.0
    table = format_table(summaries(scores, "set"))
    assert "tp 1  fp 0  fn 1  tn 2" in table and "customer_request 1" in table


def test_the_passages_a_reply_cites_not_only_those_it_was_given() -> None:
    """A trial's quoted answers were given the right page and quoted a price row first (or only):
    "hit" counted them all; "used" and "first" read the reply's own markers."""
    label = AnswerLabel(question="How long to return?", doc_ids=["returns.md"], language="en")

    def scored(text: str) -> tuple[bool | None, bool | None, bool | None]:
        found = score(label, ObservedAnswer(text=text, citations=PASSAGES), detect)
        return found.retrieval_hit, found.used_hit, found.first_hit

    assert scored("The kettle is recalled [2].") == (True, False, False)
    assert scored("The kettle is recalled [2]; returns take 30 days [1].") == (True, True, False)
    assert scored("Returns take 30 days [1] [2].") == (True, True, True)
    assert scored("No markers at all.") == (True, False, False)
    assert scored("A wrong marker [7].") == (True, False, False)
    whole = summaries([score(label, ObservedAnswer(text="[2] then [1]", citations=PASSAGES), detect)], "s")[0]
    assert (whole.retrieval_hit, whole.used_hit, whole.first_hit) == (1.0, 1.0, 0.0)
    assert "used  first" in format_table([whole])


def test_a_failed_request_is_never_a_correct_handoff_decision() -> None:
    label = AnswerLabel(question="Q?", doc_ids=["a"], language="en")
    failed = score(label, ObservedAnswer(text="", error="503 upstream_unavailable"), detect)
    assert failed.handoff_ok is False and failed.retrieval_hit is False
    assert summaries([failed], "x")[0].errors == 1


@pytest.mark.parametrize(
    "row",
    [
        {"question": "Q?", "language": "en"},  # answerable, no handoff: needs documents
        {"question": "Q?", "language": "en", "doc_ids": ["a"], "answerable": False},
        {"question": "Q?", "doc_ids": ["a"]},  # no expected language
        {"question": "Q?", "doc_ids": ["a"], "language": "en", "lang": "de"},  # unknown field
        {"question": "Q?", "doc_ids": ["a"], "language": "en", "facts": ["**"]},  # nothing to look for
        {"question": "Q?", "doc_ids": ["a"], "language": "en", "facts": [90]},  # not a string
        {"question": "Q?", "language": "en", "answerable": False, "handoff": True, "facts": ["90"]},
    ],
)
def test_malformed_labels_name_their_line(tmp_path: Path, row: dict[str, object]) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        json.dumps({"question": "Fine?", "doc_ids": ["a"], "language": "en"}) + "\n" + json.dumps(row)
    )
    with pytest.raises(InputError, match=r"labels\.jsonl:2"):
        read_labels(path)


def test_the_shipped_set_is_valid_and_names_real_documents() -> None:
    labels = read_labels(REPO / "data/eval/answers.jsonl")
    assert len(labels) >= 60
    assert {label.language for label in labels} >= {"en", "es", "de", "fr", "zh"}
    assert sum(not label.answerable for label in labels) >= 5
    assert sum(label.handoff == "customer_request" for label in labels) >= 5
    policies = REPO / "data/policies"
    files = {str(p.relative_to(policies)) for p in policies.rglob("*") if p.is_file()}
    with open(policies / "faq.csv", newline="", encoding="utf-8") as rows:
        files |= {f"faq.csv#{question_hash(row['question'])}" for row in csv.DictReader(rows)}
    named = {doc for label in labels for doc in label.doc_ids}
    assert named <= files and sum(d.startswith("faq.csv#") for d in named) > 40
    for label in labels:  # each question is in its expected language
        assert detect(label.question) == label.language, label.question


def test_facts_the_reply_must_state() -> None:
    """A trial's quoted answers cited the right page and quoted the wrong part of it (the cantonal
    number instead of the clinic's emergency line): "used" counted them, "fact" does not."""
    page = (
        "Notre ligne d'urgence **0800 44 33 22** (gratuite) est ouverte de 18h30 à 22h00. En dehors "
        "de ces horaires, appelez la Centrale des médecins de garde au 0848 133 133."
    )
    passages = [CitedPassage(index=1, doc_id="fr/urgences.html", quote=page)]
    label = AnswerLabel.model_validate(
        {
            "question": "Quel est le numéro d'urgence ?",
            "doc_id": "fr/urgences.html",
            "language": "fr",
            "facts": "0800 44 33 22",
        }
    )
    assert label.facts == ["0800 44 33 22"]  # one string: one fact
    intro = "Voici ce que disent nos documents :\n\n[1] Urgences: "
    wrong = intro + "… appelez la Centrale des médecins de garde au 0848 133 133."
    right = intro + "Notre ligne d'urgence 0800\u00a044 33 22 (gratuite)"
    missed = score(label, ObservedAnswer(text=wrong, mode="extractive", citations=passages), detect)
    stated = score(label, ObservedAnswer(text=right, mode="extractive", citations=passages), detect)
    assert (missed.used_hit, missed.first_hit, missed.fact_hit) == (True, True, False)
    assert missed.facts_missing == ["0800 44 33 22"]
    assert (stated.fact_hit, stated.facts_missing) == (True, [])
    unlabelled = AnswerLabel(question="Q?", doc_ids=["fr/urgences.html"], language="fr")
    assert score(unlabelled, ObservedAnswer(text=wrong, citations=passages), detect).fact_hit is None
    failed = score(label, ObservedAnswer(text="", error="503 upstream_unavailable"), detect)
    assert failed.fact_hit is False  # no reply states nothing


def test_the_fact_rate_counts_only_the_questions_with_facts() -> None:
    def scored(language: str, facts: list[str], reply: str) -> AnswerScore:
        label = AnswerLabel(question="Q?", doc_ids=["a"], language=language, facts=facts)
        return score(label, ObservedAnswer(text=reply), lambda _: language)

    scores = [
        scored("de", ["12", "4,9 %"], "bis zu 12 Monatsraten, Jahreszins 4,9\u202f%"),
        scored("de", ["12", "4,9 %"], "Die Rechnung ist innerhalb von 30 Tagen zahlbar."),
        scored("en", ["CHF 90"], "The fee is CHF 90.– per half hour."),
        scored("en", [], "No facts labelled."),
        scored("it", [], "Nessun fatto."),
    ]
    rows = summaries(scores, "set")
    assert [(r.label.strip(), r.fact_hit, r.fact_questions) for r in rows] == [
        ("set", pytest.approx(2 / 3), 3),
        ("de", 0.5, 2),
        ("en", 1.0, 1),
        ("it", None, 0),
    ]
    table = format_table(rows).splitlines()
    assert table[0].split()[:6] == ["set", "n", "hit", "used", "first", "fact"]
    assert table[1].split()[5] == "0.667" and table[4].split()[5] == "-"
    assert "fact: replies stating every labelled fact" in table[-1]
    missing = format_missing_facts(scores).splitlines()
    assert missing == [
        "replies without a labelled fact (1 of 3):",
        "  [de] Q?  missing: '12', '4,9 %'",
    ]
    assert format_missing_facts(scores[2:]) == ""
    assert rows[0].to_dict()["fact_hit"] == pytest.approx(2 / 3)


def test_the_shipped_facts_are_in_their_documents() -> None:
    """Each fact of the shipped set is stated by one of its question's expected documents (read as
    the reply would quote it), and is a language-independent string: no letters but an address's."""
    policies = REPO / "data/policies"
    with open(policies / "faq.csv", newline="", encoding="utf-8") as rows:
        faq = {f"faq.csv#{question_hash(row['question'])}": row["answer"] for row in csv.DictReader(rows)}
    labelled = [label for label in read_labels(REPO / "data/eval/answers.jsonl") if label.facts]
    assert len(labelled) >= 20 and {label.language for label in labelled} >= {"en", "es", "de", "fr", "zh"}
    for label in labelled:
        texts = [faq[d] if d in faq else (policies / d).read_text(encoding="utf-8") for d in label.doc_ids]
        for fact in label.facts:
            assert any(states(text, fact) for text in texts), (label.id, fact)
            assert "@" in fact or "/" in fact or not re.search(r"[^\W\d_]{2,}", fact), fact
