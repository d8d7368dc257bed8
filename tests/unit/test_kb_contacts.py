"""The company's own contact data is left unredacted (``service.privacy.contacts``): the values its
documents publish (scanned at ingest), ``PRIVACY_ALLOW`` and ``HANDOFF_CONTACT`` — compared
normalised, while every other value the redactor finds is still redacted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from knowledge.schema import KbMeta
from service.privacy.contacts import KbContactScan, configured_keys, phone_keys
from service.privacy.redaction import Redaction
from service.privacy.settings import PrivacySettings

CONTACT_PAGE = (
    "Pomoc drogowa 24/7: +48 12 300 40 50. Biuro: biuro@AutoNajem.example, tel. 22 555 01 23. "
    "Przelew na konto PL61 1090 1014 0000 0712 1981 2874. Karta testowa 4111 1111 1111 1111."
)


def scanned(*texts: str) -> Redaction:
    meta = KbMeta(version=3, contacts=KbContactScan()(("pl", t) for t in texts))
    redaction = Redaction()
    redaction.allowed.load(meta)
    return redaction


def test_the_scan_keeps_phones_emails_and_ibans_normalised_and_no_card() -> None:
    keys = KbContactScan()([("pl", CONTACT_PAGE)])["keys"]
    assert "phone:+48123004050" in keys and "phone:+48225550123" in keys
    assert "email:biuro@autonajem.example" in keys
    assert "iban:PL61109010140000071219812874" in keys
    assert not [k for k in keys if k.startswith(("card:", "national_id:"))]


def test_the_companys_number_is_kept_however_it_is_written_and_the_customers_is_not() -> None:
    redaction = scanned(CONTACT_PAGE)
    agent = "Proszę dzwonić na pomoc drogową 12 300 40 50 lub +48 12-300-40-50, mail BIURO@autonajem.example."
    assert redaction.text(agent) == agent
    customer = (
        "Mój numer to +48 601 234 567, mail jan.kowalski@example.pl, konto PL27 1140 2004 0000 3002 0135 5387"
    )
    assert redaction.text(customer) == "Mój numer to [phone], mail [email], konto [iban]"
    # a card that a document shows (a sample) is not the company's contact: still redacted
    assert redaction.text("karta 4111 1111 1111 1111") == "karta [card]"
    assert Redaction().text(agent).count("[phone]") == 2  # without the scan, all of it


def test_a_new_version_replaces_the_previous_ones_values() -> None:
    redaction = scanned(CONTACT_PAGE)
    redaction.allowed.load(
        KbMeta(version=4, contacts=KbContactScan()([("pl", "Nowy numer: +48 12 399 00 11.")]))
    )
    assert redaction.text("+48 12 300 40 50 / +48 12 399 00 11") == "[phone] / +48 12 399 00 11"
    assert redaction.allowed.kb_version == 4


def test_stored_keys_of_other_kinds_are_never_allowed() -> None:
    """Only phones, e-mails and IBANs come from the knowledge base, whatever its metadata says."""
    redaction = Redaction()
    redaction.allowed.load(KbMeta(version=2, contacts={"method": "x", "keys": ["card:4111111111111111"]}))
    assert redaction.text("4111 1111 1111 1111") == "[card]"


def test_configured_values_and_handoff_contact_are_one_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVACY_ALLOW", '["+48 12 300 40 50", "Faktury@AutoNajem.example"]')
    redaction = Redaction.from_settings(PrivacySettings(), ["pomoc@autonajem.example lub 0800 100 200"])
    reply = "faktury@autonajem.example, 0048 12 300 40 50, pomoc@autonajem.example, tel. 0800 100 200"
    assert redaction.text(reply) == reply
    assert redaction.text("mój: anna@example.pl") == "mój: [email]"
    redaction.allowed.load(KbMeta(version=5))  # a version without a scan keeps the configured values
    assert redaction.text(reply) == reply


def test_a_configured_value_that_is_no_contact_data_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRIVACY_ALLOW", '["roadside assistance"]')
    with pytest.raises(ValidationError, match="no phone number, e-mail address or IBAN"):
        PrivacySettings()


def test_a_national_number_in_a_document_is_read_in_its_languages_countries() -> None:
    """A Polish page's "12 300 40 50" is the Kraków number, not also a Paris one: a French
    customer's 01 23 00 40 50 stays redacted."""
    assert "phone:+33123004050" in phone_keys("12 300 40 50")  # valid in several countries
    assert phone_keys("12 300 40 50", prefer=("PL",)) == {"phone:+48123004050"}
    assert scanned("Infolinia: 12 300 40 50").text("mój numer 01 23 00 40 50") == "mój numer [phone]"
    assert phone_keys("+48 12 300 40 50", ("US",)) == {"phone:+48123004050"}
    assert configured_keys("hello") == frozenset()


def test_phone_regions_in_lower_case_read_the_allowed_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """``PRIVACY_PHONE_REGIONS=["pl"]`` is Poland for the allow-list as for the redactor: a national
    number in ``PRIVACY_ALLOW`` or ``HANDOFF_CONTACT`` is the company's, not a configuration error."""
    monkeypatch.setenv("PRIVACY_PHONE_REGIONS", '["pl"]')
    monkeypatch.setenv("PRIVACY_ALLOW", '["12 300 40 50"]')
    settings = PrivacySettings()
    assert settings.phone_regions == ("PL",)
    redaction = Redaction.from_settings(settings, ["tel. 22 555 01 23"])
    reply = "Pomoc drogowa: 12 300 40 50, biuro: tel. 22 555 01 23."
    assert redaction.text(reply) == reply
    assert redaction.text("mój numer 601 234 567") == "mój numer [phone]"


