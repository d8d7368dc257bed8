"""Customers who write Traditional Chinese (Taiwan, Hong Kong) are answered in Traditional Chinese.

A Japanese shop's Chinese pages (written in Simplified characters, as the trial's were) go through
the real ingest pipeline into an in-process Qdrant with the packaged multilingual model; the real
service answers over its test client — extractively (no API key) and with the fake Anthropic
server, whose recorded requests show what Claude was told.

A new user's trial found "謝謝" quoted shipping pages (the small-talk lexicon had only Simplified
forms) and "退貨要怎麼辦？" introduced with the Simplified "以下是我们的政策文件…". The texts are now
converted to Traditional (``service.core.chinese``), the lexicon matches either script, and Claude is
asked for "Chinese (Traditional)". The reported language stays ``zh``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import FakeAnthropic
from service.answers.extractive import INTRO
from service.caching import CacheSettings
from service.smalltalk.replies import REPLIES
from tests.service_harness import (
    MIN_CACHE,
    REPLY,
    Served,
    answering_with_claude,
    in_process,
    ingested_pages,
    last_user_text,
    post,
    service_settings,
)

pytestmark = pytest.mark.slow

PAGES = {
    "returns-zh.md": """\
# 退货与换货

商品到货后 14 天内，未使用且包装完好的商品可以申请退货。请先通过客服邮箱联系我们，我们会提供退货地址。
海外订单的退货运费由顾客承担；如果是初期不良或发错商品，运费由本店承担，并可选择换货或退款。
退款会在收到退货后 5 个工作日内退回原付款方式。
""",
    "shipping-zh.md": """\
# 寄送到香港、台湾及新加坡

本店从东京仓库发货，订单确认后 1–2 个工作日内出货。台湾使用 EMS，运费 1,600 日元，3–5 个工作日送达；
香港运费 1,400 日元，2–4 个工作日送达。订单满 20,000 日元免运费。关税和进口税由收件人支付。
""",
}
TRADITIONAL_INTRO = "以下是我們資料中的相關說明"
SIMPLIFIED_INTRO = "以下是我们资料中的相关说明"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested_pages(PAGES, tmp_path_factory.mktemp("kamiya"), tmp_path_factory.mktemp("kamiya-store"))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    settings = service_settings(template, tmp_path_factory.mktemp("kamiya-svc"))
    assert settings.anthropic.api_key is None
    with in_process(settings) as served:
        yield served


def answer(client: httpx.Client, question: str, accept_language: str | None = None, **fields: Any) -> Any:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.post("/v1/answers", json={"question": question, **fields}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("question", ["謝謝", "謝謝你的幫忙", "謝謝您", "多謝"])
def test_traditional_thanks_is_small_talk_answered_in_traditional(service: Served, question: str) -> None:
    body = answer(service.client, question)
    assert body["mode"] == "smalltalk" and body["citations"] == [], body
    assert body["language"] == "zh"
    assert body["answer"] == REPLIES["zh-Hant"]["thanks"] == "不客氣！請問還有什麼可以幫您的嗎？"


def test_simplified_thanks_stays_simplified(service: Served) -> None:
    body = answer(service.client, "谢谢")
    assert body["answer"] == REPLIES["zh"]["thanks"] == "不客气！请问还有什么可以帮您的吗？"


def test_a_traditional_question_gets_the_traditional_intro_and_the_pages(service: Served) -> None:
    for extra in ({}, {"language": "zh-TW"}):
        body = answer(service.client, "退貨要怎麼辦？", **extra)
        assert body["mode"] == "extractive" and body["language"] == "zh", body
        assert body["answer"].startswith(TRADITIONAL_INTRO), body["answer"][:80]
        assert INTRO["zh-Hant"].startswith(TRADITIONAL_INTRO)
        assert "returns-zh.md" in [c["doc_id"] for c in body["citations"]]
    simplified = answer(service.client, "退货要怎么办？")
    assert simplified["answer"].startswith(SIMPLIFIED_INTRO)


def test_characters_of_both_scripts_follow_the_request_the_header_or_the_conversation(
    service: Served,
) -> None:
    """ "你好" is written alike in both scripts: the request's tag, then the conversation's earlier
    messages, then Accept-Language decide; without any, Simplified."""
    traditional, simplified = REPLIES["zh-Hant"]["greeting"], REPLIES["zh"]["greeting"]
    assert traditional != simplified
    assert answer(service.client, "你好")["answer"] == simplified
    assert answer(service.client, "你好", language="zh-TW")["answer"] == traditional
    assert answer(service.client, "你好", language="zh-Hant-HK")["answer"] == traditional
    assert answer(service.client, "你好", "zh-HK,zh;q=0.9,en;q=0.5")["answer"] == traditional
    assert answer(service.client, "你好", "zh-CN,zh;q=0.9")["answer"] == simplified
    # the request's tag outranks the header
    assert answer(service.client, "你好", "zh-TW", language="zh-CN")["answer"] == simplified

    first = answer(service.client, "寄到台灣要多久？")
    assert first["answer"].startswith(TRADITIONAL_INTRO)
    conversation = first["conversation_id"]
    ok = answer(service.client, "好的", conversation_id=conversation)  # alike in both scripts
    assert ok["answer"] == REPLIES["zh-Hant"]["ack"] and ok["language"] == "zh"
    # a message in Simplified characters switches the script, and the conversation with it
    switched = answer(service.client, "谢谢", conversation_id=conversation)
    assert switched["answer"] == REPLIES["zh"]["thanks"]
    assert answer(service.client, "好的", conversation_id=conversation)["answer"] == REPLIES["zh"]["ack"]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=REPLY, min_cache_tokens=MIN_CACHE) as server:
        yield server


@pytest.fixture(scope="module")
def generative(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    components = {"cache": CacheSettings(answers=True)}
    with answering_with_claude(
        template, tmp_path_factory.mktemp("kamiya-gen"), fake.base_url, components
    ) as served:
        yield served


def test_claude_is_asked_for_the_customers_script(generative: Served, fake: FakeAnthropic) -> None:
    """Claude is told "Chinese (Traditional)" for a Traditional question and "Chinese (Simplified)"
    for a Simplified one; the API reports ``zh`` for both. An answer cached for one script is not
    replayed to the other."""
    for question, told in (
        ("退貨要怎麼辦？", "Reply language: Chinese (Traditional) (zh-Hant)\n"),
        ("退货要怎么办？", "Reply language: Chinese (Simplified) (zh)\n"),
    ):
        body = post(generative.client, question).json()
        assert body["mode"] == "generative" and body["language"] == "zh", body
        assert told in last_user_text(fake.message_requests()[-1].body)
        generative.settle()
    assert post(generative.client, "退货要怎么办？").json()["mode"] == "cached"
    assert post(generative.client, "退貨要怎麼辦？").json()["mode"] == "cached"
