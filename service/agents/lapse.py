"""When a takeover lapses: a handoff promised the customer a colleague, and none will come.

After a takeover handoff (``service.handoff.delivery``: ``takeover``) the assistant stays silent, so a
person must reply or the customer waits forever. Two things end that wait:

* ``undelivered`` — the ``handoff`` event did not reach the helpdesk: its retries ran out (connection
  refused, timeouts, 5xx), the helpdesk refused it for good (a 4xx other than 408/429), or the
  webhook queue was full. The ``WebhookSender`` calls the hook ``LapseWatch.hook`` gave it.
* ``unanswered`` — ``AGENTS_REPLY_TIMEOUT_S`` (off by default) passed without an agent's message.

Either way ``Takeover.lapse`` gives the conversation back to the assistant (``state`` ``bot``, as a
handback) with a notice in the customer's language — no colleague could be reached, the assistant
answers again, how to reach support (``HANDOFF_CONTACT``) — stored as the assistant's message (the
poll, the record) and sent on the events stream with the ``state`` event. Only while the episode
that handoff opened is still on (``SessionStore.lapse`` checks it and changes it in one atomic step:
of two processes that find it overdue, one gives it back): an agent who has replied, taken the
conversation over since, or handed it back, is never overruled.

The reply deadline is kept with the conversation (``state_at``, ``handoff_id`` in the session store),
so it survives a restart and every replica sees it: the process that made the handoff runs a timer
for it (the customer who only listens is told on time), and every read on the customer's behalf —
their next message, the poll, the events stream (opened, and at each keep-alive) — lapses a takeover
past its deadline (``overdue``) when that process is gone.

The ``handoff`` event is queued before the state changes (``service.answers.aftercare``), so a
refusal may arrive before the conversation is ``agent``: both run under one lock, and a handoff found
undelivered first lapses the moment it moves (``moving``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cachetools import TTLCache

from service.conversations.store import Conversation, waiting
from service.core.types import Client
from service.handoff.signals import LapseCause
from service.notify.webhooks import Outcome, Undelivered

log = logging.getLogger(__name__)

EARLY_KEPT = 10_000  # handoffs found undelivered before their conversation moved, remembered ...
EARLY_TTL_S = 3600.0  # ... for this long (the move follows within milliseconds)


@dataclass(frozen=True)
class Pending:
    """A takeover waiting for its agent: the handoff reply's ``message_id`` names the episode."""

    client: Client
    conversation_id: str
    message_id: str
    language: str


Lapse = Callable[[Pending, LapseCause], Awaitable[bool]]


def deadline(conv: Conversation, reply_timeout_s: float) -> datetime | None:
    """When ``conv``'s takeover lapses unanswered: a takeover handoff's, no agent's message yet, a
    timeout set. None otherwise."""
    if reply_timeout_s <= 0 or conv.handoff_id is None or conv.state_at is None:
        return None
    if not waiting(conv, conv.handoff_id):
        return None
    return conv.state_at + timedelta(seconds=reply_timeout_s)


def overdue(
    client: Client, conversation_id: str, conv: Conversation, reply_timeout_s: float
) -> Pending | None:
    """The takeover of ``conv`` when its deadline has passed (None: none waiting, or not yet)."""
    due = deadline(conv, reply_timeout_s)
    if due is None or datetime.now(UTC) < due:
        return None
    assert conv.handoff_id is not None
    language = next((t.language for t in conv.turns if t.message_id == conv.handoff_id), conv.language)
    return Pending(client, conversation_id, conv.handoff_id, language)


class LapseWatch:
    def __init__(self, lapse: Lapse, reply_timeout_s: float = 0) -> None:
        self._lapse = lapse
        self.reply_timeout_s = reply_timeout_s
        self._lock = asyncio.Lock()
        self._undelivered: TTLCache[str, bool] = TTLCache(maxsize=EARLY_KEPT, ttl=EARLY_TTL_S)
        self._timers: set[asyncio.Task[None]] = set()

    def hook(self, pending: Pending) -> Undelivered:
        """For ``WebhookSender.send(..., on_undelivered=...)`` of the ``handoff`` event."""

        async def undelivered(outcome: Outcome) -> None:
            log.warning(
                "handoff of conversation %s reached no one (%s): giving it back to the assistant",
                pending.conversation_id,
                outcome,
            )
            async with self._lock:
                self._undelivered[pending.message_id] = True
                await self._lapse(pending, "undelivered")

        return undelivered

    @asynccontextmanager
    async def moving(self, pending: Pending) -> AsyncIterator[None]:
        """Around the move to ``agent``: after it, a handoff already found undelivered lapses at
        once; otherwise the reply timer starts (when ``AGENTS_REPLY_TIMEOUT_S`` is set)."""
        async with self._lock:
            yield
            if self._undelivered.pop(pending.message_id, None):
                await self._lapse(pending, "undelivered")
                return
        if self.reply_timeout_s > 0:
            timer = asyncio.ensure_future(self._unanswered(pending))
            self._timers.add(timer)
            timer.add_done_callback(self._timers.discard)

    async def _unanswered(self, pending: Pending) -> None:
        await asyncio.sleep(self.reply_timeout_s)
        async with self._lock:
            await self._lapse(pending, "unanswered")

    async def close(self) -> None:
        timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
        for timer in timers:
            with contextlib.suppress(asyncio.CancelledError):
                await timer
