"""Short messages a knowledge base of support documents does not answer: the cohort and the
negatives of the short-message cut-off (``knowledge.short_messages``).

One or two words each (``knowledge.words.word_count``), in many languages and scripts, and some
that belong to no language in particular (brands, dishes, sports): a word carries little language,
so the cohort pools them all. Food, weather, sport, money, games, celebrities, greetings and thanks
— what a customer types into a support chat by mistake or to try it. Topics that many knowledge
bases do cover (refunds, invoices, delivery, accounts, prices, opening hours) are left out on
purpose, as in ``knowledge.answerability_probes``. Written for faqstream, taken from no data set;
tests and benches hold out their own short messages: do not copy these into them.
"""

from __future__ import annotations

SHORT_OFF_TOPIC: tuple[tuple[str, str], ...] = (
    # no language in particular
    ("und", "hamburger"),
    ("und", "sushi"),
    ("und", "Ethereum"),
    ("und", "Netflix"),
    ("und", "TikTok"),
    ("und", "Minecraft"),
    ("und", "Taylor Swift"),
    ("und", "Real Madrid"),
    ("und", "Formula 1"),
    ("und", "yoga"),
    ("und", "karaoke"),
    ("und", "lol"),
    # English
    ("en", "weather"),
    ("en", "football score"),
    ("en", "chocolate cake"),
    ("en", "dinosaurs"),
    ("en", "horoscope"),
    ("en", "lottery numbers"),
    ("en", "cute cats"),
    ("en", "good night"),
    # Spanish, Portuguese, French, Italian, German, Dutch
    ("es", "el clima"),
    ("es", "chistes"),
    ("es", "buenas noches"),
    ("pt", "futebol"),
    ("pt", "previsão tempo"),
    ("pt", "boa noite"),
    ("fr", "météo"),
    ("fr", "recette crêpes"),
    ("fr", "bonsoir"),
    ("it", "calcio"),
    ("it", "buonasera"),
    ("de", "Wetter morgen"),
    ("de", "Fußball"),
    ("de", "Gute Nacht"),
    ("nl", "Goedemorgen"),
    ("nl", "voetbal"),
    # Turkish, Arabic, Czech, Polish, Russian, Ukrainian, Greek
    ("tr", "Selam"),
    ("tr", "Teşekkürler"),
    ("tr", "hava durumu"),
    ("ar", "مرحبا"),
    ("ar", "مع السلامة"),
    ("ar", "كرة القدم"),
    ("cs", "Ahoj"),
    ("cs", "Děkuji moc"),
    ("cs", "počasí"),
    ("pl", "Cześć"),
    ("pl", "Dziękuję"),
    ("ru", "Привет"),
    ("ru", "погода"),
    ("uk", "Дякую"),
    ("el", "Καλημέρα"),
    # Hindi, Thai, Vietnamese, Indonesian, Swahili, Hebrew, Persian
    ("hi", "नमस्ते"),
    ("ms", "Selamat pagi"),
    ("th", "สวัสดี"),
    ("vi", "Xin chào"),
    ("id", "Terima kasih"),
    ("sw", "Habari"),
    ("he", "שלום"),
    ("fa", "ممنون"),
    # Chinese, Japanese, Korean
    ("zh", "天气"),
    ("zh", "谢谢你"),
    ("zh", "足球"),
    ("zh", "讲个笑话"),
    ("ja", "おはよう"),
    ("ja", "天気"),
    ("ja", "ビール"),
    ("ko", "안녕하세요"),
    ("ko", "날씨"),
    ("ko", "감사합니다"),
)
