"""Questions a knowledge base of support documents does not answer: the negatives of the relevance
calibration (``knowledge.answerability``).

Two kinds, in eight languages, about no company in particular (written for faqstream, taken from
no data set):

* ``off_topic`` — general knowledge, chit-chat with content, tasks for a general assistant;
* ``uncovered`` — shaped like a customer's question to a company, about things support documents
  almost never cover (office dogs, sponsorships, tours, staff matters). Topics that many
  knowledge bases do cover (payment, delivery, refunds, accounts, prices, opening hours) are left
  out on purpose: a negative that some knowledge base answers would pull that knowledge base's
  cut-off up.

The first ``PARALLEL_UNCOVERED`` uncovered questions of every language are the same questions, in the
same order: the calibration measures with them how much a question's score against its best passage
drops when it is asked in another language than the passage's (``knowledge.answerability``, "Across
languages"). Keep them parallel when editing.

The calibration uses a quantile of their scores, not the maximum, so one question that a particular
knowledge base happens to answer does not move its cut-off much. Tests hold out their own
off-topic questions; do not copy these into a test.
"""

from __future__ import annotations

from typing import Literal

NegativeKind = Literal["off_topic", "uncovered"]
PARALLEL_UNCOVERED = 12  # the first 12 uncovered questions are the same in every language

OFF_TOPIC: dict[str, tuple[str, ...]] = {
    "en": (
        "Who painted the Mona Lisa?",
        "What is the capital of Australia?",
        "How many moons does Jupiter have?",
        "Give me a recipe for pancakes",
        "Who won the football World Cup in 2014?",
        "What is the derivative of x squared?",
        "Write a short poem about autumn leaves",
        "How tall is Mount Everest?",
        "Explain how photosynthesis works",
        "Tell me a joke about penguins",
        "What is a good name for a goldfish?",
        "When did the Roman Empire fall?",
        "How do I say good morning in Korean?",
        "Why is the sky blue?",
    ),
    "es": (
        "¿Quién escribió Don Quijote?",
        "¿Cuál es el río más largo del mundo?",
        "Dame una receta de tortilla de patatas",
        "¿Cuántos huesos tiene el cuerpo humano?",
        "Escríbeme un poema sobre el mar",
        "¿En qué año llegó el hombre a la Luna?",
        "¿Por qué los gatos ronronean?",
        "¿Cómo se calcula el área de un círculo?",
        "Cuéntame un chiste de elefantes",
        "¿Qué temperatura hace en el desierto del Sáhara por la noche?",
        "¿Quién ganó el Tour de Francia en 1995?",
        "¿Cómo se cultivan los tomates en un balcón?",
    ),
    "fr": (
        "Qui a peint La Joconde ?",
        "Quelle est la capitale du Canada ?",
        "Donne-moi une recette de crêpes",
        "Combien de planètes y a-t-il dans le système solaire ?",
        "Écris-moi un poème sur la pluie",
        "Pourquoi les feuilles tombent-elles en automne ?",
        "Qui a écrit Les Misérables ?",
        "Comment conjuguer le verbe aller au passé simple ?",
        "Raconte-moi une blague sur les escargots",
        "Quelle est la hauteur de la tour Eiffel ?",
        "Comment fonctionne un arc-en-ciel ?",
        "Quel temps fera-t-il à Marseille demain ?",
    ),
    "de": (
        "Wer hat das Telefon erfunden?",
        "Wie hoch ist die Zugspitze?",
        "Gib mir ein Rezept für Apfelstrudel",
        "Wie viele Einwohner hat Österreich?",
        "Schreib mir ein Gedicht über den Winter",
        "Warum ist der Himmel blau?",
        "Wann fiel die Berliner Mauer?",
        "Wie löse ich eine quadratische Gleichung?",
        "Erzähl mir einen Witz über Pinguine",
        "Welche Vögel ziehen im Herbst nach Süden?",
        "Wer komponierte die Zauberflöte?",
        "Wie pflanze ich Tulpenzwiebeln richtig?",
    ),
    "zh": (
        "长城有多长？",
        "谁发明了造纸术？",
        "给我一个红烧肉的做法",
        "太阳系有几颗行星？",
        "写一首关于秋天的诗",
        "为什么天空是蓝色的？",
        "唐朝是哪一年建立的？",
        "怎么计算圆的面积？",
        "讲个关于熊猫的笑话",
        "明天北京会下雨吗？",
        "世界上最高的山是哪座？",
        "怎样在阳台上种西红柿？",
    ),
    "ja": (
        "富士山の高さはどれくらいですか？",
        "源氏物語を書いたのは誰ですか？",
        "カレーライスの作り方を教えて",
        "太陽系に惑星はいくつありますか？",
        "春についての俳句を作ってください",
        "なぜ空は青いのですか？",
        "江戸時代はいつ始まりましたか？",
        "二次方程式の解き方を教えて",
        "猫についての面白い話をして",
        "明日の大阪の天気はどうですか？",
        "桜はいつ咲きますか？",
        "将棋のルールを説明してください",
    ),
    "pt": (
        "Quem escreveu Os Lusíadas?",
        "Qual é a capital do Brasil?",
        "Dá-me uma receita de pastéis de nata",
        "Quantos ossos tem o corpo humano?",
        "Escreve um poema sobre o mar",
        "Porque é que o céu é azul?",
        "Em que ano terminou a Segunda Guerra Mundial?",
        "Como se calcula a área de um triângulo?",
        "Conta-me uma anedota sobre gatos",
        "Qual é o rio mais comprido de Portugal?",
        "Como se planta um limoeiro num vaso?",
        "Quem ganhou o Euro 2016?",
    ),
    "it": (
        "Chi ha dipinto la Gioconda?",
        "Qual è il vulcano più alto d'Europa?",
        "Dammi la ricetta del tiramisù",
        "Quanti abitanti ha Roma?",
        "Scrivimi una poesia sulla primavera",
        "Perché il cielo è azzurro?",
        "Chi ha scritto la Divina Commedia?",
        "Come si risolve un'equazione di secondo grado?",
        "Raccontami una barzelletta sui pinguini",
        "In che anno è caduto l'Impero romano d'Occidente?",
        "Come si coltiva il basilico sul balcone?",
        "Che tempo farà a Napoli domani?",
    ),
}

