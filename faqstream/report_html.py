"""``faqstream report --html FILE``: one self-contained HTML page — headline figures, charts drawn
by matplotlib as inline SVG (questions and auto-resolved rate per day, handoffs by reason, CSAT
distribution, cost per day by purpose), and tables (content gaps, top intents, by language and by
tenant). No script, no external file: it opens anywhere and can be mailed.

Every text from the records (questions, tenants, intents) is HTML-escaped: the questions are what
customers typed. matplotlib comes with the ``report`` extra; without it this says how to install it.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from faqstream.report import headline, pct, usd
from knowledge.errors import FaqstreamError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from service.records.analytics.figures import Analytics, Slice

INSTALL_HINT = "pip install 'faqstream[report]' (or pip install matplotlib)"
BLUE, GREEN, ORANGE, GREY = "#3465a4", "#4e9a06", "#f57900", "#888a85"
PURPOSE_COLOURS = ["#3465a4", "#f57900", "#75507b", "#4e9a06", "#c17d11", "#cc0000", "#555753", "#06989a"]


def _figure(width: float = 7.5, height: float = 3.2) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise FaqstreamError(
            "--html draws its charts with matplotlib, which is not installed", hint=INSTALL_HINT
        ) from exc
    return Figure(figsize=(width, height), layout="constrained")


@contextmanager
def _svg_style() -> Iterator[None]:
    import matplotlib

    # text stays text (small, searchable); ids do not change from run to run
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "faqstream", "font.size": 9}):
        yield


def svg(figure: Figure) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog, no creation date)."""
    buffer = io.StringIO()
    with _svg_style():
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _day_axis(axis: Any, days: list[Slice]) -> list[int]:
    """Days as bar positions 0…n-1, labelled with at most ~12 dates."""
    positions = list(range(len(days)))
    step = max(1, -(-len(days) // 12))
    axis.set_xticks(positions[::step], [date.fromisoformat(s.key).strftime("%b %d") for s in days[::step]])
    axis.tick_params(axis="x", labelrotation=45 if len(days) > 7 else 0)
    return positions


def _whole_numbers(axis: Any) -> None:
    """Ticks at whole numbers only: the axis counts questions, conversations or ratings (a trial's
    CSAT chart showed 0.5 ratings)."""
    from matplotlib.ticker import MaxNLocator  # _figure has checked matplotlib is there

    axis.set_major_locator(MaxNLocator(integer=True))


def questions_chart(days: list[Slice]) -> Figure:
    figure = _figure()
    axis = figure.add_subplot()
    when = _day_axis(axis, days)
    axis.bar(when, [s.questions for s in days], color=BLUE, label="questions")
    axis.set_ylabel("questions")
    _whole_numbers(axis.yaxis)
    rate = axis.twinx()
    rates = [float("nan") if s.auto_resolved_rate is None else s.auto_resolved_rate * 100 for s in days]
    rate.plot(when, rates, color=GREEN, marker="o", label="auto-resolved %")
    rate.set_ylim(0, 100)
    rate.set_ylabel("auto-resolved (% of conversations)")
    axis.set_title("Questions and auto-resolved rate per day")
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return figure


def handoffs_chart(reasons: dict[str, int]) -> Figure:
    figure = _figure(height=max(1.6, 0.45 * len(reasons) + 1))
    axis = figure.add_subplot()
    ranked = sorted(reasons.items(), key=lambda kv: kv[1])
    axis.barh([r for r, _ in ranked], [n for _, n in ranked], color=ORANGE)
    _whole_numbers(axis.xaxis)
    axis.set_xlabel("conversations handed off")
    axis.set_title("Handoffs by reason")
    if not ranked:
        axis.text(0.5, 0.5, "no handoffs", ha="center", va="center", transform=axis.transAxes)
    return figure


def csat_chart(ratings: dict[str, int], tags: dict[str, int]) -> Figure:
    figure = _figure()
    axis = figure.add_subplot()
    scores = [1, 2, 3, 4, 5]
    axis.bar(
        [s - 0.2 for s in scores],
        [ratings[str(s)] for s in scores],
        width=0.4,
        color=BLUE,
        label="feedback ratings",
    )
    axis.bar(
        [s + 0.2 for s in scores],
        [tags[str(s)] for s in scores],
        width=0.4,
        color=GREY,
        label="tagger satisfaction",
    )
    axis.set_xticks(scores)
    axis.set_xlabel("score (1 = very dissatisfied, 5 = very satisfied)")
    axis.set_ylabel("count")
    _whole_numbers(axis.yaxis)
    axis.set_title("CSAT distribution")
    axis.legend(frameon=False)
    return figure


def cost_chart(days: list[Slice]) -> Figure:
    figure = _figure()
    axis = figure.add_subplot()
    when = _day_axis(axis, days)
    purposes = sorted({p for s in days for p in s.cost_by_purpose})
    bottom = [0.0] * len(days)
    for n, purpose in enumerate(purposes):
        values = [s.cost_by_purpose.get(purpose, 0.0) for s in days]
        axis.bar(when, values, bottom=bottom, label=purpose, color=PURPOSE_COLOURS[n % len(PURPOSE_COLOURS)])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axis.set_ylabel("USD")
    axis.set_title("Cost per day, by purpose")
    if purposes:
        axis.legend(frameon=False, fontsize=8)
    return figure


def _table(head: list[str], rows: list[list[str]], cls: str) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    empty = f'<tr><td colspan="{len(head)}">none</td></tr>' if not rows else ""
    return f'<table class="{cls}"><thead><tr>{cells}</tr></thead><tbody>{body}{empty}</tbody></table>'


def _slices(title: str, slices: list[Slice]) -> str:
    head = [title, "questions", "conversations", "auto-resolved", "handoff", "CSAT", "cost", "per answer"]
    rows = [
        [
            s.key,
            str(s.questions),
            str(s.conversations),
            pct(s.auto_resolved_rate),
            pct(s.handoff_rate),
            pct(s.csat),
            usd(s.cost_usd),
            usd(s.cost_per_answer),
        ]
        for s in slices
    ]
    return _table(head, rows, f"by-{title}")


def _tiles(a: Analytics) -> str:
    t = a.totals
    tiles = [
        ("questions", str(t.questions)),
        ("auto-resolved", pct(t.auto_resolved_rate)),
        ("handoff rate", pct(t.handoff_rate)),
        ("CSAT (feedback)", pct(t.csat)),
        ("CSAT (tagger)", pct(t.tag_csat)),
        ("answer cache", pct(t.answer_cache_hit_rate)),
        ("prompt cache", pct(t.prompt_cache_hit_rate)),
        ("cost", usd(t.cost_usd)),
        ("per answer", usd(t.cost_per_answer)),
        ("per resolved", usd(t.cost_per_resolved)),
    ]
    return "".join(
        f'<div class="tile"><div class="value">{html.escape(v)}</div>'
        f'<div class="label">{html.escape(k)}</div></div>'
        for k, v in tiles
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 2rem; }
.tiles { display: flex; flex-wrap: wrap; gap: .6rem; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: .5rem .8rem; min-width: 7rem; }
.value { font-size: 1.2rem; font-weight: 600; } .label { color: #666; font-size: .8rem; }
table { border-collapse: collapse; font-size: .85rem; margin-top: .5rem; }
th, td { border-bottom: 1px solid #eee; padding: .25rem .6rem; text-align: left; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
"""


def page(a: Analytics) -> str:
    """The whole page for ``a``."""
    charts = [
        questions_chart(a.by_day),
        handoffs_chart(a.totals.handoffs_by_reason),
        csat_chart(a.totals.ratings, a.totals.tag_satisfaction),
        cost_chart(a.by_day),
    ]
    figures = "".join(f'<figure class="chart">{svg(c)}</figure>' for c in charts)
    gaps = _table(
        ["asked", "question", "tenant", "language", "signals", "last asked"],
        [
            [
                str(g.count),
                g.text,
                g.tenant,
                g.language,
                ", ".join(f"{k} {v}" for k, v in g.reasons.items()),
                g.last_asked.strftime("%Y-%m-%d %H:%M"),
            ]
            for g in a.content_gaps
        ],
        "gaps",
    )
    intents = _table(
        ["intent", "answers", "share"],
        [[i.intent, str(i.answers), pct(i.share)] for i in a.top_intents],
        "intents",
    )
    title = html.escape(headline(a))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
        f'<div class="tiles">{_tiles(a)}</div>{figures}'
        f"<h2>Content gaps: the most asked questions the knowledge base did not answer</h2>{gaps}"
        f"<h2>Top intents</h2>{intents}"
        f"<h2>By language</h2>{_slices('language', a.by_language)}"
        f"<h2>By tenant</h2>{_slices('tenant', a.by_tenant)}"
        f"<p><small>Generated {a.generated_at:%Y-%m-%d %H:%M} UTC. "
        "Definitions: docs/analytics.md.</small></p>"
        "</body></html>\n"
    )
