"""Prices are stored and quoted as written: the Swiss "CHF 20.–" (a trial: sentencex cut it after
"20." and the chunker joined "CHF 20. –"), "Fr. 1'350.–", the German "€ 12,–" and "12,- €", and
"$1,000.00", in every loader's documents, through the real pipeline into the real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunker import Chunker
from ingest.pipeline import IngestPipeline
from knowledge.embedder import Embedder
from knowledge.language import LanguageIdentifier
from knowledge.schema import Document, Section
from knowledge.sentences import segments
from knowledge.settings import ChunkingSettings
from knowledge.sparse import SparseEncoder
from knowledge.store.edge import EdgeStore
from service.answers.quotable import quotable_units
from tests.conftest import make_settings
from tests.pdf_documents import body, h1, policy_pdf

PRICES = ["CHF 20.–.", "CHF 90.– pro", "CHF 270.–.", "CHF 120.–.", "Fr. 1'350.– inklusive", "€ 12,– pro"]
PRICES += ["12,- € bar", "$1,000.00 net", "CHF 45.– par seringue"]
TEXT = (
    "Nach Ablauf der Frist senden wir eine zweite Mahnung mit einer Gebühr von CHF 20.–. Die "
    "Ausfallgebühr beträgt CHF 90.– pro halbe Stunde, höchstens CHF 270.–. Für Dentalhygiene "
    "pauschal CHF 120.–. Eine Krone kostet Fr. 1'350.– inklusive Labor. Der Versand kostet € 12,– pro "
    "Paket. Im Laden zahlen Sie 12,- € bar. The list price is $1,000.00 net. Recharges de gel : "
    "CHF 45.– par seringue. Wir akzeptieren Überweisung und TWINT."
)


def _write_documents(root: Path) -> None:
    root.mkdir()
    (root / "preise.md").write_text(f"---\nlanguage: de\n---\n# Preise\n\n## Mahnung\n\n{TEXT}\n")
    (root / "tarife.html").write_text(
        f'<html lang="de"><head><title>Tarife</title></head><body><main><h1>Tarife</h1><p>{TEXT}</p>'
        "</main></body></html>"
    )
    (root / "notiz.txt").write_text(TEXT + "\n")
    (root / "faq.csv").write_text(f'question,answer\nWas kostet eine Mahnung?,"{TEXT}"\n')
    (root / "tarife.pdf").write_bytes(policy_pdf([[h1("Tarife"), body(TEXT)]], title="Tarife"))


def test_every_loader_stores_prices_as_written(
    tmp_path: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier
) -> None:
    _write_documents(tmp_path / "docs")
    settings = make_settings(tmp_path)
    store = EdgeStore(settings.qdrant.path, "kb")
    try:
        report = IngestPipeline(store, embedder, sparse, languages, settings).run([tmp_path / "docs"])
        assert report.skipped == [] and report.documents == 5
        collection = store.active()
        assert collection is not None
        for doc_id in collection.document_states():
            text = " ".join(c.text for c in collection.chunks(doc_id))
            for price in PRICES:
                assert price in text, f"{doc_id}: {price!r} not as written in {text!r}"
            assert ". –" not in text and ", –" not in text
    finally:
        store.close()


def test_quotes_keep_prices_as_written() -> None:
    quoted = " ".join(sentence for sentence, _ in quotable_units(TEXT, "de"))
    for price in PRICES:
        assert price in quoted
    assert "Recharges de gel : CHF 45.– par seringue." in [s for s, _ in quotable_units(TEXT, "fr")]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("de", "Gebühr CHF 20.–. Wir akzeptieren TWINT.", ["Gebühr CHF 20.–. ", "Wir akzeptieren TWINT."]),
        ("it", "Costa CHF 120.– e viene dedotta. Grazie.", ["Costa CHF 120.– e viene dedotta. ", "Grazie."]),
        ("zh", "我们周六开门。周日关门。", ["我们周六开门。", "周日关门。"]),  # no spaces: still cut
    ],
)
def test_sentences_are_not_cut_inside_a_word(language: str, text: str, expected: list[str]) -> None:
    assert segments(language, text) == expected


def test_chunks_keep_the_text_between_sentences(embedder: Embedder) -> None:
    chinese = "我们的诊所周六上午开门。周日和节假日关门。急诊请拨打电话。"
    doc = Document(
        doc_id="zh.md",
        title="营业时间",
        source="zh.md",
        sections=[Section(("营业时间",), chinese), Section(("Preise",), TEXT)],
        language="zh",
    )
    chunks = Chunker(embedder, ChunkingSettings(tokens=512, overlap=32)).chunk(doc)
    joined = "\n".join(c.text for c in chunks)
    assert chinese in joined  # no space put between Chinese sentences
    assert all(price in joined for price in PRICES)
