"""The configured router: the local one, or the LLM router (``ROUTER_KIND=llm``) in front of it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from knowledge.embedder import Embedder
from knowledge.language import LanguageIdentifier
from service.routing.llm_router import LlmRouter
from service.routing.route import Router
from service.routing.router import IntentRouter
from service.routing.settings import RouterSettings

if TYPE_CHECKING:
    from service.llm.claude import ClaudeClient

log = logging.getLogger(__name__)


def build_router(
    settings: RouterSettings,
    embedder: Embedder,
    claude: ClaudeClient | None = None,
    languages: LanguageIdentifier | None = None,
    default_language: str = "en",
) -> Router:
    """The configured router. ``llm`` without a Claude client (no API key) runs the local one."""
    local = IntentRouter.from_settings(settings, embedder, languages, default_language)
    if settings.kind == "local":
        return local
    if claude is None:
        log.warning("ROUTER_KIND=llm but no Claude client (ANTHROPIC_API_KEY unset): routing locally")
        return local
    return LlmRouter(claude, local, settings)
