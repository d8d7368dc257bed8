"""`faqstream report`'s first line: the range, its length, whose figures."""

from __future__ import annotations

from datetime import date

from faqstream.report import headline
from service.records.analytics.figures import Analytics


def test_the_headline_counts_days_in_words() -> None:
    """A trial's one-day report said "1 days"."""
    one = Analytics.model_construct(start=date(2026, 3, 2), end=date(2026, 3, 3), tenant=None)
    assert headline(one) == "faqstream report: 2026-03-02 to 2026-03-02 inclusive (UTC, 1 day), all tenants"
    four = Analytics.model_construct(start=date(2026, 3, 2), end=date(2026, 3, 6), tenant="acme")
    assert headline(four).endswith("(UTC, 4 days), tenant acme")
