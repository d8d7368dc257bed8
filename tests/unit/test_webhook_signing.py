"""Webhook signatures as a receiver checks them (service/notify/signing.py)."""

from __future__ import annotations

from service.notify.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signature_headers,
    verify_signature,
)


def test_signature_checks() -> None:
    body = b'{"a":1}'
    good = sign("k", 1000, body)
    assert verify_signature("k", "1000", body, good, now=1100)
    assert not verify_signature("k", "1000", b'{"a":2}', good, now=1100)  # tampered body
    assert not verify_signature("other", "1000", body, good, now=1100)  # wrong secret
    assert not verify_signature("k", "1001", body, good, now=1100)  # timestamp is signed too
    assert not verify_signature("k", "1000", body, good, now=1000 + 301)  # stale: replay refused
    assert not verify_signature("k", "soon", body, good, now=1000)


def test_signature_headers() -> None:
    headers = signature_headers("k", 1000, b"{}")
    assert headers == {TIMESTAMP_HEADER: "1000", SIGNATURE_HEADER: sign("k", 1000, b"{}")}
    assert headers[SIGNATURE_HEADER].startswith("sha256=") and len(headers[SIGNATURE_HEADER]) == 7 + 64
