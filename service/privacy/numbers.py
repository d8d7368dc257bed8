"""Payment cards, IBANs and national identity numbers in free text, each validated by
``python-stdnum`` (check digits, lengths, birth dates, reserved ranges).

stdnum validates a number; it does not find one in a sentence. Here, patterns propose candidates
(the shapes people write them in: grouped digits, dashes, dots, spaces) and stdnum decides. Each
finder yields ``(kind, start, end)`` spans; ``service.privacy.pii`` resolves overlaps.

- **Cards**: 13–19 digits (groups separated by single spaces or dashes), a known issuer prefix
  (IIN ranges below) *and* a valid Luhn digit (``stdnum.luhn``). Flagged whatever word precedes
  them, "order" and "#" included: a number with an issuer prefix and a valid Luhn digit is far more
  likely a card than an order number, and a replaced order number costs less than a leaked card
  (the order numbers of real shops are shorter; docs/caches.md has the measured rate).
- **IBANs**: a country code, two check digits and the country's BBAN (``stdnum.iban``: length,
  mod-97 and the national format where stdnum knows it). Always flagged.
- **CLABEs** (Mexico's 18-digit bank account number, which Mexican banks use instead of an IBAN;
  kind ``iban``): a valid check digit (Banxico's weighted mod 10; stdnum has no CLABE module),
  flagged unless a reference word precedes it, like a strong national ID (a valid Chinese ID of 18
  digits is an ID, not a CLABE).
- **National IDs**: *strong* ones — a shape that order numbers do not have, or a check that a
  random number rarely passes — are flagged unless a reference word precedes them; *weak* ones
  (a bare 9–12 digit number with one check digit) only right after a word that names them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from types import ModuleType

from stdnum import iban, luhn
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.ch import ssn as ch_ssn
from stdnum.cn import ric
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.jp import in_ as jp_in
from stdnum.kr import rrn
from stdnum.mx import curp, rfc
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.pt import nif
from stdnum.se import personnummer
from stdnum.us import ssn as us_ssn

from service.privacy.context import id_word, is_reference

Span = tuple[str, int, int]  # (kind, start, end)

# Not inside a longer alphanumeric token, nor one group of a longer run of digit groups.
_B = r"(?<![0-9A-Za-z])(?<!\d[ .\-])"
_E = r"(?![0-9A-Za-z])(?![ .\-]\d)"


def _compact(text: str) -> str:
    """Without whitespace; each stdnum module's own ``compact`` strips the rest (dots, dashes)."""
    return "".join(text.split())


# --- payment cards -------------------------------------------------------------------------

_DIGIT_RUN_RE = re.compile(r"(?<![0-9A-Za-z])\d+(?:[ \-]\d+)*(?![0-9A-Za-z])")
_GROUP_RE = re.compile(r"\d+")


def card_issuer(d: str) -> bool:
    """Whether ``d`` (13–19 digits) starts with the IIN of a card network of that length."""
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


def is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and card_issuer(digits) and luhn.is_valid(digits)


def cards(text: str) -> Iterator[Span]:
    for run in _DIGIT_RUN_RE.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _GROUP_RE.finditer(run.group())]
        # The card starts the run; groups after it may be something else ("… 1111 12 25": an
        # expiry date). A card is not the middle of a longer number (a 22-digit tracking code).
        for j in range(len(groups) - 1, -1, -1):
            if is_card("".join(text[a:b] for a, b in groups[: j + 1])):
                yield ("card", groups[0][0], groups[j][1])
                break


# A card's security code (CVV, CVC, CID): three or four digits right after a word naming it. Card
# rules forbid keeping it at all; a trial's "exp 12/28 CVV 123" was stored as written.
_CARD_CODE_RE = re.compile(
    r"(?<![A-Za-z])(?:cvv2?|cvc2?|cid|csc|security code|c[óo]digo de seguridad|codice di sicurezza|"
    r"cryptogramme|code de s[ée]curit[ée]|kartenpr[üu]fnummer|pr[üu]fnummer|安全码|セキュリティコード)"
    r"\s*(?:[:=#]|is|es|è|ist)?\s*(\d{3,4})(?!\d)",
    re.IGNORECASE,
)


def card_codes(text: str) -> Iterator[Span]:
    for m in _CARD_CODE_RE.finditer(text):
        yield ("card", m.start(1), m.end(1))


# --- IBAN ----------------------------------------------------------------------------------

# Not inside a longer alphanumeric token. A number just before it ("order 12345 DE89 …") is not
# one group of a run with it: an IBAN starts with letters, so ``_B``'s digit-group rule is not used.
_IBAN_START_RE = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2}\d{2}")
_IBAN_MAX = 34


