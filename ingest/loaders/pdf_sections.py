"""A PDF's own sections: its outline, else its heading lines by font, else one section per page.

``page_lines`` reads a page's lines (broken where pypdf's own text breaks them) through pypdf's
``visitor_text`` hook, each with its rendered font size (the Tf size × the vertical scale of the
text and graphics matrices) and whether its font is bold (a bold/black/heavy/semibold name, a
/FontWeight of 600 or more, or the ForceBold flag).

``furniture`` finds running headers and footers: a line among the three highest or three lowest
on a page that recurs, in the same size, on at least 60 % of the pages (two at least), with the
same text but for its numbers, each of which is either the same on all those pages (a date, a
version, the page count) or the page's own number, wherever it stands and from whatever first page
it counts: "Seite 2 von 5" matches "Seite 5 von 5", and "Policy (version 3.2, 1 March 2026)" on
page 1 matches it on page 2 (a trial: masking the page number everywhere made page 1's "1 March"
a page number, and that header a section's text). Edge lines that differ in other numbers
("Total: 12 items", "Total: 40 items") are content. The title set large on page 1 is not the
running header repeating it small. A line at the page edge that is only a page number ("3",
"- 3 -", "Page 3 of 5", "Seite 3 von 5", "3/5") is furniture too. They are neither headings nor
section text (a page they would leave empty keeps them).

``sections`` cuts the remaining lines at headings, tracking the path by level (an h2 after an h3
replaces both, as in the Markdown loader):

* the outline (bookmarks), when it has two entries or more: each entry's level is its depth; the
  cut is the entry's own line (numbered or not: "2.1 ASN.1 syntax" for "ASN.1 syntax") on the
  destination's page or the next, which is then not repeated in the text; an entry whose line is
  not found cuts at the top of its page when it is the page's only entry, else it is left out;
* else heading lines by font: lines at least 15 % larger than the body size (the size most of the
  text is set in), ranked by size (largest = level 1), then short bold lines at body size (when
  the body is not itself bold) one level below. A heading is short (at most 100 characters), has
  a letter, and does not end like a sentence (``.``, ``,``, ``;``); a heading wrapped onto the
  next line (in the same style, at most 1.6 sizes below) is one heading — unless the line is the
  document's title, ends a heading (``?``, ``!``, ``:``) or the next one opens a numbered heading
  ("1. ", "2.1 "): a title set in the same size as the first heading above it (reportlab's
  ``Title`` and ``Heading1`` are both 18 pt) is not that heading's first line;
* else (no heading, or more heading lines than body lines: not a structure) one section per page
  with ``headings=("Page n",)``, as before.

A heading equal to the document's title is left out of the path (the title is shown with every
citation already), and the title's own line near the top of page 1 is not section text. The last
heading carries the pages its section spans, which is what a customer sees in a citation:
``Returns › Damaged items (p. 3)``, ``… (pp. 3–4)``; text before the first heading, or under the
title alone, has no heading (it is cited by the document's title, as a Markdown page's text under
its ``# Title`` is).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pypdf import PageObject, PdfReader

from knowledge.schema import Section, pages_label

_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi", re.I)
_FORCE_BOLD = 1 << 18
_EDGE_LINES = 3  # lines from the top and from the bottom of a page that may be a header/footer
_REPEATED_SHARE = 0.6
_PAGE_NUMBER = re.compile(
    r"^[-–—(\[]?\s*(?:(?:page|seite|página|pagina|pag\.|p\.|s\.|strona|blz\.|side|sida|sivu)\s*)?"
    r"\d{1,4}\s*(?:(?:/|of|von|de|di|sur|z|van|av|af)\s*\d{1,4})?\s*[-–—)\]]?$",
    re.I,
)
_DIGITS = re.compile(r"\d+")
_LARGER = 1.15  # a heading's size over the body size
_HEADING_MAX_CHARS = 100
_WRAP_GAP = 1.6  # baseline distance, in font sizes, of a heading's wrapped line
_SENTENCE_END = (".", ",", ";")
_HEADING_END = ("?", "!", ":")  # a heading line ending so is whole: the next line does not continue it
_MAX_LEVELS = 6
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[a-z](?:\.\d+)+\.?)\s+")  # "2.1 ", "3. ", "A.1 "
# A heading's own number ("3. ", "2.1 ", "A.1 "), not a wrapped line's count ("14 days of delivery")
_SECTION_NUMBER = re.compile(r"^(?:\d+\.(?:\d+\.?)*|\d+(?:\.\d+)+|[A-Z](?:\.\d+)+\.?)\s+\S")


@dataclass(frozen=True)
class Line:
    page: int  # 0-based
    text: str
    size: float
    bold: bool
    y: float


@dataclass(frozen=True)
class _Cut:
    start: int  # index of the first heading line in the lines (== end: the heading is not in the text)
    end: int
    level: int
    heading: str
    page: int


def page_lines(page: PageObject, index: int) -> tuple[str, list[Line]]:
    """The page's plain text (pypdf's own, as before) and its lines with their font size and weight."""
    fragments: list[tuple[str, float, bool, float]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: Any, size: float) -> None:
        if text:
            c, d, f = _text_space(cm, tm)
            fragments.append((text, float(size or 0) * (math.hypot(c, d) or 1.0), _is_bold(font), f))

    plain = page.extract_text(visitor_text=visit) or ""
    return plain, _lines(index, fragments)


def _text_space(cm: Sequence[float], tm: Sequence[float]) -> tuple[float, float, float]:
    """(c, d, f) of tm × cm: the text's vertical axis and its baseline's y in device space."""
    a, b, c, d, _, f = (float(v) for v in cm)
    _, _, tc, td, te, tf = (float(v) for v in tm)
    return tc * a + td * c, tc * b + td * d, te * b + tf * d + f


def _is_bold(font: Any) -> bool:
    try:
        if not font:
            return False
        if _BOLD_NAME.search(str(font.get("/BaseFont", ""))):
            return True
        descendants = font.get("/DescendantFonts")
        if descendants:
            font = descendants[0].get_object()
        descriptor = font.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else None
        if not descriptor:
            return False
        weight = float(descriptor.get("/FontWeight", 0) or 0)
        return weight >= 600 or bool(int(descriptor.get("/Flags", 0) or 0) & _FORCE_BOLD)
    except Exception:  # a broken font dictionary says nothing about weight
        return False


def _lines(page: int, fragments: list[tuple[str, float, bool, float]]) -> list[Line]:
    """Join fragments into lines where pypdf's own text has its line breaks."""
    pieces: list[list[tuple[str, float, bool, float]]] = [[]]
    for text, size, bold, y in fragments:
        parts = text.split("\n")
        for n, part in enumerate(parts):
            if part:
                pieces[-1].append((part, size, bold, y))
            if n < len(parts) - 1:
                pieces.append([])
    lines: list[Line] = []
    for piece in pieces:
        text = " ".join("".join(p[0] for p in piece).split())
        if not text:
            continue
        weights: Counter[float] = Counter()
        for part, size, _, _ in piece:
            weights[round(size, 1)] += len(part.strip())
        size = weights.most_common(1)[0][0]
        bold = all(p[2] for p in piece if p[0].strip())
        lines.append(Line(page, text, size, bold, piece[0][3]))
    return lines


