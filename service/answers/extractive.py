"""Answers without an LLM: the best passages, quoted and cited, labelled as such.

Used when no ANTHROPIC_API_KEY is configured or Claude is unavailable (the honest "not in our
documents" reply is the handoff notice: ``HandoffPolicy.notice``). Only what
``service.answers.quotable`` lets through is quoted: no markup, no sentence that addresses the
reader as instructions (titles and headings included); a passage with nothing left is skipped.

Two steps: ``quoted_passages`` cuts each quoted passage into its quotable units and picks the
start by shared terms (``lexical_start``) — and, when the question names a row of a table in it,
that row (``service.answers.table_rows``); a passage that shares none with the question gets its
start from the embedding model (``service.answers.quote_start``, in the stream, off the event
loop), and ``written`` quotes each passage (its text, label and the section it is from: the
citation's ``section``) for ``pieces`` to write the reply. ``extractive_pieces`` is both without
the model. The passages come in the order ``RelevanceFloor.quoted`` gives: the best first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from knowledge.schema import SearchHit, without_pages
from knowledge.sparse import shared_encoder
from knowledge.word_forms import part_words, parts_in
from service.answers.quotable import balanced_emphasis, instruction_rule, quotable_units, strip_markup
from service.answers.table_rows import RowFocus, row_focus, rows_from, tables
from service.core.languages import TextTable
from service.core.text import clip_text, collapse
from service.retrieval.relevance import MAX_QUOTED

EXCERPT_CHARS = 420  # of each quoted passage
COMPOUND_PART = 0.5  # a question word found only as a part of a compound: weaker than the word

# Each says where the quotes come from the way a customer would put it: "our documentation", never
# a literal "policy documents" (fr "documents de politique" reads as political; zh 政策文件 as a
# government's); ru, pl and uk "our documents" already read so.
_INTRO = {
    "en": "Here is what our documentation says about this (quoted directly, no AI summary):",
    "zh": "以下是我们资料中的相关说明（直接引用，未经 AI 总结）：",
    "es": "Esto es lo que indica nuestra documentación al respecto (cita literal, sin resumen de IA):",
    "fr": "Voici ce qu'indique notre documentation à ce sujet (citation directe, sans résumé par IA) :",
    "de": "Das steht dazu in unseren Unterlagen (wörtlich zitiert, ohne KI-Zusammenfassung):",
    "ja": "当社のご案内には次のように記載されています（AI による要約なしの直接引用）：",
    "pt": "Eis o que diz a nossa documentação sobre isto (citação direta, sem resumo por IA):",
    "pt-BR": "Veja o que diz nossa documentação sobre isso (citação direta, sem resumo por IA):",
    "it": "Ecco cosa dice la nostra documentazione in merito (citazione diretta, senza riassunto IA):",
    "nl": "Dit staat hierover in onze documentatie (letterlijk geciteerd, zonder AI-samenvatting):",
    "ru": "Вот что говорится об этом в наших документах (прямая цитата, без пересказа ИИ):",
    "ko": "이에 대해 저희 안내 자료에는 다음과 같이 나와 있습니다(AI 요약 없이 그대로 인용):",
    "pl": "Oto, co na ten temat mówią nasze dokumenty (cytat dosłowny, bez podsumowania przez AI):",
    "uk": "Ось що про це сказано в наших документах (пряма цитата, без переказу ШІ):",
}
INTRO = TextTable(_INTRO)  # "pt": the configured Portuguese (TEXTS_PORTUGUESE: pt-BR or pt)

Unit = tuple[str, bool]  # a sentence or line, and whether its line ends after it

# A sub-heading as the chunker writes it inside a chunk (``ingest.chunker``: ``**Heading**``), or
# a document's own bold line (``__Heading__`` too).
_HEADING = re.compile(r"^(?:\*\*(?P<name>[^*\n]+)\*\*|__(?P<alt>[^_\n]+)__):?$")
_FAQ = re.compile(r"^Q:\s*(?P<q>.*?)\s*\nA:\s*", re.S)


def heading(unit: str) -> str | None:
    """The sub-heading a unit is on its own (``**Prices**``), or None."""
    match = _HEADING.match(unit.strip())
    return (match.group("name") or match.group("alt")).strip() if match else None


@dataclass(frozen=True)
class Quoted:
    """One passage to quote: its ``[n]``, its hit, its quotable units, where the quote starts
    by shared terms (``lexical_start``; None: no unit shares a term with the question) and the
    table rows the question names (``table_rows.row_focus``; None: none)."""

    n: int
    hit: SearchHit
    units: list[Unit]
    start: int | None
    faq_question: str | None = None  # an FAQ entry's question: the label, not quoted again
    focus: RowFocus | None = None

    @property
    def whole(self) -> bool:
        """It fits the excerpt: quoted whole, nothing to choose."""
        return fits(self.units)


def fits(units: Sequence[Unit], limit: int = EXCERPT_CHARS) -> bool:
    return sum(len(unit) + 1 for unit, _ in units) <= limit


def quoted_passages(
    hits: Sequence[SearchHit],
    question: str = "",
    quoted: Sequence[str] | None = None,
    language: str | None = None,
) -> list[Quoted]:
    """The passages of ``hits`` whose ids are in ``quoted``, in its order (``RelevanceFloor.quoted``
    decides: the best first; None: the first ``MAX_QUOTED``), with something quotable, each with
    its ``[n]`` (its place in ``hits``: the answer's citations, so a quote may come before a lower
    number). An FAQ entry (``Q: …\\nA: …``) is its answer, under its question."""
    if quoted is None:
        quoted = [hit.id for hit in hits[:MAX_QUOTED]]
    rank = {hit_id: k for k, hit_id in enumerate(dict.fromkeys(quoted))}
    chosen = sorted(
        ((n, hit) for n, hit in enumerate(hits, 1) if hit.id in rank), key=lambda p: rank[p[1].id]
    )
    found: list[Quoted] = []
    for n, hit in chosen:
        text, faq_question = hit.payload.text, None
        match = _FAQ.match(text) if hit.payload.kind == "faq" else None
        if match is not None:
            faq_question = collapse(strip_markup(match.group("q")))
            text = text[match.end() :]
            if instruction_rule(faq_question) is not None:
                faq_question = ""
        units = [(collapse(u), line_end) for u, line_end in quotable_units(text, hit.payload.language)]
        units = [(u, line_end) for u, line_end in units if u]
        if units:
            same = language is None or same_language(language, hit.payload.language)
            start, focus = None, None
            if same:
                overlap = term_overlaps(units, question, hit.payload.language)
                start = first_best(overlap)
                focus = None if fits(units) else row_focus(units, question, hit.payload.language)
                if focus is not None and start is not None:
                    focus = named_rows(
                        focus, units, overlap, start, question=question, language=hit.payload.language
                    )
            found.append(Quoted(n, hit, units, start, faq_question, focus))
    return found


def named_rows(
    focus: RowFocus,
    units: Sequence[Unit],
    overlap: Sequence[float],
    start: int,
    *,
    question: str,
    language: str | None,
) -> RowFocus | None:
    """``focus`` unless a sentence outside its table shares more of the question's terms than the
    table's header and the rows it names together: then the quote starts at that sentence. A
    trial's "Quel est le numéro d'urgence le dimanche ?" named the surcharge table's row "Samedi,
    dimanche, jours fériés | CHF 150.–" ("dimanche"), and the row was quoted instead of "Notre
    ligne d'urgence 0800 44 33 22 … le samedi, le dimanche et les jours fériés" ("urgence",
    "dimanche")."""
    table = {*focus.header, *focus.rows, *focus.dropped}
    if start in table:
        return focus
    shown = " ".join(units[i][0] for i in (*focus.header, *focus.rows))
    return None if overlap[start] > term_overlaps([(shown, True)], question, language)[0] else focus


def same_language(question: str, passage: str | None) -> bool:
    """Whether a question in ``question``'s language reads a passage in its own words (an unknown
    language counts as the same)."""
    a, b = question[:2].lower(), (passage or "")[:2].lower()
    return a in ("", "un") or b in ("", "un") or a == b


def lexical_start(units: Sequence[Unit], question: str, language: str | None = None) -> int | None:
    """The first unit sharing the most terms with ``question``; None when none shares any (a
    question in another language, a paraphrase): ``first_best`` of ``term_overlaps``."""
    return first_best(term_overlaps(units, question, language))


def first_best(overlap: Sequence[float]) -> int | None:
    """The first index of the largest overlap; None when every overlap is 0."""
    best = max(overlap, default=0.0)
    return overlap.index(best) if best > 0 else None


def term_overlaps(units: Sequence[Unit], question: str, language: str | None = None) -> list[float]:
    """How many of ``question``'s terms each unit shares. Terms are the lexical search's
    (``SparseEncoder.terms``: stemmed words without stop words, and numbers; "bikes" finds
    "bike"), the question's and the units' both read in the passage's ``language``; in a language
    that writes compounds as one word, a question word that is a part of a compound of the unit
    counts ``COMPOUND_PART`` (``knowledge.word_forms.compound_parts``: "Raten" in "Ratenzahlung")
    unless the unit has the word itself — less than the word: "Wie kann ich meinen Vertrag
    kündigen?" shares "kündigen" and a part of "Mobilfunkvertrag" with a page's opening sentence,
    but "Verträge" and "kündigen" with the sentence that answers."""
    encoder = shared_encoder()
    wanted = encoder.terms(question, language) if question else frozenset()
    if not wanted:
        return [0.0] * len(units)
    parts = part_words(question, language)  # read once, not per unit
    part_terms = {part: encoder.terms(part, language) for part in parts}
    found = []
    for unit, _ in units:
        terms = encoder.terms(unit, language)
        in_compounds = sum(not part_terms[part] & terms for part in parts_in(parts, unit))
        found.append(len(terms & wanted) + COMPOUND_PART * in_compounds)
    return found


def sections_at(passage: Quoted, start: int) -> list[str]:
    """The chunk's sections (``payload.headings``) with the one in effect at ``start``: the last
    sub-heading before it replaces the chunk's own last section (a chunk that runs over sibling
    sub-sections: its headings name the first one). A PDF section's pages stay: the chunk's own
    heading keeps them ("Toeslagen (p. 2)" for the "**Toeslagen**" it opens with), and a sibling
    takes the chunk's (a chunk never runs on into a section of other pages: ``ingest.chunker``)."""
    p = passage.hit.payload
    top = [h for h in p.headings if h == p.title]
    headings = [h for h in p.headings if h != p.title]
    in_effect = next((h for u, _ in reversed(passage.units[: start + 1]) if (h := heading(u))), None)
    if in_effect is not None:
        names = [without_pages(h) for h in headings]
        if in_effect in names:
            headings = headings[: names.index(in_effect) + 1]
        else:
            last = headings[-1] if headings else ""
            pages = last[len(without_pages(last)) :] if without_pages(last) else ""
            headings = [*headings[:-1], in_effect + pages]
    return [*top, *headings]


