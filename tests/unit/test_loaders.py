"""Loaders: real files in tmp_path for every format, the metadata they carry and every skip reason."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from ingest.loaders import Skipped, SourceFile, discover, load
from ingest.loaders.faq import question_hash
from knowledge.errors import InputError
from knowledge.schema import Document
from knowledge.settings import IngestSettings

POLICIES = Path(__file__).resolve().parents[2] / "data" / "policies"


@pytest.fixture
def settings() -> IngestSettings:
    return IngestSettings(max_file_mb=20.0)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def load_file(tmp_path: Path, name: str, content: str | bytes, settings: IngestSettings) -> list[Document]:
    return load(SourceFile(write(tmp_path / name, content), tmp_path), settings)


def load_one(tmp_path: Path, name: str, content: str | bytes, settings: IngestSettings) -> Document:
    docs = load_file(tmp_path, name, content, settings)
    assert len(docs) == 1
    return docs[0]


def skip_reason(tmp_path: Path, name: str, content: str | bytes, settings: IngestSettings) -> str:
    with pytest.raises(InputError) as caught:
        load_file(tmp_path, name, content, settings)
    return caught.value.message


def pdf_bytes(pages: list[list[str]], *, title: str | None = None, encrypt: str | None = None) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        for i, line in enumerate(lines):
            pdf.drawString(72, 720 - 18 * i, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def random_text_bytes(size: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(1, 256) for _ in range(size))


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_front_matter_metadata(tmp_path: Path, settings: IngestSettings) -> None:
    doc = load_one(
        tmp_path,
        "en/returns.md",
        "---\n"
        "title: Returns Policy\n"
        "lang: en-US\n"
        "tags:\n  - returns\n  - refunds\n"
        "effective_date: 2026-03-01\n"
        "version: 3.2\n"
        "id: returns\n"
        "owner: support-team\n"
        "draft: false\n"
        "reviewers: [ana, ben]\n"
        "---\n\n"
        "# Returns\n\nYou can return items within 30 days.\n",
        settings,
    )
    assert doc.doc_id == "en/returns.md"
    assert doc.source == "en/returns.md"
    assert doc.title == "Returns Policy"
    assert doc.kind == "document"
    assert doc.language == "en"
    assert doc.tags == ("returns", "refunds")
    assert doc.effective_date == "2026-03-01"
    assert doc.version == "3.2"
    assert doc.extra == {"id": "returns", "owner": "support-team", "draft": False}
    assert [s.headings for s in doc.sections] == [("Returns",)]


def test_markdown_metadata_aliases(tmp_path: Path, settings: IngestSettings) -> None:
    doc = load_one(
        tmp_path,
        "faq.markdown",
        "---\nlanguage: DE\ntags: a, b ,c\nlast_updated: '2025-12-24T10:00:00Z'\n"
        "url: https://help.example/faq\n---\nText only.\n",
        settings,
    )
    assert doc.language == "de"
    assert doc.tags == ("a", "b", "c")
    assert doc.effective_date == "2025-12-24"
    assert doc.source == "https://help.example/faq"
    assert doc.title == "faq"  # no title key and no h1: the file stem
    assert doc.extra == {}


def test_markdown_heading_paths(tmp_path: Path, settings: IngestSettings) -> None:
    body = (
        "Intro before any heading.\n\n"
        "# Shipping\n\nWe ship from Leipzig.\n\n"
        "## Zones\n\n| Zone | Days |\n|---|---|\n| EU | 2-4 |\n\n"
        "### Islands\n\nExtra day for islands.\n\n"
        "```bash\n# not a heading\necho hi\n```\n\n"
        "## Costs\n\n- Standard: €4.95\n- Express: €9.95\n\n"
        "## Empty heading\n\n"
        "Tracking\n--------\n\nEmail with {{ site.tracking_url }} a link.{% if x %} Done.{% endif %}\n"
    )
    doc = load_one(tmp_path, "shipping.md", body, settings)
    assert doc.title == "Shipping"  # the first h1
    paths = [s.headings for s in doc.sections]
    assert paths == [
        (),
        ("Shipping",),
        ("Shipping", "Zones"),
        ("Shipping", "Zones", "Islands"),
        ("Shipping", "Costs"),
        ("Shipping", "Tracking"),
    ]
    sections = dict(zip(paths, (s.text for s in doc.sections), strict=True))
    assert sections[()] == "Intro before any heading."
    assert sections[("Shipping", "Zones")] == "| Zone | Days |\n|---|---|\n| EU | 2-4 |"
    assert "# not a heading" in sections[("Shipping", "Zones", "Islands")]
    assert sections[("Shipping", "Costs")] == "- Standard: €4.95\n- Express: €9.95"
    assert sections[("Shipping", "Tracking")] == "Email with a link. Done."


def test_markdown_invalid_front_matter_is_body(tmp_path: Path, settings: IngestSettings) -> None:
    doc = load_one(tmp_path, "broken.md", "---\ntitle: [unclosed\n---\n\nStill readable text.\n", settings)
    assert "Still readable text." in doc.text
    assert doc.tags == ()
    assert doc.title  # never empty


# --- HTML ---------------------------------------------------------------------------------------


HTML_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
  <title>Gift Cards | Help Centre</title>
  <meta name="keywords" content="gift cards, balance">
  <meta name="effective_date" content="2026-03-01">
  <meta name="version" content="2.1">
  <style>body { color: red }</style>
  <script>var tracking = "do not index";</script>
</head>
<body>
  <header>Site banner</header>
  <nav><a href="/">Home</a> <a href="/help">Help</a></nav>
  <main>
    <h1>Gift Cards</h1>
    <p>A gift card   lets the recipient
       choose <strong>anything</strong>.</p>
    <h2>Types</h2>
    <ul>
      <li>Digital: sent by email.</li>
      <li>Physical: printed card<ul><li>EU and UK only</li></ul></li>
    </ul>
    <h3>Values</h3>
    <table><tr><th>Currency</th><th>Range</th></tr><tr><td>EUR</td><td>10–500</td></tr></table>
    <h2>Validity</h2>
    <div>Valid for three years.<br>Balance expires after that.</div>
    <!-- an editor comment -->
    <noscript>Enable JavaScript</noscript>
  </main>
  <footer>© Northwind</footer>
</body>
</html>
"""


