"""Answers without an LLM: the best passages, quoted and cited, labelled as such.

Used when no ANTHROPIC_API_KEY is configured or Claude is unavailable (the honest "not in our
documents" reply is the handoff notice: ``HandoffPolicy.notice``). Only what
``service.answers.quotable`` lets through is quoted: no markup, no sentence that addresses the
reader as instructions (titles and headings included); a passage with nothing left is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.schema import SearchHit
from service.answers.quotable import instruction_rule, quotable, strip_markup
from service.core.text import clip_text, collapse

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
}


def extractive_pieces(hits: Sequence[SearchHit], language: str, max_passages: int = 3) -> list[str]:
    """The answer as a few text pieces (streamed one per SSE ``delta``)."""
    pieces = [INTRO.get(language, INTRO["en"]) + "\n"]
    for n, hit in enumerate(hits[:max_passages], 1):
        p = hit.payload
        text = collapse(quotable(p.text))
        if not text:
            continue
        names = [collapse(strip_markup(h)) for h in [p.title, *(h for h in p.headings if h != p.title)]]
        where = " › ".join(name for name in names if name and instruction_rule(name) is None)
        pieces.append(f"\n[{n}] {where}: {clip_text(text, EXCERPT_CHARS, sentence=True)}\n")
    return pieces
