"""PDF sections follow the document's own headings: its outline, else its type sizes and weights;
running headers, footers and page numbers are in no section; without structure, one per page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from ingest.loaders import SourceFile, load
from ingest.loaders.pdf_sections import Line, _font_cuts
from ingest.pipeline import IngestPipeline
from knowledge.embedder import Embedder
from knowledge.language import LanguageIdentifier
from knowledge.probes import answerable_probes
from knowledge.schema import Document
from knowledge.search import KnowledgeBase
from knowledge.settings import IngestSettings
from knowledge.sparse import SparseEncoder
from knowledge.store.edge import EdgeStore
from service.answers.plan import citations_for
from tests.conftest import make_settings
from tests.pdf_documents import (
    body,
    h1,
    h2,
    h3,
    policy_pdf,
    privacy_notice,
    returns_policy,
    tarieven,
    versandbedingungen,
)

RETURNS_SECTIONS = [
    ("Returns Policy (p. 1)",),
    ("Returns Policy", "1. Return window (p. 1)"),
    ("Returns Policy", "2. Damaged items", "Reporting damage (p. 1)"),
    ("Returns Policy", "2. Damaged items", "Replacement or refund (p. 1)"),
    ("Returns Policy", "3. Refunds (pp. 2–3)"),
    ("Returns Policy", "4. Exchanges (p. 3)"),
]


def load_pdf(tmp_path: Path, name: str, data: bytes) -> Document:
    path = tmp_path / name
    path.write_bytes(data)
    [doc] = load(SourceFile(path, tmp_path), IngestSettings())
    return doc


def section_text(doc: Document, last_heading: str) -> str:
    [text] = [s.text for s in doc.sections if s.headings[-1] == last_heading]
    return text


def test_headings_by_type_size_and_weight(tmp_path: Path) -> None:
    doc = load_pdf(tmp_path, "returns.pdf", returns_policy())
    assert doc.title == "Northwind Returns Policy"
    assert [s.headings for s in doc.sections] == RETURNS_SECTIONS
    refunds = section_text(doc, "3. Refunds (pp. 2–3)")  # one section over a page break
    assert refunds.startswith("Refunds are issued") and "deducted proportionally" in refunds
    assert "3. Refunds" not in refunds  # the heading line is the heading, not text
    assert "Northwind Trading Ltd" not in doc.text and "Page 3 of 3" not in doc.text  # the footer


def test_the_outline_cuts_where_the_type_says_nothing(tmp_path: Path) -> None:
    doc = load_pdf(tmp_path, "returns.pdf", returns_policy(outline=True, plain=True))
    assert [s.headings for s in doc.sections] == RETURNS_SECTIONS
    assert section_text(doc, "Reporting damage (p. 1)").startswith("Report damaged items within 48 hours")


def test_outline_entries_not_found_in_the_text_cut_at_their_page(tmp_path: Path) -> None:
    pages = [[body("Our shop is open on weekdays.")], [body("Parcels leave the warehouse daily.")]]
    data = _with_outline(
        policy_pdf(pages, title="Service guide"), [("Opening hours", 0, None), ("Shipping", 1, None)]
    )
    doc = load_pdf(tmp_path, "guide.pdf", data)
    assert [(s.headings, s.text) for s in doc.sections] == [
        (("Opening hours (p. 1)",), "Our shop is open on weekdays."),
        (("Shipping (p. 2)",), "Parcels leave the warehouse daily."),
    ]


def test_outline_titles_find_their_numbered_lines_and_a_destination_one_page_early(tmp_path: Path) -> None:
    pages = [
        [body("Please read these terms before you order."), body("1. Delivery"), body("Parcels ship daily.")],
        [
            body("2. Refunds"),
            body("Refunds take five days."),
            body("2.1 Card refunds"),
            body("Banks add two days."),
        ],
    ]
    outline = [("Delivery", 0, None), ("Refunds", 0, None), ("Card refunds", 1, 1), ("Gift cards", 1, 1)]
    doc = load_pdf(tmp_path, "terms.pdf", _with_outline(policy_pdf(pages, title="Terms"), outline))
    assert [(s.headings, s.text) for s in doc.sections] == [
        ((), "Please read these terms before you order."),  # under the title: cited by the title
        (("Delivery (p. 1)",), "Parcels ship daily."),
        (("Refunds (p. 2)",), "Refunds take five days."),  # its destination is page 1, its line on page 2
        (("Refunds", "Card refunds (p. 2)"), "Banks add two days."),  # "Gift cards" is not in the text
    ]


def test_a_running_title_is_furniture_but_still_the_title(tmp_path: Path) -> None:
    pages = [
        [h1("Returns Policy"), body("Items can be returned within 30 days. " * 3)],
        [h2("Refunds"), body("Refunds take five business days. " * 3)],
        [h2("Exchanges"), body("Exchanges are free of charge. " * 3)],
    ]
    doc = load_pdf(tmp_path, "returns.pdf", policy_pdf(pages, header="Returns Policy"))
    assert doc.title == "Returns Policy"  # set large on page 1; the small running header is dropped
    assert [s.headings for s in doc.sections] == [(), ("Refunds (p. 2)",), ("Exchanges (p. 3)",)]
    assert "Returns Policy" not in doc.text


def test_german_policy_without_outline_and_with_running_header_and_footer(tmp_path: Path) -> None:
    doc = load_pdf(tmp_path, "versand.pdf", versandbedingungen())
    assert doc.title == "Versand und Lieferung"  # not the running header
    assert [s.headings for s in doc.sections] == [
        ("Lieferzeiten (p. 1)",),  # the title heading is not repeated in the path
        ("Versandkosten", "Deutschland (p. 1)"),
        ("Versandkosten", "Österreich und Schweiz (p. 1)"),
        ("Sendungsverfolgung (p. 2)",),
        ("Nicht zugestellte Pakete (p. 2)",),
    ]
    assert "Nordwind Handel GmbH" not in doc.text and "Seite" not in doc.text


ZAHNWERK_HEADER = "Zahnwerk Dentalkliniken AG - Privacy Policy (version 3.2, 1 March 2026)"
RECORDS = ("Patient records are kept for 20 years.", "Invoices are kept for 10 years.")
RIGHTS = ("You can ask for a copy of your records.", "We answer your request within 30 days.")


def _two_page_policy(**furniture: Any) -> bytes:
    return policy_pdf(
        [
            [h1("Privacy Policy"), h2("1. Records"), body(RECORDS[0]), body(RECORDS[1])],
            [h2("2. Your rights"), body(RIGHTS[0]), body(RIGHTS[1])],
        ],
        title="Privacy Policy - Zahnwerk",
        **furniture,
    )


def test_a_running_header_with_the_page_numbers_in_its_date_is_furniture(tmp_path: Path) -> None:
    # A trial: "1 March" read as page 1's number, so page 1's header no longer matched page 2's.
    data = _two_page_policy(header=ZAHNWERK_HEADER, footer="Bahnhofstrasse 88 - Zurich - Page {page}")
    doc = load_pdf(tmp_path, "privacy.pdf", data)
    assert [(s.headings, s.text) for s in doc.sections] == [
        (("Privacy Policy", "1. Records (p. 1)"), "\n".join(RECORDS)),
        (("Privacy Policy", "2. Your rights (p. 2)"), "\n".join(RIGHTS)),
    ]


@pytest.mark.parametrize(
    ("header", "first_page"),
    [
        ("Page {page} - Price list of 2 January 2026, version 1.2", 1),  # the page number up front
        ("Price list 2.1 of 12 February 2026 - page {page} of {pages}", 1),
        ("Price list of 1 March 2026 - Page {page}", 4),  # numbered from page 4 (a part of a binder)
    ],
)
def test_running_headers_differ_only_in_their_page_number_wherever_it_stands(
    tmp_path: Path, header: str, first_page: int
) -> None:
    pages = [[h2(f"Part {n}"), body(f"Prices of part {n} apply from March.")] for n in ("A", "B", "C")]
    doc = load_pdf(tmp_path, "prices.pdf", policy_pdf(pages, header=header, first_page=first_page))
    assert "Price list" not in doc.text and "Page" not in doc.text
    assert [s.text for s in doc.sections] == [f"Prices of part {n} apply from March." for n in "ABC"]


def test_edge_lines_differing_in_other_numbers_are_content(tmp_path: Path) -> None:
    pages = [
        [h2("Shipping"), body("Parcels leave the warehouse daily."), body("Orders over 50 Euro ship free.")],
        [h2("Returns"), body("Returns are free of charge."), body("Orders over 80 Euro ship free.")],
    ]
    doc = load_pdf(tmp_path, "terms.pdf", policy_pdf(pages, header="Northwind {page}", footer="{page}"))
    assert "Orders over 50 Euro ship free." in doc.text and "Orders over 80 Euro ship free." in doc.text
    assert "Northwind" not in doc.text


def test_no_structure_keeps_one_section_per_page_without_page_numbers(tmp_path: Path) -> None:
    doc = load_pdf(tmp_path, "privacy.pdf", privacy_notice())
    assert [s.headings for s in doc.sections] == [("Page 1",), ("Page 2",)]
    assert doc.sections[0].text.endswith("never stored by us.")  # the footer's "1" is gone
    assert doc.sections[1].text.endswith("within one month.")


def test_bold_body_text_is_not_a_heading(tmp_path: Path) -> None:
    pages = [[h3("Bold body line one"), h3("Bold body line two")], [h3("Bold body line three")]]
    doc = load_pdf(tmp_path, "bold.pdf", policy_pdf(pages, title="Bold notice"))
    assert [s.headings for s in doc.sections] == [("Page 1",), ("Page 2",)]


def test_a_heading_wrapped_over_two_lines_is_one_heading(tmp_path: Path) -> None:
    long_heading = "Returns of bulky furniture, large household appliances and other items shipped by freight"
    intro = "Large items come by freight. " * 8
    call = "Call us first to book a pick-up slot. " * 8
    data = policy_pdf([[h1("Delivery terms"), body(intro), h2(long_heading), body(call)]])
    doc = load_pdf(tmp_path, "delivery.pdf", data)
    assert doc.title == "Delivery terms"
    assert [(s.headings, " ".join(s.text.split())) for s in doc.sections] == [
        ((), intro.strip()),
        ((f"{long_heading} (p. 1)",), call.strip()),
    ]


def test_two_headings_in_a_row_stay_two_headings(tmp_path: Path) -> None:
    text = "Returns are free of charge within thirty days of delivery. " * 4
    data = policy_pdf([[h1("Returns"), body(text), h2("Furniture"), h2("Appliances"), body(text)]])
    doc = load_pdf(tmp_path, "returns.pdf", data)
    assert [s.headings for s in doc.sections] == [
        (),
        ("Appliances (p. 1)",),
    ]  # "Furniture" has no text


TARIEVEN_SECTIONS = [
    ("1. Pakketten binnen Nederland (p. 1)",),
    ("2. Pakketten naar Belgie (p. 1)",),
    ("3. Toeslagen (p. 2)",),
    ("4. Afmetingen en maximaal gewicht (p. 2)",),
]


@pytest.mark.parametrize("title", ["Tarieven en gewichten 2026", None], ids=["metadata-title", "no-metadata"])
def test_a_title_in_the_first_headings_type_is_not_part_of_that_heading(
    tmp_path: Path, title: str | None
) -> None:
    """reportlab's sample Title and Heading1 are both 18 pt, one line under the other: the title was
    read as the heading's first line ("Tarieven en gewichten 2026 1. Pakketten binnen Nederland")."""
    doc = load_pdf(tmp_path, "tarieven-2026.pdf", tarieven(title=title))
    assert doc.title == "Tarieven en gewichten 2026"
    assert [s.headings for s in doc.sections if s.text.strip()] == TARIEVEN_SECTIONS
    assert "Brievenbuspakje" in section_text(doc, "3. Toeslagen (p. 2)")
    assert "Tarieven" not in " ".join(s.text for s in doc.sections)


