"""Questions in one language, documents in another, end to end over HTTP (issue 9).

A small mobile operator's pages written for this test (English pages and one Chinese page, none
from the demo shop), ingested with the shipped default model; the real service under uvicorn.
The multilingual model finds the passages across languages by itself: no translation call, with
or without a Claude key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes import FakeAnthropic
from service.retrieval.translate import TranslateSettings
from tests.service_harness import (
    FAST_RETRIES,
    MIN_CACHE,
    Served,
    ask,
    in_process,
    ingested_template,
    service_settings,
)

pytestmark = pytest.mark.slow

PAGES = {
    "roaming.md": """# Roaming

Calls, texts and data in the EU and the UK cost the same as at home: your plan's allowance
applies. Outside Europe, roaming costs 3.50 EUR per day for 500 MB and 60 minutes; the day pass
starts with your first call or data session abroad. Turn roaming off in your phone's settings to
avoid any charge.
""",
    "sim-replacement.md": """# Lost or stolen SIM card

If your SIM card is lost or stolen, block it at once in the app under Account > SIM > Block, or
call 0800 555 0100 (free, 24 hours). A replacement SIM costs 5 EUR and arrives by post within
two working days; your number and balance move to the new card. An eSIM replacement is free and
is ready within an hour.
""",
    "cancellation.md": """# Cancelling your contract

Monthly plans can be cancelled at any time with 30 days' notice. Plans with a 24-month minimum
term can be cancelled early for a fee equal to 50% of the remaining monthly charges. You keep your
number when you move to another operator: ask us for your PAC code.
""",
    "zh/宽带安装.md": """# 家庭宽带安装