def label(passage: Quoted, start: int) -> str:
    """Where the quote comes from: title › sections, with the section in effect at ``start``
    (``sections_at``), or the FAQ entry's question."""
    p = passage.hit.payload
    if passage.faq_question is not None:
        names = [passage.faq_question or collapse(strip_markup(p.title))]
    else:
        headings = [h for h in sections_at(passage, start) if h != p.title]
        names = [collapse(strip_markup(h)) for h in [p.title, *headings]]
    return " › ".join(name for name in names if name and instruction_rule(name) is None)


@dataclass(frozen=True)
class Written:
    """One passage's quote as the reply shows it: its ``[n]``, label, text, and the section in
    effect where it starts (the citation's ``section``, so the two name the same part)."""

    n: int
    label: str
    text: str
    section: str


def written(passage: Quoted, starts: Mapping[int, int] | None = None) -> Written:
    """``passage`` quoted from ``starts[n]`` when given (the embedding model's choice), else from
    its ``lexical_start``, else from its top. A first line that only repeats the label's last name
    (the title a plain-text page opens with, the sub-heading the label already names) is left
    out: "Rufnummernmitnahme: Rufnummernmitnahme Ihre Rufnummer …" read it twice."""
    start = 0 if passage.whole else (starts or {}).get(passage.n, passage.start or 0)
    text, start = quote(passage, start)
    name = label(passage, start)
    first = collapse(strip_markup(plain(passage.units[start][0])))
    last = without_pages(name.rsplit(" › ", 1)[-1])
    for opening in (first, "… " + first):
        rest = text[len(opening) :]
        repeated = first and first.casefold() == last.casefold() and text.startswith(opening)
        if repeated and rest.strip() and rest[:1] in ("\n", " "):
            text = ("… " if opening.startswith("…") else "") + rest.lstrip()
            break
    section = (
        passage.hit.payload.section
        if passage.faq_question is not None
        else " › ".join(sections_at(passage, start))
    )
    return Written(passage.n, name, text, section)


