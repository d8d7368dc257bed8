"""The SSE frame parser used on Claude's event stream: every way a real stream can be chunked."""

from __future__ import annotations

import json

from service.llm.sse_frames import FrameParser

STREAM = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"usage":{"input_tokens":3}}}\n\n'
    b": a comment line\n\n"
    b"event: ping\n"
    b'data: {"type":"ping"}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta",'
    b'"delta":{"type":"text_delta","text":"Hallo \xc3\xa9t\xc3\xa9 \xe2\x9c\x93"}}\n\n'
    b"event: message_stop\n"
    b'data: {"type":"message_stop"}\n\n'
)


def _all(parser: FrameParser, chunks: list[bytes]) -> list[tuple[str, str]]:
    return [frame for chunk in chunks for frame in parser.feed(chunk)]


def test_frames_are_the_same_however_the_bytes_are_split() -> None:
    whole = _all(FrameParser(), [STREAM])
    assert [event for event, _ in whole] == ["message_start", "ping", "content_block_delta", "message_stop"]
    assert json.loads(whole[2][1])["delta"]["text"] == "Hallo été ✓"
    for size in (1, 2, 3, 7, 64):
        chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
        assert _all(FrameParser(), chunks) == whole, size


def test_crlf_line_endings_even_when_split_between_chunks() -> None:
    crlf = STREAM.replace(b"\n", b"\r\n")
    whole = _all(FrameParser(), [STREAM])
    for size in (1, 5, 33):
        chunks = [crlf[i : i + size] for i in range(0, len(crlf), size)]
        assert _all(FrameParser(), chunks) == whole, size


def test_multi_line_data_unknown_fields_and_frames_without_data() -> None:
    parser = FrameParser()
    frames = _all(parser, [b"event: x\nid: 7\nretry: 10\ndata: a\ndata:b\n\nevent: empty\n\n"])
    assert frames == [("x", "a\nb")]


def test_an_unfinished_frame_waits_for_its_end() -> None:
    parser = FrameParser()
    assert _all(parser, [b'event: content_block_delta\ndata: {"type"']) == []
    assert _all(parser, [b': "ping"}\n\n']) == [("content_block_delta", '{"type": "ping"}')]
