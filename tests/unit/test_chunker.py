from __future__ import annotations

import itertools
import re

import pytest

from ingest.chunker import Chunker
from knowledge.embedder import Embedder
from knowledge.schema import Document, Section
from knowledge.settings import ChunkingSettings

SENTENCES = [
    f"Rule {i}: items bought in {month} can be returned within {30 + i} days if they are unused."
    for i, month in enumerate(["January", "February", "March", "April", "May", "June"] * 12)
]


def _doc(sections: list[Section], kind: str = "document", title: str = "Returns") -> Document:
    return Document(
        doc_id="returns.md",
        title=title,
        source="returns.md",
        sections=sections,
        kind=kind,  # type: ignore[arg-type]
        language="en",
    )


@pytest.mark.parametrize("tokens", [64, 128, 512])
def test_no_chunk_over_the_limit_and_every_sentence_covered(embedder: Embedder, tokens: int) -> None:
    doc = _doc(
        [
            Section(("Returns", "Window"), " ".join(SENTENCES[:40])),
            Section(("Returns", "Exceptions"), "\n".join(f"- {s}" for s in SENTENCES[40:60])),
            Section(("Returns", "Exceptions", "Hygiene"), " ".join(SENTENCES[60:])),
        ]
    )
    chunks = Chunker(embedder, ChunkingSettings(tokens=tokens, overlap=tokens // 8)).chunk(doc)
    assert chunks, "document produced no chunks"
    for chunk in chunks:
        assert embedder.count_tokens(chunk.embed_text) <= tokens
        assert chunk.token_count == embedder.count_tokens(chunk.embed_text)
        assert chunk.embed_text.startswith("Returns")  # context line with the title
    assert [c.index for c in chunks] == list(range(len(chunks)))
    joined = "\n".join(c.text for c in chunks)
    for sentence in SENTENCES:
        assert sentence in joined, f"lost: {sentence}"


def test_chunks_start_at_section_boundaries_and_carry_heading_paths(embedder: Embedder) -> None:
    doc = _doc(
        [
            Section(("Returns", "Window"), " ".join(SENTENCES[:30])),
            Section(("Returns", "Refunds"), " ".join(SENTENCES[30:60])),
        ]
    )
    chunks = Chunker(embedder, ChunkingSettings(tokens=256, overlap=32)).chunk(doc)
    headings = [c.headings for c in chunks]
    assert ("Returns", "Window") in headings and ("Returns", "Refunds") in headings
    first_refunds = next(c for c in chunks if c.headings == ("Returns", "Refunds"))
    assert not any(s in first_refunds.text for s in SENTENCES[:30])  # no overlap across sections
    assert "Returns › Refunds" in first_refunds.embed_text
    # a chunk that runs on into the next section names that section inline
    holder = next(c for c in chunks if SENTENCES[30] in c.text)
    assert holder.headings == ("Returns", "Refunds") or "**Refunds**" in holder.text


def test_overlap_repeats_whole_sentences_within_a_section(embedder: Embedder) -> None:
    doc = _doc([Section(("Returns",), " ".join(SENTENCES))])
    chunks = Chunker(embedder, ChunkingSettings(tokens=128, overlap=40)).chunk(doc)
    assert len(chunks) > 3
    for previous, current in itertools.pairwise(chunks):
        first_sentence = re.split(r"(?<=\.) ", current.text)[0]
        assert first_sentence in previous.text


@pytest.mark.parametrize("tokenizer", ["sentencepiece", "wordpiece"])
def test_oversized_sentence_is_cut_at_token_boundaries_without_loss(
    request: pytest.FixtureRequest, tokenizer: str
) -> None:
    # The default model's SentencePiece tokens carry their leading space ("▁w"); MiniLM's WordPiece
    # offsets leave it out. Both must be cut at word starts.
    fixture = "embedder" if tokenizer == "sentencepiece" else "minilm_embedder"
    embedder: Embedder = request.getfixturevalue(fixture)
    words = [f"w{i}" for i in range(400)]
    doc = _doc([Section((), " ".join(words))], title="")
    chunks = Chunker(embedder, ChunkingSettings(tokens=64, overlap=8)).chunk(doc)
    assert all(embedder.count_tokens(c.embed_text) <= 64 for c in chunks)
    seen = " ".join(c.text for c in chunks).split()
    assert [w for w in words if w not in seen] == []
    assert [w for w in seen if w not in words] == []  # no word cut in two


def test_faq_pair_stays_one_chunk(embedder: Embedder) -> None:
    text = "Q: How long does a refund take?\nA: Card refunds take 5–10 business days. PayPal 3–5 days."
    doc = _doc([Section((), text)], kind="faq", title="How long does a refund take?")
    chunks = Chunker(embedder, ChunkingSettings()).chunk(doc)
    assert len(chunks) == 1 and chunks[0].text == text


def test_table_rows_from_html_stay_lines(embedder: Embedder) -> None:
    """The HTML loader writes a table row as "a | b"; each row stays its own line in the chunk (a
    trial: "Tier | Preis Kater | 95 Euro Katze | 160 Euro …" reached the model as one line)."""
    table = "Tier | Preis\nKater | 95 Euro\nKatze | 160 Euro\nRüde | ab 280 Euro"
    doc = _doc([Section(("Kosten",), "Die Preise der Kastration:\n\n" + table)])
    (chunk,) = Chunker(embedder, ChunkingSettings()).chunk(doc)
    assert table in chunk.text, chunk.text


def test_chinese_text_is_split_into_sentences(embedder: Embedder) -> None:
    body = "".join(f"第{i}条：商品可在签收后三十天内退货，请保持包装完好。" for i in range(80))
    doc = Document(
        doc_id="zh.md", title="退货政策", source="zh.md", sections=[Section((), body)], language="zh"
    )
    chunks = Chunker(embedder, ChunkingSettings(tokens=128, overlap=16)).chunk(doc)
    assert len(chunks) > 2
    assert all(c.text.endswith("。") for c in chunks)
    assert all(embedder.count_tokens(c.embed_text) <= 128 for c in chunks)


def test_empty_document_has_no_chunks(embedder: Embedder) -> None:
    assert Chunker(embedder, ChunkingSettings()).chunk(_doc([Section((), "  ")])) == []


def test_a_pdf_sections_pages_stay_out_of_the_text(embedder: Embedder) -> None:
    """Short PDF sections share a chunk: the next one's heading is written inline by its name; its
    pages are the citation's ("Face grouping (p. 2)"), not text a customer reads in a quote."""
    doc = _doc(
        [
            Section((), "What this notice covers."),
            Section(("What data we keep (p. 2)",), SENTENCES[0]),
            Section(("Face grouping (p. 2)",), SENTENCES[1]),
        ]
    )
    (chunk,) = Chunker(embedder, ChunkingSettings(tokens=256, overlap=32)).chunk(doc)
    assert "**What data we keep**" in chunk.text and "**Face grouping**" in chunk.text
    assert "(p. 2)" not in chunk.text


def test_a_chunk_does_not_run_on_into_a_pdf_section_of_other_pages(embedder: Embedder) -> None:
    """A chunk is cited by its first section's heading and pages: the sections of page 2 start a
    chunk of their own (a trial cited page 2's surcharges as "Pakketten binnen Nederland (p. 1)"),
    short sections of one page still share one, and so do pages' sections with the text under
    the title alone, which names no page."""
    doc = _doc(
        [
            Section((), "What this price list covers."),
            Section(("1. Within the Netherlands (p. 1)",), SENTENCES[0]),
            Section(("2. To Belgium (p. 1)",), SENTENCES[1]),
            Section(("3. Surcharges (p. 2)",), SENTENCES[2]),
            Section(("4. Sizes (p. 2)",), "Max 23 kg."),  # a tiny last piece stays on its page
            Section(("5. Claims (pp. 2–3)",), SENTENCES[3]),
        ]
    )
    chunks = Chunker(embedder, ChunkingSettings(tokens=512, overlap=32)).chunk(doc)
    assert [(c.headings, re.findall(r"\*\*(.+?)\*\*", c.text)) for c in chunks] == [
        ((), ["1. Within the Netherlands", "2. To Belgium"]),
        (("3. Surcharges (p. 2)",), ["3. Surcharges", "4. Sizes"]),
        (("5. Claims (pp. 2–3)",), ["5. Claims"]),
    ]
    assert SENTENCES[2] not in chunks[0].text and SENTENCES[1] not in chunks[1].text


def test_pages_of_a_pdf_without_headings_are_chunks_of_their_own(embedder: Embedder) -> None:
    doc = _doc([Section(("Page 1",), SENTENCES[0]), Section(("Page 2",), SENTENCES[1])])
    chunks = Chunker(embedder, ChunkingSettings(tokens=512, overlap=32)).chunk(doc)
    assert [(c.headings, c.text) for c in chunks] == [
        (("Page 1",), SENTENCES[0]),
        (("Page 2",), SENTENCES[1]),
    ]
