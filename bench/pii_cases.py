"""The labelled PII set of ``bench.pii``, generated deterministically (seeded) from the formats the
libraries know: card numbers of each network with their Luhn digit, IBANs of many countries built
from the SWIFT BBAN formats stdnum ships (iban.dat) with their mod-97 digits, national IDs from
stdnum's check-digit functions, phone numbers from phonenumbers' example numbers (mobile and fixed
line) with randomised subscriber digits, written in each country's international and national
formats, and e-mails. Each positive has an invalid-checksum twin (a negative), next to order and
invoice numbers, SKUs, tracking numbers, prices and dates.

A case is one sentence with at most one labelled value: ``Case(text, kind, value)``; ``kind`` None
means nothing in the sentence is personal data.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import ean, iban, luhn, verhoeff
from stdnum.br import cpf
from stdnum.cn import ric
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.kr import rrn
from stdnum.mx import curp
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.us import ssn

from service.privacy.phones import DEFAULT_REGIONS


@dataclass(frozen=True)
class Case:
    text: str
    kind: str | None  # email | phone | card | iban | national_id; None: a negative
    value: str  # the labelled substring (for a negative: the lookalike)
    family: str  # what generated it: "card/visa", "iban/DE", "phone/FR/national", "order"…


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _bump(value: str, index: int = -1) -> str:
    """``value`` with the digit at ``index`` changed: a lookalike with a wrong check."""
    chars = list(value)
    positions = [i for i, c in enumerate(chars) if c.isdigit()]
    i = positions[index]
    chars[i] = str((int(chars[i]) + 1) % 10)
    return "".join(chars)


# --- cards ---------------------------------------------------------------------------------

CARD_NETWORKS: dict[str, tuple[tuple[str, ...], int]] = {
    "visa": (("4",), 16),
    "mastercard": (("51", "53", "55", "2221", "2720"), 16),
    "amex": (("34", "37"), 15),
    "discover": (("6011", "65"), 16),
    "jcb": (("3528", "3589"), 16),
    "unionpay": (("62",), 19),
    "diners": (("36", "300"), 14),
    "maestro": (("50", "67"), 16),
}
CARD_SENTENCES = (
    "Please charge my card {v} for the order",
    "pedido pagado con la tarjeta {v}, no llega",
    "order #{v} was charged twice",
    "Meine Kreditkarte {v} wurde abgelehnt",
    "我的银行卡号{v}被扣款两次",
    "{v}",
)


def _grouped(digits: str, style: int) -> str:
    if style == 0:
        return digits
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return (" " if style == 1 else "-").join(groups)


def cards(rng: random.Random, per_network: int) -> Iterator[Case]:
    for network, (prefixes, length) in CARD_NETWORKS.items():
        for n in range(per_network):
            prefix = rng.choice(prefixes)
            body = prefix + _digits(rng, length - len(prefix) - 1)
            number = body + luhn.calc_check_digit(body)
            text = _grouped(number, n % 3)
            sentence = CARD_SENTENCES[n % len(CARD_SENTENCES)]
            yield Case(sentence.format(v=text), "card", text, f"card/{network}")
            wrong = _grouped(_bump(number), n % 3)
            yield Case(sentence.format(v=wrong), None, wrong, "lookalike/card")


# --- IBANs ---------------------------------------------------------------------------------

_BBAN_PART = re.compile(r"(\d+)!([nac])")


def bban_formats() -> dict[str, str]:
    text = resources.files("stdnum").joinpath("iban.dat").read_text(encoding="utf-8")
    found = re.findall(r'^([A-Z]{2}) country="[^"]*" bban="([^"]+)"', text, re.MULTILINE)
    return dict(found)


def _bban(rng: random.Random, spec: str) -> str:
    alphabet = {
        "n": "0123456789",
        "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    }
    return "".join(
        "".join(rng.choice(alphabet[kind]) for _ in range(int(count)))
        for count, kind in _BBAN_PART.findall(spec)
    )


IBAN_COUNTRIES = (
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "GB",
    "BE",
    "PT",
    "PL",
    "AT",
    "CH",
    "SE",
    "IE",
    "DK",
    "NO",
    "FI",
)
IBAN_SENTENCES = (
    "My IBAN is {v}, please refund there",
    "virement sur {v} merci",
    "mi cuenta es {v}",
    "Bitte überweisen Sie auf {v}",
    "{v}",
)


def ibans(rng: random.Random, per_country: int) -> Iterator[Case]:
    formats = bban_formats()
    for country in IBAN_COUNTRIES:
        made = 0
        for _ in range(5000):  # national checks (ES, FR, IT, BE, PT…) reject most random BBANs
            if made == per_country:
                break
            bban = _bban(rng, formats[country])
            number = country + iban.calc_check_digits(country + "00" + bban) + bban
            if not iban.is_valid(number):
                continue
            text = iban.format(number) if made % 2 else number
            sentence = IBAN_SENTENCES[made % len(IBAN_SENTENCES)]
            yield Case(sentence.format(v=text), "iban", text, f"iban/{country}")
            wrong = iban.format(number[:4] + _bump(number[4:], 0)) if made % 2 else _bump(number, 2)
            if not iban.is_valid(wrong):
                yield Case(sentence.format(v=wrong), None, wrong, "lookalike/iban")
            made += 1


# --- national IDs --------------------------------------------------------------------------


def _date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)


def _cn(rng: random.Random) -> str:
    y, m, d = _date(rng)
    body = f"110105{y:04d}{m:02d}{d:02d}{_digits(rng, 3)}"
    return body + ric.calc_check_digit(body + "0")  # stdnum: the number with a check digit


def _es_dni(rng: random.Random) -> str:
    body = _digits(rng, 8)
    return body + dni.calc_check_digit(body)


def _es_nie(rng: random.Random) -> str:
    body = rng.choice("XYZ") + _digits(rng, 7)
    return body + nie.calc_check_digit(body)


def _it_cf(rng: random.Random) -> str:
    y, m, d = _date(rng)
    letters = "".join(rng.choice("BCDFGHLMNPRSTVZ") for _ in range(6))
    month, day = "ABCDEHLMPRST"[m - 1], d + rng.choice((0, 40))  # +40: women
    body = f"{letters}{y % 100:02d}{month}{day:02d}{rng.choice('ABCDEFGHLM')}{_digits(rng, 3)}"
    return body + codicefiscale.calc_check_digit(body)


def _fr_nir(rng: random.Random) -> str:
    y, m, _ = _date(rng)
    body = f"{rng.choice('12')}{y % 100:02d}{m:02d}{rng.randint(1, 95):02d}{_digits(rng, 3)}{_digits(rng, 3)}"
    number = body + nir.calc_check_digits(body)
    return (
        f"{number[0]} {number[1:3]} {number[3:5]} {number[5:7]} {number[7:10]} {number[10:13]} {number[13:]}"
    )


def _us_ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    sep = rng.choice("- ")
    return f"{area:03d}{sep}{rng.randint(1, 99):02d}{sep}{rng.randint(1, 9999):04d}"


def _ch_ahv(rng: random.Random) -> str:
    body = "756" + _digits(rng, 9)
    number = body + ean.calc_check_digit(body)
    return f"{number[:3]}.{number[3:7]}.{number[7:11]}.{number[11:]}"


def _mx_curp(rng: random.Random) -> str:
    y, m, d = _date(rng)
    letters = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(4))
    consonants = "".join(rng.choice("BCDFGHJKLMNPRSTVWXYZ") for _ in range(3))
    body = f"{letters}{y % 100:02d}{m:02d}{d:02d}{rng.choice('HM')}DF{consonants}{'0' if y < 2000 else 'A'}"
    return body + curp.calc_check_digit(body)


def _aadhaar(rng: random.Random) -> str:
    body = str(rng.randint(2, 9)) + _digits(rng, 10)
    number = body + verhoeff.calc_check_digit(body)
    return f"{number[:4]} {number[4:8]} {number[8:]}"


def _until(valid: Callable[[str], bool], make: Callable[[], str]) -> str:
    while not valid(value := make()):
        pass
    return value


def _kr_rrn(rng: random.Random) -> str:
    def make() -> str:
        y, m, d = _date(rng)
        body = f"{y % 100:02d}{m:02d}{d:02d}{1 if y < 2000 else 3}{_digits(rng, 5)}"
        return f"{body[:6]}-{body[6:]}{rrn.calc_check_digit(body)}"

    return _until(rrn.is_valid, make)


def _weak(module: Callable[[str], bool], n: int) -> Callable[[random.Random], str]:
    return lambda rng: _until(module, lambda: _digits(rng, n))


def _cpf(rng: random.Random) -> str:
    d = _until(cpf.is_valid, lambda: _digits(rng, 11))
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


# scheme: (generator, sentences; {v} is the value)
ID_SCHEMES: dict[str, tuple[Callable[[random.Random], str], tuple[str, ...]]] = {
    "CN/ric": (_cn, ("身份证号{v}", "my ID {v} for the invoice")),
    "ES/dni": (_es_dni, ("mi DNI es {v}", "a nombre de {v}")),
    "ES/nie": (_es_nie, ("NIE {v}", "mi número {v}")),
    "IT/codicefiscale": (_it_cf, ("codice fiscale {v}", "il mio {v} per la fattura")),
    "FR/nir": (_fr_nir, ("numéro de sécurité sociale {v}", "mon numéro {v}")),
    "US/ssn": (_us_ssn, ("SSN {v}", "my social security number is {v}")),
    "CH/ahv": (_ch_ahv, ("AHV-Nummer {v}", "meine Nummer {v}")),
    "MX/curp": (_mx_curp, ("mi CURP es {v}", "{v}")),
    "IN/aadhaar": (_aadhaar, ("Aadhaar {v}", "my number {v}")),
    "KR/rrn": (_kr_rrn, ("주민등록번호 {v}", "{v}")),
    "BR/cpf": (_cpf, ("meu CPF é {v}", "{v}")),
    "NL/bsn": (_weak(bsn.is_valid, 9), ("mijn BSN is {v}", "BSN: {v}")),
    "PL/pesel": (_weak(pesel.is_valid, 11), ("mój PESEL {v}", "PESEL: {v}")),
    "DE/idnr": (_weak(idnr.is_valid, 11), ("meine Steuer-ID {v}", "Steueridentifikationsnummer {v}")),
    "US/ssn-bare": (_weak(ssn.is_valid, 9), ("SSN {v}", "social security number {v}")),
}


def national_ids(rng: random.Random, per_scheme: int) -> Iterator[Case]:
    for scheme, (make, sentences) in ID_SCHEMES.items():
        valid = _checker(scheme)
        for n in range(per_scheme):
            value = make(rng)
            sentence = sentences[n % len(sentences)]
            yield Case(sentence.format(v=value), "national_id", value, f"id/{scheme}")
            wrong = _bump(value)
            if not valid(wrong):
                # A CURP named as one is the customer's, a typo in its check digit or not (as for an
                # RFC: ``service.privacy.numbers``); bare, a wrong check digit makes it a look-alike.
                if scheme == "MX/curp" and "CURP" in sentence:
                    yield Case(sentence.format(v=wrong), "national_id", wrong, f"id/{scheme}/named")
                else:
                    yield Case(sentence.format(v=wrong), None, wrong, "lookalike/id")


def _checker(scheme: str) -> Callable[[str], bool]:
    modules = {
        "CN": ric, "ES/dni": dni, "ES/nie": nie, "IT": codicefiscale, "FR": nir, "US": ssn, "MX": curp,
        "KR": rrn, "BR": cpf, "NL": bsn, "PL": pesel, "DE": idnr,
    }  # fmt: skip
    if scheme == "CH/ahv":
        return lambda v: ean.is_valid(v.replace(".", ""))
    if scheme == "IN/aadhaar":
        return lambda v: verhoeff.is_valid(v.replace(" ", ""))
    module = next(m for key, m in modules.items() if scheme.startswith(key))
    return lambda v: bool(module.is_valid(v.replace(" ", "")))


# --- phones --------------------------------------------------------------------------------

OTHER_REGIONS = ("AU", "CA", "SE", "CH", "AR", "ZA", "NG", "EG", "TR", "ID", "TH", "VN", "PH", "SG")
PHONE_SENTENCES = (
    "You can reach me at {v} after 5pm",
    "Mi teléfono es {v}",
    "Rufen Sie mich unter {v} an",
    "我的手机号是{v}，谢谢",
    "{v}",
)
_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)


def _phone(rng: random.Random, region: str, kind: int) -> phonenumbers.PhoneNumber | None:
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return None
    national = str(example.national_number)
    for _ in range(200):
        candidate = national[:-4] + _digits(rng, 4)
        number = phonenumbers.parse("+" + str(example.country_code) + candidate)
        if phonenumbers.is_valid_number(number):
            return number
    return None


def phones(rng: random.Random, per_format: int) -> Iterator[Case]:
    n = 0
    for region in (*DEFAULT_REGIONS, *OTHER_REGIONS):
        formats = ["international", "e164"]
        if region in DEFAULT_REGIONS:  # a national format means something only in its region
            formats += ["national", "national_digits"]
        for fmt in formats:
            for i in range(per_format):
                number = _phone(rng, region, _TYPES[i % 2])
                if number is None:
                    continue
                if fmt == "international":
                    text = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
                elif fmt == "e164":
                    text = phonenumbers.format_number(number, PhoneNumberFormat.E164)
                else:
                    text = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
                    if fmt == "national_digits":
                        text = re.sub(r"\D", "", text)
                sentence = PHONE_SENTENCES[n % len(PHONE_SENTENCES)]
                n += 1
                yield Case(sentence.format(v=text), "phone", text, f"phone/{region}/{fmt}")
        # a lookalike: the international number one digit short, valid nowhere
        number = _phone(rng, region, PhoneNumberType.MOBILE)
        if number is not None:
            short = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)[:-1]
            parsed = phonenumbers.parse(short)
            if not phonenumbers.is_valid_number(parsed):
                yield Case(f"the screen shows {short} now", None, short, "lookalike/phone")


# --- e-mails -------------------------------------------------------------------------------

_FIRST = ("jane", "max", "maría", "li.wei", "françois", "yuki", "olga", "joão", "anna", "ahmed")
_LAST = ("doe", "mustermann", "garcía", "zhang", "dupont", "tanaka", "ivanova", "silva", "rossi", "khan")
_DOMAINS = ("example.com", "mail.example.de", "correo.es", "qq.com", "orange.fr", "yahoo.co.jp", "web.de")
EMAIL_SENTENCES = (
    "my email is {v} thanks",
    "Schreiben Sie an {v} bitte",
    "联系我：{v}谢谢",
    "écrivez-moi à {v}",
    "{v}",
)


def emails(rng: random.Random, count: int) -> Iterator[Case]:
    for n in range(count):
        local = f"{rng.choice(_FIRST)}{rng.choice(('.', '_', '+orders.', ''))}{rng.choice(_LAST)}"
        if n % 4 == 3:
            local += str(rng.randint(1, 99))
        value = f"{local}@{rng.choice(_DOMAINS)}"
        yield Case(EMAIL_SENTENCES[n % len(EMAIL_SENTENCES)].format(v=value), "email", value, "email")


# --- negatives -----------------------------------------------------------------------------


def _order(rng: random.Random) -> str:
    return rng.choice(
        (
            f"#{rng.randint(1000, 999999)}",
            f"{rng.randint(100, 999)}-{_digits(rng, 7)}-{_digits(rng, 7)}",
            f"ORD-{rng.randint(2020, 2026)}-{_digits(rng, 5)}",
            f"NW-{rng.randint(2020, 2026)}-{_digits(rng, 6)}",
            _digits(rng, rng.randint(6, 12)),
        )
    )


NEGATIVE_FAMILIES: dict[str, tuple[Callable[[random.Random], str], tuple[str, ...]]] = {
    "order": (
        _order,
        (
            "where is my order {v}?",
            "cancel purchase {v} please",
            "Bestellung {v} ist nicht angekommen",
            "mi pedido {v} no ha llegado",
            "订单{v}怎么退款",
            "commande n° {v} pas reçue",
        ),
    ),
    "invoice": (
        lambda rng: rng.choice((f"INV-{rng.randint(2020, 2026)}-{_digits(rng, 6)}", _digits(rng, 8))),
        ("I need invoice {v} again", "Rechnung {v} fehlt", "factura {v} por favor"),
    ),
    "sku": (
        lambda rng: rng.choice(
            (
                f"NW-{rng.choice(('KTL', 'TV', 'HP'))}-{rng.randint(100, 999)}",
                f"B0{_digits(rng, 2)}{''.join(rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ') for _ in range(2))}"
                f"{_digits(rng, 4)}",
                f"X{rng.randint(100, 999)}-{rng.randint(10, 99)}",
            )
        ),
        ("is {v} in stock?", "SKU {v} is out of stock", "model {v} broke after a week"),
    ),
    "tracking": (
        lambda rng: rng.choice(
            (
                f"1Z{_digits(rng, 3)}AA1{_digits(rng, 8)}",
                " ".join(("9400", *(_digits(rng, 4) for _ in range(4)), _digits(rng, 2))),
                f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}",
                f"JD{_digits(rng, 18)}",
                f"RR{_digits(rng, 9)}DE",
            )
        ),
        ("tracking number {v} has not moved", "Sendungsnummer {v}", "my parcel {v} is stuck"),
    ),
    "price": (
        lambda rng: rng.choice(
            (
                f"${rng.randint(1, 9)},{_digits(rng, 3)}.{_digits(rng, 2)}",
                f"{rng.randint(1, 9)} {_digits(rng, 3)},{_digits(rng, 2)} €",
                f"¥{rng.randint(1000, 99999)}",
                f"{rng.randint(10, 9999)}元",
            )
        ),
        ("I was charged {v} instead", "le prix est {v}", "退款金额为{v}"),
    ),
    # Bare digits with no word around them: a 10-digit one is a valid national phone number in some
    # region more often than not (the cost of finding bare phone numbers, measured here).
    "bare_digits": (
        lambda rng: _digits(rng, rng.randint(6, 12)),
        ("the code on the box is {v}", "I got {v} on the screen", "{v}"),
    ),
    "date": (
        lambda rng: rng.choice(
            (
                f"{rng.randint(2020, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2020, 2026)}",
                f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2020, 2026)} "
                f"{rng.randint(8, 18)}:{rng.choice(('00', '30'))}",
            )
        ),
        ("delivered on {v}", "Termin am {v}", "llegó el {v}"),
    ),
}


def negatives(rng: random.Random, per_family: int) -> Iterator[Case]:
    for family, (make, sentences) in NEGATIVE_FAMILIES.items():
        for n in range(per_family):
            value = make(rng)
            yield Case(sentences[n % len(sentences)].format(v=value), None, value, family)


def labelled_set(seed: int = 12, scale: int = 1) -> list[Case]:
    """The whole labelled set (about 1,500 cases at ``scale`` 1), the same for the same seed."""
    rng = random.Random(seed)
    return [
        *cards(rng, 12 * scale),
        *ibans(rng, 6 * scale),
        *national_ids(rng, 10 * scale),
        *phones(rng, 3 * scale),
        *emails(rng, 60 * scale),
        *negatives(rng, 60 * scale),
    ]
