"""API keys in the service's database (``api_keys``, ``service.usage.schema``): create, list,
rotate, revoke, and the lookup a request needs. Blocking (SQLAlchemy Core); the service calls it
from a worker thread (``service.tenants.directory``), the CLI directly.

Rotation replaces a key's lookup and hash in place: the old key stops at once in the database (and
in running services within their cache TTL), the new one works at once, and the key's id — which
its rate limit, budget and ledger rows are kept under — stays. Keys are never deleted: a revoked
key stays listed with its ``revoked_at``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import RowMapping, literal, select, update

from knowledge.errors import FaqstreamError
from service.core.types import SCOPES, Client, KeyLimits, Scope
from service.settings.database import DatabaseSettings
from service.tenants.secret import new_key, new_key_id
from service.usage.database import LedgerDatabase
from service.usage.schema import api_keys

TOUCH_EVERY_S = 60.0  # last_used_at is accurate to this
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyNotFoundError(FaqstreamError):
    """No such key (or it is revoked, for a rotation)."""

    exit_code = 2
    status = 404
    code = "key_not_found"


class InvalidKeyError(FaqstreamError):
    """A key cannot be created as asked (tenant name, scopes, limits)."""

    exit_code = 2
    status = 400
    code = "invalid_request"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class KeyRecord:
    """One row of ``api_keys`` (without the hash): what a key is, not the key."""

    id: str
    lookup: str
    secret_hash: str
    tenant: str
    name: str
    scopes: frozenset[Scope]
    limits: KeyLimits
    created_at: datetime
    rotated_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def from_row(cls, row: RowMapping) -> KeyRecord:
        return cls(
            id=row["id"],
            lookup=row["lookup"],
            secret_hash=row["secret_hash"],
            tenant=row["tenant"],
            name=row["name"],
            scopes=frozenset(cast(Scope, s) for s in row["scopes"].split() if s in SCOPES),
            limits=KeyLimits(row["rpm"], row["daily_tokens"], row["daily_cost_usd"]),
            created_at=row["created_at"],
            rotated_at=row["rotated_at"],
            last_used_at=row["last_used_at"],
            revoked_at=row["revoked_at"],
        )

    def revoked(self, now: datetime) -> bool:
        return self.revoked_at is not None and self.revoked_at <= now

    def client(self) -> Client:
        return Client(self.tenant, key_id=self.id, scopes=self.scopes, limits=self.limits)

    def public(self) -> dict[str, Any]:
        """What ``faqstream keys list --json`` shows (no hash, no lookup)."""

        def at(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": self.id,
            "tenant": self.tenant,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "rpm": self.limits.rpm,
            "daily_tokens": self.limits.daily_tokens,
            "daily_cost_usd": self.limits.daily_cost_usd,
            "created_at": at(self.created_at),
            "rotated_at": at(self.rotated_at),
            "last_used_at": at(self.last_used_at),
            "revoked_at": at(self.revoked_at),
        }


def check_scopes(scopes: Iterable[str]) -> frozenset[Scope]:
    chosen = {s.strip() for s in scopes if s.strip()}
    unknown = chosen - set(SCOPES)
    if unknown or not chosen:
        raise InvalidKeyError(f"scopes must be one or more of {', '.join(SCOPES)} (got {sorted(chosen)})")
    return frozenset(cast(Scope, s) for s in chosen)


def check_limits(limits: KeyLimits) -> KeyLimits:
    values = (limits.rpm, limits.daily_tokens, limits.daily_cost_usd)
    if any(v is not None and v <= 0 for v in values):
        raise InvalidKeyError("a key's limits must be positive (leave one out to keep the deployment's)")
    return limits


class KeyStore:
    """The ``api_keys`` table through a ``LedgerDatabase`` (the service's one database)."""

    def __init__(self, database: LedgerDatabase) -> None:
        self.database = database

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> KeyStore:
        return cls(LedgerDatabase.from_settings(settings))

    def migrate(self) -> None:
        self.database.migrate()

    def close(self) -> None:
        self.database.close()

    def create(
        self,
        tenant: str,
        name: str,
        scopes: Iterable[str] = ("answer",),
        limits: KeyLimits | None = None,
    ) -> tuple[KeyRecord, str]:
        """A new key; returns its record and the key itself (shown once, never stored)."""
        if not _TENANT.match(tenant):
            raise InvalidKeyError(
                "a tenant is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        if not name.strip():
            raise InvalidKeyError("a key needs a name (what it is for)")
        chosen = check_scopes(scopes)
        made = new_key()
        record = KeyRecord(
            id=new_key_id(),
            lookup=made.lookup,
            secret_hash=made.digest,
            tenant=tenant,
            name=name.strip(),
            scopes=chosen,
            limits=check_limits(limits or KeyLimits()),
            created_at=_now(),
        )
        with self.database.engine.begin() as connection:
            connection.execute(
                api_keys.insert(),
                {
                    "id": record.id,
                    "lookup": record.lookup,
                    "secret_hash": record.secret_hash,
                    "tenant": record.tenant,
                    "name": record.name,
                    "scopes": " ".join(sorted(record.scopes)),
                    "rpm": record.limits.rpm,
                    "daily_tokens": record.limits.daily_tokens,
                    "daily_cost_usd": record.limits.daily_cost_usd,
                    "created_at": record.created_at,
                },
            )
        return record, made.text

    def list(self, tenant: str | None = None, *, revoked: bool = True) -> list[KeyRecord]:
        query = select(api_keys).order_by(api_keys.c.tenant, api_keys.c.created_at)
        if tenant is not None:
            query = query.where(api_keys.c.tenant == tenant)
        if not revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self.database.engine.connect() as connection:
            return [KeyRecord.from_row(row._mapping) for row in connection.execute(query)]

    def get(self, key_id: str) -> KeyRecord:
        with self.database.engine.connect() as connection:
            row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None:
            raise KeyNotFoundError(f"no API key {key_id!r}", hint="see `faqstream keys list`")
        return KeyRecord.from_row(row._mapping)

    def rotate(self, key_id: str) -> tuple[KeyRecord, str]:
        """A new secret for the key (same id, tenant, scopes, limits); the old one stops working."""
        made = new_key()
        now = _now()
        with self.database.engine.begin() as connection:
            changed = connection.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(lookup=made.lookup, secret_hash=made.digest, rotated_at=now)
            ).rowcount
        if not changed:
            raise KeyNotFoundError(
                f"no active API key {key_id!r} to rotate", hint="see `faqstream keys list`"
            )
        return self.get(key_id), made.text

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke the key (idempotent: a revoked key keeps its first ``revoked_at``)."""
        with self.database.engine.begin() as connection:
            connection.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
        return self.get(key_id)

    def find(self, lookup: str, *, touch: bool = True) -> KeyRecord | None:
        """The key whose lookup this is (one indexed query); ``touch`` records it as used now
        (written when the stored ``last_used_at`` is over ``TOUCH_EVERY_S`` old: one write a minute
        at most per key, however small the service's key cache TTL)."""
        with self.database.engine.begin() as connection:
            row = connection.execute(select(api_keys).where(api_keys.c.lookup == lookup)).first()
            if row is None:
                return None
            record = KeyRecord.from_row(row._mapping)
            now = _now()
            stale = (
                record.last_used_at is None or (now - record.last_used_at).total_seconds() >= TOUCH_EVERY_S
            )
            if touch and stale and record.revoked_at is None:
                connection.execute(
                    update(api_keys).where(api_keys.c.id == record.id).values(last_used_at=now)
                )
                record = replace(record, last_used_at=now)
        return record

    def any(self) -> bool:
        """Has any key ever been created (revoked ones included)?"""
        with self.database.engine.connect() as connection:
            return connection.execute(select(api_keys.c.id).limit(1)).first() is not None

    def any_admin(self) -> bool:
        """Is there a key with the ``admin`` scope that is not revoked? (One query: the scopes
        column is the scopes joined by spaces, so a space-padded match finds the whole word.)"""
        padded = literal(" ") + api_keys.c.scopes + literal(" ")
        query = (
            select(api_keys.c.id).where(api_keys.c.revoked_at.is_(None), padded.like("% admin %")).limit(1)
        )
        with self.database.engine.connect() as connection:
            return connection.execute(query).first() is not None
