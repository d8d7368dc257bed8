"""Everything ingest and service share: settings, schema, embedder, sparse encoder and the Qdrant store."""
