"""Caller-chosen identifiers (``user``, conversation ids): normalised for the per-user limit, and
hashed per tenant (keyed by the deployment's secret) before they become key names or ledger rows."""

from __future__ import annotations

import asyncio
import unicodedata

from service.api.openai_wire import reply_tag, without_tag
from service.conversations.threads import transcript_digest
from service.core.identifiers import Pseudonyms, normalise_user
from service.quotas.rate_limits import InProcessRateLimiter
from service.quotas.settings import LimitSettings


def test_case_spaces_width_and_invisible_characters_do_not_make_another_user() -> None:
    same = [
        "ann@example.com",
        "Ann@Example.COM",
        "  ann@example.com\t",
        "ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",  # full-width forms (NFKC)
        "ann\u200b@example.com",  # a zero-width space
        "ANN@EXAMPLE.COM\n",
    ]
    assert {normalise_user(u) for u in same} == {"ann@example.com"}
    assert normalise_user("Ann  Lee") == normalise_user(" ann lee ") == "ann lee"
    assert normalise_user("ann@example.org") != normalise_user("ann@example.com")
    pseudonyms = Pseudonyms(b"secret")
    assert len({pseudonyms.user("acme", u) for u in same}) == 1


def test_pseudonyms_hide_the_value_and_differ_by_tenant_kind_and_secret() -> None:
    keyed, plain = Pseudonyms(b"deployment secret"), Pseudonyms()
    user = keyed.user("acme", "Ann@Example.com")
    assert user is not None and len(user) == 32 and "ann" not in user and "example" not in user
    assert user != keyed.user("globex", "ann@example.com")  # per tenant
    assert user != plain.user("acme", "ann@example.com")  # per secret
    assert user != Pseudonyms(b"another").user("acme", "ann@example.com")
    assert keyed.of("user", "acme", "x") != keyed.of("conversation", "acme", "x")  # per kind
    assert keyed.conversation("acme/conv_1") != keyed.conversation("globex/conv_1")
    assert keyed.user("acme", None) is None and keyed.user("acme", " \u200b ") is None


def test_a_key_with_its_own_rate_gets_a_bucket_of_one_minute_at_most() -> None:
    limiter = InProcessRateLimiter(
        LimitSettings(key_rpm=600, key_burst=100, user_rpm=20, user_burst=10), clock=lambda: 0.0
    )
    assert [(b.name, b.rpm, b.capacity) for b in limiter.applicable(None)] == [("key", 600, 100)]
    own = limiter.applicable("u", rpm=2)
    assert [(b.name, b.rpm, b.capacity) for b in own] == [("key", 2, 2), ("user", 20, 10)]
    assert limiter.applicable(None, rpm=6000)[0].capacity == 100  # the configured burst when smaller

    async def run() -> list[bool]:
        results = [(await limiter.check("key_a", tenant="acme", rpm=2)).allowed for _ in range(3)]
        results.append((await limiter.check("key_b", tenant="acme")).allowed)  # another key: its own bucket
        return results

    assert asyncio.run(run()) == [True, True, False, True]


def test_end_user_buckets_are_per_tenant_not_per_key() -> None:
    limiter = InProcessRateLimiter(LimitSettings(user_rpm=1, user_burst=1), clock=lambda: 0.0)
    user = Pseudonyms().user("acme", "Ann@Example.com")

    async def run() -> list[bool]:
        return [
            (await limiter.check("key_a", user, tenant="acme")).allowed,
            (await limiter.check("key_b", user, tenant="acme")).allowed,  # same tenant, another key
            (await limiter.check("key_c", user, tenant="globex")).allowed,  # another tenant
        ]

    assert asyncio.run(run()) == [True, False, True]


def test_a_transcript_digest_is_the_tenants_and_the_users_and_ignores_spacing() -> None:
    keyed = Pseudonyms(b"deployment secret")
    chat = [
        ("user", "Where is order NW-2026-004817?"),
        ("assistant", "It left today [1].\n\nSources:\n[1] Shipping"),
    ]
    digest = transcript_digest(keyed, "acme", None, chat)
    assert len(digest) == 32 and "NW-2026" not in digest
    respaced = [
        ("user", " Where is order  NW-2026-004817?"),
        ("assistant", "It left today [1].\nSources: [1] Shipping\n"),
    ]
    assert transcript_digest(keyed, "acme", None, respaced) == digest  # a frontend that trims or re-wraps
    assert transcript_digest(keyed, "globex", None, chat) != digest
    assert transcript_digest(keyed, "acme", "ann@example.com", chat) != digest
    assert transcript_digest(keyed, "acme", " Ann@Example.com", chat) == transcript_digest(
        keyed, "acme", "ann@example.com", chat
    )
    assert transcript_digest(Pseudonyms(), "acme", None, chat) != digest
    assert transcript_digest(keyed, "acme", None, [(r, t + ".") for r, t in chat]) != digest
    swapped = [("assistant", chat[0][1]), ("user", chat[1][1])]
    assert transcript_digest(keyed, "acme", None, swapped) != digest


def test_a_reply_tag_is_invisible_its_own_and_taken_off_whole() -> None:
    first, second = reply_tag("msg_0123456789abcdef0123"), reply_tag("msg_fedcba9876543210fedc")
    assert len(first) == 48 and first != second
    assert {unicodedata.category(c) for c in first + second} == {"Cf"}  # format characters: no glyph
    assert "".join(first.split()) == first  # not whitespace: a transcript digest keeps it
    text = "Refunds take 5–10 days.\n\nSources:\n[1] Refunds"
    assert without_tag(text + first) == text and without_tag(text) == text
    digests = {
        transcript_digest(Pseudonyms(b"s"), "acme", None, [("user", "Hi"), ("assistant", "Hello!" + tag)])
        for tag in (first, second)
    }
    assert len(digests) == 2  # two chats whose replies read alike are two transcripts