def pieces(passages: Sequence[Quoted], language: str, starts: Mapping[int, int] | None = None) -> list[str]:
    """The answer as a few text pieces (streamed one per SSE ``delta``), each passage under its
    ``[n]`` (``written``)."""
    return reply_pieces([written(passage, starts) for passage in passages], language)


def reply_pieces(quotes: Sequence[Written], language: str) -> list[str]:
    """The reply's pieces: the intro, then each quote under its ``[n]`` and label."""
    return [INTRO.get(language, INTRO["en"]) + "\n", *(f"\n[{q.n}] {q.label}: {q.text}\n" for q in quotes)]


def extractive_pieces(
    hits: Sequence[SearchHit],
    language: str,
    question: str = "",
    quoted: Sequence[str] | None = None,
) -> list[str]:
    """``pieces`` of ``quoted_passages``: each quote from the unit sharing the most terms with
    ``question``, or the passage's top (the stream also asks the embedding model)."""
    return pieces(quoted_passages(hits, question, quoted), language)


def quote(passage: Quoted, start: int) -> tuple[str, int]:
    """What of ``passage`` is quoted from ``start``, and the unit the quote really starts at: its
    ``excerpt``, or with a table row the question names, or a ``start`` inside a table (its header
    first: ``rows_from``), its ``focused_excerpt``."""
    if passage.whole:
        return excerpt(passage.units, start)
    if passage.focus is not None:
        return focused_excerpt(passage.units, start, passage.focus)
    inside = rows_from(passage.units, start)
    if inside is not None:
        return focused_excerpt(passage.units, start, inside)
    text, real = excerpt(passage.units, start)
    return without_bare_header(passage.units, start, text, real)


