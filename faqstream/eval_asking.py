"""Asking the service the questions of ``faqstream eval answers``: one ``POST /v1/answers`` per
question, as a new conversation of the user ``faqstream-eval``, and the reply's scored fields.

Against a running service (``--server``) its limits apply: a question refused with 429
``rate_limited`` (or 503 ``overloaded`` with ``Retry-After``) is asked again after the wait the
service names (tenacity), and ``ServerWaits`` says on stderr which limit it waits for, how long
and how to avoid it; no question is scored as an error because of a limit. A used-up daily budget
(``budget_exhausted``), or a limit still refusing after ``MAX_WAIT_S`` of waiting for one question,
ends the run with an error instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import httpx

    from knowledge.answer_eval import ObservedAnswer

EVAL_USER = "faqstream-eval"
MAX_WAIT_S = 600.0  # the longest a --server run waits for the server's limits on one question
AVOID_LIMITS = (
    "the questions come from one end user (faqstream-eval), so the service's per-user limit "
    "(LIMITS_USER_RPM / LIMITS_USER_BURST) paces them, and the key's (LIMITS_KEY_RPM, or the key's "
    "own --rpm) counts them; to avoid the waits, run without --server (the service built in this "
    "process has no limits) or raise those limits on a staging service (README: Check it on your "
    "own questions)"
)


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