def test_html_sections_and_metadata(tmp_path: Path, settings: IngestSettings) -> None:
    doc = load_one(tmp_path, "gift-cards.html", HTML_PAGE, settings)
    assert doc.title == "Gift Cards | Help Centre"
    assert doc.language == "en"
    assert doc.tags == ("gift cards", "balance")
    assert doc.effective_date == "2026-03-01"
    assert doc.version == "2.1"
    sections = {s.headings: s.text for s in doc.sections}
    assert list(sections) == [
        ("Gift Cards",),
        ("Gift Cards", "Types"),
        ("Gift Cards", "Types", "Values"),
        ("Gift Cards", "Validity"),
    ]
    assert sections[("Gift Cards",)] == "A gift card lets the recipient choose anything."
    assert sections[("Gift Cards", "Types")] == (
        "- Digital: sent by email.\n- Physical: printed card\n  - EU and UK only"
    )
    assert sections[("Gift Cards", "Types", "Values")] == "Currency | Range\nEUR | 10–500"
    assert sections[("Gift Cards", "Validity")] == "Valid for three years.\nBalance expires after that."
    for noise in ("banner", "Home", "tracking", "color", "editor comment", "JavaScript", "Northwind"):
        assert noise not in doc.text


def test_html_title_falls_back_to_h1(tmp_path: Path, settings: IngestSettings) -> None:
    doc = load_one(
        tmp_path, "page.htm", "<html><body><h1>Store Hours</h1><p>Open daily.</p></body></html>", settings
    )
    assert doc.title == "Store Hours"
    assert doc.language is None
    assert doc.sections[0].headings == ("Store Hours",)


# --- Plain text ---------------------------------------------------------------------------------


def test_text_title_and_paragraphs(tmp_path: Path, settings: IngestSettings) -> None:
    raw = b"STORE HOURS\r\nEffective 2026-03-01\r\n\r\n\r\n\r\nMonday to Friday   \r\n09:00-18:00\r\n"
    doc = load_one(tmp_path, "store-hours.txt", raw, settings)
    assert doc.title == "STORE HOURS"
    assert doc.language is None
    assert len(doc.sections) == 1
    assert doc.sections[0].headings == ()
    assert doc.sections[0].text == "STORE HOURS\nEffective 2026-03-01\n\nMonday to Friday\n09:00-18:00"


def test_text_long_first_line_uses_stem(tmp_path: Path, settings: IngestSettings) -> None:
    doc = load_one(tmp_path, "notes.txt", "word " * 40 + "\n\nsecond paragraph", settings)
    assert doc.title == "notes"


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_pages_and_title(tmp_path: Path, settings: IngestSettings) -> None:
    pages = [[f"Warranty page {n}", f"Claims are handled within {n} days."] for n in (1, 2, 3)]
    doc = load_one(tmp_path, "manuals/warranty.pdf", pdf_bytes(pages, title="Warranty Terms"), settings)
    assert doc.doc_id == "manuals/warranty.pdf"
    assert doc.title == "Warranty Terms"
    assert [s.headings for s in doc.sections] == [("Page 1",), ("Page 2",), ("Page 3",)]
    assert "Claims are handled within 2 days." in doc.sections[1].text


