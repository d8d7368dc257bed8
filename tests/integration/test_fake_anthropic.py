"""The fake Anthropic API, exercised with the real `anthropic` SDK over HTTP on loopback."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Iterator
from typing import Any, cast

import anthropic
import httpx2
import pytest
from anthropic.types import InputJSONDelta, MessageParam, TextBlock, TextDelta, ToolUseBlock

from fakes import (
    DropMidStream,
    ErrorEvent,
    FakeAnthropic,
    Hang,
    Reply,
    SlowFirstByte,
    Status,
    replies,
    tool_inputs,
)
from fakes import anthropic_protocol as proto

MODEL = "claude-sonnet-4-6"
QUESTION: list[MessageParam] = [{"role": "user", "content": "How do I get a refund?"}]
LONG_POLICY = "Refund policy: items may be returned within thirty days. " * 300  # ~3000 tokens


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as sdk:
        yield sdk


def _raw(fake: FakeAnthropic, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
    host, port = fake.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _cached_system(text: str = LONG_POLICY, ttl: str | None = None) -> Any:
    cache_control: dict[str, str] = {"type": "ephemeral"} | ({"ttl": ttl} if ttl else {})
    return [
        {"type": "text", "text": "You answer customer questions."},
        {"type": "text", "text": text, "cache_control": cache_control},
    ]


# ---------------------------------------------------------------- messages


def test_non_streaming_create_returns_message_and_is_recorded(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    msg = client.messages.create(model=MODEL, max_tokens=512, system="Be brief.", messages=QUESTION)

    assert msg.id.startswith("msg_") and msg.type == "message" and msg.role == "assistant"
    assert msg.model == MODEL
    assert isinstance(msg.content[0], TextBlock) and msg.content[0].text == proto.DEFAULT_REPLY
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None
    assert msg.usage.input_tokens == proto.count_tokens("Be brief. How do I get a refund?")
    assert msg.usage.output_tokens == len(proto.split_reply(proto.DEFAULT_REPLY))
    assert msg.usage.cache_creation_input_tokens == 0 and msg.usage.cache_read_input_tokens == 0
    assert msg.usage.cache_creation is not None

    [req] = fake.requests
    assert (req.method, req.path) == ("POST", "/v1/messages")
    assert req.headers["authorization"] == "Bearer test"  # this SDK sends Bearer, not x-api-key
    assert req.headers["anthropic-version"] and req.headers["content-type"] == "application/json"
    assert req.json == {"model": MODEL, "max_tokens": 512, "system": "Be brief.", "messages": QUESTION}


def test_reply_is_cut_by_max_tokens_and_stop_sequences(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.reply = lambda body: f"Echo: {body['messages'][-1]['content']} END and more"

    cut = client.messages.create(model=MODEL, max_tokens=3, messages=QUESTION)
    assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens == 3
    assert isinstance(cut.content[0], TextBlock) and cut.content[0].text == "Echo: How"

    stopped = client.messages.create(model=MODEL, max_tokens=100, messages=QUESTION, stop_sequences=["END"])
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "END"
    assert (
        isinstance(stopped.content[0], TextBlock)
        and stopped.content[0].text == "Echo: How do I get a refund? "
    )


def test_stream_helper_accumulates_reply_and_usage(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model=MODEL, max_tokens=512, messages=QUESTION) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) > 10 and "".join(pieces) == proto.DEFAULT_REPLY
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens == proto.count_tokens("How do I get a refund?")
    assert final.usage.output_tokens == len(pieces)


def test_raw_stream_event_order(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.reply = "One two three."
    events = list(client.messages.create(model=MODEL, max_tokens=512, messages=QUESTION, stream=True))

    kinds = [e.type for e in events]
    assert kinds == ["message_start", "content_block_start"] + ["content_block_delta"] * 4 + [
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start, delta = events[0], events[-2]
    assert start.type == "message_start" and start.message.content == [] and start.message.stop_reason is None
    assert start.message.usage.output_tokens == 1
    assert (
        delta.type == "message_delta"
        and delta.delta.stop_reason == "end_turn"
        and delta.usage.output_tokens == 4
    )


def test_wire_format_of_stream_has_event_lines_and_ping(fake: FakeAnthropic) -> None:
    fake.reply = "Hi there"
    body = json.dumps({"model": MODEL, "max_tokens": 10, "messages": QUESTION, "stream": True}).encode()
    status, headers, raw = _raw(fake, "POST", "/v1/messages", body, {"x-api-key": "k"})

    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert headers["request-id"].startswith("req_") and headers["transfer-encoding"] == "chunked"
    frames = [f for f in raw.decode().split("\n\n") if f]
    names = [f.splitlines()[0] for f in frames]
    assert names == [
        "event: message_start",
        "event: content_block_start",
        "event: ping",
        "event: content_block_delta",
        "event: content_block_delta",
        "event: content_block_stop",
        "event: message_delta",
        "event: message_stop",
    ]
    assert all(f.splitlines()[1].startswith("data: {") for f in frames)


def test_async_client_streams(fake: FakeAnthropic) -> None:
    async def run() -> str:
        async with (
            anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test", max_retries=0) as sdk,
            sdk.messages.stream(model=MODEL, max_tokens=512, messages=QUESTION) as stream,
        ):
            return "".join([t async for t in stream.text_stream])

    assert asyncio.run(run()) == proto.DEFAULT_REPLY


def test_connections_are_kept_alive(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    for _ in range(3):
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
    assert len({r.peer for r in fake.requests}) == 1


# ---------------------------------------------------------------- scripted faults


def test_429_maps_to_rate_limit_error_with_retry_after(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.script(
        Status(429, "rate_limit_error", "Number of requests has exceeded your rate limit", retry_after=2)
    )
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)

    err = info.value
    assert err.status_code == 429 and err.type == "rate_limit_error"
    assert err.response.headers["retry-after"] == "2"
    assert err.request_id is not None and err.request_id.startswith("req_")
    assert isinstance(err.body, dict) and err.body["request_id"] == err.request_id
    assert err.body["error"] == {"type": "rate_limit_error", "message": err.api_message}
    client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)  # the fault was used up


def test_529_and_500_map_to_server_error_classes(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.script(
        Status(529, "overloaded_error", "Overloaded"), Status(500, "api_error", "Internal server error")
    )
    with pytest.raises(anthropic.OverloadedError) as overloaded:
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
    assert (
        isinstance(overloaded.value, anthropic.InternalServerError)
        and overloaded.value.type == "overloaded_error"
    )

    with pytest.raises(anthropic.InternalServerError) as internal:
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION, stream=True)
    assert type(internal.value) is anthropic.InternalServerError and internal.value.status_code == 500


def test_sdk_retries_honour_retry_after_ms(fake: FakeAnthropic) -> None:
    fake.script(Status(529, "overloaded_error", "Overloaded", retry_after_ms=10))
    with anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=2) as sdk:
        msg = sdk.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
    assert msg.stop_reason == "max_tokens"
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1"]


def test_drop_mid_stream_raises_transport_error_after_some_text(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.script(DropMidStream(after_deltas=3))
    received: list[str] = []
    with (
        pytest.raises((anthropic.APIConnectionError, httpx2.TransportError)),
        client.messages.stream(model=MODEL, max_tokens=512, messages=QUESTION) as stream,
    ):
        received.extend(stream.text_stream)
    assert "".join(received) == "Thanks for your"


def test_error_event_mid_stream_raises_api_status_error(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.script(ErrorEvent(after_deltas=2))
    received: list[str] = []
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        client.messages.stream(model=MODEL, max_tokens=512, messages=QUESTION) as stream,
    ):
        received.extend(stream.text_stream)
    assert "".join(received) == "Thanks for"
    # The HTTP status was already 200, so the SDK cannot pick a subclass: it raises the base class.
    assert info.value.status_code == 200 and info.value.type == "overloaded_error"
    assert isinstance(info.value.body, dict) and info.value.body["error"]["message"] == "Overloaded"


def test_slow_first_byte_trips_sdk_timeout_and_is_seen_as_disconnect(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.script(SlowFirstByte(0.6))
    with pytest.raises(anthropic.APITimeoutError):
        client.with_options(timeout=0.15).messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
    [gone] = fake.wait_for_disconnects(1, timeout=1.0)
    assert gone.request_index == 0 and gone.deltas_sent == 0 and not gone.stream


def test_hang_then_close_is_a_connection_error(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.script(Hang(0.05))
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)


def test_client_closing_a_stream_is_recorded_as_disconnect(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.token_delay_s = 0.02  # the whole reply would take ~1 s
    stream = client.messages.create(model=MODEL, max_tokens=512, messages=QUESTION, stream=True)
    first = [next(stream), next(stream)]
    stream.close()

    assert [e.type for e in first] == ["message_start", "content_block_start"]
    [gone] = fake.wait_for_disconnects(1, timeout=1.0)
    assert gone.request_index == 0 and gone.stream and gone.path == "/v1/messages"
    assert gone.deltas_sent < len(proto.split_reply(proto.DEFAULT_REPLY)) // 2


def test_async_task_cancellation_reaches_the_server(fake: FakeAnthropic) -> None:
    fake.first_token_delay_s = 2.0

    async def run() -> None:
        async with anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test", max_retries=0) as sdk:

            async def consume() -> None:
                async with sdk.messages.stream(model=MODEL, max_tokens=512, messages=QUESTION) as stream:
                    async for _ in stream.text_stream:
                        pass

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(run())
    [gone] = fake.wait_for_disconnects(1, timeout=1.0)
    assert gone.stream and gone.deltas_sent == 0


# ---------------------------------------------------------------- prompt caching


def test_prompt_cache_write_then_read(client: anthropic.Anthropic) -> None:
    system = _cached_system()
    prefix = proto.count_tokens("You answer customer questions.") + proto.count_tokens(LONG_POLICY)
    assert prefix > proto.min_cache_tokens_for(MODEL)

    first = client.messages.create(model=MODEL, max_tokens=5, system=system, messages=QUESTION)
    assert first.usage.cache_creation_input_tokens == prefix and first.usage.cache_read_input_tokens == 0
    assert (
        first.usage.cache_creation is not None
        and first.usage.cache_creation.ephemeral_5m_input_tokens == prefix
    )
    assert first.usage.input_tokens == proto.count_tokens("How do I get a refund?")

    other: list[MessageParam] = [{"role": "user", "content": "Can I return shoes?"}]
    with client.messages.stream(model=MODEL, max_tokens=5, system=system, messages=other) as stream:
        second = stream.get_final_message()
    assert second.usage.cache_read_input_tokens == prefix and second.usage.cache_creation_input_tokens == 0
    assert second.usage.input_tokens == proto.count_tokens("Can I return shoes?")

    third = client.messages.create(model="claude-haiku-4-5", max_tokens=5, system=system, messages=QUESTION)
    assert third.usage.cache_read_input_tokens == 0  # the cache is per model


def test_prefix_below_model_minimum_is_not_cached(client: anthropic.Anthropic) -> None:
    system = _cached_system("Short policy text.")
    for _ in range(2):
        msg = client.messages.create(model=MODEL, max_tokens=5, system=system, messages=QUESTION)
        assert msg.usage.cache_creation_input_tokens == 0 and msg.usage.cache_read_input_tokens == 0
        assert msg.usage.input_tokens == proto.count_tokens(
            "You answer customer questions. Short policy text. How do I get a refund?"
        )


def test_min_cache_tokens_is_configurable_and_ttl_expires() -> None:
    now = [1000.0]
    with (
        FakeAnthropic(min_cache_tokens={MODEL: 5}, clock=lambda: now[0]) as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as sdk,
    ):

        def usage(text: str, ttl: str | None = None) -> tuple[int, int]:
            msg = sdk.messages.create(
                model=MODEL, max_tokens=5, system=_cached_system(text, ttl), messages=QUESTION
            )
            return msg.usage.cache_creation_input_tokens or 0, msg.usage.cache_read_input_tokens or 0

        prefix = proto.count_tokens("You answer customer questions. Short policy text.")
        assert usage("Short policy text.") == (prefix, 0)
        assert usage("Short policy text.") == (0, prefix)
        now[0] += 299  # a hit refreshes the 5 minute lifetime
        assert usage("Short policy text.") == (0, prefix)
        now[0] += 301
        assert usage("Short policy text.") == (prefix, 0)

        one_hour = sdk.messages.create(
            model=MODEL, max_tokens=5, system=_cached_system("Other text.", "1h"), messages=QUESTION
        )
        other = proto.count_tokens("You answer customer questions. Other text.")
        assert one_hour.usage.cache_creation is not None
        assert one_hour.usage.cache_creation.ephemeral_1h_input_tokens == other
        assert one_hour.usage.cache_creation.ephemeral_5m_input_tokens == 0
        now[0] += 1800
        assert usage("Short policy text.") == (prefix, 0)  # the 5 minute entry is gone
        assert usage("Other text.", "1h") == (0, other)  # the 1 hour entry is not


def test_breakpoints_follow_tools_system_messages_order(client: anthropic.Anthropic) -> None:
    tools: Any = [
        {
            "name": "lookup_policy",
            "description": "Look up a policy document. " * 400,
            "input_schema": {"type": "object", "properties": {"id": {"type": "string"}}},
            "cache_control": {"type": "ephemeral"},
        }
    ]

    def create(system_text: str) -> anthropic.types.Usage:
        system: Any = [{"type": "text", "text": system_text * 300, "cache_control": {"type": "ephemeral"}}]
        return client.messages.create(
            model=MODEL, max_tokens=5, tools=tools, system=system, messages=QUESTION
        ).usage

    first = create("Policy A applies. ")
    written = first.cache_creation_input_tokens or 0
    assert written > 0 and first.cache_read_input_tokens == 0
    second = create("Policy B applies. ")  # system changed: only the tools prefix is read back
    read = second.cache_read_input_tokens or 0
    assert 0 < read < written and read + (second.cache_creation_input_tokens or 0) == written
    assert second.input_tokens == proto.count_tokens("How do I get a refund?")


def test_more_than_four_breakpoints_is_a_bad_request(client: anthropic.Anthropic) -> None:
    system: Any = [
        {"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}} for i in range(5)
    ]
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=MODEL, max_tokens=5, system=system, messages=QUESTION)
    assert info.value.type == "invalid_request_error" and "maximum of 4" in (info.value.api_message or "")


# ---------------------------------------------------------------- other endpoints


def test_count_tokens_matches_usage(client: anthropic.Anthropic) -> None:
    counted = client.messages.count_tokens(model=MODEL, system="Réponds en français.", messages=QUESTION)
    used = client.messages.create(model=MODEL, max_tokens=5, system="Réponds en français.", messages=QUESTION)
    assert counted.input_tokens == used.usage.input_tokens == 4 + 7
    assert proto.count_tokens("退货政策 is 30 days.") == 4 + 4


def test_batches_create_retrieve_results() -> None:
    now = [5000.0]
    with (
        FakeAnthropic(batch_delay_s=60, clock=lambda: now[0], reply=replies("first", "second")) as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as sdk,
    ):
        requests: Any = [
            {"custom_id": "q1", "params": {"model": MODEL, "max_tokens": 50, "messages": QUESTION}},
            {"custom_id": "q2", "params": {"model": MODEL, "max_tokens": 50, "messages": QUESTION}},
            {"custom_id": "bad", "params": {"model": MODEL, "messages": QUESTION}},
        ]
        batch = sdk.messages.batches.create(requests=requests)
        assert batch.id.startswith("msgbatch_") and batch.processing_status == "in_progress"
        assert batch.request_counts.processing == 3 and batch.results_url is None
        with pytest.raises(anthropic.AnthropicError, match="results_url"):
            sdk.messages.batches.results(batch.id)

        now[0] += 61
        done = sdk.messages.batches.retrieve(batch.id)
        assert done.processing_status == "ended" and done.ended_at is not None
        assert (done.request_counts.succeeded, done.request_counts.errored) == (2, 1)
        assert done.results_url == f"{fake.base_url}/v1/messages/batches/{batch.id}/results"

        results = {r.custom_id: r.result for r in sdk.messages.batches.results(batch.id)}
        q1, q2, bad = results["q1"], results["q2"], results["bad"]
        assert q1.type == "succeeded" and q2.type == "succeeded" and bad.type == "errored"
        assert isinstance(q1.message.content[0], TextBlock) and q1.message.content[0].text == "first"
        assert isinstance(q2.message.content[0], TextBlock) and q2.message.content[0].text == "second"
        assert bad.error.error.type == "invalid_request_error"
        assert [b.id for b in sdk.messages.batches.list()] == [batch.id]
        paths = [r.path for r in fake.requests]
        assert f"/v1/messages/batches/{batch.id}/results" in paths


def test_batches_are_refused_for_bad_custom_ids_and_list_in_pages() -> None:
    params = {"model": MODEL, "max_tokens": 5, "messages": QUESTION}
    with (
        FakeAnthropic() as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as sdk,
    ):
        for bad in ("has space", "x" * 65, ""):
            with pytest.raises(anthropic.BadRequestError, match="custom_id"):
                sdk.messages.batches.create(requests=cast(Any, [{"custom_id": bad, "params": params}]))
        with pytest.raises(anthropic.BadRequestError, match="not unique"):
            sdk.messages.batches.create(requests=cast(Any, [{"custom_id": "a", "params": params}] * 2))
        created = [
            sdk.messages.batches.create(requests=cast(Any, [{"custom_id": f"c{i}", "params": params}])).id
            for i in range(5)
        ]
        first = sdk.messages.batches.list(limit=2)
        assert [b.id for b in first.data] == created[::-1][:2] and first.has_more
        assert [b.id for b in sdk.messages.batches.list(limit=2)] == created[::-1]  # the SDK pages on
        assert len(fake.batch_creates()) == 9  # refused ones are requests too


def test_batch_results_come_out_of_order_and_expire_after_a_day() -> None:
    now = [1000.0]
    params = {"model": MODEL, "max_tokens": 5, "messages": QUESTION}
    ids = [f"q{i:02d}" for i in range(20)]
    with (
        FakeAnthropic(batch_delay_s=90_000, clock=lambda: now[0]) as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as sdk,
    ):
        quick = sdk.messages.batches.create(
            requests=cast(Any, [{"custom_id": i, "params": params} for i in ids])
        )
        with pytest.raises(anthropic.BadRequestError, match="cancel it first"):
            sdk.messages.batches.delete(quick.id)
        now[0] += 86_400
        done = sdk.messages.batches.retrieve(quick.id)
        assert done.processing_status == "ended" and done.ended_at == done.expires_at
        assert done.request_counts.expired == 20 and done.request_counts.processing == 0
        results = [r.custom_id for r in sdk.messages.batches.results(quick.id)]
        assert sorted(results) == ids and results != ids  # match them by custom_id
        assert {r.result.type for r in sdk.messages.batches.results(quick.id)} == {"expired"}
        assert sdk.messages.batches.delete(quick.id).type == "message_batch_deleted"


def test_auth_routing_and_validation_errors(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    good = json.dumps({"model": MODEL, "max_tokens": 5, "messages": QUESTION}).encode()
    status, headers, raw = _raw(fake, "POST", "/v1/messages", good, {"content-type": "application/json"})
    assert status == 401 and headers["content-length"] == str(len(raw))
    assert json.loads(raw)["error"]["type"] == "authentication_error"

    status, _, raw = _raw(fake, "POST", "/v1/messages", good, {"x-api-key": "k"})  # x-api-key works too
    assert status == 200 and json.loads(raw)["type"] == "message"

    status, _, raw = _raw(fake, "POST", "/v1/messages", b"{not json", {"x-api-key": "k"})
    assert status == 400 and json.loads(raw)["error"]["type"] == "invalid_request_error"

    with pytest.raises(anthropic.NotFoundError):
        client.get("/v1/nope", cast_to=object)
    with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
        client.post("/v1/messages", body={"model": MODEL, "messages": QUESTION}, cast_to=object)

    fake.reply = lambda body: body["no such key"]
    with pytest.raises(anthropic.InternalServerError, match="fake server error"):
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
    assert isinstance(fake.server_errors[0], KeyError)

    fake.reset()
    assert fake.requests == [] and fake.disconnects == [] and fake.server_errors == []


def test_only_the_configured_keys_are_accepted_and_keys_can_be_revoked() -> None:
    with FakeAnthropic(api_keys=["right"]) as fake:
        with anthropic.Anthropic(base_url=fake.base_url, api_key="wrong", max_retries=0) as wrong:
            fake.script(Status(529, "overloaded_error", "Overloaded"))
            with pytest.raises(anthropic.AuthenticationError) as refused:
                wrong.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
            with pytest.raises(anthropic.AuthenticationError):
                wrong.models.list(limit=1)
        body = refused.value.body
        assert refused.value.status_code == 401
        assert isinstance(body, dict) and body["type"] == "error"
        assert body["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}
        # The SDK sends the key as a bearer token; the real API accepts it in x-api-key as well.
        assert fake.requests[0].headers["authorization"] == "Bearer wrong"
        assert "x-api-key" not in fake.requests[0].headers
        status, _, raw = _raw(fake, "GET", "/v1/models", None, {"x-api-key": "right"})
        assert status == 200 and json.loads(raw)["data"]
        status, _, raw = _raw(fake, "GET", "/v1/models", None, {})
        assert status == 401 and json.loads(raw)["error"]["message"] == "x-api-key header is required"

        with anthropic.Anthropic(base_url=fake.base_url, api_key="right", max_retries=0) as right:
            # The refused request did not take the scripted fault: the next accepted one gets it.
            with pytest.raises(anthropic.InternalServerError):
                right.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
            assert right.messages.create(model=MODEL, max_tokens=5, messages=QUESTION).content
            fake.api_keys = frozenset({"rotated"})  # revoked while the client runs
            with pytest.raises(anthropic.AuthenticationError):
                right.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
            fake.api_keys = None  # any key again
            assert right.models.list(limit=1).data


def test_models_list_pages_and_retrieve(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    everything = [m.id for m in client.models.list()]
    assert everything == list(proto.DEFAULT_MODELS) and MODEL in everything
    first = client.models.list(limit=1)
    assert [m.id for m in first.data] == everything[:1] and first.has_more is True
    assert [m.id for m in client.models.list(limit=2)] == everything  # the SDK follows the cursor
    later = client.models.list(limit=2, after_id=everything[0])
    assert [m.id for m in later.data] == everything[1:3] and later.last_id == everything[2]
    earlier = client.models.list(limit=5, before_id=everything[2])
    assert [m.id for m in earlier.data] == everything[:2] and earlier.has_more is False

    info = client.models.retrieve(MODEL)
    assert (info.id, info.type, info.display_name, info.lifecycle) == (
        MODEL,
        "model",
        "Claude Sonnet 4.6",
        "active",
    )
    assert info.created_at.year == 1970  # documented for "release date unknown"
    with pytest.raises(anthropic.NotFoundError, match="not_found_error"):
        client.models.retrieve("claude-nonexistent-1")
    with pytest.raises(anthropic.BadRequestError, match="limit"):
        client.models.list(limit=0)


# ---------------------------------------------------------------- forced tool calls

ROUTE_TOOL: Any = {
    "name": "route_question",
    "description": "Classify the customer's question.",
    "input_schema": {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": ["refund", "shipping", "other"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "note": {"type": "string"},
        },
        "required": ["intent", "confidence"],
    },
}
OTHER_TOOL: Any = {
    "name": "lookup_order",
    "input_schema": {
        "type": "object",
        "properties": {"order": {"type": "string", "minLength": 3}},
        "required": ["order"],
    },
}
FORCE_ROUTE: Any = {"type": "tool", "name": "route_question"}
NO_SCHEMA: Any = {"name": "x"}
BAD_NAME: Any = {"name": "bad name!", "input_schema": {"type": "object"}}


def test_forced_tool_call_returns_tool_use_block_from_the_responder(fake: FakeAnthropic) -> None:
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def responder(body: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
        seen.append((body, tool))
        return {"intent": "refund", "confidence": 0.9}

    fake.tool_responder = responder
    with anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as sdk:
        msg = sdk.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=QUESTION,
            tools=[OTHER_TOOL, ROUTE_TOOL],
            tool_choice=FORCE_ROUTE,
        )

    assert msg.stop_reason == "tool_use" and msg.stop_sequence is None
    [block] = msg.content
    assert isinstance(block, ToolUseBlock)
    assert block.id.startswith("toolu_") and block.name == "route_question"
    assert block.input == {"intent": "refund", "confidence": 0.9}
    assert msg.usage.output_tokens == len(proto.split_reply(json.dumps(block.input)))
    [(body, tool)] = seen
    assert tool == ROUTE_TOOL and body["messages"] == QUESTION
    # the tool definitions are part of the prompt, so they count as input tokens
    assert msg.usage.input_tokens > proto.count_tokens("How do I get a refund?")


def test_forced_tool_call_streams_input_json_deltas(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.tool_responder = tool_inputs(
        {"intent": "shipping", "confidence": 0.62, "note": "where is my parcel"}
    )
    events: list[Any] = list(
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=QUESTION,
            tools=[ROUTE_TOOL],
            tool_choice=FORCE_ROUTE,
            stream=True,
        )
    )

    start = events[1]
    assert start.type == "content_block_start" and isinstance(start.content_block, ToolUseBlock)
    assert start.content_block.input == {} and start.content_block.id.startswith("toolu_")
    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    assert all(isinstance(d, InputJSONDelta) for d in deltas) and deltas[0].partial_json == ""
    joined = "".join(d.partial_json for d in deltas)
    assert json.loads(joined) == {"intent": "shipping", "confidence": 0.62, "note": "where is my parcel"}
    assert len(deltas) > 5  # really streamed in pieces
    end = events[-2]
    assert end.type == "message_delta" and end.delta.stop_reason == "tool_use"
    assert end.usage.output_tokens == len(deltas) - 1  # the opening empty delta is not a token

    with client.messages.stream(
        model=MODEL, max_tokens=100, messages=QUESTION, tools=[ROUTE_TOOL], tool_choice=FORCE_ROUTE
    ) as stream:
        final = stream.get_final_message()
    [block] = final.content
    assert isinstance(block, ToolUseBlock) and block.input["intent"] == "shipping"
    assert final.stop_reason == "tool_use"


def test_tool_choice_any_uses_first_tool_and_default_input_follows_the_schema(
    client: anthropic.Anthropic,
) -> None:
    msg = client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=QUESTION,
        tools=[ROUTE_TOOL, OTHER_TOOL],
        tool_choice={"type": "any"},
    )
    [block] = msg.content
    assert isinstance(block, ToolUseBlock) and block.name == "route_question"
    assert block.input == {"intent": "refund", "confidence": 0.0}  # first enum value, minimum, required only

    named = client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=QUESTION,
        tools=[ROUTE_TOOL, OTHER_TOOL],
        tool_choice={"type": "tool", "name": "lookup_order"},
    )
    assert isinstance(named.content[0], ToolUseBlock) and named.content[0].input == {"order": "xxx"}


def test_unforced_tool_choice_still_answers_with_text(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.reply = "Plain text."
    for choice in ({"type": "auto"}, {"type": "none"}, None):
        extra: Any = {} if choice is None else {"tool_choice": choice}
        msg = client.messages.create(
            model=MODEL, max_tokens=50, messages=QUESTION, tools=[ROUTE_TOOL], **extra
        )
        assert msg.stop_reason == "end_turn"
        assert isinstance(msg.content[0], TextBlock) and msg.content[0].text == "Plain text."


def test_tool_call_cut_by_max_tokens(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.tool_responder = tool_inputs(
        {"intent": "refund", "confidence": 0.9, "note": "a long explanation " * 5}
    )
    msg = client.messages.create(
        model=MODEL, max_tokens=4, messages=QUESTION, tools=[ROUTE_TOOL], tool_choice=FORCE_ROUTE
    )
    assert msg.stop_reason == "max_tokens" and msg.usage.output_tokens == 4
    assert isinstance(msg.content[0], ToolUseBlock) and msg.content[0].input == {}

    events: list[Any] = list(
        client.messages.create(
            model=MODEL,
            max_tokens=4,
            messages=QUESTION,
            tools=[ROUTE_TOOL],
            tool_choice=FORCE_ROUTE,
            stream=True,
        )
    )
    partial = "".join(
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and isinstance(e.delta, InputJSONDelta)
    )
    assert partial == '{"intent"' and events[-2].delta.stop_reason == "max_tokens"


def test_tool_requests_are_validated(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError, match="not found in tools"):
        client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=QUESTION,
            tools=[ROUTE_TOOL],
            tool_choice={"type": "tool", "name": "nope"},
        )
    with pytest.raises(anthropic.BadRequestError, match="only be specified while providing tools"):
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION, tool_choice=FORCE_ROUTE)
    with pytest.raises(anthropic.BadRequestError, match="input_schema"):
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION, tools=[NO_SCHEMA])
    with pytest.raises(anthropic.BadRequestError, match="name"):
        client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=QUESTION,
            tools=[BAD_NAME],
        )
    with pytest.raises(anthropic.BadRequestError, match="unique"):
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION, tools=[ROUTE_TOOL, ROUTE_TOOL])

    fake.tool_responder = cast(Any, lambda body, tool: "not a dict")
    with pytest.raises(anthropic.InternalServerError, match="fake server error"):
        client.messages.create(
            model=MODEL, max_tokens=5, messages=QUESTION, tools=[ROUTE_TOOL], tool_choice=FORCE_ROUTE
        )
    assert isinstance(fake.server_errors.pop(), TypeError)


# ---------------------------------------------------------------- the model's own tool calls

SIGNAL_TOOL: Any = {
    "name": "passages_do_not_answer",
    "description": "The passages do not answer the question.",
    "input_schema": {
        "type": "object",
        "properties": {"missing": {"type": "string"}},
        "required": ["missing"],
    },
}
SORRY = "Sorry, our documents do not cover that."
SIGNAL = Reply(SORRY, tool="passages_do_not_answer", tool_input={"missing": "opening hours"})


def test_own_tool_call_follows_the_text_like_the_real_api(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.reply = SIGNAL
    msg = client.messages.create(
        model=MODEL, max_tokens=100, messages=QUESTION, tools=[ROUTE_TOOL, SIGNAL_TOOL]
    )
    assert msg.stop_reason == "tool_use" and msg.stop_sequence is None
    text, call = msg.content
    assert isinstance(text, TextBlock) and text.text == SORRY
    assert isinstance(call, ToolUseBlock) and call.id.startswith("toolu_")
    assert call.name == "passages_do_not_answer" and call.input == {"missing": "opening hours"}
    json_pieces = proto.split_reply(json.dumps({"missing": "opening hours"}))
    assert msg.usage.output_tokens == len(proto.split_reply(SORRY)) + len(json_pieces)

    events: list[Any] = list(
        client.messages.create(
            model=MODEL, max_tokens=100, messages=QUESTION, tools=[SIGNAL_TOOL], stream=True
        )
    )
    shape = [(e.type, getattr(e, "index", None)) for e in events if e.type != "content_block_delta"]
    assert shape == [  # the SDK drops `ping` (sent after the first content_block_start: see below)
        ("message_start", None),
        ("content_block_start", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_stop", 1),
        ("message_delta", None),
        ("message_stop", None),
    ]
    deltas = [e for e in events if e.type == "content_block_delta"]
    texts = [e.delta.text for e in deltas if e.index == 0]
    pieces = [e.delta.partial_json for e in deltas if e.index == 1]
    assert "".join(texts) == SORRY and all(isinstance(e.delta, TextDelta) for e in deltas if e.index == 0)
    assert pieces[0] == "" and json.loads("".join(pieces)) == {"missing": "opening hours"}
    started = [e for e in events if e.type == "content_block_start"][1].content_block
    assert (
        isinstance(started, ToolUseBlock) and started.input == {} and started.name == "passages_do_not_answer"
    )
    assert events[-2].delta.stop_reason == "tool_use"
    body = {"model": MODEL, "max_tokens": 100, "messages": QUESTION, "tools": [SIGNAL_TOOL], "stream": True}
    status, _, raw = _raw(fake, "POST", "/v1/messages", json.dumps(body).encode(), {"x-api-key": "k"})
    names = [line.split(": ", 1)[1] for line in raw.decode().splitlines() if line.startswith("event: ")]
    assert status == 200 and names[:3] == ["message_start", "content_block_start", "ping"]

    with client.messages.stream(
        model=MODEL, max_tokens=100, messages=QUESTION, tools=[SIGNAL_TOOL]
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert isinstance(final.content[1], ToolUseBlock) and final.content[1].input == {
        "missing": "opening hours"
    }


def test_own_tool_call_without_text_is_one_tool_use_block(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.reply = Reply(tool="passages_do_not_answer", tool_input={"missing": "x"})
    msg = client.messages.create(model=MODEL, max_tokens=100, messages=QUESTION, tools=[SIGNAL_TOOL])
    [block] = msg.content
    assert (
        isinstance(block, ToolUseBlock) and block.input == {"missing": "x"} and msg.stop_reason == "tool_use"
    )
    with client.messages.stream(
        model=MODEL, max_tokens=100, messages=QUESTION, tools=[SIGNAL_TOOL]
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["tool_use"]


def test_own_tool_call_only_when_the_request_offers_the_tool(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.reply = lambda body: SIGNAL if "refund" in json.dumps(body["messages"]) else "Hello."
    for extra in ({}, {"tools": [ROUTE_TOOL]}, {"tools": [SIGNAL_TOOL], "tool_choice": {"type": "none"}}):
        msg = client.messages.create(model=MODEL, max_tokens=100, messages=QUESTION, **extra)
        assert msg.stop_reason == "end_turn" and [b.type for b in msg.content] == ["text"], extra
        assert isinstance(msg.content[0], TextBlock) and msg.content[0].text == SORRY
    other: list[MessageParam] = [{"role": "user", "content": "Hi"}]
    msg = client.messages.create(model=MODEL, max_tokens=100, messages=other, tools=[SIGNAL_TOOL])
    assert isinstance(msg.content[0], TextBlock) and msg.content[0].text == "Hello."


def test_own_tool_call_cut_by_max_tokens(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.reply = SIGNAL
    in_text = client.messages.create(model=MODEL, max_tokens=3, messages=QUESTION, tools=[SIGNAL_TOOL])
    assert in_text.stop_reason == "max_tokens" and [b.type for b in in_text.content] == ["text"]
    words = len(proto.split_reply(SORRY))
    in_tool = client.messages.create(
        model=MODEL, max_tokens=words + 2, messages=QUESTION, tools=[SIGNAL_TOOL]
    )
    assert in_tool.stop_reason == "max_tokens" and [b.type for b in in_tool.content] == ["text", "tool_use"]
    assert isinstance(in_tool.content[1], ToolUseBlock) and in_tool.content[1].input == {}


def test_faults_count_text_and_tool_deltas_of_one_reply(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.reply = SIGNAL
    words = len(proto.split_reply(SORRY))
    fake.script(DropMidStream(after_deltas=words + 1))
    seen: list[tuple[int, str]] = []
    pieces: list[str] = []
    with pytest.raises((anthropic.APIConnectionError, httpx2.TransportError)):
        for event in client.messages.create(
            model=MODEL, max_tokens=100, messages=QUESTION, tools=[SIGNAL_TOOL], stream=True
        ):
            if event.type == "content_block_start":
                seen.append((event.index, event.content_block.type))
            elif event.type == "content_block_delta" and isinstance(event.delta, InputJSONDelta):
                pieces.append(event.delta.partial_json)
    assert seen == [(0, "text"), (1, "tool_use")]  # cut inside the tool input:
    assert pieces == ["", "{"]  # the opening empty delta, then one piece (all text deltas went out)


def test_faults_apply_to_tool_streams_and_scripted_inputs_repeat_the_last(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.tool_responder = tool_inputs(
        {"intent": "refund", "confidence": 0.5}, {"intent": "other", "confidence": 0.3}
    )
    fake.script(DropMidStream(after_deltas=2))
    received: list[str] = []
    with pytest.raises((anthropic.APIConnectionError, httpx2.TransportError)):
        for event in client.messages.create(
            model=MODEL,
            max_tokens=50,
            messages=QUESTION,
            tools=[ROUTE_TOOL],
            tool_choice=FORCE_ROUTE,
            stream=True,
        ):
            if event.type == "content_block_delta" and isinstance(event.delta, InputJSONDelta):
                received.append(event.delta.partial_json)
    assert received == ["", "{", '"']  # the opening empty delta, then two pieces, then the cut

    intents = []
    for _ in range(2):
        msg = client.messages.create(
            model=MODEL, max_tokens=50, messages=QUESTION, tools=[ROUTE_TOOL], tool_choice=FORCE_ROUTE
        )
        assert isinstance(msg.content[0], ToolUseBlock)
        intents.append(msg.content[0].input["intent"])
    assert intents == ["other", "other"]  # the first input went to the dropped stream; the last repeats


def test_batches_answer_forced_tool_calls() -> None:
    params: Any = {
        "model": MODEL,
        "max_tokens": 50,
        "messages": QUESTION,
        "tools": [ROUTE_TOOL],
        "tool_choice": FORCE_ROUTE,
    }
    responder = tool_inputs({"intent": "shipping", "confidence": 1.0})
    with (
        FakeAnthropic(tool_responder=responder) as server,
        anthropic.Anthropic(base_url=server.base_url, api_key="test", max_retries=0) as sdk,
    ):
        batch = sdk.messages.batches.create(requests=[{"custom_id": "a", "params": params}])
        [result] = list(sdk.messages.batches.results(batch.id))
    assert result.result.type == "succeeded"
    message = result.result.message
    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert isinstance(block, ToolUseBlock) and block.input == {"intent": "shipping", "confidence": 1.0}
    assert server.server_errors == []


def test_fault_source_covers_requests_the_script_does_not(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    asked: list[Any] = []

    def source(body: Any) -> Status | None:
        asked.append(body["messages"][0]["content"])
        return Status(529, "overloaded_error", "Overloaded") if len(asked) == 1 else None

    fake.fault_source = source
    fake.script(Status(500, "api_error", "scripted"))
    with pytest.raises(anthropic.InternalServerError, match="scripted"):
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
    assert asked == []  # the script goes first
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
    assert overloaded.value.status_code == 529
    reply = client.messages.create(model=MODEL, max_tokens=5, messages=QUESTION)
    assert reply.stop_reason in ("end_turn", "max_tokens")
    assert asked == ["How do I get a refund?"] * 2
    client.messages.count_tokens(model=MODEL, messages=QUESTION)
    assert len(asked) == 2  # only message requests ask for a fault


def test_random_faults_are_seeded_and_respect_rate_and_kinds() -> None:
    from fakes.anthropic_faults import FAULT_KINDS, RandomFaults

    def draws(source: RandomFaults, n: int) -> list[object]:
        return [source() for _ in range(n)]

    first, again = RandomFaults(0.3, seed=7), RandomFaults(0.3, seed=7)
    sequence = draws(first, 2000)
    assert sequence == draws(again, 2000)
    injected = [f for f in sequence if f is not None]
    assert 450 < len(injected) < 750  # 30% of 2000, well inside binomial spread
    assert sum(first.counts.values()) == len(injected) and set(first.counts) == set(FAULT_KINDS)
    assert {type(f) for f in injected} == {Status, SlowFirstByte, DropMidStream, ErrorEvent}
    assert {f.code for f in injected if isinstance(f, Status)} == {429, 500, 529}
    cuts = [f.after_deltas for f in injected if isinstance(f, DropMidStream | ErrorEvent)]
    assert min(cuts) == 0 and max(cuts) == 5
    assert draws(RandomFaults(0.0, seed=1), 200) == [None] * 200
    only = draws(RandomFaults(1.0, seed=1, kinds=["slow_first_byte"], slow_s=0.5), 50)
    assert only == [SlowFirstByte(0.5)] * 50
    with pytest.raises(ValueError, match="fault kinds"):
        RandomFaults(0.1, kinds=["meteor"])
    with pytest.raises(ValueError, match="rate"):
        RandomFaults(1.5)


def test_random_rate_limits_reach_the_sdk_with_retry_after_ms() -> None:
    from fakes.anthropic_faults import RandomFaults

    source = RandomFaults(1.0, seed=3, kinds=["rate_limit"], retry_after_ms=250)
    with (
        FakeAnthropic(fault_source=source) as server,
        anthropic.Anthropic(base_url=server.base_url, api_key="test", max_retries=0) as sdk,
    ):
        for _ in range(3):
            with pytest.raises(anthropic.RateLimitError) as limited:
                sdk.messages.create(model=MODEL, max_tokens=5, messages=QUESTION, stream=True)
            assert limited.value.response.headers["retry-after-ms"] == "250"
    assert source.counts == {"rate_limit": 3}
    assert len(server.message_requests()) == 3 and server.server_errors == []
