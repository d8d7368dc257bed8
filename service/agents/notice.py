"""What the customer reads while a person has the conversation: their message was passed on. Every
language of the default ``INGEST_LANGUAGES`` (Portuguese: ``pt-BR`` or ``pt`` by ``TEXTS_PORTUGUESE``),
English for others (like ``service.handoff.messages``)."""

from __future__ import annotations

from service.core.chinese import with_traditional
from service.core.languages import text_language

PASSED_ON = {
    "en": "Your message has been passed to our support team. A colleague will reply here.",
    "zh": "您的消息已转交给我们的支持团队，同事会在这里回复您。",
    "es": "Su mensaje se ha enviado a nuestro equipo de soporte. Un compañero le responderá aquí.",
    "fr": "Votre message a été transmis à notre équipe d'assistance. Un collègue vous répondra ici.",
    "de": "Ihre Nachricht wurde an unser Support-Team weitergeleitet. Ein Kollege antwortet Ihnen hier.",
    "ja": "メッセージをサポートチームに転送しました。担当者がこちらで返信いたします。",
    "pt": "A sua mensagem foi encaminhada para a nossa equipa de apoio. Um colega responderá aqui.",
    "pt-BR": "Sua mensagem foi encaminhada para a nossa equipe de atendimento. Um atendente vai responder "
    "por aqui.",
    "it": "Il suo messaggio è stato inoltrato al nostro team di assistenza. Un collega le risponderà qui.",
    "nl": "Uw bericht is doorgestuurd naar onze klantenservice. Een collega antwoordt u hier.",
    "ru": "Ваше сообщение передано в нашу службу поддержки. Сотрудник ответит вам здесь.",
    "ko": "메시지를 고객지원팀에 전달했습니다. 담당자가 이곳에서 답변드릴 예정입니다.",
    "pl": "Wiadomość została przekazana do naszego działu obsługi klienta. Konsultant odpowie tutaj.",
    "uk": "Ваше повідомлення передано до нашої служби підтримки. Співробітник відповість вам тут.",
}

# Traditional Chinese (zh-Hant): the Simplified texts converted (service.core.chinese)
PASSED_ON = with_traditional(PASSED_ON)


def passed_on(language: str) -> str:
    return PASSED_ON.get(text_language(language), PASSED_ON["en"])
