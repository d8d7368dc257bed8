"""The LLM router (``ROUTER_KIND=llm``) on the resilient layer over the in-process fake LLM, as
production wires it: a forced tool call, transient errors retried, the local router as fallback.
(Its requests over HTTP: tests/unit/test_routing.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fakes.llm import FakeLLM, LLMFailure, LLMReply, bad_request, overloaded
from knowledge.embedder import Embedder
from knowledge.language import LanguageIdentifier
from service.llm.policy import ResilienceSettings
from service.llm.resilient import ResilientClaude
from service.routing.catalog import BUNDLED_INTENTS
from service.routing.llm_router import TOOL_NAME, LlmRouter
from service.routing.route import Route
from service.routing.router import IntentRouter
from service.routing.settings import RouterSettings

QUESTION = ("How long does it take until the money is back on my card?", "en")


@pytest.fixture(scope="module")
def local(embedder: Embedder, languages: LanguageIdentifier) -> IntentRouter:
    return IntentRouter.from_settings(RouterSettings(intents_file=BUNDLED_INTENTS), embedder, languages)


def classify(fake: FakeLLM, local: IntentRouter, *questions: tuple[str, str]) -> list[Route]:
    async def main() -> list[Route]:
        policy = ResilienceSettings(backoff_base_s=0, backoff_max_s=0, jitter_s=0, fallback_models=[])
        resilient = ResilientClaude(fake, policy)
        router = LlmRouter(resilient, local, RouterSettings(intents_file=BUNDLED_INTENTS, kind="llm"))
        try:
            return [await router.classify(text, language) for text, language in questions]
        finally:
            await resilient.close()

    return asyncio.run(main())


def refund(confidence: Any = 0.9) -> LLMReply:
    return LLMReply(tool=TOOL_NAME, tool_input={"intent": "refund", "confidence": confidence})


def test_a_transient_error_is_retried_then_claude_routes(local: IntentRouter) -> None:
    fake = FakeLLM(LLMFailure(overloaded()), refund())
    [route] = classify(fake, local, QUESTION)
    assert route == Route("refund", 0.9, "en", (("refund", 0.9),), source="llm")
    first, second = fake.calls
    assert first == second and first.kind == "complete" and first.model == "claude-haiku-4-5"
    assert first.tool_choice == {"type": "tool", "name": TOOL_NAME} and first.tools is not None
    assert first.text == f'<message language="en">{QUESTION[0]}</message>'


def test_errors_no_retry_fixes_and_unusable_input_route_locally(local: IntentRouter) -> None:
    expected = local.route(*QUESTION)
    fake = FakeLLM(LLMFailure(bad_request()), *[LLMFailure(overloaded())] * 3, refund("very"))
    routes = classify(fake, local, QUESTION, QUESTION, QUESTION)
    assert len(fake.calls) == 1 + 3 + 1  # a 400 once; a 529 for every attempt; one bad answer
    for route in routes:
        assert route.degraded and route.source == "similarity"
        assert (route.intent, route.confidence) == (expected.intent, expected.confidence)
