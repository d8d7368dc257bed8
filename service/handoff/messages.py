"""What the customer reads at a handoff: an opening for the reason, then what happens next — the
one thing that is true for the handoff's delivery (``service.handoff.delivery``): a colleague takes
over here (``takeover``), the support team was told and the assistant keeps answering (``notify``),
or the assistant cannot pass it on and the customer may contact support directly (``none``), with
``HANDOFF_CONTACT`` when it is set. Every language of the default ``INGEST_LANGUAGES`` (en, zh, es, fr,
de, ja, pt, it, nl, ru, ko, pl, uk; Portuguese as ``pt-BR``, Brazilian, and ``pt``, European, chosen
by ``TEXTS_PORTUGUESE``; Chinese as ``zh``, Simplified, and ``zh-Hant``, Traditional, converted from
it: ``service.core.chinese``); English for others (docs/handoff-and-languages.md).

What the customer reads when a handoff later did not go as told: ``service.handoff.late_notices``.
"""

from __future__ import annotations

from service.core.chinese import with_traditional
from service.core.languages import VARIANTS, text_language
from service.handoff.signals import Delivery, HandoffReason

_OPENING: dict[str, dict[str, str]] = {
    "customer_request": {
        "en": "Of course.",
        "zh": "好的，没问题。",
        "es": "Por supuesto.",
        "fr": "Bien sûr.",
        "de": "Sehr gerne.",
        "ja": "承知しました。",
        "pt": "Com certeza.",
        "pt-BR": "Claro.",
        "it": "Certamente.",
        "nl": "Natuurlijk.",
        "ru": "Конечно.",
        "ko": "물론입니다.",
        "pl": "Oczywiście.",
        "uk": "Звісно.",
    },
    "dissatisfaction": {
        "en": "I'm sorry my answers haven't helped.",
        "zh": "很抱歉，我的回答没能帮到您。",
        "es": "Siento que mis respuestas no le hayan servido de ayuda.",
        "fr": "Je suis désolé que mes réponses ne vous aient pas été utiles.",
        "de": "Es tut mir leid, dass meine Antworten Ihnen nicht weitergeholfen haben.",
        "ja": "お役に立てず申し訳ありません。",
        "pt": "Lamento que as minhas respostas não tenham ajudado.",
        "pt-BR": "Sinto muito que minhas respostas não tenham ajudado.",
        "it": "Mi dispiace che le mie risposte non le siano state d'aiuto.",
        "nl": "Het spijt me dat mijn antwoorden u niet verder hebben geholpen.",
        "ru": "Мне жаль, что мои ответы вам не помогли.",
        "ko": "제 답변이 도움이 되지 못해 죄송합니다.",
        "pl": "Przykro mi, że moje odpowiedzi nie pomogły.",
        "uk": "Мені шкода, що мої відповіді вам не допомогли.",
    },
    "llm_unavailable": {
        "en": "I'm sorry, I can't give you a complete answer right now.",
        "zh": "抱歉，我现在无法为您提供完整的回答。",
        "es": "Lo siento, en este momento no puedo darle una respuesta completa.",
        "fr": "Désolé, je ne peux pas vous donner de réponse complète pour le moment.",
        "de": "Das tut mir leid, ich kann Ihnen gerade keine vollständige Antwort geben.",
        "ja": "申し訳ありません。現在、十分な回答をお出しできない状況です。",
        "pt": "Lamento, neste momento não consigo dar-lhe uma resposta completa.",
        "pt-BR": "Desculpe, no momento não consigo dar uma resposta completa.",
        "it": "Mi dispiace, in questo momento non riesco a darle una risposta completa.",
        "nl": "Het spijt me, ik kan u op dit moment geen volledig antwoord geven.",
        "ru": "К сожалению, сейчас я не могу дать вам полный ответ.",
        "ko": "죄송합니다. 지금은 완전한 답변을 드릴 수 없습니다.",
        "pl": "Przepraszam, w tej chwili nie mogę udzielić pełnej odpowiedzi.",
        "uk": "На жаль, зараз я не можу дати вам повну відповідь.",
    },
    "low_confidence": {
        "en": "I want to make sure you get the right answer to this.",
        "zh": "我希望确保您得到准确的答复。",
        "es": "Quiero asegurarme de que reciba la respuesta correcta.",
        "fr": "Je veux m'assurer que vous obteniez la bonne réponse.",
        "de": "Ich möchte sicherstellen, dass Sie die richtige Antwort bekommen.",
        "ja": "この件については、正確な情報をお伝えしたいと思います。",
        "pt": "Quero garantir que recebe a resposta certa.",
        "pt-BR": "Quero garantir que você receba a resposta certa.",
        "it": "Voglio essere sicuro che lei riceva la risposta giusta.",
        "nl": "Ik wil er zeker van zijn dat u hierop het juiste antwoord krijgt.",
        "ru": "Я хочу, чтобы вы получили на этот вопрос точный ответ.",
        "ko": "이 문의에 정확한 답변을 받으실 수 있도록 하고 싶습니다.",
        "pl": "Chcę mieć pewność, że odpowiedź na to pytanie będzie właściwa.",
        "uk": "Я хочу, щоб ви отримали на це питання точну відповідь.",
    },
    "no_relevant_passages": {
        "en": "I couldn't find the answer to this in our documents, and I don't want to guess.",
        "zh": "我在我们的文件中没有找到这个问题的答案，我不想随意猜测。",
        "es": "No he encontrado la respuesta en nuestros documentos y no quiero adivinar.",
        "fr": "Je n'ai pas trouvé la réponse dans nos documents et je ne veux pas deviner.",
        "de": "Dazu habe ich in unseren Unterlagen keine Antwort gefunden, und ich möchte nicht raten.",
        "ja": "当社の資料ではこのご質問への回答が見つかりませんでした。推測でお答えすることは控えます。",
        "pt": "Não encontrei a resposta nos nossos documentos e não quero adivinhar.",
        "pt-BR": "Não encontrei a resposta em nossos documentos e não quero arriscar um palpite.",
        "it": "Non ho trovato la risposta nei nostri documenti e non voglio tirare a indovinare.",
        "nl": "Ik heb het antwoord hierop niet in onze documenten gevonden en ik wil niet gokken.",
        "ru": "Мне не удалось найти ответ на этот вопрос в наших документах, а гадать я не хочу.",
        "ko": "저희 문서에서 이 질문에 대한 답을 찾지 못했습니다. 추측으로 답변드리지는 않겠습니다.",
        "pl": "Nie udało mi się znaleźć odpowiedzi na to pytanie w naszych dokumentach, a nie chcę zgadywać.",
        "uk": "Мені не вдалося знайти відповідь на це питання в наших документах, а вгадувати я не хочу.",
    },
    "not_in_documents": {
        "en": "Our documents don't answer this, and I don't want to guess.",
        "zh": "我们的文件没有涵盖这个问题，我不想随意猜测。",
        "es": "Nuestros documentos no responden a esta pregunta y no quiero adivinar.",
        "fr": "Nos documents ne répondent pas à cette question et je ne veux pas deviner.",
        "de": "Unsere Unterlagen beantworten diese Frage nicht, und ich möchte nicht raten.",
        "ja": "当社の資料にはこのご質問への答えが記載されていません。推測でお答えすることは控えます。",
        "pt": "Os nossos documentos não respondem a esta questão e não quero adivinhar.",
        "pt-BR": "Nossos documentos não respondem a essa pergunta e não quero arriscar um palpite.",
        "it": "I nostri documenti non rispondono a questa domanda e non voglio tirare a indovinare.",
        "nl": "Onze documenten geven hier geen antwoord op en ik wil niet gokken.",
        "ru": "В наших документах нет ответа на этот вопрос, а гадать я не хочу.",
        "ko": "저희 문서에는 이 질문에 대한 답이 나와 있지 않습니다. 추측으로 답변드리지는 않겠습니다.",
        "pl": "Nasze dokumenty nie odpowiadają na to pytanie, a nie chcę zgadywać.",
        "uk": "У наших документах немає відповіді на це питання, а вгадувати я не хочу.",
    },
}

