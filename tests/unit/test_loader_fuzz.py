"""The ingest loaders fuzzed with hypothesis: whatever a file holds, ``ingest.loaders.load``
returns documents or raises ``InputError`` (the skip reason the ingest report shows) — never
another exception. Inputs are random bytes and, per format, random arrangements of the tokens
that format's parser reacts to (front matter and YAML tags, HTML tags and entities, CSV quoting,
nested JSON, PDF objects cut and mutated)."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from ingest.loaders import SourceFile, load
from knowledge.errors import InputError
from knowledge.schema import Document
from knowledge.settings import IngestSettings

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
INGEST = IngestSettings()


def pieces(tokens: list[str]) -> st.SearchStrategy[bytes]:
    """Random arrangements of a format's tokens and short random text, in a few encodings."""
    part = st.sampled_from(tokens) | st.text(max_size=12)
    encoding = st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-8-sig"])
    return st.tuples(st.lists(part, max_size=40).map("".join), encoding).map(
        lambda te: te[0].encode(te[1], errors="replace")
    )


MARKDOWN = pieces(
    [
        "---\n",
        "title: ",
        "tags: [a, b]\n",
        "tags: {a: b}\n",
        "date: 2024-13-45\n",
        "date: 2024-01-01\n",
        "lang: 7\n",
        "version: [1]\n",
        "!!python/object:os.system\n",
        "!!binary |\n",
        "&a [*a]\n",
        "*a\n",
        "{{",
        "# ",
        "## ",
        "###### ",
        "\n",
        "```\n",
        "~~~",
        "|a|b|\n|-|-|\n",
        "[x](y)",
        "![i](j)",
        "<div>",
        "<!--",
        "- ",
        "* ",
        "1. ",
        "> ",
        ":",
        "\t",
        "\\",
        "\r",
        "=====\n",
        "-----\n",
        "\x0c",
        "\u2028",
    ]
)
HTML = pieces(
    [
        "<html>",
        "<head>",
        "<title>",
        "</title>",
        '<meta name="title" content="',
        '<meta name="tags" content="',
        '<meta name="date" content="2024-99-99">',
        '<html lang="',
        '">',
        "<h1>",
        "</h1>",
        "<h2>",
        "<h7>",
        "<p>",
        "<script>",
        "</script>",
        "<style>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "&#xFFFFFFFF;",
        "&#0;",
        "&amp",
        "&nbsp;",
        "<table><tr><td>",
        "</td></tr></table>",
        "<br/>",
        "<ul><li>",
        "<pre>",
        "<svg><foreignObject>",
        "<nav>",
        "<main>",
        "<article>",
        "<",
        ">",
        '"',
        "'",
        "=",
        "\x00",
        "\ufffd",
    ]
)
CSV = pieces(
    [
        "question,answer\n",
        "Question;Answer;Tags\n",
        "q\ta\tid\n",
        "prompt,response,lang,date,title\n",
        '"',
        '""',
        ",",
        ";",
        "\t",
        "\n",
        "\r",
        "\r\n",
        "id",
        "tags",
        "a|b",
        "2024-13-45",
        "\x00",
        "\\",
        "=cmd|' /C calc'!A0",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "question",
                    "answer",
                    "q",
                    "a",
                    "id",
                    "tags",
                    "lang",
                    "language",
                    "date",
                    "title",
                    "source",
                    "version",
                    "x",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)
JSONL = st.lists(
    JSON_VALUES.map(json.dumps) | st.sampled_from(["[" * 5000, '{"question": ', "\x00", "{}", "null"]),
    max_size=6,
).map(lambda lines: "\n".join(lines).encode())


def pdf_bytes(text: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.setTitle(text[:20])
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return out.getvalue()


@st.composite
def mutated_pdfs(draw: st.DrawFn) -> bytes:
    """A real PDF, then cut, with bytes overwritten, or with a chunk repeated."""
    data = bytearray(
        pdf_bytes(draw(st.text(alphabet=st.characters(codec="latin-1"), min_size=1, max_size=40)))
    )
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["cut", "overwrite", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "cut":
            del data[at:]
        elif action == "overwrite":
            data[at : at + 4] = draw(st.binary(min_size=1, max_size=4))
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
    return bytes(data)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def loads_or_refuses(folder: Path, name: str, data: bytes) -> None:
    path = folder / name
    path.write_bytes(data)
    try:
        documents = load(SourceFile(path=path, root=folder), INGEST)
    except InputError as refused:
        assert refused.message, name  # a reason the report can show
        return
    assert documents and all(isinstance(d, Document) and d.sections for d in documents)


@pytest.mark.parametrize("name", ["doc.md", "doc.txt", "doc.html", "doc.csv", "doc.jsonl", "doc.pdf"])
@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes(folder: Path, name: str, data: bytes) -> None:
    loads_or_refuses(folder, name, data)


@FUZZ
@given(data=MARKDOWN)
def test_markdown(folder: Path, data: bytes) -> None:
    loads_or_refuses(folder, "doc.md", data)


YAML_VALUES = JSON_VALUES.map(json.dumps) | st.sampled_from(
    [
        "9" * 5000,
        ".inf",
        ".nan",
        "2024-02-30",
        "!!binary aGk=",
        "!!set {a, b}",
        "[" * 3000,
        "&a [*a]",
        "|\n  x",
        "~",
    ]
)


@FUZZ
@given(
    front=st.dictionaries(
        st.sampled_from(["title", "tags", "lang", "date", "version", "source", "x"]), YAML_VALUES
    ),
    body=MARKDOWN,
)
def test_markdown_front_matter(folder: Path, front: dict[str, str], body: bytes) -> None:
    header = "".join(f"{key}: {value}\n" for key, value in front.items())
    loads_or_refuses(folder, "doc.md", f"---\n{header}---\n".encode() + body)


@FUZZ
@given(data=HTML)
def test_html(folder: Path, data: bytes) -> None:
    loads_or_refuses(folder, "doc.html", data)


@FUZZ
@given(data=CSV)
def test_csv(folder: Path, data: bytes) -> None:
    loads_or_refuses(folder, "doc.csv", data)


@FUZZ
@given(data=JSONL)
def test_jsonl(folder: Path, data: bytes) -> None:
    loads_or_refuses(folder, "doc.jsonl", data)


@FUZZ
@given(data=pieces(["\n", "\r", "\t", " ", "\x00", "\ufeff", "\u2028", "a", "é"]))
def test_text(folder: Path, data: bytes) -> None:
    loads_or_refuses(folder, "doc.txt", data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(data=mutated_pdfs())
def test_pdf(folder: Path, data: bytes) -> None:
    loads_or_refuses(folder, "doc.pdf", data)
