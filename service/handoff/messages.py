"""What the customer reads when a colleague takes over: an opening for the reason and the takeover
notice, in the eight reply languages (English for others)."""

from __future__ import annotations

from service.handoff.signals import HandoffReason

_OPENING: dict[str, dict[str, str]] = {
    "customer_request": {
        "en": "Of course.",
        "zh": "好的，没问题。",
        "es": "Por supuesto.",
        "fr": "Bien sûr.",
        "de": "Sehr gerne.",
        "ja": "承知しました。",
        "pt": "Com certeza.",
        "it": "Certamente.",
    },
    "dissatisfaction": {
        "en": "I'm sorry my answers haven't helped.",
        "zh": "很抱歉，我的回答没能帮到您。",
        "es": "Siento que mis respuestas no le hayan servido de ayuda.",
        "fr": "Je suis désolé que mes réponses ne vous aient pas été utiles.",
        "de": "Es tut mir leid, dass meine Antworten Ihnen nicht weitergeholfen haben.",
        "ja": "お役に立てず申し訳ありません。",
        "pt": "Lamento que as minhas respostas não tenham ajudado.",
        "it": "Mi dispiace che le mie risposte non le siano state d'aiuto.",
    },
    "llm_unavailable": {
        "en": "I'm sorry, I can't give you a complete answer right now.",
        "zh": "抱歉，我现在无法为您提供完整的回答。",
        "es": "Lo siento, en este momento no puedo darle una respuesta completa.",
        "fr": "Désolé, je ne peux pas vous donner de réponse complète pour le moment.",
        "de": "Das tut mir leid, ich kann Ihnen gerade keine vollständige Antwort geben.",
        "ja": "申し訳ありません。現在、十分な回答をお出しできない状況です。",
        "pt": "Lamento, neste momento não consigo dar-lhe uma resposta completa.",
        "it": "Mi dispiace, in questo momento non riesco a darle una risposta completa.",
    },
    "low_confidence": {
        "en": "I want to make sure you get the right answer to this.",
        "zh": "我希望确保您得到准确的答复。",
        "es": "Quiero asegurarme de que reciba la respuesta correcta.",
        "fr": "Je veux m'assurer que vous obteniez la bonne réponse.",
        "de": "Ich möchte sicherstellen, dass Sie die richtige Antwort bekommen.",
        "ja": "この件については、正確な情報をお伝えしたいと思います。",
        "pt": "Quero garantir que recebe a resposta certa.",
        "it": "Voglio essere sicuro che lei riceva la risposta giusta.",
    },
    "no_relevant_passages": {
        "en": "I couldn't find the answer to this in our documents, and I don't want to guess.",
        "zh": "我在我们的文件中没有找到这个问题的答案，我不想随意猜测。",
        "es": "No he encontrado la respuesta en nuestros documentos y no quiero adivinar.",
        "fr": "Je n'ai pas trouvé la réponse dans nos documents et je ne veux pas deviner.",
        "de": "Dazu habe ich in unseren Unterlagen keine Antwort gefunden, und ich möchte nicht raten.",
        "ja": "当社の資料ではこのご質問への回答が見つかりませんでした。推測でお答えすることは控えます。",
        "pt": "Não encontrei a resposta nos nossos documentos e não quero adivinhar.",
        "it": "Non ho trovato la risposta nei nostri documenti e non voglio tirare a indovinare.",
    },
    "not_in_documents": {
        "en": "Our documents don't answer this, and I don't want to guess.",
        "zh": "我们的文件没有涵盖这个问题，我不想随意猜测。",
        "es": "Nuestros documentos no responden a esta pregunta y no quiero adivinar.",
        "fr": "Nos documents ne répondent pas à cette question et je ne veux pas deviner.",
        "de": "Unsere Unterlagen beantworten diese Frage nicht, und ich möchte nicht raten.",
        "ja": "当社の資料にはこのご質問への答えが記載されていません。推測でお答えすることは控えます。",
        "pt": "Os nossos documentos não respondem a esta questão e não quero adivinhar.",
        "it": "I nostri documenti non rispondono a questa domanda e non voglio tirare a indovinare.",
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
    "it": "Passo la nostra conversazione a un collega del nostro servizio clienti, che se ne occuperà e "
    "le risponderà qui il prima possibile. Non dovrà ripetere nulla: potrà vedere quello che ci siamo "
    "già detti.",
}

HANDOFF_LANGUAGES = tuple(_TAKEOVER)


def handoff_message(language: str, reason: HandoffReason) -> str:
    """The customer-facing notice in their language (English for others): a colleague takes over."""
    lang = (language or "en").lower()[:2]
    lang = lang if lang in _TAKEOVER else "en"
    opening = _OPENING[reason][lang]
    joiner = "" if lang in ("zh", "ja") else " "
    return f"{opening}{joiner}{_TAKEOVER[lang]}"
