"""Which rows of a table in a passage an extractive quote shows: the header and the rows the
question names.

A trial (a furniture shop's delivery page): "Qual o prazo de entrega para o Nordeste?" found the
right passage, but its quote ran ~420 characters from the table's top and stopped after the first
rows; the customer's region was never quoted. A table reaches a passage one row per line: a
Markdown row (``| Nordeste | 8 a 12 | R$ 59 |``) as written, an HTML ``<tr>`` as its cells joined
by " | " (``ingest.loaders.html``); the chunker keeps each row a line of its own.

A **table** is a run of three or more such lines (the header and at least two rows); its header
is its first line, with the Markdown delimiter line (``|---|:---:|``) after it. A **matching row**
shares with the question a term (the lexical search's, ``SparseEncoder.terms``: "Recife" finds
a row listing "Recife, Salvador") that names the row: not one of the header's ("prazo" of
"Prazo (dias úteis)") nor one every row has ("dias"). The rows sharing the most such terms are
the ones quoted, under the header; the table's other rows are left out of the quote
(``extractive.focused_excerpt``). A question that names no row quotes the table as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.sparse import shared_encoder

Unit = tuple[str, bool]  # a sentence or line, and whether its line ends after it

# A line of a table: Markdown's "| a | b |", the HTML loader's "a | b" (as ``ingest.chunker``).
_ROW = re.compile(r"^\s*\||\S \| \S")
_DELIMITER = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
MIN_LINES = 3  # a header and two rows: with one row there is nothing to choose


@dataclass(frozen=True)
class Table:
    """A table among a passage's units, as unit indices: its header (with the delimiter line)
    and its rows, each row the units of one line."""

    header: tuple[int, ...]
    rows: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class RowFocus:
    """A table's header and the rows the question names (unit indices), and the table's other
    rows, which the quote leaves out."""

    header: tuple[int, ...]
    rows: tuple[int, ...]
    dropped: frozenset[int]


def lines(units: Sequence[Unit]) -> list[tuple[int, ...]]:
    """The units' indices grouped by line (a line ends at a unit whose line ends after it)."""
    found: list[tuple[int, ...]] = []
    current: list[int] = []
    for i, (_, line_end) in enumerate(units):
        current.append(i)
        if line_end:
            found.append(tuple(current))
            current = []
    if current:
        found.append(tuple(current))
    return found


def tables(units: Sequence[Unit]) -> list[Table]:
    """The tables of a passage: runs of at least ``MIN_LINES`` table lines."""
    runs: list[list[tuple[int, ...]]] = [[]]
    for line in lines(units):
        text = " ".join(units[i][0] for i in line)
        if _ROW.search(text):
            runs[-1].append(line)
        elif runs[-1]:
            runs.append([])
    found = []
    for run in runs:
        texts = [" ".join(units[i][0] for i in line) for line in run]
        body = [line for line, text in zip(run, texts, strict=True) if not _DELIMITER.match(text)]
        if len(body) < MIN_LINES:
            continue
        header = run[0] + (run[1] if _DELIMITER.match(texts[1]) else ())
        found.append(Table(header, tuple(body[1:])))
    return found


def row_focus(units: Sequence[Unit], question: str, language: str | None = None) -> RowFocus | None:
    """The header and the rows of the passage's table that the question names (the rows sharing
    the most naming terms with it; of two tables, the one whose row shares more, else the first),
    or None: no table, or no row named. Terms are read in the passage's ``language``."""
    found = tables(units)
    if not found or not question:
        return None
    encoder = shared_encoder()
    wanted = encoder.terms(question, language)
    best: tuple[int, Table, list[tuple[int, ...]]] | None = None
    for table in found:
        header = frozenset().union(*(encoder.terms(units[i][0], language) for i in table.header))
        row_terms = [
            frozenset().union(*(encoder.terms(units[i][0], language) for i in row)) for row in table.rows
        ]
        everywhere = frozenset.intersection(*row_terms)
        scores = [len((terms & wanted) - header - everywhere) for terms in row_terms]
        top = max(scores)
        if top > 0 and (best is None or top > best[0]):
            best = (top, table, [row for row, score in zip(table.rows, scores, strict=True) if score == top])
    if best is None:
        return None
    _, table, named = best
    kept = {i for row in named for i in row}
    dropped = frozenset(i for row in table.rows for i in row if i not in kept)
    return RowFocus(table.header, tuple(sorted(kept)), dropped)


def rows_from(units: Sequence[Unit], start: int) -> RowFocus | None:
    """When ``start`` is inside a table (its delimiter line or one of its rows): the table's header
    and its rows from the one ``start`` is in, the rows above left out — a quote that starts there
    shows what its columns are (a trial's Korean question over a Japanese shipping table was quoted
    from "|---|---|", the header gone); None when ``start`` is not inside a table."""
    for table in tables(units):
        if start in table.header[1:]:
            return RowFocus(table.header, tuple(i for row in table.rows for i in row), frozenset())
        for n, row in enumerate(table.rows):
            if start in row:
                above = frozenset(i for earlier in table.rows[:n] for i in earlier)
                kept = tuple(i for later in table.rows[n:] for i in later)
                return RowFocus(table.header, kept, above)
    return None
