"""Where a handoff goes, and therefore what the customer may be told about it.

Only ``HANDOFF_WEBHOOK_URL`` puts a handoff in front of a person: it is the one path that pushes
the ``handoff`` event (and, later, the customer's messages) to the helpdesk. Everything else a
person could use needs them to know the conversation already — the agent endpoints
(``/v1/conversations/{id}/takeover``, ``/agent-messages``) take a conversation id nobody is told
about, and the records and analytics are read afterwards, not while the customer waits. So:

* ``takeover`` — a webhook, and the reason is one of ``AGENTS_TAKEOVER_REASONS``: a person has the
  conversation now (``service.agents.takeover``), the customer is told a colleague replies here;
* ``notify`` — a webhook, another reason: the agents get the handoff, the assistant keeps
  answering, and the customer is told both (no reply from a person is promised);
* ``none`` — no webhook: nobody hears of it. The customer is told the assistant cannot pass the
  conversation on and is given ``HANDOFF_CONTACT`` (the company's own contact, for the customer's
  language) when it is set.

``HandoffRoutes`` holds the three settings that decide it; ``Takeover.moves`` and the customer's
notice (``service.answers.stream``) both ask it, so what the customer reads is what happens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from service.core.localised import for_language
from service.handoff.messages import handoff_message
from service.handoff.settings import HandoffSettings
from service.handoff.signals import Delivery, Handoff, HandoffReason

# A person takes the conversation when the customer wants one, or when the assistant cannot work:
# the customer's own words, an upset customer, a model that is down. A question the documents do
# not cover (or a request the router is unsure of) goes to the agents too, but the customer's next
# question — usually one the documents do answer — is still answered at once.
DEFAULT_TAKEOVER_REASONS: tuple[HandoffReason, ...] = (
    "customer_request",
    "dissatisfaction",
    "llm_unavailable",
)


def delivery_of(
    reason: HandoffReason, *, webhook: bool, takeover_reasons: Sequence[HandoffReason]
) -> Delivery:
    """What happens to a handoff with this reason (see the module docstring)."""
    if not webhook:
        return "none"
    return "takeover" if reason in takeover_reasons else "notify"


@dataclass(frozen=True)
class HandoffRoutes:
    """``webhook``: ``HANDOFF_WEBHOOK_URL`` is set; ``takeover_reasons``: ``AGENTS_TAKEOVER_REASONS``;
    ``contact``: ``HANDOFF_CONTACT``, language → contact (``"*"``: the others)."""

    webhook: bool = False
    takeover_reasons: tuple[HandoffReason, ...] = DEFAULT_TAKEOVER_REASONS
    contact: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, handoff: HandoffSettings, takeover_reasons: Sequence[HandoffReason]
    ) -> HandoffRoutes:
        return cls(bool(handoff.webhook_url), tuple(takeover_reasons), handoff.contact)

    def delivery(self, reason: HandoffReason) -> Delivery:
        return delivery_of(reason, webhook=self.webhook, takeover_reasons=self.takeover_reasons)

    def notice(self, language: str, handoff: Handoff | None, opening: HandoffReason | None = None) -> str:
        """What the customer reads for ``handoff`` (None: none was made — the "not in our
        documents" reply with handoffs off — which reaches nobody). ``opening``: the reason whose
        opening sentence leads (default: the handoff's)."""
        delivery: Delivery = self.delivery(handoff.reason) if handoff is not None else "none"
        first = opening or (handoff.reason if handoff is not None else "no_relevant_passages")
        contact = for_language(self.contact, language)
        return handoff_message(language, first, delivery=delivery, contact=contact)

    def startup_warning(self) -> str | None:
        """The start-up warning when a handoff can reach nobody and no contact is given."""
        if self.webhook or self.contact:
            return None
        return (
            "HANDOFF_WEBHOOK_URL and HANDOFF_CONTACT are unset: handoffs reach no one, so customers are "
            "told the assistant cannot pass them on and to contact your support directly, with no "
            "address. Set HANDOFF_CONTACT to your support e-mail or phone (shown as is), or "
            "HANDOFF_WEBHOOK_URL to hand conversations to your team (docs/agents.md)"
        )
