"""How long a prompt prefix must be to be cached, and how long ours is: the per-model minimums,
token estimates without Claude's tokenizer, and the start-up warning when the prefix falls short."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from service.answers.prompts import ANSWER_TOOLS, RULES

# Shortest prefix each model caches (tokens); shorter prefixes are silently not cached. Matched by
# the longest key the model id starts with, else the longest key it contains; SERVICE_PROMPT_CACHE_
# MIN_TOKENS overrides or extends it. The values of Anthropic's prompt-caching docs, except
# claude-sonnet-4-6: documented as 1024, observed at 2048 (anthropics/anthropic-sdk-python#1194).
# The same table as the fake API's (fakes/anthropic_protocol.py DEFAULT_MIN_CACHE_TOKENS).
MIN_CACHEABLE_TOKENS: dict[str, int] = {
    "claude-opus-5": 512,
    "claude-fable-5": 512,
    "claude-mythos-5": 512,
    "claude-sonnet-5": 1024,
    "claude-opus-4-8": 1024,
    "claude-opus-4-7": 2048,
    "claude-opus-4-6": 4096,
    "claude-opus-4-5": 4096,
    "claude-opus-4-1": 1024,
    "claude-opus-4": 1024,
    "claude-sonnet-4-6": 2048,
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-4": 1024,
    "claude-haiku-4-5": 4096,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
    "sonnet": 2048,
    "haiku": 4096,
    "opus": 4096,
}
FALLBACK_MIN_CACHEABLE_TOKENS = 1024


def min_cacheable_tokens(model: str, overrides: Mapping[str, int] | None = None) -> int:
    for table in (overrides or {}, MIN_CACHEABLE_TOKENS):
        if model in table:
            return table[model]
        keys = [k for k in table if model.startswith(k)] or [k for k in table if k in model]
        if keys:
            return table[max(keys, key=len)]
    return FALLBACK_MIN_CACHEABLE_TOKENS


# Token estimates without Claude's tokenizer (not available locally). Two bounds, each used where
# it is the safe side: the LOW one (5 characters a token, one a CJK character) decides whether the
# prefix reaches a model's minimum — English prose runs ~4 characters a Claude token, the fake API
# counts ~4–4.5 on our corpora, so a prefix the low bound puts over the minimum is over it; the
# HIGH one (``service.conversations.history.estimate_tokens``: 3.5 characters a token) decides
# whether the documents fit SERVICE_PREFIX_MAX_TOKENS.
LOW_CHARS_PER_TOKEN = 5
_CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def tokens_at_least(text: str) -> int:
    """A lower estimate of Claude tokens in ``text``."""
    cjk = len(_CJK_RE.findall(text))
    return cjk + (len(text) - cjk) // LOW_CHARS_PER_TOKEN


def chars_for_tokens(tokens: int) -> int:
    """Characters of Latin-script text the low estimate counts as ``tokens``."""
    return tokens * LOW_CHARS_PER_TOKEN


# The tools and the rules, in front of the knowledge in every prefix.
FIXED_PREFIX_TEXT = json.dumps(ANSWER_TOOLS, ensure_ascii=False) + RULES


def cache_warning(prefix_tokens: int, minimums: dict[str, int], form: str = "digest") -> str | None:
    """A warning when the cached prefix (``prefix_tokens``, the low estimate) is too short for a
    model that may answer. ``minimums``: each model of the chain (the configured one first, then the
    fallbacks) and the shortest prefix it caches."""
    primary, *fallbacks = minimums
    if prefix_tokens < minimums[primary]:
        return (
            f"prompt caching may not take effect: the cached prompt prefix ({form} form) is estimated at "
            f"{prefix_tokens}+ tokens (a low estimate) and {primary} caches prefixes of "
            f"{minimums[primary]}+ tokens; under it every answer pays full price for the prefix (a larger "
            "knowledge base, or SERVICE_PROMPT_CACHE_MIN_TOKENS if the model's minimum is lower)"
        )
    short = [f"{m} ({minimums[m]}+)" for m in fallbacks if prefix_tokens < minimums[m]]
    if not short:
        return None
    return (
        f"the cached prompt prefix ({form} form, {prefix_tokens}+ tokens) is cached for {primary} but is "
        f"shorter than what the fallback model(s) {', '.join(short)} cache: answers they give after "
        f"{primary} failed pay full price for the prefix"
    )
