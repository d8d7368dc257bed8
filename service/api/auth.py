"""API keys of the answer endpoints: which client (tenant) is calling.

Keys come from ``AUTH_API_KEYS`` as ``name=key`` pairs separated by commas. The name is what
limits, budgets and the usage ledger are kept under (never the key itself). With no keys
configured the endpoints are open and every caller is the client ``public`` — fine on a laptop,
not in production, and the service logs a warning at startup.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from knowledge.errors import ConfigError, FaqstreamError
from service.core.types import Client
from service.settings.auth import AuthSettings

PUBLIC = "public"


class UnauthorizedError(FaqstreamError):
    """A missing or unknown key (HTTP 401, ``WWW-Authenticate: Bearer``)."""

    exit_code = 3
    status = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class ApiKeys:
    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = dict(keys)  # name -> key

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> ApiKeys:
        if settings.api_keys is None:
            return cls({})
        keys: dict[str, str] = {}
        for pair in settings.api_keys.get_secret_value().split(","):
            if not pair.strip():
                continue
            name, sep, key = pair.strip().partition("=")
            if not sep or not name.strip() or len(key.strip()) < 16:
                raise ConfigError(
                    "AUTH_API_KEYS must be name=key pairs separated by commas, keys at least 16 characters"
                )
            if name.strip() in keys:
                raise ConfigError(f"AUTH_API_KEYS names the client {name.strip()!r} twice")
            keys[name.strip()] = key.strip()
        return cls(keys)

    @property
    def open(self) -> bool:
        return not self._keys

    def identify(self, authorization: str | None, api_key_header: str | None) -> Client:
        """The calling client, from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
        if self.open:
            return Client(PUBLIC)
        presented = api_key_header or ""
        if authorization and authorization.lower().startswith("bearer "):
            presented = authorization[7:].strip()
        if not presented:
            raise UnauthorizedError("an API key is required: Authorization: Bearer <key>")
        for name, key in self._keys.items():
            if hmac.compare_digest(presented.encode(), key.encode()):
                return Client(name)
        raise UnauthorizedError("unknown API key")
