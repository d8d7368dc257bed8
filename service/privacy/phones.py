"""Phone numbers in free text, found by Google's ``phonenumbers`` (``PhoneNumberMatcher``).

A number written with its country code (``+44 20 7946 0958``, ``0049 30 1234567``) is found
whatever the region. A national number (``06 12 34 56 78``, ``(415) 555-2671``, ``4155552671``,
``13812345678``) only means something in a region, so each candidate is tried in every region of
``regions`` (``PRIVACY_PHONE_REGIONS``; by default those of the languages the service answers in)
and kept when it is a *valid* number there (a real numbering plan's length and prefix). Right after
a phone word ("phone", "tel", "手机", "teléfono"…), or written with a ``+`` and its country code, a
*possible* number (a plausible length for that country) is enough: ranges a numbering plan keeps
for fiction or has not assigned yet (``+44 7700 900123``) are still someone's way to be reached
when a customer writes them like that.

Dropped: numbers right after a reference word ("order", "#", "订单"…: that is what order numbers
look like) or right after a postal-code or law word ("CEP", "Lei", "Decreto", "Art."), except with a
``+``; dates (``01.02.2024``); pieces of a longer number (a run of digit groups inside an invalid
card or IBAN); and two shapes no country groups a phone number in, whatever word precedes them:
a Brazilian postal code ``01310-100`` (five digits, a dash, three: a valid Italian number for the
matcher) and a statute's number with its year ``13.709/2018`` (thousands dot, slash, year: a valid
Polish, French, Dutch and Japanese number).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from phonenumbers import Leniency, PhoneNumberMatcher

from service.privacy.context import PHONE_WORDS, id_word, is_reference

Span = tuple[str, int, int]

# The regions of the languages served (INGEST_LANGUAGES): en, zh, es, fr, de, ja, pt, it, nl, ru, ko, pl, uk.
DEFAULT_REGIONS: tuple[str, ...] = (
    "US", "GB", "CN", "ES", "MX", "FR", "DE", "JP", "PT", "BR", "IT", "NL", "RU", "KR", "PL", "IN", "UA",
)  # fmt: skip

# Where a phone number may be: 7+ digits with the separators people write, not inside a token.
# Not a piece of a code such as "NW-2026-004817" or "v1.2.3.4567890".
_CANDIDATE_RE = re.compile(
    r"(?<![0-9A-Za-z+\-_/.@])(?:\+|\()?\d[\d \-.\u00a0()/]{5,24}\d(?![0-9A-Za-z]|[\-_/.][0-9A-Za-z])"
)
_DATE_RE = re.compile(
    r"(?<![\d.\-/])(?:\d{4}[\-./]\d{1,2}[\-./]\d{1,2}|\d{1,2}[\-./]\d{1,2}[\-./](?:\d{4}|\d{2}))"
    r"(?!\d|[.\-/]\d)"
)
_PHONE_WORD_RE = re.compile(rf"(?<![A-Za-z])(?:{PHONE_WORDS})(?![A-Za-z])", re.IGNORECASE)
_LONGER_BEFORE_RE = re.compile(r"\d[ \-.\u00a0]?$")
_LONGER_AFTER_RE = re.compile(r"^[ \-.\u00a0/]?\d")
_WORD_WINDOW = 24
# The shape of an IBAN (valid or not): its digit groups are not phone numbers.
_IBAN_SHAPE_RE = re.compile(r"(?<![0-9A-Za-z])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}(?![0-9A-Za-z])")
# A Brazilian CEP (01310-100) and a law's number and year (Lei 13.709/2018, Decreto 7.962/2013).
_NOT_PHONE_RE = re.compile(
    r"(?<![0-9A-Za-z+\-_/.])(?:\d{5}-\d{3}|[1-9]\d{0,2}(?:\.\d{3})+/(?:19|20)\d{2})(?![0-9A-Za-z]|[\-/.]\d)"
)


_MX_MOBILE_ONE = re.compile(r"^(\+52[ \-.]?)(1[ \-.]?)(?=\d{2}[ \-.]?\d{4}[ \-.]?\d{4}(?!\d))")


def _after_phone_word(text: str, start: int) -> bool:
    return _PHONE_WORD_RE.search(text[max(0, start - _WORD_WINDOW) : start]) is not None


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def phones(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> Iterator[Span]:
    ibans = [m.span() for m in _IBAN_SHAPE_RE.finditer(text)]
    not_phones = [m.span() for m in _NOT_PHONE_RE.finditer(text)]
    for cand in _CANDIDATE_RE.finditer(text):
        if _digits(cand.group()) < 7 or id_word(text, cand.start()) is not None:  # "BSN 123…": an ID
            continue
        if any(start < cand.end() and cand.start() < end for start, end in ibans):
            continue
        international = cand.group().startswith("+")
        leniency = (
            Leniency.POSSIBLE if international or _after_phone_word(text, cand.start()) else Leniency.VALID
        )
        # "00" + country code is "+" + country code for the matcher (the international prefix).
        # A Mexican mobile as WhatsApp still shows it, "+52 1 33 1234 5678": the "1" was dropped
        # from the numbering plan in 2019 and the matcher rejects it; read without it (same span).
        piece = _MX_MOBILE_ONE.sub(lambda m: m.group(1) + " " * len(m.group(2)), cand.group())
        spans: set[tuple[int, int]] = set()
        for region in regions:
            for match in PhoneNumberMatcher(piece, region, leniency=leniency):
                spans.add((cand.start() + match.start, cand.start() + match.end))
        for start, end in sorted(spans):
            number = text[start:end]
            if _DATE_RE.search(number) or _digits(number) < 7:
                continue
            if not number.startswith("+") and any(a < end and start < b for a, b in not_phones):
                continue
            if _LONGER_BEFORE_RE.search(text[max(0, start - 2) : start]):
                continue
            if _LONGER_AFTER_RE.search(text[end : end + 2]):
                continue
            if not number.startswith("+") and is_reference(text, start):
                continue
            yield ("phone", start, end)
