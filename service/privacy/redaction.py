"""Where redaction is applied: ``Redaction`` is the one object the answer flow asks.

The customer's message is redacted once, where the answer is planned (``AnswerService.plan``):
``stored`` is what the conversation store, summaries, handoff webhooks and logs get (always
redacted); ``upstream`` is what Claude gets (answers, translation, LLM routing) — the same
redacted text unless a deployment turned ``PRIVACY_REDACT_UPSTREAM`` off. Every consumer after
the plan sees only that text, so no Claude call site redacts on its own. Retrieval embeds the
upstream text too (locally): a placeholder retrieves as well as the number it replaced.

``allowed`` holds the company's own contact data (``service.privacy.contacts``): the phones,
e-mails and IBANs its knowledge base publishes, ``PRIVACY_ALLOW`` and ``HANDOFF_CONTACT``. Those are
left as they are wherever they appear — an agent's message, a stored reply that quotes a document,
the handoff notice — so the customer reads them, live and after a reload, as they were written.
Everything else the redactor finds is redacted as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from service.privacy.contacts import AllowedContacts
from service.privacy.pii import find_pii, replace
from service.privacy.settings import PrivacySettings


@dataclass(frozen=True)
class Redacted:
    """One customer message: as stored (always redacted) and as sent upstream."""

    stored: str
    upstream: str


@dataclass(frozen=True)
class Redaction:
    upstream: bool = True  # PRIVACY_REDACT_UPSTREAM
    # the company's own contact data, left as it is (its regions are PRIVACY_PHONE_REGIONS)
    allowed: AllowedContacts = field(default_factory=AllowedContacts)

    @classmethod
    def from_settings(cls, settings: PrivacySettings, contacts: Iterable[str] = ()) -> Redaction:
        """``contacts``: ``HANDOFF_CONTACT``'s texts (every language's), allowed like each value of
        ``PRIVACY_ALLOW``."""
        values = [*settings.allow, *filter(None, contacts)]
        return cls(settings.redact_upstream, AllowedContacts.of(values, settings.phone_regions))

    @property
    def regions(self) -> tuple[str, ...]:
        return self.allowed.regions

    def text(self, text: str) -> str:
        """``text`` redacted (for storage, logs, webhooks); the company's own contact data stays."""
        found = find_pii(text, self.regions)
        if found and len(self.allowed):
            found = [m for m in found if not self.allowed.allows(m.kind, text[m.start : m.end])]
        return replace(text, found)

    def message(self, text: str) -> Redacted:
        stored = self.text(text)
        return Redacted(stored, stored if self.upstream else text)