新开通家庭宽带后，我们的技术人员会在三个工作日内上门安装。安装费为 49 欧元，签约 24 个月的客户免收安装费。
路由器免费提供，合约结束后需在 14 天内寄回，否则收取 60 欧元设备费。
""",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    docs = tmp_path_factory.mktemp("operator")
    for name, text in PAGES.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    return ingested_template(tmp_path_factory.mktemp("template"), docs)


@pytest.fixture(scope="module")
def extractive(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    """No Anthropic key: quoted passages."""
    settings = service_settings(template, tmp_path_factory.mktemp("svc"))
    with in_process(settings) as served:
        yield served


CASES = [
    # (question, its language, the page that answers it, whether it must be the first citation)
    ("我的SIM卡丢了，怎么办？", "zh", "sim-replacement.md", True),
    ("¿Cuánto cuesta la instalación de la fibra en casa?", "es", "zh/宽带安装.md", True),
    ("Kann ich meinen Vertrag vorzeitig kündigen?", "de", "cancellation.md", True),
    ("Combien coûte une nouvelle carte SIM ?", "fr", "sim-replacement.md", True),
    # A same-language page that mentions prices outranks the English roaming page (the small
    # model's pull towards its own language); the answer is still cited.
    ("在国外用流量每天多少钱？", "zh", "roaming.md", False),
    # Cross-lingual scores sit lower: the Chinese page must pass the cross-language cut-off.
    ("¿Tengo que devolver el router cuando termine el contrato?", "es", "zh/宽带安装.md", False),
]


@pytest.mark.parametrize(("question", "language", "page", "first"), CASES)
def test_question_finds_the_page_in_another_language_without_a_key(
    extractive: Served, question: str, language: str, page: str, first: bool
) -> None:
    answer = ask(extractive.client, question)
    meta = answer.meta
    assert meta["mode"] == "extractive" and meta["language"] == language
    cited = [c["doc_id"] for c in meta["citations"]]
    assert page in (cited[:1] if first else cited), cited
    assert meta["handoff"] is None  # an ordinary question on a new company's pages: no handoff
    # Quoted best first (``RelevanceFloor.quoted``), not necessarily from [1]: the roaming question
    # quotes the English roaming page, not the Chinese one the ranking puts first.
    quoted = [cited[int(n) - 1] for n in re.findall(r"^\[(\d+)\] ", answer.text, re.M)]
    assert quoted and (page in quoted or not first), (quoted, answer.text)


def test_with_a_key_no_translation_call_is_made(
    tmp_path_factory: pytest.TempPathFactory, template: Path
) -> None:
    """Translation is automatic for English-only models; the multilingual default needs none."""
    reply = "Un SIM de repuesto cuesta 5 EUR [1]."
    with FakeAnthropic(reply=reply, min_cache_tokens=MIN_CACHE) as fake:
        settings = service_settings(
            template,
            tmp_path_factory.mktemp("svc-key"),
            api_key="test-key",
            base_url=fake.base_url,
            components={"resilience": FAST_RETRIES, "translate": TranslateSettings()},  # mode auto
        )
        with in_process(settings) as served:
            answer = ask(served.client, "我的SIM卡丢了，怎么办？")
            spanish = ask(served.client, "¿Cuánto cuesta la instalación de la fibra en casa?")
        requests = [r.body for r in fake.message_requests()]
    assert answer.meta["mode"] == "generative"
    assert answer.meta["citations"][0]["doc_id"] == "sim-replacement.md"
    assert spanish.meta["citations"][0]["doc_id"] == "zh/宽带安装.md"
    assert len(requests) == 2  # the two answers, nothing else
    assert not any("You translate" in str(body.get("system", "")) for body in requests)
    # The passages reached Claude in the document's language; the reply language is the customer's.
    # (This small knowledge base is the cached prefix itself: the passages point into it.)
    assert "三个工作日" in str(requests[1]["system"]) and "Spanish" in str(requests[1]["messages"])
    assert 'ref="c' in str(requests[1]["messages"])


def test_citations_show_the_score_they_are_ordered_by_and_their_cosine(extractive: Served) -> None:
    """A new user's trial saw [1] 0.79 before [2] 0.83: the score was the cosine, the order the
    hybrid ranking's. ``score`` is now the ranking's (non-increasing), ``similarity`` the cosine."""
    for question in ("How much does a replacement SIM cost?", "在国外用流量每天多少钱？"):
        citations = ask(extractive.client, question).meta["citations"]
        assert len(citations) >= 3
        scores = [c["score"] for c in citations]
        assert scores == sorted(scores, reverse=True), citations
        assert all(0.5 < c["similarity"] < 1.0 for c in citations), citations
    # The two are different numbers: the ranking's score is not the cosine. (Whether the cosines
    # also follow the order depends on the question, and here on the CPU: with the English lexical
    # and companion rankings the roaming page ranked over one the multilingual model put closer on
    # a CPU with VNNI, not on an AVX2-only one, whose int8 kernels round differently.)
    roaming = ask(extractive.client, "What does roaming cost outside Europe?").meta["citations"]
    assert all(c["score"] != c["similarity"] for c in roaming), roaming


def test_an_answer_without_a_key_quotes_only_passages_close_to_the_best(extractive: Served) -> None:
    """Quoted: the best passage, and the others only when nearly as relevant (``RelevanceFloor.quoted``):
    a clear English question quotes its page alone; a Chinese question about roaming quotes the
    English roaming page (the answer, read against the cross-language cut-off), not the unrelated
    ones."""
    clear = ask(extractive.client, "Can I cancel my contract early?")
    assert [line[:4] for line in clear.text.splitlines() if line.startswith("[")] == ["[1] "], clear.text
    assert clear.meta["citations"][0]["doc_id"] == "cancellation.md" and len(clear.meta["citations"]) >= 3
    roaming = ask(extractive.client, "在国外用流量每天多少钱？")
    quoted = [int(line[1]) for line in roaming.text.splitlines() if line.startswith("[")]
    docs = [roaming.meta["citations"][n - 1]["doc_id"] for n in quoted]
    assert "roaming.md" in docs and "sim-replacement.md" not in docs and "cancellation.md" not in docs, docs
