"""A webhook URL without WEBHOOK_SECRET stops the service at start-up (one-line ConfigError),
unless WEBHOOK_ALLOW_UNSIGNED is set for development."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from knowledge.errors import ConfigError
from service.notify.webhooks import WebhookSettings, require_signing


def test_a_webhook_url_needs_a_secret() -> None:
    with pytest.raises(ConfigError) as refused:
        require_signing(WebhookSettings(secret=None), HANDOFF_WEBHOOK_URL="https://hooks.example/h")
    message = str(refused.value)
    assert "HANDOFF_WEBHOOK_URL" in message and "WEBHOOK_SECRET" in message and "\n" not in message
    with pytest.raises(ConfigError, match="LIMITS_ALERT_WEBHOOK_URL"):
        require_signing(
            WebhookSettings(secret=None), HANDOFF_WEBHOOK_URL=None, LIMITS_ALERT_WEBHOOK_URL="https://x/a"
        )


def test_signed_unset_or_explicitly_unsigned_webhooks_start() -> None:
    require_signing(
        WebhookSettings(secret=SecretStr("s3cret")), HANDOFF_WEBHOOK_URL="https://hooks.example/h"
    )
    require_signing(WebhookSettings(secret=None), HANDOFF_WEBHOOK_URL=None, LIMITS_ALERT_WEBHOOK_URL=None)
    require_signing(
        WebhookSettings(secret=None, allow_unsigned=True), HANDOFF_WEBHOOK_URL="https://hooks.example/h"
    )
