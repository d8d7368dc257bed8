"""The conversations of ``bench.topic_change``: a customer's earlier question(s), then a short message.

Written for the benchmark from the outside (2026-12-06), as customers of the demo shop (Northwind
Goods, ``data/policies``) and of Basecamp (``../shared/eval/raw/basecamp_policies``) would write,
before the topic-change rule was fitted (the bare-word follow-ups marked below were added after its
first run). ``*_FOLLOW_UPS``: the short message continues the earlier question — the right document
is the earlier question's ("and in blue?", "In the UK?", "¿y a Canarias?", "还有呢?").
``*_TOPIC_CHANGES``: one or two words on another subject ("garantia?", "Rückerstattung?", "退款?") —
the right document is the new subject's.

A case is ``(earlier questions, message, language of the conversation, right documents)``; a right
document is named by a doc_id's first path part or file stem ("shipping": en/shipping.md,
es/shipping.md; "refund": refund/index.md, refund/hey/index.md) or by an FAQ row's tag.
"""

from __future__ import annotations

Case = tuple[tuple[str, ...], str, str, tuple[str, ...]]

SHOP_FOLLOW_UPS: tuple[Case, ...] = (
    (("How long does delivery to Porto take?",), "and express?", "en", ("shipping",)),
    (("Can I exchange a jacket for a different size?",), "and in blue?", "en", ("exchanges",)),
    (
        ("Can I exchange the NW-JKT-220 jacket for another size?", "and for the XL one?"),
        "and in blue?",
        "en",
        ("exchanges",),
    ),
    (("Can I exchange the jacket I bought last week?",), "what about the XL one?", "en", ("exchanges",)),
    (("How much does a return label cost?",), "and for Spain?", "en", ("returns", "return-label")),
    (("¿Cuánto tarda el envío a Madrid?",), "¿y a Canarias?", "es", ("shipping",)),
    (("退款需要多长时间？",), "还有呢?", "zh", ("refunds",)),
    (("Wie lange dauert der Versand nach Österreich?",), "und die Kosten?", "de", ("shipping",)),
    (("How long do I have to return an item?",), "In the UK?", "en", ("returns", "return-window")),
    (("What are the opening hours of your Leipzig store?",), "on Sundays?", "en", ("store-hours",)),
    (("Quanto tempo demora a entrega em Portugal?",), "e para os Açores?", "pt", ("shipping",)),
    # Added after the first run: bare words (no continuation, no preposition), the follow-ups the
    # rule decides on by both searches.
    (("How long does standard delivery to Austria take?",), "express?", "en", ("shipping",)),
    (("Can I pay for my order in instalments?",), "Klarna?", "en", ("payments",)),
    (("How long does a refund take?",), "PayPal?", "en", ("refunds",)),
    (("Can I exchange my jacket for another size?",), "XL?", "en", ("exchanges",)),
)
SHOP_TOPIC_CHANGES: tuple[Case, ...] = (
    (("How long does delivery to Porto take?",), "garantia?", "en", ("warranty",)),
    (("How long does delivery to Porto take?", "and express?"), "opening hours", "en", ("store-hours",)),
    (("How much does a return label cost?",), "invoice?", "en", ("invoices-vat",)),
    (("Can I cancel my order?",), "gift cards", "en", ("gift-cards",)),
    (("¿Cuánto tarda el reembolso?",), "¿garantía?", "es", ("warranty",)),
    (("Wie lange dauert der Versand?",), "Rückerstattung?", "de", ("refunds",)),
    (("Combien coûte la livraison ?",), "remboursement ?", "fr", ("refunds",)),
    (("运费多少？",), "保修?", "zh", ("warranty",)),
    (("What payment methods do you accept?",), "password reset", "en", ("account-login",)),
    (("Posso devolver um produto usado?",), "fatura?", "pt", ("invoices-vat",)),
)
BASECAMP_FOLLOW_UPS: tuple[Case, ...] = (
    (("Do you charge sales tax in Texas?",), "and in the EU?", "en", ("taxes",)),
    (("Can I get a refund if I forgot to cancel?",), "what about HEY?", "en", ("refund",)),
    (("What uptime do you guarantee for Basecamp?",), "and if it drops?", "en", ("sla",)),
    (("¿Cómo cancelo mi cuenta de Basecamp?",), "¿y mis datos?", "es", ("cancellation",)),
    (("Welche Daten sammelt ihr über mich?",), "und die Subunternehmer?", "de", ("privacy",)),
    (("如何取消我的账户？",), "还有呢?", "zh", ("cancellation",)),
    (("Que se passe-t-il avec mon compte si je meurs ?",), "et pour HEY ?", "fr", ("incapacitated",)),
    (
        ("Who owns the Basecamp account, me or my company?",),
        "HEY accounts?",
        "en",
        ("ownership-bc3", "ownership-hey"),
    ),
    (("Como denuncio um conteúdo abusivo?",), "e depois?", "pt", ("abuse",)),
    (("How do I report a security vulnerability?",), "bug bounty?", "en", ("security",)),
    # Added after the first run, as for the shop.
    (("Can I get a refund for Basecamp if I forgot to cancel?",), "HEY?", "en", ("refund",)),
    (("Do you charge sales tax in Texas?",), "Canada?", "en", ("taxes",)),
    (("What happens to my data after I cancel?",), "Basecamp 2?", "en", ("cancellation",)),
    (("What uptime do you guarantee for Basecamp?",), "Basecamp Big?", "en", ("sla",)),
)
BASECAMP_TOPIC_CHANGES: tuple[Case, ...] = (
    (("What uptime do you guarantee for Basecamp?",), "refund?", "en", ("refund",)),
    (("Do you charge VAT in Germany?",), "privacy", "en", ("privacy",)),
    (("¿Puedo obtener un reembolso?",), "¿impuestos?", "es", ("taxes",)),
    (("Wie kündige ich mein Konto?",), "Urheberrecht?", "de", ("copyright",)),
    (("Comment annuler mon abonnement ?",), "droits d'auteur", "fr", ("copyright",)),
    (("Quelle est votre politique de remboursement ?",), "sécurité ?", "fr", ("security",)),
    (("你们收销售税吗？",), "退款?", "zh", ("refund",)),
    (("Como cancelo minha conta?",), "privacidade?", "pt", ("privacy",)),
    (("Can I get a refund for last month?",), "DMCA notice", "en", ("copyright",)),
    (("Do you charge sales tax in Texas?", "and in the EU?"), "uptime guarantee", "en", ("sla",)),
)