def test_pdf_title_from_first_line_and_blank_page_skipped(tmp_path: Path, settings: IngestSettings) -> None:
    doc = load_one(tmp_path, "notice.pdf", pdf_bytes([["Recall Notice", "Kettle NW-KTL-110"], []]), settings)
    assert doc.title == "Recall Notice"  # reportlab's default "untitled" is not a title
    assert [s.headings for s in doc.sections] == [("Page 1",)]


def test_pdf_corrupt(tmp_path: Path, settings: IngestSettings) -> None:
    garbage = b"%PDF-1.4\n" + random_text_bytes(4000)
    assert skip_reason(tmp_path, "garbage.pdf", garbage, settings).startswith("corrupt PDF: ")
    real = pdf_bytes([["Page one text"], ["Page two text"]])
    truncated = real[: len(real) // 2]
    assert skip_reason(tmp_path, "truncated.pdf", truncated, settings).startswith("corrupt PDF: ")
    assert skip_reason(tmp_path, "fake.pdf", "just text\n", settings) == "corrupt PDF: no %PDF header"


def test_pdf_encrypted(tmp_path: Path, settings: IngestSettings) -> None:
    data = pdf_bytes([["Top secret"]], encrypt="secret")
    assert skip_reason(tmp_path, "locked.pdf", data, settings) == "encrypted PDF"


def test_pdf_without_text(tmp_path: Path, settings: IngestSettings) -> None:
    reason = skip_reason(tmp_path, "scan.pdf", pdf_bytes([[], []]), settings)
    assert reason == "PDF has no extractable text (scanned?)"


# --- FAQ tables ---------------------------------------------------------------------------------


def test_faq_csv(tmp_path: Path, settings: IngestSettings) -> None:
    csv_text = (
        "\ufeffID,Question,Answer,Tags,Lang,Category\r\n"
        'r1,"Can I return sale items, too?","Yes, within 30 days.\nKeep the receipt.",'
        "returns|sale,en-GB,policy\r\n"
        ',How long do refunds take?,5-10 business days.,"refunds, timing",,\r\n'
        "r3,Question without answer,,,,\r\n"
        ",,Answer without question,,,\r\n"
    )
    docs = load_file(tmp_path, "faq/faq.csv", csv_text, settings)
    assert len(docs) == 2
    first, second = docs
    assert first.doc_id == "faq/faq.csv#r1"
    assert first.kind == "faq"
    assert first.title == "Can I return sale items, too?"
    assert first.source == "faq/faq.csv"
    assert first.sections[0].headings == ()
    assert (
        first.sections[0].text
        == "Q: Can I return sale items, too?\nA: Yes, within 30 days.\nKeep the receipt."
    )
    assert first.tags == ("returns", "sale")
    assert first.language == "en"
    assert first.extra == {"category": "policy"}
    assert second.doc_id == f"faq/faq.csv#{question_hash('How long do refunds take?')}"
    assert len(second.doc_id.rsplit("#", 1)[1]) == 12
    assert second.tags == ("refunds", "timing")
    assert second.language is None


def test_faq_csv_semicolon_and_aliases(tmp_path: Path, settings: IngestSettings) -> None:
    csv_text = 'q;a;url\n"Do you ship to Norway; Iceland?";"Yes; duties apply.";https://help.example/ship\n'
    doc = load_one(tmp_path, "faq.csv", csv_text, settings)
    assert doc.sections[0].text == "Q: Do you ship to Norway; Iceland?\nA: Yes; duties apply."
    assert doc.source == "https://help.example/ship"


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("Frage;Antwort", "Kann ich bar zahlen?;Ja, im Studio."),
        ("pregunta,respuesta", "¿Puedo pagar en efectivo?,Sí. En el estudio."),
        ("Pytanie;Odpowiedź", "Czy mogę zapłacić gotówką?;Tak, w pracowni."),
        ("问题,答案", "可以用现金付款吗？,可以，在店内。"),
    ],
)
def test_faq_csv_headers_in_the_customers_language(
    tmp_path: Path, settings: IngestSettings, header: str, row: str
) -> None:
    """A helpdesk export keeps its language's column names (a German Excel writes "Frage;Antwort")."""
    doc = load_one(tmp_path, "faq.csv", f"\ufeff{header}\n{row}\n", settings)
    question, answer = row.split(";" if ";" in header else ",", 1)
    assert doc.sections[0].text == f"Q: {question}\nA: {answer}"


