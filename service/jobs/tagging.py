"""``faqstream batch tag``: tag finished conversations through the Message Batches API, exactly once.

A run first finishes what earlier runs left (``resume``), then submits new jobs, then — with
``wait`` — polls every job in flight (tenacity, exponential backoff capped at ``poll_max_s``) and
collects its results. The job's life and the transactions that make it crash-safe are in
``tag_store``; what a request says and how a result is read, in ``tag_prompt``.

No double submission. ``batches.create`` is sent once, without the SDK's retries: the API takes no
idempotency key, so a create retried after a timeout could make a second batch. A job is
``preparing`` from before that call until the batch id is stored; a job found ``preparing`` at start
may therefore have a batch we never heard of. Batches carry no metadata of ours, so it is looked
for: ``batches.list`` (newest first) back to ``clock_skew_s`` before the job's row, not already
another job's, with as many requests as the job — and confirmed by reading the results' custom ids,
which must be exactly the job's (possible only once that batch has ended; until then the job waits,
and it is never resubmitted while a candidate is unresolved). Only when no batch matches is the job
submitted again, with the same conversations. Runs must not overlap (schedule them with ``flock``).

No lost or double results. Results stay at the API for 29 days; they are stored, with the ledger rows
and the job's move to ``collected``, in one transaction (``TagStore.collect``), so a run killed while
storing leaves the job ``submitted`` and the next run stores everything once. A result that errored,
expired, was canceled or does not validate against ``ConversationTag`` is recorded in the job's
``failures``; its conversation stays untagged and a later run asks again (up to ``max_attempts``).

Ledger: every request that ran (also one whose answer was unusable: it was paid for) is a ledger row
with purpose ``batch_tag``, ``key_id`` the job id, and the batch price (``PriceTable.cost(…,
batch=True)``); the run's summary puts it next to the standard price.

``FAQSTREAM_BATCH_CHECKPOINT=<name>`` makes the run announce ``checkpoint <name>`` on stderr and stop
there (sleep) — how the crash tests kill it at ``job_row``, ``created``, ``submitted``, ``polling``
and ``storing``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
from tenacity import Retrying, retry_if_exception_type, retry_if_result, wait_exponential

from knowledge.errors import FaqstreamError
from service.core.types import Usage
from service.jobs.settings import BatchTagSettings
from service.jobs.tag_prompt import ConversationTag, batch_request, read_result, transcript
from service.jobs.tag_store import IN_FLIGHT, Job, Stored, TagStore
from service.llm.pricing import PriceTable
from service.usage.records import UsageRecord

log = logging.getLogger(__name__)

CHECKPOINT_ENV = "FAQSTREAM_BATCH_CHECKPOINT"
PURPOSE = "batch_tag"
_TRANSIENT = (anthropic.APIConnectionError, anthropic.RateLimitError, anthropic.InternalServerError)


def checkpoint(name: str) -> None:
    """Stop here for good when ``FAQSTREAM_BATCH_CHECKPOINT`` names this point (crash tests)."""
    if os.environ.get(CHECKPOINT_ENV) == name:
        print(f"checkpoint {name}", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)


class BatchSubmitError(FaqstreamError):
    """``batches.create`` failed in a way that leaves open whether the batch exists; the next run
    finds out (see the module docstring) before it submits anything."""

    retryable = True


@dataclass
class RunSummary:
    submitted_jobs: int = 0
    submitted_requests: int = 0
    collected_jobs: int = 0
    tagged: int = 0
    failed: int = 0
    cost_usd: float = 0.0
    standard_usd: float = 0.0
    in_flight: int = 0  # jobs not collected when the run ended (--no-wait, or a batch still running)
    not_idle: int = 0  # conversations to tag updated within BATCH_TAG_IDLE_MINUTES: left for a later run
    idle_minutes: float = 0.0

    @property
    def saved_usd(self) -> float:
        return round(self.standard_usd - self.cost_usd, 8)


class BatchTagger:
    def __init__(
        self,
        store: TagStore,
        client: anthropic.Anthropic,
        prices: PriceTable,
        settings: BatchTagSettings,
        *,
        model: str,
        progress: Callable[[str], None] = lambda _line: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.client = client
        self.prices = prices
        self.settings = settings
        self.model = model
        self.progress = progress
        self.sleep = sleep

    # ------------------------------------------------------------ the run
    def run(self, since: datetime, *, wait: bool = True, poll_max_s: float | None = None) -> RunSummary:
        summary = RunSummary(idle_minutes=self.settings.idle_minutes)
        poll_max = poll_max_s if poll_max_s is not None else self.settings.poll_max_s
        self.resume(summary, wait=False, poll_max_s=poll_max)  # what an earlier run left
        while (job := self._reserve(since)) is not None:
            self._submit(job, summary)
        idle_before = datetime.now(UTC) - timedelta(minutes=self.settings.idle_minutes)
        summary.not_idle = self.store.not_idle(since=since, idle_before=idle_before)
        self.resume(summary, wait=wait, poll_max_s=poll_max)
        summary.in_flight = len(self.store.jobs(IN_FLIGHT))
        return summary

    def resume(self, summary: RunSummary, *, wait: bool, poll_max_s: float) -> None:
        """Advance every job in flight: find the batch of a ``preparing`` one (or resubmit it),
        collect a ``submitted`` one once its batch has ended (waiting for it with ``wait``)."""
        for found in self.store.jobs(IN_FLIGHT):
            job = found
            if job.status == "preparing":
                job = self._recover(job, summary, wait=wait, poll_max_s=poll_max_s)
            if job.status == "submitted" and job.batch_id is not None:
                batch = self._ended(job.batch_id, wait=wait, poll_max_s=poll_max_s)
                if batch is not None:
                    self._collect(job, batch, summary)

    def _reserve(self, since: datetime) -> Job | None:
        now = datetime.now(UTC)
        return self.store.reserve(
            since=since,
            idle_before=now - timedelta(minutes=self.settings.idle_minutes),
            limit=self.settings.max_requests,
            max_attempts=self.settings.max_attempts,
            now=now,
        )

    # ------------------------------------------------------------ submitting
    def _submit(self, job: Job, summary: RunSummary) -> Job:
        found = self.store.conversations(job.custom_ids)
        if len(found) != job.requests:
            ids = [c.id for c in found]
            self.store.resize(job.id, ids)
            job = Job(job.id, job.status, None, job.created_at, len(ids), tuple(ids))
            if not ids:
                self.store.mark_failed(job.id, "conversations no longer exist", datetime.now(UTC))
                return job
        requests: Any = [
            batch_request(
                c.id,
                transcript(
                    c.lines,
                    handoff_reason=c.handoff_reason,
                    message_chars=self.settings.message_chars,
                    max_chars=self.settings.transcript_chars,
                ),
                model=self.model,
                max_tokens=self.settings.max_tokens,
                language=c.language,
            )
            for c in found
        ]
        checkpoint("job_row")
        try:  # once: a retried create could be a second batch (no idempotency keys)
            batch = self.client.with_options(max_retries=0).messages.batches.create(requests=requests)
        except (anthropic.BadRequestError, anthropic.UnprocessableEntityError) as exc:
            self.store.mark_failed(job.id, f"refused: {exc.message}"[:500], datetime.now(UTC))
            self.progress(f"job {job.id}: the API refused the batch ({exc.message}); marked failed")
            return job
        except anthropic.APIError as exc:
            raise BatchSubmitError(
                f"submitting job {job.id} ({job.requests} conversations) failed: {exc}",
                hint="run again: the next run checks whether the batch was created before resubmitting",
            ) from exc
        checkpoint("created")
        self.store.mark_submitted(job.id, batch.id, datetime.now(UTC))
        summary.submitted_jobs += 1
        summary.submitted_requests += job.requests
        self.progress(f"job {job.id}: submitted {job.requests} conversations as {batch.id}")
        checkpoint("submitted")
        return Job(job.id, "submitted", batch.id, job.created_at, job.requests, job.custom_ids)

    def _recover(self, job: Job, summary: RunSummary, *, wait: bool, poll_max_s: float) -> Job:
        """A job cut off between its row and its batch id: adopt its batch if one exists, wait while
        one might, resubmit only when none does (module docstring)."""
        claimed = self.store.claimed_batch_ids()
        earliest = job.created_at - timedelta(seconds=self.settings.clock_skew_s)
        unresolved: list[str] = []
        for batch in self.client.messages.batches.list(limit=100):  # newest first, every page
            if batch.created_at < earliest:
                break
            counts = batch.request_counts
            total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
            if batch.id in claimed or total != job.requests:
                continue
            if batch.processing_status != "ended":
                unresolved.append(batch.id)
            elif self._is_jobs(job, batch.id):
                return self._adopt(job, batch.id)
        for batch_id in unresolved:
            if self._ended(batch_id, wait=wait, poll_max_s=poll_max_s) is None:
                self.progress(f"job {job.id}: batch {batch_id} may be this job's; deciding once it has ended")
                return job
            if self._is_jobs(job, batch_id):
                return self._adopt(job, batch_id)
        self.progress(f"job {job.id}: no batch of it exists; submitting it")
        return self._submit(job, summary)

    def _is_jobs(self, job: Job, batch_id: str) -> bool:
        return {r.custom_id for r in self.client.messages.batches.results(batch_id)} == set(job.custom_ids)

    def _adopt(self, job: Job, batch_id: str) -> Job:
        self.store.mark_submitted(job.id, batch_id, datetime.now(UTC))
        self.progress(f"job {job.id}: found its batch {batch_id}")
        return Job(job.id, "submitted", batch_id, job.created_at, job.requests, job.custom_ids)

    # ------------------------------------------------------------ polling and collecting
    def _ended(self, batch_id: str, *, wait: bool, poll_max_s: float) -> Any | None:
        """The batch once it has ended; None if it has not and ``wait`` is off."""

        def poll() -> Any:
            batch = self.client.messages.batches.retrieve(batch_id)
            checkpoint("polling")
            return batch

        if not wait:
            batch = poll()
            return batch if batch.processing_status == "ended" else None

        def waiting(state: Any) -> None:
            outcome = state.outcome
            if outcome is not None and not outcome.failed:
                c = outcome.result().request_counts
                self.progress(
                    f"batch {batch_id}: {c.processing} processing; next check in {state.upcoming_sleep:.1f}s"
                )

        retrying = Retrying(
            wait=wait_exponential(multiplier=self.settings.poll_initial_s, max=poll_max_s),
            retry=retry_if_result(lambda b: b.processing_status != "ended")
            | retry_if_exception_type(_TRANSIENT),
            before_sleep=waiting,
            sleep=self.sleep,
        )
        return retrying(poll)

    def _collect(self, job: Job, batch: Any, summary: RunSummary) -> None:
        asked = set(job.custom_ids)
        outcomes = {
            o.custom_id: o for o in map(read_result, self.client.messages.batches.results(job.batch_id or ""))
        }
        tenants = self.store.tenants(job.custom_ids)
        ended_at = batch.ended_at or datetime.now(UTC)
        tags: dict[str, ConversationTag] = {}
        failures: dict[str, str] = {}
        usage: list[UsageRecord] = []
        cost = standard = 0.0
        for cid in job.custom_ids:
            outcome = outcomes.get(cid)
            if outcome is None:
                failures[cid] = "missing from the batch's results"
                continue
            if outcome.usage is not None and outcome.model is not None:
                used = Usage(**outcome.usage)
                price = self.prices.cost(outcome.model, used, batch=True)
                cost += price
                standard += self.prices.cost(outcome.model, used)
                usage.append(
                    UsageRecord(
                        key_id=job.id,
                        conversation_id=cid,
                        model=outcome.model,
                        cost_usd=price,
                        message_id=outcome.message_id,
                        created_at=ended_at,
                        tenant=tenants.get(cid),
                        purpose=PURPOSE,
                        **outcome.usage,
                    )
                )
            if cid not in tenants:
                failures[cid] = "conversation no longer exists"
            elif outcome.tag is not None:
                tags[cid] = outcome.tag
            else:
                failures[cid] = outcome.failure or "no tag"
        stray = set(outcomes) - asked
        if stray:
            log.warning(
                "batch %s: %d results for custom ids the job did not ask for", job.batch_id, len(stray)
            )
        stored = Stored(tags, failures, usage)
        if not self.store.collect(
            job, stored, tenants=tenants, ended_at=ended_at, before_commit=lambda: checkpoint("storing")
        ):
            return  # another run stored it
        summary.collected_jobs += 1
        summary.tagged += len(tags)
        summary.failed += len(failures)
        summary.cost_usd = round(summary.cost_usd + cost, 8)
        summary.standard_usd = round(summary.standard_usd + standard, 8)
        self.progress(
            f"job {job.id}: {len(tags)} tagged, {len(failures)} failed, "
            f"${cost:.6f} (standard ${standard:.6f})"
        )
