"""Everything the service reads, as one settings object: the knowledge settings plus each
service component's own class (one class per concern, each with its env prefix).

Only composition roots (faqstream/server.py, the CLI, tests) import this module, so component
modules can define their settings next to their code without import cycles.
"""

from __future__ import annotations

from pydantic import Field

from knowledge.settings import Settings
from service.agents.settings import AgentSettings
from service.caching import CacheSettings
from service.conversations.store import ConversationSettings
from service.core.text_settings import TextSettings
from service.handoff.settings import HandoffSettings
from service.llm.policy import ResilienceSettings
from service.llm.pricing import PricingSettings
from service.notify.webhooks import WebhookSettings
from service.privacy.settings import PrivacySettings
from service.quotas import LimitSettings
from service.records.store import RecordSettings
from service.retrieval.translate import TranslateSettings
from service.routing.settings import RouterSettings
from service.settings.anthropic import AnthropicSettings
from service.settings.auth import AuthSettings
from service.settings.database import DatabaseSettings
from service.settings.redis import RedisSettings
from service.settings.service import ServiceSettings
from service.usage.writer import LedgerSettings
from service.web.settings import WebChatSettings


class AppSettings(Settings):
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    anthropic: AnthropicSettings = Field(default_factory=AnthropicSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    translate: TranslateSettings = Field(default_factory=TranslateSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    pricing: PricingSettings = Field(default_factory=PricingSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    records: RecordSettings = Field(default_factory=RecordSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    agents: AgentSettings = Field(default_factory=AgentSettings)
    web_chat: WebChatSettings = Field(default_factory=WebChatSettings)
    texts: TextSettings = Field(default_factory=TextSettings)
