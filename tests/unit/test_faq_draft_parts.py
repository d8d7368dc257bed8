"""The parts of ``faqstream faq draft`` that need no model or server: the tickets format, the draft
schema and its validation, the review status that keeps drafts out of ingest, the normalised
similarity tickets are clustered by, and the command's refusals (no key, a bad tickets file, a
cosine threshold)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from faqstream import cli
from faqstream.faq_files import Entry, slug
from ingest import review
from ingest.loaders import SourceFile, load
from knowledge.clustering import cluster, normalised_similarity
from knowledge.cohort import Cohort
from knowledge.errors import InputError
from knowledge.faq_schema import (
    DRAFT_SCHEMA,
    FaqTranslation,
    schema_errors,
    validate_draft,
    validate_translations,
)
from knowledge.settings import IngestSettings
from knowledge.tickets import TicketsError, read_tickets
from service.privacy.redaction import Redaction

GOOD: dict[str, Any] = {
    "question": "Can I change the delivery address after ordering?",
    "answer": "Yes, until the order is packed. Send us the order number and the new address.",
    "reply_template": "Hello {customer_name},\n\nwe have updated the address of order {order_number}.",
    "tags": ["orders", "delivery-address"],
    "source_ticket_ids": ["T-1", "T-2"],
}


def write_lines(path: Path, *lines: object) -> Path:
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8"
    )
    return path


# --- tickets -------------------------------------------------------------------------------------


def test_tickets_keep_known_fields_drop_the_rest_and_are_redacted_on_reading(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.jsonl",
        {
            "id": 7,
            "text": "Refund? Write to ana@example.com",
            "customer_email": "ana@example.com",
            "language": "es-MX",
        },
        "",
        {
            "text": "Call +44 20 7946 0958 about my order",
            "subject": "Order",
            "resolution": "Mail bo@example.org",
        },
    )
    first, second = read_tickets(path, Redaction().text)
    assert first.id == "7" and first.language == "es" and first.text == "Refund? Write to [email]"
    assert "customer_email" not in first.model_dump()
    assert second.id == "line-3" and "[phone]" in second.text and second.resolution == "Mail [email]"
    assert second.question == "Call [phone] about my order"  # the subject is in the text already


def test_tickets_errors_name_every_bad_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.jsonl",
        {"id": "a", "text": "fine"},
        "not json",
        {"id": "b", "subject": "no text"},
        ["a", "list"],
        {"id": "a", "text": "again"},
    )
    with pytest.raises(TicketsError) as caught:
        read_tickets(path, str)
    message = str(caught.value)
    assert "4 invalid line(s)" in message
    for expected in (
        "line 2: not JSON",
        'line 3: missing "text"',
        "line 4: a JSON list",
        "line 5: duplicate id 'a'",
    ):
        assert expected in message
    assert caught.value.exit_code == 2


def test_an_empty_or_missing_tickets_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TicketsError, match="no tickets"):
        read_tickets(write_lines(tmp_path / "t.jsonl", ""), str)
    with pytest.raises(TicketsError, match="no such file"):
        read_tickets(tmp_path / "missing.jsonl", str)


# --- schema and validation -----------------------------------------------------------------------


def test_a_good_draft_passes_both_checks() -> None:
    draft, errors = validate_draft(GOOD, ["T-1", "T-2", "T-3"])
    assert errors == [] and draft is not None and draft.tags == ["orders", "delivery-address"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"reply_template": None}, "reply_template: None is not of type 'string'"),
        ({"tags": ["Promo Codes"]}, "tags/0: 'Promo Codes' does not match"),
        ({"answer": "Yes."}, "answer: 'Yes.' is too short"),
        ({"extra": 1}, "Additional properties are not allowed"),
        (
            {"source_ticket_ids": ["T-9"]},
            "source_ticket_ids: Value error, not tickets of this cluster: ['T-9']",
        ),
    ],
)
def test_invalid_drafts_are_refused_with_where_and_why(change: dict[str, Any], error: str) -> None:
    draft, errors = validate_draft({**GOOD, **change}, ["T-1", "T-2"])
    assert draft is None
    assert any(error in e for e in errors), errors


def test_the_schema_sent_to_the_model_is_strict_json_schema() -> None:
    assert DRAFT_SCHEMA["additionalProperties"] is False
    assert set(DRAFT_SCHEMA["required"]) == {
        "question",
        "answer",
        "reply_template",
        "tags",
        "source_ticket_ids",
    }
    assert schema_errors(DRAFT_SCHEMA, {**GOOD, "tags": "orders"}) == [
        "tags: 'orders' is not of type 'array'"
    ]


def test_translations_are_checked_per_language_including_the_language_itself() -> None:
    texts = {k: GOOD[k] for k in ("question", "answer", "reply_template")}
    german = {**texts, "answer": "Ja, solange die Bestellung noch nicht verpackt ist."}
    value = {"de": german, "fr": texts}
    detected = {german["answer"]: "de", texts["answer"]: "en"}
    valid, errors = validate_translations(value, ["de", "fr", "es"], detected.get)
    assert list(valid) == ["de"]
    assert errors == {"fr": ["fr/answer: written in 'en', not 'fr'"], "es": ["es: missing"]}
    # a language the detector does not know is not checked (it would name one it knows)
    valid, errors = validate_translations({"sv": texts}, ["sv"], detected.get, detectable=["en", "de", "fr"])
    assert list(valid) == ["sv"] and errors == {}


# --- review status and ingest ---------------------------------------------------------------------


def entry_file(tmp_path: Path) -> Path:
    texts = FaqTranslation(**{k: GOOD[k] for k in ("question", "answer", "reply_template")})
    entry = Entry("faq-20260101-1200", 1, "en", texts, ("orders",), ("T-1",))
    path = tmp_path / entry.filename(slug(texts.question))
    path.write_text(entry.render(), encoding="utf-8")
    return path


def test_ingest_skips_a_draft_with_a_reason_and_takes_it_once_approved(tmp_path: Path) -> None:
    path = entry_file(tmp_path)
    assert path.name == "faq-20260101-1200-01-can-i-change-the-delivery-address-after.en.md"
    source = SourceFile(path, tmp_path)
    with pytest.raises(InputError, match=r"draft awaiting review .*faqstream faq approve"):
        load(source, IngestSettings())
    before = path.read_text(encoding="utf-8")
    assert review.approve(path) == "draft"
    after = path.read_text(encoding="utf-8")
    assert after.replace("status: approved\napproved_at: ", "status: draft\n@").split("@")[0] in before
    assert after.split("---\n", 2)[2] == before.split("---\n", 2)[2]  # the body is untouched
    (doc,) = load(source, IngestSettings())
    assert doc.title == GOOD["question"] and doc.language == "en" and doc.tags == ("orders",)
    assert doc.extra["reply_template"] == GOOD["reply_template"]  # kept with the entry, not embedded
    assert GOOD["reply_template"] not in "\n".join(s.text for s in doc.sections)
    assert review.approve(path) == "approved"  # approving twice changes nothing


@pytest.mark.parametrize("status", ["rejected", "index", "Draft"])
def test_other_review_statuses_are_skipped_and_plain_documents_are_not(tmp_path: Path, status: str) -> None:
    path = tmp_path / "page.md"
    path.write_text(f"---\ntitle: Page\nstatus: {status}\n---\n# Page\n\nText.\n", encoding="utf-8")
    with pytest.raises(InputError):
        load(SourceFile(path, tmp_path), IngestSettings())
    path.write_text("---\ntitle: Page\nstatus: published\n---\n# Page\n\nText.\n", encoding="utf-8")
    assert len(load(SourceFile(path, tmp_path), IngestSettings())) == 1


def test_only_drafted_entries_can_be_approved(tmp_path: Path) -> None:
    plain = tmp_path / "plain.md"
    plain.write_text("# No front matter\n\nText.\n", encoding="utf-8")
    with pytest.raises(InputError, match="no `status:`"):
        review.approve(plain)
    index = tmp_path / "summary.md"
    index.write_text("---\nstatus: index\n---\n# Index\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be approved"):
        review.approve(index)


# --- the similarity tickets are clustered by ---------------------------------------------------------


def unit(*rows: list[float]) -> npt.NDArray[np.float32]:
    matrix = np.asarray(rows, dtype=np.float32)
    return np.asarray(matrix / np.linalg.norm(matrix, axis=1, keepdims=True), dtype=np.float32)


def test_similarity_is_in_deviations_over_the_unrelated_questions_of_the_other_ones_language() -> None:
    cohort = Cohort({"en": unit([1, 0, 0.2], [1, 0.3, 0]), "es": unit([0, 1, 0.1], [0.2, 1, 0])})
    vectors = unit([1, 0.1, 0.1], [0.9, 0.2, 0.3], [0.1, 1, 0.2])
    z = normalised_similarity(vectors, ["en", "en", "es"], cohort)
    assert np.allclose(z, z.T)
    # ticket 0 against ticket 2 (Spanish): 0's cosine normalised by the Spanish cohort, and back
    en, es = cohort.vectors["en"] @ vectors[2], cohort.vectors["es"] @ vectors[0]
    cosine = float(vectors[0] @ vectors[2])
    expected = ((cosine - es.mean()) / es.std() + (cosine - en.mean()) / en.std()) / 2
    assert z[0, 2] == pytest.approx(expected, rel=1e-5)
    # a ticket in a language without a cohort (or none) is judged against every language's
    assert np.isfinite(normalised_similarity(vectors, [None, "xx", "es"], cohort)).all()


def test_complete_linkage_on_a_given_similarity_needs_every_pair_over_the_threshold() -> None:
    vectors = unit([1, 0], [1, 0.1], [1, 0.2], [0, 1])
    similarity = np.array(
        [[9, 4, 2, 0], [4, 9, 4, 0], [2, 4, 9, 0], [0, 0, 0, 9]], dtype=np.float64
    )  # 0–1 and 1–2 close, 0–2 not: no cluster of three
    found = cluster(vectors, 3.0, 2, similarity)
    assert len(found) == 1 and len(found[0].members) == 2
    assert [len(c.members) for c in cluster(vectors, 1.5, 2, similarity)] == [3]


# --- the command's refusals ------------------------------------------------------------------------


def test_draft_without_a_key_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    tickets = write_lines(tmp_path / "t.jsonl", {"text": "hello"})
    assert cli.main(["faq", "draft", str(tickets), "--languages", "es,fr,de"]) == 3
    err = capsys.readouterr().err
    assert "needs ANTHROPIC_API_KEY" in err and "--dry-run" in err


def test_draft_with_a_bad_tickets_file_names_the_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    tickets = write_lines(tmp_path / "t.jsonl", {"text": "hello"}, {"subject": "no text"})
    assert cli.main(["faq", "draft", str(tickets), "--dry-run"]) == 2
    assert 'line 2: missing "text"' in capsys.readouterr().err
    assert cli.main(["faq", "draft", str(tickets), "--dry-run", "--languages", "spanish"]) == 3
    assert "not ISO 639-1 codes: spanish" in capsys.readouterr().err
    # a threshold of the cosine era (a new user's trial ran --threshold 0.84) is refused, not misread
    assert cli.main(["faq", "draft", str(tickets), "--dry-run", "--threshold", "0.84"]) == 3
    assert "in standard deviations over unrelated questions, not a cosine" in capsys.readouterr().err
