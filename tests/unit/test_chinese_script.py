"""Simplified and Traditional Chinese: the script of a message and of a reply, the converted texts,
small talk in either script, and the eval's script check (service/core/chinese.py,
knowledge/chinese_script.py)."""

from __future__ import annotations

import pytest

from knowledge.answer_eval import AnswerLabel, ObservedAnswer, score
from knowledge.chinese_script import tag_script, text_script
from service import smalltalk
from service.agents.notice import PASSED_ON, passed_on
from service.answers.extractive import INTRO
from service.answers.prompts import user_turn
from service.answers.reply_language import accept_language_tags, accept_languages
from service.core.chinese import TRADITIONAL, chinese_script, simplified, tagged, traditional
from service.core.languages import VARIANTS, reply_language_name, text_language
from service.handoff.late_notices import lapsed_message, unnotified_message
from service.handoff.messages import handoff_message
from service.smalltalk.replies import REPLIES
from service.web.texts import bundle, page_language, page_languages, page_texts


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("謝謝", "Hant"),
        ("退貨要怎麼辦？", "Hant"),
        ("谢谢", "Hans"),
        ("退货要怎么办？", "Hans"),
        ("你好", None),  # the same in both
        ("ok", None),
        ("谢謝", None),  # mixed
    ],
)
def test_the_script_of_a_text(text: str, script: str | None) -> None:
    assert text_script(text) == script


@pytest.mark.parametrize(
    ("tag", "script"),
    [
        ("zh-TW", "Hant"),
        ("zh-hk", "Hant"),
        ("zh_MO", "Hant"),
        ("zh-Hant", "Hant"),
        ("zh-Hant-CN", "Hant"),  # the script subtag before the region
        ("zh-CN", "Hans"),
        ("zh-Hans-TW", "Hans"),
        ("zh-SG", "Hans"),
        ("zh", None),
        ("ja-JP", None),
        (None, None),
    ],
)
def test_the_script_a_tag_names(tag: str | None, script: str | None) -> None:
    assert tag_script(tag) == script


def test_the_script_of_a_reply_in_chinese() -> None:
    assert chinese_script("謝謝") == "Hant"
    assert chinese_script("谢谢") == "Hans"
    assert chinese_script("你好") == "Hans"  # nothing says otherwise
    assert chinese_script("谢谢", requested="zh-TW") == "Hant"  # the request's tag first
    assert chinese_script("謝謝", requested="zh") == "Hant"  # a tag without a script says nothing
    assert chinese_script("你好", earlier=["ok", "退貨要怎麼辦？", "退货"]) == "Hant"  # the latest with one
    assert chinese_script("谢谢", earlier=["退貨要怎麼辦？"]) == "Hans"  # the message's own characters
    assert chinese_script("你好", accept_language=["en", "zh-hk", "zh-cn"]) == "Hant"
    assert chinese_script("你好", accept_language=["zh", "en"]) == "Hans"
    assert chinese_script("你好", earlier=["谢谢"], accept_language=["zh-tw"]) == "Hans"


def test_accept_language_tags_keep_region_and_script() -> None:
    header = "en;q=0.5, zh-TW, zh-Hant-HK;q=0.9, fr;q=0"
    assert accept_language_tags(header) == ["zh-tw", "zh-hant-hk", "en"]
    assert accept_languages(header) == ["zh", "en"]


def test_text_language_of_tags() -> None:
    assert text_language("zh") == "zh"
    assert text_language("zh-Hant") == TRADITIONAL
    assert text_language("zh-TW") == TRADITIONAL
    assert text_language("zh-CN") == "zh"
    assert text_language("en-GB") == "en"
    assert text_language("pt-BR") == "pt-BR"
    assert tagged("zh", "Hant") == TRADITIONAL and tagged("zh", "Hans") == "zh"
    assert tagged("ja", "Hant") == "ja" and tagged("zh", None) == "zh"
    assert TRADITIONAL in VARIANTS


def test_claude_is_asked_for_traditional_chinese() -> None:
    assert reply_language_name("zh") == "Chinese (Simplified)"
    assert reply_language_name("zh-Hant") == "Chinese (Traditional)"
    turn = user_turn("退貨要怎麼辦？", [], "zh-Hant")
    assert "Reply language: Chinese (Traditional) (zh-Hant)\n" in turn["content"][0]["text"]


