"""Who is calling: API keys, their tenants and scopes.

Two kinds of key:

* **database keys** (``fqs_…``, made with ``faqstream keys create``): each belongs to a tenant and
  has scopes (``answer``, ``admin``, ``metrics``, ``agent``) and optional limits; only their hash is stored
  (``service.tenants``). Created, rotated and revoked keys take effect in a running service within
  ``AUTH_KEY_CACHE_TTL_S`` seconds.
* **bootstrap keys** from ``AUTH_API_KEYS`` as ``name=key`` pairs separated by commas: the name is
  the tenant, the scope ``answer``, the limits the deployment's.

With neither (no bootstrap key, and no key ever created in the database) the answer endpoint is
open and every caller is the tenant ``public`` — fine on a laptop, not in production; the service
logs a warning at startup. A key missing, unknown, revoked or rotated away is a 401; a valid key
without the scope a route needs is a 403 ``insufficient_scope`` (``SERVICE_ADMIN_KEY`` on a
tenant's route too: ``service.api.guards.identify``).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from knowledge.errors import ConfigError, FaqstreamError
from service.core.types import Client, Scope
from service.settings.auth import AuthSettings
from service.tenants.directory import KeyDirectory

PUBLIC = "public"


class UnauthorizedError(FaqstreamError):
    """A missing or unknown key (HTTP 401, ``WWW-Authenticate: Bearer``)."""

    exit_code = 3
    status = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InsufficientScopeError(FaqstreamError):
    """A valid key without the scope the route needs (HTTP 403)."""

    status = 403
    code = "insufficient_scope"

    def __init__(self, scope: Scope, *, admin: bool = False, also: tuple[Scope, ...] = ()) -> None:
        kind = "the admin key (SERVICE_ADMIN_KEY) is not a tenant's key and" if admin else "this API key"
        named = " or ".join(repr(s) for s in (scope, *also))
        super().__init__(f"{kind} lacks the {named} scope")
        self.scopes = (scope, *also)

    def headers(self) -> dict[str, str]:
        # RFC 6750: scope is a space-delimited list (any one of them will do here)
        return {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(self.scopes)}"'}


def presented_key(authorization: str | None, api_key_header: str | None) -> str:
    """The key of ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` ('' when none)."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return (api_key_header or "").strip()


class ApiKeys:
    """The bootstrap keys of ``AUTH_API_KEYS``."""

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

    def find(self, presented: str) -> Client | None:
        """The bootstrap client whose key this is (compared in constant time), or None."""
        found = None
        for name, key in self._keys.items():
            if hmac.compare_digest(presented.encode(), key.encode()):
                found = Client(name, key_id=name)
        return found


class Authenticator:
    """Database keys first (by their ``fqs_`` prefix), then the bootstrap keys."""

    def __init__(self, bootstrap: ApiKeys, directory: KeyDirectory | None = None) -> None:
        self.bootstrap = bootstrap
        self.directory = directory

    async def open(self) -> bool:
        """No key of either kind: the answer endpoint is open."""
        return self.bootstrap.open and (self.directory is None or not await self.directory.has_keys())

    async def find(self, presented: str) -> Client | None:
        """The client of a valid key of either kind, or None."""
        if not presented:
            return None
        if self.directory is not None:
            client = await self.directory.identify(presented)
            if client is not None:
                return client
        return self.bootstrap.find(presented)

    async def identify(
        self,
        authorization: str | None,
        api_key_header: str | None,
        scope: Scope,
        also: tuple[Scope, ...] = (),
    ) -> Client:
        """The calling client, which must hold ``scope`` or one of ``also``; ``public`` when no key
        exists at all."""
        presented = presented_key(authorization, api_key_header)
        client = await self.find(presented)
        if client is None:
            if scope == "answer" and await self.open():
                return Client(PUBLIC)
            if not presented:
                raise UnauthorizedError("an API key is required: Authorization: Bearer <key>")
            raise UnauthorizedError("unknown API key")
        if client.scopes.isdisjoint((scope, *also)):
            raise InsufficientScopeError(scope, also=also)
        return client
