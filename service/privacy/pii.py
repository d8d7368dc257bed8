"""Personal data in customer text: find it (``find_pii``) and redact it (``redact``).

Detected kinds, each validated so that what customers legitimately paste (order numbers,
prices, dates, SKUs, tracking codes) is not flagged:

- ``email``: ``local@domain.tld`` (ASCII local part, Latin domain labels), also inside CJK text.
- ``phone``: ``+``/``00`` international numbers (8–15 digits); North-American ``(415) 555-2671`` /
  ``415-555-2671`` (separators required); Chinese mobiles ``1[3-9]xxxxxxxxx`` (11 digits, optionally
  ``138 1234 5678``); trunk-``0`` national numbers written with separators (``06 12 34 56 78``,
  ``030 12345678``; 10–12 digits); and any 7–15 digit number right after a phone word
  ("phone", "tel", "手机", "teléfono", "Telefon", "portable"…). A bare run of digits is *not* a
  phone number: that is what order numbers look like.
- ``card``: 13–19 digits (groups of digits separated by single spaces or dashes allowed) with a
  known issuer prefix *and* a valid Luhn check digit.
- ``iban``: country code with that country's IBAN length and a valid ISO 13616 mod-97 checksum.
- ``national_id``: identifiers with a cheap, strong validation: Chinese resident ID (18 chars,
  birth date + ISO 7064 check), Spanish DNI/NIE (mod-23 letter), Italian codice fiscale (check
  letter), French NIR (mod-97 key), US SSN (only as ``123-45-6789``, with its reserved ranges).

Numbers that a preceding word marks as an order/invoice/tracking reference ("order", "订单",
"pedido", "commande", "Bestellung", "#"…) are not flagged as phone, card or ID; e-mails, IBANs and
``+`` numbers always are. Street addresses are not detected: without a gazetteer the patterns that
find them also flag ordinary sentences, and a redaction step that mangles questions is worse than
the address it misses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

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


# --- context words --------------------------------------------------------------------------

# A number right after one of these is a reference the customer is quoting, not personal data.
_REFERENCE_WORDS = (
    r"order|purchase|invoice|bill|receipt|tracking|shipment|parcel|package|ticket|case|"
    r"reference|ref|sku|item|article|product|model|serial|confirmation|booking|reservation|"
    r"pedido|orden|compra|factura|recibo|env[ií]o|seguimiento|referencia|"
    r"commande|facture|colis|suivi|r[ée]f[ée]rence|"
    r"bestellung|bestellnummer|rechnung|auftrag|sendung|paket|artikel|"
    r"ordine|fattura|spedizione|"
    r"encomenda|fatura|"
    r"订单|单号|订单号|发票|快递|运单|物流|货号|编号|注文|伝票"
)
_PHONE_WORDS = (
    r"phone|telephone|tel|mobile|cell|cellphone|whatsapp|call me|text me|sms|fax|"
    r"tel[ée]fono|m[óo]vil|celular|tel[ée]phone|portable|num[ée]ro de t[ée]l[ée]phone|"
    r"telefon|handy|rufnummer|telefonnummer|mobilnummer|telefono|cellulare|"
    r"电话|手机|手机号|联系电话|電話|携帯|전화|핸드폰"
)
_OTHER_PII_WORDS = (
    r"card|credit|debit|visa|mastercard|amex|tarjeta|carte|karte|kreditkarte|carta|"
    r"卡号|银行卡|信用卡|身份证|ssn|social security|dni|nie|passport|pasaporte|passeport|"
    r"ausweis|codice fiscale|insee|iban"
)
# Latin words must start and end at a word boundary ("tel" is not in "hotel"); plurals count.
_REFERENCE_RE = re.compile(rf"(?<![A-Za-z])(?:{_REFERENCE_WORDS})(?:e?s)?(?![A-Za-z])|#\s?$", re.IGNORECASE)
_PII_WORD_RE = re.compile(
    rf"(?<![A-Za-z])(?:{_PHONE_WORDS}|{_OTHER_PII_WORDS})(?:e?s)?(?![A-Za-z])", re.IGNORECASE
)
_CONTEXT_CHARS = 24


def _is_reference(text: str, start: int) -> bool:
    """True when the nearest keyword before ``start`` marks the number as an order/ticket reference."""
    window = text[max(0, start - _CONTEXT_CHARS) : start]
    ref = [m.end() for m in _REFERENCE_RE.finditer(window)]
    if not ref:
        return False
    pii = [m.end() for m in _PII_WORD_RE.finditer(window)]
    return not pii or max(ref) > max(pii)


# --- e-mail ---------------------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9\u00c0-\u024f._%+\-])[A-Za-z0-9\u00c0-\u024f][A-Za-z0-9\u00c0-\u024f._%+\-]{0,63}@"
    r"(?:[A-Za-z0-9\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f\-]{0,61}[A-Za-z0-9\u00c0-\u024f])?\.)+"
    r"[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


def _emails(text: str) -> Iterator[PiiMatch]:
    for m in _EMAIL_RE.finditer(text):
        yield PiiMatch("email", m.start(), m.end())


# --- payment cards --------------------------------------------------------------------------

# Runs of digit groups separated by single spaces or dashes, on ASCII-alphanumeric boundaries.
_DIGIT_RUN_RE = re.compile(r"(?<![0-9A-Za-z])\d+(?:[ \-]\d+)*(?![0-9A-Za-z])")
_GROUP_RE = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_issuer_ok(d: str) -> bool:
    n = len(d)
    p2, p3, p4, p6 = int(d[:2]), int(d[:3]), int(d[:4]), int(d[:6])
    return (
        (d[0] == "4" and n in (13, 16, 19))  # Visa
        or ((51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16)  # Mastercard
        or (p2 in (34, 37) and n == 15)  # American Express
        or ((p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and 16 <= n <= 19)
        or (p2 == 62 and 16 <= n <= 19)  # UnionPay
        or (3528 <= p4 <= 3589 and 16 <= n <= 19)  # JCB
        or ((300 <= p3 <= 305 or p4 == 3095 or p2 in (36, 38, 39)) and 14 <= n <= 19)  # Diners
        or (2200 <= p4 <= 2204 and 16 <= n <= 19)  # Mir
        or ((p2 == 50 or 56 <= p2 <= 58 or p2 in (63, 67)) and 13 <= n <= 19)  # Maestro
    )


def _cards(text: str) -> Iterator[PiiMatch]:
    for run in _DIGIT_RUN_RE.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _GROUP_RE.finditer(run.group())]
        best: tuple[int, int] | None = None
        # Any contiguous sequence of groups may be the card ("4111 1111 1111 1111 12/25").
        for i in range(len(groups)):
            for j in range(len(groups) - 1, i - 1, -1):
                start, end = groups[i][0], groups[j][1]
                digits = "".join(text[a:b] for a, b in groups[i : j + 1])
                if not 13 <= len(digits) <= 19:
                    continue
                if _card_issuer_ok(digits) and luhn_valid(digits) and not _is_reference(text, start):
                    if best is None or end - start > best[1] - best[0]:
                        best = (start, end)
                    break
        if best is not None:
            yield PiiMatch("card", best[0], best[1])


# --- IBAN -----------------------------------------------------------------------------------

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN_START_RE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{2})(\d{2})")


def iban_valid(compact: str) -> bool:
    """ISO 13616: length for the country, then the mod-97 check over the rearranged string."""
    s = compact.upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s) or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _ibans(text: str) -> Iterator[PiiMatch]:
    for m in _IBAN_START_RE.finditer(text):
        length = IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        chars: list[str] = []
        pos = m.start()
        while pos < len(text) and len(chars) < length:
            ch = text[pos]
            if ch.isascii() and ch.isalnum():
                chars.append(ch)
            elif not (ch == " " and chars and pos + 1 < len(text) and text[pos + 1] != " "):
                break
            pos += 1
        if len(chars) != length:
            continue
        if pos < len(text) and text[pos].isascii() and text[pos].isalnum():
            continue  # longer than this country's IBAN
        if iban_valid("".join(chars)):
            yield PiiMatch("iban", m.start(), pos)


# --- national identity numbers -------------------------------------------------------------

_CN_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _cn_id_valid(s: str) -> bool:
    total = sum(int(c) * w for c, w in zip(s[:17], _CN_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == s[17].upper()


_ES_ID_RE = re.compile(r"(?<![0-9A-Za-z])([XYZxyz]?)-?(\d{7,8})-?([A-Za-z])(?![0-9A-Za-z])")
_ES_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _es_id_valid(m: re.Match[str]) -> bool:
    prefix, number, letter = m.group(1).upper(), m.group(2), m.group(3).upper()
    if prefix:
        if len(number) != 7:
            return False
        number = str("XYZ".index(prefix)) + number
    elif len(number) != 8:
        return False
    return _ES_LETTERS[int(number) % 23] == letter


_IT_CF_RE = re.compile(r"(?<![0-9A-Za-z])[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?![0-9A-Za-z])")
# Values of the characters in odd (1-based) positions of a codice fiscale; even ones count 0-25.
_IT_ODD_VALUES = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23)  # fmt: skip  # noqa: E501
_IT_ODD = {
    **{str(d): _IT_ODD_VALUES[d] for d in range(10)},
    **{chr(65 + n): value for n, value in enumerate(_IT_ODD_VALUES)},
}


def _it_cf_valid(s: str) -> bool:
    total = 0
    for i, ch in enumerate(s[:15]):
        if i % 2 == 0:  # odd positions, 1-based
            total += _IT_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26) == s[15]


_FR_NIR_RE = re.compile(
    r"(?<![0-9A-Za-z])([12])[ ]?(\d{2})[ ]?(0[1-9]|1[0-2]|[2-9]\d)[ ]?(\d{2}|2[AB])[ ]?(\d{3})[ ]?(\d{3})"
    r"[ ]?(\d{2})(?![0-9A-Za-z])"
)


def _fr_nir_valid(m: re.Match[str]) -> bool:
    body = "".join(m.group(i) for i in range(1, 7))
    key = int(m.group(7))
    number = int(body.replace("2A", "19").replace("2B", "18"))
    return 97 - number % 97 == key


_US_SSN_RE = re.compile(
    r"(?<![0-9A-Za-z\-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![0-9A-Za-z\-])"
)


def _national_ids(text: str) -> Iterator[PiiMatch]:
    checks: list[tuple[re.Pattern[str], Callable[[re.Match[str]], bool]]] = [
        (_CN_ID_RE, lambda m: _cn_id_valid(m.group())),
        (_ES_ID_RE, _es_id_valid),
        (_IT_CF_RE, lambda m: _it_cf_valid(m.group())),
        (_FR_NIR_RE, _fr_nir_valid),
        (_US_SSN_RE, lambda m: True),
    ]
    for pattern, valid in checks:
        for m in pattern.finditer(text):
            if valid(m) and not _is_reference(text, m.start()):
                yield PiiMatch("national_id", m.start(), m.end())


# --- phone numbers --------------------------------------------------------------------------

_SEP = r"[ \-.\u00a0]"
# Not the continuation of a longer number ("DE89 3704 0044 0532…", "0123 4567 8901").
_NOT_CONTINUED = r"(?<!\d[ \-.\u00a0])"
_INTL_RE = re.compile(
    _NOT_CONTINUED + r"(?<![0-9A-Za-z+])(?:\+|00(?=[1-9]))(?:\d[ \-.\u00a0()]{0,2}){7,14}\d(?![0-9A-Za-z])"
)
_NANP_RE = re.compile(
    rf"{_NOT_CONTINUED}(?<![0-9A-Za-z\-.])(?:1{_SEP})?"
    rf"(?:\([2-9]\d{{2}}\){_SEP}?|[2-9]\d{{2}}{_SEP})[2-9]\d{{2}}{_SEP}\d{{4}}"
    r"(?![0-9A-Za-z]|[\-.]\d)"
)
_CN_MOBILE_RE = re.compile(
    _NOT_CONTINUED + r"(?<![0-9A-Za-z+])1[3-9]\d(?:\d{8}|[ \-]\d{4}[ \-]\d{4})(?![0-9A-Za-z])"
)
_TRUNK_RE = re.compile(
    rf"{_NOT_CONTINUED}(?<![0-9A-Za-z+\-./:])0\d{{1,4}}(?P<sep>{_SEP})\d{{2,8}}(?:(?P=sep)\d{{2,8}}){{0,4}}"
    r"(?![0-9A-Za-z]|[\-./:]\d)"
)
_AFTER_WORD_RE = re.compile(
    rf"(?<![A-Za-z])(?:{_PHONE_WORDS})(?![A-Za-z])[^\d\n]{{0,24}}?"
    r"(?P<num>\(?\+?\d[\d \-.\u00a0()]{5,22}\d)(?![0-9A-Za-z])",
    re.IGNORECASE,
)


_DATE_RE = re.compile(r"\d{4}[\-./]\d{1,2}[\-./]\d{1,2}|\d{1,2}[\-./]\d{1,2}[\-./]\d{2,4}")


def _digit_count(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def _phones(text: str) -> Iterator[PiiMatch]:
    for m in _INTL_RE.finditer(text):
        international = m.group().startswith("+")
        if 8 <= _digit_count(m.group()) <= 15 and (international or not _is_reference(text, m.start())):
            yield PiiMatch("phone", m.start(), m.end())
    for m in _NANP_RE.finditer(text):
        if not _is_reference(text, m.start()):
            yield PiiMatch("phone", m.start(), m.end())
    for m in _CN_MOBILE_RE.finditer(text):
        if not _is_reference(text, m.start()):
            yield PiiMatch("phone", m.start(), m.end())
    for m in _TRUNK_RE.finditer(text):
        if 10 <= _digit_count(m.group()) <= 12 and not _is_reference(text, m.start()):
            yield PiiMatch("phone", m.start(), m.end())
    for m in _AFTER_WORD_RE.finditer(text):
        number = m.group("num")
        if _DATE_RE.fullmatch(number.strip("()")) or _is_reference(text, m.start("num")):
            continue
        if 7 <= _digit_count(number) <= 15:
            yield PiiMatch("phone", m.start("num"), m.end("num"))


# --- public API -----------------------------------------------------------------------------

_DETECTORS: tuple[Callable[[str], Iterator[PiiMatch]], ...] = (
    _emails,
    _ibans,
    _cards,
    _national_ids,
    _phones,
)


def find_pii(text: str) -> list[PiiMatch]:
    """Every piece of personal data in ``text``, in order, without overlaps.

    Where two detections overlap, the stronger kind wins (e-mail, IBAN, card, ID, phone), then
    the longer span.
    """
    found = [m for detect in _DETECTORS for m in detect(text)]
    found.sort(key=lambda m: (_PRIORITY[m.kind], -(m.end - m.start), m.start))
    chosen: list[PiiMatch] = []
    for match in found:
        if all(match.end <= c.start or match.start >= c.end for c in chosen):
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.start)


def redact(text: str) -> str:
    """``text`` with each piece of personal data replaced by its placeholder (``[email]``, ``[card]``…)."""
    out: list[str] = []
    pos = 0
    for m in find_pii(text):
        out.append(text[pos : m.start])
        out.append(PLACEHOLDERS[m.kind])
        pos = m.end
    out.append(text[pos:])
    return "".join(out)
