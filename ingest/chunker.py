"""Heading-aware, token-counted chunking.

Units are sentences (sentencex, language-aware, never cut inside a word: ``knowledge.sentences``),
joined as they were written ("CHF 20.–" stays "CHF 20.–"; Chinese sentences get no space between
them), or whole lines inside lists and tables. Units are packed into chunks of at most
``CHUNK_TOKENS`` model tokens *including* the context line (title › headings) that is embedded
with every chunk. Chunks prefer to start at section boundaries; inside a long section consecutive
chunks overlap by up to ``CHUNK_OVERLAP`` tokens of whole sentences. A sentence longer than a
chunk is cut at token boundaries. FAQ pairs stay one chunk unless they exceed the limit. Nothing
is dropped: every unit lands in some chunk.

A chunk is labelled with its first section's headings, and a PDF section's last heading names its
pages ("Toeslagen (p. 2)"): a chunk never runs on into a section of other pages than the ones its
sections name (a trial: the page-2 "Toeslagen" was quoted under "Pakketten binnen Nederland
(p. 1)"); the text under a PDF's title alone names none and runs on as any section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.embedder import Embedder
from knowledge.schema import Chunk, Document, Section, without_pages
from knowledge.sentences import segments
from knowledge.settings import ChunkingSettings

# Lines that are units of their own: list items, and table rows — Markdown's "| a | b |" and the
# HTML loader's "a | b" (a trial: a price table was joined into one line, "Kater | 95 Euro Katze | …").
_LINE_UNIT = re.compile(r"^\s*([-*+•]|\d+[.)]|\|)|\S \| \S")


@dataclass
class _Unit:
    text: str
    sep: str  # what joins it to the previous unit: " ", "\n" or "\n\n"
    tokens: int
    section: int  # index of the section it belongs to
    heading_line: bool = False


def context_line(title: str, headings: tuple[str, ...]) -> str:
    parts = [title, *[h for h in headings if h and h != title]]
    return " › ".join(p for p in parts if p)


class Chunker:
    def __init__(self, embedder: Embedder, settings: ChunkingSettings) -> None:
        self.embedder = embedder
        self.limit = settings.tokens
        self.overlap = settings.overlap
        self.min_tokens = settings.min_tokens

    def chunk(self, doc: Document) -> list[Chunk]:
        sections = [s for s in doc.sections if s.text.strip()]
        if not sections:
            return []
        if doc.kind == "faq" and len(sections) == 1:
            single = self._whole(doc, sections[0])
            if single is not None:
                return [single]
        budgets = [self._budget(doc, s.headings) for s in sections]
        units = self._units(doc, sections, min(budgets))
        pieces = self._pack(units, budgets, [_pages(s.headings) for s in sections])
        chunks: list[Chunk] = []
        for unit_group in pieces:
            headings = sections[unit_group[0].section].headings
            body = _join(unit_group)
            chunks.extend(self._finalise(doc, headings, body, len(chunks)))
        return chunks

    # --- building blocks --------------------------------------------------------------------
    def _whole(self, doc: Document, section: Section) -> Chunk | None:
        ctx = context_line(doc.title if doc.kind != "faq" else "", section.headings)
        embed_text = f"{ctx}\n{section.text}" if ctx else section.text
        count = self.embedder.count_tokens(embed_text)
        if count > self.limit:
            return None
        return Chunk(
            index=0,
            text=section.text.strip(),
            headings=section.headings,
            embed_text=embed_text,
            token_count=count,
        )

    def _budget(self, doc: Document, headings: tuple[str, ...]) -> int:
        ctx = context_line(doc.title, headings)
        return self.limit - (self.embedder.count_tokens(ctx) + 1 if ctx else 0)

    def _units(self, doc: Document, sections: list[Section], budget: int) -> list[_Unit]:
        language = (doc.language or "en")[:2]
        raw: list[tuple[str, str, int, bool]] = []
        for index, section in enumerate(sections):
            # A heading inside the text is its name, not a PDF section's pages ("Refunds (p. 2)").
            inline = without_pages(section.headings[-1]) if section.headings else ""
            if index > 0 and inline and section.headings != sections[index - 1].headings:
                raw.append((inline, "\n\n", index, True))
            for p_index, paragraph in enumerate(re.split(r"\n\s*\n", section.text.strip())):
                sep = "\n\n" if (p_index > 0 or (raw and raw[-1][2] == index)) else ""
                lines = [ln for ln in paragraph.splitlines() if ln.strip()]
                if any(_LINE_UNIT.search(ln) for ln in lines):
                    for l_index, line in enumerate(lines):
                        raw.append((line.rstrip(), sep if l_index == 0 else "\n", index, False))
                    continue
                flat = " ".join(ln.strip() for ln in lines)
                between = sep  # what came before the sentence: a space, or none (Chinese, Japanese)
                for piece in segments(language, flat):
                    if piece.strip():
                        raw.append((piece.strip(), between, index, False))
                        between = " " if piece[-1].isspace() else ""
        counts = self.embedder.count_tokens_batch([r[0] for r in raw])
        units: list[_Unit] = []
        for (text, sep, owner, is_heading), tokens in zip(raw, counts, strict=True):
            if tokens <= budget:
                units.append(_Unit(text, sep, tokens + 1, owner, is_heading))
                continue
            for n, piece in enumerate(self._cut(text, budget)):
                units.append(
                    _Unit(piece, sep if n == 0 else " ", self.embedder.count_tokens(piece) + 1, owner)
                )
        return units

    def _cut(self, text: str, budget: int) -> list[str]:
        """Cut an over-long sentence into pieces of at most ``budget`` tokens, at word starts if possible.

        A token starts a word when whitespace comes right before it (WordPiece offsets leave the
        space out) or when its own span begins with the space (SentencePiece's "▁word" tokens).
        """
        offsets = self.embedder.token_offsets(text)
        pieces = []
        start = 0
        while start < len(offsets):
            end = min(start + budget, len(offsets))
            if end < len(offsets):
                for j in range(end, start + budget // 2, -1):
                    begin = offsets[j][0]
                    if begin > 0 and (text[begin - 1].isspace() or text[begin : begin + 1].isspace()):
                        end = j
                        break
            stop = offsets[end][0] if end < len(offsets) else len(text)
            piece = text[offsets[start][0] : stop].strip()
            if piece:
                pieces.append(piece)
            start = end
        return pieces

    def _pack(self, units: list[_Unit], budgets: list[int], pages: list[str]) -> list[list[_Unit]]:
        chunks: list[list[_Unit]] = []
        current: list[_Unit] = []
        size = 0
        for unit in units:
            budget = budgets[current[0].section] if current else 0
            new_section = bool(current) and unit.section != current[-1].section
            # Start a new chunk when this one is full, or at a section boundary once it is half full
            # or where the pages its label names end.
            other_pages = new_section and not _same_pages(_named_pages(current, pages), pages[unit.section])
            if current and (
                size + unit.tokens > budget or (new_section and (size >= budget // 2 or other_pages))
            ):
                chunks.append(current)
                carry = [] if new_section else self._overlap_tail(current)
                current, size = carry, sum(u.tokens for u in carry)
            current.append(unit)
            size += unit.tokens
        if current:
            chunks.append(current)
        return self._merge_small(chunks, pages)

    def _overlap_tail(self, units: list[_Unit]) -> list[_Unit]:
        tail: list[_Unit] = []
        size = 0
        for unit in reversed(units):
            if unit.heading_line or size + unit.tokens > self.overlap:
                break
            tail.insert(0, unit)
            size += unit.tokens
        return tail if len(tail) < len(units) else []

    def _merge_small(self, chunks: list[list[_Unit]], pages: list[str]) -> list[list[_Unit]]:
        """Fold a tiny trailing piece into its predecessor when both fit together (and name the
        same pages)."""
        merged: list[list[_Unit]] = []
        for group in chunks:
            size = sum(u.tokens for u in group)
            if (
                merged
                and size < self.min_tokens
                and sum(u.tokens for u in merged[-1]) + size <= self.limit
                and _same_pages(_named_pages(merged[-1], pages), _named_pages(group, pages))
            ):
                seen = {id(u) for u in merged[-1]}
                merged[-1] = merged[-1] + [u for u in group if id(u) not in seen]
            else:
                merged.append(group)
        return merged

    def _finalise(self, doc: Document, headings: tuple[str, ...], body: str, start: int) -> list[Chunk]:
        """Build the chunk; verify the real token count and split again in the rare overflow case."""
        ctx = context_line(doc.title, headings)
        embed_text = f"{ctx}\n{body}" if ctx else body
        count = self.embedder.count_tokens(embed_text)
        if count <= self.limit:
            return [
                Chunk(index=start, text=body, headings=headings, embed_text=embed_text, token_count=count)
            ]
        half = _split_point(body)
        first = self._finalise(doc, headings, body[:half].strip(), start)
        return first + self._finalise(doc, headings, body[half:].strip(), start + len(first))


def _pages(headings: tuple[str, ...]) -> str:
    """The pages a PDF section's last heading names (" (p. 2)", "Page 2"); "" for other documents."""
    last = headings[-1] if headings else ""
    return last[len(without_pages(last)) :]


def _named_pages(units: list[_Unit], pages: list[str]) -> str:
    """The pages the first of ``units``' sections that names pages names ("" when none does: the
    text under a PDF's title alone, which is cited by the title)."""
    return next((pages[u.section] for u in units if pages[u.section]), "")


def _same_pages(one: str, other: str) -> bool:
    """Whether text naming pages ``one`` and text naming ``other`` may share a chunk: the same
    pages, or one names none."""
    return not one or not other or one == other


def _join(units: list[_Unit]) -> str:
    out: list[str] = []
    for i, unit in enumerate(units):
        text = f"**{unit.text}**" if unit.heading_line else unit.text
        out.append(text if i == 0 else unit.sep + text)
    return "".join(out).strip()


def _split_point(body: str) -> int:
    middle = len(body) // 2
    for sep in ("\n\n", "\n", ". ", " "):
        left = body.rfind(sep, 0, middle)
        if left > 0:
            return left + len(sep)
    return middle
