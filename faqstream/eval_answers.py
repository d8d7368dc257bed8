"""``faqstream eval answers FILE``: labelled questions through the real answer flow, scored.

Each question is one ``POST /v1/answers`` (a new conversation, JSON, ``user`` = ``faqstream-eval``)
to a running service (``--server URL``) or, without it, to the app ``faqstream serve`` would run,
built in this process from the same settings (``faqstream.server.build_app``) but touching nothing
of production (``scratch_settings``): no handoff or budget-alert webhook (the helpdesk hears of no
evaluation handoff), conversation records off and a scratch database in a temporary folder (no
conversation, message, handoff, usage row or key of the evaluation in the service's database, so
``faqstream report`` does not count it), Redis off (its conversations, rate limits and budgets stay
in this process), the answer cache off (every question meets the flow, none is cached), a
bootstrap key of its own, and no rate limit or daily budget (``LIMITS_*`` are for customers: the
run is not made to wait, and its Claude tokens are what the file asks for). Its start-up advice
about a deployment's settings (``service.api.setup_advice``: intents, handoff routes, identifier
secret) is left out of the output: it is about production, which this service is not; its errors
and other warnings (stale vectors, the Claude key) are shown.

A running service (``--server``) records the questions like any others and applies its limits:
the questions come from one end user, so ``LIMITS_USER_RPM`` paces them. A question refused with
429 ``rate_limited`` (or 503 with ``Retry-After``) is asked again after the wait the service names,
and the command says on stderr which limit it waits for, how long and how to avoid it; no
question is scored as an error because of a limit. A used-up daily budget (``budget_exhausted``),
or a limit still refusing after ``MAX_WAIT_S`` of waiting for one question, ends the run with an
error instead (``faqstream.eval_asking``).
The scores are ``knowledge.answer_eval``'s. With ``--judge``
(needs ANTHROPIC_API_KEY) a model grades each reply's faithfulness to its passages through the
service's Claude client (``ResilientClaude``: retries, breakers, fallback models).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faqstream.eval_asking import EVAL_USER, ServerWaits, ask

if TYPE_CHECKING:
    import httpx

    from knowledge.answer_eval import AnswerLabel, AnswerScore, Judgement, ObservedAnswer
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

JUDGE_TOOL = "grade_faithfulness"
JUDGE_SYSTEM = (
    "You grade a customer-support reply for faithfulness. You get numbered passages from the "
    "company's documents and the reply written from them. Score 1.0 when every factual claim of the "
    "reply is supported by the passages, 0.0 when its main claims are unsupported or contradicted, "
    "and in between by the share of supported claims. A reply that says the documents do not answer "
    "the question, or that hands over to a colleague, is faithful when it claims nothing else. "
    f"Answer only with the {JUDGE_TOOL} tool: the score and a one-sentence reason."
)


def add_parser(eval_sub: Any) -> None:
    eva = eval_sub.add_parser(
        "answers",
        help="retrieval hit, citations, reply language and handoff of the real answer flow",
        description="FILE has one JSON object per line: {question, doc_ids (ids or file names: "
        "faq.csv matches any of its rows; doc_id for one), language (expected reply "
        "language), handoff (false, true or the expected reason), answerable (default true), facts "
        "(optional: strings the reply must contain, such as a phone number or an amount)}. Each "
        "question is asked through POST /v1/answers — of the service at --server URL, else of the "
        "service built in this process from the same settings as `faqstream serve` — and scored: an "
        "expected document among the cited passages, every [n] marker naming a given passage and "
        "quoting it word for word, every labelled fact in the reply (case, spacing, emphasis, "
        "typographic variants and thousands separators aside; never part of a longer number), the "
        "detected language of the reply, the handoff decision. --judge "
        "adds a faithfulness score from Claude (ANTHROPIC_API_KEY). Without --server nothing of "
        "production is touched: no handoff or budget-alert webhook is sent, no conversation, usage "
        "row or analytics record is written (a scratch database, Redis off), the answer cache is "
        "off and no rate limit or daily budget applies; Claude's tokens are still spent. With --server "
        "the running service records the questions (user faqstream-eval), sends its webhooks and "
        "applies its limits like for any other question: the command waits when its per-user limit "
        "(LIMITS_USER_RPM) refuses one, says so on stderr, and asks again.",
    )
    eva.add_argument("file", type=Path)
    eva.add_argument(
        "--server",
        metavar="URL",
        help="ask a running service (needed while it holds the embedded store)",
    )
    eva.add_argument(
        "--api-key",
        help="with --server: the key to call /v1/answers with (default: the first of AUTH_API_KEYS, "
        "if any); without it the command uses a key of its own",
    )
    eva.add_argument("--judge", action="store_true", help="grade faithfulness with Claude (costs tokens)")
    eva.add_argument("--json", action="store_true", help="the summaries and every question's scores")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.answer_eval import format_missing_facts, format_table, read_labels, score, summaries
    from knowledge.errors import ConfigError
    from knowledge.language import LanguageIdentifier
    from service.api.settings import AppSettings

    labels = read_labels(args.file)
    app_settings = AppSettings()
    if args.judge and app_settings.anthropic.api_key is None:
        raise ConfigError("--judge needs ANTHROPIC_API_KEY", hint="set it, or leave out --judge")
    key = args.api_key or _bootstrap_key(app_settings)
    waits = ServerWaits(len(labels))
    with _answers_client(args.server, app_settings) as (client, own_key):
        observed = []
        for number, label in enumerate(labels, 1):
            waits.question = number
            observed.append(ask(client, label.question, own_key or key, waits))
    waits.summary()
    if args.judge:
        judgements = asyncio.run(judge_all(app_settings, labels, observed))
        observed = [o.model_copy(update={"judgement": j}) for o, j in zip(observed, judgements, strict=True)]
    detector = LanguageIdentifier.from_settings(settings.ingest)
    scores = [
        score(label, o, lambda text: detector.detect(text).language)
        for label, o in zip(labels, observed, strict=True)
    ]
    rows = summaries(scores, args.file.name)
    if args.json:
        print(json.dumps(report(rows, scores), ensure_ascii=False, indent=2))
    else:
        print(format_table(rows))
        if missing := format_missing_facts(scores):
            print(missing)
    return 0


def report(rows: Sequence[Any], scores: Sequence[AnswerScore]) -> dict[str, Any]:
    from dataclasses import asdict

    return {"summaries": [r.to_dict() for r in rows], "questions": [asdict(s) for s in scores]}


def _bootstrap_key(settings: Any) -> str | None:
    from service.api.auth import ApiKeys

    ApiKeys.from_settings(settings.auth)  # malformed: a ConfigError naming the setting
    if settings.auth.api_keys is None:
        return None
    first = next(p for p in settings.auth.api_keys.get_secret_value().split(",") if p.strip())
    key: str = first.partition("=")[2].strip()
    return key


@contextmanager
def _answers_client(server: str | None, settings: Any) -> Iterator[tuple[httpx.Client, str | None]]:
    """A client of the service at ``server``, else of the app built here on ``scratch_settings``
    (with the key to call it with; None: the caller's key)."""
    import httpx

    if server:
        with httpx.Client(base_url=server.rstrip("/"), timeout=120) as client:
            yield client, None
        return
    import tempfile

    from litestar.testing import TestClient

    from faqstream.server import build_app

    with tempfile.TemporaryDirectory(prefix="faqstream-eval-") as scratch, without_setup_advice():
        local, key = scratch_settings(settings, Path(scratch))
        with TestClient(build_app(local), timeout=120) as client:  # the lifespan runs: start-up, drain
            yield client, key


@contextmanager
def without_setup_advice() -> Iterator[None]:
    """The service's start-up advice about a deployment's settings (``service.setup``) left out,
    its errors kept; every other logger as it was."""
    from service.api.setup_advice import SETUP_LOGGER

    logger = logging.getLogger(SETUP_LOGGER)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def scratch_settings(settings: Any, scratch: Path) -> tuple[Any, str]:
    """``settings`` for an evaluation in this process that leaves production alone (the module
    docstring), and the bootstrap key its app takes."""
    import secrets

    from pydantic import SecretStr

    from service.settings.database import DatabaseSettings

    key = secrets.token_urlsafe(24)
    local = settings.model_copy(
        update={
            "handoff": settings.handoff.model_copy(update={"webhook_url": None}),
            "limits": settings.limits.model_copy(
                update={
                    "alert_webhook_url": None,
                    "key_rpm": 0.0,
                    "user_rpm": 0.0,
                    "daily_tokens": 0,
                    "daily_cost_usd": 0.0,
                }
            ),
            "records": settings.records.model_copy(update={"enabled": False, "retention_days": None}),
            "database": DatabaseSettings(url=None, sqlite_path=scratch / "eval.db"),
            "redis": settings.redis.model_copy(update={"url": None}),
            "cache": settings.cache.model_copy(update={"answers": False}),
            "auth": settings.auth.model_copy(update={"api_keys": SecretStr(f"{EVAL_USER}={key}")}),
        }
    )
    return local, key


# ---------------------------------------------------------------- the judge


def judge_prompt(question: str, answer: ObservedAnswer) -> str:
    passages = "\n\n".join(f"[{c.index}] {c.quote}" for c in answer.citations) or "(no passages)"
    return f"Passages:\n{passages}\n\nCustomer question:\n{question}\n\nReply:\n{answer.text}"


async def judge_all(
    settings: Any, labels: Sequence[AnswerLabel], observed: Sequence[ObservedAnswer], parallel: int = 4
) -> list[Judgement | None]:
    """Claude's faithfulness verdict on each reply (None: no reply, or the judge's reply was invalid)."""
    from knowledge.answer_eval import Judgement
    from service.api.runtime import preflight
    from service.llm.claude import ClaudeClient
    from service.llm.resilient import LlmUnavailableError, ResilientClaude

    _keys, prices = preflight(settings)
    claude = ResilientClaude(ClaudeClient(settings.anthropic, prices), settings.resilience)
    gate = asyncio.Semaphore(parallel)
    tool = {
        "name": JUDGE_TOOL,
        "description": "Record how faithful the reply is to the passages.",
        "input_schema": Judgement.model_json_schema(),
    }

    async def one(label: AnswerLabel, answer: ObservedAnswer) -> Judgement | None:
        if answer.error or not answer.text.strip():
            return None
        async with gate:
            try:
                completion = await claude.complete(
                    JUDGE_SYSTEM,
                    [{"role": "user", "content": judge_prompt(label.question, answer)}],
                    max_tokens=300,
                    tools=[tool],
                    tool_choice={"type": "tool", "name": JUDGE_TOOL},
                )
            except LlmUnavailableError as exc:  # after retries and fallbacks: this reply goes unjudged
                log.warning("judge unavailable for %r: %s", label.id or label.question[:40], exc)
                return None
        try:
            return Judgement.model_validate(completion.tool_input or {})
        except ValueError as exc:
            log.warning("judge reply for %r is invalid: %s", label.id or label.question[:40], exc)
            return None

    try:
        return list(await asyncio.gather(*(one(label, o) for label, o in zip(labels, observed, strict=True))))
    finally:
        await claude.close()
