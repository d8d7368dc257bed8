"""The words around a number: is it a reference the customer quotes (an order, an invoice, a
parcel), or does a word name it as personal data (a phone, an ID)?

A number right after "order", "invoice", "#", "订单", "pedido", "commande", "Bestellung"… is what
customers paste to get help with a purchase; one right after a postal-code or law word ("CEP
01310-100", "Lei 13.709/2018", "Art. 49", "C.P.") is an address's or a statute's number: phone and
ID detections there are dropped (cards, IBANs, e-mails and ``+`` numbers are not:
``service.privacy.pii``). Weak national IDs (a bare 9-digit number with a mod-11 check, which order
numbers pass often) are flagged only right after a word that names them ("SSN", "BSN", "CPF",
"マイナンバー"…).
"""

from __future__ import annotations

import re

REFERENCE_WORDS = (
    r"order|purchase|invoice|bill|receipt|tracking|shipment|parcel|package|ticket|case|"
    r"reference|ref|sku|item|article|product|model|serial|confirmation|booking|reservation|"
    r"pedido|orden|compra|factura|recibo|env[ií]o|seguimiento|referencia|"
    r"commande|facture|colis|suivi|r[ée]f[ée]rence|"
    r"bestellung|bestellnummer|rechnung|auftrag|sendung|paket|artikel|"
    r"ordine|fattura|spedizione|"
    r"encomenda|fatura|"
    r"bestelling|factuur|zending|zamówienie|faktura|przesyłka|заказ|счет|счёт|посылка|"
    r"замовлен|рахун|посилк|квитанці|бронюван|"
    r"订单|单号|订单号|发票|快递|运单|物流|货号|编号|注文|伝票|주문|송장"
)
PHONE_WORDS = (
    r"phone|telephone|tel|mobile|cell|cellphone|whatsapp|whats|call me|text me|ring me|reach me|"
    r"sms|fax|"
    r"tel[ée]fono|m[óo]vil|celular|cel|celu|wasap|tel[ée]phone|portable|num[ée]ro de t[ée]l[ée]phone|"
    # asking to be called ("llámenme al 55…", "me liga no 11…", "te llamo al…"): the number after
    # is a phone, whatever order word came before it (a trial: "Mi pedido no llegó, llámenme al …")
    r"ll[áa]m(?:a|e|o|an|en|ame|eme|enme|adme|ar)|m[áa]rcame|"
    r"lig(?:a|ue|uem|ar|o)|me liga|"
    r"appelez-moi|rappelez-moi|appelle-moi|rappelle-moi|joignable|"
    r"rufen sie mich|ruf mich|erreichbar|"
    r"chiamami|chiamatemi|richiamami|richiamatemi|"
    r"bel me|bel mij|bereikbaar|"
    r"telefon|handy|rufnummer|telefonnummer|mobilnummer|telefono|cellulare|telefoon|mobiel|"
    r"telefone|telem[óo]vel|"
    r"телефон|телефона|"
    r"电话|手机|手机号|联系电话|電話|携帯|전화|핸드폰"
)
ID_WORDS = (
    r"ssn|social security(?: number)?|social insurance(?: number)?|bsn|burgerservicenummer|"
    r"cpf|pesel|nif|contribuinte|steuer-?id|steueridentifikationsnummer|identifikationsnummer|"
    r"aadhaar|nhs(?: number)?|id number|identity number|national id|personnummer|"
    r"dni|ausweis|codice fiscale|insee|rfc|curp|"
    r"passport|pasaporte|passeport|passaporto|passaporte|reisepass|paspoort|paszport|паспорт|"
    r"护照|パスポート|여권|"
    r"身份证|身份证号|マイナンバー|個人番号|주민등록번호"
)
CARD_WORDS = (
    r"card|credit|debit|visa|mastercard|amex|tarjeta|carte|karte|kreditkarte|carta|卡号|银行卡|信用卡|"
    r"iban|clabe"
)
# Words that name the number *right after them* as a postal code or a statute, not personal data
# (Brazil's CEP, Mexico's C.P., laws and decrees: "Lei 13.709/2018" is a valid Polish phone number).
# Only right before the number: "lei" is also Italian for "you" ("Lei può chiamarmi al …").
NOT_PERSONAL_WORDS = (
    r"cep|c[óo]digo postal|c\.\s?p\.|zip(?: code)?|postcode|postal code|"
    r"lei|ley|decreto|decree|arts?\.|artigo|art[íi]culo|§"
)

