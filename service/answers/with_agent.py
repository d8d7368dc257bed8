"""The reply to a customer while a person has the conversation: no retrieval, no model, no cache.

``AgentRelay.events()`` yields what every answer yields — ``Meta`` (mode ``agent``, no citations,
the agents' messages posted since the customer's previous message: ``Plan.agent_messages``), one
``Delta`` with the localized "your message was passed on" notice (``service.agents.notice``) and
``Done`` (stop reason ``with_agent``) — so the JSON, SSE and OpenAI-compatible answers carry
it without a format of their own. Before ``Done`` the customer's message is stored, sent to the
agents' webhook and recorded (``Takeover.customer_message``); the notice itself is not stored (it
is no part of the conversation an agent reads).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

from service.agents.notice import passed_on
from service.agents.takeover import Takeover
from service.answers.events import Delta, Done, Event, Meta
from service.answers.plan import Plan
from service.conversations.store import SessionStoreError
from service.core.metrics import Metrics
from service.core.types import Usage

log = logging.getLogger(__name__)

STOP_REASON = "with_agent"


class AgentRelay:
    def __init__(self, plan: Plan, takeover: Takeover, metrics: Metrics) -> None:
        self.plan = plan
        self.takeover = takeover
        self.metrics = metrics

    async def events(self) -> AsyncGenerator[Event, None]:
        plan = self.plan
        yield Meta(
            plan.conversation_id,
            plan.message_id,
            plan.language,
            "agent",
            [],
            plan.kb_version,
            agent_messages=plan.agent_messages,
            notices=plan.notices,
        )
        text = passed_on(plan.tag)
        yield Delta(text)
        try:
            await self.takeover.customer_message(plan.client, plan.conversation_id, plan.user_turn())
        except SessionStoreError as exc:  # the agents' webhook and the records still have it
            log.warning("customer message of %s not stored: %s", plan.conversation_id, exc.message)
        self.metrics.answers.labels("agent", "ok").inc()
        yield Done(STOP_REASON, Usage(), with_agent=True)
