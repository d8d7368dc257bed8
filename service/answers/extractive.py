"""Answers without an LLM: the best passages, quoted and cited, labelled as such.

Used when no ANTHROPIC_API_KEY is configured or Claude is unavailable (the honest "not in our
documents" reply is the handoff notice: ``HandoffPolicy.notice``). Only what
``service.answers.quotable`` lets through is quoted: no markup, no sentence that addresses the
reader as instructions (titles and headings included); a passage with nothing left is skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from knowledge.schema import SearchHit
from knowledge.sparse import shared_encoder
from service.answers.quotable import instruction_rule, quotable_units, strip_markup
from service.core.text import clip_text, collapse
from service.retrieval.relevance import MAX_QUOTED

EXCERPT_CHARS = 420  # of each quoted passage

INTRO = {
    "en": "Here is what our policy documents say about this (quoted directly, no AI summary):",
    "zh": "以下是我们的政策文件中的相关内容（直接引用，未经 AI 总结）：",
    "es": "Esto es lo que dicen nuestros documentos de políticas (citado literalmente, sin resumen de IA):",
    "fr": "Voici ce que disent nos documents de politique (cité tel quel, sans résumé par IA) :",
    "de": "Das steht dazu in unseren Richtlinien (wörtlich zitiert, ohne KI-Zusammenfassung):",
    "ja": "当社のポリシー文書には次のように記載されています（AI による要約なしの直接引用）：",
    "pt": "Eis o que dizem os nossos documentos de políticas (citado diretamente, sem resumo por IA):",
    "it": "Ecco cosa dicono i nostri documenti sulle politiche (citazione diretta, senza riassunto IA):",
    "nl": "Dit staat hierover in onze beleidsdocumenten (letterlijk geciteerd, zonder AI-samenvatting):",
    "ru": "Вот что говорится об этом в наших документах (прямая цитата, без пересказа ИИ):",
    "ko": "이에 대해 저희 정책 문서에는 다음과 같이 안내되어 있습니다(AI 요약 없이 그대로 인용):",
    "pl": "Oto, co na ten temat mówią nasze dokumenty (cytat dosłowny, bez podsumowania przez AI):",
}


def extractive_pieces(
    hits: Sequence[SearchHit],
    language: str,
    question: str = "",
    quoted: Collection[str] | None = None,
) -> list[str]:
    """The answer as a few text pieces (streamed one per SSE ``delta``): the passages of ``hits``
    whose ids are in ``quoted`` (``RelevanceFloor.quoted`` decides; None: the first
    ``MAX_QUOTED``), each under its ``[n]``, its place in ``hits`` (the answer's citations)."""
    if quoted is None:
        quoted = {hit.id for hit in hits[:MAX_QUOTED]}
    pieces = [INTRO.get(language, INTRO["en"]) + "\n"]
    for n, hit in enumerate(hits, 1):
        if hit.id not in quoted:
            continue
        p = hit.payload
        units = [(collapse(u), line_end) for u, line_end in quotable_units(p.text)]
        units = [(u, line_end) for u, line_end in units if u]
        if not units:
            continue
        names = [collapse(strip_markup(h)) for h in [p.title, *(h for h in p.headings if h != p.title)]]
        where = " › ".join(name for name in names if name and instruction_rule(name) is None)
        pieces.append(f"\n[{n}] {where}: {excerpt(units, question, p.language)}\n")
    return pieces


def excerpt(
    units: Sequence[tuple[str, bool]],
    question: str = "",
    language: str | None = None,
    limit: int = EXCERPT_CHARS,
) -> str:
    """Whole sentences of a passage (``quotable_units``: each with whether its line ends there), at
    most about ``limit`` characters: from the first one that shares the most terms with
    ``question`` (the start when none does — a question in another language), then the ones after
    it while they fit; lines stay lines. Terms are the lexical search's (``SparseEncoder.terms``:
    stemmed words without stop words, and numbers; "bikes" finds "bike"), the question's and the
    sentences' both read in the passage's ``language`` (a question in another language shares only
    names and numbers). A passage that fits ``limit`` is quoted whole (a trial: the sentence with
    the deposit's amount was skipped for a later one sharing more words). A list or
    a table after a short introduction is quoted with its items, not cut at the introduction's full
    stop (a trial: the opening hours' bullets were never quoted)."""
    encoder = shared_encoder()
    wanted = encoder.terms(question, language) if question else frozenset()
    overlap = [len(encoder.terms(u, language) & wanted) for u, _ in units]
    start = overlap.index(max(overlap)) if wanted and max(overlap) > 0 else 0
    if sum(len(unit) + 1 for unit, _ in units) <= limit:
        start = 0  # it all fits: nothing to choose
    # Keep the line just before the best one when both fit easily ("Opening hours:").
    if start > 0 and len(units[start - 1][0]) + len(units[start][0]) < limit // 2:
        start -= 1
    before = "… " if start > 0 else ""  # the quote starts inside the passage
    budget = limit - len(before)
    parts: list[str] = []
    size = 0
    for unit, line_end in units[start:]:
        if parts and size + len(unit) + 1 > budget:
            break
        parts.append(unit + ("\n" if line_end else " "))
        size += len(unit) + 1
    return before + clip_text("".join(parts).strip(), budget, sentence=True)
