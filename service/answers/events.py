"""What one answer sends, in order: ``Meta``, ``Delta``s, then ``Done`` — or ``Failed`` when the model
broke off after text was sent. JSON and SSE (``service.api``) consume the same events."""

from __future__ import annotations

from dataclasses import dataclass

from service.conversations.store import Turn
from service.core.types import Citation, Mode, Usage
from service.handoff.signals import Handoff
from service.routing.route import Route


@dataclass(frozen=True)
class Meta:
    conversation_id: str
    message_id: str
    language: str
    mode: Mode
    citations: list[Citation]
    kb_version: int
    route: Route | None = None
    handoff: Handoff | None = None
    model: str | None = None
    # The agents' messages since the customer's previous message (``Plan.agent_messages``): a
    # client without the events stream (an OpenAI frontend) reads them with the reply.
    agent_messages: tuple[Turn, ...] = ()
    # The assistant's notices since then (``Plan.notices``: a handoff that reached no one, a takeover
    # given back): the customer reads them before this reply.
    notices: tuple[Turn, ...] = ()


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Done:
    stop_reason: str | None
    usage: Usage
    handoff: Handoff | None = None
    cache: str | None = None  # "exact" | "semantic" when the answer came from the answer cache
    with_agent: bool = False  # a person has the conversation now: the assistant will not answer it


@dataclass(frozen=True)
class Failed:
    code: str
    message: str
    retryable: bool


Event = Meta | Delta | Done | Failed
