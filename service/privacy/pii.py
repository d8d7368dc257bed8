"""Personal data in customer text: find it (``find_pii``) and redact it (``redact``).

Detected kinds (each validated, so that what customers legitimately paste — order numbers, prices,
dates, SKUs, tracking codes — is not flagged):

- ``email``: ``local@domain.tld`` (ASCII or accented Latin local part and domain), also inside CJK.
- ``phone``: ``phonenumbers`` in any country's format (``service.privacy.phones``).
- ``card``, ``iban``, ``national_id``: candidates checked by ``python-stdnum``
  (``service.privacy.numbers``); ``iban`` also holds Mexico's CLABE (checked by its own digit),
  ``national_id`` Mexico's RFC and CURP and Brazil's CPF among a dozen countries' IDs.

Context (``service.privacy.context``): a number right after a reference word ("order", "invoice",
"#", "订单", "pedido", "commande", "Bestellung"…) is not a phone number or an ID; cards, IBANs,
e-mails and ``+`` numbers are flagged whatever precedes them. Street addresses and names are not
detected (docs/caches.md says why).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from service.privacy.numbers import Span, card_codes, cards, clabes, ibans, national_ids
from service.privacy.phones import DEFAULT_REGIONS, phones

PiiKind = Literal["email", "phone", "card", "iban", "national_id"]

PLACEHOLDERS: dict[str, str] = {
    "email": "[email]",
    "phone": "[phone]",
    "card": "[card]",
    "iban": "[iban]",
    "national_id": "[id]",
}
# Which kind wins when two matches overlap (lower first).
_PRIORITY: dict[str, int] = {"email": 0, "iban": 1, "card": 2, "national_id": 3, "phone": 4}


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data: its kind and its character span ``text[start:end]``."""

    kind: PiiKind
    start: int
    end: int

    def __repr__(self) -> str:  # never the value itself: reprs end up in logs
        return f"PiiMatch({self.kind!r}, {self.start}, {self.end})"


_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9\u00c0-\u024f._%+\-])[A-Za-z0-9\u00c0-\u024f][A-Za-z0-9\u00c0-\u024f._%+\-]{0,63}@"
    r"(?:[A-Za-z0-9\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f\-]{0,61}[A-Za-z0-9\u00c0-\u024f])?\.)+"
    r"[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
_HAS_DIGITS_RE = re.compile(r"\d")


def _emails(text: str) -> Iterator[Span]:
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            yield ("email", m.start(), m.end())


def find_pii(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> list[PiiMatch]:
    """Every piece of personal data in ``text``, in order, without overlaps.

    ``regions``: where national phone numbers are tried (ISO 3166 codes). Where two detections
    overlap, the stronger kind wins (e-mail, IBAN, card, ID, phone), then the longer span.
    """
    found: list[Span] = list(_emails(text))
    if _HAS_DIGITS_RE.search(text):  # every other kind has digits
        found += [*ibans(text), *clabes(text), *cards(text), *card_codes(text), *national_ids(text)]
        found += phones(text, regions)
    found.sort(key=lambda s: (_PRIORITY[s[0]], -(s[2] - s[1]), s[1]))
    chosen: list[PiiMatch] = []
    for kind, start, end in found:
        if all(end <= c.start or start >= c.end for c in chosen):
            chosen.append(PiiMatch(cast(PiiKind, kind), start, end))
    return sorted(chosen, key=lambda m: m.start)


def contains_pii(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> bool:
    return bool(find_pii(text, regions))


def redact(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> str:
    """``text`` with each piece of personal data replaced by its placeholder (``[email]``, ``[card]``…)."""
    return replace(text, find_pii(text, regions))


def replace(text: str, matches: Sequence[PiiMatch]) -> str:
    """``text`` with each of ``matches`` (in text order, no overlaps) replaced by its placeholder."""
    out: list[str] = []
    pos = 0
    for m in matches:
        out.append(text[pos : m.start])
        out.append(PLACEHOLDERS[m.kind])
        pos = m.end
    out.append(text[pos:])
    return "".join(out)
