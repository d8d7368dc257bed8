"""``faqstream eval answers`` end to end: labelled questions through the real service (its HTTP API,
the answer flow, the real anthropic SDK against the fake Anthropic API, whose replies are scripted
per question: a correct quoted citation, a wrong quote, an index that was never given, a reply in
the wrong language, a handoff the label did not expect and one it expected but did not get), the
metrics computed from them exactly; the judge through the same fake; and the in-process mode of
the command (no --server) as a subprocess on an extractive service."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeAnthropic
from fakes.anthropic_faults import Status
from fakes.anthropic_protocol import Reply, default_tool_input
from faqstream import cli
from faqstream.eval_answers import JUDGE_TOOL
from service.answers.prompts import NOT_IN_DOCUMENTS
from tests.service_harness import MIN_CACHE, NO_PASSAGES, last_user_text, over_http, service_settings

KETTLE = "Is my kettle NW-KTL-110 recalled?"
RETURN_DAYS = "How many days do I have to return an item?"
SPANISH = "¿Cuántos días tengo para devolver un artículo?"
DELIVERY = "How long does standard delivery in Germany take?"
WRAPPING = "Do you gift wrap the kettle NW-KTL-110 for free?"
KETTLE_QUOTE = "The kettle NW-KTL-110 from batches K2505 to K2512 is recalled."

LABELS: list[dict[str, Any]] = [
    {"question": KETTLE, "doc_ids": ["kettle.txt"], "language": "en", "facts": ["K2505", "K2512"]},
    {"question": RETURN_DAYS, "doc_ids": ["nonexistent.md"], "language": "en"},
    {"question": SPANISH, "doc_ids": ["es/devoluciones.md", "returns.md"], "language": "es"},
    {"question": NO_PASSAGES, "doc_ids": ["returns.md"], "language": "de"},  # handed off: unexpected
    # the handoff is not made; the generated reply writes the days in words, the fact is missing
    {"question": DELIVERY, "doc_ids": ["shipping.md"], "language": "en", "handoff": True, "facts": ["1–3"]},
    {"question": WRAPPING, "language": "en", "handoff": True, "answerable": False},
]


def passage_titled(text: str, word: str) -> int:
    """The number of the passage whose title contains ``word`` (in the prompt's <passages>)."""
    found = re.search(rf'<passage n="(\d+)"[^>]*title="[^"]*{word}', text, re.I)
    assert found, text[:2000]
    return int(found.group(1))


def scripted(body: dict[str, Any]) -> str | Reply:
    """The fake model's reply, by the question in the request's last user turn."""
    text = last_user_text(body)
    question = re.search(r"<question>\n(.*?)\n</question>", text, re.S)
    asked = question.group(1) if question else ""
    if asked == KETTLE:  # a correct marker with a correct quote
        return f"Yes, it is: “{KETTLE_QUOTE}” [{passage_titled(text, 'kettle')}] Stop using it."
    if asked == RETURN_DAYS:  # [1] plain (correct), [1] with a quote not in the passage, [9] never given
        return 'You have 30 days [1]. "Refunds arrive within two hours of your call." [1] See also [9].'
    if asked == SPANISH:  # the right passage, the wrong language
        return "You can return most items within 30 days of delivery [1]."
    if asked == DELIVERY:
        return "Standard delivery in Germany takes one to three business days [1]."
    if asked == WRAPPING:
        return Reply("Our documents do not say whether we gift wrap.", tool=NOT_IN_DOCUMENTS)
    return "Thanks."


def judge_or_default(body: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
    if tool["name"] == JUDGE_TOOL:
        return {"score": 0.75, "reason": "every claim is in passage 1"}
    return default_tool_input(body, tool)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=scripted, tool_responder=judge_or_default, min_cache_tokens=MIN_CACHE) as server:
        yield server


def write_labels(path: Path) -> Path:
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in LABELS) + "\n", encoding="utf-8")
    return path


