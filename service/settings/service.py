"""Settings of the HTTP service (SERVICE_): where it listens, admin, request limits, answer knobs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

from knowledge.settings import EmptyIsNone, _config


class ServiceSettings(BaseSettings):
    model_config = _config("SERVICE_")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    admin_key: EmptyIsNone[SecretStr] = Field(
        default=None, description="bearer key for /admin/*; unset = admin off"
    )
    ingest_roots: tuple[Path, ...] = Field(
        default=(),
        description="JSON list of folders POST /admin/ingest may read (resolved; symlinks leading out "
        "are refused or skipped); empty = every admin ingest path is refused (403)",
    )
    top_k: int = Field(default=5, ge=1, le=20, description="passages given to Claude")
    relevance_floor: EmptyIsNone[float] = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="override of the relevance cut-off (minimum cosine similarity of a passage to be "
        "used); unset = the cut-off calibrated on the knowledge base at ingest (knowledge/answerability.py)",
    )
    max_question_chars: int = Field(default=2000, ge=10, le=100_000)
    max_json_depth: int = Field(
        default=32,
        ge=2,
        le=200,
        description="deepest nesting of arrays and objects a JSON body may have (checked on the raw bytes "
        "before decoding; deeper = 400)",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="a connection must send a request's complete headers within this many seconds of "
        "opening (or of its previous response); else it is closed (faqstream serve)",
    )
    body_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="a request's whole body must arrive within this many seconds of its headers; else "
        "408 and the connection is closed (faqstream serve)",
    )
    keepalive_s: float = Field(default=10.0, gt=0, description="SSE comment interval while waiting upstream")
    stream_pace_s: float = Field(
        default=0.025,
        ge=0,
        le=1,
        description="after each token of an answer, read the model's stream again this many seconds later "
        "(the tokens that arrived meanwhile go out as one delta; 0: each token as it comes)",
    )
    openai_reply_tag: bool = Field(
        default=True,
        description="a chat completion for a client that sends no conversation_id ends with an invisible "
        "reference (zero-width characters): identical replies (small talk, cached answers, notices) then "
        "still tie each chat to its own conversation when the client resends them",
    )
    max_batch: int = Field(default=32, ge=1, le=512)
    retrieval_per_tenant: int = Field(
        default=8,
        ge=1,
        le=512,
        description="questions of one tenant (API key name) per retrieval batch, at most: batches are "
        "filled round-robin over the tenants waiting, so one tenant's flood cannot starve the others",
    )
    retrieval_tenant_chars: int = Field(
        default=2000,
        ge=1,
        le=1_000_000,
        description="characters of one tenant's questions per retrieval batch, at most (its first "
        "question always fits): a batch's work grows with its text, so a flood of long questions "
        "adds about one long question's work to each batch",
    )
    digest_max_tokens: int = Field(
        default=6000, ge=0, description="size cap of the cached knowledge-base digest"
    )
    prefix_max_tokens: int = Field(
        default=30_000,
        ge=0,
        description="the whole knowledge base goes into the cached prompt prefix when it fits this many "
        "tokens (estimated), and each question's passages become pointers into it; else a digest "
        "grown to the model's minimum cacheable prefix; 0 = always the digest",
    )
    prompt_cache_ttl: Literal["5m", "1h"] = Field(
        default="5m",
        description="lifetime of the cached prompt prefix: 5m (writes cost 1.25x input) or 1h (2x; for "
        "traffic sparser than one answer per 5 minutes; price it with PRICING_TABLE cache_write_multiplier)",
    )
    prompt_cache_min_tokens: dict[str, int] = Field(
        default_factory=dict,
        description="JSON object: model id (or prefix) → minimum cacheable prompt prefix in tokens, "
        "overriding the built-in table (service/answers/cacheable.py MIN_CACHEABLE_TOKENS)",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="origins whose pages may call the API from a browser (CORS), comma-separated, e.g. "
        "https://shop.example.com; empty = none (the web chat at / is same-origin and needs none)",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        origins = tuple(str(item).strip().rstrip("/") for item in items if str(item).strip())
        for origin in origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
        return origins