def font_headings(heading_lines: list[str], title: str = "") -> list[str]:
    """The headings ``_font_cuts`` reads in 18 pt bold lines set one under the other (22 pt
    apart: close enough to be one heading wrapped), over 10 pt body text."""
    lines = [Line(0, text, 18.0, True, 700.0 - 22 * n) for n, text in enumerate(heading_lines)]
    top = 700.0 - 22 * len(heading_lines)
    lines += [
        Line(0, "Parcels up to 2 kg cost EUR 3,95 and more.", 10.0, False, top - 12 * n) for n in range(8)
    ]
    return [cut.heading for cut in _font_cuts(lines, title)]


@pytest.mark.parametrize(
    ("lines", "title", "headings"),
    [
        (
            ["Tarieven 2026", "1. Pakketten binnen Nederland"],
            "Tarieven 2026",
            ["Tarieven 2026", "1. Pakketten binnen Nederland"],
        ),
        (
            ["Price list", "Parcels within the Netherlands"],
            "Price list",
            ["Price list", "Parcels within the Netherlands"],
        ),
        (["Terms", "2.1 Scope"], "", ["Terms", "2.1 Scope"]),
        (["Terms", "A.1 Scope"], "", ["Terms", "A.1 Scope"]),
        (
            ["What does a parcel cost?", "Within the Netherlands"],
            "",
            ["What does a parcel cost?", "Within the Netherlands"],
        ),
        (["Shipping abroad:", "Belgium and Luxembourg"], "", ["Shipping abroad:", "Belgium and Luxembourg"]),
        (
            ["Returns of bulky furniture, large household appliances and", "other items shipped by freight"],
            "",
            ["Returns of bulky furniture, large household appliances and other items shipped by freight"],
        ),
        (
            ["Returns accepted within", "14 days of delivery"],
            "",
            ["Returns accepted within 14 days of delivery"],
        ),
    ],
)
def test_a_heading_line_continues_the_one_above_only_when_it_wraps(
    lines: list[str], title: str, headings: list[str]
) -> None:
    assert font_headings(lines, title) == headings


