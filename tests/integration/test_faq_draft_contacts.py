"""``faqstream faq draft`` redacts tickets by the answer service's rules: the company's own contact
data — the phones and e-mails its knowledge base publishes (scanned by the ingest into the version's
metadata) and ``HANDOFF_CONTACT`` — stays as written, the customer's is redacted.

A small knowledge base with a contact page (``test_company_contacts``) ingested by ``faqstream
ingest``; three tickets asking the same thing, each quoting the company's roadside number, its
helpdesk address and the customer's own mobile; the draft run in ``--dry-run`` (no model call),
whose summary shows each cluster's question as it was read.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from faqstream import cli
from tests.conftest import MODEL_CACHE
from tests.integration.test_company_contacts import CUSTOMER, PAGES, ROADSIDE, customer_digits

HELPDESK = "pomoc@autonajem.example"  # HANDOFF_CONTACT, on no page
QUESTION = f"Proszę oddzwonić na {CUSTOMER}: dzwoniłem na {ROADSIDE}, pisałem na {HELPDESK}."  # < 120


def test_a_draft_keeps_the_companys_contact_data_and_redacts_the_customers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "DATABASE_URL",
        "SERVICE_RELEVANCE_FLOOR",
        "QDRANT_URL",
        "ANTHROPIC_API_KEY",
        "PRIVACY_ALLOW",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QDRANT_PATH", str(tmp_path / "qdrant"))
    monkeypatch.setenv("EMBEDDING_CACHE_DIR", str(MODEL_CACHE))
    monkeypatch.setenv("DATABASE_SQLITE_PATH", str(tmp_path / "ledger.db"))
    monkeypatch.setenv("HANDOFF_CONTACT", HELPDESK)
    monkeypatch.chdir(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")
    assert cli.main(["ingest", str(docs)]) == 0
    tickets = tmp_path / "tickets.jsonl"
    lines = [{"id": f"T-{n}", "text": QUESTION, "language": "pl"} for n in range(3)]
    tickets.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["faq", "draft", str(tickets), "--dry-run", "--json", "--min-cluster", "2"])
    assert code == 0
    summary = json.loads(out.getvalue())
    (read,) = [c["question"] for c in summary["planned"] + summary["answered"]]
    assert ROADSIDE in read and HELPDESK in read  # the company's, as written
    assert "[phone]" in read and not customer_digits(out.getvalue())  # the customer's, redacted
