"""An API key's format and hash.

A key is ``fqs_<lookup>_<secret>``: ``fqs_`` makes it recognisable (secret scanners, logs), the
lookup (16 hex characters, not secret) finds its row through a unique index, and the secret is 32
random bytes (``secrets.token_urlsafe``, 256 bits). Only SHA-256 of the whole key is stored.

Why a fast hash and not argon2 or bcrypt: those are slow on purpose because passwords are guessable
— a slow hash makes each guess of a low-entropy secret expensive. A key with 256 random bits
cannot be guessed at any hash speed, so slowness buys nothing, while it would cost every request
tens of milliseconds of CPU (and an attacker could make us burn it with junk keys). SHA-256 of a
high-entropy secret is the standard for API tokens; verification is one indexed query by the
lookup and a constant-time comparison of the digests (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "fqs_"
_LOOKUP = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class NewKey:
    """A freshly made key: ``text`` is shown once and never stored; ``lookup`` and ``digest`` are."""

    text: str
    lookup: str
    digest: str


def digest(key: str) -> str:
    """SHA-256 of the key, hex (what ``api_keys.secret_hash`` holds)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    lookup = secrets.token_hex(8)
    text = f"{PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
    return NewKey(text, lookup, digest(text))


def new_key_id() -> str:
    """A key's stable id (kept across rotations)."""
    return f"key_{secrets.token_hex(6)}"


def lookup_of(presented: str) -> str | None:
    """The lookup part of a presented ``fqs_`` key, or None when it is not one."""
    if not presented.startswith(PREFIX):
        return None
    lookup, sep, rest = presented[len(PREFIX) :].partition("_")
    if not sep or not rest or not _LOOKUP.match(lookup):
        return None
    return lookup


def matches(presented: str, stored_digest: str) -> bool:
    """Constant-time: does the presented key hash to the stored digest?"""
    return hmac.compare_digest(digest(presented).encode(), stored_digest.encode())
