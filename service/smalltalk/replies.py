"""The fixed replies to small talk, in the eight reply languages, and how the flow records them."""

from __future__ import annotations

from service.smalltalk.lexicon import Kind
from service.smalltalk.matcher import SmallTalk

STOP_REASON = "smalltalk"  # done.stop_reason of a small-talk reply
INTENT = "smalltalk"  # stored as the intent of the customer's turn in the conversation

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


def reply(talk: SmallTalk, language: str) -> str:
    """The fixed reply in ``language`` (English for languages without replies)."""
    replies = REPLIES.get(language.lower()[:2], REPLIES["en"])
    return replies[talk.kind]