def test_ingest_cites_each_pdf_section_with_its_own_page(
    tmp_path: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier
) -> None:
    """The whole price list fits one chunk of the default size: it was one chunk, cited
    "Tarieven en gewichten 2026 1. Pakketten binnen Nederland (p. 1)" for page 2's surcharges."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tarieven-2026.pdf").write_bytes(tarieven())
    settings = make_settings(tmp_path)
    store = EdgeStore(settings.qdrant.path, "kb")
    try:
        IngestPipeline(store, embedder, sparse, languages, settings).run([docs])
        active = store.active()
        assert active is not None
        chunks = [(c.section, c.text) for c in active.chunks("tarieven-2026.pdf")]
        hits = KnowledgeBase(store, embedder, sparse, languages).search("brievenbuspakje prijs", limit=1)
    finally:
        store.close()
    assert [section for section, _ in chunks] == [
        "1. Pakketten binnen Nederland (p. 1)",
        "3. Toeslagen (p. 2)",
    ]
    assert "Brievenbuspakje" not in chunks[0][1] and "EUR 4,75" not in chunks[1][1]
    [citation] = citations_for(hits)
    assert (citation.section, citation.title) == ("3. Toeslagen (p. 2)", "Tarieven en gewichten 2026")
    assert "Brievenbuspakje" in citation.quote and "Pakketten binnen Nederland" not in citation.quote


def test_ingest_cites_the_pdf_heading(
    tmp_path: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.pdf").write_bytes(returns_policy())
    settings = make_settings(tmp_path, tokens=96, overlap=16)  # about a section per chunk
    store = EdgeStore(settings.qdrant.path, "kb")
    try:
        IngestPipeline(store, embedder, sparse, languages, settings).run([docs])
        active = store.active()
        assert active is not None
        sections = [c.section for c in active.chunks("returns.pdf")]
        hits = KnowledgeBase(store, embedder, sparse, languages).search(
            "How long does a card refund take?", limit=1
        )
    finally:
        store.close()
    assert sections and all(not s.startswith("Page") for s in sections)
    [citation] = citations_for(hits)
    assert (citation.doc_id, citation.section) == ("returns.pdf", "Returns Policy › 3. Refunds (pp. 2–3)")


def test_calibration_probes_ask_for_the_heading_not_its_pages(tmp_path: Path) -> None:
    doc = load_pdf(tmp_path, "returns.pdf", returns_policy())
    rows = [
        {
            "doc_id": doc.doc_id,
            "title": doc.title,
            "headings": list(s.headings),
            "text": s.text,
            "language": "en",
        }
        for s in doc.sections
    ]
    headings = {p.text for p in answerable_probes(rows) if p.kind == "heading"}
    assert headings == {
        "Returns Policy",
        "1. Return window",
        "Reporting damage",
        "Replacement or refund",
        "3. Refunds",
        "4. Exchanges",
    }
    why = "Refunds reach your card within five business days of the return."
    untitled = [
        {
            "doc_id": "notice.pdf",
            "title": "Notice",
            "headings": ["Page 2"],
            "text": why,
            "language": "en",
        }
    ]
    # "Page 2" names no topic: only the sentence asks about the section
    assert [(p.kind, p.text) for p in answerable_probes(untitled)] == [("sentence", why)]


def _with_outline(data: bytes, entries: list[tuple[str, int, int | None]]) -> bytes:
    """``data`` with an outline written by pypdf: (title, 0-based page, index of the parent entry)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    items: list[Any] = []
    for title, page, parent in entries:
        items.append(
            writer.add_outline_item(
                title=title, page_number=page, parent=None if parent is None else items[parent]
            )
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
