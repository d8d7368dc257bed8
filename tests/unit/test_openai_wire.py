"""The OpenAI-compatible wire's own words: the Sources footer's title and the agents' labels, in
the reply's language, as the web chat writes them."""

from __future__ import annotations

from typing import Any

import pytest

from service.api.openai_wire import relayed, sources_footer
from service.web.texts import page_texts

CITATIONS: list[dict[str, Any]] = [
    {"index": 1, "title": "Envíos", "section": "Plazos", "source": "envios.md"},
]
AGENTS: list[dict[str, Any]] = [{"author": "Júlia", "text": "Olá!"}, {"author": None, "text": "Um momento."}]


@pytest.mark.parametrize(
    ("language", "sources", "agent", "team"),
    [
        ("es", "Fuentes", "Júlia (equipo de atención al cliente)", "Equipo de atención al cliente"),
        ("pt", "Fontes", "Júlia (equipe de atendimento)", "Equipe de atendimento"),
        ("en", "Sources", "Júlia (support team)", "Support team"),
        (None, "Sources", "Júlia (support team)", "Support team"),
        ("ar", "Sources", "Júlia (support team)", "Support team"),  # no built-in texts: English
    ],
)
def test_the_footer_and_the_agents_labels_are_in_the_replys_language(
    language: str | None, sources: str, agent: str, team: str
) -> None:
    """A pharmacy trial's Spanish and Portuguese chats ended in "Sources:" and relayed "Júlia (support
    team)", while the web chat said "Fuentes" and "equipo de atención al cliente"."""
    assert sources_footer("Llega en 3 días [1].", CITATIONS, language).startswith(
        f"\n\n{sources}:\n[1] Envíos"
    )
    assert relayed(AGENTS, (), language) == f"{agent}: Olá!\n\n{team}: Um momento.\n\n"


def test_the_labels_are_the_web_chats() -> None:
    spanish = page_texts()["es"]
    assert sources_footer("x [1]", CITATIONS, "es").startswith(f"\n\n{spanish['sources']}:")
    assert relayed([{"author": "Ana", "text": "Hola"}], (), "es").startswith(
        spanish["agent"].format(author="Ana")
    )
