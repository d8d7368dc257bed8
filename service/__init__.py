"""The answer service: retrieval, prompts, Claude, streamed cited replies."""
