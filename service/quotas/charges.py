"""The usage sink: what each Claude request consumed goes to the ledger and the caller's daily budget.

``UsageCharges.spent(bill, model, usage)`` is the one function that charges usage, whatever the call
was for (answer, translation, summary, routing...; ``service.llm.billing``): the raw client calls it
once per upstream request. It never waits and never raises — it runs in a stream's ``finally``,
also while the stream is being cancelled — so it only queues: the ledger row on the ledger's own
writer (``UsageLedger.record``), the budget charge on a bounded background queue whose worker
awaits ``BudgetGuard.charge`` (Redis). ``aclose`` drains both queues' share on shutdown;
``flush`` waits until everything charged so far is in the budget store and the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from service.core.background import BackgroundQueue, DropReason
from service.core.tokens import TokenUsage
from service.core.types import Usage
from service.llm.billing import Bill
from service.quotas.budgets import BudgetGuard
from service.usage.ledger import UsageLedger, UsageRecord

log = logging.getLogger(__name__)

QUEUE_SIZE = 10_000  # budget charges waiting for Redis; beyond that one is dropped with an error line
BATCH = 64


def total_tokens(usage: TokenUsage) -> int:
    """The tokens a response counts toward a daily token budget: input, output and cache."""
    return (
        usage.input_tokens
        + usage.output_tokens
        + usage.cache_read_input_tokens
        + usage.cache_creation_input_tokens
    )


class UsageCharges:
    """``service.llm.billing.UsageSink`` over the ledger and the budgets (either may be absent)."""

    def __init__(self, ledger: UsageLedger | None, budgets: BudgetGuard | None) -> None:
        self.ledger = ledger
        self.budgets = budgets
        self._queue: BackgroundQueue[tuple[Bill, Usage]] = BackgroundQueue(
            "budget-charges", self._charge, maxsize=QUEUE_SIZE, batch_size=BATCH, on_drop=_dropped
        )

    def spent(self, bill: Bill, model: str, usage: Usage) -> None:
        """Queue one ledger row and one budget charge; returns at once."""
        if self.ledger is not None:
            self.ledger.record(
                UsageRecord.from_usage(
                    key_id=bill.key_id,
                    tenant=bill.tenant,
                    conversation_id=bill.conversation_id,
                    message_id=bill.message_id,
                    model=model,
                    usage=usage,
                    purpose=bill.purpose,
                )
            )
        if self.budgets is not None and total_tokens(usage):
            if not self._queue.started and not self._queue.closed:
                self._queue.start()  # on the running loop of the first charge
            self._queue.offer((bill, usage))

    async def _charge(self, batch: list[tuple[Bill, Usage]]) -> None:
        assert self.budgets is not None
        for bill, usage in batch:
            await self.budgets.charge(bill.key_id, total_tokens(usage), usage.cost_usd, limits=bill.limits)

    async def flush(self) -> None:
        """Wait until every charge so far is in the budget store and the ledger."""
        await self._queue.join()
        if self.ledger is not None:
            await self.ledger.flush()

    async def aclose(self, timeout_s: float = 10.0) -> None:
        """Shutdown: charge what is queued (for up to ``timeout_s``); the ledger closes itself."""
        await self._queue.aclose(timeout_s)


def _dropped(charges: Sequence[tuple[Bill, Usage]], reason: DropReason) -> None:
    for bill, usage in charges:
        log.error(
            "budget: %d tokens / $%.6f of a %s call not charged to key %s (%s)",
            total_tokens(usage),
            usage.cost_usd,
            bill.purpose,
            bill.key_id,
            reason,
        )
