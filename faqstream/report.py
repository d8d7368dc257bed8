"""``faqstream report``: the support analytics of a range of UTC days, as text on stdout, as JSON
(``--json``) or as one self-contained HTML page with charts (``--html FILE``, needs the ``report``
extra: matplotlib).

It reads the service's database directly (``DATABASE_URL``, else ``DATABASE_SQLITE_PATH``), or,
with ``--server URL``, asks a running service's ``GET /admin/analytics`` with SERVICE_ADMIN_KEY.
The figures and their definitions are ``service.records.analytics`` (docs/analytics.md).
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.errors import FaqstreamError

if TYPE_CHECKING:
    from service.records.analytics.figures import Analytics, Figures, Slice

DEFAULT_DAYS = 7


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser(
        "report",
        help="support analytics: resolution, handoffs, CSAT, content gaps, cache hit rates, cost",
        description="Questions, auto-resolved rate, handoff rate by reason, CSAT, top intents, the "
        "most frequent unanswered questions, answer- and prompt-cache hit rates and cost per answer "
        "and per resolved conversation, in total and by day, language and tenant, over UTC days "
        "[--from, --to). Reads the service's database (DATABASE_URL or DATABASE_SQLITE_PATH), or a "
        "running service with --server. Definitions: docs/analytics.md.",
    )
    rep.add_argument(
        "--from",
        dest="start",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help=f"first UTC day included (default: {DEFAULT_DAYS} days before --to)",
    )
    rep.add_argument(
        "--to",
        dest="end",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="first UTC day NOT included (default: tomorrow, so today is included)",
    )
    rep.add_argument("--tenant", help="one tenant only")
    rep.add_argument("--top", type=int, default=10, help="how many intents and content gaps (default 10)")
    rep.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    rep.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write one self-contained HTML page with charts (needs: pip install 'faqstream[report]')",
    )
    rep.add_argument(
        "--server",
        metavar="URL",
        help="ask a running service (URL/admin/analytics with SERVICE_ADMIN_KEY) instead of the database",
    )


def _range(args: argparse.Namespace) -> tuple[date, date]:
    from service.records.analytics.figures import default_end

    end: date = args.end or default_end()
    start: date = args.start or end - timedelta(days=DEFAULT_DAYS)
    return start, end


def fetch(args: argparse.Namespace) -> Analytics:
    """The report, from the database or from ``--server``."""
    from service.records.analytics.figures import Analytics, DateRange

    start, end = _range(args)
    span = DateRange.of(start, end)  # refused here (exit 2) before any connection
    if not 1 <= args.top <= 100:
        raise FaqstreamError("--top must be between 1 and 100")
    if args.server:
        from faqstream import remote

        query = {"from": start.isoformat(), "to": end.isoformat(), "top": args.top}
        if args.tenant:
            query["tenant"] = args.tenant
        found = remote.request(args.server, "/admin/analytics?" + urllib.parse.urlencode(query))
        return Analytics.model_validate(found)
    from service.records.analytics.reader import reader_engine, report
    from service.settings.database import DatabaseSettings

    engine = reader_engine(DatabaseSettings())
    try:
        return report(engine, span, args.tenant, top=args.top)
    finally:
        engine.dispose()


def _unwritable(path: Path, reason: str) -> FaqstreamError:
    return FaqstreamError(
        f"cannot write the HTML report to {path}: {reason}",
        hint="give --html a file in a folder that exists and is writable (the folder is not created)",
    )


def _check_html_target(path: Path) -> None:
    """Refuse an ``--html`` file whose folder is missing before the report is read (exit 3)."""
    folder = path.parent
    if not folder.is_dir():
        why = f"{folder} is not a folder" if folder.exists() else f"no such folder {folder}"
        raise _unwritable(path, why)
    if path.is_dir():
        raise _unwritable(path, "it is a folder")


def run(args: argparse.Namespace) -> int:
    if args.html:
        _check_html_target(args.html)
    analytics = fetch(args)
    if args.html:
        from faqstream.report_html import page

        try:
            args.html.write_text(page(analytics), encoding="utf-8")
        except OSError as exc:
            raise _unwritable(args.html, exc.strerror or str(exc)) from None
        print(f"wrote {args.html}", file=sys.stderr)
    print(analytics.model_dump_json(indent=2) if args.json else summary(analytics))
    return 0


# ---------------------------------------------------------------- the text summary


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def mean(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def usd(value: float | None) -> str:
    return "–" if value is None else f"${value:.4f}"


def listed(counts: dict[str, int], of: int | None = None) -> str:
    if not counts:
        return "none"
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{k} {v}" + (f" ({pct(v / of)})" if of else "") for k, v in ranked)


def headline(a: Analytics) -> str:
    last = a.end - timedelta(days=1)
    who = f"tenant {a.tenant}" if a.tenant else "all tenants"
    n = (a.end - a.start).days
    days = f"{n} day" if n == 1 else f"{n} days"
    return f"faqstream report: {a.start} to {last} inclusive (UTC, {days}), {who}"


def overview(t: Figures) -> list[str]:
    purposes = ", ".join(f"{k} {usd(v)}" for k, v in t.cost_by_purpose.items())
    return [
        f"questions        {t.questions}   answers {t.answers} ({listed(t.answers_by_mode)})",
        f"conversations    {t.conversations}   auto-resolved {t.auto_resolved} ({pct(t.auto_resolved_rate)})"
        f"   handed off {t.handed_off} ({pct(t.handoff_rate)})",
        f"handoffs         {listed(t.handoffs_by_reason, t.conversations)}",
        f"CSAT, feedback   {pct(t.csat)} satisfied (4–5) of {sum(t.ratings.values())} ratings, mean "
        f"{mean(t.rating_mean)}; thumbs {t.thumbs_up} up / {t.thumbs_down} down",
        f"CSAT, tagger     {pct(t.tag_csat)} satisfied (4–5) of {sum(t.tag_satisfaction.values())} tagged "
        f"conversations, mean {mean(t.tag_satisfaction_mean)}",
        f"answer cache     {pct(t.answer_cache_hit_rate)} of {t.knowledge_answers} knowledge answers "
        f"({listed(t.answer_cache_hits)})",
        f"prompt cache     {pct(t.prompt_cache_hit_rate)} of input tokens read from the cache",
        f"cost             {usd(t.cost_usd)}   per answer {usd(t.cost_per_answer)}   per resolved "
        f"{usd(t.cost_per_resolved)}   ({purposes or 'nothing charged'})",
    ]


def table(title: str, slices: list[Slice]) -> list[str]:
    head = (
        f"{title:<12} {'questions':>9} {'convs':>6} {'resolved':>9} {'handoff':>8} {'CSAT':>7} {'cost':>10}"
    )
    rows = [
        f"{s.key:<12} {s.questions:>9} {s.conversations:>6} {pct(s.auto_resolved_rate):>9} "
        f"{pct(s.handoff_rate):>8} {pct(s.csat):>7} {usd(s.cost_usd):>10}"
        for s in slices
    ]
    return ["", head, *rows]


def summary(a: Analytics) -> str:
    lines = [headline(a), "", *overview(a.totals)]
    lines += table("day", a.by_day) + table("language", a.by_language) + table("tenant", a.by_tenant)
    lines += ["", "top intents"]
    lines += [f"  {i.intent:<24} {i.answers:>6}  {pct(i.share)}" for i in a.top_intents] or ["  none"]
    lines += ["", "content gaps (most asked unanswered questions)"]
    lines += [
        f"  {g.count:>4}  [{g.tenant}/{g.language}] {g.text}  ({listed(g.reasons)})" for g in a.content_gaps
    ] or ["  none"]
    return "\n".join(lines)
