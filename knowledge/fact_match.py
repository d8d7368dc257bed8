"""Does a reply state a fact? (``faqstream eval answers``: a label's ``facts``, the **fact** score).

A fact is a short string the reply must contain — a phone number, an amount, a number of days, an
e-mail address — found in the reply whatever does not change it:

* case (``casefold``), and whitespace: runs of spaces and line breaks are one space, a space of
  the fact may be missing in the reply (``0800 44 33 22`` is found in ``0800443322``), and a space
  between a letter and a digit or before a percent sign is no space (``CHF 90`` is ``CHF90``,
  ``4,9 %`` is ``4,9%``, ``30 天`` is ``30天``);
* Unicode compatibility forms (NFKC): non-breaking and narrow spaces are spaces, full-width digits
  are digits, ``…`` is ``...``;
* typographic variants: ``’ ‘ ‚ ʼ ´ ′`` are ``'``, ``“ ” „ « »`` are ``"``, and the dashes and minus
  signs (``‐ ‑ ‒ – — ― −``) are ``-`` (``CHF 90.–`` is ``CHF 90.-``);
* Markdown emphasis and code: ``*``, ``_`` and backticks are dropped, from the fact too;
* how a number is written: a thousands separator — ``'``, ``’``, a space (any kind), ``.`` or ``,``
  followed by exactly three digits — is dropped (``1'000``, ``1 000``, ``1.000``, ``1,000`` and
  ``1000`` are one number), and a decimal comma is a point (``4,9`` is ``4.9``). ``1.500`` is read
  as one thousand five hundred in every language (a fact with a decimal part of three digits cannot
  be told from a thousands separator: write it without).

A number of the fact is never found as part of a longer number: ``90`` is not in ``190``,
``900``, ``0.90``, ``90.5`` or ``1'090``, though it is in ``CHF 90.–``, ``90.00`` and ``90%``
(``4.9`` is in ``4.90``: zeros after a decimal part change no number). Letters are
matched as written, also inside a longer word (``Rate`` is in ``Ratenzahlung``): choose facts that
are numbers, amounts and addresses, which read the same in every language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

_TYPOGRAPHY = str.maketrans(
    {
        **dict.fromkeys("’‘‚ʼ´′", "'"),
        **dict.fromkeys("“”„‟«»″", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),  # the dashes and the minus sign
        **dict.fromkeys("*_`", ""),  # Markdown emphasis and code
    }
)
_THOUSANDS = re.compile(r"(?<=\d)[' .,](?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")
# a space between a letter and a digit, or before a percent sign: CHF 90 is CHF90, 4,9 % is 4,9%
_LOOSE_SPACE = re.compile(r"(?<=[^\W\d_]) (?=\d)|(?<=\d) (?=[^\W\d_])| (?=[%‰])")


def canonical(text: str) -> str:
    """``text`` as facts are compared: the module docstring's rules, in this order."""
    text = " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_TYPOGRAPHY).split())
    text = _THOUSANDS.sub("", text)
    return _LOOSE_SPACE.sub("", _DECIMAL_COMMA.sub(".", text))


@lru_cache(maxsize=1024)
def fact_pattern(fact: str) -> re.Pattern[str]:
    """The pattern that finds ``fact`` in a ``canonical`` text: its spaces optional, its numbers
    whole and with any zeros a decimal part may end in (``90`` is ``90.00``, ``4.9`` is ``4.90``).
    A fact that is empty once canonical is a ``ValueError``."""
    wanted = canonical(fact)
    if not wanted:
        raise ValueError(f"the fact {fact!r} has nothing to look for")
    body = ""
    for piece in _NUMBER.split(wanted):
        if _NUMBER.fullmatch(piece):
            body += re.escape(piece) + ("0*" if "." in piece else r"(?:\.0+)?")
        elif piece:
            body += " ?".join(re.escape(word) for word in piece.split(" "))
    before = r"(?<!\d)(?<!\d\.)" if wanted[0].isdigit() else ""
    after = r"(?!\.?\d)" if wanted[-1].isdigit() else ""
    return re.compile(before + body + after)


def states(reply: str, fact: str) -> bool:
    """``reply`` contains ``fact`` (the module docstring)."""
    return fact_pattern(fact).search(canonical(reply)) is not None


def missing_facts(reply: str, facts: Sequence[str]) -> list[str]:
    """The facts ``reply`` does not state, in their order."""
    text = canonical(reply)
    return [fact for fact in facts if fact_pattern(fact).search(text) is None]
