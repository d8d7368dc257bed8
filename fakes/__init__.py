"""Test doubles for external services, driven by the real client libraries over HTTP."""

from fakes.anthropic_server import (
    Disconnect,
    DropMidStream,
    ErrorEvent,
    FakeAnthropic,
    Fault,
    Hang,
    RecordedRequest,
    SlowFirstByte,
    Status,
    replies,
)

__all__ = [
    "Disconnect",
    "DropMidStream",
    "ErrorEvent",
    "FakeAnthropic",
    "Fault",
    "Hang",
    "RecordedRequest",
    "SlowFirstByte",
    "Status",
    "replies",
]
