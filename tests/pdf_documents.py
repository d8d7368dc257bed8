"""Real PDFs drawn with reportlab, laid out like a company's policy documents: headings in larger or
bold type, wrapped body paragraphs, an optional outline (bookmarks) and a running footer; and one
laid out by reportlab's own templates and sample styles (``tarieven``)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table

# style: (font, size, outline level or None)
STYLES: dict[str, tuple[str, float, int | None]] = {
    "h1": ("Helvetica-Bold", 18, 0),
    "h2": ("Helvetica-Bold", 14, 1),
    "h3": ("Helvetica-Bold", 10, 2),  # bold at body size
    "body": ("Helvetica", 10, None),
}
LEFT, TOP, BOTTOM, WIDTH = 72.0, 770.0, 72.0, 450.0


@dataclass(frozen=True)
class Block:
    style: str
    text: str


def h1(text: str) -> Block:
    return Block("h1", text)


def h2(text: str) -> Block:
    return Block("h2", text)


def h3(text: str) -> Block:
    return Block("h3", text)


def body(text: str) -> Block:
    return Block("body", text)


def policy_pdf(
    pages: list[list[Block]],
    *,
    title: str | None = None,
    header: str | None = None,
    footer: str | None = None,
    outline: bool = False,
    plain: bool = False,
    first_page: int = 1,
) -> bytes:
    """One list of blocks per page; ``header`` and ``footer`` may hold ``{page}`` (counted from
    ``first_page``) and ``{pages}``. ``plain`` sets headings in the body's type (only an outline can
    then tell them)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    if title:
        pdf.setTitle(title)
    marks = 0
    for number, blocks in enumerate(pages, start=1):
        if header:
            pdf.setFont("Helvetica", 8)
            pdf.drawString(LEFT, 810, header.format(page=number + first_page - 1, pages=len(pages)))
        y: float = TOP
        for block in blocks:
            font, size, level = STYLES[block.style]
            if plain:
                font, size = STYLES["body"][:2]
            if block.style != "body":
                y -= size * 0.8
            if outline and level is not None:
                key = f"h{marks}"
                marks += 1
                pdf.bookmarkHorizontal(key, 0, y + size)
                pdf.addOutlineEntry(block.text, key, level=level)
            pdf.setFont(font, size)
            for line in simpleSplit(block.text, font, size, WIDTH):
                pdf.drawString(LEFT, y, line)
                y -= size * 1.3
            y -= size * 0.6
            assert y > BOTTOM, "too much text for one page"
        if footer:
            pdf.setFont("Helvetica", 8)
            pdf.drawString(LEFT, 40, footer.format(page=number + first_page - 1, pages=len(pages)))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def returns_policy(*, outline: bool = False, plain: bool = False) -> bytes:
    """An English returns policy over three pages, a section running from page 2 onto page 3."""
    return policy_pdf(
        [
            [
                h1("Returns Policy"),
                body("This policy applies to all orders placed in the Northwind online shop."),
                h2("1. Return window"),
                body(
                    "You can return most items within 30 days of delivery. The item must be unused and in "
                    "its original packaging. Sale items can be returned within 14 days."
                ),
                h2("2. Damaged items"),
                h3("Reporting damage"),
                body(
                    "Report damaged items within 48 hours of delivery with a photo of the damage and of "
                    "the parcel. We send a prepaid return label by email."
                ),
                h3("Replacement or refund"),
                body("You choose between a replacement and a full refund, shipping included."),
            ],
            [
                h2("3. Refunds"),
                body(
                    "Refunds are issued to the original payment method within 5 business days of the "
                    "return reaching our warehouse. Card refunds can take another 3 to 5 days to appear "
                    "on your statement, depending on your bank."
                ),
                body(
                    "Gift cards are refunded as store credit. Payments by invoice are cancelled or "
                    "refunded by bank transfer to the account you name."
                ),
            ],
            [
                body(
                    "If part of an order is returned, shipping costs are refunded only when the whole "
                    "order is returned. Promotional discounts are deducted proportionally."
                ),
                h2("4. Exchanges"),
                body("Exchanges for another size or colour are free of charge within the return window."),
            ],
        ],
        title="Northwind Returns Policy",
        footer="Northwind Trading Ltd · Returns Policy · Page {page} of {pages}",
        outline=outline,
        plain=plain,
    )


