"""What the customer reads when a handoff did not go as they were told (``service.agents``).

``lapsed_message``: a takeover lapsed (``service.agents.lapse``) — the ``handoff`` event reached no
one (``undelivered``) or no colleague replied in time (``unanswered``): the assistant has the
conversation again, and how to reach a person (``HANDOFF_CONTACT``). ``unnotified_message``: a
``notify`` handoff reached no one — it could not be passed on after all, and how to reach a person.
The languages of ``service.handoff.messages`` (Portuguese in both variants, as there); English for
others.
"""

from __future__ import annotations

from service.core.chinese import with_traditional
from service.handoff.messages import joined, message_language, person_line
from service.handoff.signals import LapseCause

# A takeover lapsed: why no colleague replies; then that the assistant answers again.
_LAPSED: dict[str, dict[str, str]] = {
    "undelivered": {
        "en": "I'm sorry, I couldn't reach a colleague from our support team.",
        "zh": "很抱歉，我没能联系上我们的客服同事。",
        "es": "Lo siento, no he podido contactar con ningún compañero de nuestro equipo de atención al "
        "cliente.",
        "fr": "Je suis désolé, je n'ai pas pu joindre de collègue de notre service client.",
        "de": "Das tut mir leid, ich konnte niemanden aus unserem Kundenservice erreichen.",
        "ja": "申し訳ありません。サポート担当者に連絡がつきませんでした。",
        "pt": "Lamento, não consegui contactar nenhum colega da nossa equipa de apoio.",
        "pt-BR": "Sinto muito, não consegui entrar em contato com nenhum atendente da nossa equipe.",
        "it": "Mi dispiace, non sono riuscito a contattare nessun collega del nostro servizio clienti.",
        "nl": "Het spijt me, ik kon geen collega van onze klantenservice bereiken.",
        "ru": "Прошу прощения, мне не удалось связаться с сотрудником нашей службы поддержки.",
        "ko": "죄송합니다. 고객지원팀 담당자와 연결하지 못했습니다.",
        "pl": "Przepraszam, nie udało mi się skontaktować z nikim z naszego zespołu obsługi klienta.",
        "uk": "Перепрошую, мені не вдалося зв’язатися зі співробітником нашої служби підтримки.",
    },
    "unanswered": {
        "en": "I'm sorry, no colleague from our support team has been able to reply yet.",
        "zh": "很抱歉，我们的客服同事暂时还未能回复您。",
        "es": "Lo siento, ningún compañero de nuestro equipo de atención al cliente ha podido responderle "
        "todavía.",
        "fr": "Je suis désolé, aucun collègue de notre service client n'a encore pu vous répondre.",
        "de": "Das tut mir leid, bisher konnte Ihnen niemand aus unserem Kundenservice antworten.",
        "ja": "申し訳ありません。まだサポート担当者から返信できておりません。",
        "pt": "Lamento, ainda nenhum colega da nossa equipa de apoio conseguiu responder-lhe.",
        "pt-BR": "Sinto muito, nenhum atendente da nossa equipe conseguiu responder à sua mensagem até "
        "agora.",
        "it": "Mi dispiace, nessun collega del nostro servizio clienti è ancora riuscito a risponderle.",
        "nl": "Het spijt me, er heeft nog geen collega van onze klantenservice kunnen antwoorden.",
        "ru": "Прошу прощения, пока ни один сотрудник нашей службы поддержки не смог вам ответить.",
        "ko": "죄송합니다. 아직 고객지원팀 담당자가 답변을 드리지 못했습니다.",
        "pl": "Przepraszam, nikt z naszego zespołu obsługi klienta nie zdołał jeszcze odpowiedzieć.",
        "uk": "Перепрошую, поки що жоден співробітник нашої служби підтримки не зміг вам відповісти.",
    },
}

_BACK = {
    "en": "I'll answer your questions here again.",
    "zh": "我会继续在这里回答您的问题。",
    "es": "Vuelvo a responder a sus preguntas aquí.",
    "fr": "Je réponds à nouveau à vos questions ici.",
    "de": "Ich beantworte Ihre Fragen hier wieder selbst.",
    "ja": "引き続き、こちらで私がご質問にお答えします。",
    "pt": "Volto a responder às suas perguntas aqui.",
    "pt-BR": "Vou voltar a responder às suas perguntas por aqui.",
    "it": "Torno a rispondere io alle sue domande qui.",
    "nl": "Ik beantwoord uw vragen hier weer zelf.",
    "ru": "Я снова буду отвечать на ваши вопросы здесь.",
    "ko": "이제 다시 제가 여기에서 질문에 답변해 드리겠습니다.",
    "pl": "Znowu będę odpowiadać tutaj na pytania.",
    "uk": "Я знову відповідатиму на ваші запитання тут.",
}

# A ``notify`` handoff reached no one: the customer was told the team knows, and it does not.
_UNNOTIFIED = {
    "en": "I'm sorry, I couldn't pass your message on to our support team after all.",
    "zh": "很抱歉，您的消息最终未能转达给我们的客服团队。",
    "es": "Lo siento, al final no he podido trasladar su mensaje a nuestro equipo de atención al cliente.",
    "fr": "Je suis désolé, je n'ai finalement pas pu transmettre votre message à notre service client.",
    "de": "Das tut mir leid, ich konnte Ihr Anliegen doch nicht an unser Kundenservice-Team weitergeben.",
    "ja": "申し訳ありません。お客様のメッセージをサポートチームにお伝えすることができませんでした。",
    "pt": "Lamento, afinal não consegui passar a sua mensagem à nossa equipa de apoio.",
    "pt-BR": "Sinto muito, acabei não conseguindo encaminhar sua mensagem para a nossa equipe de "
    "atendimento.",
    "it": "Mi dispiace, alla fine non sono riuscito a inoltrare il suo messaggio al nostro servizio clienti.",
    "nl": "Het spijt me, ik heb uw bericht toch niet aan onze klantenservice kunnen doorgeven.",
    "ru": "Прошу прощения, мне всё же не удалось передать ваше сообщение в нашу службу поддержки.",
    "ko": "죄송합니다. 고객님의 메시지를 고객지원팀에 전달하지 못했습니다.",
    "pl": "Przepraszam, jednak nie udało mi się przekazać wiadomości do naszego działu obsługi klienta.",
    "uk": "Перепрошую, мені все ж не вдалося передати ваше повідомлення до нашої служби підтримки.",
}

# Traditional Chinese (zh-Hant): the Simplified texts converted (service.core.chinese)
_BACK = with_traditional(_BACK)
_UNNOTIFIED = with_traditional(_UNNOTIFIED)
_LAPSED = {key: with_traditional(texts) for key, texts in _LAPSED.items()}


def lapsed_message(language: str, cause: LapseCause, *, contact: str | None = None) -> str:
    """The notice of a lapsed takeover (``cause``) in the customer's language, with ``contact``
    (``HANDOFF_CONTACT``, shown as is) when it is set."""
    lang = message_language(language)
    return joined(lang, [_LAPSED[cause][lang], _BACK[lang], person_line(lang, contact)])


def unnotified_message(language: str, *, contact: str | None = None) -> str:
    """The notice of a ``notify`` handoff that reached no one, in the customer's language, with
    ``contact`` (``HANDOFF_CONTACT``, shown as is) when it is set. The assistant kept answering."""
    lang = message_language(language)
    return joined(lang, [_UNNOTIFIED[lang], person_line(lang, contact)])