def test_faq_csv_failures(tmp_path: Path, settings: IngestSettings) -> None:
    reason = skip_reason(tmp_path, "bad.csv", "title,body\nx,y\n", settings)
    assert "question" in reason
    assert "found: title, body" in reason
    assert skip_reason(tmp_path, "rows.csv", "question,answer\n,\nonly question,\n", settings) == (
        "no question/answer rows"
    )


def test_faq_csv_a_delimiter_not_quoted_in_the_answer(
    tmp_path: Path, settings: IngestSettings, caplog: pytest.LogCaptureFixture
) -> None:
    """A trial's row "ゴールド会員になるには？,過去12か月のご購入金額が50,000円以上…" was ingested as
    "…50" and quoted so: the answer is the last column, so the extra fields are its own; the
    ingest says which line to fix."""
    csv_text = (
        "question,answer\n"
        "ゴールド会員になるには？,過去12か月のご購入金額が50,000円以上のお客様が対象です。\n"
        "Shipping to Japan?,Free over 5,000 yen, else 800 yen.\n"
        "Trailing commas?,Ignored.,,\n"
    )
    with caplog.at_level("WARNING"):
        docs = load_file(tmp_path, "faq.csv", csv_text, settings)
    answers = [d.sections[0].text.split("\nA: ", 1)[1] for d in docs]
    assert answers == [
        "過去12か月のご購入金額が50,000円以上のお客様が対象です。",
        "Free over 5,000 yen, else 800 yen.",
        "Ignored.",
    ]
    assert "faq.csv line 2 has 3 fields for 2 columns" in caplog.text
    assert "faq.csv line 3 has 4 fields for 2 columns" in caplog.text and "line 4" not in caplog.text


def test_faq_csv_a_delimiter_not_quoted_before_the_last_column_refuses_the_file(
    tmp_path: Path, settings: IngestSettings
) -> None:
    """Which value the extra field belongs to cannot be told: the file is skipped, naming the line."""
    csv_text = "question,answer,tags\nOk?,Yes.,a\nPrice?,5,000 yen,prices\n"
    reason = skip_reason(tmp_path, "faq.csv", csv_text, settings)
    assert reason.startswith("line 3 has 4 fields for 3 columns") and "double quotes" in reason


def test_faq_jsonl(tmp_path: Path, settings: IngestSettings) -> None:
    lines = [
        '{"id": 7, "question": "Is gift wrap available?", "answer": "Yes, for €3.", "tags": ["gifts"]}',
        '{"question": "broken line", "answer": ',
        "",
        '{"Q": "Do you price match?", "A": "Within 14 days.", "language": "fr", "version": 2}',
        '["not", "an", "object"]',
        '{"question": "no answer"}',
    ]
    docs = load_file(tmp_path, "faq.jsonl", "\n".join(lines) + "\n", settings)
    assert [d.doc_id for d in docs] == [
        "faq.jsonl#7",
        f"faq.jsonl#{question_hash('Do you price match?')}",
    ]
    assert docs[0].tags == ("gifts",)
    assert docs[1].language == "fr"
    assert docs[1].version == "2"
    assert all(d.kind == "faq" for d in docs)


def test_faq_jsonl_all_bad(tmp_path: Path, settings: IngestSettings) -> None:
    assert skip_reason(tmp_path, "bad.jsonl", "{oops\nnot json\n", settings) == "no valid JSON lines"


# --- Decoding and shared checks -----------------------------------------------------------------


def test_utf16_with_bom(tmp_path: Path, settings: IngestSettings) -> None:
    raw = "# Rückgabe\n\nÜber 30 Tage – café.\n".encode("utf-16")  # BOM + NUL-rich bytes
    doc = load_one(tmp_path, "de.md", raw, settings)
    assert doc.title == "Rückgabe"
    assert doc.sections[0].text == "Über 30 Tage – café."


def test_cp1252_text(tmp_path: Path, settings: IngestSettings) -> None:
    sentence = "Rückgabe über 30 Tage – café"
    doc = load_one(
        tmp_path,
        "legacy.txt",
        f"{sentence}\n\n{sentence}. Wir erstatten den Preis.\n".encode("cp1252"),
        settings,
    )
    assert doc.title == sentence
    assert f"{sentence}. Wir erstatten den Preis." in doc.text