def furniture(pages: list[list[Line]]) -> set[tuple[int, int]]:
    """(page, line index) of running headers, footers and page numbers."""
    found: set[tuple[int, int]] = set()
    edges: list[list[int]] = []
    for number, lines in enumerate(pages):
        by_height = sorted(range(len(lines)), key=lambda i: -lines[i].y)
        edge = sorted(set(by_height[:_EDGE_LINES] + by_height[-_EDGE_LINES:]))
        edges.append(edge)
        found.update((number, i) for i in edge if _PAGE_NUMBER.match(lines[i].text))
    if len(pages) < 2:
        return found
    # Edge lines of one size and the same text but for their numbers, each with its numbers.
    alike: dict[str, list[tuple[int, int, tuple[int, ...]]]] = {}
    for number, edge in enumerate(edges):
        for i in edge:
            text = _norm(pages[number][i].text)
            key = f"{round(pages[number][i].size)} " + _DIGITS.sub("#", text)
            alike.setdefault(key, []).append((number, i, tuple(int(d) for d in _DIGITS.findall(text))))
    needed = max(2, math.ceil(_REPEATED_SHARE * len(pages)))
    repeats: dict[int, list[int]] = {}
    for group in alike.values():
        running = _running(group)
        if len({n for n, _ in running}) >= needed:
            for n, i in running:
                repeats.setdefault(n, []).append(i)
    for n, indexes in repeats.items():
        if len(indexes) < len(pages[n]):  # a page that would lose every line is all content
            found.update((n, i) for i in indexes)
    return found