_TAKEOVER = {
    "en": "I'm passing our conversation to a colleague from our support team, who will take over and "
    "reply here as soon as possible. You won't need to repeat anything: they can see what we've "
    "discussed.",
    "zh": "我会把本次对话转交给我们的客服同事，他们会尽快在这里接手并回复您。"
    "您无需重复说明，他们可以看到我们之前的对话内容。",
    "es": "Voy a pasar nuestra conversación a un compañero de nuestro equipo de atención al cliente, que "
    "se hará cargo y le responderá aquí lo antes posible. No tendrá que repetir nada: podrá ver lo que "
    "hemos hablado.",
    "fr": "Je transmets notre conversation à un collègue de notre service client, qui prendra le relais "
    "et vous répondra ici dès que possible. Vous n'aurez rien à répéter : il pourra voir ce que nous "
    "avons échangé.",
    "de": "Ich gebe unser Gespräch an eine Kollegin oder einen Kollegen aus dem Kundenservice weiter, "
    "die oder der es übernimmt und Ihnen hier so bald wie möglich antwortet. Sie müssen nichts "
    "wiederholen: Der bisherige Verlauf ist dort sichtbar.",
    "ja": "この会話をサポート担当者に引き継ぎます。担当者ができるだけ早くこちらでご返信いたします。"
    "これまでの内容は担当者にも共有されますので、同じ説明を繰り返していただく必要はありません。",
    "pt": "Vou passar a nossa conversa a um colega da nossa equipa de apoio, que lhe dará continuidade e "
    "lhe responderá aqui o mais rapidamente possível. Não precisa de repetir nada: ele poderá ver o que "
    "já falámos.",
    "pt-BR": "Vou transferir nossa conversa para um atendente da nossa equipe, que vai dar continuidade ao "
    "atendimento e responder aqui o mais rápido possível. Você não vai precisar repetir nada: ele poderá "
    "ver tudo o que já conversamos.",
    "it": "Passo la nostra conversazione a un collega del nostro servizio clienti, che se ne occuperà e "
    "le risponderà qui il prima possibile. Non dovrà ripetere nulla: potrà vedere quello che ci siamo "
    "già detti.",
    "nl": "Ik draag ons gesprek over aan een collega van onze klantenservice, die het overneemt en u "
    "hier zo snel mogelijk antwoordt. U hoeft niets te herhalen: mijn collega kan zien wat we al "
    "hebben besproken.",
    "ru": "Я передаю наш разговор сотруднику службы поддержки: он продолжит его и ответит вам здесь "
    "как можно скорее. Повторять ничего не нужно — сотруднику будет видна вся наша переписка.",
    "ko": "이 대화를 고객지원팀 담당자에게 연결해 드리겠습니다. 담당자가 대화를 이어받아 최대한 "
    "빨리 이곳에서 답변드릴 예정입니다. 지금까지 나눈 대화를 담당자가 확인할 수 있으니 같은 내용을 "
    "다시 말씀하지 않으셔도 됩니다.",
    "pl": "Przekazuję naszą rozmowę konsultantowi z działu obsługi klienta, który ją przejmie i "
    "odpowie tutaj najszybciej, jak to możliwe. Nie trzeba niczego powtarzać: konsultant zobaczy całą "
    "dotychczasową rozmowę.",
    "uk": "Я передаю нашу розмову співробітнику служби підтримки: він продовжить її та відповість вам "
    "тут якомога швидше. Нічого повторювати не потрібно — співробітник бачитиме все наше листування.",
}

