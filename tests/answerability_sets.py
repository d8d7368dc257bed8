"""Held-out questions for the relevance calibration, and a small knowledge base written as an
outsider would (a gym's membership rules), for tests and ``bench/answerability.py``.

None of these questions is among the calibration's own probes (``knowledge.answerability_probes``,
or the FAQ questions of a corpus): answerable ones are customer paraphrases, unanswerable ones are
other off-topic and uncovered questions. Written for faqstream; not taken from any data set.

An answerable question lists what counts as the right passage: a document id, a folder of
document ids ("refund" matches "refund/index.md" and "refund/hey/index.md"), a document's stem
("returns" matches "en/returns.md" and "de/returns.md"), or a FAQ tag.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from knowledge.schema import SearchHit


@dataclass(frozen=True)
class Answerable:
    question: str
    right: tuple[str, ...]
    language: str = "en"

    def is_right(self, hit: SearchHit) -> bool:
        doc = hit.payload.doc_id.split("#", 1)[0]
        stem = PurePosixPath(doc).stem
        return any(
            doc == key or doc.startswith(key + "/") or stem == key or key in hit.payload.tags
            for key in self.right
        )


@dataclass(frozen=True)
class Unanswerable:
    question: str
    language: str = "en"


# ---------------------------------------------------------------- a gym, written as an outsider

GYM_FILES = {
    "membership.md": """# Membership at Harbourside Fitness

## Plans and prices

We offer three plans. Flex costs 39 EUR a month and can be cancelled monthly. Commit costs 29 EUR a
month with a minimum term of 12 months. Student costs 22 EUR a month with a valid student card,
checked once a year at the front desk. The joining fee is 25 EUR and is waived for Commit plans.

## Cancelling your membership