UNCOVERED: dict[str, tuple[str, ...]] = {
    "en": (
        "Can I bring my dog to your office?",
        "Do you sponsor local youth football teams?",
        "Are you looking for freelance illustrators?",
        "Can I rent one of your meeting rooms for a birthday party?",
        "Do you offer guided tours of your warehouse for school classes?",
        "Which charity did your company donate to last year?",
        "What music do you play while callers are on hold?",
        "Will you have a stand at the trade fair next spring?",
        "Do your employees get a day off on their birthday?",
        "Can I use your logo in my school presentation?",
        "Can you recommend a good restaurant near your office?",
        "Does your founder give talks at universities?",
        "Is there bicycle parking at your headquarters?",
        "Could you write a reference letter for my visa application?",
    ),
    "es": (
        "¿Puedo llevar a mi perro a vuestra oficina?",
        "¿Patrocináis equipos de fútbol infantil?",
        "¿Buscáis ilustradores autónomos?",
        "¿Puedo alquilar una de vuestras salas para una fiesta de cumpleaños?",
        "¿Organizáis visitas guiadas a vuestro almacén para colegios?",
        "¿A qué organización benéfica donasteis el año pasado?",
        "¿Qué música ponéis mientras esperan las llamadas?",
        "¿Estaréis en la feria comercial de la próxima primavera?",
        "¿Vuestros empleados libran el día de su cumpleaños?",
        "¿Puedo usar vuestro logotipo en un trabajo del colegio?",
        "¿Me recomendáis un buen restaurante cerca de vuestra oficina?",
        "¿Vuestro fundador da charlas en universidades?",
    ),
    "fr": (
        "Puis-je venir à votre bureau avec mon chien ?",
        "Sponsorisez-vous des clubs de football de jeunes ?",
        "Cherchez-vous des illustrateurs indépendants ?",
        "Puis-je louer une de vos salles de réunion pour un anniversaire ?",
        "Proposez-vous des visites de votre entrepôt pour les écoles ?",
        "À quelle association avez-vous fait un don l'an dernier ?",
        "Quelle musique passez-vous pendant l'attente téléphonique ?",
        "Serez-vous présents au salon professionnel du printemps prochain ?",
        "Vos employés ont-ils un jour de congé pour leur anniversaire ?",
        "Puis-je utiliser votre logo dans un exposé scolaire ?",
        "Pouvez-vous me conseiller un bon restaurant près de vos bureaux ?",
        "Votre fondateur donne-t-il des conférences dans les universités ?",
    ),
    "de": (
        "Darf ich meinen Hund mit in Ihr Büro bringen?",
        "Sponsern Sie Jugendfußballvereine?",
        "Suchen Sie freiberufliche Illustratoren?",
        "Kann ich einen Ihrer Besprechungsräume für eine Geburtstagsfeier mieten?",
        "Bieten Sie Führungen durch Ihr Lager für Schulklassen an?",
        "An welche Hilfsorganisation haben Sie letztes Jahr gespendet?",
        "Welche Musik spielen Sie in der Telefonwarteschleife?",
        "Sind Sie im nächsten Frühjahr auf der Messe vertreten?",
        "Haben Ihre Mitarbeiter an ihrem Geburtstag frei?",
        "Darf ich Ihr Logo für ein Schulreferat verwenden?",
        "Können Sie mir ein gutes Restaurant in der Nähe Ihres Büros empfehlen?",
        "Hält Ihr Gründer Vorträge an Universitäten?",
    ),
    "zh": (
        "我可以带狗去你们的办公室吗？",
        "你们赞助青少年足球队吗？",
        "你们在招自由插画师吗？",
        "我能租你们的会议室办生日派对吗？",
        "你们的仓库可以给学生参观吗？",
        "你们公司去年给哪个慈善机构捐了款？",
        "电话排队等候时你们放的是什么音乐？",
        "你们明年春天会参加展会吗？",
        "你们的员工生日那天放假吗？",
        "我可以在学校作业里用你们的标志吗？",
        "你们办公室附近有什么好吃的餐厅？",
        "你们的创始人会去大学做讲座吗？",
    ),
    "ja": (
        "御社のオフィスに犬を連れて行ってもいいですか？",
        "地元の少年サッカーチームのスポンサーをしていますか？",
        "フリーランスのイラストレーターを募集していますか？",
        "会議室を誕生日パーティーのために借りられますか？",
        "学校の見学で倉庫を案内してもらえますか？",
        "昨年はどの慈善団体に寄付しましたか？",
        "電話の保留中に流れている音楽は何ですか？",
        "来年の春の展示会に出展しますか？",
        "社員は誕生日に休めますか？",
        "学校の発表で御社のロゴを使ってもいいですか？",
        "オフィスの近くでおすすめのレストランはありますか？",
        "創業者は大学で講演をしていますか？",
    ),
    "pt": (
        "Posso levar o meu cão ao vosso escritório?",
        "Patrocinam equipas de futebol juvenil?",
        "Estão à procura de ilustradores freelancers?",
        "Posso alugar uma das vossas salas para uma festa de anos?",
        "Fazem visitas guiadas ao armazém para escolas?",
        "A que instituição de solidariedade doaram no ano passado?",
        "Que música passam enquanto as chamadas estão em espera?",
        "Vão estar na feira comercial da próxima primavera?",
        "Os vossos funcionários têm folga no dia de anos?",
        "Posso usar o vosso logótipo num trabalho da escola?",
        "Recomendam um bom restaurante perto do vosso escritório?",
        "O vosso fundador dá palestras em universidades?",
    ),
    "it": (
        "Posso portare il mio cane nel vostro ufficio?",
        "Sponsorizzate squadre di calcio giovanili?",
        "Cercate illustratori freelance?",
        "Posso affittare una vostra sala riunioni per una festa di compleanno?",
        "Organizzate visite guidate del magazzino per le scuole?",
        "A quale ente benefico avete fatto una donazione l'anno scorso?",
        "Che musica mettete durante l'attesa al telefono?",
        "Sarete presenti alla fiera della prossima primavera?",
        "I vostri dipendenti hanno un giorno libero per il compleanno?",
        "Posso usare il vostro logo in una ricerca scolastica?",
        "Mi consigliate un buon ristorante vicino al vostro ufficio?",
        "Il vostro fondatore tiene conferenze nelle università?",
    ),
}


def negatives() -> list[tuple[str, NegativeKind, str]]:
    """Every negative as (language, kind, text), in a fixed order."""
    out: list[tuple[str, NegativeKind, str]] = []
    for kind, table in (("off_topic", OFF_TOPIC), ("uncovered", UNCOVERED)):
        for language, texts in table.items():
            out.extend((language, kind, text) for text in texts)  # type: ignore[misc]
    return out
