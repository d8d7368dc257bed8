"""Webhook signatures: ``X-Faqstream-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<timestamp>." + body`` under ``WEBHOOK_SECRET``. ``sign`` is what the sender adds;
``verify_signature`` is what a receiver checks (and refuses stale timestamps, so a captured
request cannot be replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Faqstream-Signature"
TIMESTAMP_HEADER = "X-Faqstream-Timestamp"
EVENT_HEADER = "X-Faqstream-Event"
DELIVERY_HEADER = "X-Faqstream-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The two headers a signed delivery carries."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)
