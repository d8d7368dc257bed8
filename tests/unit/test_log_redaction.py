"""Log redaction (``service.privacy.logs``) covers exception text: a traceback whose exception
message — or a chained one's — holds a customer's e-mail address, IBAN and phone number, and a
stack dump, come out redacted from the plain format (the CLI's ``logging.basicConfig`` format) and
from a JSON formatter that formats ``exc_info`` itself, as JSON formatters do; an ordinary
traceback keeps its files, lines and code."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator

import pytest

from service.privacy import logs
from service.privacy.redaction import Redaction

EMAIL, IBAN, PHONE = "ann.lee@example.com", "DE89 3704 0044 0532 0130 00", "+1 (415) 555-2671"
PLAIN = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")  # faqstream/cli.py's


class JsonFormatter(logging.Formatter):
    """One JSON object a line, exception and stack formatted from the record's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


@pytest.fixture
def kept(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Redaction installed for the test only; ``records`` holds what the test logged."""
    factory, installed = logging.getLogRecordFactory(), list(logs._installed)
    logs._installed.clear()
    logs.install(Redaction())
    caplog.set_level(logging.DEBUG, logger="tests.log_redaction")
    try:
        yield caplog
    finally:
        logging.setLogRecordFactory(factory)
        logs._installed[:] = installed


def lookup(question: str) -> None:
    try:
        raise KeyError(f"no customer for {question!r}")
    except KeyError as exc:
        raise ValueError(f"lookup failed for {EMAIL}, IBAN {IBAN}, phone {PHONE}") from exc


def assert_redacted(text: str) -> None:
    for value in (EMAIL, IBAN, PHONE, "ann.lee", "0532 0130", "555-2671"):
        assert value not in text, (value, text)
    assert "[email]" in text and "[iban]" in text and "[phone]" in text, text


@pytest.mark.parametrize("formatter", [PLAIN, JsonFormatter()], ids=["plain", "json"])
def test_exception_text_is_redacted(kept: pytest.LogCaptureFixture, formatter: logging.Formatter) -> None:
    logger = logging.getLogger("tests.log_redaction")
    try:
        lookup(f"my iban is {IBAN}, mail {EMAIL}")
    except ValueError:
        logger.exception("answer failed")
    (record,) = kept.records
    out = formatter.format(record)
    assert_redacted(out)
    if formatter is not PLAIN:
        out = json.loads(out)["exc_info"]
    # Still a traceback: both exceptions, their files, lines and code.
    assert "Traceback (most recent call last):" in out and "KeyError" in out and "ValueError:" in out
    assert f'File "{__file__}", line' in out and "in lookup" in out
    assert "The above exception was the direct cause of the following exception" in out


@pytest.mark.parametrize("formatter", [PLAIN, JsonFormatter()], ids=["plain", "json"])
def test_stack_info_is_redacted(kept: pytest.LogCaptureFixture, formatter: logging.Formatter) -> None:
    logger = logging.getLogger("tests.log_redaction")
    # The stack shows this call's line, and the line shows what the comment says:
    logger.warning("slow", stack_info=True)  # ann.lee@example.com, +1 (415) 555-2671, DE89 3704 0044 0532 0130 00  # noqa: E501  # fmt: skip
    (record,) = kept.records
    out = formatter.format(record)
    assert_redacted(out)
    if formatter is not PLAIN:
        out = json.loads(out)["stack_info"]
    assert "Stack (most recent call last):" in out and f'File "{__file__}", line' in out


def test_an_ordinary_traceback_is_unchanged(kept: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.log_redaction")
    orders: dict[str, int] = {}
    try:
        orders["missing"]
    except KeyError as exc:
        expected = "".join(traceback.format_exception(exc)).rstrip("\n")
        logger.error("lookup failed", exc_info=True)
    (record,) = kept.records
    assert record.exc_text == expected and record.exc_info is None
    assert PLAIN.format(record).endswith(expected) and "line " in expected
