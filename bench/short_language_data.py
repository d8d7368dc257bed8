"""The message lists of bench/short_language.py, written for it (see its docstring for their caveats)."""

from __future__ import annotations

# Short support messages, 1–3 words, as customers type them into a chat box.
SUPPORT: dict[str, list[str]] = {
    "en": [
        "refund", "refund?", "my refund", "refund status", "where's my refund", "invoice", "my invoice",
        "tracking", "tracking number", "order status", "where's my order", "delivery", "delivery time",
        "late delivery", "shipping costs", "return", "return label", "returns policy", "exchange",
        "cancel order", "password", "reset password", "forgot password", "account", "login problem",
        "payment failed", "damaged item", "wrong item", "missing item", "discount code", "gift card",
        "warranty", "opening hours", "change address", "express shipping",
    ],
    "zh": [
        "退款", "退款？", "我的退款", "退款进度", "发票", "开发票", "物流", "快递单号", "订单状态",
        "我的订单", "发货", "配送时间", "还没到货", "运费", "退货", "退货标签", "换货", "换尺码", "取消订单",
        "密码", "忘记密码", "我的账户", "登录不了", "付款失败", "商品损坏", "发错货", "少发了", "优惠码",
        "礼品卡", "保修", "营业时间", "改地址", "加急配送",
    ],
    "es": [
        "reembolso", "¿reembolso?", "mi reembolso", "estado reembolso", "factura", "mi factura",
        "seguimiento", "número de seguimiento", "estado del pedido", "¿dónde está?", "mi pedido",
        "entrega", "plazo de entrega", "envío", "gastos de envío", "devolución", "etiqueta de devolución",
        "cambio de talla", "cancelar pedido", "contraseña", "olvidé contraseña", "mi cuenta",
        "pago rechazado", "producto dañado", "artículo equivocado", "falta artículo", "código descuento",
        "tarjeta regalo", "garantía", "horario", "cambiar dirección", "envío urgente",
    ],
    "fr": [
        "remboursement", "remboursement ?", "mon remboursement", "facture", "ma facture", "suivi",
        "numéro de suivi", "statut commande", "ma commande", "livraison", "délai de livraison",
        "retard livraison", "frais de port", "retour", "étiquette retour", "échange", "annuler commande",
        "mot de passe", "mot de passe oublié", "mon compte", "paiement refusé", "article endommagé",
        "mauvais article", "article manquant", "code promo", "carte cadeau", "garantie", "horaires",
        "changer adresse", "livraison express",
    ],
    "de": [
        "Rückerstattung", "Rückerstattung?", "Erstattung", "meine Rückerstattung", "Rechnung",
        "meine Rechnung", "Sendungsverfolgung", "Sendungsnummer", "Bestellstatus", "meine Bestellung",
        "Lieferung", "Lieferzeit", "Lieferung verspätet", "Versandkosten", "Rücksendung", "Retourenschein",
        "Umtausch", "Bestellung stornieren", "Passwort", "Passwort vergessen", "mein Konto",
        "Zahlung fehlgeschlagen", "Artikel beschädigt", "falscher Artikel", "Artikel fehlt",
        "Gutscheincode", "Geschenkkarte", "Garantie", "Öffnungszeiten", "Adresse ändern", "Expressversand",
    ],
    "ja": [
        "返金", "返金は？", "返金状況", "請求書", "領収書", "追跡番号", "配送状況", "注文状況", "私の注文",
        "配送", "お届け日", "配送遅延", "送料", "返品", "返品ラベル", "交換", "サイズ交換", "注文キャンセル",
        "パスワード", "パスワード忘れた", "アカウント", "ログインできない", "支払いエラー", "破損",
        "商品違い", "クーポン", "ギフトカード", "保証", "営業時間", "住所変更", "速達",
    ],
    "pt": [
        "reembolso", "reembolso?", "o meu reembolso", "fatura", "a minha fatura", "rastreamento",
        "número de rastreio", "estado da encomenda", "a minha encomenda", "entrega", "prazo de entrega",
        "entrega atrasada", "portes de envio", "devolução", "etiqueta de devolução", "troca",
        "cancelar encomenda", "palavra-passe", "esqueci palavra-passe", "a minha conta",
        "pagamento recusado", "artigo danificado", "artigo errado", "artigo em falta",
        "código de desconto", "cartão presente", "garantia", "horário", "alterar morada", "envio expresso",
    ],
    "it": [
        "rimborso", "rimborso?", "il mio rimborso", "fattura", "la mia fattura", "tracciamento",
        "numero di tracciamento", "stato ordine", "il mio ordine", "consegna", "tempi di consegna",
        "consegna in ritardo", "spese di spedizione", "reso", "etichetta reso", "cambio taglia",
        "annullare ordine", "password dimenticata", "il mio account", "pagamento rifiutato",
        "articolo danneggiato", "articolo sbagliato", "articolo mancante", "codice sconto", "buono regalo",
        "garanzia", "orari di apertura", "cambiare indirizzo", "spedizione espressa",
    ],
}  # fmt: skip

