"""Small real corpora written to disk for ingest tests, including broken files."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.pipeline import IngestPipeline
from knowledge.search import KnowledgeBase
from knowledge.settings import Settings

POLICIES = {
    "returns.md": """---
title: Returns policy
tags: [returns, policy]
effective_date: 2026-03-01
version: "2.1"
---
# Returns policy

## Return window

You can return most items within 30 days of delivery. Start a return in the returns portal.

## Exceptions

- Hygiene items such as earbuds cannot be returned once opened.
- Custom engraved products are final sale.
""",
    "shipping.md": """# Shipping

## Delivery times

Standard delivery in Germany takes 1–3 business days. Express delivery arrives the next business day.

## Lost parcels

If tracking shows no movement for 7 days, contact us and we open an investigation with the carrier.
""",
    "es/devoluciones.md": """# Política de devoluciones

Puede devolver la mayoría de los artículos en un plazo de 30 días desde la entrega. Inicie la
devolución en el portal de devoluciones y lleve el paquete al transportista en 14 días.
""",
    "kettle.txt": """Kettle safety notice
The kettle NW-KTL-110 from batches K2505 to K2512 is recalled. Stop using it and ask for a free
replacement NW-KTL-111 or a full refund.
""",
}

FAQ_ROWS = [
    (
        "How long does a refund take?",
        "Card refunds take 5–10 business days after we receive the return.",
        "refunds",
    ),
    (
        "Can I change my delivery address?",
        "Yes, until the order is dispatched, from your account page.",
        "orders",
    ),
    (
        "¿Puedo pagar a plazos?",
        "Sí, con Klarna en 3 plazos sin intereses para pedidos desde 100 EUR.",
        "payments",
    ),
]


def write_corpus(root: Path) -> Path:
    for rel, text in POLICIES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    with open(root / "faq.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "answer", "tags"])
        writer.writerows(FAQ_ROWS)
    return root


def write_broken_files(root: Path) -> dict[str, str]:
    """Broken inputs next to good ones; returns file name → expected words in the skip reason."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(1, 200)) * 20)
    (root / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    (root / "empty.md").write_text("", encoding="utf-8")
    (root / "huge.md").write_text("# Big\n\n" + "word " * 300_000, encoding="utf-8")
    (root / "latin.txt").write_bytes(bytes(range(0x80, 0x100)) * 40)
    (root / "notes.docx").write_bytes(b"PK\x03\x04")
    return {
        "corrupt.pdf": "PDF",
        "binary.txt": "binary",
        "empty.md": "empty",
        "huge.md": "MB",
        "latin.txt": "",
        "notes.docx": "unsupported",
    }


@contextmanager
def corpus_kb(settings: Settings, folder: Path) -> Iterator[KnowledgeBase]:
    """A knowledge base with the corpus (``write_corpus``) ingested, closed afterwards."""
    corpus = write_corpus(folder / "docs")
    base = KnowledgeBase.open(settings)
    try:
        IngestPipeline(base.store, base.embedder, base.sparse, base.require_languages(), settings).run(
            [corpus]
        )
        yield base
    finally:
        base.store.close()
