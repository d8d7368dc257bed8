"""The dissatisfaction lexicon's phrasings of "I am unhappy" (unzufrieden, nutzlos, bringt nichts…)
and of anger at the company (thieves, scam, worst … ever, still nothing) in every language, and the
languages added to it (nl, ru, ko, pl, uk): positive examples that must count, and look-alikes that must
not — above all an ordinary policy question that says "not", asks what happens *if* the customer is
not satisfied, or asks about fraud, theft and the worst case. The first eight languages' original
examples are in ``tests/unit/test_handoff.py``."""

from __future__ import annotations

import pytest

from service.handoff.dissatisfaction import DissatisfactionDetector

DETECTOR = DissatisfactionDetector.load()

POSITIVE = {
    "en": ["I'm very dissatisfied with these answers", "I am really not happy", "I'm so disappointed."],
    "zh": ["我对这个回答很失望", "真的太失望了"],
    "es": ["Estoy muy decepcionado con esto", "No estoy nada satisfecho", "estoy totalmente insatisfecha"],
    "fr": ["Je suis très mécontent", "Je ne suis pas du tout satisfait", "je suis vraiment déçue"],
    "de": [
        "Das hilft mir überhaupt nicht.",
        "Das ist wirklich nutzlos, ich bin sehr unzufrieden.",
        "Ich bin mit den Antworten total unzufrieden",
        "Ich bin nicht zufrieden mit der Lieferung, kann ich sie zurückgeben?",  # a complaint, asked
        "Das hilft mir leider nicht weiter.",
        "Das bringt doch nichts.",
        "Sehr unzufrieden!",
        "Die Antworten sind echt unbrauchbar",
    ],
    "ja": ["本当にがっかりしました", "とても不満です", "この回答には満足できません。"],
    "pt": ["Estou muito insatisfeito", "Não estou nada satisfeita com isto", "fiquei mesmo desiludido"],
    "it": ["Sono molto deluso", "Non sono per niente soddisfatto", "sono davvero insoddisfatta"],
    "nl": [
        "Dat helpt me helemaal niet.",
        "Dit is echt nutteloos",
        "Ik ben erg ontevreden",
        "Ik heb er niets aan",
        "U begrijpt me niet",
        "Dat heb ik u al gezegd!",
        "Ik ben niet tevreden over deze antwoorden",
    ],
    "ru": [
        "Это мне совсем не помогло.",
        "Это бесполезно",
        "Вы меня не понимаете",
        "Я уже вам говорил!",
        "Я очень недоволен",
        "Пустая трата времени",
        "Вы не отвечаете на мой вопрос",
    ],
    "ko": [
        "도움이 하나도 안 돼요",
        "전혀 도움이 되지 않네요.",
        "쓸모없네요",
        "이미 말씀드렸잖아요",
        "시간 낭비예요",
        "정말 실망했어요",
        "계속 같은 답변만 하시네요",
    ],
    "pl": [
        "To mi w ogóle nie pomaga.",
        "To jest bezużyteczne",
        "Jestem bardzo niezadowolony",
        "Nie jestem zadowolona z tych odpowiedzi",
        "Przecież już to pisałem!",
        "Strata czasu.",
        "Nie odpowiada pan na moje pytanie",
    ],
    "uk": [
        "Це мені зовсім не допомогло.",
        "Це марно",
        "Ви мене не розумієте",
        "Я ж вам уже казав!",
        "Я дуже незадоволений",
        "Марна трата часу",
        "Ви не відповідаєте на моє запитання",
        "Знову те саме",
    ],
}

