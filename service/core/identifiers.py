"""Identifiers a caller chooses (``user``) or holds (``conversation_id``) never become Redis key
names or ledger rows as they are: an e-mail address is personal data. ``Pseudonyms`` turns one into
HMAC-SHA256(secret, kind, tenant, value), 128 bits as hex — stable (limits and joins still work),
distinct per tenant, and not reversible without the secret (``AUTH_IDENTIFIER_SECRET``). Without a
secret it is plain SHA-256 over the same fields: still no raw value in a key name, but a guessable
value (an e-mail) can be confirmed by hashing guesses, so production sets the secret.

``normalise_user`` is applied first, so ``Ann@Example.com `` and ``ann@example.com`` are one end
user for the per-user limit: NFKC, format characters (zero-width spaces…) removed, casefold,
whitespace collapsed and trimmed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from pydantic import SecretStr

_SPACE = re.compile(r"\s+")


def normalise_user(user: str) -> str:
    """NFKC, format characters removed, casefold, whitespace collapsed and trimmed."""
    text = unicodedata.normalize("NFKC", user)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return _SPACE.sub(" ", text.casefold()).strip()


class Pseudonyms:
    """Keyed hashes of caller-chosen identifiers (see the module docstring)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret

    @classmethod
    def keyed(cls, secret: SecretStr | None) -> Pseudonyms:
        """Keyed with ``AUTH_IDENTIFIER_SECRET`` when it is set."""
        return cls(secret.get_secret_value().encode() if secret is not None else None)

    def of(self, kind: str, tenant: str, value: str) -> str:
        message = "\x00".join((kind, tenant, value)).encode()
        if self._secret:
            digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        else:
            digest = hashlib.sha256(message).digest()
        return digest[:16].hex()

    def user(self, tenant: str, user: str | None) -> str | None:
        """The end user's pseudonym within ``tenant`` (after ``normalise_user``), or None."""
        if user is None:
            return None
        normalised = normalise_user(user)
        return self.of("user", tenant, normalised) if normalised else None

    def conversation(self, key: str) -> str:
        """The pseudonym of a conversation's store key (``<tenant>/<conversation_id>``): the one
        name of a conversation in Redis keys, the records and the usage ledger alike."""
        return self.of("conversation", "", key)