def test_undecodable_text(tmp_path: Path, settings: IngestSettings) -> None:
    reason = skip_reason(tmp_path, "noise.txt", random_text_bytes(3000), settings)
    assert reason == "undecodable text (not UTF-8 and no confident encoding)"


def test_binary_file(tmp_path: Path, settings: IngestSettings) -> None:
    assert skip_reason(tmp_path, "image.txt", b"GIF89a\x00\x01\x02\x00text", settings) == "binary file"


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  ", "\ufeff\n".encode()])
def test_empty_file(tmp_path: Path, settings: IngestSettings, content: bytes) -> None:
    assert skip_reason(tmp_path, "empty.md", content, settings) == "empty file"


def test_size_limit(tmp_path: Path) -> None:
    tiny = IngestSettings(max_file_mb=0.001)
    reason = skip_reason(tmp_path, "big.md", "x" * 2000, tiny)
    assert reason == "larger than 0.001 MB limit"


def test_unreadable_file(tmp_path: Path, settings: IngestSettings) -> None:
    folder = tmp_path / "looks-like-a-file.md"
    folder.mkdir()
    with pytest.raises(InputError, match="unreadable: is a directory"):
        load(SourceFile(folder, tmp_path), settings)
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "gone.md")
    with pytest.raises(InputError, match="not found"):
        load(SourceFile(dangling, tmp_path), settings)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files despite chmod 000")
def test_permission_denied(tmp_path: Path, settings: IngestSettings) -> None:
    locked = write(tmp_path / "locked.md", "# Secret\n\ntext\n")
    locked.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            load(SourceFile(locked, tmp_path), settings)
    finally:
        locked.chmod(0o644)


def test_unsupported_extension(tmp_path: Path, settings: IngestSettings) -> None:
    with pytest.raises(InputError, match=r"unsupported file type \.docx"):
        load_file(tmp_path, "policy.docx", b"PK\x03\x04", settings)


# --- Discovery ----------------------------------------------------------------------------------


def test_discover_walks_sorted_and_skips(tmp_path: Path, settings: IngestSettings) -> None:
    root = tmp_path / "kb"
    for name in [
        "zh/returns.md",
        "en/faq/returns.md",
        "en/b.txt",
        "a.html",
        "en/a.pdf",
        "notes.docx",
        "README",
    ]:
        write(root / name, "text\n")
    write(root / ".hidden.md", "secret\n")
    write(root / ".git" / "config.md", "secret\n")
    write(root / "en" / ".draft" / "wip.md", "secret\n")
    (root / "en" / "broken.md").symlink_to(root / "missing.md")

    files, skipped = discover([root, tmp_path / "nowhere"], settings)
    assert [f.rel_id for f in files] == [
        "a.html",
        "en/a.pdf",
        "en/b.txt",
        "en/faq/returns.md",
        "zh/returns.md",
    ]
    assert all(f.root == root for f in files)
    assert skipped == [
        Skipped(str(root / "README"), "unsupported file type (no extension)"),
        Skipped(str(root / "en" / "broken.md"), "broken symlink"),
        Skipped(str(root / "notes.docx"), "unsupported file type .docx"),
        Skipped(str(tmp_path / "nowhere"), "not found", hides_input=True),
    ]
    assert discover([root, tmp_path / "nowhere"], settings) == (files, skipped)


def test_discover_file_given_directly_and_twice(tmp_path: Path, settings: IngestSettings) -> None:
    doc = write(tmp_path / "kb" / "en" / "returns.md", "# Returns\n\ntext\n")
    files, skipped = discover([doc, doc, tmp_path / "kb"], settings)
    assert skipped == []
    assert files == [SourceFile(doc, doc.parent)]
    assert files[0].rel_id == "returns.md"


def test_discover_respects_extension_setting(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "x\n")
    write(tmp_path / "b.TXT", "x\n")
    files, skipped = discover([tmp_path], IngestSettings(extensions=("txt",)))
    assert [f.rel_id for f in files] == ["b.TXT"]
    assert skipped == [Skipped(str(tmp_path / "a.md"), "unsupported file type .md")]


# --- The real policy corpus ---------------------------------------------------------------------


def test_policy_corpus_loads(settings: IngestSettings) -> None:
    if not POLICIES.is_dir() or not any(p for p in POLICIES.rglob("*") if p.is_file()):
        pytest.skip("data/policies is not there yet")
    files, _ = discover([POLICIES], settings)
    assert files
    for source in files:
        for doc in load(source, settings):
            assert doc.title.strip(), source.rel_id
            assert doc.sections, source.rel_id
            assert all(s.text.strip() for s in doc.sections), source.rel_id