# ``notify``: the agents got the handoff; nothing is promised beyond that, and the assistant goes on.
_NOTIFIED = {
    "en": "I've passed this on to our support team. In the meantime, I'm still here for any other questions.",
    "zh": "我已将此事转告我们的客服团队。在此期间，如有其他问题，欢迎继续问我。",
    "es": "He trasladado su consulta a nuestro equipo de atención al cliente. Mientras tanto, sigo aquí "
    "para cualquier otra pregunta.",
    "fr": "J'ai transmis votre demande à notre service client. En attendant, je reste à votre disposition "
    "pour toute autre question.",
    "de": "Ich habe Ihr Anliegen an unser Kundenservice-Team weitergegeben. In der Zwischenzeit helfe ich "
    "Ihnen gerne bei allen anderen Fragen weiter.",
    "ja": "この件はサポートチームに共有しました。その他のご質問は、引き続きこちらでお気軽にどうぞ。",
    "pt": "Já passei a sua questão à nossa equipa de apoio. Entretanto, continuo aqui para qualquer outra "
    "pergunta.",
    "pt-BR": "Já encaminhei sua solicitação para a nossa equipe de atendimento. Enquanto isso, continuo "
    "aqui para qualquer outra dúvida.",
    "it": "Ho inoltrato la sua richiesta al nostro servizio clienti. Nel frattempo, resto a sua "
    "disposizione per qualsiasi altra domanda.",
    "nl": "Ik heb dit doorgegeven aan onze klantenservice. Intussen kunt u mij gerust andere vragen "
    "blijven stellen.",
    "ru": "Ваш запрос передан в нашу службу поддержки. А пока вы можете задать мне любые другие вопросы.",
    "ko": "이 내용을 고객지원팀에 전달했습니다. 그동안 다른 궁금한 점이 있으시면 언제든지 물어봐 주세요.",
    "pl": "Sprawa została przekazana do naszego działu obsługi klienta. W międzyczasie chętnie "
    "odpowiem na inne pytania.",
    "uk": "Ваш запит передано до нашої служби підтримки. А поки що ви можете поставити мені будь-які "
    "інші запитання.",
}