def ibans(text: str) -> Iterator[Span]:
    for m in _IBAN_START_RE.finditer(text):
        chars: list[str] = []
        ends: list[tuple[int, int]] = []  # (characters so far, text position) where a group ends
        pos = m.start()
        while pos < len(text) and len(chars) < _IBAN_MAX:
            ch = text[pos]
            if ch.isascii() and ch.isalnum():
                chars.append(ch)
                pos += 1
                continue
            following = text[pos + 1 : pos + 2]
            if ch == " " and chars and following.isascii() and following.isalnum():
                ends.append((len(chars), pos))
                pos += 1
                continue
            break
        if not (pos < len(text) and text[pos].isascii() and text[pos].isalnum()):
            ends.append((len(chars), pos))
        for count, end in reversed(ends):  # the longest valid prefix ending at a group boundary
            if count >= 15 and iban.is_valid("".join(chars[:count])):
                yield ("iban", m.start(), end)
                break


# --- CLABE (Mexico) ------------------------------------------------------------------------

# 18 digits (bank 3, branch city 3, account 11, check 1), together or in groups.
_CLABE_RE = re.compile(rf"{_B}\d(?:[ \-]?\d){{17}}{_E}")
_CLABE_WEIGHTS = ((3, 7, 1) * 6)[:17]


def is_clabe(digits: str) -> bool:
    """Banxico's check: each of the first 17 digits times 3, 7, 1, 3, 7, 1…, each product mod 10;
    the check digit is (10 − their sum mod 10) mod 10."""
    if len(digits) != 18 or not digits.isdigit():
        return False
    total = sum(int(d) * w % 10 for d, w in zip(digits[:17], _CLABE_WEIGHTS, strict=True))
    return (10 - total % 10) % 10 == int(digits[17])


def clabes(text: str) -> Iterator[Span]:
    for m in _CLABE_RE.finditer(text):
        digits = "".join(ch for ch in m.group() if ch.isdigit())
        # One 18-digit Chinese ID in ten passes the CLABE check: its own (a region, a birth date,
        # ISO 7064) says more.
        if is_clabe(digits) and not ric.is_valid(digits) and not is_reference(text, m.start()):
            yield ("iban", m.start(), m.end())


# --- national identity numbers -------------------------------------------------------------

Validator = Callable[[str], bool]


def _valid(module: ModuleType) -> Validator:
    check: Validator = module.is_valid
    return lambda value: check(_compact(value))


# Shapes no order number has, or checks a random number rarely passes: flagged unless a
# reference word precedes them.
_STRONG: tuple[tuple[re.Pattern[str], Validator], ...] = (
    (re.compile(rf"{_B}\d{{17}}[\dXx]{_E}"), _valid(ric)),  # China: birth date + ISO 7064
    (re.compile(rf"{_B}\d{{8}}-?[A-Za-z]{_E}"), _valid(dni)),  # Spain DNI: mod-23 letter
    (re.compile(rf"{_B}[XYZxyz]-?\d{{7}}-?[A-Za-z]{_E}"), _valid(nie)),  # Spain NIE
    (  # Italy: codice fiscale, check letter
        re.compile(rf"{_B}[A-Za-z]{{6}}\d{{2}}[A-Za-z]\d{{2}}[A-Za-z]\d{{3}}[A-Za-z]{_E}"),
        _valid(codicefiscale),
    ),
    (  # France: NIR, mod-97 key
        re.compile(rf"{_B}[12] ?\d{{2}} ?\d{{2}} ?(?:\d{{2}}|2[ABab]) ?\d{{3}} ?\d{{3}} ?\d{{2}}{_E}"),
        _valid(nir),
    ),
    (re.compile(rf"{_B}\d{{3}}([- ])\d{{2}}\1\d{{4}}{_E}"), _valid(us_ssn)),  # US SSN, reserved ranges
    (re.compile(rf"{_B}\d{{3}}\.\d{{3}}\.\d{{3}}-\d{{2}}{_E}"), _valid(cpf)),  # Brazil CPF, written out
    (re.compile(rf"{_B}756[. ]?\d{{4}}[. ]?\d{{4}}[. ]?\d{{2}}{_E}"), _valid(ch_ssn)),  # Swiss AHV
    (re.compile(rf"{_B}\d{{6}}-\d{{7}}{_E}"), _valid(rrn)),  # Korea RRN: birth date + check
    (re.compile(rf"{_B}[2-9]\d{{3}} \d{{4}} \d{{4}}{_E}"), _valid(aadhaar)),  # India, as printed
)

# Mexico: a person's RFC (4 letters of the name, birth date, 3-character homoclave whose last one is
# a check digit). About 1.5 % of RFCs in use have a wrong check digit (stdnum), so right after the
# word "RFC" the shape and the date are enough; elsewhere the check digit must hold. A company's RFC
# (3 letters, 12 characters) is not personal data and is not looked for.
_RFC_RE = re.compile(rf"{_B}[A-Za-zÑñ&]{{4}}[ \-]?\d{{6}}[ \-]?[0-9A-Za-z]{{3}}{_E}")