# (message, is small talk). Small talk as customers write it, including forms the lexicon may not
# know; and short real requests that look like small talk (a greeting or thanks plus a question).
LABELLED: dict[str, list[tuple[str, bool]]] = {
    "en": [
        ("Hi", True), ("Hello!", True), ("hey there", True), ("Good morning!", True), ("hiii", True),
        ("Thanks!", True), ("ok thanks", True), ("thank you so much!!", True), ("thx a lot", True),
        ("cheers mate", True), ("ok", True), ("okay cool", True), ("got it, thanks", True),
        ("bye!", True), ("that's all, thank you", True), ("how are you?", True), ("👍", True),
        ("thank u sm", True), ("ty!", True), ("perfect, thanks a lot", True),
        ("Hi, how do I return a parcel?", False), ("thanks, and what about refunds?", False),
        ("hello, where is my order?", False), ("ok but my refund is still missing", False),
        ("thank you for nothing", False), ("how are returns handled?", False), ("good product?", False),
        ("hi I need a refund", False), ("bye bye warranty?", False), ("no", False),
        ("help with my invoice", False), ("ok how long does shipping take", False),
    ],
    "zh": [
        ("你好", True), ("您好！", True), ("谢谢", True), ("谢谢你！", True), ("好的，谢谢", True),
        ("多谢多谢", True), ("再见", True), ("拜拜～", True), ("嗯嗯", True), ("好的", True),
        ("在吗？", True), ("没有了，谢谢", True), ("非常感谢您的帮助！", True), ("收到", True),
        ("谢谢亲", True),
        ("你好，我的订单在哪里？", False), ("谢谢，那退款呢？", False), ("好的，怎么退货？", False),
        ("你好，我要退款", False), ("退款", False), ("在吗？我的快递还没到", False), ("好用吗", False),
        ("谢谢，但是还没收到", False),
    ],
    "es": [
        ("Hola", True), ("¡Hola!", True), ("buenas", True), ("Buenos días", True), ("holaaa", True),
        ("Gracias", True), ("muchas gracias!!", True), ("vale, gracias", True), ("mil gracias", True),
        ("adiós", True), ("hasta luego", True), ("de acuerdo", True), ("perfecto, gracias", True),
        ("¿qué tal?", True), ("eso es todo, gracias", True), ("genial", True), ("gracias crack", True),
        ("Hola, ¿cuánto tarda el reembolso?", False), ("gracias, ¿y la factura?", False),
        ("buenas, mi pedido no ha llegado", False), ("vale, ¿cómo devuelvo el producto?", False),
        ("hola quiero devolver algo", False), ("¿qué tal el envío urgente?", False), ("no", False),
        ("gracias por nada", False),
    ],
    "fr": [
        ("Bonjour", True), ("bonjour !", True), ("Salut", True), ("bonsoir", True), ("coucou", True),
        ("Merci", True), ("merci beaucoup !", True), ("ok merci", True), ("merci bcp", True),
        ("au revoir", True), ("bonne journée !", True), ("d'accord", True), ("parfait, merci", True),
        ("ça va ?", True), ("c'est tout, merci", True), ("super merci", True),
        ("Bonjour, comment me faire rembourser ?", False), ("merci, et pour la facture ?", False),
        ("bonjour ma commande n'est pas arrivée", False), ("d'accord, comment retourner l'article ?", False),
        ("salut, où est mon colis ?", False), ("merci de me rembourser", False), ("non", False),
        ("ça va prendre combien de temps ?", False),
    ],
    "de": [
        ("Hallo", True), ("hallo!", True), ("Guten Tag", True), ("Moin", True), ("Servus", True),
        ("Danke", True), ("Vielen Dank!", True), ("danke schön", True), ("ok danke", True),
        ("Tschüss", True), ("Schönen Tag noch!", True), ("alles klar", True), ("perfekt, danke", True),
        ("wie geht's?", True), ("das war's, danke", True), ("vielen lieben dank", True), ("Danke dir!", True),
        ("Hallo, wie lange dauert die Rückerstattung?", False), ("danke, und die Rechnung?", False),
        ("Guten Tag, meine Bestellung ist nicht angekommen", False),
        ("ok, wie schicke ich das zurück?", False),
        ("Hallo ich will mein Geld zurück", False), ("Danke für nichts", False), ("nein", False),
        ("wie geht das Umtauschen?", False),
    ],
    "ja": [
        ("こんにちは", True), ("こんにちは！", True), ("おはようございます", True), ("ありがとう", True),
        ("ありがとうございます！", True), ("どうもありがとうございました", True), ("了解です", True),
        ("わかりました", True), ("さようなら", True), ("以上です、ありがとうございました", True),
        ("承知しました", True), ("助かりました！", True), ("ありがと", True),
        ("こんにちは、返品したいです", False), ("ありがとう、でも返金は？", False),
        ("わかりました。送料はいくらですか？", False), ("注文がまだ届きません", False), ("はい", False),
        ("返金", False), ("こんにちは。注文をキャンセルできますか", False),
    ],
    "pt": [
        ("Olá", True), ("oi", True), ("Bom dia!", True), ("boa tarde", True), ("Obrigado", True),
        ("obrigada!", True), ("muito obrigado", True), ("ok obrigado", True), ("valeu", True),
        ("tchau", True), ("até logo", True), ("certo", True), ("perfeito, obrigado", True),
        ("tudo bem?", True), ("é só isso, obrigada", True), ("obg", True),
        ("Olá, quanto tempo demora o reembolso?", False), ("obrigado, e a fatura?", False),
        ("bom dia, a minha encomenda não chegou", False), ("certo, como devolvo o artigo?", False),
        ("oi quero cancelar", False), ("não", False), ("tudo bem com a entrega?", False),
    ],
    "it": [
        ("Ciao", True), ("ciao!", True), ("Buongiorno", True), ("salve", True), ("Grazie", True),
        ("grazie mille!", True), ("ok grazie", True), ("grazie tante", True), ("arrivederci", True),
        ("buona giornata!", True), ("va bene", True), ("perfetto, grazie", True), ("come stai?", True),
        ("è tutto, grazie", True), ("grazie mille davvero", True),
        ("Ciao, quanto tempo ci vuole per il rimborso?", False), ("grazie, e la fattura?", False),
        ("buongiorno, il mio ordine non è arrivato", False), ("va bene, come faccio il reso?", False),
        ("ciao voglio un rimborso", False), ("no", False), ("come va la spedizione?", False),
    ],
}  # fmt: skip

