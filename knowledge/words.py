"""How many words a message has: one or two words (``SHORT_WORDS``) carry too little for the
language detector to choose the reply language (``service.answers.reply_language``) and too little
language for the relevance gate to judge them as a question of that language
(``knowledge.short_messages``). A script tells a short message's language where the detector
cannot (``fits_script``).
"""

from __future__ import annotations

import math
import re

SHORT_WORDS = 2
CJK = re.compile(r"[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")  # "qu'est-ce", "a-t-il": one word each
KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
INVERTED = re.compile(r"[¿¡]")  # Spanish opening marks ("¿y el domingo?")
# Languages that a script can be written in (scripts not listed constrain nothing).
SCRIPT_LANGUAGES = (
    (KANA, frozenset({"ja"})),
    (CJK, frozenset({"zh", "ja"})),
    (HANGUL, frozenset({"ko"})),
    (CYRILLIC, frozenset({"ru", "uk", "bg", "sr", "mk", "be", "kk"})),
    (INVERTED, frozenset({"es", "gl", "ast"})),  # orthography, as certain as a script
)


def word_count(text: str) -> int:
    """Words of alphabetic scripts plus one per two CJK characters (rounded up)."""
    cjk = len(CJK.findall(text))
    return len(WORD.findall(CJK.sub(" ", text))) + math.ceil(cjk / 2)


def fits_script(text: str, language: str) -> bool:
    """Whether ``text`` can be written in ``language`` judging by its script alone."""
    return all(language in allowed for script, allowed in SCRIPT_LANGUAGES if script.search(text))


def is_short(text: str) -> bool:
    """At most ``SHORT_WORDS`` words (and at least one)."""
    return 0 < word_count(text) <= SHORT_WORDS
