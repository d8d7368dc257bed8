"""Incremental parsing of a Server-Sent Events byte stream into (event, data) frames.

Used on the Messages API stream instead of the SDK's typed event objects: the SDK validates every
event against a pydantic union, which cost more CPU per answer than the rest of the relay together
(docs/benchmarks.md). Follows the SSE rules the API relies on: frames end with a blank line
(``\\n\\n`` or ``\\r\\n\\r\\n``), ``data:`` lines of one frame are joined with ``\\n``, comment lines
(``:``) and unknown fields are ignored, one optional space after the colon is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator


class FrameParser:
    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> Iterator[tuple[str, str]]:
        """The complete frames in ``chunk`` (plus what was buffered); a partial frame waits."""
        buffer = self._buffer + chunk
        if b"\r" in buffer:
            # A lone CR at the very end may be the first half of a CRLF split across chunks.
            keep_cr = buffer.endswith(b"\r")
            buffer = buffer[:-1] if keep_cr else buffer
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + (b"\r" if keep_cr else b"")
        *frames, self._buffer = buffer.split(b"\n\n")
        for raw in frames:
            frame = _frame(raw)
            if frame is not None:
                yield frame


def _frame(raw: bytes) -> tuple[str, str] | None:
    event = "message"
    data: list[str] = []
    for line in raw.decode("utf-8", errors="replace").split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if not data:
        return None
    return event, "\n".join(data)
