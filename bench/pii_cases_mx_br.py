"""Mexican and Brazilian cases of ``bench.pii`` (trial B, a shop selling in Mexico and Brazil),
generated from their own seed so that the rest of the labelled set stays as it was.

Positives: a person's RFC (Mexico's tax ID: name letters, birth date, homoclave, stdnum's check
digit) and a CLABE (Mexico's 18-digit bank account number: bank, branch city, account, Banxico's
weighted mod-10 check digit; kind ``iban``), each with an invalid-check twin as a negative (an
RFC's only where no word "RFC" names it).
Negatives: Brazilian postal codes (CEP, ``NNNNN-NNN`` or eight digits after "CEP") in addresses and
the numbers of laws and decrees with their year (``Lei 8.078/1990``), written as Brazilian and
Mexican pages and customers write them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from stdnum.mx import rfc

from bench.pii_cases import Case, _bump, _date, _digits

_RFC_LETTERS = "ABCDEFGHIJKLMNOPRSTUVWXYZ"
_HOMOCLAVE = "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
RFC_SENTENCES = (
    "mi RFC es {v}, necesito factura",
    "{v} para la factura por favor",
    "facturar a nombre de {v}",
    "RFC: {v}",
)


def _rfc(rng: random.Random) -> str:
    while True:
        y, m, d = _date(rng)
        name = "".join(rng.choice(_RFC_LETTERS) for _ in range(4))
        body = f"{name}{y % 100:02d}{m:02d}{d:02d}{rng.choice(_HOMOCLAVE[:31])}{rng.choice(_HOMOCLAVE)}"
        value = body + rfc.calc_check_digit(body)
        if rfc.is_valid(value, validate_check_digits=True):  # not one of the words RFCs avoid
            return value if rng.random() < 0.7 else f"{value[:4]}-{value[4:10]}-{value[10:]}"


def rfcs(rng: random.Random, count: int) -> Iterator[Case]:
    for n in range(count):
        value = _rfc(rng)
        sentence = RFC_SENTENCES[n % len(RFC_SENTENCES)]
        yield Case(sentence.format(v=value), "national_id", value, "id/MX/rfc")
        wrong = value[:-1] + ("0" if value[-1] != "0" else "1")
        # After the word "RFC" the shape is enough (about 1.5 % of real RFCs have a wrong check
        # digit): a twin there is an RFC, not a negative. Elsewhere the check digit decides.
        if "RFC" not in sentence and not rfc.is_valid(wrong, validate_check_digits=True):
            yield Case(sentence.format(v=wrong), None, wrong, "lookalike/id")


# Bank codes of Mexican banks (BBVA, Banamex, Santander, HSBC, Inbursa, Scotiabank, Banorte,
# Azteca, BanCoppel, STP).
_BANKS = ("012", "002", "014", "021", "036", "044", "072", "127", "137", "646")
CLABE_SENTENCES = (
    "mi CLABE es {v} para el reembolso",
    "deposítenme a la cuenta {v}",
    "CLABE interbancaria {v} a nombre de Juan",
    "{v}",
)


def _clabe_check(digits17: str) -> str:
    total = sum(int(d) * w % 10 for d, w in zip(digits17, (3, 7, 1) * 6, strict=False))
    return str((10 - total % 10) % 10)


def _clabe(rng: random.Random) -> str:
    body = rng.choice(_BANKS) + _digits(rng, 3) + _digits(rng, 11)
    number = body + _clabe_check(body)
    style = rng.randrange(3)
    if style == 1:
        return f"{number[:3]} {number[3:6]} {number[6:17]} {number[17]}"
    if style == 2:
        return " ".join(number[i : i + 4] for i in range(0, 18, 4))
    return number


def clabes(rng: random.Random, count: int) -> Iterator[Case]:
    for n in range(count):
        value = _clabe(rng)
        sentence = CLABE_SENTENCES[n % len(CLABE_SENTENCES)]
        yield Case(sentence.format(v=value), "iban", value, "iban/MX-clabe")
        yield Case(sentence.format(v=_bump(value)), None, _bump(value), "lookalike/iban")


NEGATIVE_FAMILIES: dict[str, tuple[Callable[[random.Random], str], tuple[str, ...]]] = {
    "postal_code": (
        lambda rng: f"{rng.randint(1000, 99999):05d}-{_digits(rng, 3)}",
        (
            "Rua Augusta, {n}, apto 12, São Paulo - SP, {v}",
            "meu CEP é {v}",
            "entregar na Av. Brasil {n}, Rio de Janeiro - RJ, CEP {v}",
            "o frete para {v} ficou caro",
        ),
    ),
    "postal_code_digits": (
        lambda rng: f"{rng.randint(1000, 99999):05d}{_digits(rng, 3)}",
        ("CEP {v}", "CEP: {v}, Belo Horizonte", "meu CEP é {v}"),
    ),
    "statute": (
        lambda rng: f"{rng.randint(1, 14)}.{_digits(rng, 3)}/{rng.randint(1990, 2025)}",
        (
            "de acordo com a Lei {v}",
            "conforme o Decreto {v}, art. 5º",
            "Lei Geral de Proteção de Dados (Lei nº {v})",
            "o prazo de 7 dias do CDC ({v})",
        ),
    ),
}


def negatives(rng: random.Random, per_family: int) -> Iterator[Case]:
    for family, (make, sentences) in NEGATIVE_FAMILIES.items():
        for n in range(per_family):
            value = make(rng)
            text = sentences[n % len(sentences)].format(v=value, n=rng.randint(10, 2999))
            yield Case(text, None, value, family)


def mx_br_set(seed: int = 12, scale: int = 1) -> list[Case]:
    """About 200 cases at ``scale`` 1, the same for the same seed."""
    rng = random.Random(f"mx-br-{seed}")
    return [*rfcs(rng, 30 * scale), *clabes(rng, 30 * scale), *negatives(rng, 40 * scale)]
