"""The service's own Prometheus metrics (one registry per process; components add theirs to it).

Label values come from small fixed sets (modes, outcomes, token kinds, configured models, handoff
reasons, cache results, route templates), so cardinality stays bounded whatever the traffic.
Ratios (prompt-cache share of answer input, answer-cache hit ratio, handoff rate) are computed in PromQL from
these counters; deploy/grafana/faqstream.json shows how.

A leaf: it takes plain values (mode and reason strings, anything with the token counts of
``TokenUsage``, service/core/tokens.py) and imports nothing above ``service.core``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from service.core.tokens import TokenUsage

TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
# ``faqstream_takeover_lapses_total{cause}`` of a ``notify`` handoff that reached no one
# (``service.agents.takeover``); the other causes are a takeover's (``service.handoff.signals.LapseCause``).
UNNOTIFIED = "notify_undelivered"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "faqstream_http_requests_total",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "faqstream_http_request_seconds",
            "Request to response start (the whole body for JSON), by route",
            ["route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.answers = Counter(
            "faqstream_answers_total", "Answers by mode and outcome", ["mode", "outcome"], registry=r
        )
        self.ttft = Histogram(
            "faqstream_time_to_first_delta_seconds",
            "Request to first delta, by mode",
            ["mode"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.duration = Histogram(
            "faqstream_answer_seconds",
            "Request to end of answer, by mode",
            ["mode"],
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.tokens = Counter(
            "faqstream_tokens_total", "Claude tokens by kind and model", ["kind", "model"], registry=r
        )
        self.cost = Counter("faqstream_cost_usd_total", "Claude cost in USD by model", ["model"], registry=r)
        self.handoffs = Counter(
            "faqstream_handoffs_total", "Answers handed to a human, by reason", ["reason"], registry=r
        )
        self.takeover_lapses = Counter(
            "faqstream_takeover_lapses_total",
            "Handoffs that did not go as the customer was told, each followed by a notice to them: a "
            "takeover given back to the assistant because its handoff event reached no one (undelivered) "
            "or no agent replied in time (unanswered); a notify handoff whose event reached no one "
            f"({UNNOTIFIED})",
            ["cause"],
            registry=r,
        )
        for cause in ("undelivered", "unanswered", UNNOTIFIED):  # at 0 from the start: an alert sees a rise
            self.takeover_lapses.labels(cause)
        self.answer_cache = Counter(
            "faqstream_answer_cache_total",
            "First-turn answer-cache lookups: exact, semantic or miss",
            ["result"],
            registry=r,
        )
        self.short_follow_ups = Counter(
            "faqstream_short_follow_ups_total",
            "Messages of at most three words in a conversation, without a continuation word, also "
            "searched alone (one more query embedding each), by the reading answered from: merged "
            "with the earlier question(s), or new_topic (service.retrieval.topic_change)",
            ["reading"],
            registry=r,
        )
        for reading in ("merged", "new_topic"):
            self.short_follow_ups.labels(reading)
        self.cache_saved_usd = Counter(
            "faqstream_answer_cache_saved_usd_total",
            "Claude cost the answer cache avoided (the original answers' cost)",
            registry=r,
        )
        self.prompt_tokens = Counter(
            "faqstream_prompt_input_tokens_total",
            "Input tokens of answers by how they were billed: uncached, cache_read (a tenth of the "
            "input price) or cache_write; the prompt-cache share is cache_read over all three",
            ["kind", "model"],
            registry=r,
        )
        self.prefix_tokens = Gauge(
            "faqstream_prompt_prefix_tokens",
            "The cached prompt prefix of the current knowledge-base version, estimated tokens (low "
            "estimate), by form (documents or digest)",
            ["form"],
            registry=r,
        )
        self.prefix_min_tokens = Gauge(
            "faqstream_prompt_prefix_min_tokens",
            "The minimum cacheable prefix of the configured model (ANTHROPIC_MODEL), in tokens: "
            "under it nothing is cached",
            registry=r,
        )
        self.in_flight = Gauge("faqstream_answers_in_flight", "Answers being streamed now", registry=r)
        self.retrieval_batches = Gauge(
            "faqstream_retrieval_batches", "Model calls made for question embedding", registry=r
        )
        self.retrieval_questions = Gauge(
            "faqstream_retrieval_questions", "Questions embedded in those calls", registry=r
        )
        self.embedding_cache_hits = Gauge(
            "faqstream_embedding_cache_hits", "Question vectors served from the embedding cache", registry=r
        )
        self.embedding_cache_misses = Gauge(
            "faqstream_embedding_cache_misses", "Question vectors that needed the model", registry=r
        )

    def observe_outcome(
        self, mode: str, model: str | None, usage: TokenUsage, handoff_reason: str | None
    ) -> None:
        """One answer: its mode, the model that wrote it (None: no Claude call), its tokens and the
        first reason of its handoff, if any."""
        self.answers.labels(mode, "ok").inc()
        if handoff_reason is not None:
            self.handoffs.labels(handoff_reason).inc()
        if model is not None:
            self.observe_usage(model, usage)
            for kind, value in (
                ("uncached", usage.input_tokens),
                ("cache_read", usage.cache_read_input_tokens),
                ("cache_write", usage.cache_creation_input_tokens),
            ):
                self.prompt_tokens.labels(kind, model).inc(value)

    def observe_prefix(self, form: str, tokens: int, min_tokens: int) -> None:
        """The cached prompt prefix now in use (one form at a time)."""
        self.prefix_tokens.clear()
        self.prefix_tokens.labels(form).set(tokens)
        self.prefix_min_tokens.set(min_tokens)

    def observe_usage(self, model: str, usage: TokenUsage) -> None:
        """Tokens and cost of any Claude call (answers, summaries)."""
        for kind in TOKEN_KINDS:
            value = getattr(usage, kind)
            if value:
                self.tokens.labels(kind, model).inc(value)
        if usage.cost_usd:
            self.cost.labels(model).inc(usage.cost_usd)
