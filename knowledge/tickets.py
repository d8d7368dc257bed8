"""Support tickets as input to batch jobs (``faqstream faq draft``): the JSONL format and its reader.

One JSON object per line:

* ``text`` (required): the customer's message;
* ``id``: the ticket's id in the helpdesk (default ``line-N``), quoted in drafts so a reviewer can
  look the tickets up; ids must be unique in the file;
* ``subject``, ``resolution`` (the agent's answer), ``language`` (ISO 639-1), ``created_at``.

Unknown fields (customer e-mail, channel, priority…) are accepted and dropped on reading: nothing
but the fields above is kept. Blank lines are ignored. A line that is not a JSON object, lacks
``text`` or repeats an id is an error naming the file and line (``TicketsError``, exit code 2):
a batch job should not run on half a file.

Personal data is redacted as the tickets are read (the ``redact`` callable: the service's
``service.privacy`` redaction), so no later stage — embeddings, prompts, files — sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.errors import FaqstreamError

MAX_ERRORS = 10  # errors listed in one message; the count says how many more


class TicketsError(FaqstreamError):
    """The tickets file cannot be used; the message lists the bad lines (exit code 2)."""

    exit_code = 2
    status = 422
    code = "invalid_tickets"


class Ticket(BaseModel):
    """One ticket, redacted."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1)
    subject: str | None = None
    resolution: str | None = None
    language: str | None = None
    created_at: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str | None) -> str | None:
        return value.split("-")[0].split("_")[0].lower() or None if value else None

    @property
    def question(self) -> str:
        """What the customer asked, as one text: the subject (when it adds to the text) and the text."""
        if self.subject and self.subject.lower() not in self.text.lower():
            return f"{self.subject}\n{self.text}"
        return self.text


def read_tickets(path: Path, redact: Callable[[str], str]) -> list[Ticket]:
    """Every ticket of ``path``, its texts passed through ``redact``; ``TicketsError`` lists bad lines."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TicketsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TicketsError(f"{path}: unreadable: {exc}") from None
    tickets: list[Ticket] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        problem, ticket = _parse(line, number, redact)
        if ticket is not None and ticket.id in seen:
            problem, ticket = f"duplicate id {ticket.id!r} (first on line {seen[ticket.id]})", None
        if ticket is None:
            errors.append(f"line {number}: {problem}")
            continue
        seen[ticket.id] = number
        tickets.append(ticket)
    if errors:
        more = f"\n  … and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        raise TicketsError(
            f"{path}: {len(errors)} invalid line(s):\n  " + "\n  ".join(errors[:MAX_ERRORS]) + more,
            hint='each line is a JSON object with at least "text" (the customer\'s message); '
            'optional: "id", "subject", "resolution", "language", "created_at"',
        )
    if not tickets:
        raise TicketsError(f"{path}: no tickets (the file is empty)")
    return tickets


def _parse(line: str, number: int, redact: Callable[[str], str]) -> tuple[str, Ticket | None]:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return f"not JSON ({exc})", None
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object", None
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return 'missing "text" (the customer\'s message)', None
    fields = {k: record[k] for k in ("subject", "resolution", "language", "created_at") if k in record}
    for key in ("subject", "resolution"):
        if isinstance(fields.get(key), str):
            fields[key] = redact(fields[key])
    try:
        ticket = Ticket(id=record.get("id", f"line-{number}"), text=redact(text), **fields)
    except ValidationError as exc:
        where = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return where, None
    return "", ticket
