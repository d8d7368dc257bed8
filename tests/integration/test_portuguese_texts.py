"""Through the real service (the app, the packaged models, the demo corpus, no Claude key, no
handoff webhook): a Brazilian customer asking for a person reads the notice in Brazilian Portuguese
by default, and in European Portuguese with ``TEXTS_PORTUGUESE=portugal``; the language stays ``pt``.
The web chat page follows the browser's region."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.core.languages import use_texts
from service.core.text_settings import Portuguese, TextSettings
from service.handoff.settings import HandoffSettings
from tests.service_harness import ask, in_process, service_settings

pytestmark = pytest.mark.slow

CONTACT = "atendimento@loja.example.com.br"
ASKS_FOR_A_PERSON = "Quero falar com um atendente, por favor."
NOTICES: dict[Portuguese, str] = {
    "brazil": (
        "Sinto muito. Não consigo transferir esta conversa para um atendente por aqui, mas você pode "
        f"entrar em contato diretamente com a nossa equipe de atendimento: {CONTACT}"
    ),
    "portugal": (
        "Lamento. Não consigo passar esta conversa a um colega a partir daqui, mas pode contactar "
        f"diretamente a nossa equipa de apoio: {CONTACT}"
    ),
}


@pytest.fixture(autouse=True)
def _texts_of_the_environment() -> Iterator[None]:
    """A service with its own texts settings sets them for the process: back to the environment's."""
    yield
    use_texts(None)


@pytest.mark.parametrize("setting", [None, "portugal"])
def test_a_portuguese_handoff_notice_is_brazilian_unless_set_to_european(
    tmp_path: Path, template: Path, setting: Portuguese | None
) -> None:
    components: dict[str, object] = {"handoff": HandoffSettings(contact={"*": CONTACT})}
    if setting is not None:
        components["texts"] = TextSettings(portuguese=setting)
    settings = service_settings(template, tmp_path, components=components)
    variant: Portuguese = setting or "brazil"
    assert settings.texts.portuguese == variant  # the default, unless set
    with in_process(settings) as served:
        answer = ask(served.client, ASKS_FOR_A_PERSON)
        assert answer.meta["language"] == "pt"
        assert answer.meta["handoff"]["reason"] == "customer_request"
        assert answer.text == NOTICES[variant]

        page = served.client.get("/", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
        assert page.headers["content-language"] == "pt-BR" and "Digite sua pergunta…" in page.text
        european = served.client.get("/", headers={"Accept-Language": "pt-PT"})
        assert european.headers["content-language"] == "pt" and "Escreva a sua pergunta…" in european.text
        plain = served.client.get("/web-chat/texts", params={"lang": "pt"}).json()
        assert plain["language"] == "pt"
        placeholders = {"brazil": "Digite sua pergunta…", "portugal": "Escreva a sua pergunta…"}
        assert plain["texts"]["placeholder"] == placeholders[variant]