def test_eval_answers_scores_the_real_flow(
    template: Path,
    tmp_path: Path,
    fake: FakeAnthropic,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels = write_labels(tmp_path / "labels.jsonl")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")  # the judge's client: the same fake
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    settings = service_settings(template, tmp_path, api_key="test-key", base_url=fake.base_url)
    with over_http(settings) as served:
        code = cli.main(["eval", "answers", str(labels), "--server", served.base, "--json", "--judge"])
    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads(out.out)
    by_question = {q["question"]: q for q in report["questions"]}
    whole = report["summaries"][0]

    kettle = by_question[KETTLE]
    assert kettle["mode"] == "generative" and kettle["retrieval_hit"] is True
    assert (kettle["markers"], kettle["markers_correct"], kettle["wrong_markers"]) == (1, 1, [])
    wrong = by_question[RETURN_DAYS]
    assert wrong["retrieval_hit"] is False  # no such document
    assert (wrong["markers"], wrong["markers_correct"], wrong["wrong_markers"]) == (3, 1, [1, 9])
    spanish = by_question[SPANISH]
    assert spanish["detected_language"] == "en" and spanish["language_ok"] is False
    assert by_question[NO_PASSAGES]["handoff"] == "no_relevant_passages"
    assert (
        by_question[NO_PASSAGES]["handoff_ok"] is False and by_question[NO_PASSAGES]["retrieval_hit"] is False
    )
    assert by_question[DELIVERY]["handoff"] is None and by_question[DELIVERY]["handoff_ok"] is False
    assert by_question[WRAPPING]["handoff"] is not None and by_question[WRAPPING]["handoff_ok"] is True

    assert whole["questions"] == 6 and whole["errors"] == 0
    markers = sum(q["markers"] for q in report["questions"])
    correct = sum(q["markers_correct"] for q in report["questions"])
    assert (markers, correct) == (6, 4)  # kettle 1/1, return days 1/3, spanish 1/1, delivery 1/1
    assert whole["citation_precision"] == pytest.approx(4 / 6)
    assert whole["replies_citations_ok"] == pytest.approx(3 / 4)
    assert whole["language_ok"] == pytest.approx(5 / 6)
    assert whole["handoff_ok"] == pytest.approx(4 / 6)
    assert whole["confusion"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 3}
    hits = [q["retrieval_hit"] for q in report["questions"] if q["retrieval_hit"] is not None]
    assert len(hits) == 5 and whole["retrieval_hit"] == pytest.approx(sum(hits) / 5)
    assert (kettle["fact_hit"], by_question[DELIVERY]["fact_hit"], wrong["fact_hit"]) == (True, False, None)
    assert by_question[DELIVERY]["facts_missing"] == ["1–3"]
    assert (whole["fact_hit"], whole["fact_questions"]) == (0.5, 2)
    assert whole["faithfulness"] == 0.75 and kettle["faithfulness_reason"] == "every claim is in passage 1"
    judged = [
        r.body for r in fake.message_requests() if (r.body.get("tool_choice") or {}).get("name") == JUDGE_TOOL
    ]
    assert len(judged) == 6
    assert any(KETTLE_QUOTE in json.dumps(r, ensure_ascii=False) for r in judged)
    assert {s["label"].strip() for s in report["summaries"][1:]} == {"de", "en", "es"}


def test_eval_answers_in_process_extractive(
    template: Path, tmp_path: Path, child_env: dict[str, str]
) -> None:
    """Without --server the command builds the service itself (here: no key, extractive replies,
    whose quotes are the passages' own words)."""
    labels = write_labels(tmp_path / "labels.jsonl")
    settings = service_settings(template, tmp_path)
    env = {k: v for k, v in child_env.items() if not k.startswith(("ANTHROPIC_", "DATABASE_", "AUTH_"))}
    env.update(
        QDRANT_PATH=str(settings.qdrant.path),
        DATABASE_SQLITE_PATH=str(tmp_path / "eval.db"),
        TRANSLATE_MODE="never",
        REDIS_URL="",
    )
    run = subprocess.run(
        [sys.executable, "-m", "faqstream", "eval", "answers", str(labels)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    # the start-up advice about a deployment's settings is not this run's: left out
    for advice in ("AUTH_IDENTIFIER_SECRET", "HANDOFF_WEBHOOK_URL", "ROUTER_INTENTS_FILE"):
        assert advice not in run.stderr, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[:8] == ["set", "n", "hit", "used", "first", "fact", "cite", "cite/r"]
    row = lines[1].split()
    assert row[0] == "labels.jsonl" and row[1] == "6"
    assert row[6] == "1.000" and row[7] == "1.000"  # every extractive marker quotes its passage
    assert row[5] == "1.000"  # the kettle's batches, the delivery days: quoted
    confusion = next(line for line in lines if line.startswith("handoff"))
    assert "no_relevant_passages" in confusion
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Hi?", "language": "en"}\n', encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, "-m", "faqstream", "eval", "answers", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 3 and "bad.jsonl:1" in failed.stderr and "doc_ids" in failed.stderr


def test_an_overloaded_judge_leaves_replies_unjudged(
    template: Path,
    tmp_path: Path,
    fake: FakeAnthropic,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The judge's calls fail after the client's retries: the answers are still scored, without
    a faithfulness figure, and the run ends normally."""
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps(LABELS[0]) + "\n", encoding="utf-8")
    for name, value in {
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": fake.base_url,
        "RESILIENCE_MAX_ATTEMPTS": "2",
        "RESILIENCE_FALLBACK_MODELS": "claude-haiku-4-5",
        "RESILIENCE_BACKOFF_BASE_S": "0",
        "RESILIENCE_JITTER_S": "0",
    }.items():
        monkeypatch.setenv(name, value)

    def overloaded_judge(body: Any) -> Status | None:
        judge = isinstance(body, dict) and (body.get("tool_choice") or {}).get("name") == JUDGE_TOOL
        return Status(529, "overloaded_error", "Overloaded") if judge else None

    monkeypatch.setattr(fake, "fault_source", overloaded_judge)
    settings = service_settings(template, tmp_path, api_key="test-key", base_url=fake.base_url)
    before = len(fake.message_requests())
    with over_http(settings) as served:
        code = cli.main(["eval", "answers", str(labels), "--server", served.base, "--json", "--judge"])
    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads(out.out)
    (question,) = report["questions"]
    assert question["markers_correct"] == 1 and question["faithfulness"] is None
    assert report["summaries"][0]["faithfulness"] is None
    judged = [
        r
        for r in fake.message_requests()[before:]
        if (r.body.get("tool_choice") or {}).get("name") == JUDGE_TOOL
    ]
    assert len(judged) == 4  # 2 attempts × (the model + its fallback), then the reply is left unjudged
