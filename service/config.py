"""Everything the service reads, as one settings object: the knowledge settings plus each
service component's own class (one class per concern, each with its env prefix).

Only composition roots (faqstream/server.py, the CLI, tests) import this module, so component
modules can define their settings next to their code without import cycles.
"""

from __future__ import annotations

from pydantic import Field

from knowledge.settings import Settings
from service.answer_cache import CacheSettings
from service.auth import AuthSettings
from service.db_settings import DatabaseSettings
from service.handoff import HandoffSettings
from service.ledger import LedgerSettings
from service.limits import LimitSettings
from service.pricing import PricingSettings
from service.redis_settings import RedisSettings
from service.routing import RouterSettings
from service.sessions import ConversationSettings
from service.settings import AnthropicSettings, ServiceSettings
from service.translate import TranslateSettings
from service.upstream_policy import ResilienceSettings
from service.webhooks import WebhookSettings


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
