"""Answers without an LLM: the best passages, quoted and cited, labelled as such.

Used when no ANTHROPIC_API_KEY is configured, and for the honest "not in our documents" reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.schema import SearchHit

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

NOT_FOUND = {
    "en": "I'm sorry, I couldn't find an answer to this in our policy documents, and I don't want to "
    "guess. A colleague from our support team can help you with it.",
    "zh": "抱歉，我在我们的政策文件中没有找到这个问题的答案，我不想随意猜测。"
    "我们的客服同事可以为您提供帮助。",
    "es": "Lo siento, no he encontrado la respuesta en nuestros documentos de políticas y no quiero "
    "adivinar. Un compañero de nuestro equipo de atención al cliente puede ayudarle.",
    "fr": "Désolé, je n'ai pas trouvé la réponse dans nos documents et je ne veux pas deviner. Un "
    "collègue de notre service client peut vous aider.",
    "de": "Das tut mir leid, dazu habe ich in unseren Richtlinien keine Antwort gefunden, und ich möchte "
    "nicht raten. Eine Kollegin oder ein Kollege aus dem Kundenservice hilft Ihnen gerne weiter.",
    "ja": "申し訳ありません。当社のポリシー文書ではこのご質問への回答が見つかりませんでした。"
    "推測でお答えすることは控えます。サポート担当者がお手伝いいたします。",
    "pt": "Lamento, não encontrei a resposta nos nossos documentos de políticas e não quero adivinhar. "
    "Um colega da nossa equipa de apoio pode ajudar.",
    "it": "Mi dispiace, non ho trovato la risposta nei nostri documenti e non voglio tirare a indovinare. "
    "Un collega del nostro servizio clienti può aiutarla.",
}


def not_found_text(language: str) -> str:
    return NOT_FOUND.get(language, NOT_FOUND["en"])


def _excerpt(text: str, limit: int = 420) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = max(flat.rfind(". ", 0, limit), flat.rfind("。", 0, limit))
    return flat[: cut + 1] if cut > limit // 3 else flat[:limit].rstrip() + "…"


def extractive_pieces(hits: Sequence[SearchHit], language: str, max_passages: int = 3) -> list[str]:
    """The answer as a few text pieces (streamed one per SSE ``delta``)."""
    pieces = [INTRO.get(language, INTRO["en"]) + "\n"]
    for n, hit in enumerate(hits[:max_passages], 1):
        p = hit.payload
        headings = [h for h in p.headings if h != p.title]
        where = " › ".join([p.title, *headings])
        pieces.append(f"\n[{n}] {where}: {_excerpt(p.text)}\n")
    return pieces