def _running(lines: list[tuple[int, int, tuple[int, ...]]]) -> list[tuple[int, int]]:
    """(page, line index) of the lines that are one running line: each of its numbers is the same
    on every page ("version 3.2, 1 March 2026", the page count) or the page's own number, counted
    from any first page ("Page 5" on the PDF's third page, then "Page 6" on its fourth). Each number's
    rule is the one most of the lines follow, so the lines differing otherwise ("Total: 12" and
    "Total: 40") are not running lines."""
    rules: list[tuple[bool, int]] = []  # per number: (counts pages, constant or offset)
    for position in range(len(lines[0][2])):
        same = Counter(numbers[position] for _, _, numbers in lines).most_common(1)[0]
        paged = Counter(numbers[position] - page for page, _, numbers in lines).most_common(1)[0]
        rules.append((False, same[0]) if same[1] >= paged[1] else (True, paged[0]))
    return [
        (page, i)
        for page, i, numbers in lines
        if all(value - page * paged == base for value, (paged, base) in zip(numbers, rules, strict=True))
    ]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def sections(reader: PdfReader, lines: list[Line], page_count: int, title: str) -> list[Section]:
    """The document's sections: by outline, else by heading fonts, else one per page."""
    cuts = [c for c in _outline_cuts(reader, lines) if _norm(c.heading) != _norm(title)]
    if not cuts:
        cuts = [c for c in _font_cuts(lines, title) if _norm(c.heading) != _norm(title)]
    if not cuts:
        return per_page(lines, page_count)
    return _cut(lines, _with_title_cut(lines, title, cuts), title)


def _with_title_cut(lines: list[Line], title: str, cuts: list[_Cut]) -> list[_Cut]:
    """``cuts``, and one that keeps the title's own line near the top out of the text."""
    found = [c for c in _title_lines(lines, title) if c.end <= cuts[0].start]
    return found + cuts


def _title_lines(lines: list[Line], title: str) -> list[_Cut]:
    for i, line in enumerate(lines[: _EDGE_LINES * 2]):
        if _norm(line.text) == _norm(title):
            return [_Cut(i, i + 1, 0, title, line.page)]
    return []


def per_page(lines: list[Line], page_count: int) -> list[Section]:
    by_page: list[list[str]] = [[] for _ in range(page_count)]
    for line in lines:
        by_page[line.page].append(line.text)
    return [Section((f"Page {n}",), "\n".join(texts)) for n, texts in enumerate(by_page, start=1)]


def _cut(lines: list[Line], cuts: list[_Cut], title: str) -> list[Section]:
    out: list[Section] = []
    stack: list[tuple[int, str]] = []
    first_page = lines[0].page if lines else 0
    out.append(_section((), lines[: cuts[0].start], first_page))
    for n, cut in enumerate(cuts):
        while stack and stack[-1][0] >= cut.level:
            stack.pop()
        if cut.level > 0:
            stack.append((cut.level, cut.heading))
        stop = cuts[n + 1].start if n + 1 < len(cuts) else len(lines)
        path = tuple(h for _, h in stack if _norm(h) != _norm(title))
        out.append(_section(path, lines[cut.end : stop], cut.page))
    return out


def _section(path: tuple[str, ...], body: list[Line], page: int) -> Section:
    first = page + 1
    last = max([first, *(line.page + 1 for line in body)])
    # Text under the title alone (before the first heading) has no heading of its own, as a Markdown
    # page's text under its "# Title": cited by the title, not "Title › Page 1".
    headings = (*path[:-1], f"{path[-1]} ({pages_label(first, last)})") if path else ()
    return Section(headings, "\n".join(line.text for line in body))


# --- the outline --------------------------------------------------------------------------------


