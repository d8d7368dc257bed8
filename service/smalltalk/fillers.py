"""What may go around small-talk phrases and never counts alone: softeners ("so", "again", "team"),
what thanks are for ("for your help"), laughter ("haha", "lol")."""

from __future__ import annotations

import re

# Words allowed around the phrases, never alone and never evidence of a language.
SOFTENERS = frozenset(
    [
        "so", "very", "much", "really", "again", "there", "all", "guys", "everyone", "everybody",
        "folks", "team", "dear", "mate", "friend", "buddy", "oh", "ah", "well", "bot", "sir", "madam",
        "please", "pls", "sm", "nochmal", "nochmals", "sehr", "zusammen", "leute", "euch", "zäme",
        "zämä", "mitenand", "miteinand", "allerseits", "amigo",
        "amiga", "crack", "davvero", "亲", "bardzo", "очень", "пожалуйста", "дуже", "будь", "ласка",
    ]
)  # fmt: skip
# What thanks are for: allowed after other phrases ("thank you so much for your help"), never alone.
TAILS = (
    "for your help", "for the help", "for helping", "for helping me", "for your time", "for the info",
    "for the information", "for the answer", "for your answer", "for the quick reply",
    "for your quick reply", "for the quick help", "für die schnelle hilfe",
    "für die schnelle antwort", "für ihre schnelle antwort", "por la rápida respuesta", "por su ayuda",
    "por tu ayuda", "por la ayuda", "por la información",
    "por la respuesta", "pour votre aide", "pour l'aide", "pour votre réponse", "pour la réponse",
    "pour l'information", "pour les informations", "für ihre hilfe", "für die hilfe", "für die info",
    "für die antwort", "für ihre antwort", "für die information", "per l'aiuto", "per la risposta",
    "per le informazioni", "pela ajuda", "pela resposta", "pela informação", "pelas informações",
    "你的帮助", "您的帮助", "voor uw hulp", "voor de hulp", "voor het antwoord", "voor de informatie",
    "за помощь", "за ответ", "за информацию", "za pomoc", "za odpowiedź", "za informacje", "za informację",
    "за допомогу", "за відповідь", "за інформацію",
)  # fmt: skip
LAUGHTER = re.compile(r"(?:ha|he|ja|je|ka)(?:ha|he|ja|je|ka)+h?|lol|mdr|xd|hm|um|uh")