# Written after the lexicon's last change and never used to change it: the held-out check.
HELD_OUT: dict[str, list[tuple[str, bool]]] = {
    "en": [
        ("hello hello", True), ("hey!! 😀", True), ("many thanks!", True), ("thanks so much, bye", True),
        ("ok, understood", True), ("great, thank you!", True), ("good evening", True), ("see you", True),
        ("Thank you, that helps a lot", True), ("awesome thx", True),
        ("hello? my order never arrived", False), ("thanks but I still need the invoice", False),
        ("ok so can I pay later?", False), ("good morning, refund please", False),
    ],
    "zh": [
        ("哈喽", True), ("谢谢啦", True), ("好的好的", True), ("明白了，谢谢！", True), ("晚安", True),
        ("好的，那运费多少？", False), ("谢谢！还有发票怎么开", False), ("你好，有人吗？我要退货", False),
    ],
    "es": [
        ("hola buenas", True), ("muchas gracias por todo", True), ("ok perfecto", True),
        ("chao, gracias", True), ("buenas noches", True),
        ("hola, necesito la factura", False), ("gracias. ¿Y si no llega?", False),
        ("vale pero ¿cuándo llega?", False),
    ],
    "fr": [
        ("bonjour à vous", True), ("merci bien !", True), ("ok super", True), ("très bien, merci", True),
        ("à bientôt", True),
        ("bonjour, je veux annuler", False), ("merci ! et les frais de port ?", False),
        ("super, mais quand ?", False),
    ],
    "de": [
        ("Hallo zusammen!", True), ("danke, das hilft", True), ("ok, super", True), ("Gute Nacht", True),
        ("vielen Dank und tschüss", True),
        ("Hallo, ich brauche eine Rechnung", False), ("danke, aber wo ist mein Paket?", False),
        ("ok und die Versandkosten?", False),
    ],
    "ja": [
        ("おはよう！", True), ("ありがとうございました！", True), ("なるほど、ありがとう", True),
        ("了解しました！", True), ("またね", True),
        ("おはようございます、返金について", False), ("ありがとう。領収書は？", False),
        ("了解です。配送はいつ？", False),
    ],
    "pt": [
        ("oi, tudo bem?", True), ("muito obrigada pela ajuda!", True), ("ok, entendi", True),
        ("boa noite", True), ("até mais!", True),
        ("oi, preciso da fatura", False), ("obrigado, mas e a entrega?", False),
        ("certo, e o reembolso?", False),
    ],
    "it": [
        ("buonasera", True), ("grazie ancora!", True), ("ok capito", True), ("ciao, a presto", True),
        ("perfetto grazie mille", True),
        ("buongiorno, vorrei un rimborso", False), ("grazie, ma la fattura?", False),
        ("ok, e la consegna?", False),
    ],
}  # fmt: skip