# Ordinary questions, several with "not", "if I'm not satisfied" or a word of the positive examples.
NEGATIVE = {
    "en": ["What if I'm not happy with the course?", "Can I get a refund if I am dissatisfied?"],
    "zh": ["如果不满意可以退款吗？", "如果我对课程失望怎么办？"],
    "es": ["¿Puedo devolverlo si no estoy satisfecho?", "¿Qué pasa si no estoy contento con el curso?"],
    "fr": ["Puis-je être remboursé si je ne suis pas satisfait ?", "Et si je suis déçu du cours ?"],
    "de": [
        "Was passiert, wenn ich mit dem Kurs unzufrieden bin?",
        "Kann ich die Gutscheine zurückgeben, wenn ich nicht zufrieden bin?",
        "Nicht zufrieden mit der Lieferung? Wie lange habe ich Zeit für eine Rückgabe?",
        "Warum ist die Glasur nicht spülmaschinenfest?",
        "Ich bin nicht unzufrieden, ich wollte nur nach den Öffnungszeiten fragen.",
        "Bringt ihr die Stücke auch nach Hause?",
        "Ist es sinnvoll, einen Kurs für Anfänger zu buchen?",
    ],
    "ja": ["満足できない場合は返品できますか？", "不満な場合はどうすればいいですか"],
    "pt": ["Posso devolver se não estiver satisfeito?", "E se eu ficar insatisfeita com o curso?"],
    "it": ["Posso avere un rimborso se non sono soddisfatto?", "Se sono deluso dal corso cosa succede?"],
    "nl": [
        "Wat als ik niet tevreden ben over de cursus?",
        "Kan ik mijn geld terugkrijgen als ik ontevreden ben?",
        "Waarom is de winkel niet open op maandag?",
        "Helpt het als ik de bon meestuur?",
        "Ik heb al gevraagd om een retourlabel, wanneer komt het?",
    ],
    "ru": [
        "Можно ли вернуть деньги, если я недоволен курсом?",
        "Почему доставка не работает по воскресеньям?",
        "Что делать, если это не поможет?",
        "Я уже оплатил заказ, когда его отправят?",
        "Как дела с моим заказом 55812?",
    ],
    "ko": [
        "만족하지 않으면 환불받을 수 있나요?",
        "도움이 안 되면 어떻게 하나요?",
        "최악의 경우 배송은 얼마나 걸리나요?",
        "왜 월요일에는 문을 열지 않나요?",
        "이미 결제했는데 영수증을 받을 수 있나요?",
    ],
    "pl": [
        "Co jeśli nie jestem zadowolona z kursu?",
        "Czy mogę zwrócić voucher, jeśli nie będę zadowolony?",
        "Dlaczego pracownia nie jest otwarta w poniedziałek?",
        "Jeśli to nie pomoże, czy mogę zadzwonić?",
        "Już zapłaciłem za kurs, kiedy dostanę potwierdzenie?",
        "Czy kurs nie jest za trudny dla początkujących?",
    ],
    "uk": [
        "Чи можна повернути гроші, якщо я незадоволений курсом?",
        "Чому доставка не працює в неділю?",
        "Що робити, якщо це не допоможе?",
        "Я вже оплатив замовлення, коли його відправлять?",
        "Як справи з моїм замовленням 55812?",
        "Чи допоможе мені консультант з вибором авто?",
    ],
}


# Anger at the company (a Polish car-rental firm's report): insults and accusations aimed at the
# company, "worst … ever", "a joke", "still nothing" — in inflected forms too ("Jesteście
# beznadziejni", "złodziejami"); and questions about fraud, theft, damage and the worst case.
ANGER = {
    "en": ["Crooks!", "You people are thieves", "Worst car hire I've ever used", "still nothing, again"],
    "zh": ["你们是骗子", "还是没有退款", "什么垃圾公司，史上最差"],
    "es": ["¡Estafadores!", "Sigo sin mi dinero", "La peor empresa que he conocido"],
    "fr": ["Bande d'escrocs", "Toujours rien reçu", "Vous vous moquez de nous"],
    "de": ["Abzocker!", "Immer noch kein Geld", "Ihr seid echt das Letzte"],
    "ja": ["詐欺だ！", "いまだに返金なし", "誰も電話に出ない"],
    "pt": [
        "Vigaristas!",
        "Continuo sem o meu dinheiro",
        "Isto é uma vergonha",
        "Ainda não recebi o reembolso",
    ],
    "it": [
        "Truffatori!",
        "Ancora niente",
        "Siete dei ladri",
        "Mi avete addebitato 300 euro in più, vergogna!",
    ],
    "nl": [
        "Oplichters!",
        "Nog steeds niks",
        "Dit is gewoon diefstal",
        "Waardeloos. Ik ben hier echt klaar mee",  # a trial's third angry turn
        "Jullie zijn onbeschoft",
    ],
    "ru": ["Мошенники!", "Вы нас обманули", "Деньги до сих пор не вернули", "Это грабеж"],
    "ko": ["사기꾼들!", "아직도 환불이 안 됐어요", "장난하세요?"],
    "pl": [
        "Jesteście beznadziejni",
        "Jesteście złodziejami",
        "Oszukaliście mnie",
        "nadal nie dostałam pieniędzy",
        "To jakaś kpina",
        "Najgorsza obsługa, jaką widziałem",
    ],
    "uk": [
        "Шахраї!",
        "Ви нас ошукали",
        "Гроші досі не повернули",
        "Це грабіж",
        "Ви просто злодії",
        "Найгірший прокат, яким я колись користувався",
        "Ганьба!",
        "Ви знущаєтеся? Досі нічого",
        "Ніхто не бере слухавку, це неподобство",
    ],
}

