"""Settings read from the environment: ``AppSettings`` (``app``) composes the knowledge settings and
each component's own class; this package holds the ones that belong to no single component — the
HTTP service (SERVICE_), Claude (ANTHROPIC_), the database (DATABASE_) and Redis (REDIS_)."""
