"""The chunk/payload schema: what a document is, what a chunk is, and what a point carries.

The store is the only code that knows how these map to Qdrant; everything else speaks in these
types.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from knowledge.language import LANGUAGE_TAG, LANGUAGE_TAG_OR_UND, language_code

# Namespace for deterministic point ids: uuid5(NAMESPACE, f"{doc_id}#{chunk_index}").
POINT_NAMESPACE = uuid.UUID("6f1d3c2a-8b4e-5f60-9a7b-1c2d3e4f5a6b")

DocKind = Literal["document", "faq"]


def point_id(doc_id: str, chunk_index: int) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}#{chunk_index}"))


@dataclass(frozen=True)
class Section:
    """A run of body text under a heading path (outermost heading first)."""

    headings: tuple[str, ...]
    text: str


# The pages a PDF section names (``ingest.loaders.pdf_sections``): "Refunds (pp. 2–3)", or a page of
# a PDF without structure, "Page 2".
_PAGES_SUFFIX = re.compile(r"\s*\(pp?\. \d+(?:–\d+)?\)$")
_PAGES_ONLY = re.compile(r"^Pages? \d+(?:–\d+)?$")


def pages_label(first: int, last: int) -> str:
    """1-based pages as a heading names them: "p. 3", "pp. 3–4"."""
    return f"p. {first}" if first == last else f"pp. {first}–{last}"


def without_pages(heading: str) -> str:
    """The heading without the pages a PDF section names ("Refunds (pp. 2–3)" → "Refunds";
    "Page 2" → "")."""
    return "" if _PAGES_ONLY.match(heading) else _PAGES_SUFFIX.sub("", heading)


def under_title(title: str, section: str) -> str:
    """``section`` (a heading path) without the leading headings that only repeat the document's
    ``title``: a page whose first heading is its title cited "Refunds › Refunds › How long…", and a
    frontend showing "title — section" read the title twice."""
    parts = section.split(" › ")
    while parts and parts[0].strip().casefold() == title.strip().casefold():
        parts.pop(0)
    return " › ".join(parts)


@dataclass
class Document:
    """One logical document as a loader produced it, before chunking."""

    doc_id: str
    title: str
    source: str
    sections: list[Section]
    kind: DocKind = "document"
    language: str | None = None
    tags: tuple[str, ...] = ()
    effective_date: str | None = None
    version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)

    def content_hash(self, fingerprint: str) -> str:
        """Hash of everything that ends up in the points, plus the index fingerprint.

        A change of chunking or model settings changes the hash, so affected documents are
        re-embedded on the next run instead of silently keeping old chunks.
        """
        body = json.dumps(
            {
                "title": self.title,
                "source": self.source,
                "kind": self.kind,
                "language": self.language,
                "tags": list(self.tags),
                "effective_date": self.effective_date,
                "version": self.version,
                "extra": self.extra,
                "sections": [[list(s.headings), s.text] for s in self.sections],
                "fingerprint": fingerprint,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Chunk:
    """One unit of retrieval: ``embed_text`` is what the vectors see (context line + body)."""

    index: int
    text: str
    headings: tuple[str, ...]
    embed_text: str
    token_count: int


class ChunkPayload(BaseModel):
    """What every point stores. Field names are the filterable contract of the store."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    doc_id: str
    chunk_index: int
    chunk_count: int
    doc_hash: str
    text: str
    title: str
    source: str
    kind: DocKind = "document"
    language: str = "und"
    headings: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    effective_date: str | None = None
    version: str | None = None
    token_count: int = 0
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def section(self) -> str:
        return " › ".join(self.headings)


@dataclass(frozen=True)
class SparseVec:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class ChunkPoint:
    id: str
    dense: list[float]
    sparse: SparseVec
    payload: ChunkPayload
    dense_en: list[float] | None = None  # the English companion model's vector (English chunks)


