from __future__ import annotations

import pytest

from knowledge.errors import ConfigError
from knowledge.language import LanguageIdentifier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How long does it take to get my money back after returning a parcel?", "en"),
        ("¿Cuánto tarda el reembolso de mi pedido devuelto?", "es"),
        ("Combien de temps faut-il pour être remboursé après un retour ?", "fr"),
        ("Wie lange dauert die Rückerstattung nach einer Rücksendung?", "de"),
        ("退货后多久能收到退款？", "zh"),
        ("返品後、返金までどのくらいかかりますか？", "ja"),
        ("Quanto tempo demora o reembolso depois da devolução?", "pt"),
        ("Quanto tempo ci vuole per ricevere il rimborso dopo il reso?", "it"),
    ],
)
def test_detects_languages_of_short_customer_messages(
    languages: LanguageIdentifier, text: str, expected: str
) -> None:
    assert languages.detect(text).language == expected


def test_empty_text_falls_back_to_default(languages: LanguageIdentifier) -> None:
    assert languages.detect("   ").language == "en"


def test_unknown_language_code_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="xx"):
        LanguageIdentifier(["en", "xx"])