# Latin words must start and end at a word boundary ("tel" is not in "hotel"); plurals count, and
# so do compounds with a number word ("Sendungsnummer", "ordernummer", "order-nr", "ref no.").
_NUMBER_SUFFIX = r"(?:s?-?(?:nummer|nr\.?|number|no\.?|id|code))?"
_REFERENCE_RE = re.compile(
    rf"(?<![A-Za-z])(?:{REFERENCE_WORDS})(?:e?s)?{_NUMBER_SUFFIX}(?![A-Za-z])|"
    rf"(?<![A-Za-z])(?:{NOT_PERSONAL_WORDS})(?: n[°º.])?(?: é| es| is)?:?\s?$",
    re.IGNORECASE,
)
# A bare number sign right before the number ("#48213", "nº 48213", "no. 48213") marks a reference
# unless a word naming personal data comes before it: "phone no. 06 12345678", "SSN no. …" and
# "passport nº …" are that data's numbers.
_MARKER_RE = re.compile(r"(?:#|n[°º]|no\.)\s?$", re.IGNORECASE)
_PII_WORD_RE = re.compile(
    rf"(?<![A-Za-z])(?:{PHONE_WORDS}|{ID_WORDS}|{CARD_WORDS})(?:e?s)?(?![A-Za-z])", re.IGNORECASE
)
_ID_WORD_RE = re.compile(rf"(?<![A-Za-z])(?:{ID_WORDS})(?![A-Za-z])", re.IGNORECASE)
WINDOW = 40  # characters before a number searched for a word


_LAST_DIGIT_RE = re.compile(r".*\d", re.DOTALL)


def _window(text: str, start: int) -> str:
    """The words before ``start`` that may name the number there: up to ``WINDOW`` characters, and
    none before an earlier number ("pedido 48213, telefone …": "pedido" names 48213, not the phone;
    "CPF 123.456.789-09 e telefone …": "CPF" names the CPF)."""
    window = text[max(0, start - WINDOW) : start]
    earlier = _LAST_DIGIT_RE.match(window)
    return window[earlier.end() :] if earlier else window


def is_reference(text: str, start: int) -> bool:
    """True when the nearest keyword before ``start`` marks the number as an order/ticket reference
    (or, right before it, as a postal code or a statute's number)."""
    window = _window(text, start)
    pii = [m.end() for m in _PII_WORD_RE.finditer(window)]
    ref = _reference_ends(window, named=bool(pii))
    if not ref:
        return False
    return not pii or max(ref) > max(pii)


def _reference_ends(window: str, named: bool) -> list[int]:
    """Where the reference words of ``window`` end; a bare number sign at its end counts unless a
    word naming personal data (``named``) comes before it."""
    ends = [m.end() for m in _REFERENCE_RE.finditer(window)]
    marker = _MARKER_RE.search(window)
    if marker is not None and not named:
        ends.append(marker.end())
    return ends


def id_word(text: str, start: int) -> str | None:
    """The word naming an identity number right before ``start`` (lower case), unless a reference
    word comes after it; None when there is none."""
    window = _window(text, start)
    named = list(_ID_WORD_RE.finditer(window))
    if not named:
        return None
    ref = _reference_ends(window, named=True)
    if ref and max(ref) > named[-1].end():
        return None
    return named[-1].group().lower()
