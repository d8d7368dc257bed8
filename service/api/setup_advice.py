"""Start-up advice about a deployment's settings: what a production service should set (its own
intents, where handoffs go, an identifier secret, API keys, Redis when people take conversations
over). Logged by ``advise`` on the ``service.setup`` logger, apart from the service's other
start-up messages, so that a process that builds the service for another purpose — ``faqstream
eval answers``' scratch service, whose settings are not a deployment's — can leave it out without
leaving out an error or a warning about the knowledge base or the Claude key."""

from __future__ import annotations

import logging

from service.handoff.delivery import HandoffRoutes
from service.routing.catalog import IntentsOrigin

SETUP_LOGGER = "service.setup"
log = logging.getLogger(SETUP_LOGGER)


def advise(
    intents: IntentsOrigin,
    routes: HandoffRoutes,
    *,
    open_endpoints: bool,
    identifier_secret: bool,
    shared_conversations: bool,
) -> None:
    """Log what the deployment's settings leave out (the intents' origin at INFO when they are
    the deployment's own). ``shared_conversations``: conversations live in Redis (``REDIS_URL``),
    not in this process."""
    (log.info if intents.custom else log.warning)("%s", intents.reason)
    if (nowhere := routes.startup_warning()) is not None:
        log.warning("%s", nowhere)
    if routes.webhook and routes.takeover_reasons and not shared_conversations:
        log.warning(
            "agent takeover is on (HANDOFF_WEBHOOK_URL, AGENTS_TAKEOVER_REASONS) but REDIS_URL is unset: "
            "conversations, those a person holds too, live in this process only and are lost on "
            "restart (the agent's reply and the customer's next message then get 404 "
            "conversation_not_found); set REDIS_URL to keep them (docs/agents.md)"
        )
    if open_endpoints:
        log.warning(
            "no API key exists (AUTH_API_KEYS is unset and `faqstream keys create` made none): "
            "the answer endpoints are open to anyone who can reach them"
        )
    if not identifier_secret:
        log.warning(
            "AUTH_IDENTIFIER_SECRET is unset: `user` and conversation ids are hashed without a "
            "secret in Redis keys and the ledger (a guessed e-mail can be confirmed)"
        )
