"""Where redaction is applied: ``Redaction`` is the one object the answer flow asks.

The customer's message is redacted once, where the answer is planned (``AnswerService.plan``):
``stored`` is what the conversation store, summaries, handoff webhooks and logs get (always
redacted); ``upstream`` is what Claude gets (answers, translation, LLM routing) — the same
redacted text unless a deployment turned ``PRIVACY_REDACT_UPSTREAM`` off. Every consumer after
the plan sees only that text, so no Claude call site redacts on its own. Retrieval embeds the
upstream text too (locally): a placeholder retrieves as well as the number it replaced.
"""

from __future__ import annotations

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

    @classmethod
    def from_settings(cls, settings: PrivacySettings) -> Redaction:
        return cls(settings.redact_upstream, tuple(r.upper() for r in settings.phone_regions))

    def text(self, text: str) -> str:
        """``text`` redacted (for storage, logs, webhooks)."""
        return redact(text, self.regions)

    def message(self, text: str) -> Redacted:
        stored = self.text(text)
        return Redacted(stored, stored if self.upstream else text)
