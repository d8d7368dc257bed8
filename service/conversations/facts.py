"""The facts a customer states that a summary must keep: order numbers and codes, amounts, dates.

One extractor for both summaries that carry them — the extractive conversation summary
(``service.conversations.history``: "Customer facts: …") and the handoff summary for the agent
(``service.handoff.summary``: "Facts given: …"). Pure regular expressions, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|"
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|"
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    "Januar|Februar|März|Juni|Juli|Oktober|Dezember"
)
_CURRENCY = (
    r"€|\$|£|¥|₽|₩|EUR|USD|GBP|CNY|RMB|CHF|PLN|RUB|KRW|euros?|dollars?|pounds?|yuan|zł|zl|руб|"
    r"元|円|欧元|美元|英镑|원"
)
# Words after which the customer quotes a reference, in the supported languages.
_REFERENCE_WORDS = (
    r"order|invoice|ticket|case|tracking|pedido|factura|commande|facture|bestellnummer|bestellung|"
    r"rechnungsnummer|rechnung|auftragsnummer|auftrag|ordine|fattura|encomenda|fatura|订单|发票|注文|請求書|"
    r"bestelnummer|bestelling|factuurnummer|factuur|zamówieni|zamowieni|faktur|заказ|счёт|счет|주문|송장|"
    r"замовлення|рахунок|рахунку|бронювання|квитанці"
)

FACT_RE = re.compile(
    "|".join(
        [
            # NW-KTL-110, NW-2026-004817: letters and digits joined by - _ /
            r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9]+(?:[-_/][A-Za-z0-9]+)+(?![\w-])",
            r"#\s?\d{3,}",  # #48213
            r"(?<![\d.,])\d{5,}(?![\d.,])",  # 4821337
            r"(?:€|\$|£|¥)\s?\d(?:[\d.,]*\d)?",  # €49.99
            rf"\d(?:[\d.,]*\d)?\s?(?:{_CURRENCY})(?![A-Za-z])",  # 49,99 €, 20 EUR, 300元
            r"\d{4}-\d{2}-\d{2}",  # 2026-03-02
            r"(?<!\d)\d{1,2}[./]\d{1,2}[./]\d{2,4}(?!\d)",  # 02/03/2026, 2.3.26
            rf"(?<!\d)\d{{1,2}}\.?\s(?:de\s)?(?:{_MONTHS})\b",  # 3 March, 3 de marzo, 3. März
            rf"\b(?:{_MONTHS})\s\d{{1,2}}(?!\d)",  # March 3
            r"\d{1,2}月\d{1,2}日",  # 3月2日
        ]
    ),
    re.IGNORECASE,
)
# A reference right after a keyword ("order number is 884213", "tracking 1Z999AA10123456784").
_REFERENCE_RE = re.compile(
    rf"(?:{_REFERENCE_WORDS})[^\n\d]{{0,24}}?([A-Za-z0-9][A-Za-z0-9-]*\d[A-Za-z0-9-]*)", re.IGNORECASE
)
_CODE_RE = re.compile(r"\b[A-Z]{2,}[-_]?\d[\w-]*\b")  # ORD12345, AB_7 (capitals, case-sensitive)


def _spans(text: str) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), m.group()) for m in FACT_RE.finditer(text)]
    found += [(m.start(), m.end(), m.group()) for m in _CODE_RE.finditer(text)]
    found += [(m.start(1), m.end(1), m.group(1)) for m in _REFERENCE_RE.finditer(text)]
    return sorted(found, key=lambda s: (s[0], s[0] - s[1]))  # in order; the longest first at a start


def extract_facts(texts: Iterable[str], limit: int | None = None) -> list[str]:
    """Order numbers, codes, amounts and dates in ``texts``, in order of appearance, each once: a
    value inside one already found ("55812" in "ORD-55812") is not repeated. At most ``limit``."""
    facts: list[str] = []
    for text in texts:
        for _, _, raw in _spans(text):
            value = raw.strip().rstrip(".,")
            if value and not any(value in f or f in value for f in facts):
                facts.append(value)
    return facts[:limit]


def facts_in(text: str) -> list[str]:
    """The facts of one text (``extract_facts`` of it)."""
    return extract_facts([text])
