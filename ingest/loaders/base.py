"""What every loader shares: the source-file types, safe reading, text decoding and metadata mapping.

Metadata keys are the same in every format (Markdown front matter, HTML ``<meta>``, FAQ columns):
``title``, ``lang``/``language``, ``tags``, ``effective_date``/``effective``/``date``/``last_updated``,
``version`` and ``source``/``url``. Other simple scalar values go to ``Document.extra``.
"""

from __future__ import annotations

import codecs
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import charset_normalizer

from knowledge.errors import InputError
from knowledge.schema import Section

BINARY_SNIFF_BYTES = 8192
TITLE_MAX_CHARS = 120

_BOMS = (  # UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAX_CHAOS = 0.1  # charset-normalizer "mess" ratio above which a guess is not trusted
_PREFERRED_LEGACY = ("cp1252", "latin_1")  # ties between equally clean guesses go to these

TITLE_KEYS = ("title",)
LANGUAGE_KEYS = ("lang", "language")
TAG_KEYS = ("tags",)
DATE_KEYS = ("effective_date", "effective", "date", "last_updated")
VERSION_KEYS = ("version",)
SOURCE_KEYS = ("source", "url")
CONSUMED_KEYS = frozenset(TITLE_KEYS + LANGUAGE_KEYS + TAG_KEYS + DATE_KEYS + VERSION_KEYS + SOURCE_KEYS)


@dataclass(frozen=True)
class SourceFile:
    """A file to load and the ingest root it was found under (``rel_id`` is relative to it)."""

    path: Path
    root: Path

    @property
    def rel_id(self) -> str:
        return self.path.relative_to(self.root).as_posix()


@dataclass(frozen=True)
class Skipped:
    """A path that was not loaded, with a short human reason.

    ``hides_input`` is true when the skip hides part of the input from the run: a given path that
    is missing, unreadable or not a file or folder, or a folder that could not be listed. Whatever
    is under it cannot be told apart from removed documents, so ``--prune`` refuses to run.
    """

    path: str
    reason: str
    hides_input: bool = False


class NotADocumentError(InputError):
    """The file is a known kind of input that holds no documents (an evaluation set or a ticket
    export of faqstream's own, kept in the documents folder): ingest leaves it out with a notice
    (``IngestReport.ignored``) instead of reporting it as a broken file."""


@dataclass
class Meta:
    """Metadata mapped onto ``Document`` fields; ``None``/empty when the source did not say."""

    title: str | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    effective_date: str | None = None
    version: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def read_bytes(path: Path, max_file_mb: float, *, allow_nul: bool = False) -> bytes:
    """Read a file after the checks every format shares; raise InputError with the skip reason."""
    limit = int(max_file_mb * 1024 * 1024)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError("unreadable: is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise InputError("unreadable: not a regular file")
        if info.st_size > limit:
            raise InputError(f"larger than {max_file_mb:g} MB limit")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError("not found") from None
    except PermissionError:
        raise InputError("permission denied") from None
    except OSError as exc:
        raise InputError(f"unreadable: {exc.strerror or exc}") from None
    if len(data) > limit:  # grew after stat
        raise InputError(f"larger than {max_file_mb:g} MB limit")
    if not data.strip():
        raise InputError("empty file")
    if not allow_nul and b"\x00" in data[:BINARY_SNIFF_BYTES] and not _bom_encoding(data):
        raise InputError("binary file")
    return data


def decode_text(data: bytes) -> str:
    """UTF-8 (or a BOM-declared UTF) first, else charset-normalizer's guess when it is clean."""
    text = _decode(data)
    if text is None:
        raise InputError("undecodable text (not UTF-8 and no confident encoding)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError("empty file")
    if "\x00" in text:
        raise InputError("binary file")
    return text


def _bom_encoding(data: bytes) -> str | None:
    return next((enc for bom, enc in _BOMS if data.startswith(bom)), None)


def _decode(data: bytes) -> str | None:
    bom = _bom_encoding(data)
    try:
        return data.decode(bom or "utf-8")
    except UnicodeDecodeError:
        if bom:
            return None
    matches = [m for m in charset_normalizer.from_bytes(data) if m.chaos <= _MAX_CHAOS]
    if not matches:
        return None
    cleanest = min(m.chaos for m in matches)
    for preferred in _PREFERRED_LEGACY:
        for match in matches:
            if match.chaos <= cleanest + 0.01 and preferred in match.could_be_from_charset:
                try:
                    return data.decode(preferred)
                except UnicodeDecodeError:
                    break
    best = min(matches, key=lambda m: m.chaos)
    return str(best)


def tidy(text: str) -> str:
    """Strip trailing spaces per line, fold runs of blank lines to one, strip the ends."""
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def short_line(text: str) -> str | None:
    """The first non-empty line if it is short enough to be a title."""
    line = next((stripped for raw in text.split("\n") if (stripped := raw.strip())), "")
    return line if line and len(line) <= TITLE_MAX_CHARS else None


def non_empty(sections: list[Section]) -> list[Section]:
    """Tidy section texts and drop the empty ones; raise when nothing is left."""
    kept = [Section(s.headings, t) for s in sections if (t := tidy(s.text))]
    if not kept:
        raise InputError("no text content")
    return kept


def language_code(value: object) -> str | None:
    """'en-US' / 'EN' / 'pt_BR' -> 2-letter lowercase code; anything else -> None."""
    if not isinstance(value, str):
        return None
    primary = re.split(r"[-_]", value.strip(), maxsplit=1)[0].lower()
    return primary if len(primary) == 2 and primary.isascii() and primary.isalpha() else None


def iso_date(value: object) -> str | None:
    """A date, datetime or ISO-looking string -> 'YYYY-MM-DD'; anything else -> None."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            return None
    return None


def split_tags(value: object, separators: str = ",") -> tuple[str, ...]:
    """A list or a separated string -> de-duplicated, stripped, non-empty tags in order."""
    if isinstance(value, str):
        items: list[object] = list(re.split(f"[{re.escape(separators)}]", value))
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return ()
    tags = (str(t).strip() for t in items if isinstance(t, str | int | float) and not isinstance(t, bool))
    return tuple(dict.fromkeys(t for t in tags if t))


def map_metadata(raw: Mapping[str, object], tag_separators: str = ",") -> Meta:
    """Map known keys (case-insensitive) onto ``Meta``; other simple scalars go to ``extra``."""
    values = {str(k).strip().lower(): v for k, v in raw.items()}
    meta = Meta()
    meta.title = _first_text(values, TITLE_KEYS)
    meta.source = _first_text(values, SOURCE_KEYS)
    meta.version = _first_text(values, VERSION_KEYS)
    meta.language = next((c for k in LANGUAGE_KEYS if (c := language_code(values.get(k)))), None)
    meta.tags = next((t for k in TAG_KEYS if (t := split_tags(values.get(k), tag_separators))), ())
    meta.effective_date = next((d for k in DATE_KEYS if (d := iso_date(values.get(k)))), None)
    for key, value in values.items():
        simple = isinstance(value, str | int | float | bool)
        if simple and key not in CONSUMED_KEYS and (not isinstance(value, str) or value.strip()):
            meta.extra[key] = value.strip() if isinstance(value, str) else value
    return meta


def _first_text(values: Mapping[str, object], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = values.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None