def versandbedingungen() -> bytes:
    """A German shipping policy without an outline: headings by size and bold, a running header and footer."""
    return policy_pdf(
        [
            [
                h1("Versand und Lieferung"),
                h2("Lieferzeiten"),
                body(
                    "Bestellungen, die werktags bis 14 Uhr eingehen, verlassen unser Lager am selben Tag. "
                    "Die Lieferzeit innerhalb Deutschlands beträgt 1 bis 3 Werktage."
                ),
                h2("Versandkosten"),
                h3("Deutschland"),
                body("Der Versand kostet 4,90 Euro. Ab einem Bestellwert von 50 Euro ist er kostenlos."),
                h3("Österreich und Schweiz"),
                body("In die Nachbarländer kostet der Versand 9,90 Euro, unabhängig vom Bestellwert."),
            ],
            [
                h2("Sendungsverfolgung"),
                body(
                    "Sobald Ihr Paket unterwegs ist, erhalten Sie eine E-Mail mit der Sendungsnummer. "
                    "Damit können Sie die Lieferung beim Paketdienst verfolgen."
                ),
                h2("Nicht zugestellte Pakete"),
                body(
                    "Kann ein Paket nicht zugestellt werden, wird es in einer Filiale hinterlegt und "
                    "sieben Tage aufbewahrt. Danach geht es an uns zurück, und wir erstatten den Kaufpreis."
                ),
            ],
        ],
        header="Nordwind Handel GmbH",
        footer="Seite {page} von {pages}",
    )


def privacy_notice() -> bytes:
    """A notice with no structure at all: one size, one weight (the per-page fallback)."""
    return policy_pdf(
        [
            [
                body("Privacy notice for customers of Northwind Trading Ltd."),
                body(
                    "We store your name, address and order history to deliver your orders. Payment data "
                    "is processed by our payment provider and never stored by us."
                ),
            ],
            [
                body(
                    "You can ask for a copy of your data or for its deletion at any time by writing to "
                    "our data protection officer. We answer within one month."
                ),
            ],
        ],
        footer="{page}",
    )


def tarieven(*, title: str | None = "Tarieven en gewichten 2026") -> bytes:
    """A Benelux parcel company's price list as a new user's trial made it: reportlab's own layout
    (``SimpleDocTemplate``, the sample ``Title`` and ``Heading1`` styles, both 18 pt, set one under
    the other), price tables, and sections 3 and 4 on page 2. ``title`` None: no metadata title."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, **({"title": title} if title else {}))
    document.build(
        [
            Paragraph("Tarieven en gewichten 2026", styles["Title"]),
            Paragraph("1. Pakketten binnen Nederland", styles["Heading1"]),
            Paragraph(
                "De prijs hangt af van het gewicht en de afmetingen. Alle prijzen zijn inclusief 21% btw.",
                styles["BodyText"],
            ),
            Table(
                [
                    ["Gewicht", "Locker naar locker", "Aan huis"],
                    ["0-2 kg", "EUR 3,95", "EUR 4,75"],
                    ["2-10 kg", "EUR 5,95", "EUR 6,95"],
                    ["10-23 kg", "EUR 11,50", "EUR 13,25"],
                ]
            ),
            Paragraph("2. Pakketten naar Belgie", styles["Heading1"]),
            Table(
                [
                    ["Gewicht", "Locker naar locker", "Aan huis"],
                    ["0-2 kg", "EUR 5,50", "EUR 6,50"],
                    ["2-10 kg", "EUR 8,95", "EUR 9,95"],
                    ["10-23 kg", "EUR 14,90", "EUR 16,40"],
                ]
            ),
            PageBreak(),
            Paragraph("3. Toeslagen", styles["Heading1"]),
            Paragraph(
                "Brievenbuspakje (max. 38 x 26,5 x 3,2 cm, 2 kg): EUR 3,25. Avondbezorging: EUR 1,95. "
                "Zondagbezorging: EUR 3,50. Verzekerd verzenden: EUR 2,50; Verzekerd Plus: EUR 8,00. "
                "Handtekening bij aflevering: EUR 0,95.",
                styles["BodyText"],
            ),
            Paragraph("4. Afmetingen en maximaal gewicht", styles["Heading1"]),
            Paragraph(
                "Maximaal 23 kg en 100 x 50 x 50 cm. Voor een locker geldt maximaal 60 x 40 x 40 cm. "
                "Pakketten die te zwaar of te groot blijken, worden teruggestuurd; de afzender betaalt dan "
                "EUR 10 administratiekosten.",
                styles["BodyText"],
            ),
        ]
    )
    return buffer.getvalue()