_ALSO_CONTACT = {
    "en": "You can also reach our support team directly: {contact}",
    "zh": "您也可以直接联系我们的客服团队：{contact}",
    "es": "También puede contactar directamente con nuestro equipo de atención al cliente: {contact}",
    "fr": "Vous pouvez aussi joindre directement notre service client : {contact}",
    "de": "Sie erreichen unser Kundenservice-Team auch direkt: {contact}",
    "ja": "サポートチームへ直接お問い合わせいただくこともできます：{contact}",
    "pt": "Também pode contactar diretamente a nossa equipa de apoio: {contact}",
    "pt-BR": "Você também pode entrar em contato diretamente com a nossa equipe de atendimento: {contact}",
    "it": "Può anche contattare direttamente il nostro servizio clienti: {contact}",
    "nl": "U kunt ook rechtstreeks contact opnemen met onze klantenservice: {contact}",
    "ru": "Вы также можете напрямую связаться с нашей службой поддержки: {contact}",
    "ko": "고객지원팀에 직접 문의하실 수도 있습니다: {contact}",
    "pl": "Można też skontaktować się bezpośrednio z naszym działem obsługi klienta: {contact}",
    "uk": "Ви також можете звернутися безпосередньо до нашої служби підтримки: {contact}",
}

# ``none``: nobody hears of the handoff. Said plainly; the company's contact when there is one.
_UNROUTED = {
    "en": "I can't pass this chat on to a colleague, but you're welcome to contact our support team "
    "directly.",
    "zh": "我无法在这里把对话转给同事，但您可以直接联系我们的客服团队。",
    "es": "Desde aquí no puedo pasar esta conversación a un compañero, pero puede ponerse en contacto "
    "directamente con nuestro equipo de atención al cliente.",
    "fr": "Je ne peux pas transmettre cette conversation à un collègue d'ici, mais vous pouvez contacter "
    "directement notre service client.",
    "de": "Von hier aus kann ich das Gespräch nicht an eine Kollegin oder einen Kollegen weitergeben, aber "
    "Sie können sich gerne direkt an unseren Kundenservice wenden.",
    "ja": "こちらから担当者に会話を引き継ぐことはできませんが、"
    "サポートチームへ直接お問い合わせいただけます。",
    "pt": "Não consigo passar esta conversa a um colega a partir daqui, mas pode contactar diretamente a "
    "nossa equipa de apoio.",
    "pt-BR": "Não consigo transferir esta conversa para um atendente por aqui, mas você pode entrar em "
    "contato diretamente com a nossa equipe de atendimento.",
    "it": "Da qui non posso passare questa conversazione a un collega, ma può contattare direttamente il "
    "nostro servizio clienti.",
    "nl": "Ik kan dit gesprek vanaf hier niet doorzetten naar een collega, maar u kunt gerust "
    "rechtstreeks contact opnemen met onze klantenservice.",
    "ru": "Отсюда я не могу передать этот разговор сотруднику, но вы можете напрямую связаться с "
    "нашей службой поддержки.",
    "ko": "여기에서는 대화를 담당자에게 연결해 드릴 수 없지만, 고객지원팀에 직접 문의하실 수 있습니다.",
    "pl": "Stąd nie mogę przekazać tej rozmowy konsultantowi, ale zapraszamy do bezpośredniego "
    "kontaktu z naszym działem obsługi klienta.",
    "uk": "Звідси я не можу передати цю розмову співробітнику, але ви можете звернутися безпосередньо "
    "до нашої служби підтримки.",
}

