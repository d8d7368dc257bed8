"""The vector store: the only package that knows the collection layout."""

from __future__ import annotations

from knowledge.settings import QdrantSettings
from knowledge.store.base import Collection, SearchRequest, VectorStore


def open_store(settings: QdrantSettings) -> VectorStore:
    """The configured store: a Qdrant server when ``QDRANT_URL`` is set, else the embedded one."""
    if settings.url:
        from qdrant_client import QdrantClient

        from knowledge.store.server import ServerStore

        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        client = QdrantClient(url=settings.url, api_key=api_key, timeout=int(settings.timeout_s))
        return ServerStore(
            client, settings.collection, attempts=settings.write_retries, hnsw_ef=settings.hnsw_ef
        )
    from knowledge.store.edge import EdgeStore

    return EdgeStore(settings.path, settings.collection, hnsw_ef=settings.hnsw_ef)


__all__ = ["Collection", "SearchRequest", "VectorStore", "open_store"]
