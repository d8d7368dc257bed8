"""The web chat's texts: which language a browser gets, the operator's WEB_CHAT_TITLE / WEB_CHAT_INTRO
read from the environment (plain text, or JSON per language) and rendered into the page as text
only. (That every language has every text: tests/unit/test_language_coverage.py; the page in a
real browser: tests/integration/web_chat/.)"""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from service.web.routes import STATIC, render_page
from service.web.settings import INTRO_MAX_CHARS, WebChatSettings
from service.web.texts import bundle, page_language, page_texts

TEMPLATE = (STATIC / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("preferences", "language"),
    [
        ("pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7", "pl"),
        ("sv-SE,sv;q=0.9,de;q=0.5", "de"),  # no Swedish texts: the next language the page has
        ("sv,fi", "en"),
        ("en;q=0.5,es", "es"),  # by q-value, not position
        ("zh-Hans-CN", "zh"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_page_language_is_the_first_preferred_one_it_has(preferences: str | None, language: str) -> None:
    assert page_language(preferences) == language


def test_title_and_intro_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CHAT_TITLE", "  AutoRent   pomoc ")
    monkeypatch.setenv(
        "WEB_CHAT_INTRO", '{"pl-PL": "Pytania o wynajem i kaucję.", "*": "Questions about rentals."}'
    )
    settings = WebChatSettings()
    assert settings.title == {"*": "AutoRent pomoc"}
    assert settings.intro == {"pl": "Pytania o wynajem i kaucję.", "*": "Questions about rentals."}
    polish, german = bundle("pl", settings.own())["texts"], bundle("de", settings.own())["texts"]
    assert (polish["title"], polish["intro"]) == ("AutoRent pomoc", "Pytania o wynajem i kaucję.")
    assert (german["title"], german["intro"]) == ("AutoRent pomoc", "Questions about rentals.")
    assert german["send"] == page_texts()["de"]["send"]


def test_a_language_without_the_operators_text_gets_the_built_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CHAT_INTRO", '{"pl": "Pytania o wynajem."}')
    monkeypatch.setenv("WEB_CHAT_TITLE", "")
    settings = WebChatSettings()
    assert settings.title == {}
    assert bundle("fr", settings.own())["texts"]["intro"] == page_texts()["fr"]["intro"]
    assert bundle("fr", settings.own())["texts"]["title"] == "Aide"


@pytest.mark.parametrize(
    "value",
    [
        '{"sv": "Hjälp"}',  # no Swedish page
        '{"pl": ""}',
        '{"pl": 3}',
        '{"pl": "a\\u0007b"}',
        '{"pl": "unclosed"',
        "x" * (INTRO_MAX_CHARS + 1),
    ],
)
def test_bad_values_are_refused_at_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("WEB_CHAT_INTRO", value)
    with pytest.raises(ValidationError, match="intro"):
        WebChatSettings()


def test_the_operators_text_is_rendered_as_text() -> None:
    hostile = "<b>Rentals</b> </script><script>alert(1)</script> & ${title}"
    settings = WebChatSettings(title={"*": "<i>AutoRent</i>"}, intro={"pl": hostile})
    page = render_page(TEMPLATE, bundle("pl", settings.own()))
    assert "<i>" not in page and "<b>" not in page and "alert(1)</script>" not in page
    assert '<h1 data-text="title">&lt;i&gt;AutoRent&lt;/i&gt;</h1>' in page
    assert '<html lang="pl" dir="ltr">' in page
    embedded = re.search(r'<script id="texts" type="application/json">(.*?)</script>', page, re.S)
    assert embedded is not None
    texts = json.loads(embedded.group(1))
    assert texts["texts"]["intro"] == hostile and texts["language"] == "pl"
    assert "&amp; ${title}</p>" in page  # a "${…}" in the operator's text is not a placeholder
    assert "${" not in render_page(TEMPLATE, bundle("en", {}))  # every placeholder is filled
