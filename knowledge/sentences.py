"""Sentences as ``sentencex`` cuts them, less its cuts inside a word.

``sentencex`` cuts after a full stop that a dash follows: the Swiss price notation "CHF 20.–."
came out as "CHF 20." and "–.", which the chunker and the quotes joined with a space (a trial:
"Gebühr von CHF 20. –" was stored and quoted for "CHF 20.–"). In a script that separates words
with spaces a sentence ends before a space, so a cut after ``.``, ``!`` or ``?`` that no space
follows is undone. Scripts without spaces end their sentences with their own marks ("。", "！"),
which still cut. The pieces keep their spaces: joined, they are the text.
"""

from __future__ import annotations

from sentencex import segment

_LATIN_ENDS = (".", "!", "?")


def segments(language: str, text: str) -> list[str]:
    """``text``'s sentences in ``language`` (a sentencex code), spaces kept, none cut inside a word."""
    pieces: list[str] = []
    for piece in segment(language, text):
        if pieces and pieces[-1].endswith(_LATIN_ENDS) and piece and not piece[0].isspace():
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return pieces
