"""The fixed replies to small talk in every language of the default ``INGEST_LANGUAGES``, and how the
flow records them."""

from __future__ import annotations

from service.core.chinese import with_traditional
from service.core.languages import VARIANTS, text_language
from service.smalltalk.lexicon import Kind
from service.smalltalk.matcher import SmallTalk

STOP_REASON = "smalltalk"  # done.stop_reason of a small-talk reply
INTENT = "smalltalk"  # stored as the intent of the customer's turn in the conversation

# The replies, in the register of service/answers/extractive.py (usted, Sie, vous, lei, u, вы; Portuguese
# as pt-BR, Brazilian with "você", and pt, European, by TEXTS_PORTUGUESE; Korean 합쇼체/해요체; Polish
# without a gendered "Pan/Pani"; Ukrainian ви).
REPLIES: dict[str, dict[Kind, str]] = {
    "en": {
        "greeting": "Hello! How can I help you today?",
        "how_are_you": "I'm fine, thank you for asking! How can I help you today?",
        "thanks": "You're welcome! Is there anything else I can help you with?",
        "ack": "All right. Is there anything else I can help you with?",
        "goodbye": "Thank you for getting in touch. Have a nice day!",
        "unclear": (
            "Sorry, I didn't quite get that. What would you like to know? "
            "Please write your question in a few words."
        ),
    },
    "zh": {
        "greeting": "您好！请问有什么可以帮您？",
        "how_are_you": "我很好，谢谢关心！请问有什么可以帮您？",
        "thanks": "不客气！请问还有什么可以帮您的吗？",
        "ack": "好的。请问还有什么可以帮您的吗？",
        "goodbye": "感谢您的咨询，祝您生活愉快！",
        "unclear": "抱歉，我没太明白。请问您想了解什么？请用几句话写下您的问题。",
    },
    "es": {
        "greeting": "¡Hola! ¿En qué puedo ayudarle?",
        "how_are_you": "Muy bien, ¡gracias por preguntar! ¿En qué puedo ayudarle?",
        "thanks": "¡De nada! ¿Hay algo más en lo que pueda ayudarle?",
        "ack": "De acuerdo. ¿Hay algo más en lo que pueda ayudarle?",
        "goodbye": "Gracias por contactar con nosotros. ¡Que tenga un buen día!",
        "unclear": (
            "Disculpe, no le he entendido bien. ¿Qué le gustaría saber? "
            "Escriba su pregunta en pocas palabras, por favor."
        ),
    },
    "fr": {
        "greeting": "Bonjour ! Comment puis-je vous aider ?",
        "how_are_you": "Très bien, merci de demander ! Comment puis-je vous aider ?",
        "thanks": "Je vous en prie ! Puis-je vous aider pour autre chose ?",
        "ack": "Très bien. Puis-je vous aider pour autre chose ?",
        "goodbye": "Merci de nous avoir contactés. Bonne journée !",
        "unclear": (
            "Désolé, je n'ai pas bien compris. Que souhaitez-vous savoir ? "
            "Écrivez votre question en quelques mots, s'il vous plaît."
        ),
    },
    "de": {
        "greeting": "Hallo! Wie kann ich Ihnen helfen?",
        "how_are_you": "Danke der Nachfrage, mir geht es gut! Wie kann ich Ihnen helfen?",
        "thanks": "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
        "ack": "Alles klar. Kann ich Ihnen sonst noch helfen?",
        "goodbye": "Vielen Dank für Ihre Nachricht. Einen schönen Tag noch!",
        "unclear": (
            "Entschuldigung, das habe ich nicht ganz verstanden. "
            "Was möchten Sie wissen? Bitte schreiben Sie Ihre Frage in ein paar Worten."
        ),
    },
    "ja": {
        "greeting": "こんにちは！どのようなご用件でしょうか？",
        "how_are_you": "お気遣いありがとうございます。元気です！どのようなご用件でしょうか？",
        "thanks": "どういたしまして！ほかにお手伝いできることはありますか？",
        "ack": "承知しました。ほかにお手伝いできることはありますか？",
        "goodbye": "お問い合わせいただきありがとうございました。良い一日をお過ごしください！",
        "unclear": (
            "申し訳ありません、よく分かりませんでした。"
            "どのようなことをお知りになりたいですか？ご質問を短くお書きください。"
        ),
    },
    "pt": {
        "greeting": "Olá! Em que posso ajudar?",
        "how_are_you": "Estou bem, obrigado por perguntar! Em que posso ajudar?",
        "thanks": "De nada! Posso ajudar em mais alguma coisa?",
        "ack": "Muito bem. Posso ajudar em mais alguma coisa?",
        "goodbye": "Obrigado pelo seu contacto. Tenha um bom dia!",
        "unclear": (
            "Desculpe, não entendi bem. O que gostaria de saber? "
            "Escreva a sua pergunta em poucas palavras, por favor."
        ),
    },
    "pt-BR": {
        "greeting": "Olá! Como posso ajudar?",
        "how_are_you": "Tudo bem por aqui, obrigado por perguntar! Como posso ajudar?",
        "thanks": "De nada! Posso ajudar em mais alguma coisa?",
        "ack": "Certo. Posso ajudar em mais alguma coisa?",
        "goodbye": "Obrigado pelo contato. Tenha um ótimo dia!",
        "unclear": (
            "Desculpe, não entendi muito bem. O que você gostaria de saber? "
            "Por favor, escreva sua pergunta em poucas palavras."
        ),
    },
    "it": {
        "greeting": "Salve! Come posso aiutarla?",
        "how_are_you": "Bene, grazie per averlo chiesto! Come posso aiutarla?",
        "thanks": "Prego! Posso aiutarla in qualcos'altro?",
        "ack": "Va bene. Posso aiutarla in qualcos'altro?",
        "goodbye": "Grazie per averci contattato. Buona giornata!",
        "unclear": (
            "Mi scusi, non ho capito bene. Che cosa desidera sapere? "
            "Scriva la sua domanda in poche parole, per favore."
        ),
    },
    "nl": {
        "greeting": "Hallo! Waarmee kan ik u helpen?",
        "how_are_you": "Goed, bedankt voor het vragen! Waarmee kan ik u helpen?",
        "thanks": "Graag gedaan! Kan ik u nog ergens anders mee helpen?",
        "ack": "Prima. Kan ik u nog ergens anders mee helpen?",
        "goodbye": "Bedankt voor uw bericht. Nog een fijne dag!",
        "unclear": (
            "Sorry, dat heb ik niet helemaal begrepen. "
            "Wat wilt u weten? Schrijf uw vraag in een paar woorden."
        ),
    },
    "ru": {
        "greeting": "Здравствуйте! Чем я могу вам помочь?",
        "how_are_you": "Спасибо, всё хорошо! Чем я могу вам помочь?",
        "thanks": "Пожалуйста! Могу ли я помочь вам чем-нибудь ещё?",
        "ack": "Хорошо. Могу ли я помочь вам чем-нибудь ещё?",
        "goodbye": "Спасибо за обращение. Хорошего дня!",
        "unclear": (
            "Извините, мне не совсем понятно. Что вы хотели бы узнать? "
            "Пожалуйста, напишите свой вопрос в нескольких словах."
        ),
    },
    "ko": {
        "greeting": "안녕하세요! 무엇을 도와드릴까요?",
        "how_are_you": "물어봐 주셔서 감사합니다. 잘 지내고 있습니다! 무엇을 도와드릴까요?",
        "thanks": "천만에요! 더 도와드릴 일이 있을까요?",
        "ack": "알겠습니다. 더 도와드릴 일이 있을까요?",
        "goodbye": "문의해 주셔서 감사합니다. 좋은 하루 보내세요!",
        "unclear": (
            "죄송합니다, 잘 이해하지 못했습니다. 무엇을 알고 싶으신가요? 질문을 몇 단어로 적어 주세요."
        ),
    },
    "pl": {
        "greeting": "Dzień dobry! W czym mogę pomóc?",
        "how_are_you": "Dziękuję, wszystko w porządku! W czym mogę pomóc?",
        "thanks": "Nie ma za co! Czy mogę pomóc w czymś jeszcze?",
        "ack": "Dobrze. Czy mogę pomóc w czymś jeszcze?",
        "goodbye": "Dziękujemy za kontakt. Miłego dnia!",
        "unclear": (
            "Przepraszam, nie do końca to rozumiem. Czego dotyczy pytanie? Proszę je napisać w kilku słowach."
        ),
    },
    "uk": {
        "greeting": "Добрий день! Чим я можу вам допомогти?",
        "how_are_you": "Дякую, усе добре! Чим я можу вам допомогти?",
        "thanks": "Будь ласка! Чи можу я допомогти вам ще чимось?",
        "ack": "Добре. Чи можу я допомогти вам ще чимось?",
        "goodbye": "Дякуємо за звернення. Гарного дня!",
        "unclear": (
            "Вибачте, мені не зовсім зрозуміло. Що ви хотіли б дізнатися? "
            "Будь ласка, напишіть своє запитання кількома словами."
        ),
    },
    "tr": {
        "greeting": "Merhaba! Size nasıl yardımcı olabilirim?",
        "how_are_you": "İyiyim, sorduğunuz için teşekkürler! Size nasıl yardımcı olabilirim?",
        "thanks": "Rica ederim! Size yardımcı olabileceğim başka bir konu var mı?",
        "ack": "Tamam. Size yardımcı olabileceğim başka bir konu var mı?",
        "goodbye": "Bizimle iletişime geçtiğiniz için teşekkürler. İyi günler!",
        "unclear": (
            "Kusura bakmayın, tam anlayamadım. Ne öğrenmek istersiniz? "
            "Lütfen sorunuzu birkaç kelimeyle yazın."
        ),
    },
    "vi": {
        "greeting": "Xin chào! Tôi có thể giúp gì cho bạn?",
        "how_are_you": "Tôi khỏe, cảm ơn bạn đã hỏi! Tôi có thể giúp gì cho bạn?",
        "thanks": "Không có gì! Bạn cần hỗ trợ thêm gì nữa không?",
        "ack": "Vâng. Bạn cần hỗ trợ thêm gì nữa không?",
        "goodbye": "Cảm ơn bạn đã liên hệ. Chúc bạn một ngày tốt lành!",
        "unclear": (
            "Xin lỗi, tôi chưa hiểu rõ. Bạn muốn biết điều gì? Vui lòng viết câu hỏi của bạn trong vài từ."
        ),
    },
    "id": {
        "greeting": "Halo! Ada yang bisa saya bantu?",
        "how_are_you": "Saya baik, terima kasih sudah bertanya! Ada yang bisa saya bantu?",
        "thanks": "Sama-sama! Ada lagi yang bisa saya bantu?",
        "ack": "Baik. Ada lagi yang bisa saya bantu?",
        "goodbye": "Terima kasih sudah menghubungi kami. Semoga hari Anda menyenangkan!",
        "unclear": (
            "Maaf, saya kurang paham. Apa yang ingin Anda ketahui? "
            "Silakan tulis pertanyaan Anda dalam beberapa kata."
        ),
    },
    "ar": {
        "greeting": "مرحباً! كيف يمكنني مساعدتك؟",
        "how_are_you": "بخير، شكراً لسؤالك! كيف يمكنني مساعدتك؟",
        "thanks": "على الرحب والسعة! هل هناك أي شيء آخر يمكنني مساعدتك فيه؟",
        "ack": "حسناً. هل هناك أي شيء آخر يمكنني مساعدتك فيه؟",
        "goodbye": "شكراً لتواصلك معنا. أتمنى لك يوماً سعيداً!",
        "unclear": "عذراً، لم أفهم ذلك تماماً. ماذا تريد أن تعرف؟ يرجى كتابة سؤالك في بضع كلمات.",
    },
}

# Traditional Chinese (zh-Hant): the Simplified texts converted (service.core.chinese)
REPLIES = with_traditional(REPLIES)

SMALLTALK_LANGUAGES = tuple(lang for lang in REPLIES if lang not in VARIANTS)


def reply(talk: SmallTalk, language: str) -> str:
    """The fixed reply in ``language`` (English for languages without replies)."""
    replies = REPLIES.get(text_language(language), REPLIES["en"])
    return replies[talk.kind]
