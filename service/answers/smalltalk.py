"""Small talk: greetings, thanks, goodbyes, acknowledgements and "how are you", in the eight reply
languages (en, zh, es, fr, de, ja, pt, it).

A message is small talk only when *all* of it is: a sequence of lexicon phrases, optionally with a
few softeners ("so", "again", "team", "haha") and what the thanks are for ("for your help") around
them. "Hi" and "ok thanks!!" are small talk;
"Hi, how do I return a parcel?" is not — a phrase never matches inside a longer message. Small talk
gets a short fixed reply in the customer's language (``reply``): no retrieval, no model call, no
handoff, no answer-cache entry (``service.answers.flow`` returns before any of them).

Matching is robust to case, punctuation, emoji, accents ("adios" = "adiós"), apostrophes
("thats all" = "that's all"), full-width forms (NFKC) and repeated letters ("thanksss", "hiii",
"holaaa"): both the lexicon and the message are normalised alike, and every run of one repeated
letter is squeezed to one letter on both sides ("hello" and "helloooo" are both "helo"). CJK text is
matched character by character, so "谢谢你" and "谢谢！你好" need no word segmentation.

The words are also evidence of the language ("Hola" is Spanish, "谢谢" Chinese, "Danke" German):
``SmallTalk.language`` is the language most of the matched phrases belong to, or ``None`` for
language-neutral ones ("ok", "👍") and ties. ``service.answers.reply_language`` decides how much it counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Kind = Literal["greeting", "how_are_you", "thanks", "ack", "goodbye"]

# The reply answers the most "final" kind in the message: "ok thanks bye" is a goodbye, "ok thanks"
# a thanks, "hi, how are you?" a how-are-you.
PRECEDENCE: tuple[Kind, ...] = ("goodbye", "thanks", "how_are_you", "greeting", "ack")

STOP_REASON = "smalltalk"  # done.stop_reason of a small-talk reply
INTENT = "smalltalk"  # stored as the intent of the customer's turn in the conversation
MAX_CHARS = 120  # longer messages are never small talk (and are not even scanned)
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
_LAUGHTER = re.compile(r"(?:ha|he|ja|je|ka)(?:ha|he|ja|je|ka)+h?|lol|mdr|xd|hm|um|uh")

# The replies, in the register of service/answers/extractive.py (usted, Sie, vous, lei; European Portuguese).
REPLIES: dict[str, dict[Kind, str]] = {
    "en": {
        "greeting": "Hello! How can I help you today?",
        "how_are_you": "I'm fine, thank you for asking! How can I help you today?",
        "thanks": "You're welcome! Is there anything else I can help you with?",
        "ack": "All right. Is there anything else I can help you with?",
        "goodbye": "Thank you for getting in touch. Have a nice day!",
    },
    "zh": {
        "greeting": "您好！请问有什么可以帮您？",
        "how_are_you": "我很好，谢谢关心！请问有什么可以帮您？",
        "thanks": "不客气！请问还有什么可以帮您的吗？",
        "ack": "好的。请问还有什么可以帮您的吗？",
        "goodbye": "感谢您的咨询，祝您生活愉快！",
    },
    "es": {
        "greeting": "¡Hola! ¿En qué puedo ayudarle?",
        "how_are_you": "Muy bien, ¡gracias por preguntar! ¿En qué puedo ayudarle?",
        "thanks": "¡De nada! ¿Hay algo más en lo que pueda ayudarle?",
        "ack": "De acuerdo. ¿Hay algo más en lo que pueda ayudarle?",
        "goodbye": "Gracias por contactar con nosotros. ¡Que tenga un buen día!",
    },
    "fr": {
        "greeting": "Bonjour ! Comment puis-je vous aider ?",
        "how_are_you": "Très bien, merci de demander ! Comment puis-je vous aider ?",
        "thanks": "Je vous en prie ! Puis-je vous aider pour autre chose ?",
        "ack": "Très bien. Puis-je vous aider pour autre chose ?",
        "goodbye": "Merci de nous avoir contactés. Bonne journée !",
    },
    "de": {
        "greeting": "Hallo! Wie kann ich Ihnen helfen?",
        "how_are_you": "Danke der Nachfrage, mir geht es gut! Wie kann ich Ihnen helfen?",
        "thanks": "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
        "ack": "Alles klar. Kann ich Ihnen sonst noch helfen?",
        "goodbye": "Vielen Dank für Ihre Nachricht. Einen schönen Tag noch!",
    },
    "ja": {
        "greeting": "こんにちは！どのようなご用件でしょうか？",
        "how_are_you": "お気遣いありがとうございます。元気です！どのようなご用件でしょうか？",
        "thanks": "どういたしまして！ほかにお手伝いできることはありますか？",
        "ack": "承知しました。ほかにお手伝いできることはありますか？",
        "goodbye": "お問い合わせいただきありがとうございました。良い一日をお過ごしください！",
    },
    "pt": {
        "greeting": "Olá! Em que posso ajudar?",
        "how_are_you": "Estou bem, obrigado por perguntar! Em que posso ajudar?",
        "thanks": "De nada! Posso ajudar em mais alguma coisa?",
        "ack": "Muito bem. Posso ajudar em mais alguma coisa?",
        "goodbye": "Obrigado pelo seu contacto. Tenha um bom dia!",
    },
    "it": {
        "greeting": "Salve! Come posso aiutarla?",
        "how_are_you": "Bene, grazie per averlo chiesto! Come posso aiutarla?",
        "thanks": "Prego! Posso aiutarla in qualcos'altro?",
        "ack": "Va bene. Posso aiutarla in qualcos'altro?",
        "goodbye": "Grazie per averci contattato. Buona giornata!",
    },
}

SMALLTALK_LANGUAGES = tuple(REPLIES)


@dataclass(frozen=True)
class SmallTalk:
    """A message that is small talk, all of it."""

    kind: Kind  # what the reply answers (the first of ``kinds`` in ``PRECEDENCE``)
    kinds: tuple[Kind, ...]  # every kind in the message, in order
    language: str | None  # the language its words show; None = language-neutral or mixed
    phrases: tuple[str, ...]  # the matched phrases, normalised (for logs and tests)


# ---------------------------------------------------------------- normalisation

_CJK = "\u3005\u3006\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_EMOJI = "\U0001f44d\U0001f44c\U0001f60a\U0001f642\u263a\U0001f64f\U0001f44b"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+|[{_EMOJI}]")
_REPEAT = re.compile(r"(.)\1+")
_APOSTROPHES = str.maketrans({"'": None, "’": None, "‘": None, "`": None, "´": None, "ʼ": None})


def _is_cjk(token: str) -> bool:
    return len(token) == 1 and bool(re.match(rf"[{_CJK}]", token))


def tokens(text: str) -> list[str]:
    """The message as comparable tokens: NFKC, case-folded, Latin accents and apostrophes removed,
    punctuation and other emoji dropped, repeated letters squeezed ("Helloooo!!" → ["helo"]); CJK
    characters one token each."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFD", folded)
    plain = unicodedata.normalize("NFC", "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f"))
    return [t if _is_cjk(t) else _REPEAT.sub(r"\1", t) for t in _TOKEN.findall(plain)]


