"""What a customer may write as small talk: the phrases per language and kind, and the words allowed
around them. Data only, written naturally; ``service.smalltalk.matcher`` normalises it when first
used. Phrases under ``NEUTRAL`` ("ok", "👍") are no evidence of any language.
"""

from __future__ import annotations

from service.smalltalk.kinds import LISTED_KINDS, Kind
from service.smalltalk.lexicon_more import BEYOND_DEFAULTS

__all__ = ["LEXICON", "LISTED_KINDS", "NEUTRAL", "Kind"]

NEUTRAL = "*"  # lexicon entries that are no evidence of any language

# What the customer may write. Written naturally; normalised when the module loads. Keep every
# phrase a complete message on its own, never a word that also opens questions ("how", "where").
# "yes" / "no" (and はい, 对, sí, oui…) are deliberately absent: they answer a question the assistant
# asked, and the conversation (retrieval + Claude with history) must handle them.
LEXICON: dict[str, dict[Kind, tuple[str, ...]]] = {
    NEUTRAL: {
        "ack": ("ok", "okay", "okey", "k", "kk", "aha", "super", "👍", "👌", "😊", "🙂", "☺"),
        "thanks": ("🙏",),
        "greeting": ("👋",),
    },
    "en": {
        "greeting": (
            "hi", "hello", "hey", "hiya", "howdy", "greetings", "good morning", "good afternoon",
            "good evening", "good day", "morning", "anyone there", "is anyone there", "anybody there",
            "are you there", "you there", "i have a question", "quick question", "i need help",
            "can you help me", "can you help", "help me", "help please", "can i ask you something",
            "can i ask a question",
        ),
        "how_are_you": (
            "how are you", "how are you doing", "how are you today", "how r u", "how are u",
            "how's it going", "how is it going", "how are things", "what's up", "sup", "how do you do",
        ),
        "thanks": (
            "thanks", "thank you", "thank u", "thx", "thnx", "ty", "tysm", "thanks a lot", "thx a lot",
            "thank you very much", "thanks a bunch", "many thanks", "cheers", "much appreciated",
            "appreciate it", "i appreciate it", "thanks for your help", "thank you for your help",
            "thanks for the help", "thanks for helping", "thank you for helping",
            "that helped", "that helps", "that was helpful", "that's helpful", "very helpful",
            "super helpful", "that answers my question", "you've been very helpful",
            "you have been very helpful",
        ),
        "goodbye": (
            "bye", "goodbye", "bye bye", "see you", "see ya", "see you later", "have a nice day",
            "have a good day", "have a great day", "good night", "take care", "that's all",
            "that is all", "that's it", "that's everything", "nothing else", "no thanks",
            "no thank you", "that's all for now", "i'm done", "all done",
        ),
        "ack": (
            "alright", "all right", "sure", "fine", "good", "great", "cool", "nice", "perfect",
            "awesome", "excellent", "got it", "i see", "understood", "noted", "sounds good",
            "makes sense", "will do", "all good", "very good", "ok great", "wonderful", "brilliant",
        ),
    },
    "zh": {
        "greeting": (
            "你好", "您好", "嗨", "哈喽", "哈啰", "早", "早上好", "上午好", "中午好", "下午好", "晚上好",
            "在吗", "在不在", "有人吗", "有人在吗", "大家好", "我有个问题", "我有一个问题", "请问",
            "能帮我吗", "可以帮我吗", "帮帮我", "我需要帮助",
        ),
        "how_are_you": ("你好吗", "您好吗", "最近好吗", "最近怎么样", "你怎么样"),
        "thanks": (
            "谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "感谢您", "非常感谢", "太感谢了", "谢了", "谢啦",
            "辛苦了", "麻烦了", "谢谢你的帮助", "谢谢您的帮助", "感谢你的帮助", "感谢您的帮助",
            "谢谢你的帮忙", "谢谢您的帮忙", "感谢你的帮忙", "感谢您的帮忙", "感恩",
        ),
        "goodbye": (
            "再见", "拜拜", "掰掰", "回头见", "晚安", "没有了", "没事了", "就这些", "就这样",
            "没有别的问题了", "没有其他问题了", "不用了",
        ),
        "ack": (
            "好", "好的", "好吧", "好滴", "好嘞", "嗯", "嗯嗯", "行", "知道了", "明白了", "明白", "了解",
            "收到", "懂了", "没问题", "哦", "噢", "好的呢",
        ),
    },
    "es": {
        "greeting": (
            "hola", "buenas", "buenos días", "buen día", "buenas tardes", "buenas noches", "saludos",
            "holis", "hay alguien", "hay alguien ahí", "tengo una pregunta", "tengo una duda",
            "necesito ayuda", "me puede ayudar", "me puedes ayudar", "ayuda", "ayuda por favor",
        ),
        "how_are_you": (
            "qué tal", "cómo estás", "cómo está", "cómo está usted", "qué tal estás", "cómo te va",
            "cómo va", "cómo andas",
        ),
        "thanks": (
            "gracias", "muchas gracias", "muchísimas gracias", "mil gracias", "gracias por su ayuda",
            "gracias por tu ayuda", "gracias por la ayuda", "te lo agradezco", "se lo agradezco",
            "le agradezco", "gracias de nuevo", "gracias otra vez", "muy amable", "grax",
            "eso me ayudó", "me ayudó", "me ayudó mucho", "me sirvió", "muy útil", "me ha ayudado",
            "me has ayudado",
        ),
        "goodbye": (
            "adiós", "chao", "chau", "hasta luego", "hasta pronto", "hasta mañana", "nos vemos",
            "que tenga un buen día", "que tengas un buen día", "eso es todo", "es todo", "nada más",
            "no gracias", "ya está",
        ),
        "ack": (
            "vale", "de acuerdo", "entendido", "perfecto", "genial", "muy bien", "listo", "claro",
            "entiendo", "ya veo", "oki", "dale", "estupendo", "excelente", "bien",
        ),
    },
    "fr": {
        "greeting": (
            "bonjour", "bonsoir", "salut", "coucou", "bonjour à tous", "y a quelqu'un",
            "il y a quelqu'un", "j'ai une question", "j'ai besoin d'aide", "pouvez-vous m'aider",
            "vous pouvez m'aider", "tu peux m'aider", "aide", "aidez-moi",
        ),
        "how_are_you": (
            "ça va", "comment ça va", "comment allez-vous", "comment vas-tu", "vous allez bien",
            "tu vas bien", "ça va bien",
        ),
        "thanks": (
            "merci", "merci beaucoup", "merci bcp", "merci bien", "mille mercis", "mille merci",
            "merci infiniment", "merci pour votre aide", "merci pour l'aide", "merci de votre aide",
            "merci encore", "je vous remercie", "je te remercie", "merci mille fois", "merci à vous",
            "ça m'a aidé", "ça m'aide", "c'était utile", "très utile", "vous m'avez aidé",
        ),
        "goodbye": (
            "au revoir", "à bientôt", "à plus", "bonne journée", "bonne soirée", "bonne nuit",
            "à tout à l'heure", "c'est tout", "ce sera tout", "rien d'autre", "non merci",
            "bonne fin de journée", "bon après-midi", "bon week-end", "bonne fin de semaine",
            "à la prochaine", "adieu",
        ),
        "ack": (
            "d'accord", "ok d'accord", "très bien", "bien", "parfait", "génial", "entendu", "compris",
            "j'ai compris", "c'est noté", "c'est bon", "ça marche", "nickel", "impeccable", "je vois",
        ),
    },
    "de": {
        "greeting": (
            "hallo", "guten tag", "guten morgen", "guten abend", "moin", "servus", "grüß gott",
            "grüezi", "hallo zusammen", "ist da jemand", "jemand da", "ich habe eine frage",
            "ich hab eine frage", "eine frage", "ich brauche hilfe", "können sie mir helfen",
            "kannst du mir helfen", "hilfe", "hallo allerseits",
            # Swiss German, Austrian, Bavarian ("hoi" is Dutch too: German and Dutch alike, as "hallo")
            "grüezi mitenand", "grüezi wohl", "grüessech", "grüessech mitenand", "grüess di",
            "grüess dich", "grüss di", "grüß di", "grüß dich", "grüß euch", "griaß di", "griaß eich",
            "salü", "sali", "salü zäme", "sali zäme", "hoi", "hoi zäme", "hoi zusammen", "ciao zäme",
            "tschau", "tschau zäme", "servas", "moin moin", "guete morge", "guete tag", "guete abig",
        ),
        "how_are_you": (
            "wie geht's", "wie geht es ihnen", "wie geht es dir", "wie geht es", "wie läuft's",
            "wie gaht's", "wie goht's", "wie gohts",
        ),
        "thanks": (
            "danke", "danke schön", "dankeschön", "danke sehr", "vielen dank", "herzlichen dank",
            "besten dank", "tausend dank", "danke für ihre hilfe", "danke für die hilfe",
            "danke dir", "danke ihnen", "vielen dank für ihre hilfe", "lieben dank",
            "vielen lieben dank", "vielen herzlichen dank", "danke vielmals",
            # Swiss German: "merci" is as German there as French (German and French alike)
            "danke vielmal", "danke vilmal", "danke viumau", "merci", "merci vielmal", "merci vilmal",
            "merci viumau", "merci vielmals", "merci zäme", "vergelt's gott",
            "das hat geholfen", "hat geholfen", "das hilft", "das hilft mir", "das war hilfreich",
            "sehr hilfreich", "hat mir geholfen", "das hat mir geholfen", "sie haben mir geholfen",
        ),
        "goodbye": (
            "tschüss", "tschüs", "auf wiedersehen", "bis dann", "bis bald", "bis später",
            "schönen tag noch", "einen schönen tag noch", "schönen tag", "gute nacht", "das war's",
            "das war alles", "das ist alles", "nichts weiter", "sonst nichts", "nein danke",
            "schönen abend", "schönen abend noch", "einen schönen abend", "schönes wochenende",
            "auf wiederhören", "auf wiederschauen", "bis zum nächsten mal", "tschüssi", "tschö",
            # Swiss German, Austrian, Bavarian ("adieu" is French too)
            "uf widerluege", "uf wiederluege", "uf widerlüege", "ade", "adieu", "tschüss zäme",
            "schöne tag", "en schöne tag", "e schöne tag", "schöne tag no", "en schöne tag no",
            "e schöne tag no", "schöns wochenend", "bis spöter", "bis denn", "pfiat di", "pfiat eich",
        ),
        "ack": (
            "alles klar", "gut", "sehr gut", "prima", "perfekt", "verstanden", "in ordnung", "passt",
            "genau", "alles gut", "toll", "klasse", "geht klar", "okay danke", "passt schon",
            "passt scho", "guet", "alles guet", "isch guet", "tiptop", "verstande",
        ),
    },
    "ja": {
        "greeting": (
            "こんにちは", "こんにちわ", "こんばんは", "おはよう", "おはようございます", "もしもし",
            "はじめまして", "やあ", "ハロー", "質問があります", "質問です", "ちょっと質問",
            "助けてください", "聞きたいことがあります",
        ),
        "how_are_you": ("お元気ですか", "元気ですか", "調子はどう"),
        "thanks": (
            "ありがとう", "ありがと", "ありがとうございます", "ありがとうございました", "どうも",
            "どうもありがとう", "どうもありがとうございます", "どうもありがとうございました",
            "感謝します", "サンキュー", "助かりました", "助かります", "お世話になりました",
        ),
        "goodbye": (
            "さようなら", "さよなら", "じゃあね", "またね", "おやすみ", "おやすみなさい", "失礼します",
            "以上です", "大丈夫です",
        ),
        "ack": (
            "わかりました", "分かりました", "了解", "了解です", "了解しました", "承知しました", "なるほど",
            "オッケー", "いいです", "はいわかりました",
        ),
    },
    "pt": {
        "greeting": (
            "olá", "oi", "bom dia", "boa tarde", "boa noite", "olá a todos", "alguém aí",
            "tem alguém aí", "tenho uma pergunta", "tenho uma dúvida", "preciso de ajuda",
            "pode me ajudar", "pode ajudar-me", "ajuda",
        ),
        "how_are_you": ("tudo bem", "tudo bom", "como está", "como vai", "como estás", "tudo bem contigo"),
        "thanks": (
            "obrigado", "obrigada", "muito obrigado", "muito obrigada", "obrigadão", "valeu",
            "agradeço", "obg", "obgd", "obrigado pela ajuda", "obrigada pela ajuda", "brigado", "brigada",
            "obrigado mais uma vez", "obrigada mais uma vez",
            "isso ajudou", "ajudou", "ajudou muito", "me ajudou", "muito útil",
        ),
        "goodbye": (
            "tchau", "adeus", "até logo", "até mais", "até breve", "até amanhã", "tenha um bom dia",
            "é só isso", "era só isso", "só isso", "nada mais", "não obrigado", "não obrigada",
        ),
        "ack": (
            "certo", "está bem", "tá bem", "tá", "beleza", "perfeito", "entendi", "entendido",
            "combinado", "ótimo", "muito bem", "claro", "percebi",
        ),
    },
    "it": {
        "greeting": (
            "ciao", "salve", "buongiorno", "buonasera", "buon pomeriggio", "c'è qualcuno", "ehi",
            "buon giorno", "buona sera", "ciao a tutti", "buongiorno a tutti", "salve a tutti",
            "ho una domanda", "ho bisogno di aiuto", "mi puoi aiutare", "mi può aiutare",
            "può aiutarmi", "aiuto",
        ),
        "how_are_you": ("come stai", "come sta", "come va", "tutto bene", "come state"),
        "thanks": (
            "grazie", "grazie mille", "molte grazie", "grazie tante", "grazie infinite",
            "grazie per l'aiuto", "grazie dell'aiuto", "ti ringrazio", "la ringrazio", "vi ringrazio",
            "grazie ancora", "grazie molte", "tante grazie", "mille grazie", "grazie di cuore",
            "mi è stato utile", "molto utile", "mi ha aiutato", "mi hai aiutato",
        ),
        "goodbye": (
            "arrivederci", "a presto", "buona giornata", "buona serata", "buonanotte", "a dopo",
            "ci vediamo", "è tutto", "basta così", "nient'altro", "niente altro", "no grazie",
            "buon fine settimana", "buon weekend", "a domani", "arrivederla",
        ),
        "ack": (
            "va bene", "d'accordo", "perfetto", "capito", "ho capito", "certo", "benissimo", "ottimo",
            "bene", "chiaro", "molto bene",
        ),
    },
    "nl": {
        "greeting": (
            "hoi", "goedemorgen", "goedemiddag", "goedenavond", "goeiemorgen", "goeiedag",
            "goedendag", "hallo", "hallo allemaal", "is er iemand", "is daar iemand", "ik heb een vraag",
            "ik heb een vraagje", "ik heb hulp nodig", "kunt u mij helpen", "kun je me helpen",
            "kunt u me helpen",
        ),
        "how_are_you": (
            "hoe gaat het", "hoe gaat het met u", "hoe gaat het met je", "hoe is het", "alles goed",
        ),
        "thanks": (
            "dank je", "dank u", "dank je wel", "dank u wel", "bedankt", "hartelijk bedankt",
            "heel erg bedankt",
            "erg bedankt", "hartelijk dank", "heel hartelijk bedankt", "dankjewel", "dankuwel",
            "bedankt voor uw hulp", "bedankt voor de hulp", "dank voor uw hulp",
            "dat hielp", "dat helpt", "heel nuttig", "u heeft me geholpen",
        ),
        "goodbye": (
            "doei", "tot ziens", "tot later", "tot straks", "tot de volgende keer", "fijne dag",
            "fijne dag nog",
            "nog een fijne dag", "prettige dag", "goedenacht", "welterusten", "dat was het", "dat was alles",
            "dat is alles", "verder niets", "nee dank je", "nee dank u", "nee bedankt",
        ),
        "ack": (
            "oké", "goed", "helemaal goed", "duidelijk", "begrepen", "top", "uitstekend", "in orde",
            "akkoord", "ik snap het", "ik begrijp het", "fijn", "mooi", "geweldig", "helder",
        ),
    },
    "ru": {
        "greeting": (
            "привет", "здравствуйте", "здравствуй", "добрый день", "доброе утро", "добрый вечер",
            "приветствую", "доброго дня", "есть кто", "есть кто-нибудь", "тут есть кто-нибудь",
            "у меня вопрос",
            "у меня есть вопрос", "мне нужна помощь", "помогите", "помогите пожалуйста",
            "вы можете мне помочь", "можете помочь",
        ),
        "how_are_you": ("как дела", "как у вас дела", "как ваши дела", "как поживаете", "как ты", "как вы"),
        "thanks": (
            "спасибо", "спасибо большое", "большое спасибо", "огромное спасибо", "спасибо огромное",
            "спасибо вам", "спасибо вам большое", "спасибо за помощь", "благодарю", "благодарю вас", "спс",
            "сенкс",
        ),
        "goodbye": (
            "до свидания", "пока", "всего доброго", "всего хорошего", "хорошего дня", "хорошего вечера",
            "до встречи", "спокойной ночи", "это всё", "это все", "больше ничего", "нет спасибо",
            "у меня всё",
        ),
        "ack": (
            "хорошо", "ладно", "понятно", "понял", "поняла", "ясно", "отлично", "окей", "ок", "договорились",
            "принято", "угу", "ага", "замечательно", "прекрасно", "супер",
        ),
    },
    "ko": {
        "greeting": (
            "안녕하세요", "안녕하십니까", "안녕", "하이", "여보세요", "저기요", "계세요", "질문이 있어요",
            "질문이 있습니다", "질문 있습니다", "질문 있어요", "문의드립니다", "문의드릴게 있어요",
            "도와주세요",
            "도움이 필요해요", "도움이 필요합니다", "좋은 아침입니다",
        ),
        "how_are_you": ("잘 지내세요", "잘 지내요", "어떻게 지내세요", "잘 지내셨어요", "별일 없으시죠"),
        "thanks": (
            "감사합니다", "감사해요", "고맙습니다", "고마워요", "고마워", "정말 감사합니다",
            "대단히 감사합니다",
            "너무 감사합니다", "감사드립니다", "정말 고맙습니다", "도움 감사합니다", "도와주셔서 감사합니다",
            "답변 감사합니다", "땡큐", "감사",
        ),
        "goodbye": (
            "안녕히 계세요", "안녕히 가세요", "좋은 하루 보내세요", "좋은 하루 되세요", "수고하세요",
            "수고하셨습니다", "이상입니다", "그게 다예요", "없습니다", "없어요", "괜찮습니다",
        ),
        "ack": (
            "알겠습니다", "알겠어요", "알았어요", "네 알겠습니다", "확인했습니다", "이해했습니다", "좋아요",
            "좋습니다", "그렇군요", "오케이", "완벽해요",
        ),
    },
    "pl": {
        "greeting": (
            "dzień dobry", "cześć", "witam", "witaj", "witam serdecznie", "hej", "dobry wieczór",
            "siema", "dzień dobry państwu", "jest tam ktoś", "czy ktoś tu jest", "mam pytanie",
            "mam jedno pytanie", "potrzebuję pomocy", "czy może mi pan pomóc", "czy może mi pani pomóc",
            "czy możesz mi pomóc", "pomocy",
        ),
        "how_are_you": ("jak się masz", "co słychać", "jak leci", "jak się pan miewa", "jak się pani miewa"),
        "thanks": (
            "dziękuję", "dzięki", "dziękuję bardzo", "bardzo dziękuję", "dziękuję serdecznie",
            "serdecznie dziękuję", "wielkie dzięki", "dzięki wielkie", "dziękuję za pomoc", "dzięki za pomoc",
            "dziękujemy", "uprzejmie dziękuję",
            "to pomogło", "pomogło", "bardzo pomocne",
        ),
        "goodbye": (
            "do widzenia", "do zobaczenia", "na razie", "pa", "papa", "miłego dnia", "dobranoc",
            "to wszystko",
            "nic więcej", "nie dziękuję", "pozdrawiam",
        ),
        "ack": (
            "dobrze", "w porządku", "rozumiem", "jasne", "świetnie", "okej", "zrozumiałem", "zrozumiałam",
            "dobra",
            "spoko", "idealnie", "doskonale", "zgoda",
        ),
    },
    "uk": {
        "greeting": (
            "привіт", "вітаю", "добрий день", "доброго дня", "доброго ранку", "добрий ранок",
            "добрий вечір", "доброго вечора", "здрастуйте", "вітаю вас", "є хто", "є хтось",
            "тут є хтось", "у мене питання", "у мене є питання", "у мене запитання",
            "мені потрібна допомога", "допоможіть", "допоможіть будь ласка", "ви можете мені допомогти",
            "можете допомогти",
        ),
        "how_are_you": ("як справи", "як ваші справи", "як у вас справи", "як ся маєте", "як ти", "як ви"),
        "thanks": (
            "дякую", "дякую вам", "дуже дякую", "щиро дякую", "дякую за допомогу", "велике дякую",
            "дякую велике", "красно дякую", "спасибі", "дуже вдячний", "дуже вдячна", "вдячний", "вдячна",
            "дякую вам за допомогу", "дяки",
        ),
        "goodbye": (
            "до побачення", "бувайте", "бувай", "на все добре", "гарного дня", "гарного вечора",
            "всього доброго", "всього найкращого", "до зустрічі", "на добраніч", "добраніч", "це все",
            "більше нічого", "ні дякую", "у мене все",
        ),
        "ack": (
            "добре", "гаразд", "зрозуміло", "зрозумів", "зрозуміла", "ясно", "чудово", "окей", "ок",
            "домовились", "домовилися", "прийнято", "угу", "ага", "супер", "відмінно", "прекрасно", "клас",
        ),
    },
    # Beyond the default INGEST_LANGUAGES: languages the detector reports anyway (tr, vi: ALWAYS_ALSO)
    # or that customers of any shop write in (ar); small talk only — their other texts are English.
    **BEYOND_DEFAULTS,
}  # fmt: skip