_UNROUTED_CONTACT = {
    "en": "I can't pass this chat on to a colleague, but you can reach our support team directly: {contact}",
    "zh": "我无法在这里把对话转给同事，但您可以直接联系我们的客服团队：{contact}",
    "es": "Desde aquí no puedo pasar esta conversación a un compañero, pero puede contactar directamente "
    "con nuestro equipo de atención al cliente: {contact}",
    "fr": "Je ne peux pas transmettre cette conversation à un collègue d'ici, mais vous pouvez joindre "
    "directement notre service client : {contact}",
    "de": "Von hier aus kann ich das Gespräch nicht an eine Kollegin oder einen Kollegen weitergeben, aber "
    "Sie erreichen unseren Kundenservice direkt: {contact}",
    "ja": "こちらから担当者に会話を引き継ぐことはできませんが、サポートチームへは次の連絡先から直接"
    "お問い合わせいただけます：{contact}",
    "pt": "Não consigo passar esta conversa a um colega a partir daqui, mas pode contactar diretamente a "
    "nossa equipa de apoio: {contact}",
    "pt-BR": "Não consigo transferir esta conversa para um atendente por aqui, mas você pode entrar em "
    "contato diretamente com a nossa equipe de atendimento: {contact}",
    "it": "Da qui non posso passare questa conversazione a un collega, ma può contattare direttamente il "
    "nostro servizio clienti: {contact}",
    "nl": "Ik kan dit gesprek vanaf hier niet doorzetten naar een collega, maar u kunt rechtstreeks "
    "contact opnemen met onze klantenservice: {contact}",
    "ru": "Отсюда я не могу передать этот разговор сотруднику, но вы можете напрямую связаться с "
    "нашей службой поддержки: {contact}",
    "ko": "여기에서는 대화를 담당자에게 연결해 드릴 수 없지만, 다음 연락처로 고객지원팀에 직접 "
    "문의하실 수 있습니다: {contact}",
    "pl": "Stąd nie mogę przekazać tej rozmowy konsultantowi, ale można skontaktować się bezpośrednio "
    "z naszym działem obsługi klienta: {contact}",
    "uk": "Звідси я не можу передати цю розмову співробітнику, але ви можете звернутися безпосередньо "
    "до нашої служби підтримки: {contact}",
}

# The customer asked for a person and none can be reached: "Of course." would promise one.
_REQUEST_UNROUTED = {
    "en": "I'm sorry.",
    "zh": "很抱歉。",
    "es": "Lo siento.",
    "fr": "Je suis désolé.",
    "de": "Das tut mir leid.",
    "ja": "申し訳ありません。",
    "pt": "Lamento.",
    "pt-BR": "Sinto muito.",
    "it": "Mi dispiace.",
    "nl": "Het spijt me.",
    "ru": "Прошу прощения.",
    "ko": "죄송합니다.",
    "pl": "Przepraszam.",
    "uk": "Перепрошую.",
}

# How to reach a person, after a notice that says none replies here (``late_notices``).
_PERSON_CONTACT = {
    "en": "To speak to a person, please contact our support team directly: {contact}",
    "zh": "如需人工服务，请直接联系我们的客服团队：{contact}",
    "es": "Para hablar con una persona, póngase en contacto directamente con nuestro equipo de atención "
    "al cliente: {contact}",
    "fr": "Pour parler à quelqu'un, veuillez contacter directement notre service client : {contact}",
    "de": "Wenn Sie mit einem Menschen sprechen möchten, wenden Sie sich bitte direkt an unseren "
    "Kundenservice: {contact}",
    "ja": "担当者とのやり取りをご希望の場合は、サポートチームへ直接お問い合わせください：{contact}",
    "pt": "Para falar com uma pessoa, contacte diretamente a nossa equipa de apoio: {contact}",
    "pt-BR": "Para falar com uma pessoa, entre em contato diretamente com a nossa equipe de atendimento: "
    "{contact}",
    "it": "Per parlare con una persona, contatti direttamente il nostro servizio clienti: {contact}",
    "nl": "Wilt u iemand spreken, neem dan rechtstreeks contact op met onze klantenservice: {contact}",
    "ru": "Чтобы поговорить с человеком, обратитесь напрямую в нашу службу поддержки: {contact}",
    "ko": "상담원과 이야기하시려면 고객지원팀에 직접 문의해 주세요: {contact}",
    "pl": "Aby porozmawiać z człowiekiem, prosimy o bezpośredni kontakt z naszym zespołem obsługi klienta: "
    "{contact}",
    "uk": "Щоб поговорити з людиною, зверніться, будь ласка, безпосередньо до нашої служби підтримки: "
    "{contact}",
}