def _outline_cuts(reader: PdfReader, lines: list[Line]) -> list[_Cut]:
    entries = outline(reader)
    if len(entries) < 2:
        return []
    shared = Counter(page for _, _, page in entries)
    cuts: list[_Cut] = []
    cursor, page_floor = 0, 0
    for level, heading, page in entries:
        if page < page_floor:  # an entry pointing back: the cut order is the reading order
            continue
        while cursor < len(lines) and lines[cursor].page < page:
            cursor += 1
        span = _find(lines, cursor, page, heading)
        if span is None and shared[page] > 1:
            continue  # one of several headings of a page, not in its text: no place to cut
        start, end = span if span else (cursor, cursor)
        found_on = lines[start].page if span else page
        cuts.append(_Cut(start, end, min(level, _MAX_LEVELS), heading, found_on))
        cursor, page_floor = end, found_on
    return cuts


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(depth from 1, title, 0-based page) of each outline entry with a page, in outline order."""
    found: list[tuple[int, str, int]] = []

    def walk(items: Sequence[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            heading = " ".join(str(getattr(item, "title", "") or "").split())
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a destination that names no page
                continue
            if heading and page is not None and page >= 0:
                found.append((level, heading, page))

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline is no outline: the fonts are read instead
        return []
    return found


def _find(lines: list[Line], cursor: int, page: int, heading: str) -> tuple[int, int] | None:
    """The line(s) from ``cursor`` on ``page`` or the next (a destination may point at the end of
    the page before) that read ``heading``, numbered or not ("2.1 ASN.1 syntax" for "ASN.1
    syntax"); it may wrap over lines."""
    wanted = _unnumbered(heading)
    for start in range(cursor, len(lines)):
        if lines[start].page > page + 1:
            break
        text = ""
        for end in range(start, min(start + 3, len(lines))):
            text = f"{text} {_norm(lines[end].text)}".strip()
            if _unnumbered(text) == wanted:
                return start, end + 1
            if not wanted.startswith(_unnumbered(text)):
                break
    return None


def _unnumbered(text: str) -> str:
    return _NUMBERING.sub("", _norm(text))


# --- heading lines by font ----------------------------------------------------------------------


def _font_cuts(lines: list[Line], title: str = "") -> list[_Cut]:
    if not lines:
        return []
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0]
    body_chars = sum(len(line.text) for line in lines if line.size == body)
    bold_chars = sum(len(line.text) for line in lines if line.size == body and line.bold)
    bold_means_heading = bold_chars * 2 < body_chars
    larger = sorted(
        {line.size for line in lines if line.size >= body * _LARGER and _heading_like(line)}, reverse=True
    )
    levels = {size: min(n, _MAX_LEVELS) for n, size in enumerate(larger, start=1)}
    bold_level = min(len(larger) + 1, _MAX_LEVELS)

    def level_of(line: Line) -> int | None:
        if not _heading_like(line):
            return None
        if line.size in levels:
            return levels[line.size]
        if bold_means_heading and line.bold and abs(line.size - body) < body * (_LARGER - 1):
            return bold_level
        return None

    cuts: list[_Cut] = []
    for i, line in enumerate(lines):
        level = level_of(line)
        if level is None:
            continue
        last = cuts[-1] if cuts else None
        joined = f"{last.heading} {line.text}" if last else ""
        if (
            last
            and last.end == i
            and last.level == level
            and lines[i - 1].page == line.page
            and abs(lines[i - 1].y - line.y) <= _WRAP_GAP * line.size  # the next line, not the next heading
            and len(joined) <= _HEADING_MAX_CHARS
            and _continues(lines[i - 1].text, line.text, title)
        ):
            cuts[-1] = _Cut(last.start, i + 1, level, joined, last.page)  # a heading wrapped over lines
        else:
            cuts.append(_Cut(i, i + 1, level, line.text, line.page))
    heading_lines = sum(c.end - c.start for c in cuts)
    return cuts if heading_lines * 2 <= len(lines) else []


def _continues(previous: str, text: str, title: str) -> bool:
    """Whether heading line ``text`` may be the rest of ``previous`` wrapped: not when ``previous``
    is the document's title or ends a heading, nor when ``text`` opens a numbered heading."""
    return (
        _norm(previous) != _norm(title)
        and not previous.rstrip().endswith(_HEADING_END)
        and not _SECTION_NUMBER.match(text)
    )


def _heading_like(line: Line) -> bool:
    text = line.text
    return (
        len(text) <= _HEADING_MAX_CHARS
        and any(ch.isalpha() for ch in text)
        and not text.endswith(_SENTENCE_END)
    )