@dataclass(frozen=True)
class DocState:
    """What the store holds for one document: enough to decide unchanged / repair / update."""

    doc_hash: str | None  # None when chunks disagree (a run died mid-document)
    chunk_count: int
    chunk_indices: frozenset[int]
    hashes: frozenset[str] = frozenset()
    source: str = ""
    title: str = ""
    language: str = "und"

    @property
    def complete(self) -> bool:
        return self.doc_hash is not None and self.chunk_indices == frozenset(range(self.chunk_count))


SearchMode = Literal["hybrid", "dense", "sparse"]


def _stored_language(value: str) -> str:
    return language_code(value, LANGUAGE_TAG_OR_UND)


# A language of a request (the reply language, a filter): an ISO 639-1 code or a tag with one
# ('pt-BR'), stored as the code; names and made-up codes are refused (``language_code``).
LanguageCode = Annotated[str, Field(max_length=35), AfterValidator(language_code)]
# The same, or 'und': the language of documents none could be detected for.
StoredLanguage = Annotated[str, Field(max_length=35), AfterValidator(_stored_language)]
# What the OpenAPI document says of them (``json_schema_extra`` of the field: Litestar documents
# the outer field's constraints only, not those inside an optional or a list).
LANGUAGE_SCHEMA: dict[str, Any] = {"pattern": LANGUAGE_TAG, "maxLength": 35}
STORED_LANGUAGES_SCHEMA: dict[str, Any] = {
    "items": {"type": "string", "pattern": LANGUAGE_TAG_OR_UND, "maxLength": 35}
}


class SearchFilters(BaseModel):
    """Filters a caller may put on a search; all given conditions must hold."""

    model_config = ConfigDict(extra="forbid")

    language: list[StoredLanguage] | None = Field(
        default=None,
        description="documents in these languages: ISO 639-1 codes as stored (a tag such as pt-BR "
        "is reduced to pt), or und",
        json_schema_extra=STORED_LANGUAGES_SCHEMA,
    )
    doc_id: list[str] | None = None
    tags: list[str] | None = None
    kind: DocKind | None = None


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float  # fused rank score in hybrid mode, raw similarity otherwise
    dense_score: float | None  # cosine similarity to the query, for relevance floors
    payload: ChunkPayload
    # the passage's dense vector (the store returns it to compute ``dense_score``): the relevance
    # floor compares the passage with a cohort of unrelated questions too (``knowledge.cohort``)
    vector: tuple[float, ...] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class KbMeta:
    """Store-level facts: monotonic knowledge-base version, what the index was built with, the
    relevance cut-off calibrated on it and the contact data its documents publish."""

    version: int = 0
    fingerprint: dict[str, Any] = field(default_factory=dict)
    updated_at: str | None = None
    # The relevance cut-off fitted to this version (``knowledge.answerability``); {} = not calibrated.
    relevance: dict[str, Any] = field(default_factory=dict)
    # The contact data its documents publish, as the ingest's scan found it (``{"method", "keys"}``,
    # ``service.privacy.contacts``): left unredacted by the service; {} = not scanned.
    contacts: dict[str, Any] = field(default_factory=dict)

    def contact_counts(self) -> dict[str, int]:
        """How many values of each kind ``contacts`` holds (``{"phone": 2, "email": 1}``)."""
        counts: dict[str, int] = {}
        for key in self.contacts.get("keys") or ():
            kind = str(key).split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def reachable_at(self) -> list[str]:
        """How the documents say customers reach the company (the scan's ``reachable``; an IBAN is
        not a way to reach anyone): e-mail addresses, phone numbers written with their country code
        (E.164), then those written without it, as written. A scan from before it listed them: its
        e-mail addresses only (its phone keys hold every country's reading of a national number)."""
        if "reachable" in self.contacts:
            return [str(value) for value in self.contacts["reachable"]]
        values = [str(key).split(":", 1) for key in self.contacts.get("keys") or ()]
        return [value for kind, value in values if kind == "email"]