def without_bare_header(units: Sequence[Unit], start: int, text: str, real: int) -> tuple[str, int]:
    """A quote that reaches a table only as far as its header (a trial: "How long does delivery
    to Mexico City take?" was quoted the intro and "| Región | Estados / ciudades | … |", no row):
    from the passage's top (no sentence chosen), the table is quoted instead, from the line before
    its header when short (its sub-heading) — the rows are what the header announces; from a
    chosen sentence, the quote ends before the header."""
    for table in tables(units):
        first, row = table.header[0], table.rows[0][0]
        if not (real <= first and units[first][0] in text and units[row][0] not in text):
            continue
        if start == 0:
            return excerpt(units, first)
        return excerpt(units[:first], start) if first > start else (text, real)
    return text, real


def focused_excerpt(
    units: Sequence[Unit], start: int, focus: RowFocus, limit: int = EXCERPT_CHARS
) -> tuple[str, int]:
    """The ``excerpt`` of a passage without the table rows the question does not name, so the
    quote holds the table's header and the rows it names (a trial: "Qual o prazo de entrega para o
    Nordeste?" was quoted the table's first rows, not the Nordeste one). The quote starts at
    ``start`` when the named rows still fit after it, else at the table's header (with the line
    before it when short, as ``excerpt`` keeps: its sub-heading or lead sentence)."""
    kept = [i for i in range(len(units)) if i not in focus.dropped]
    at = {i: k for k, i in enumerate(kept)}
    first, last = focus.header[0], focus.rows[-1]
    rest = [units[i] for i in kept]
    if start < first:
        text, k = excerpt(rest, at[start], limit)
        if units[last][0] in text:
            return text, kept[k]
    # From inside or after the table, or from too far before it for the named rows to fit.
    text, k = excerpt(rest, at[first], limit)
    return text, kept[k]


def excerpt(units: Sequence[Unit], start: int = 0, limit: int = EXCERPT_CHARS) -> tuple[str, int]:
    """Whole units of a passage, at most about ``limit`` characters, from ``start`` (``start`` 0
    when it all fits: a trial's deposit sentence was skipped for a later one sharing more words),
    and the unit the quote really starts at; lines stay lines. The line just before ``start`` is
    kept when both fit easily ("Opening hours:", a sub-heading), so a list or a table after a
    short introduction is quoted with it (a trial: the opening hours' bullets were never quoted)
    — not before a sub-heading: that line ends the section before (a trial's quote from "**Largest
    file you can upload**" started at the Trash rule above it, labelled "How storage is counted").
    A quote never ends on a sub-heading with nothing after it (a trial: "… **Workshops privados**");
    a sub-heading inside it is its plain name on its own line, and a ``**``/``__`` that opens or
    closes nothing in the quote is left out (``quotable.balanced_emphasis``)."""
    if fits(units, limit):
        start = 0
    if (
        start > 0
        and heading(units[start][0]) is None
        and len(units[start - 1][0]) + len(units[start][0]) < limit // 2
    ):
        start -= 1  # a sub-heading starts its section: the line before it is the section before
    before = "… " if start > 0 else ""  # the quote starts inside the passage
    budget = limit - len(before)
    taken: list[Unit] = []
    size = 0
    rest = list(units[start:])
    for unit, line_end in rest:
        if taken and size + len(unit) + 1 > budget:
            break
        taken.append((unit, line_end))
        size += len(unit) + 1
    while len(taken) > 1 and heading(taken[-1][0]) is not None:
        taken.pop()
    while heading(taken[-1][0]) is not None and len(taken) < len(rest):
        taken.append(rest[len(taken)])  # only a heading fits: its text follows, clipped
    # A sub-heading reads as its plain name on its own line: the quote is text, and a client that
    # shows text (the web chat) would print the chunker's asterisks.
    text = "".join(plain(unit) + ("\n" if line_end else " ") for unit, line_end in taken).strip()
    return before + balanced_emphasis(clip_text(text, budget, sentence=True)), start


def plain(unit: str) -> str:
    """``unit`` with a sub-heading's ``**…**`` taken off (``**Prices**`` → ``Prices``)."""
    return heading(unit) or unit