# What the report's user named as ordinary, and look-alikes in every language.
NOT_ANGER = {
    "en": [
        "Is it a scam to charge a deposit?",  # a question about a practice: not an accusation
        "What is the worst case if I scratch the car?",
        "What if the car is stolen?",
        "Does fraud protection on my card block the deposit?",
        "I was charged twice",
        "There is a fraudulent charge on my statement.",
        "You are the best, thanks!",
        "Thanks, still waiting for my flight so no rush",
    ],
    "zh": ["收押金是诈骗吗？", "车被偷了怎么办？", "最差的情况要多久？"],
    "es": [
        "¿Es una estafa cobrar una fianza?",
        "¿Y si roban el coche?",
        "En el peor de los casos, ¿cuánto pago?",
    ],
    "fr": [
        "Est-ce une arnaque de demander une caution ?",
        "Et en cas de vol ?",
        "Mon vol arrive à 22h",
        "Je n'ai toujours pas choisi l'assurance, laquelle conseillez-vous ?",
    ],
    "de": [
        "Ist eine Kaution Betrug?",
        "Was passiert bei Diebstahl?",
        "Im schlimmsten Fall, was kostet das?",
        "Ich habe immer noch keine Versicherung gewählt, welche?",
    ],
    "ja": ["保証金は詐欺ですか？", "最低料金はいくらですか？", "最悪の場合はどうなりますか"],
    "pt": [
        "Cobrar caução é golpe?",
        "O seguro cobre furto e roubo?",
        "No pior dos casos quanto pago?",
        "Ainda não escolhi o seguro, qual recomendam?",
        "Ainda não recebi o reembolso, quando chega?",  # a question about it: not a complaint
        "Nunca mais precisei trocar o colchão",
    ],
    "it": [
        "Il deposito è una truffa?",
        "La polizza copre incendio e furto?",
        "Nel peggiore dei casi?",
        "Provo vergogna a chiedere, ma dove si trova il parcheggio?",
    ],
    "nl": [
        "Ik ben klaar met de fiets, waar lever ik hem in?",
        "Is de app waardeloos als ik geen internet heb?",
        "Is een borg oplichting?",
        "Wat als de auto gestolen wordt?",
        "In het slechtste geval?",
        "Ik heb nog steeds geen verzekering gekozen, welke raadt u aan?",
    ],
    "ru": ["Залог — это мошенничество?", "Что если машину угонят?", "В худшем случае сколько ждать?"],
    "ko": [
        "보증금은 사기인가요?",
        "차를 사기 전에 렌트해 보고 싶어요",
        "최악의 경우 얼마나 걸리나요?",
        "아직도 재고가 없나요?",
    ],
    "pl": [
        "Czy pobieranie kaucji to oszustwo?",
        "Co jeśli samochód zostanie skradziony?",
        "Złodziej ukradł mi torbę z auta, czy ubezpieczenie to pokrywa?",
        "Czy mogę jeszcze anulować?",
    ],
    "uk": [
        "Брати заставу — це шахрайство?",
        "Це шахраї надіслали лист від вашого імені?",
        "Що, якщо машину викрадуть?",
        "Злодій вкрав сумку з авто, страховка це покриває?",
        "Як захиститися від шахраїв?",
        "У найгіршому разі скільки чекати?",
        "Я досі користуюся вашою карткою лояльності, вона діє?",
        "Що, якщо ніхто не відповість на стійці вночі?",
        "Чи можу я ще скасувати бронювання?",
    ],
}


@pytest.mark.parametrize(
    ("language", "text"),
    [(lang, t) for source in (POSITIVE, ANGER) for lang, ts in source.items() for t in ts],
)
def test_unhappy_customers_count(language: str, text: str) -> None:
    result = DETECTOR.assess(text)
    assert result.dissatisfied and f"phrase:{language}" in result.signals, (language, text, result)


@pytest.mark.parametrize(
    ("language", "text"),
    [(lang, t) for source in (NEGATIVE, NOT_ANGER) for lang, ts in source.items() for t in ts],
)
def test_policy_questions_do_not_count(language: str, text: str) -> None:
    assert not DETECTOR.assess(text).dissatisfied, (language, text, DETECTOR.mark(text))


def test_every_lexicon_language_has_examples_here_both_ways() -> None:
    assert set(POSITIVE) == set(NEGATIVE) == set(ANGER) == set(NOT_ANGER) == set(DETECTOR.languages)
