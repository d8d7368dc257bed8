"""Personal data kept out of the logs: every log record's message is redacted when it is made.

``install(redaction)`` wraps the process's log record factory (``logging.setLogRecordFactory``),
so every logger and handler — ours, libraries', pytest's ``caplog`` — receives the redacted
message; the message is formatted once, redacted, and its arguments dropped. Records of disabled
levels are never made, so the cost is paid only for lines that are written.

Exception text is redacted too: an exception's message (or a chained one's) can hold what the
customer wrote. A record with ``exc_info`` gets its traceback formatted once
(``logging.Formatter.formatException``), redacted, and stored as ``exc_text``, which every
formatter prints in place of formatting the exception again; ``exc_info`` is then cleared, so no
formatter or handler that formats the exception itself (JSON formatters usually call
``formatException(record.exc_info)``) can render it unredacted. ``stack_info`` is redacted in
place. File names, line numbers and code lines stay as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from service.privacy.redaction import Redaction

_installed: list[Redaction] = []  # the redaction the current factory applies (at most one)
_traceback = logging.Formatter()  # formats exc_info as every standard formatter would


def install(redaction: Redaction) -> None:
    """Redact every log message from now on (idempotent; a later call changes the regions)."""
    if _installed:
        _installed[0] = redaction
        return
    _installed.append(redaction)
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redaction = _installed[0]
        _redact_exception(record, redaction)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format: logging reports it when it emits
            return record
        redacted = redaction.text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return record

    logging.setLogRecordFactory(factory)


def _redact_exception(record: logging.LogRecord, redaction: Redaction) -> None:
    """The record's traceback and stack as redacted text only (see the module's docstring)."""
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redaction.text(_traceback.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redaction.text(record.exc_text)
    if record.stack_info:
        record.stack_info = redaction.text(record.stack_info)
