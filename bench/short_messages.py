"""Messages of one or two words at the relevance gate, before and after the short-message cut-off.

A new user's trial (a Brazilian furniture shop's Portuguese pages, extractive mode) had "pizza",
"Bitcoin?", "Merhaba!" and an Arabic "thank you" answered with the privacy page. Since calibration
``probe-cohort-v6`` a message of one or two words is judged against short off-topic messages of
every language and its own cut-off (``knowledge.short_messages``). This measures, on three
knowledge bases ingested by the real pipeline (which fits every cut-off):

* the Basecamp policies (English; ../shared/eval/raw/basecamp_policies, as ``bench.byo_documents``);
* a small English shop written for this bench (``SHOP``);
* the Portuguese furniture pages of the trial (``tests/integration/test_search_verdict.py``);

short on-topic messages in en, es, de, pt, zh and ja (``*_ON_TOPIC``: the right documents with
each) and short off-topic ones (``OFF_TOPIC``), written for this bench and none of them a probe
(``knowledge.short_probes``). Each is detected and searched as the service does (hybrid, top
SERVICE_TOP_K) and judged by the gate twice: *before* as the v5 calibration read it (its detected
language, an unknown one when unsure) and *after* with its text (``RelevanceFloor.question_language``).
*answered*: some passage passes the gate (else the service hands off); *right*: a right document
is among the passages given to the model / quoted. Long questions take no new path (more than
``SHORT_WORDS`` words): ``bench.crosslingual_cutoff`` and ``bench.byo_documents`` measure them.

Writes bench/results/short_messages.json.

    python -m bench.short_messages
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.answerability import build
from bench.common import EVAL, write_result
from knowledge.search import KnowledgeBase, Query
from knowledge.words import SHORT_WORDS, word_count
from service.retrieval.relevance import RelevanceFloor, relevance_floor
from service.settings.service import ServiceSettings
from tests.integration.test_search_verdict import PAGES as FURNITURE

SHOP = {
    "refunds.md": "# Refunds\n\nYou can return any lamp within 30 days of delivery for a full refund. "
    "Refunds go back to the original payment method within 5 business days of the return arriving at "
    "our warehouse. Sale items are refunded as store credit.\n",
    "invoices.md": "# Invoices and receipts\n\nEvery order gets an invoice by email when it ships. You can "
    "download past invoices from Account → Orders, and ask support to add a VAT number or a company "
    "address to an invoice within 60 days.\n",
    "account.md": "# Closing your account\n\nTo cancel your account, open Settings → Account and choose "
    "Close account. Open orders are still delivered. We delete your personal data 30 days after the "
    "account is closed, except invoices we must keep for tax law.\n",
    "shipping.md": "# Shipping\n\nWe ship from Rotterdam with DHL. Delivery takes 2–4 business days in "
    "the EU and costs €6.95; it is free over €80. You get a tracking link by email when the parcel leaves.\n",
    "password.md": "# Signing in\n\nForgot your password? Use 'Reset password' on the sign-in page and "
    "we email you a link valid for one hour. Two-factor sign-in can be turned on under "
    "Settings → Security.\n",
    "warranty.md": "# Warranty\n\nOur lamps carry a two-year warranty against manufacturing defects. "
    "Send a photo of the fault and your order number to support; we send a replacement part or a new lamp.\n",
}
# (message, right documents: a doc_id's first path part or file stem)
SHOP_ON_TOPIC: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("refund?", ("refunds",)),
    ("invoice", ("invoices",)),
    ("cancel account", ("account",)),
    ("shipping cost", ("shipping",)),
    ("reset password", ("password",)),
    ("warranty", ("warranty",)),
    ("reembolso", ("refunds",)),
    ("factura", ("invoices",)),
    ("envío", ("shipping",)),
    ("Rechnung", ("invoices",)),
    ("Rückerstattung", ("refunds",)),
    ("Garantie?", ("warranty",)),
    ("reembolso?", ("refunds",)),
    ("nota fiscal", ("invoices",)),
    ("frete", ("shipping",)),
    ("退款", ("refunds",)),
    ("发票", ("invoices",)),
    ("运费", ("shipping",)),
    ("返金", ("refunds",)),
    ("請求書", ("invoices",)),
    ("ログイン", ("password",)),
)
BASECAMP_ON_TOPIC: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("refund?", ("refund",)),
    ("privacy", ("privacy",)),
    ("cancel account", ("cancellation",)),
    ("uptime", ("sla",)),
    ("sales tax", ("taxes",)),
    ("copyright", ("copyright",)),
    ("reembolso", ("refund",)),
    ("Datenschutz", ("privacy",)),
    ("Rückerstattung", ("refund",)),
    ("cancelar cuenta", ("cancellation",)),
    ("退款", ("refund",)),
    ("隐私", ("privacy",)),
    ("返金", ("refund",)),
)
FURNITURE_ON_TOPIC: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("garantia?", ("garantia",)),
    ("boleto?", ("pagamento",)),
    ("horário?", ("loja",)),
    ("frete grátis", ("entrega",)),
    ("devolução", ("trocas-devolucoes",)),
    ("refund?", ("trocas-devolucoes",)),
    ("reembolso", ("trocas-devolucoes",)),
    ("退款", ("trocas-devolucoes",)),
    ("warranty", ("garantia",)),
)
OFF_TOPIC = (
    "pizza",
    "Bitcoin?",
    "Merhaba!",
    "شكرا جزيلا",
    "Dobrý den!",
    "basketball",
    "Elon Musk",
    "spaghetti",
    "晚安",
    "Bonjour!",
    "movie tickets",
    "Harry Potter",
    "dogecoin",
    "tennis",
    "元気?",
    "Hola amigo",
    "Namaste",
    "iPhone 16",
    "Guten Appetit",
    "Spotify",
)


def _right(doc_id: str, keys: Sequence[str]) -> bool:
    doc = doc_id.split("#", 1)[0]
    return any(doc.split("/", 1)[0] == key or Path(doc).stem == key for key in keys)


def judge(kb: KnowledgeBase, floor: RelevanceFloor, text: str, top_k: int) -> dict[str, Any]:
    """The gate before (v5: the detected language) and after (the message's text)."""
    detection = kb.require_languages().detect(text)
    hits = kb.run([Query(text, top_k, None, detection.language)])[0]
    out: dict[str, Any] = {"language": detection.language}
    for name, asked_in in (
        ("before", floor.question_language(detection.language, detection)),
        ("after", floor.question_language(detection.language, detection, text)),
    ):
        selection = floor.select(hits, asked_in)
        leads = [floor.lead(h, asked_in) for h in hits]
        out[name] = {
            "answered": selection.relevant > 0,
            "lead": round(max(leads), 2) if leads else None,
            "given": [h.payload.doc_id for h in selection.hits],
            "quoted": [h.payload.doc_id for h in floor.quoted(selection.hits, asked_in)],
        }
    return out


def measure(
    name: str, pages: dict[str, str] | Path, on_topic: Sequence[tuple[str, Sequence[str]]]
) -> dict[str, Any]:
    top_k = ServiceSettings().top_k
    with tempfile.TemporaryDirectory(prefix="faqstream-short-") as tmp:
        corpus = pages if isinstance(pages, Path) else Path(tmp) / "pages"
        if isinstance(pages, dict):
            corpus.mkdir()
            for file, text in pages.items():
                (corpus / file).write_text(text, encoding="utf-8")
        kb, _ = build(corpus, Path(tmp) / "qdrant", "e5")
        try:
            floor = relevance_floor(kb.meta(), None, kb.embedder.name, kb.embedder)
            assert floor.short_messages, f"{name}: no short-message cut-off"
            on = {text: judge(kb, floor, text, top_k) | {"right": list(keys)} for text, keys in on_topic}
            off = {text: judge(kb, floor, text, top_k) for text in OFF_TOPIC}
        finally:
            kb.store.close()
    calibration = floor.calibration
    assert calibration is not None
    summary: dict[str, Any] = {
        "short_threshold": calibration.short_threshold,
        "short_answerable_probes": calibration.short_answerable,
        "short_kept_answerable": calibration.short_kept_answerable,
        "short_dropped_unanswerable": calibration.short_dropped_unanswerable,
        "short_cross_threshold": calibration.short_cross_threshold,
        "short_quantiles": calibration.short_quantiles,
    }
    for when in ("before", "after"):
        summary[when] = {
            "on_topic_answered": sum(r[when]["answered"] for r in on.values()),
            "on_topic_right_quoted": sum(
                r[when]["answered"] and any(_right(d, r["right"]) for d in r[when]["quoted"])
                for r in on.values()
            ),
            "on_topic": len(on),
            "off_topic_handed_off": sum(not r[when]["answered"] for r in off.values()),
            "off_topic": len(off),
        }
    print(
        f"{name}: short cut-off {calibration.short_threshold} (keeps {calibration.short_kept_answerable:.0%} "
        f"of {calibration.short_answerable} key-word probes, "
        f"drops {calibration.short_dropped_unanswerable:.0%} "
        f"of the short off-topic probes), {calibration.short_cross_threshold} across scripts; "
        f"quantiles {calibration.short_quantiles}"
    )
    for when in ("before", "after"):
        s = summary[when]
        print(
            f"  {when:6} on-topic answered {s['on_topic_answered']}/{s['on_topic']} "
            f"(right page quoted {s['on_topic_right_quoted']}), off-topic handed off "
            f"{s['off_topic_handed_off']}/{s['off_topic']}"
        )
    for text, r in [*on.items(), *off.items()]:
        kind = "on " if text in on else "off"
        b, a = r["before"], r["after"]
        print(
            f"    {kind} {text!r:22} {r['language']}: lead {b['lead']:+.2f} → {a['lead']:+.2f}"
            f"{'' if b['answered'] == a['answered'] else '  CHANGED'}"
        )
    return {"summary": summary, "on_topic": on, "off_topic": off}


def main() -> None:
    assert all(word_count(t) <= SHORT_WORDS for t in OFF_TOPIC)
    assert all(
        word_count(t) <= SHORT_WORDS for t, _ in (*SHOP_ON_TOPIC, *BASECAMP_ON_TOPIC, *FURNITURE_ON_TOPIC)
    )
    results = {
        "basecamp": measure("Basecamp policies", EVAL / "raw" / "basecamp_policies", BASECAMP_ON_TOPIC),
        "shop": measure("English shop", SHOP, SHOP_ON_TOPIC),
        "furniture": measure("Portuguese furniture shop", FURNITURE, FURNITURE_ON_TOPIC),
    }
    write_result("short_messages", results)


if __name__ == "__main__":
    main()
