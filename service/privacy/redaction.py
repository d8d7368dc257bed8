"""Where redaction is applied: ``Redaction`` is the one object the answer flow asks.

The customer's message is redacted once, where the answer is planned (``AnswerService.plan``):
``stored`` is what the conversation store, summaries, handoff webhooks and logs get (always
redacted); ``upstream`` is what Claude gets (answers, translation, LLM routing) — the same
redacted text unless a deployment turned ``PRIVACY_REDACT_UPSTREAM`` off. Every consumer after
the plan sees only that text, so no Claude call site redacts on its own. Retrieval embeds the
upstream text too (locally): a placeholder retrieves as well as the number it replaced.

``keep`` lists the company's own contact details (``HANDOFF_CONTACT``): text the service itself
writes into replies, never a customer's data, so a stored reply keeps it as the customer read it
(a reloaded web chat showed "[email]" where the handoff notice had given the support address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.privacy.phones import DEFAULT_REGIONS
from service.privacy.pii import redact
from service.privacy.settings import PrivacySettings


@dataclass(frozen=True)
class Redacted:
    """One customer message: as stored (always redacted) and as sent upstream."""

    stored: str
    upstream: str


@dataclass(frozen=True)
class Redaction:
    upstream: bool = True  # PRIVACY_REDACT_UPSTREAM
    regions: tuple[str, ...] = DEFAULT_REGIONS  # PRIVACY_PHONE_REGIONS
    keep: tuple[str, ...] = ()  # exact texts left as they are (the company's HANDOFF_CONTACT)

    @classmethod
    def from_settings(cls, settings: PrivacySettings, keep: tuple[str, ...] = ()) -> Redaction:
        return cls(settings.redact_upstream, tuple(r.upper() for r in settings.phone_regions), keep)

    def text(self, text: str) -> str:
        """``text`` redacted (for storage, logs, webhooks); each ``keep`` text stays as it is."""
        kept = [k for k in self.keep if k and k in text]
        if not kept:
            return redact(text, self.regions)
        pieces = re.split("(" + "|".join(map(re.escape, sorted(kept, key=len, reverse=True))) + ")", text)
        return "".join(p if i % 2 else redact(p, self.regions) for i, p in enumerate(pieces))

    def message(self, text: str) -> Redacted:
        stored = self.text(text)
        return Redacted(stored, stored if self.upstream else text)
