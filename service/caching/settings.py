"""The answer cache's settings (``CACHE_*``) and the semantic threshold measured per embedding model."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from knowledge.settings import PACKAGED_E5, PACKAGED_MINILM, EmptyIsNone, _config

# The semantic threshold when CACHE_SEMANTIC_THRESHOLD is unset, per EMBEDDING_MODEL: cosine scales
# differ by model (multilingual-e5-small puts almost any two questions at 0.7-0.9). Each value is the
# lowest threshold meeting the rule of bench/answer_cache_threshold.py: no less safe, in any language,
# than all-MiniLM-L6-v2 at 0.95 was in English (Bitext precision >= 0.998, <= 1 % false hits on the
# Mintaka and XQuAD near misses); for the English-only MiniLM, on its English questions (with it no
# threshold is safe for Chinese or Thai). docs/caches.md has the figures. Another model has no
# entry: semantic hits stay off until CACHE_SEMANTIC_THRESHOLD is set.
SEMANTIC_THRESHOLDS: dict[str, float] = {PACKAGED_E5: 0.99, PACKAGED_MINILM: 0.96}


class CacheSettings(BaseSettings):
    model_config = _config("CACHE_")

    answers: bool = Field(default=True, description="answer cache for first-turn questions on/off")
    semantic: bool = Field(default=True, description="also serve near-identical questions (by embedding)")
    ttl_s: float = Field(default=86_400.0, gt=0, description="how long a cached answer may be served")
    semantic_threshold: EmptyIsNone[float] = Field(
        default=None,
        ge=0.5,
        le=1.0,
        description="cosine similarity a semantic hit needs; unset = the value measured for the "
        "embedding model (SEMANTIC_THRESHOLDS), or no semantic hits for a model without one",
    )
    max_entries: int = Field(
        default=1000, ge=1, le=100_000, description="entries kept per (language, filters, KB version)"
    )
    max_namespaces: int = Field(default=64, ge=1, le=10_000, description="in-process: namespaces kept")
    embedding_size: int = Field(
        default=4096, ge=0, le=1_000_000, description="query embeddings kept in-process; 0 = off"
    )

    def for_model(self, model: str) -> CacheSettings:
        """These settings for queries embedded by ``model`` (``EMBEDDING_MODEL``): an unset
        threshold becomes the model's measured one (``SEMANTIC_THRESHOLDS``), if it has one."""
        if self.semantic_threshold is not None or model not in SEMANTIC_THRESHOLDS:
            return self
        return self.model_copy(update={"semantic_threshold": SEMANTIC_THRESHOLDS[model]})

    @property
    def semantic_on(self) -> bool:
        """Semantic matching is on and has a threshold."""
        return self.semantic and self.semantic_threshold is not None
