"""What a customer may write as small talk: the phrases per language and kind, and the words allowed
around them. Data only, written naturally; ``service.smalltalk.matcher`` normalises it when first
used. Phrases under ``NEUTRAL`` ("ok", "👍") are no evidence of any language.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["greeting", "how_are_you", "thanks", "ack", "goodbye"]
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
        ),
        "goodbye": (
            "再见", "拜拜", "回头见", "晚安", "没有了", "没事了", "就这些", "就这样", "没有别的问题了",
            "没有其他问题了", "不用了",
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
            "merci encore", "je vous remercie", "je te remercie",
        ),
        "goodbye": (
            "au revoir", "à bientôt", "à plus", "bonne journée", "bonne soirée", "bonne nuit",
            "à tout à l'heure", "c'est tout", "ce sera tout", "rien d'autre", "non merci",
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
            "kannst du mir helfen", "hilfe",
        ),
        "how_are_you": (
            "wie geht's", "wie geht es ihnen", "wie geht es dir", "wie geht es", "wie läuft's",
        ),
        "thanks": (
            "danke", "danke schön", "dankeschön", "danke sehr", "vielen dank", "herzlichen dank",
            "besten dank", "tausend dank", "danke für ihre hilfe", "danke für die hilfe",
            "danke dir", "danke ihnen", "vielen dank für ihre hilfe", "lieben dank",
            "vielen lieben dank",
        ),
        "goodbye": (
            "tschüss", "tschüs", "auf wiedersehen", "bis dann", "bis bald", "bis später",
            "schönen tag noch", "einen schönen tag noch", "schönen tag", "gute nacht", "das war's",
            "das war alles", "das ist alles", "nichts weiter", "sonst nichts", "nein danke",
        ),
        "ack": (
            "alles klar", "gut", "sehr gut", "prima", "perfekt", "verstanden", "in ordnung", "passt",
            "genau", "alles gut", "toll", "klasse", "geht klar", "okay danke",
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
            "ho una domanda", "ho bisogno di aiuto", "mi puoi aiutare", "mi può aiutare",
            "può aiutarmi", "aiuto",
        ),
        "how_are_you": ("come stai", "come sta", "come va", "tutto bene", "come state"),
        "thanks": (
            "grazie", "grazie mille", "molte grazie", "grazie tante", "grazie infinite",
            "grazie per l'aiuto", "grazie dell'aiuto", "ti ringrazio", "la ringrazio", "vi ringrazio",
            "grazie ancora",
        ),
        "goodbye": (
            "arrivederci", "a presto", "buona giornata", "buona serata", "buonanotte", "a dopo",
            "ci vediamo", "è tutto", "basta così", "nient'altro", "niente altro", "no grazie",
        ),
        "ack": (
            "va bene", "d'accordo", "perfetto", "capito", "ho capito", "certo", "benissimo", "ottimo",
            "bene", "chiaro", "molto bene",
        ),
    },
}  # fmt: skip

# Words allowed around the phrases, never alone and never evidence of a language.
SOFTENERS = frozenset(
    [
        "so", "very", "much", "really", "again", "there", "all", "guys", "everyone", "everybody",
        "folks", "team", "dear", "mate", "friend", "buddy", "oh", "ah", "well", "bot", "sir", "madam",
        "please", "pls", "sm", "nochmal", "nochmals", "sehr", "zusammen", "leute", "euch", "amigo",
        "amiga", "crack", "davvero", "亲",
    ]
)  # fmt: skip
# What thanks are for: allowed after other phrases ("thank you so much for your help"), never alone.
TAILS = (
    "for your help", "for the help", "for helping", "for helping me", "for your time", "for the info",
    "for the information", "for the answer", "for your answer", "for the quick reply",
    "for your quick reply", "por su ayuda", "por tu ayuda", "por la ayuda", "por la información",
    "por la respuesta", "pour votre aide", "pour l'aide", "pour votre réponse", "pour la réponse",
    "pour l'information", "pour les informations", "für ihre hilfe", "für die hilfe", "für die info",
    "für die antwort", "für ihre antwort", "für die information", "per l'aiuto", "per la risposta",
    "per le informazioni", "pela ajuda", "pela resposta", "pela informação", "pelas informações",
    "你的帮助", "您的帮助",
)  # fmt: skip
LAUGHTER = re.compile(r"(?:ha|he|ja|je|ka)(?:ha|he|ja|je|ka)+h?|lol|mdr|xd|hm|um|uh")