# ---------------------------------------------------------------- the index


@dataclass(frozen=True)
class _Phrase:
    tokens: tuple[str, ...]
    kind: Kind
    languages: frozenset[str]  # empty = neutral


@lru_cache(maxsize=1)
def _tails() -> dict[str, list[tuple[str, ...]]]:
    index: dict[str, list[tuple[str, ...]]] = {}
    for tail in TAILS:
        key = tuple(tokens(tail))
        index.setdefault(key[0], []).append(key)
    return index


@lru_cache(maxsize=1)
def _index() -> dict[str, list[_Phrase]]:
    """First token → phrases starting with it, longest first. Built once."""
    found: dict[tuple[str, ...], tuple[Kind, set[str]]] = {}
    for language, kinds in LEXICON.items():
        for kind, phrases in kinds.items():
            for phrase in phrases:
                key = tuple(tokens(phrase))
                if not key:
                    raise ValueError(f"small-talk phrase {phrase!r} has no words")
                known_kind, languages = found.setdefault(key, (kind, set()))
                if known_kind != kind:
                    raise ValueError(f"small-talk phrase {phrase!r} is both {known_kind} and {kind}")
                if language != NEUTRAL:
                    languages.add(language)
    index: dict[str, list[_Phrase]] = {}
    for key, (kind, languages) in found.items():
        index.setdefault(key[0], []).append(_Phrase(key, kind, frozenset(languages)))
    for candidates in index.values():
        candidates.sort(key=lambda p: -len(p.tokens))
    return index


@lru_cache(maxsize=1)
def _softeners() -> frozenset[str]:
    return frozenset(token for word in SOFTENERS for token in tokens(word))


def _softener(token: str) -> bool:
    return token in _softeners() or _LAUGHTER.fullmatch(token) is not None


# ---------------------------------------------------------------- matching


def match(text: str) -> SmallTalk | None:
    """The message as small talk, or None when any part of it is something else."""
    if len(text) > MAX_CHARS:
        return None
    words = tokens(text)
    if not words:
        return None
    index = _index()
    n = len(words)
    tails = _tails()
    # best[i]: the fewest pieces (phrases, softeners, tails) covering words[i:], and the phrases used.
    best: list[tuple[int, tuple[_Phrase, ...]] | None] = [None] * (n + 1)
    best[n] = (0, ())
    for i in range(n - 1, -1, -1):
        options: list[tuple[int, tuple[_Phrase, ...]]] = []
        for phrase in index.get(words[i], ()):
            end = i + len(phrase.tokens)
            rest = best[end] if end <= n else None
            if rest is not None and tuple(words[i:end]) == phrase.tokens:
                options.append((rest[0] + 1, (phrase, *rest[1])))
        for tail in tails.get(words[i], ()):
            end = i + len(tail)
            rest = best[end] if end <= n else None
            if rest is not None and tuple(words[i:end]) == tail:
                options.append((rest[0] + 1, rest[1]))
        rest = best[i + 1]
        if rest is not None and _softener(words[i]):
            options.append((rest[0] + 1, rest[1]))
        best[i] = min(options, key=lambda o: o[0]) if options else None
    cover = best[0]
    if cover is None or not cover[1]:
        return None  # something that is not small talk, or nothing but softeners
    phrases = cover[1]
    kinds = tuple(p.kind for p in phrases)
    kind = next(k for k in PRECEDENCE if k in kinds)
    return SmallTalk(kind, kinds, _language(phrases), tuple(" ".join(p.tokens) for p in phrases))


def _language(phrases: tuple[_Phrase, ...]) -> str | None:
    votes = Counter(language for p in phrases for language in p.languages)
    ranked = votes.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def reply(talk: SmallTalk, language: str) -> str:
    """The fixed reply in ``language`` (English for languages without replies)."""
    replies = REPLIES.get(language.lower()[:2], REPLIES["en"])
    return replies[talk.kind]
