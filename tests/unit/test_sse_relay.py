"""The SSE body (service/api/sse.py ``sse_bytes``): events queued together go out as one chunk, each
as it comes otherwise (Claude's tokens arrive gathered: tests/integration/test_claude_stream.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from service.answers.events import Delta, Done, Event, Meta
from service.api.sse import sse_bytes
from service.core.types import Usage

META = Meta(conversation_id="c", message_id="m", language="en", mode="generative", citations=[], kb_version=1)


def _tokens(chunk: bytes) -> list[str]:
    """The delta texts in a chunk, in order (each delta is its own SSE event)."""
    return [line[len('data: {"text": "') : -2] for line in chunk.decode().splitlines() if '"text"' in line]


async def _answer(first_seen: asyncio.Event, rest: list[str]) -> AsyncIterator[Event]:
    yield META
    await asyncio.sleep(0)
    yield Delta("a")
    await first_seen.wait()  # the client has the first token
    for text in rest:
        yield Delta(text)
        await asyncio.sleep(0)  # each token arrives on its own turn of the loop, as from upstream
    yield Done(stop_reason="end_turn", usage=Usage())


async def _chunks() -> list[bytes]:
    first_seen = asyncio.Event()
    chunks: list[bytes] = []
    async for chunk in sse_bytes(_answer(first_seen, ["b", "c", "d"]), 60):
        chunks.append(chunk)
        if b'"a"' in chunk:
            first_seen.set()
    return chunks


def test_each_token_is_written_as_it_comes() -> None:
    chunks = asyncio.run(_chunks())
    assert [_tokens(chunk) for chunk in chunks] == [[], ["a"], ["b"], ["c"], ["d"], []]


def test_a_slow_reader_gets_the_end_and_no_keep_alive_after_it() -> None:
    """The timer keeps queueing keep-alives while the reader is slow, also after the answer ended:
    the stream must still end there (it used to write keep-alives forever)."""

    async def answer() -> AsyncIterator[Event]:
        yield META
        await asyncio.sleep(0)  # the response starts with the meta event alone
        yield Delta("a")
        yield Done(stop_reason="end_turn", usage=Usage())

    async def run() -> list[bytes]:
        stream = sse_bytes(answer(), 0.01)
        chunks = [await asyncio.wait_for(anext(stream), 10)]  # the response starts
        await asyncio.sleep(0.2)  # the reader is slow: the answer ends, keep-alives pile up
        chunks.extend([chunk async for chunk in _bounded(stream)])
        return chunks

    chunks = asyncio.run(run())
    body = b"".join(chunks)
    assert body.count(b"event: done\n") == 1
    assert body.rstrip().endswith(b"}")  # the done event's data is the last thing sent


async def _bounded(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The rest of ``stream``, failing the test if it does not end within 10 s."""
    async with asyncio.timeout(10):
        async for chunk in stream:
            yield chunk