_PERSON = {
    "en": "To speak to a person, please contact our support team directly.",
    "zh": "如需人工服务，请直接联系我们的客服团队。",
    "es": "Para hablar con una persona, póngase en contacto directamente con nuestro equipo de atención "
    "al cliente.",
    "fr": "Pour parler à quelqu'un, veuillez contacter directement notre service client.",
    "de": "Wenn Sie mit einem Menschen sprechen möchten, wenden Sie sich bitte direkt an unseren "
    "Kundenservice.",
    "ja": "担当者とのやり取りをご希望の場合は、サポートチームへ直接お問い合わせください。",
    "pt": "Para falar com uma pessoa, contacte diretamente a nossa equipa de apoio.",
    "pt-BR": "Para falar com uma pessoa, entre em contato diretamente com a nossa equipe de atendimento.",
    "it": "Per parlare con una persona, contatti direttamente il nostro servizio clienti.",
    "nl": "Wilt u iemand spreken, neem dan rechtstreeks contact op met onze klantenservice.",
    "ru": "Чтобы поговорить с человеком, обратитесь напрямую в нашу службу поддержки.",
    "ko": "상담원과 이야기하시려면 고객지원팀에 직접 문의해 주세요.",
    "pl": "Aby porozmawiać z człowiekiem, prosimy o bezpośredni kontakt z naszym zespołem obsługi klienta.",
    "uk": "Щоб поговорити з людиною, зверніться, будь ласка, безпосередньо до нашої служби підтримки.",
}

# Traditional Chinese (zh-Hant): the Simplified texts converted (service.core.chinese)
_TAKEOVER = with_traditional(_TAKEOVER)
_NOTIFIED = with_traditional(_NOTIFIED)
_ALSO_CONTACT = with_traditional(_ALSO_CONTACT)
_UNROUTED = with_traditional(_UNROUTED)
_UNROUTED_CONTACT = with_traditional(_UNROUTED_CONTACT)
_REQUEST_UNROUTED = with_traditional(_REQUEST_UNROUTED)
_PERSON_CONTACT = with_traditional(_PERSON_CONTACT)
_PERSON = with_traditional(_PERSON)
_OPENING = {key: with_traditional(texts) for key, texts in _OPENING.items()}

HANDOFF_LANGUAGES = tuple(lang for lang in _TAKEOVER if lang not in VARIANTS)


def message_language(language: str) -> str:
    """The key of ``language``'s texts here (``text_language``: ``pt`` → the configured Portuguese,
    ``zh-Hant`` → the Traditional Chinese),
    English when it has none."""
    lang = text_language(language or "en")
    return lang if lang in _TAKEOVER else "en"


def joined(lang: str, parts: list[str]) -> str:
    """Sentences of one notice, spaced as ``lang`` writes (no space in Chinese and Japanese)."""
    return ("" if lang[:2] in ("zh", "ja") else " ").join(parts)


def person_line(lang: str, contact: str | None) -> str:
    """How to reach a person: ``contact`` (``HANDOFF_CONTACT``, as is) when set, else support."""
    return _PERSON_CONTACT[lang].format(contact=contact) if contact else _PERSON[lang]


def handoff_message(
    language: str, reason: HandoffReason, *, delivery: Delivery, contact: str | None = None
) -> str:
    """The customer-facing notice in their language (English for others) for a handoff with
    ``reason`` that goes where ``delivery`` says; ``contact`` (the company's, ``HANDOFF_CONTACT``)
    is shown as is."""
    lang = message_language(language)
    opening = _OPENING[reason][lang]
    if delivery == "takeover":
        parts = [opening, _TAKEOVER[lang]]
    elif delivery == "notify":
        parts = [opening, _NOTIFIED[lang]]
        if contact:
            parts.append(_ALSO_CONTACT[lang].format(contact=contact))
    else:
        if reason == "customer_request":
            opening = _REQUEST_UNROUTED[lang]
        rest = _UNROUTED_CONTACT[lang].format(contact=contact) if contact else _UNROUTED[lang]
        parts = [opening, rest]
    return joined(lang, parts)