Flex members cancel with one month's notice to the end of a calendar month, in the member app or
at the front desk. Commit members can cancel at the end of the minimum term with one month's
notice; after that the plan continues monthly. Moving more than 30 km away or a medical condition
that stops you training (with a doctor's note) lets you leave a Commit plan early without a fee.

## Pausing (freezing) your membership

You can freeze your membership for 1 to 3 months once per calendar year. A freeze costs 5 EUR a
month and must be requested before the first day of the month you want to pause. Pregnancy and
medical freezes are free with a note from your doctor or midwife.

## Payment

Fees are collected by SEPA direct debit on the first working day of each month. If a debit bounces
we try again after 7 days and charge a 6 EUR return fee; after two failed debits your access card
is blocked until the balance is paid.
""",
    "house-rules.md": """# House rules

## Access and opening hours

The gym is open Monday to Friday 6:00 to 23:00 and weekends 8:00 to 20:00. Members enter with
their access card or the QR code in the member app. Members must be 16 or older; 14 and 15 year
olds may train with a parent who is a member.

## Guests

Each member may bring one guest per month for free. Guests sign a health waiver at the front desk
and must be accompanied by the member the whole time.

## Towels, lockers and hygiene

Bring a towel and use it on every machine. Lockers are free during your visit; bring your own
padlock. Lockers left locked overnight are emptied and the contents are kept at the front desk for
14 days. Please wipe down equipment after use and re-rack your weights.
""",
    "classes.md": """# Group classes

## Booking a class

Classes such as spinning, yoga, HIIT and pilates are included in every plan. Book a place in the
member app up to 7 days in advance. Each member can hold up to 5 bookings at a time.

## Cancelling a booking and no-shows

Cancel at least 2 hours before the class starts to free your place for someone else. If you do not
show up without cancelling, you cannot book classes for the next 3 days.

## Personal training

Personal training sessions cost 45 EUR for 60 minutes or 200 EUR for a pack of 5. Sessions are
booked directly with the trainer and must be cancelled 24 hours in advance, otherwise they are
charged.
""",
}

GYM_FAQ = [
    ("Can I bring a friend?", "Yes, one guest per month for free; they sign a health waiver at the desk."),
    ("Do I need to bring a padlock?", "Yes, lockers are free but you bring your own padlock."),
    ("Is there a joining fee?", "25 EUR, waived for the 12-month Commit plan."),
]


def write_gym(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in GYM_FILES.items():
        (root / name).write_text(text, encoding="utf-8")
    with open(root / "faq.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "answer"])
        writer.writerows(GYM_FAQ)
    return root


GYM_ANSWERABLE = [
    Answerable("How much is the monthly fee if I want to be able to quit any month?", ("membership",)),
    Answerable("I'm moving to another city, can I get out of my 12-month contract?", ("membership",)),
    Answerable("Can I put my membership on hold while I travel for two months?", ("membership",)),
    Answerable("What happens if my direct debit fails?", ("membership",)),
    Answerable("Is there a discount for students?", ("membership",)),
    Answerable("What time do you open on Sundays?", ("house-rules",)),
    Answerable("My 15-year-old son wants to work out, is he allowed?", ("house-rules",)),
    Answerable("What happens to stuff I leave in a locker overnight?", ("house-rules",)),
    Answerable("How far ahead can I reserve a spot in a yoga class?", ("classes",)),
    Answerable("What if I miss a spinning class I booked?", ("classes",)),
    Answerable("How much does a personal trainer cost?", ("classes",)),
    Answerable("Can I take a friend along to train with me?", ("house-rules", "faq")),
    Answerable("¿Cuánto cuesta la cuota mensual?", ("membership",), "es"),
    Answerable("Kann ich meine Mitgliedschaft pausieren?", ("membership",), "de"),
]

GYM_UNANSWERABLE = [
    Unanswerable("Do you sell protein shakes at the bar?"),
    Unanswerable("Is there a sauna or a swimming pool?"),
    Unanswerable("Can I park my car in front of the gym?"),
    Unanswerable("Who won the Champions League last year?"),
    Unanswerable("How do I bake sourdough bread?"),
    Unanswerable("¿Quién descubrió la penicilina?", "es"),
    Unanswerable("Wie backe ich einen Käsekuchen?", "de"),
    Unanswerable("熊猫吃什么？", "zh"),
]

# ---------------------------------------------------------------- questions for any corpus

UNANSWERABLE = [
    Unanswerable("What is the population of Canada?"),
    Unanswerable("How do I bake sourdough bread?"),
    Unanswerable("Who discovered penicillin?"),
    Unanswerable("Can you recommend a good science fiction novel?"),
    Unanswerable("How do you play chess?"),
    Unanswerable("Is your canteen open to visitors for lunch?"),
    Unanswerable("Do you have a choir that employees can join?"),
    Unanswerable("What breed is the dog in your office photos?"),
    Unanswerable("Wie backe ich einen Käsekuchen?", "de"),
    Unanswerable("Habt ihr einen Betriebschor?", "de"),
    Unanswerable("¿Quién descubrió la penicilina?", "es"),
    Unanswerable("¿Cuál es la montaña más alta de América?", "es"),
    Unanswerable("Quel est le plus long fleuve de France ?", "fr"),
    Unanswerable("Votre cantine est-elle ouverte aux visiteurs ?", "fr"),
    Unanswerable("熊猫吃什么？", "zh"),
    Unanswerable("你们公司的年会在哪里举办？", "zh"),
    Unanswerable("東京タワーの高さは？", "ja"),
    Unanswerable("Come si prepara il pesto?", "it"),
    Unanswerable("Qual é a montanha mais alta de Portugal?", "pt"),
]

POLICIES_ANSWERABLE = [
    Answerable("I bought a jacket three weeks ago, can I still send it back?", ("returns",)),
    Answerable("how long until the money is back on my credit card", ("refunds",)),
    Answerable("Do I pay for the return label if I live in Austria?", ("returns",)),
    Answerable("I opened the earbuds, can I still return them?", ("returns",)),
    Answerable("Can I swap a shirt for a bigger size?", ("exchanges",)),
    Answerable("What does delivery to the UK cost?", ("shipping",)),
    Answerable("My parcel hasn't moved for a week", ("shipping",)),
    Answerable("The box arrived crushed and the vase inside is broken", ("shipping", "returns", "warranty")),
    Answerable("Will I have to pay import fees in the US?", ("shipping",)),
    Answerable("I want to cancel my order before it ships", ("order-changes-cancellation", "orders")),
    Answerable("Can I get an invoice with my company's VAT number?", ("invoices-vat", "invoices")),
    Answerable("Do you take PayPal?", ("payments",)),
    Answerable("Can I split the payment into several instalments?", ("payments",)),
    Answerable("My card was charged but the order failed", ("payments",)),
    Answerable("How long is the guarantee on electronics?", ("warranty",)),
    Answerable(
        "I think my kettle is part of a recall, what should I do?", ("product-safety-notices", "recall")
    ),
    Answerable("I forgot my password", ("account-login", "account")),
    Answerable("I lost my phone and can't pass two-factor authentication", ("account-login", "account")),
    Answerable("Please delete all the personal data you hold about me", ("privacy", "account-login")),
    Answerable(
        "Will you match a cheaper price from another shop?", ("price-match-promotions", "price-match")
    ),
    Answerable("When does my gift card expire?", ("gift-cards", "price-match-promotions")),
    Answerable(
        "What time does the Leipzig showroom open on Saturday?", ("store-hours", "contact-escalation")
    ),
    Answerable("I want to file a formal complaint", ("contact-escalation", "contact")),
    Answerable("¿Cuántos días tengo para devolver un producto?", ("returns",), "es"),
    Answerable("¿Cuánto tarda en llegar un pedido a España?", ("shipping",), "es"),
    Answerable("Wie lange dauert die Rückerstattung auf mein Konto?", ("refunds",), "de"),
    Answerable("Was deckt die Garantie bei einem defekten Gerät ab?", ("warranty",), "de"),
    Answerable("Combien coûte la livraison en France ?", ("shipping",), "fr"),
    Answerable("Comment retourner un article ?", ("returns",), "fr"),
    Answerable("退款需要多长时间？", ("refunds",), "zh"),
    Answerable("收到的商品可以退货吗？", ("returns",), "zh"),
]

BASECAMP_ANSWERABLE = [
    Answerable(
        "I forgot to cancel and got charged for another month, can I get that money back?", ("refund",)
    ),
    Answerable("How do I cancel my HEY subscription?", ("cancellation",)),
    Answerable("What happens to my data after I cancel my account?", ("cancellation",)),
    Answerable("Do you close free accounts that nobody uses?", ("cancellation",)),
    Answerable("Do you charge sales tax in Texas?", ("taxes",)),
    Answerable("What uptime do you promise Basecamp Big customers?", ("sla",)),
    Answerable("What do I get if uptime drops below what the SLA promises?", ("sla",)),
    Answerable("My father passed away, how can I close his HEY account?", ("incapacitated",)),
    Answerable("Who owns a Basecamp account, me or my company?", ("ownership-bc3",)),
    Answerable("Our account owner left the company, how do we add a new owner?", ("ownership-bc3",)),
    Answerable("Is my data encrypted?", ("security",)),
    Answerable("Have you ever had a data breach?", ("security",)),
    Answerable("How do I report a security vulnerability?", ("security",)),
    Answerable("Can I use Basecamp to send bulk spam emails?", ("abuse", "terms")),
    Answerable("Can my account be suspended for harassment, and can I appeal?", ("abuse", "terms")),
    Answerable("Do you sell my personal information?", ("privacy",)),
    Answerable("Which subprocessors handle data for HEY?", ("privacy",)),
    Answerable("How do I report copyright infringement?", ("copyright",)),
    Answerable("Can I get a refund on my annual HEY subscription?", ("refund",)),
    Answerable("Who can change the account manager of HEY for Domains?", ("ownership-hey",)),
    Answerable("Will Basecamp keep running even if you stop selling it?", ("until-the-end-of-the-internet",)),
    Answerable("Do you use cookies on your website?", ("privacy",)),
    Answerable("What do you keep about me when I apply for a job?", ("privacy",)),
]
