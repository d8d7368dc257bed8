"""Markdown: YAML front matter for metadata, markdown-it tokens to cut the source into sections.

Sections are cut at top-level heading tokens (so a ``#`` line in a fenced code block or an
indented block is not a heading), and each section keeps its original Markdown lines, so tables
and lists stay readable. The heading path is tracked by level: an h2 after an h3 replaces both.
Text before the first heading is a section with ``headings=()``. Liquid/Jinja markup
(``{{ ... }}``, ``{% ... %}``) and HTML comments are removed. Front matter that does not parse
is not an error: the whole file is then treated as body, without metadata. A front-matter
``status`` of ``draft``, ``rejected`` or ``index`` skips the file (``ingest.review``).

The files of one entry drafted by ``faqstream faq draft`` (one per language) name its run and
cluster (``faq_draft_run``, ``cluster``); ``entry_id`` (``<run>-<NN>``, their common name prefix)
makes them one entry's translations in the chunk payload's ``extra``, which search counts once
(``knowledge.search.one_language_per_entry``). A front matter's own ``entry_id`` is kept as given.
"""

from __future__ import annotations

import re

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingest import review
from ingest.loaders.base import SourceFile, decode_text, map_metadata, non_empty
from knowledge.schema import Document, Section
from knowledge.search import ENTRY_ID

_MD = MarkdownIt("commonmark").enable("table")
_TEMPLATE = re.compile(r"[ \t]*(?:\{\{.*?\}\}|\{%.*?%\})", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING_ID = re.compile(r"\s*\{#[\w.:-]+\}\s*$")  # "## Returns {#returns}"


def load(source: SourceFile, data: bytes) -> list[Document]:
    text = decode_text(data)
    try:
        raw_meta, body = frontmatter.parse(text)
    except (yaml.YAMLError, ValueError, TypeError):
        raw_meta, body = {}, text
    meta = map_metadata(raw_meta)
    review.check(meta.extra.get("status"))  # drafts wait for approval (ingest.review)
    add_entry_id(meta.extra)  # a drafted entry's translations are one entry
    sections, first_h1 = _sections(body)
    return [
        Document(
            doc_id=source.rel_id,
            title=_clean_inline(meta.title or "") or first_h1 or source.path.stem,
            source=meta.source or source.rel_id,
            sections=non_empty(sections),
            language=meta.language,
            tags=meta.tags,
            effective_date=meta.effective_date,
            version=meta.version,
            extra=meta.extra,
        )
    ]


def add_entry_id(extra: dict[str, object]) -> None:
    """``entry_id`` from a drafted entry's run and cluster; unchanged when given or not drafted."""
    run, cluster = extra.get("faq_draft_run"), extra.get("cluster")
    if ENTRY_ID in extra or not isinstance(run, str) or not run:
        return
    if isinstance(cluster, int) and not isinstance(cluster, bool):
        extra[ENTRY_ID] = f"{run}-{cluster:02d}"


def _sections(body: str) -> tuple[list[Section], str | None]:
    """Cut ``body`` at its headings; also return the first h1 text (the fallback title)."""
    lines = body.split("\n")
    tokens = _MD.parse(body)
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    first_h1: str | None = None
    cursor = 0
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or token.level != 0 or token.map is None:
            continue
        start, end = token.map
        level = int(token.tag[1:])
        heading = _heading_text(tokens[i + 1]) if i + 1 < len(tokens) else ""
        sections.append(_section(stack, lines[cursor:start]))
        while stack and stack[-1][0] >= level:
            stack.pop()
        if heading:
            stack.append((level, heading))
            if level == 1 and first_h1 is None:
                first_h1 = heading
        cursor = end
    sections.append(_section(stack, lines[cursor:]))
    return sections, first_h1


def _section(stack: list[tuple[int, str]], lines: list[str]) -> Section:
    text = _COMMENT.sub("", "\n".join(lines))
    return Section(tuple(h for _, h in stack), _TEMPLATE.sub("", text))


def _heading_text(inline: Token) -> str:
    """Plain text of a heading's inline token (emphasis, links and code reduced to their text)."""
    parts: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return _clean_inline(_HEADING_ID.sub("", "".join(parts)))


def _clean_inline(text: str) -> str:
    return " ".join(_TEMPLATE.sub(" ", text).split())