def test_a_ukrainian_pages_national_number_is_ukraines_only() -> None:
    """Ukrainian is a default language: with UA among the phone regions, a Ukrainian page's
    "044 123 45 67" is the Kyiv number, not also a French, German, Japanese or Korean one."""
    scan = KbContactScan(("FR", "DE", "JP", "KR", "RU", "PL", "UA"))
    assert scan([("uk", "Гаряча лінія: 044 123 45 67")])["keys"] == ["phone:+380441234567"]


def test_a_law_number_and_a_postal_code_in_a_document_are_no_contact_phones() -> None:
    """A trial's shop counted "Lei 13.709/2018" (a valid Polish, French, Dutch and Japanese number)
    among its '7 phone' contacts where its pages publish 3; the CEP of its address is no phone
    either. A CLABE the company publishes is kept like its IBAN would be."""
    contact = (
        "WhatsApp: +52 55 4170 2288. Teléfono: 800 226 8373 (sin costo). "
        "Depósitos: CLABE 6461 8011 0400 0000 07."
    )
    privacy = (
        "Tratamos seus dados de acordo com a Lei Geral de Proteção de Dados (Lei 13.709/2018). "
        "Av. Paulista, 1000 - Bela Vista, São Paulo - SP, CEP 01310-100. WhatsApp: +55 11 97654-3210."
    )
    keys = KbContactScan()([("es", contact), ("pt", privacy)])["keys"]
    assert keys == [
        "iban:646180110400000007",
        "phone:+525541702288",
        "phone:+528002268373",
        "phone:+5511976543210",
    ]
    redaction = scanned(contact)
    assert redaction.text("transfiera a 646180110400000007") == "transfiera a 646180110400000007"
    assert redaction.text("mi CLABE 032180000118359719") == "mi CLABE [iban]"


def test_the_ingest_hint_names_both_kinds_of_contact_the_documents_publish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four e-mail addresses "and 2 more" hid that the two were the phone numbers (a trial)."""
    from faqstream.ingesting import contact_note

    monkeypatch.delenv("HANDOFF_CONTACT", raising=False)
    monkeypatch.delenv("HANDOFF_WEBHOOK_URL", raising=False)
    emails = [f"{name}@sprinto.example" for name in ("help", "billing", "privacy", "fleet")]
    (line,) = contact_note([*emails, "+390212345678", "+48221234567"])
    assert "help@sprinto.example, billing@sprinto.example, +39 02 1234 5678, +48 22 123 45 67" in line
    assert "(and 2 more)" in line
    (only_emails,) = contact_note(emails[:2])
    assert "help@sprinto.example, billing@sprinto.example:" in only_emails and "more" not in only_emails
    # a number written without its country code: as written, never given a country (a trial:
    # "0800 123 4567" came out as "+31 800 1234567")
    (line,) = contact_note([*emails[:2], "+390212345678", "0800 123 4567"])
    assert "+39 02 1234 5678, 0800 123 4567 (no country code):" in line and "more" not in line


URGENCES = (  # a Lausanne clinic's French page (a trial): CH is no default phone region
    "À Lausanne : +41 21 612 40 40. Notre ligne d'urgence 0800 44 33 22 (gratuite) est ouverte le "
    "soir. En dehors de ces horaires, appelez la Centrale des médecins de garde au 0848 133 133."
)


def test_the_documents_contacts_are_listed_as_written_no_country_guessed() -> None:
    """A trial's Swiss free-phone number "0800 44 33 22" on a French page was suggested as
    "+33 800 44 33 22", and the Vaud "0848 133 133" listed as +31848133133 and +81848133133: the
    keys keep every reading (a customer who writes it sees it kept), ``reachable`` none of them."""
    sedi = "Lugano: Telefono +41 91 922 70 70, oppure 0041 44 210 55 00. Scriveteci: Info@Zahnwerk.example"
    scan = KbContactScan()([("fr", URGENCES), ("it", sedi), ("de", "Zürich: 044 210 55 00, 0800 443 322")])
    assert {"phone:+33800443322", "phone:+31848133133", "phone:+81848133133"} <= set(scan["keys"])
    assert scan["reachable"] == [
        "info@zahnwerk.example",
        "+41216124040",
        "+41442105500",  # written "0041 44 210 55 00" too, and "044 210 55 00": that same number
        "+41919227070",
        "0800 44 33 22",  # and "0800 443 322": the same digits, once
        "0848 133 133",
    ]
    meta = KbMeta(version=2, contacts=scan)
    assert meta.reachable_at() == scan["reachable"]
    assert scanned(URGENCES).text("urgence: 0800 44 33 22") == "urgence: 0800 44 33 22"
    # a scan from before ``reachable``: its phone keys are readings, not what the documents write
    older = KbMeta(
        version=1, contacts={"method": "contacts-2", "keys": ["email:a@b.example", "phone:+33800443322"]}
    )
    assert older.reachable_at() == ["a@b.example"]


def test_the_ingest_hint_suggests_no_international_form_a_document_did_not_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from faqstream.ingesting import contact_note

    monkeypatch.delenv("HANDOFF_CONTACT", raising=False)
    monkeypatch.delenv("HANDOFF_WEBHOOK_URL", raising=False)
    (line,) = contact_note(KbContactScan()([("fr", URGENCES)])["reachable"])
    assert (
        "publish +41 21 612 40 40, 0800 44 33 22 (no country code), 0848 133 133 (no country code):" in line
    )
    assert "+33" not in line and "+31" not in line and "+81" not in line
