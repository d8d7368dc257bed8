"""Which Portuguese the built-in texts are: Brazilian by default, European with
``TEXTS_PORTUGUESE=portugal`` — the handoff notices, the late notices, the "passed on" notice, the
small-talk replies, the extractive intro and the web chat page, through the real modules; the
language code stays ``pt``. (That the Brazilian set has every text of the European one:
tests/unit/test_language_coverage.py; through the service: tests/integration/test_portuguese_texts.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from knowledge.schema import ChunkPayload, SearchHit
from service.agents.notice import passed_on
from service.answers.extractive import extractive_pieces
from service.answers.prompts import user_turn
from service.core.languages import text_language, use_texts
from service.core.text_settings import Portuguese, TextSettings
from service.handoff.late_notices import lapsed_message, unnotified_message
from service.handoff.messages import handoff_message
from service.handoff.signals import REASON_ORDER
from service.smalltalk import PRECEDENCE, Kind, match, reply
from service.smalltalk.matcher import SmallTalk
from service.web.texts import bundle, page_language

# Words only one side of the Atlantic writes in a support text (spelling and vocabulary): a
# Brazilian text has none of the European ones, and the other way round.
EUROPEAN_ONLY = re.compile(
    r"\b(equipa|contact[oaer]\w*|apoio|falámos|separador|introduza|Eis|Lamento|Entretanto|afinal|"
    r"\w+-lhe|estamos a \w+r)\b",
    re.IGNORECASE,
)
BRAZILIAN_ONLY = re.compile(
    r"\b(equipe|contato|atendente|conversamos|aba|digite|transferi\w*)\b", re.IGNORECASE
)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No TEXTS_* from the environment or an .env file; the process's texts settings reset after."""
    monkeypatch.delenv("TEXTS_PORTUGUESE", raising=False)
    monkeypatch.chdir(tmp_path)
    use_texts(None)
    yield
    use_texts(None)


def _customer_texts() -> list[str]:
    """Every fixed text a Portuguese-speaking customer can read from the answer flow."""
    hit = SearchHit(
        "c1",
        0.5,
        0.7,
        ChunkPayload(
            doc_id="d.md",
            chunk_index=0,
            chunk_count=1,
            doc_hash="h",
            text="O prazo de devolução é de 7 dias.",
            title="Devoluções",
            source="d.md",
            language="pt",
        ),
    )
    notices = [
        handoff_message("pt", reason, delivery=delivery, contact=contact)
        for reason in REASON_ORDER
        for delivery in ("takeover", "notify", "none")
        for contact in (None, "ola@loja.com.br")
    ]
    late = [lapsed_message("pt", cause) for cause in ("undelivered", "unanswered")] + [
        unnotified_message("pt", contact="ola@loja.com.br")
    ]
    talk = [reply(_talk(kind), "pt") for kind in PRECEDENCE]
    return [*notices, *late, passed_on("pt"), *talk, extractive_pieces([hit], "pt")[0]]


def _talk(kind: Kind) -> SmallTalk:
    examples = {"greeting": "Olá", "how_are_you": "tudo bem?", "thanks": "obrigado", "ack": "beleza"}
    examples |= {"goodbye": "tchau", "unclear": "???"}
    talk = match(examples[kind])
    assert talk is not None and talk.kind == kind, (kind, talk)
    return talk


def _reads(texts: list[str], variant: Portuguese) -> list[str]:
    """The texts that read as the other variant (carry one of its words)."""
    other = EUROPEAN_ONLY if variant == "brazil" else BRAZILIAN_ONLY
    return [text for text in texts if other.search(text)]


def test_brazilian_is_the_default() -> None:
    assert TextSettings().portuguese == "brazil" and text_language("pt") == "pt-BR"
    texts = _customer_texts()
    assert _reads(texts, "brazil") == []
    assert handoff_message("pt", "customer_request", delivery="none", contact="ola@loja.com.br") == (
        "Sinto muito. Não consigo transferir esta conversa para um atendente por aqui, mas você pode entrar "
        "em contato diretamente com a nossa equipe de atendimento: ola@loja.com.br"
    )
    assert passed_on("pt-BR") == passed_on("pt")  # a region reads the configured texts too


def test_the_setting_switches_every_text_to_european_portuguese() -> None:
    brazilian = _customer_texts()
    use_texts(TextSettings(portuguese="portugal"))
    assert text_language("pt") == "pt" and text_language("es") == "es"
    european = _customer_texts()
    assert _reads(european, "portugal") == []
    assert handoff_message("pt", "customer_request", delivery="takeover").startswith(
        "Com certeza. Vou passar a nossa conversa a um colega da nossa equipa de apoio"
    )
    # every text changed but the one both write alike
    same = [b for b, e in zip(brazilian, european, strict=True) if b == e]
    assert same == ["De nada! Posso ajudar em mais alguma coisa?"]
    # other languages are untouched
    assert handoff_message("es", "dissatisfaction", delivery="none").startswith("Siento que")


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTS_PORTUGUESE", "portugal")
    use_texts(None)  # the environment's, read at the next lookup
    assert passed_on("pt").startswith("A sua mensagem foi encaminhada para a nossa equipa de apoio")
    monkeypatch.setenv("TEXTS_PORTUGUESE", "brasil")
    with pytest.raises(ValidationError, match="portuguese"):
        TextSettings()


@pytest.mark.parametrize(
    ("preferences", "setting", "texts"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.8", "portugal", "pt-BR"),  # the browser's region wins
        ("pt-PT,pt;q=0.9", "brazil", "pt"),
        ("pt-AO", "brazil", "pt"),  # Angola writes the European norm
        ("pt", "brazil", "pt-BR"),  # no region: the setting
        ("pt", "portugal", "pt"),
        ("en;q=0.5, pt-PT;q=0.4, pt-BR;q=0.9", "portugal", "pt-BR"),  # by q-value
        ("fr-FR, pt-BR;q=0.5", "brazil", "fr"),
    ],
)
def test_the_web_page_follows_the_browsers_region(preferences: str, setting: Portuguese, texts: str) -> None:
    use_texts(TextSettings(portuguese=setting))
    assert page_language(preferences) == texts
    page = bundle(texts, {"title": {"pt": "Loja Exemplo"}})
    assert page["language"] == texts.split("-", maxsplit=1)[0]  # the page's language stays pt
    if page["language"] == "pt":
        variant: Portuguese = "brazil" if texts == "pt-BR" else "portugal"
        assert page["texts"]["title"] == "Loja Exemplo"  # the operator's pt text for both
        assert _reads(list(page["texts"].values()), variant) == []
        assert "pt-BR" not in page["languages"] and "pt" in page["languages"]


def test_claude_is_asked_for_the_configured_portuguese() -> None:
    def reply_line(language: str) -> str:
        text = str(user_turn("Qual é o prazo?", [], language)["content"][0]["text"])
        return next(line for line in text.splitlines() if line.startswith("Reply language:"))

    assert reply_line("pt") == "Reply language: Brazilian Portuguese (pt)"  # the default
    use_texts(TextSettings(portuguese="portugal"))
    assert reply_line("pt") == "Reply language: European Portuguese (pt)"
    assert reply_line("es") == "Reply language: Spanish (es)"
