"""In-process LRU of query embeddings, consulted by the retrieval path before it runs the model.

Keys are (model name, text with Unicode NFKC and whitespace collapsed and trimmed), and
``embed_queries_cached`` gives the model that normalised text, so a hit returns exactly the vector a
miss would have computed. The text is *not* casefolded: a cased model embeds "US" and "us"
differently, and a cache must never change what retrieval sees. Values are read-only float32
vectors (``writeable=False``), so a caller cannot corrupt an entry it was handed.

Thread-safe (one lock around a ``cachetools.LRUCache``): retrieval runs in a worker thread while the
event loop may read counters. There is no Redis second level. One query embedding costs ~9-20 ms
on this CPU (ONNX) and a Redis GET of the vector ~0.1 ms, but a shared level only helps for a text
that the answer cache did not serve (repeated first-turn questions are shared across replicas
before any embedding), this process has not seen, and another replica has: rare, and not worth a
network hop on every local miss (figures in docs/caches.md).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]

_SPACE_RE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """What makes two query texts the same for the model: NFKC, whitespace collapsed and trimmed."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


@dataclass(frozen=True)
class EmbeddingCacheStats:
    hits: int
    misses: int
    size: int
    capacity: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class EmbeddingCache:
    """Bounded LRU of (model, normalised text) → unit vector. ``max_entries=0`` disables it."""

    def __init__(self, max_entries: int) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.max_entries = max_entries
        self._data: LRUCache[tuple[str, str], Vector] = LRUCache(maxsize=max(max_entries, 1))
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get(self, model: str, text: str) -> Vector | None:
        key = (model, normalise_text(text))
        with self._lock:
            vector = self._data.get(key)
            if vector is None:
                self._misses += 1
                return None
            self._hits += 1
            return vector

    def put(self, model: str, text: str, vector: npt.ArrayLike) -> None:
        if self.max_entries == 0:
            return
        stored = np.array(vector, dtype=np.float32).reshape(-1)  # a copy the caller cannot change
        stored.setflags(write=False)
        key = (model, normalise_text(text))
        with self._lock:
            self._data[key] = stored

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    @property
    def stats(self) -> EmbeddingCacheStats:
        with self._lock:
            return EmbeddingCacheStats(self._hits, self._misses, len(self._data), self.max_entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


def embed_queries_cached(
    cache: EmbeddingCache,
    model: str,
    texts: Sequence[str],
    embed: Callable[[list[str]], Matrix],
    dim: int,
) -> Matrix:
    """Vectors for ``texts`` (one row each, in order): cached ones from ``cache``, the rest from one
    ``embed`` call (e.g. ``Embedder.embed_queries``) on their normalised text, then cached. Texts
    repeated in one batch are embedded once.
    """
    out = np.zeros((len(texts), dim), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    for row, text in enumerate(texts):
        vector = cache.get(model, text)
        if vector is None:
            missing.setdefault(normalise_text(text), []).append(row)
        else:
            out[row] = vector
    if missing:
        vectors = embed(list(missing))
        for (text, rows), vector in zip(missing.items(), vectors, strict=True):
            out[rows] = vector
            cache.put(model, text, vector)
    return out
