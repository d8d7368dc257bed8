"""Which conversation a listed transcript continues, for clients that never send ``conversation_id``.

OpenAI-compatible frontends (Open WebUI, LibreChat, the ``openai`` SDK) resend the whole message
list every turn and hold no conversation id. After each reply the service remembers, per tenant,
the digest of the transcript as the client now holds it — the listed turns, the question and the
reply exactly as sent — with the reply's conversation and message id (``Thread``). The client's
next request lists that transcript again before its new question: its digest finds the
conversation (``service.api.openai_threads``).

``transcript_digest`` is ``Pseudonyms.of("reply", tenant, …)`` (HMAC-SHA256 with
``AUTH_IDENTIFIER_SECRET``) over the end user's pseudonym (``user``, when sent) and the turns'
roles and texts (NFC, whitespace collapsed: a frontend that trims or re-wraps still matches): no
text, no tenant name, no user id in a key.

Two conversations that reach the same digest (two customers of one tenant whose transcripts are
word for word the same: "Hi" → the greeting) cannot be told apart: the digest becomes ambiguous
and finds nothing from then on (the client's listed turns then seed a new conversation, as
without this index), so one customer never continues another's conversation.

Kept with the conversations (``SessionStore.replies``), for ``CONVERSATION_TTL_S`` after it was
written: in Redis ``<prefix>reply:<digest>`` (a string ``<conversation_id>\\n<message_id>``, empty
when ambiguous, written by one Lua script); in process a ``cachetools.TTLCache`` of at most four
replies per conversation the store keeps (``CONVERSATION_MEMORY_MAX_CONVERSATIONS``; least recently
used go first).
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cachetools import TTLCache
from redis.asyncio import Redis
from redis.exceptions import RedisError

from knowledge.errors import FaqstreamError
from service.core.identifiers import Pseudonyms

Clock = Callable[[], float]


@dataclass(frozen=True)
class Thread:
    """The reply a transcript ends with: its conversation and its ``message_id`` (as ``meta`` gave it)."""

    conversation_id: str
    message_id: str


def transcript_digest(
    pseudonyms: Pseudonyms, tenant: str, user: str | None, turns: Sequence[tuple[str, str]]
) -> str:
    """The tenant's digest of ``turns`` (role, text), of the end user ``user`` when given."""
    shown = [[role, " ".join(unicodedata.normalize("NFC", text).split())] for role, text in turns]
    payload = json.dumps([pseudonyms.user(tenant, user), shown], ensure_ascii=False)
    return pseudonyms.of("reply", tenant, payload)


class ThreadStoreError(FaqstreamError):
    """The index could not be reached (Redis down): the caller answers as if nothing was found."""

    status = 503
    code = "store_unavailable"
    retryable = True


class ReplyThreads(Protocol):
    async def remember(self, digest: str, thread: Thread) -> None:
        """Keep ``digest`` → ``thread``; ambiguous for good when it names another conversation."""
        ...

    async def find(self, digest: str) -> Thread | None:
        """The thread; None when unknown, expired or ambiguous."""
        ...


_AMBIGUOUS = Thread("", "")


class InProcessReplyThreads:
    def __init__(self, ttl_s: int, maxsize: float, clock: Clock = time.time) -> None:
        self._entries: TTLCache[str, Thread] = TTLCache(maxsize=maxsize, ttl=ttl_s, timer=clock)

    async def remember(self, digest: str, thread: Thread) -> None:
        known = self._entries.get(digest)
        same = known is None or known.conversation_id == thread.conversation_id
        self._entries[digest] = thread if same else _AMBIGUOUS

    async def find(self, digest: str) -> Thread | None:
        found = self._entries.get(digest)
        return None if found is None or found is _AMBIGUOUS else found


# KEYS: the digest's key. ARGV: "<conversation_id>\n<message_id>", "<conversation_id>\n", ttl_ms.
_REMEMBER_LUA = """
local known = redis.call('GET', KEYS[1])
local value = ARGV[1]
if known and string.sub(known, 1, #ARGV[2]) ~= ARGV[2] then value = '' end
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
return value == '' and 0 or 1
"""


class RedisReplyThreads:
    def __init__(self, redis: Redis, ttl_s: int, *, prefix: str = "faqstream:") -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_ms = ttl_s * 1000
        self._remember = redis.register_script(_REMEMBER_LUA)

    def key(self, digest: str) -> str:
        return f"{self.prefix}reply:{digest}"

    async def remember(self, digest: str, thread: Thread) -> None:
        value = f"{thread.conversation_id}\n{thread.message_id}"
        args: list[str | int] = [value, f"{thread.conversation_id}\n", self.ttl_ms]
        try:
            await self._remember(keys=[self.key(digest)], args=args)
        except (RedisError, OSError) as exc:
            raise ThreadStoreError(f"{type(exc).__name__}: {exc}") from exc

    async def find(self, digest: str) -> Thread | None:
        try:
            raw = await self.redis.get(self.key(digest))
        except (RedisError, OSError) as exc:
            raise ThreadStoreError(f"{type(exc).__name__}: {exc}") from exc
        if not raw:
            return None
        text = raw.decode() if isinstance(raw, bytes) else raw
        conversation_id, _, message_id = text.partition("\n")
        return Thread(conversation_id, message_id) if conversation_id and message_id else None