# Support-style follow-ups, 3-8 words, as a customer types them after a first answer (written for
# the 3-8-word section; never used to choose CONVERSATION_ODDS, which is picked on Mintaka).
FOLLOW_UPS: dict[str, list[str]] = {
    "en": [
        "and per week?", "what about next month?", "and for express shipping?", "how long does that take?",
        "and if it arrives damaged?", "can I pay by card?", "what about the blue one?",
        "does that apply to Germany too?", "and the return costs?", "ok and after that?",
        "is there a fee for that?", "what if I lost the receipt?",
    ],
    "zh": [
        "那每周呢？", "下个月也可以吗？", "加急配送要多少钱？", "那需要多长时间？", "如果收到的是坏的呢？",
        "可以用信用卡付款吗？", "蓝色的那款呢？", "退货运费谁出？", "没有收据怎么办？", "这个要收费吗？",
    ],
    "es": [
        "¿y por semana?", "¿y el mes que viene?", "¿y con envío urgente?", "¿cuánto tarda eso?",
        "¿y si llega roto?", "¿puedo pagar con tarjeta?", "¿y el azul?", "¿eso vale también para México?",
        "¿y los gastos de devolución?", "¿y si perdí el ticket?",
    ],
    "fr": [
        "et par semaine ?", "et le mois prochain ?", "et en livraison express ?",
        "ça prend combien de temps ?",
        "et s'il arrive abîmé ?", "je peux payer par carte ?", "et le modèle bleu ?",
        "c'est pareil pour la Belgique ?", "et les frais de retour ?", "et si j'ai perdu le ticket ?",
    ],
    "de": [
        "und pro Woche?", "und nächsten Monat?", "und mit Expressversand?", "wie lange dauert das?",
        "und wenn es kaputt ankommt?", "kann ich mit Karte zahlen?", "und das blaue Modell?",
        "gilt das auch für Österreich?", "und die Kosten für die Rücksendung?",
        "und wenn ich den Beleg verloren habe?",
    ],
    "ja": [
        "では週ごとだと？", "来月はどうですか？", "速達だといくらですか？", "どのくらいかかりますか？",
        "壊れて届いたらどうなりますか？", "カードで払えますか？", "青いのはありますか？",
        "返品の送料は誰が払いますか？", "レシートをなくしたらどうしますか？", "それは有料ですか？",
    ],
    "pt": [
        "e por semana?", "e no próximo mês?", "e com envio expresso?", "quanto tempo demora isso?",
        "e se chegar danificado?", "posso pagar com cartão?", "e o modelo azul?",
        "isso vale também para o Brasil?", "e os custos de devolução?", "e se perdi o recibo?",
    ],
    "it": [
        "e a settimana?", "e il mese prossimo?", "e con la spedizione espressa?", "quanto tempo ci vuole?",
        "e se arriva rotto?", "posso pagare con la carta?", "e il modello blu?",
        "vale anche per la Svizzera?", "e le spese di reso?", "e se ho perso lo scontrino?",
    ],
}  # fmt: skip
