"""Quotes are chosen by content words in every language (``knowledge.word_forms``): a trial's
Polish fines table was quoted by the row sharing only "po" with "Czy można jeździć po chodniku?"."""

from __future__ import annotations

from knowledge.schema import ChunkPayload, SearchHit
from knowledge.sparse import SparseEncoder
from knowledge.word_forms import compound_parts, content_words, stop_words
from service.answers.extractive import extractive_pieces, lexical_start, quoted_passages
from service.answers.quotable import quotable_units
from service.answers.quote_start import needing
from service.answers.table_rows import row_focus
from service.core.text import collapse

FINES = """Hulajnogi elektryczne Sprinto w Polsce podlegają przepisom ustawy Prawo o ruchu drogowym.
Za przestrzeganie przepisów odpowiada osoba, która jedzie.

**Mandaty w Polsce**

| Wykroczenie | Mandat policji |
|---|---|
| Jazda chodnikiem bez ustępowania pieszym | 100 zł |
| Przewożenie drugiej osoby | 100 zł |
| Korzystanie z telefonu podczas jazdy | 500 zł |
| Jazda po alkoholu (0,2–0,5 promila) | od 2500 zł |
| Wjazd na przejście dla pieszych na hulajnodze | 100 zł |

Mandat wystawiony podczas przejazdu Sprinto przekazujemy osobie, która jechała, razem z opłatą
administracyjną 40 zł.

**Parkowanie w Warszawie**

W Śródmieściu Warszawy przejazd można zakończyć wyłącznie w wyznaczonych miejscach Sprinto Hub.
Zakończenie przejazdu poza nimi kosztuje 60 zł."""


def units_of(text: str) -> list[tuple[str, bool]]:
    return [(collapse(u), end) for u, end in quotable_units(text, "pl")]


def named(question: str) -> list[str]:
    units = units_of(FINES)
    focus = row_focus(units, question, "pl")
    return [] if focus is None else [units[i][0].split("|")[1].strip() for i in focus.rows]


def test_stop_words_are_no_terms_and_inflected_forms_share_one() -> None:
    encoder = SparseEncoder()
    assert encoder.terms("Czy można po w od", "pl") == frozenset()  # Qdrant has no Polish list
    assert encoder.terms("chodniku", "pl") & encoder.terms("chodnikiem", "pl")
    assert encoder.terms("Warszawie", "pl") & encoder.terms("Warszawa", "pl")
    assert not encoder.terms("chodniku", "pl") & encoder.terms("alkoholu", "pl")
    assert "po" in stop_words("pl") and "що" in stop_words("uk") and stop_words("xx") == frozenset()
    assert content_words("Czy można jeździć po chodniku?", "pl")[:2] == ["jeździć", "chodniku"]
    # Ukrainian (no stemmer installed): its stop words go, its words stay as written.
    assert content_words("Що робити після аварії?", "uk") == ["робити", "після", "аварії"]
    # A language Qdrant covers reads as before: its own stop words and Snowball stems.
    assert encoder.terms("the and of", "en") == frozenset()
    assert encoder.terms("bikes", "en") == encoder.terms("bike", "en")


def test_a_table_row_is_named_by_a_content_word_not_a_stop_word() -> None:
    assert named("Czy można jeździć po chodniku?") == ["Jazda chodnikiem bez ustępowania pieszym"]
    assert named("Czy można jeździć chodnikiem?") == ["Jazda chodnikiem bez ustępowania pieszym"]
    assert named("Ile kosztuje jazda po alkoholu?") == ["Jazda po alkoholu (0,2–0,5 promila)"]
    assert named("Co jest po tym?") == []  # "po" alone names no row (the alcohol one had it)
    # Nor does a stop word choose where a quote starts.
    assert lexical_start(units_of(FINES), "A co po tym?", "pl") is None


def test_the_trial_question_is_quoted_the_sidewalk_row() -> None:
    payload = ChunkPayload(
        doc_id="zasady-jazdy-polska.md", chunk_index=0, chunk_count=1, doc_hash="h", text=FINES,
        title="Zasady jazdy w Polsce", source="zasady-jazdy-polska.md", language="pl",
        headings=["Zasady jazdy w Polsce"],
    )  # fmt: skip
    hit = SearchHit(id="c1", score=0.5, dense_score=0.7, payload=payload)
    text = extractive_pieces([hit], "pl", "Czy można jeździć po chodniku?")[1]
    assert "| Jazda chodnikiem bez ustępowania pieszym | 100 zł |" in text, text
    assert "alkoholu" not in text, text
    # The row named, the embedding model is not asked where the quote starts.
    [passage] = quoted_passages([hit], "Czy można jeździć po chodniku?", None, "pl")
    assert passage.focus is not None and needing([passage]) == []


PAYMENT = (
    "Die Rechnung wird Ihnen nach Abschluss der Behandlung per Post oder E-Mail zugestellt und ist "
    "innerhalb von 30 Tagen zahlbar. Nach Ablauf der Frist senden wir eine erste Zahlungserinnerung.\n"
    "**Ratenzahlung**\n"
    "Ab einem Rechnungsbetrag von CHF 1'000.– können Sie in bis zu 12 Monatsraten bezahlen. "
    "Der Jahreszins beträgt 4,9 %."
)


def test_a_question_word_that_is_part_of_a_compound_chooses_the_quote() -> None:
    """A trial (a Swiss dental clinic): "Kann ich die Rechnung in Raten bezahlen?" was quoted the
    payment deadline; "Raten" is a part of "Ratenzahlung" and "Monatsraten"."""
    assert compound_parts("Kann ich in Raten bezahlen?", "Ratenzahlung und Monatsraten", "de") == {"raten"}
    assert compound_parts("Raten?", "Ratens", "de") == frozenset()  # an inflection, not a compound
    assert compound_parts("Ein Rat?", "Rathaus", "de") == frozenset()  # too short to be a part
    assert compound_parts("Kann ich die Rechnung in Raten bezahlen?", "Ratenzahlung", "en") == frozenset()
    dutch = compound_parts("Hoe betaal ik in termijnen?", "betaaltermijnen en termijnbedrag", "nl")
    assert dutch == {"betaal", "termijnen"}
    units = [(collapse(u), end) for u, end in quotable_units(PAYMENT, "de")]
    start = lexical_start(units, "Kann ich die Rechnung in Raten bezahlen?", "de")
    assert start is not None and "Monatsraten" in units[start][0], units[start:]
    # The word itself in a unit counts once, not again as a part of a compound.
    assert lexical_start(units, "Wann ist die Rechnung zahlbar?", "de") == 0
