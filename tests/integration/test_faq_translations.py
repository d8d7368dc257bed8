"""Approved FAQ translations do not crowd the citations: ``faqstream faq draft`` (the fake Anthropic
API, as ``test_faq_draft``) → ``faqstream faq approve`` every entry (two entries × en, es, fr,
de) → ``faqstream ingest`` → questions in four languages through ``faqstream search`` and the
service's ``/v1/answers``. Each entry counts once among the top five, in the question's language,
and the policy page that answers the other half of the question is still found and cited (before:
the translations of one or two entries filled the top five, and the page fell out for every
question not in English)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from faqstream import cli
from service.api.settings import AppSettings
from tests.integration.test_faq_draft import Run, env, fake, main, run  # noqa: F401  (module fixtures)
from tests.service_harness import in_process

pytestmark = pytest.mark.slow

QUESTIONS = {
    "shipping.md": {
        "en": "How long does delivery take if I change the delivery address of my order?",
        "es": "¿Cuánto tarda la entrega si cambio la dirección de entrega de mi pedido?",
        "fr": "Combien de temps prend la livraison si je modifie l'adresse de livraison de ma commande ?",
        "de": "Wie lange dauert die Lieferung, wenn ich die Lieferadresse meiner Bestellung ändere?",
    },
    "payments.md": {
        "en": "My discount code is not accepted at checkout, which payment methods can I use?",
        "es": "Mi código de descuento no se acepta al pagar, ¿qué métodos de pago puedo usar?",
        "fr": "Mon code de réduction n'est pas accepté au paiement, quels moyens de paiement puis-je "
        "utiliser ?",
        "de": "Mein Rabattcode wird an der Kasse nicht akzeptiert, welche Zahlungsarten kann ich nutzen?",
    },
}


def entry_of(doc_id: str) -> str:
    """A drafted file's entry (``<run>-<NN>``, its name before the slug); a page is its own."""
    return "-".join(doc_id.split("-")[:4]) if doc_id.startswith("faq-") else doc_id


@pytest.fixture(scope="module")
def approved(run: Run) -> Path:  # noqa: F811
    drafts = sorted(str(p) for p in run.folder.glob("faq-*.md"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert len(drafts) == 8 and cli.main(["faq", "approve", *drafts]) == 0
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["ingest", str(run.folder), "--json"]) == 1  # the index is skipped
    assert len(json.loads(out.getvalue())["added"]) == 8
    return run.folder


def test_search_counts_each_entry_once_in_the_questions_language(
    approved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for page, asked in QUESTIONS.items():
        for language, question in asked.items():
            code, out, _ = main(capsys, "search", question, "-k", "5", "--json")
            hits = json.loads(out)
            docs = [h["doc_id"] for h in hits]
            assert code == 0 and len(hits) == 5
            assert len({entry_of(d) for d in docs}) == 5, (language, docs)  # no entry twice
            assert all(h["language"] == language for h in hits if "entry_id" in h["extra"]), (language, docs)
            assert {h["extra"]["entry_id"] for h in hits if "entry_id" in h["extra"]} <= {
                entry_of(d) for d in docs
            }
            assert page in docs, (language, docs)  # the page is not crowded out


def test_the_service_cites_each_entry_once_and_the_page(approved: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ANTHROPIC_API_KEY")  # extractive answers: the citations are the retrieval's
        settings = AppSettings()
    with in_process(settings) as served:
        for page, asked in QUESTIONS.items():
            for language, question in asked.items():
                body = served.client.post("/v1/answers", json={"question": question}).json()
                cited = [c["doc_id"] for c in body["citations"]]
                assert len(cited) == len({entry_of(d) for d in cited}) == 5, (language, cited)
                assert page in cited, (language, cited)
