"""Personal data kept out of the logs: every log record's message is redacted when it is made.

``install(redaction)`` wraps the process's log record factory (``logging.setLogRecordFactory``),
so every logger and handler — ours, libraries', pytest's ``caplog`` — receives the redacted
message; the message is formatted once, redacted, and its arguments dropped. Records of disabled
levels are never made, so the cost is paid only for lines that are written. Tracebacks
(``exc_info``) are not rewritten: exceptions carry codes and types, not customer text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from service.privacy.redaction import Redaction

_installed: list[Redaction] = []  # the redaction the current factory applies (at most one)


def install(redaction: Redaction) -> None:
    """Redact every log message from now on (idempotent; a later call changes the regions)."""
    if _installed:
        _installed[0] = redaction
        return
    _installed.append(redaction)
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format: logging reports it when it emits
            return record
        redacted = _installed[0].text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return record

    logging.setLogRecordFactory(factory)
