"""FAQ tables (CSV with a header row, JSON Lines): one ``kind="faq"`` document per Q/A pair.

Keys are matched case-insensitively: question (q, prompt, or the word in any language of the
default ``INGEST_LANGUAGES``: Frage, pregunta, pytanie, 问题 …), answer (a, response, Antwort,
respuesta, odpowiedź, 答案 …), and optionally
id, tags (split on "|" or ","), language/lang, title, source/url, effective_date, version; other
columns go to ``extra``. The pair stays one unit: a single section ``"Q: ...\\nA: ..."``.
``doc_id`` is ``"<rel_id>#<id>"``, with the first 12 hex digits of the SHA-1 of the normalised
question when there is no id. Rows missing a question or an answer are ignored, as are later
rows repeating an id already seen in the file; a malformed JSON line is skipped. A CSV row with
more fields than the header (a delimiter not quoted in a value) is read whole when the answer is
the last column, and the file is refused otherwise (``_row``).

A JSON Lines file none of whose lines has an answer is not a FAQ file when its lines are one of
faqstream's own inputs — an evaluation set (``question`` with ``doc_ids``/``doc_id``/``answerable``/
``handoff``: ``faqstream eval``) or a ticket export (``text``, no question: ``faqstream faq draft``)
— and raises ``NotADocumentError`` (left out with a notice); any other file without question/answer
rows is an ``InputError`` naming the keys it found.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
from collections.abc import Iterable, Mapping

from ingest.loaders.base import NotADocumentError, SourceFile, decode_text, map_metadata
from knowledge.errors import InputError
from knowledge.schema import Document, Section

# The column names in English and in each language of the default INGEST_LANGUAGES: a helpdesk
# export keeps its own language's headers ("Frage;Antwort" from a German Excel).
QUESTION_KEYS = (
    "question", "q", "prompt",
    "frage", "pregunta", "domanda", "pergunta", "vraag", "вопрос", "질문", "pytanie",
    "问题", "問題", "質問",
)  # fmt: skip
ANSWER_KEYS = (
    "answer", "a", "response",
    "antwort", "respuesta", "réponse", "reponse", "risposta", "resposta", "antwoord", "ответ", "답변",
    "odpowiedź", "odpowiedz", "答案", "回答",
)  # fmt: skip
EVAL_KEYS = ("doc_ids", "doc_id", "relevant_doc_ids", "answerable", "handoff")  # faqstream eval
_KEYS_NAMED = 8
log = logging.getLogger(__name__)
_DELIMITERS = (",", ";", "\t")
_SNIFF_CHARS = 8192


def load_csv(source: SourceFile, data: bytes) -> list[Document]:
    text = decode_text(data)
    try:
        return _documents(source, _csv_records(text, str(source.path)))
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}") from None


def load_jsonl(source: SourceFile, data: bytes) -> list[Document]:
    records: list[Mapping[str, object]] = []
    for line in decode_text(data).split("\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict):
            records.append(record)
    if not records:
        raise InputError("no valid JSON lines")
    keys = {str(k).strip().lower() for record in records for k in record}
    if not _has_key(keys, ANSWER_KEYS):
        _not_faq(keys)
    return _documents(source, records)


def _not_faq(keys: set[str]) -> None:
    """Raise the reason a JSON Lines file without any answer is not ingested."""
    if _has_key(keys, (*QUESTION_KEYS, "query")) and _has_key(keys, EVAL_KEYS):
        raise NotADocumentError(
            "an evaluation set (questions labelled with doc_ids, for `faqstream eval`), "
            "not FAQ rows: not ingested"
        )
    if "text" in keys and not _has_key(keys, QUESTION_KEYS):
        raise NotADocumentError(
            "a ticket export (text lines, for `faqstream faq draft`), not FAQ rows: not ingested"
        )
    found = ", ".join(sorted(keys)[:_KEYS_NAMED]) + (" …" if len(keys) > _KEYS_NAMED else "")
    raise InputError(
        f"no question/answer rows: a FAQ line needs a question and an answer field; found: {found} "
        "(a file that is not for the knowledge base can be kept out: move it out of the folder or "
        "start its name with '.')"
    )


def _csv_records(text: str, name: str = "") -> list[dict[str, str]]:
    """Rows as {lower-cased header: value}, with the delimiter whose header has Q and A columns."""
    candidates: list[str] = []
    with contextlib.suppress(csv.Error):
        candidates.append(csv.Sniffer().sniff(text[:_SNIFF_CHARS], delimiters="".join(_DELIMITERS)).delimiter)
    found: list[str] | None = None
    for delimiter in dict.fromkeys([*candidates, *_DELIMITERS]):
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = [h.strip().lower() for h in next(rows, [])]
        if _has_key(header, QUESTION_KEYS) and _has_key(header, ANSWER_KEYS):
            return [_row(header, row, delimiter, name, rows.line_num) for row in rows]
        found = found if found is not None else header
    names = ", ".join(h for h in found or [] if h) or "none"
    raise InputError(f"FAQ CSV needs a question and an answer column; found: {names}")


def _row(header: list[str], row: list[str], delimiter: str, name: str, line: int) -> dict[str, str]:
    """One row as {header: value}. A row with more fields than the header had its delimiter
    unquoted in a value ("…50,000円以上…" in a comma-separated file, which ``zip`` cut to "…50"):
    when the answer is the last column, the extra fields are its own and are joined back (logged,
    so the file can be fixed); otherwise which value they belong to cannot be told, and the file is
    refused, naming the line."""
    extra = row[len(header) :]
    if not any(field.strip() for field in extra):
        return dict(zip(header, row, strict=False))
    last = header[-1] if header else ""
    if last in ANSWER_KEYS:
        values = [*row[: len(header) - 1], delimiter.join(row[len(header) - 1 :])]
        log.warning(
            "%s line %d has %d fields for %d columns: the extra ones are read as part of the answer "
            "(a %r in it that is not quoted; put the answer in double quotes)",
            name,
            line,
            len(row),
            len(header),
            delimiter,
        )
        return dict(zip(header, values, strict=True))
    raise InputError(
        f"line {line} has {len(row)} fields for {len(header)} columns: a value holds a {delimiter!r} "
        'that is not quoted; put such values in double quotes ("50,000 yen")'
    )


def _has_key(header: Iterable[str], keys: tuple[str, ...]) -> bool:
    return any(k in header for k in keys)


def _documents(source: SourceFile, records: Iterable[Mapping[str, object]]) -> list[Document]:
    docs: list[Document] = []
    seen: set[str] = set()
    for raw in records:
        record = {str(k).strip().lower(): v for k, v in raw.items()}
        doc = _document(source, record)
        if doc is not None and doc.doc_id not in seen:
            seen.add(doc.doc_id)
            docs.append(doc)
    if not docs:
        raise InputError("no question/answer rows")
    return docs


def _document(source: SourceFile, record: dict[str, object]) -> Document | None:
    question = _first(record, QUESTION_KEYS)
    answer = _first(record, ANSWER_KEYS)
    if not question or not answer:
        return None
    row_id = _text(record.get("id")) or question_hash(question)
    rest = {k: v for k, v in record.items() if k not in (*QUESTION_KEYS, *ANSWER_KEYS, "id")}
    meta = map_metadata(rest, tag_separators="|,")
    return Document(
        doc_id=f"{source.rel_id}#{row_id}",
        title=meta.title or " ".join(question.split()),
        source=meta.source or source.rel_id,
        sections=[Section((), f"Q: {question}\nA: {answer}")],
        kind="faq",
        language=meta.language,
        tags=meta.tags,
        effective_date=meta.effective_date,
        version=meta.version,
        extra=meta.extra,
    )


def question_hash(question: str) -> str:
    """First 12 hex digits of the SHA-1 of the case-folded, whitespace-collapsed question."""
    normal = " ".join(question.casefold().split())
    return hashlib.sha1(normal.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


def _first(record: Mapping[str, object], keys: tuple[str, ...]) -> str:
    return next((t for k in keys if (t := _text(record.get(k)))), "")


def _text(value: object) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip()
    return ""
