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
error instead.
The scores are ``knowledge.answer_eval``'s. With ``--judge``
(needs ANTHROPIC_API_KEY) a model grades each reply's faithfulness to its passages through the
service's Claude client (``ResilientClaude``: retries, breakers, fallback models).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import httpx

    from knowledge.answer_eval import AnswerLabel, AnswerScore, Judgement, ObservedAnswer
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

EVAL_USER = "faqstream-eval"
MAX_WAIT_S = 600.0  # the longest a --server run waits for the server's limits on one question
AVOID_LIMITS = (
    "the questions come from one end user (faqstream-eval), so the service's per-user limit "
    "(LIMITS_USER_RPM / LIMITS_USER_BURST) paces them, and the key's (LIMITS_KEY_RPM, or the key's "
    "own --rpm) counts them; to avoid the waits, run without --server (the service built in this "
    "process has no limits) or raise those limits on a staging service (README: Check it on your "
    "own questions)"
)
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
        "language), handoff (false, true or the expected reason), answerable (default true)}. Each "
        "question is asked through POST /v1/answers — of the service at --server URL, else of the "
        "service built in this process from the same settings as `faqstream serve` — and scored: an "
        "expected document among the cited passages, every [n] marker naming a given passage and "
        "quoting it word for word, the detected language of the reply, the handoff decision. --judge "
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
    from knowledge.answer_eval import format_table, read_labels, score, summaries
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


@dataclass
class ServerWaits:
    """What a --server run tells the user (on ``out``) while the service's limits make it wait,
    and how long it waited in all."""

    questions: int
    question: int = 0
    waited_s: float = 0.0
    refusals: int = 0
    out: TextIO | None = None  # None: sys.stderr when printing

    def waiting(self, seconds: float, limit: str) -> None:
        if not self.refusals:
            print(
                f"faqstream: the server's limits make this run wait: {AVOID_LIMITS}",
                file=self.out or sys.stderr,
            )
        self.refusals += 1
        self.waited_s += seconds
        print(
            f"faqstream: question {self.question}/{self.questions}: waiting {seconds:g} s for the "
            f"server's {limit}",
            file=self.out or sys.stderr,
            flush=True,
        )

    def summary(self) -> None:
        if self.refusals:
            print(
                f"faqstream: waited {self.waited_s:g} s in all for the server's limits ({self.refusals} "
                "refusal(s); every question was asked again and scored)",
                file=self.out or sys.stderr,
            )


def ask(
    client: httpx.Client,
    question: str,
    key: str | None,
    waits: ServerWaits | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ObservedAnswer:
    """One question as a new conversation; a failed request is an answer with ``error`` set. A
    refusal by the server's rate limit (or its overload) is waited out and the question asked
    again (``waits`` says so); a used-up budget or a limit still refusing ends the run."""
    import httpx
    from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_delay

    from faqstream.remote import error_body
    from knowledge.answer_eval import ObservedAnswer
    from knowledge.errors import FaqstreamError

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"question": question, "user": EVAL_USER}
    waits = waits or ServerWaits(1)

    def refusal(state: RetryCallState) -> Any:
        return state.outcome.result() if state.outcome is not None else None

    def tell(state: RetryCallState) -> None:
        waits.waiting(state.next_action.sleep if state.next_action else 0.0, limit_name(refusal(state)))

    retrying = Retrying(
        retry=retry_if_result(lambda r: server_wait(r) is not None),
        wait=lambda state: server_wait(refusal(state)) or 1.0,
        stop=stop_after_delay(MAX_WAIT_S),
        before_sleep=tell,
        retry_error_callback=refusal,  # the last refusal, handled below
        sleep=sleep,
    )
    try:
        response: httpx.Response = retrying(client.post, "/v1/answers", json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise FaqstreamError(
            f"cannot reach the service at {client.base_url}: {exc}",
            hint="check the URL (the one `faqstream serve` printed: serving on …)",
        ) from None
    if response.status_code in (401, 403):
        raise FaqstreamError(
            f"the service refused the key ({response.status_code})",
            hint="pass --api-key with a key of the `answer` scope",
        )
    error = error_body(response.text) if response.status_code != 200 else {}
    if response.status_code == 429:  # a budget, or a limit still refusing: no question scored as failed
        raise FaqstreamError(
            f"the service refused question {waits.question} of {waits.questions} (429 "
            f"{error.get('code', '')}): {error.get('message', '')}",
            hint=(
                "a used-up daily budget (LIMITS_DAILY_TOKENS, LIMITS_DAILY_COST_USD) starts again at "
                "the next UTC day: ask with another key (--api-key) or raise the budget"
                if error.get("code") == "budget_exhausted"
                else AVOID_LIMITS
            ),
        )
    if response.status_code != 200:
        return ObservedAnswer(text="", error=f"{response.status_code} {error.get('code', '')}".strip())
    return observed_from(response.json())


def server_wait(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait before asking again — a rate limit's 429, an overloaded
    service's 503 with ``Retry-After`` — or None (an answer, another error, a used-up budget)."""
    from faqstream.remote import error_body
    from service.core.retry_after import retry_after_s

    if response.status_code not in (429, 503):
        return None
    code = error_body(response.text).get("code")
    asked = retry_after_s(response.headers)
    if response.status_code == 429 and code in ("rate_limited", None):
        return max(asked or 1.0, 0.1)
    if response.status_code == 503 and code == "overloaded" and asked is not None:
        return max(asked, 0.1)
    return None


def limit_name(response: httpx.Response) -> str:
    """The limit that refused, as the user can look it up: ``user rate limit (20 per 60 s, burst
    10)`` from the error's ``details.limit`` and the ``RateLimit-Policy`` header."""
    from faqstream.remote import error_body

    error = error_body(response.text)
    if response.status_code == 503:
        return "overload (it is answering as many questions as it may at once)"
    details = error.get("details")
    limit = details.get("limit") if isinstance(details, dict) else None
    if not isinstance(limit, str):
        return "rate limit"
    for item in response.headers.get("RateLimit-Policy", "").split(","):
        quota, _, params = item.strip().partition(";")
        fields = dict(p.strip().partition("=")[::2] for p in params.split(";"))
        if fields.get("comment", "").strip('"') == limit:
            window, burst = fields.get("w", "60"), fields.get("burst", "?")
            return f"{limit} rate limit ({quota} per {window} s, burst {burst})"
    return f"{limit} rate limit"


def observed_from(data: dict[str, Any]) -> ObservedAnswer:
    """The scored fields of a ``POST /v1/answers`` JSON body."""
    from knowledge.answer_eval import CitedPassage, ObservedAnswer

    handoff = data.get("handoff") or None
    return ObservedAnswer(
        text=data.get("answer", ""),
        mode=data.get("mode", ""),
        language=data.get("language", ""),
        citations=[
            CitedPassage(index=c["index"], doc_id=c["doc_id"], quote=c.get("quote", ""))
            for c in data.get("citations", [])
        ],
        handoff_reason=handoff["reason"] if handoff else None,
    )


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