def _named_or_checked(
    pattern: re.Pattern[str], word: str, module: ModuleType
) -> Callable[[str], Iterator[Span]]:
    """The finder of a Mexican identifier (``module``: stdnum's ``rfc`` or ``curp``) matching
    ``pattern``: its check digit must hold unless the identifier follows ``word``."""

    def find(text: str) -> Iterator[Span]:
        for m in pattern.finditer(text):
            named = id_word(text, m.start()) == word
            valid = module.is_valid(m.group(), validate_check_digits=not named)
            if valid and not is_reference(text, m.start()):
                yield ("national_id", m.start(), m.end())

    return find


_rfcs = _named_or_checked(_RFC_RE, "rfc", rfc)


# Mexico: a CURP (18 characters: name letters, birth date, sex, state, consonants, a check digit).
# Right after the word "CURP" the shape, date and state are enough, as for an RFC (a trial's
# "Mi CURP es PEGA850101MDFRRN09", its check digit wrong, was stored as written); elsewhere the
# check digit must hold.
_CURP_RE = re.compile(rf"{_B}[A-Za-z]{{4}}\d{{6}}[HMXhmx][A-Za-z]{{5}}[0-9A-Za-z]\d{_E}")


_curps = _named_or_checked(_CURP_RE, "curp", curp)


# A bare number with one check digit: only right after a word naming it, checked by that
# country's module ("SSN" → the US SSN rules); a generic word ("ID number") tries them all.
_WEAK_BY_WORD: tuple[tuple[re.Pattern[str], tuple[Validator, ...]], ...] = tuple(
    (re.compile(words), tuple(_valid(m) for m in modules))
    for words, modules in (
        (r"ssn|social security", (us_ssn,)),
        (r"social insurance", (sin,)),
        (r"bsn|burgerservicenummer", (bsn,)),
        (r"nif|contribuinte", (nif,)),
        (r"nhs", (nhs,)),
        (r"cpf", (cpf,)),
        (r"pesel", (pesel,)),
        (r"steuer|identifikationsnummer", (idnr,)),
        (r"マイナンバー|個人番号", (jp_in,)),
        (r"aadhaar", (aadhaar,)),
        (r"personnummer", (personnummer,)),
        (r"주민등록번호", (rrn,)),
        (r"身份证", (ric,)),
        (r"rfc|curp", ()),  # letters and digits: the patterns above
    )
)
_WEAK_ALL: tuple[Validator, ...] = tuple(v for _, validators in _WEAK_BY_WORD for v in validators)
_WEAK_RUN_RE = re.compile(rf"{_B}\d(?:[ .\-]?\d){{7,17}}[\dXx]?{_E}")


def _weak_validators(word: str) -> tuple[Validator, ...]:
    for pattern, validators in _WEAK_BY_WORD:
        if pattern.search(word):
            return validators
    return _WEAK_ALL


# A passport number: letters and digits with no check digit to verify (most countries'), so only
# right after a word naming it ("il passaporto YA1234567", "Reisepass C01X00T47"): a new user's
# trial found an Italian one stored as written.
_PASSPORT_WORD_RE = re.compile(r"pass|pasap|paspo|paszport|паспорт|护照|パスポート|여권")
_DOCUMENT_RE = re.compile(rf"{_B}(?=[A-Za-z]{{0,3}}\d)[A-Za-z0-9]{{6,10}}{_E}")
# A Russian passport as it is written: a series of four digits, often as two pairs, then the number
# of six ("паспорт 4510 123456", "серия 45 10 номер 123456").
_SERIES_NUMBER_RE = re.compile(
    rf"{_B}\d{{2}} ?\d{{2}} +(?:(?:номер|№|n[°º]|no\.?) *)?\d{{6}}{_E}", re.IGNORECASE
)


def _passports(text: str) -> Iterator[Span]:
    for m in (*_DOCUMENT_RE.finditer(text), *_SERIES_NUMBER_RE.finditer(text)):
        word = id_word(text, m.start())
        if word is not None and _PASSPORT_WORD_RE.search(word):
            yield ("national_id", m.start(), m.end())


def national_ids(text: str) -> Iterator[Span]:
    for pattern, valid in _STRONG:
        for m in pattern.finditer(text):
            if valid(m.group()) and not is_reference(text, m.start()):
                yield ("national_id", m.start(), m.end())
    yield from _rfcs(text)
    yield from _curps(text)
    yield from _passports(text)
    for m in _WEAK_RUN_RE.finditer(text):
        word = id_word(text, m.start())
        if word is not None and any(valid(m.group()) for valid in _weak_validators(word)):
            yield ("national_id", m.start(), m.end())
