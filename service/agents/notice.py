"""What the customer reads while a person has the conversation: their message was passed on. The
eight reply languages, English for others (like ``service.handoff.messages``)."""

from __future__ import annotations

PASSED_ON = {
    "en": "Your message has been passed to our support team. A colleague will reply here.",
    "zh": "您的消息已转交给我们的支持团队，同事会在这里回复您。",
    "es": "Su mensaje se ha enviado a nuestro equipo de soporte. Un compañero le responderá aquí.",
    "fr": "Votre message a été transmis à notre équipe d'assistance. Un collègue vous répondra ici.",
    "de": "Ihre Nachricht wurde an unser Support-Team weitergeleitet. Ein Kollege antwortet Ihnen hier.",
    "ja": "メッセージをサポートチームに転送しました。担当者がこちらで返信いたします。",
    "pt": "A sua mensagem foi encaminhada para a nossa equipa de apoio. Um colega responderá aqui.",
    "it": "Il suo messaggio è stato inoltrato al nostro team di assistenza. Un collega le risponderà qui.",
}


def passed_on(language: str) -> str:
    return PASSED_ON.get(language, PASSED_ON["en"])
