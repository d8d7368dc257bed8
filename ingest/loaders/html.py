"""HTML: BeautifulSoup (lxml) walked in document order; h1–h6 define the heading path.

Page furniture is dropped before the walk (``_drop_furniture``):

* chrome elements — script, style, noscript, template, svg, iframe, object, canvas, form controls
  (button, select, input, textarea), nav, header and footer; a header or footer inside
  ``<main>``/``<article>`` belongs to the content (it often holds the h1) and stays;
* landmarks by role: navigation, banner, contentinfo, search;
* hidden elements: the ``hidden`` attribute, ``aria-hidden="true"``, an inline ``display: none`` or
  ``visibility: hidden``, a ``<dialog>`` that is not open;
* cookie and consent banners: an id, class or aria-label naming one (``cookie-banner``,
  ``cookieConsent``, ``gdpr_notice``, "Cookie preferences", …) or a consent tool's own
  (OneTrust, Cookiebot, Usercentrics, Didomi, CookieYes, Cookie Consent's ``cc-window``, …),
  unless it has a heading and no button or form (then it is a section of a cookie policy). A
  section *about* cookies (``id="cookies"``, ``cookie-policy``) does not match and stays.

The selectors run on BeautifulSoup's own CSS engine (soupsieve); nothing is guessed from text. Block
elements (p, div, li, pre, blockquote, dt/dd, table rows, ...) each become one paragraph of the
current section; list items are prefixed with "- " (indented by nesting), table rows are joined
cell by cell with " | ", ``<pre>`` keeps its whitespace. Text before the first heading is a
section with ``headings=()``. ``<meta name=...>`` values for the shared metadata keys are used
(``keywords`` count as tags, ``description`` goes to ``extra``); ``<html lang>`` gives the language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from ingest.loaders.base import SourceFile, decode_text, language_code, map_metadata, non_empty
from knowledge.schema import Document, Section

_DROP = frozenset(
    {
        "script", "style", "noscript", "nav", "footer", "header", "template", "svg", "head", "iframe",
        "object", "canvas", "button", "select", "input", "textarea",
    }
)  # fmt: skip
_CHROME = frozenset({"header", "footer"})  # dropped only outside main/article
_FURNITURE = ", ".join(
    (
        '[role="navigation" i], [role="banner" i], [role="contentinfo" i], [role="search" i]',
        '[hidden], [aria-hidden="true" i], dialog:not([open])',
    )
)
_CONTROLS = ["button", "input", "select", "form"]
_INVISIBLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# "cookie-banner", "cookieConsent", "gdpr_notice", "Cookie preferences": a consent word followed by
# a banner word; a section about cookies ("cookies", "cookie-policy") does not match.
_CONSENT = re.compile(
    r"(cookie|consent|gdpr)s?[-_ ]?(banner|bar|notice|notification|popup|pop-up|modal|dialog|"
    r"overlay|wall|prompt|message|box|container|layer|window|consent|preferences|settings|law|alert)"
    r"|onetrust|cookiebot|usercentrics|didomi|cookieyes|cky-consent|cookie-law-info|truste-|qc-cmp|"
    r"^cc-(window|banner)$|^cmp(-|_|$)",
    re.I,
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_LISTS = frozenset({"ul", "ol", "menu"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "form", "hgroup",
        "hr", "legend", "li", "main", "p", "section", "summary", "table", "tbody", "tfoot", "thead",
        *_LISTS,
    }
)  # fmt: skip
_META_NAMES = frozenset({"source", "url", "effective_date", "effective", "date", "last_updated", "version"})
_SPACE = re.compile(r"\s+")


def load(source: SourceFile, data: bytes) -> list[Document]:
    soup = BeautifulSoup(decode_text(data), "lxml")
    meta = map_metadata(_meta_values(soup))
    root = soup.find("html")
    language = language_code(root.get("lang")) if isinstance(root, Tag) else None
    title_tag = soup.find("title")
    page_title = _normal(title_tag.get_text(" ")) if title_tag else ""
    _drop_furniture(soup)
    walker = _Walker()
    walker.walk(soup.body or soup)
    walker.flush()
    return [
        Document(
            doc_id=source.rel_id,
            title=page_title or walker.first_h1 or source.path.stem,
            source=meta.source or source.rel_id,
            sections=non_empty(walker.sections()),
            language=language or meta.language,
            tags=meta.tags,
            effective_date=meta.effective_date,
            version=meta.version,
            extra=meta.extra,
        )
    ]


def _meta_values(soup: BeautifulSoup) -> dict[str, object]:
    values: dict[str, object] = {}
    for tag in soup.find_all("meta"):
        if not isinstance(tag, Tag):
            continue
        name = str(tag.get("name") or tag.get("property") or "").strip().lower()
        content = str(tag.get("content") or "").strip()
        if not content:
            continue
        if name in ("keywords", "tags"):
            values.setdefault("tags", content)
        elif name in ("language", "lang", "description") or name in _META_NAMES:
            values.setdefault(name, content)
    return values


def _drop_furniture(soup: BeautifulSoup) -> None:
    """Remove what a reader of the page does not read as its content (see the module docstring)."""
    chrome = [t for t in soup.find_all(list(_DROP)) if isinstance(t, Tag) and not _in_content(t)]
    for tag in [*chrome, *soup.select(_FURNITURE), *soup.find_all(_is_furniture)]:
        if not tag.decomposed:
            tag.decompose()


def _is_furniture(tag: Tag) -> bool:
    if _INVISIBLE.search(str(tag.get("style") or "")):
        return True
    classes = [c for c in tag.get_attribute_list("class") if c]
    names = [str(tag.get("id") or ""), str(tag.get("aria-label") or ""), *(str(c) for c in classes)]
    if not any(_CONSENT.search(name) for name in names if name):
        return False
    # A banner asks (buttons); a section of a cookie policy that happens to be called
    # "cookie-notice" has a heading and nothing to click, and is content.
    return tag.find(list(_HEADINGS)) is None or tag.find(_CONTROLS) is not None


def _in_content(tag: Tag) -> bool:
    return tag.name in _CHROME and tag.find_parent(["main", "article"]) is not None


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass
class _Block:
    text: str
    line_item: bool  # list items and table rows are joined with single newlines


@dataclass
class _Walker:
    """Collects blocks into sections while walking the tree in document order."""

    first_h1: str | None = None
    _stack: list[tuple[int, str]] = field(default_factory=list)
    _parts: list[tuple[tuple[str, ...], list[_Block]]] = field(default_factory=lambda: [((), [])])
    _buffer: list[str] = field(default_factory=list)
    _prefix: str = ""
    _depth: int = 0

    def sections(self) -> list[Section]:
        out = []
        for headings, blocks in self._parts:
            text = ""
            for i, block in enumerate(blocks):
                joiner = "\n" if i and block.line_item and blocks[i - 1].line_item else "\n\n"
                text += (joiner if i else "") + block.text
            out.append(Section(headings, text))
        return out

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, CDATA, ...
                continue
            if isinstance(child, NavigableString):
                self._buffer.append(_SPACE.sub(" ", str(child)))
            elif isinstance(child, Tag):
                self._tag(child)

    def flush(self, *, line_item: bool = False) -> None:
        lines = (_normal(line) for line in "".join(self._buffer).split("\n"))
        text = "\n".join(line for line in lines if line)
        self._buffer.clear()
        if text:
            self._add(self._prefix + text, line_item=line_item or bool(self._prefix))
        self._prefix = ""

    def _add(self, text: str, *, line_item: bool) -> None:
        self._parts[-1][1].append(_Block(text, line_item))

    def _tag(self, tag: Tag) -> None:
        name = tag.name.lower()
        if name in _HEADINGS:
            self.flush()
            self._heading(_HEADINGS[name], _normal(tag.get_text(" ")))
        elif name == "br":
            self._buffer.append("\n")
        elif name == "pre":
            self.flush()
            text = tag.get_text().strip("\n").rstrip()
            if text.strip():
                self._add(text, line_item=False)
        elif name == "tr":
            self.flush()
            cells = (_normal(c.get_text(" ")) for c in tag.find_all(["td", "th"], recursive=False))
            row = " | ".join(c for c in cells if c)
            if row:
                self._add(row, line_item=True)
        elif name == "li":
            self.flush()
            self._prefix = "  " * max(self._depth - 1, 0) + "- "
            self.walk(tag)
            self.flush(line_item=True)
        elif name in _LISTS:
            self.flush()
            self._depth += 1
            self.walk(tag)
            self._depth -= 1
            self.flush()
        elif name in _BLOCKS:
            self.flush()
            self.walk(tag)
            self.flush()
        else:
            self.walk(tag)

    def _heading(self, level: int, text: str) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        if text:
            self._stack.append((level, text))
            if level == 1 and self.first_h1 is None:
                self.first_h1 = text
        self._parts.append((tuple(t for _, t in self._stack), []))
