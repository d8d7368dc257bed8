"""The company's own contact data: what the redactor finds but must leave as it is.

A phone number, e-mail address or IBAN that the knowledge base's own documents publish (the
roadside-assistance line, the support address, the account on the invoice page) is the company's,
not a customer's: an agent who types it, or a reply that quotes it, shows it as it is. Each value is
compared by a normalised *key*, so the same number written another way is the same value:

- ``phone:+48123004050`` — E.164 (``phonenumbers``). A national number (no ``+``) counts in every
  region of ``PRIVACY_PHONE_REGIONS`` where it is a valid number (a possible one when it is valid
  nowhere); in a document, only in its language's countries when it is valid there ("12 300 40 50"
  in a Polish page is +48 12 300 40 50, not also a Paris or Tokyo number);
- ``email:pomoc@firma.pl`` — lower-cased;
- ``iban:PL61109010140000071219812874`` — compact, upper-cased (a Mexican CLABE, the account
  number Mexican banks give instead of an IBAN, too: ``iban:032180000118359719``).

The scan also lists how the documents say customers reach the company (``reachable``, read by
``KbMeta.reachable_at``: what ``faqstream ingest`` suggests for ``HANDOFF_CONTACT``): the e-mail
addresses, the phone numbers written with their country code (E.164), and those written without it
as written (``0800 44 33 22``): no country is guessed for the suggestion, whatever readings the keys
hold (a trial's Swiss free-phone number on a French page was suggested as ``+33 800 44 33 22``).

Where the keys come from (``AllowedContacts``):

- the knowledge base — ``KbContactScan`` runs at ingest over every chunk's text, title and
  headings (documents only: never a conversation) and the keys are stored in the knowledge base's
  metadata with its version (``KbMeta.contacts``); the service loads them when the version changes.
  Only phones, e-mails and IBANs: a payment card or a national ID in a document identifies a person
  (or is a sample), so it stays redacted;
- the settings — ``PRIVACY_ALLOW`` (extra values, any kind) and ``HANDOFF_CONTACT`` (the company's
  contact the service writes into replies).

A customer who writes one of these values (their own number that equals the company's) sees it
kept: the value is public already.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import phonenumbers
from stdnum import iban

from knowledge.schema import KbMeta
from service.privacy.phones import DEFAULT_REGIONS
from service.privacy.pii import PiiKind, find_pii

log = logging.getLogger(__name__)

# What the keys mean; a stored scan of another method is redone at ingest. 2: law numbers and
# postal codes ("Lei 13.709/2018", "CEP 01310-100") are no phones, Mexican CLABEs are bank accounts.
# 3: the contacts as written (``reachable``).
METHOD = "contacts-3"
KB_KINDS: frozenset[str] = frozenset({"phone", "email", "iban"})  # collected from the documents
# The countries whose national numbers a document in a language most likely gives.
LANGUAGE_REGIONS: dict[str, tuple[str, ...]] = {
    "en": ("US", "GB", "IN"), "zh": ("CN",), "es": ("ES", "MX"), "fr": ("FR",), "de": ("DE",),
    "ja": ("JP",), "pt": ("PT", "BR"), "it": ("IT",), "nl": ("NL",), "ru": ("RU",), "ko": ("KR",),
    "pl": ("PL",), "uk": ("UA",),
}  # fmt: skip
_DIGIT_RUN_RE = re.compile(r"\+?\(?\d[\d \-.\u00a0()/]{5,24}\d")


def phone_keys(
    number: str, regions: Sequence[str] = DEFAULT_REGIONS, prefer: Sequence[str] = ()
) -> frozenset[str]:
    """The E.164 forms of ``number``: with ``+`` its own; otherwise its form in each region where it
    is a valid number (where it is only a possible one when it is valid nowhere) — only those of
    the ``prefer`` regions (the language of the document it is written in) when it is valid there."""
    valid: dict[str, str] = {}
    possible: set[str] = set()
    for region in [None] if number.lstrip().startswith("+") else regions:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        e164 = "phone:" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(parsed):
            valid[e164] = phonenumbers.region_code_for_number(parsed) or ""
        elif phonenumbers.is_possible_number(parsed):
            possible.add(e164)
    preferred = {key for key, region in valid.items() if region in prefer}
    return frozenset(preferred or valid or possible)


def value_keys(
    kind: PiiKind, value: str, regions: Sequence[str] = DEFAULT_REGIONS, prefer: Sequence[str] = ()
) -> frozenset[str]:
    """The keys of one detected value (``text[match.start:match.end]``)."""
    if kind == "phone":
        return phone_keys(value, regions, prefer)
    if kind == "email":
        return frozenset({"email:" + value.lower()})
    if kind == "iban":
        return frozenset({"iban:" + iban.compact(value)})
    return frozenset({f"{kind}:" + "".join(ch for ch in value if ch.isalnum()).upper()})


def text_keys(
    text: str,
    regions: Sequence[str] = DEFAULT_REGIONS,
    kinds: Iterable[str] = KB_KINDS,
    language: str | None = None,
) -> set[str]:
    """The keys of every value of ``kinds`` the redactor finds in ``text`` (written in ``language``:
    a national number valid in that language's countries is read as theirs only)."""
    prefer = LANGUAGE_REGIONS.get(language or "", ())
    keys: set[str] = set()
    for kind, value in _values(text, regions, kinds):
        keys |= value_keys(kind, value, regions, prefer)
    return keys


def _values(text: str, regions: Sequence[str], kinds: Iterable[str]) -> Iterator[tuple[PiiKind, str]]:
    wanted = frozenset(kinds)
    for match in find_pii(text, regions):
        if match.kind in wanted:
            yield match.kind, text[match.start : match.end]


def with_country_code(number: str) -> str | None:
    """The E.164 form of a phone number written with its country code (``+41 21 612 40 40``, or
    ``0041 21 612 40 40``: the international prefix most countries dial), else None."""
    written = number.strip()
    if written.startswith("00"):
        written = "+" + written[2:]
    if not written.startswith("+"):
        return None
    keys = phone_keys(written)
    return next(iter(keys)).split(":", 1)[1] if keys else None


def reachable(emails: Iterable[str], phones: Iterable[str]) -> list[str]:
    """How documents that publish ``emails`` and the phone numbers ``phones`` (as written) say to
    reach the company: the e-mail addresses, the numbers with their country code in E.164, then
    those without it as written — once each (the same digits, or an international number's
    national form), in a stable order."""
    international: set[str] = set()
    national: dict[str, str] = {}  # digits → as first written
    for number in sorted(" ".join(p.split()) for p in phones):
        e164 = with_country_code(number)
        if e164 is not None:
            international.add(e164)
        elif not number.startswith(("+", "00")):  # else no number of the country it names
            national.setdefault("".join(ch for ch in number if ch.isdigit()), number)
    national_form = phonenumbers.PhoneNumberFormat.NATIONAL
    written_both_ways = {
        "".join(
            ch for ch in phonenumbers.format_number(phonenumbers.parse(e164), national_form) if ch.isdigit()
        )
        for e164 in international
    }
    kept = [number for digits, number in sorted(national.items()) if digits not in written_both_ways]
    return [*sorted(set(emails)), *sorted(international), *kept]


def configured_keys(value: str, regions: Sequence[str] = DEFAULT_REGIONS) -> frozenset[str]:
    """The keys of a value the operator allows (``PRIVACY_ALLOW``, ``HANDOFF_CONTACT``): whatever the
    redactor finds in it, of any kind, and each run of digits read as a phone number — in a reply the
    number may follow a word ("tel.") that makes the redactor flag what it does not flag alone."""
    keys = text_keys(value, regions, kinds=("phone", "email", "iban", "card", "national_id"))
    for run in _DIGIT_RUN_RE.finditer(value):
        keys |= phone_keys(run.group(), regions)
    return frozenset(keys)


class KbContactScan:
    """The ingest's scan of the knowledge base (``ingest.pipeline.ContactScan``): the keys of the
    phones, e-mails and IBANs in the documents' texts, as stored in ``KbMeta.contacts``."""

    def __init__(self, regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        self.regions = tuple(r.upper() for r in regions)
        self.method = f"{METHOD} {','.join(self.regions)}"

    def __call__(self, texts: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """``texts``: (language, text) of each chunk."""
        keys: set[str] = set()
        phones: set[str] = set()
        for language, text in texts:
            prefer = LANGUAGE_REGIONS.get(language, ())
            for kind, value in _values(text, self.regions, KB_KINDS):
                keys |= value_keys(kind, value, self.regions, prefer)
                if kind == "phone":
                    phones.add(value)
        emails = [key.split(":", 1)[1] for key in keys if key.startswith("email:")]
        return {"method": self.method, "keys": sorted(keys), "reachable": reachable(emails, phones)}


class AllowedContacts:
    """The keys left unredacted: the configured ones, and those of the knowledge-base version last
    loaded (``load``, called by ``DigestCache`` when the version changes; swapped whole, so a reader
    sees one version's set or the next's)."""

    def __init__(self, configured: Iterable[str] = (), regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        self.regions = tuple(r.upper() for r in regions)
        self.configured = frozenset(configured)
        self._keys = self.configured
        self.kb_version: int | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, values: Iterable[str], regions: Sequence[str] = DEFAULT_REGIONS) -> AllowedContacts:
        keys: set[str] = set()
        for value in values:
            keys |= configured_keys(value, regions)
        return cls(keys, regions)

    def load(self, meta: KbMeta) -> None:
        """The keys of a knowledge-base version (``KbMeta.contacts``; none when it holds no scan)."""
        keys = meta.contacts.get("keys") or ()
        kb = frozenset(str(k) for k in keys if str(k).split(":", 1)[0] in KB_KINDS)
        with self._lock:
            self._keys, self.kb_version = self.configured | kb, meta.version
        if not meta.contacts and meta.version > 0:
            log.warning(
                "knowledge-base version %d holds no scan of its documents' contact data (ingested "
                "before it existed): the company's own phones and e-mails are redacted in stored "
                "replies and agents' messages until `faqstream ingest` runs again",
                meta.version,
            )
        else:
            counts = ", ".join(f"{n} {kind}" for kind, n in sorted(meta.contact_counts().items()))
            log.info(
                "knowledge-base version %d: contact data left unredacted: %s", meta.version, counts or "none"
            )

    def __len__(self) -> int:
        return len(self._keys)

    def allows(self, kind: PiiKind, value: str) -> bool:
        keys = self._keys
        return bool(keys) and not keys.isdisjoint(value_keys(kind, value, self.regions))
