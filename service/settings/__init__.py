"""Settings of what belongs to no single component, read from the environment: the HTTP service
(``service``: SERVICE_), Claude (``anthropic``: ANTHROPIC_), the API keys (``auth``: AUTH_), the
database (``database``: DATABASE_) and Redis (``redis``: REDIS_, and the client). Components keep
their own settings classes; ``service.api.settings.AppSettings`` composes them all."""
