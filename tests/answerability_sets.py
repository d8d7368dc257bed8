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

# The Basecamp questions as customers of other languages would ask them, over the English pages
# (translated for faqstream by hand; a held-out cross-lingual set, never a calibration probe).
_BASECAMP_TRANSLATED: dict[str, tuple[str, ...]] = {
    "de": (
        "Ich habe vergessen zu kündigen und wurde für einen weiteren Monat belastet. "
        "Bekomme ich das Geld zurück?",
        "Wie kündige ich mein HEY-Abo?",
        "Was passiert mit meinen Daten, nachdem ich mein Konto gekündigt habe?",
        "Schließt ihr kostenlose Konten, die niemand benutzt?",
        "Berechnet ihr in Texas Umsatzsteuer?",
        "Welche Verfügbarkeit versprecht ihr Kunden von Basecamp Big?",
        "Was bekomme ich, wenn die Verfügbarkeit unter das im SLA Versprochene fällt?",
        "Mein Vater ist gestorben, wie kann ich sein HEY-Konto schließen?",
        "Wem gehört ein Basecamp-Konto, mir oder meiner Firma?",
        "Unser Kontoinhaber hat die Firma verlassen, wie bestimmen wir einen neuen Inhaber?",
        "Sind meine Daten verschlüsselt?",
        "Hattet ihr schon einmal ein Datenleck?",
        "Wie melde ich eine Sicherheitslücke?",
        "Darf ich mit Basecamp Massen-Spam-Mails verschicken?",
        "Kann mein Konto wegen Belästigung gesperrt werden, und kann ich dagegen Einspruch einlegen?",
        "Verkauft ihr meine persönlichen Daten?",
        "Welche Unterauftragsverarbeiter verarbeiten Daten für HEY?",
        "Wie melde ich eine Urheberrechtsverletzung?",
        "Kann ich mein jährliches HEY-Abo erstattet bekommen?",
        "Wer kann den Kontoverwalter von HEY for Domains ändern?",
        "Läuft Basecamp weiter, auch wenn ihr es nicht mehr verkauft?",
        "Verwendet ihr Cookies auf eurer Website?",
        "Was speichert ihr über mich, wenn ich mich auf eine Stelle bewerbe?",
    ),
    "es": (
        "Olvidé cancelar y me cobraron otro mes, ¿me pueden devolver ese dinero?",
        "¿Cómo cancelo mi suscripción a HEY?",
        "¿Qué pasa con mis datos después de cancelar mi cuenta?",
        "¿Cierran las cuentas gratuitas que nadie usa?",
        "¿Cobran impuesto sobre las ventas en Texas?",
        "¿Qué disponibilidad prometen a los clientes de Basecamp Big?",
        "¿Qué recibo si la disponibilidad baja de lo que promete el SLA?",
        "Mi padre falleció, ¿cómo puedo cerrar su cuenta de HEY?",
        "¿De quién es una cuenta de Basecamp, mía o de mi empresa?",
        "El propietario de nuestra cuenta dejó la empresa, ¿cómo añadimos un nuevo propietario?",
        "¿Mis datos están cifrados?",
        "¿Han tenido alguna vez una filtración de datos?",
        "¿Cómo informo de una vulnerabilidad de seguridad?",
        "¿Puedo usar Basecamp para enviar spam masivo por correo?",
        "¿Pueden suspender mi cuenta por acoso, y puedo apelar?",
        "¿Venden mi información personal?",
        "¿Qué subencargados tratan datos para HEY?",
        "¿Cómo denuncio una infracción de derechos de autor?",
        "¿Me pueden reembolsar mi suscripción anual de HEY?",
        "¿Quién puede cambiar el administrador de la cuenta de HEY for Domains?",
        "¿Seguirá funcionando Basecamp aunque dejen de venderlo?",
        "¿Usan cookies en su sitio web?",
        "¿Qué guardan sobre mí cuando solicito un empleo?",
    ),
    "fr": (
        "J'ai oublié de résilier et j'ai été débité d'un mois de plus, puis-je récupérer cet argent ?",
        "Comment résilier mon abonnement HEY ?",
        "Que deviennent mes données après la fermeture de mon compte ?",
        "Fermez-vous les comptes gratuits que personne n'utilise ?",
        "Facturez-vous la taxe de vente au Texas ?",
        "Quelle disponibilité promettez-vous aux clients de Basecamp Big ?",
        "Qu'est-ce que j'obtiens si la disponibilité passe sous ce que promet le SLA ?",
        "Mon père est décédé, comment puis-je fermer son compte HEY ?",
        "À qui appartient un compte Basecamp, à moi ou à mon entreprise ?",
        "Le propriétaire de notre compte a quitté l'entreprise, comment ajouter un nouveau propriétaire ?",
        "Mes données sont-elles chiffrées ?",
        "Avez-vous déjà subi une fuite de données ?",
        "Comment signaler une faille de sécurité ?",
        "Puis-je utiliser Basecamp pour envoyer des spams en masse ?",
        "Mon compte peut-il être suspendu pour harcèlement, et puis-je faire appel ?",
        "Vendez-vous mes informations personnelles ?",
        "Quels sous-traitants traitent des données pour HEY ?",
        "Comment signaler une violation de droits d'auteur ?",
        "Puis-je être remboursé de mon abonnement annuel HEY ?",
        "Qui peut changer le gestionnaire du compte HEY for Domains ?",
        "Basecamp continuera-t-il de fonctionner si vous arrêtez de le vendre ?",
        "Utilisez-vous des cookies sur votre site ?",
        "Que conservez-vous à mon sujet quand je postule à un emploi ?",
    ),
    "zh": (
        "我忘了取消订阅，又被扣了一个月的钱，可以退给我吗？",
        "怎么取消我的 HEY 订阅？",
        "注销账户以后我的数据会怎么处理？",
        "没人使用的免费账户你们会关闭吗？",
        "你们在德州收销售税吗？",
        "你们向 Basecamp Big 客户承诺多少可用性？",
        "如果可用性低于 SLA 承诺的水平，我能得到什么补偿？",
        "我父亲去世了，怎么关闭他的 HEY 账户？",
        "Basecamp 账户归谁所有，我还是我的公司？",
        "我们的账户所有者离职了，怎么添加新的所有者？",
        "我的数据加密了吗？",
        "你们发生过数据泄露吗？",
        "怎么报告安全漏洞？",
        "我可以用 Basecamp 群发垃圾邮件吗？",
        "我的账户会因为骚扰他人被封吗？我可以申诉吗？",
        "你们会出售我的个人信息吗？",
        "哪些子处理者为 HEY 处理数据？",
        "怎么举报侵犯版权的行为？",
        "HEY 的年度订阅可以退款吗？",
        "谁可以更改 HEY for Domains 的账户管理员？",
        "如果你们不再销售 Basecamp，它还会继续运行吗？",
        "你们的网站使用 Cookie 吗？",
        "我申请工作时你们会保存我的哪些信息？",
    ),
    "ja": (
        "解約し忘れてもう1か月分請求されました。返金してもらえますか？",
        "HEY のサブスクリプションはどうやって解約しますか？",
        "アカウントを解約した後、私のデータはどうなりますか？",
        "誰も使っていない無料アカウントは閉鎖されますか？",
        "テキサス州では売上税がかかりますか？",
        "Basecamp Big の顧客にはどのくらいの稼働率を保証していますか？",
        "稼働率が SLA の約束を下回った場合、何がもらえますか？",
        "父が亡くなりました。父の HEY アカウントを閉じるにはどうすればいいですか？",
        "Basecamp のアカウントの所有者は私ですか、それとも会社ですか？",
        "アカウントの所有者が退職しました。新しい所有者を追加するにはどうすればいいですか？",
        "私のデータは暗号化されていますか？",
        "これまでにデータ漏洩はありましたか？",
        "セキュリティの脆弱性はどうやって報告すればいいですか？",
        "Basecamp を使って迷惑メールを大量に送ってもいいですか？",
        "嫌がらせでアカウントが停止されることはありますか？異議を申し立てられますか？",
        "私の個人情報を販売していますか？",
        "HEY のデータを扱う再委託先はどこですか？",
        "著作権侵害はどうやって報告しますか？",
        "HEY の年間サブスクリプションは返金してもらえますか？",
        "HEY for Domains のアカウント管理者を変更できるのは誰ですか？",
        "販売をやめても Basecamp は動き続けますか？",
        "ウェブサイトでクッキーを使っていますか？",
        "求人に応募したとき、私について何を保存しますか？",
    ),
}
BASECAMP_CROSSLINGUAL = [
    Answerable(question, english.right, language)
    for language, questions in _BASECAMP_TRANSLATED.items()
    for question, english in zip(questions, BASECAMP_ANSWERABLE, strict=True)
]