def test_conversion_keeps_the_texts_sense() -> None:
    assert traditional("以下是我们的政策文件") == "以下是我們的政策文件"  # not 檔案 (a computer file)
    assert traditional("会尽快在这里回复您") == "會盡快在這裡回覆您"  # not 回復 (to restore)
    assert traditional("请联系我们") == "請聯絡我們"  # Taiwan's phrase
    assert simplified("謝謝你的幫忙") == "谢谢你的帮忙"


def _all_texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _all_texts(item)]
    return []


def test_every_traditional_text_is_in_traditional_characters() -> None:
    tables = {
        "intro": INTRO["zh-Hant"],
        "small talk": REPLIES["zh-Hant"],
        "passed on": PASSED_ON["zh-Hant"],
        "web page": page_texts()["zh-Hant"],
    }
    for name, texts in tables.items():
        for text in _all_texts(texts):
            assert text_script(text) in ("Hant", None), (name, text)
            assert text_script(simplified(text)) in ("Hans", None), (name, text)
    assert REPLIES["zh-Hant"]["thanks"] == "不客氣！請問還有什麼可以幫您的嗎？"
    assert INTRO["zh-Hant"] == "以下是我們資料中的相關說明（直接引用，未經 AI 總結）："
    assert passed_on("zh-Hant") == "您的訊息已轉交給我們的支援團隊，同事會在這裡回覆您。"


@pytest.mark.parametrize("delivery", ["takeover", "notify", "none"])
@pytest.mark.parametrize("reason", ["customer_request", "no_relevant_passages", "dissatisfaction"])
def test_handoff_notices_in_traditional(delivery: str, reason: str) -> None:
    for contact in (None, "support@kamiya.example"):
        text = handoff_message("zh-Hant", reason, delivery=delivery, contact=contact)  # type: ignore[arg-type]
        assert text_script(text) == "Hant", text
        assert " " not in text.replace(" support@", "")  # no spaces between Chinese sentences
        assert handoff_message("zh-TW", reason, delivery=delivery, contact=contact) == text  # type: ignore[arg-type]
        assert text != handoff_message("zh", reason, delivery=delivery, contact=contact)  # type: ignore[arg-type]
    for text in (lapsed_message("zh-Hant", "undelivered"), unnotified_message("zh-Hant")):
        assert text_script(text) == "Hant", text


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("謝謝", "thanks"),
        ("謝謝你的幫忙", "thanks"),
        ("再見", "goodbye"),
        ("您好", "greeting"),
        ("沒問題", "ack"),
    ],
)
def test_traditional_small_talk(message: str, kind: str) -> None:
    talk = smalltalk.match(message)
    assert talk is not None and talk.kind == kind and talk.language == "zh"
    assert smalltalk.match(simplified(message)) == talk  # alike in both scripts


def test_japanese_small_talk_is_unchanged() -> None:
    talk = smalltalk.match("ありがとうございます")
    assert talk is not None and talk.language == "ja"
    assert smalltalk.match("退貨要怎麼辦？") is None


def test_the_web_page_in_traditional_for_a_traditional_browser() -> None:
    assert page_language("zh-TW,zh;q=0.9,en;q=0.8") == TRADITIONAL
    assert page_language("zh-HK") == TRADITIONAL
    assert page_language("zh-CN,zh-TW;q=0.9") == "zh"
    assert page_language("zh") == "zh"
    assert TRADITIONAL not in page_languages()
    assert bundle(TRADITIONAL, {})["language"] == "zh"


def _scored(question: str, reply: str, language: str = "zh") -> tuple[str, bool]:
    label = AnswerLabel(question=question, doc_ids=["returns.md"], language=language)
    scored = score(label, ObservedAnswer(text=reply, mode="generative"), lambda _text: "zh")
    return scored.detected_language, scored.language_ok


def test_the_eval_notices_a_reply_in_the_other_script() -> None:
    assert _scored("退貨要怎麼辦？", "请在收到商品后14天内联系我们办理退货。") == ("zh-Hans", False)
    assert _scored("退貨要怎麼辦？", "請在收到商品後14天內聯絡我們辦理退貨。") == ("zh", True)
    assert _scored("退货要怎么办？", "請在收到商品後14天內聯絡我們辦理退貨。") == ("zh-Hant", False)
    assert _scored("你好", "请在收到商品后14天内联系我们办理退货。") == ("zh", True)  # either script
    assert _scored("你好", "请在收到商品后14天内联系我们办理退货。", "zh-TW") == ("zh-Hans", False)
    assert _scored("你好", "請在收到商品後14天內聯絡我們辦理退貨。", "zh-TW") == ("zh", True)
