"""The raw client (``ClaudeClient``) reading the Messages API stream over HTTP, against the fake
Anthropic server: the model's own tool call (``passages_do_not_answer``) after its text, as the
real API sends it, and the resilient layer passing the tools and the signal through."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from fakes import FakeAnthropic, Reply
from service.answers.prompts import ANSWER_TOOLS, NOT_IN_DOCUMENTS
from service.llm.claude import ClaudeClient
from service.llm.interface import Completed, Started, StreamEvent, TextDelta, ToolCall
from service.llm.policy import ResilienceSettings
from service.llm.resilient import ResilientClaude
from service.settings.anthropic import AnthropicSettings

T = TypeVar("T")


def run_client(fake: FakeAnthropic, body: Callable[[ClaudeClient], Awaitable[T]]) -> T:
    async def main() -> T:
        client = ClaudeClient(
            AnthropicSettings(api_key=SecretStr("test"), base_url=fake.base_url, timeout_s=10)
        )
        try:
            return await body(client)
        finally:
            await client.close()

    return asyncio.run(main())


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server
    assert server.server_errors == []


SYSTEM: list[dict[str, Any]] = [{"type": "text", "text": "You answer customer questions."}]
QUESTION: list[dict[str, Any]] = [{"role": "user", "content": "Do you have a sauna?"}]
SORRY = "I'm sorry, our documents don't say whether there is a sauna."


def test_the_stream_carries_the_tool_call_after_the_text(fake: FakeAnthropic) -> None:
    fake.reply = Reply(SORRY, tool=NOT_IN_DOCUMENTS, tool_input={"missing": "sauna"})

    async def body(client: ClaudeClient) -> list[StreamEvent]:
        return [e async for e in client.stream(SYSTEM, QUESTION, tools=ANSWER_TOOLS)]

    started, *deltas, done = run_client(fake, body)
    assert isinstance(started, Started) and started.model == AnthropicSettings().model
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == SORRY
    assert isinstance(done, Completed) and done.stop_reason == "tool_use"
    assert done.tool_calls == (ToolCall(NOT_IN_DOCUMENTS, {"missing": "sauna"}, done.tool_calls[0].id),)
    assert done.called(NOT_IN_DOCUMENTS) and done.tool_calls[0].id.startswith("toolu_")
    (request,) = fake.message_requests()
    assert request.body["tools"] == ANSWER_TOOLS and "tool_choice" not in request.body


def test_with_a_read_pace_the_tokens_of_an_interval_come_as_one_delta_and_the_first_at_once() -> None:
    """``read_pace_s``: after a text delta the stream is read again that much later, and the tokens
    that arrived meanwhile come as one ``TextDelta`` (the same text, far fewer events for every
    layer above); the first token is never held back. Without a pace each read is its own delta."""
    text = " ".join(f"word{i}" for i in range(30))

    def collect(pace: float) -> list[StreamEvent]:
        async def main() -> list[StreamEvent]:
            settings = AnthropicSettings(api_key=SecretStr("test"), base_url=server.base_url, timeout_s=10)
            client = ClaudeClient(settings, read_pace_s=pace)
            try:
                return [event async for event in client.stream(SYSTEM, QUESTION)]
            finally:
                await client.close()

        return asyncio.run(main())

    with FakeAnthropic(reply=Reply(text), token_delay_s=0.01) as server:
        paced = [e.text for e in collect(0.1) if isinstance(e, TextDelta)]
        unpaced = [e.text for e in collect(0.0) if isinstance(e, TextDelta)]
    assert "".join(paced) == "".join(unpaced) == text
    assert len(paced) < 30 / 2 and len(paced) < len(unpaced)  # one delta per read, a read per pace

    async def first_token(client: ClaudeClient) -> StreamEvent:
        stream = client.stream(SYSTEM, QUESTION)
        try:
            event = await asyncio.wait_for(anext(stream), 10)
            while not isinstance(event, TextDelta):
                event = await asyncio.wait_for(anext(stream), 10)
            return event
        finally:
            await stream.aclose()

    with FakeAnthropic(reply=Reply(text)) as server:
        settings = AnthropicSettings(api_key=SecretStr("test"), base_url=server.base_url, timeout_s=10)

        async def main() -> StreamEvent:
            client = ClaudeClient(settings, read_pace_s=60)  # a pace would hold a later token 60 s
            try:
                return await first_token(client)
            finally:
                await client.close()

        assert isinstance(asyncio.run(main()), TextDelta)


def test_a_bare_signal_and_a_cut_off_one_are_still_recognised(fake: FakeAnthropic) -> None:
    async def body(client: ClaudeClient) -> list[StreamEvent]:
        return [e async for e in client.stream(SYSTEM, QUESTION, tools=ANSWER_TOOLS)]

    fake.reply = Reply(tool=NOT_IN_DOCUMENTS, tool_input={"missing": "sauna"})
    started, done = run_client(fake, body)  # no text: Started comes just before the end
    assert isinstance(started, Started)
    assert isinstance(done, Completed) and done.called(NOT_IN_DOCUMENTS)

    # max_tokens (1024) ends the JSON early: the call is known, its input is not
    fake.reply = Reply("x", tool=NOT_IN_DOCUMENTS, tool_input={"missing": "a long list of things " * 400})
    *_, cut = run_client(fake, body)
    assert isinstance(cut, Completed) and cut.stop_reason == "max_tokens"
    assert cut.tool_calls == (ToolCall(NOT_IN_DOCUMENTS, {}, cut.tool_calls[0].id),)

    fake.reply = "Plain answer [1]."
    *_, plain = run_client(fake, body)
    assert isinstance(plain, Completed) and plain.tool_calls == () and not plain.called(NOT_IN_DOCUMENTS)


def test_the_resilient_layer_passes_the_tools_and_the_signal_through(fake: FakeAnthropic) -> None:
    fake.reply = Reply(tool=NOT_IN_DOCUMENTS, tool_input={"missing": "sauna"})

    async def main() -> list[Any]:
        settings = AnthropicSettings(api_key=SecretStr("test"), base_url=fake.base_url, timeout_s=10)
        resilient = ResilientClaude(ClaudeClient(settings), ResilienceSettings(first_token_timeout_s=5))
        try:
            return [e async for e in resilient.stream(SYSTEM, QUESTION, tools=ANSWER_TOOLS)]
        finally:
            await resilient.close()

    started, done = asyncio.run(main())  # no text at all is a complete reply, not a first-token timeout
    assert isinstance(started, Started) and isinstance(done, Completed) and done.called(NOT_IN_DOCUMENTS)
    assert fake.message_requests()[0].body["tools"] == ANSWER_TOOLS
